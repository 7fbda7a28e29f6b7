"""Who may do what: a consultant works on their own bank; the Golden Ticket team runs campaigns."""

from datetime import date, timedelta

import pytest

from core.campaigns.commands import AddToCampaign, CreateCampaign, ListCampaigns, UpdateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import FindContacts, ShowContact, UpdateContact
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import Activity, CampaignContact, Contact, FollowUp, OutboxMessage
from core.outreach.commands import (
    AddNote,
    BookMeeting,
    CompleteFollowUp,
    FlagWarm,
    LogOutreach,
    RequestMeeting,
    SetFollowUp,
    Snooze,
)
from core.stats.commands import GetStats

LATER = timedelta(days=2)


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def zoe(make):
    return await make.user("Zoe")


@pytest.fixture
async def zoes_bob(make, zoe):
    return await make.contact(zoe, "Bob Stone", email="bob@acme.com")


ACTIONS = {
    "log": lambda a, ref, now: LogOutreach(a, ref, "email"),
    "note": lambda a, ref, now: AddNote(a, ref, "sneaky"),
    "warm": lambda a, ref, now: FlagWarm(a, ref),
    "request meeting": lambda a, ref, now: RequestMeeting(a, ref),
    "book meeting": lambda a, ref, now: BookMeeting(a, ref),
    "remind": lambda a, ref, now: SetFollowUp(a, ref, now + LATER),
    "snooze": lambda a, ref, now: Snooze(a, ref, now + LATER),
    "done": lambda a, ref, now: CompleteFollowUp(a, ref),
    "show": lambda a, ref, now: ShowContact(a, ref),
    "update": lambda a, ref, now: UpdateContact(a, ref, name="Hijacked", warmness=5),
}


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_consultant_cannot_act_on_another_users_contact(core, ana, zoes_bob, clock, db_rows, action):
    command = ACTIONS[action](Actor(ana.id), ContactRef(id=zoes_bob.id), clock.now())
    with pytest.raises(NotFound, match="That contact is not in your bank."):
        await core.execute(command)
    assert (await db_rows(Activity), await db_rows(FollowUp), await db_rows(OutboxMessage)) == ([], [], [])
    [bob] = await db_rows(Contact)
    assert (bob.name, bob.warmness, bob.last_contacted_at) == ("Bob Stone", 0, None)


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_guessed_id_answers_the_same_whether_it_is_in_another_bank_or_nowhere(
    core, ana, zoes_bob, clock, action
):
    answers = []
    for guessed in (zoes_bob.id, zoes_bob.id + 1000):
        with pytest.raises(Exception) as caught:
            await core.execute(ACTIONS[action](Actor(ana.id), ContactRef(id=guessed), clock.now()))
        answers.append((type(caught.value), str(caught.value)))
    assert answers[0] == answers[1] == (NotFound, "That contact is not in your bank.")


async def test_guessed_ids_for_a_campaign_answer_the_same_whether_in_another_bank_or_nowhere(
    core, ana, zoes_bob, campaign
):
    camp = await campaign("Fintech")
    answers = []
    for guessed in (zoes_bob.id, zoes_bob.id + 1000):
        with pytest.raises(NotFound) as caught:
            await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (guessed,)))
        answers.append(str(caught.value))
    assert answers == ["Some of those contacts are not in your bank."] * 2


async def test_a_consultant_cannot_find_another_users_contacts(core, ana, zoes_bob):
    found = await core.execute(FindContacts(Actor(ana.id), "bob"))
    assert found.contacts == ()
    with pytest.raises(NotFound):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("bob@acme.com")))


async def test_a_consultant_cannot_create_campaigns(core, ana):
    with pytest.raises(NotAllowed, match="Only the Golden Ticket team can create campaigns."):
        await core.execute(CreateCampaign(Actor(ana.id), "My own campaign"))
    assert (await core.execute(ListCampaigns(Actor(ana.id)))).campaigns == ()


async def test_a_consultant_cannot_edit_campaigns(core, ana, campaign):
    await campaign("Fintech", status="draft")
    with pytest.raises(NotAllowed, match="Only the Golden Ticket team can edit campaigns."):
        await core.execute(UpdateCampaign(Actor(ana.id), CampaignRef.of("Fintech"), status="live"))
    [camp] = (await core.execute(ListCampaigns(Actor(ana.id)))).campaigns
    assert camp.status == "draft"


async def test_golden_ticket_creates_a_campaign(core, gt):
    result = await core.execute(CreateCampaign(Actor(gt.id), " Fintech  Q4 ", sector="Fintech"))
    assert result.message == "Campaign “Fintech Q4” created (draft)."
    assert (result.campaign.name, result.campaign.sector, result.campaign.status) == ("Fintech Q4", "Fintech", "draft")


async def test_campaign_names_are_unique_ignoring_case(core, gt, campaign):
    await campaign("Fintech")
    with pytest.raises(Conflict, match="A campaign called “FINTECH” already exists."):
        await core.execute(CreateCampaign(Actor(gt.id), "FINTECH"))


async def test_a_campaign_cannot_end_before_it_starts(core, gt):
    with pytest.raises(InvalidInput, match="can't end before it starts"):
        await core.execute(
            CreateCampaign(Actor(gt.id), "Backwards", start_date=date(2026, 12, 1), end_date=date(2026, 11, 1))
        )


async def test_golden_ticket_adds_anyones_contacts_to_a_campaign(core, gt, ana, zoe, make, campaign, db_rows):
    camp = await campaign("Fintech")
    mine, theirs = await make.contact(ana, "Carol"), await make.contact(zoe, "Dan")
    result = await core.execute(
        AddToCampaign(Actor(gt.id), CampaignRef(id=camp.id), (mine.id, theirs.id), method="email")
    )
    assert result.message == "Added 2 contacts to “Fintech” (2 in all)."
    assert result.warnings == ()
    assert {(m.contact_id, m.outreach_method, m.added_by) for m in await db_rows(CampaignContact)} == {
        (mine.id, "email", gt.id),
        (theirs.id, "email", gt.id),
    }


async def test_a_consultant_adds_own_contacts_to_a_campaign(core, ana, make, campaign):
    camp = await campaign("Fintech")
    carol = await make.contact(ana, "Carol")
    result = await core.execute(AddToCampaign(Actor(ana.id), CampaignRef.of("fintech"), (carol.id,)))
    assert result.campaign.contact_count == 1
    again = await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (carol.id,)))
    assert again.message == "Added 0 contacts to “Fintech” (1 in all)."


async def test_a_consultant_cannot_add_another_users_contacts_to_a_campaign(
    core, ana, zoes_bob, make, campaign, db_rows
):
    camp = await campaign("Fintech")
    carol = await make.contact(ana, "Carol")
    with pytest.raises(NotFound, match="Some of those contacts are not in your bank."):
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (carol.id, zoes_bob.id)))
    assert await db_rows(CampaignContact) == []


async def test_nobody_adds_to_a_closed_campaign(core, gt, ana, make, campaign, db_rows):
    camp = await campaign("Old", status="closed")
    carol = await make.contact(ana, "Carol")
    with pytest.raises(InvalidInput, match="Campaign “Old” is closed."):
        await core.execute(AddToCampaign(Actor(gt.id), CampaignRef(id=camp.id), (carol.id,)))
    assert await db_rows(CampaignContact) == []


async def test_adding_a_contact_whose_email_is_in_another_bank_warns(core, ana, zoes_bob, make, campaign):
    camp = await campaign("Fintech")
    anas_bob = await make.contact(ana, "Bob S.", email="BOB@acme.com")
    result = await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (anas_bob.id,)))
    assert result.warnings == ("Bob S. is also in Zoe's bank.",)


async def test_a_campaign_growing_past_thirty_warns(core, ana, make, campaign):
    camp = await campaign("Big")
    contacts = [await make.contact(ana, f"C{n}") for n in range(31)]
    thirty = await core.execute(
        AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), tuple(k.id for k in contacts[:30]))
    )
    assert thirty.warnings == ()
    more = await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (contacts[30].id,)))
    assert more.warnings == ("“Big” now has 31 contacts; campaigns work best with 10-30.",)


async def test_adding_contacts_that_no_longer_exist_is_not_found(core, ana, campaign):
    camp = await campaign("Fintech")
    with pytest.raises(NotFound, match="Some of those contacts are not in your bank."):
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (999_999,)))


async def test_stats_are_visible_to_everyone(core, ana, zoe, zoes_bob, gt):
    await core.execute(LogOutreach(Actor(zoe.id), ContactRef(id=zoes_bob.id), "call"))
    for user in (ana, zoe, gt):
        report = await core.execute(GetStats(Actor(user.id), group_by="user"))
        assert [(r.key, r.outreach) for r in report.rows] == [("Zoe", 1)]

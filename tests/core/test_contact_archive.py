"""Removing a contact from one's bank: out of every list, its history kept, and put back exactly by a restore."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.cadences.commands import DueSteps, ListDueSteps, StartCadence
from core.campaigns.commands import AddToCampaign, ShowCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import (
    AddContact,
    ArchiveContact,
    FindContacts,
    ListRemoved,
    PreviewRemoval,
    RestoreContact,
    ShowContact,
)
from core.deliveries.commands import ClaimDueDeliveries
from core.errors import ContactRemoved, InvalidInput, NotFound
from core.feed.commands import TodaySuggestions
from core.models import Activity, AuditEntry, Contact, Delivery
from core.outreach.commands import LogOutreach, SetFollowUp
from core.sync.commands import RecordPipedriveIds
from core.users.commands import LinkChatIdentity


def ref(contact) -> ContactRef:
    return ContactRef(id=contact.id)


async def today(core, user) -> list[str]:
    return [s.contact.name for s in (await core.execute(TodaySuggestions(Actor(user.id)))).items]


async def remove(core, user, contact):
    return await core.execute(ArchiveContact(Actor(user.id, "console"), ref(contact)))


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva")


async def test_a_removed_contact_leaves_today_and_find_and_a_restore_brings_it_back(core, make, ana):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme", warmness=4)
    await make.contact(ana, "Cara Diaz")
    result = await remove(core, ana, bob)
    assert result.message == "Removed Bob Stone (Acme) from your bank: out of your lists, history kept."
    assert result.restorable
    assert await today(core, ana) == ["Cara Diaz"]
    assert (await core.execute(FindContacts(Actor(ana.id), "stone"))).contacts == ()

    restored = await core.execute(RestoreContact(Actor(ana.id), ref(bob)))
    assert restored.message == "↩ Bob Stone (Acme) is back in your bank."
    assert await today(core, ana) == ["Bob Stone", "Cara Diaz"]
    [found] = (await core.execute(FindContacts(Actor(ana.id), "stone"))).contacts
    assert found == bob


async def test_the_history_stays_and_show_says_when_it_was_removed(core, make, ana, db_rows):
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "email", note="sent the deck"))
    await remove(core, ana, bob)
    assert [a.note for a in await db_rows(Activity, Activity.contact_id == bob.id)] == ["sent the deck"]
    detail = await core.execute(ShowContact(Actor(ana.id), ContactRef(text="Bob Stone")))
    assert detail.removed_at is not None and detail.recent_activities[0].note == "sent the deck"


async def test_acting_on_a_removed_contact_says_so_and_how_to_restore(core, make, ana):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await remove(core, ana, bob)
    for contact in (ref(bob), ContactRef(text="bob"), ContactRef(text="bob@acme.com")):
        with pytest.raises(ContactRemoved) as caught:
            await core.execute(LogOutreach(Actor(ana.id), contact, "call"))
        assert str(caught.value) == (
            "Bob Stone was removed from your bank on Tue 24 Nov. Say `restore bob@acme.com` to put them back."
        )
        assert caught.value.contact_id == bob.id
    with pytest.raises(ContactRemoved):
        await remove(core, ana, bob)


async def test_another_users_contact_can_be_neither_removed_nor_restored(core, make, ana):
    other = await make.user("Other")
    theirs = await make.contact(other, "Their Contact")
    with pytest.raises(NotFound, match="not in your bank"):
        await remove(core, ana, theirs)
    await remove(core, other, theirs)
    with pytest.raises(NotFound, match="not in your bank"):
        await core.execute(RestoreContact(Actor(ana.id), ref(theirs)))
    with pytest.raises(NotFound, match="not in your bank"):
        await core.execute(ShowContact(Actor(ana.id), ref(theirs)))


async def test_restoring_a_contact_in_the_bank_is_one_clear_line(core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    with pytest.raises(InvalidInput, match="^Bob Stone is in your bank already.$"):
        await core.execute(RestoreContact(Actor(ana.id), ref(bob)))


async def test_adding_the_email_of_a_removed_contact_offers_the_restore_not_a_duplicate(core, make, ana, db_rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await remove(core, ana, bob)
    with pytest.raises(ContactRemoved) as caught:
        await core.execute(AddContact(Actor(ana.id), "Robert Stone", email="Bob@Acme.com"))
    assert str(caught.value) == (
        "Bob Stone has the email bob@acme.com and was removed from your bank on Tue 24 Nov. "
        "Restore them instead? (`restore bob@acme.com`)"
    )
    assert caught.value.contact_id == bob.id
    assert [k.name for k in await db_rows(Contact, Contact.owner_id == ana.id)] == ["Bob Stone"]


async def test_removed_lists_them_latest_first_and_its_rows_can_be_restored_by_number(core, make, ana, clock):
    bob = await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await remove(core, ana, bob)
    clock.advance(hours=1)
    await remove(core, ana, cara)
    removed = await core.execute(ListRemoved(Actor(ana.id, "console")))
    assert [(r.contact.name, r.removed_at) for r in removed.contacts] == [
        ("Cara Diaz", clock.now()),
        ("Bob Stone", clock.now() - timedelta(hours=1)),
    ]
    await core.execute(RestoreContact(Actor(ana.id, "console"), ContactRef(text="2")))
    assert await today(core, ana) == ["Bob Stone"]


async def test_remove_and_restore_are_audited(core, make, ana, db_rows):
    bob = await make.contact(ana, "Bob Stone")
    await remove(core, ana, bob)
    await core.execute(RestoreContact(Actor(ana.id, "console"), ref(bob)))
    entries = await db_rows(AuditEntry, AuditEntry.command.in_(("ArchiveContact", "RestoreContact")))
    assert [(e.command, e.platform, e.contact_ids, e.user_id) for e in entries] == [
        ("ArchiveContact", "console", [bob.id], ana.id),
        ("RestoreContact", "console", [bob.id], ana.id),
    ]


async def test_removing_a_contact_in_pipedrive_deletes_nothing_there_and_queues_nothing(core, make, ana, db_rows):
    from core.models import OutboxMessage

    bob = await make.contact(ana, "Bob Stone")
    await core.execute(RecordPipedriveIds(bob.id, person_id=4242))
    result = await remove(core, ana, bob)
    assert result.message.endswith("Nothing was deleted in Pipedrive: person 4242 stays there.")
    assert await db_rows(OutboxMessage) == []


async def test_the_preview_names_what_waits_while_removed(core, make, ana, clock):
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=2)))
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ref(bob)))
    preview = await core.execute(PreviewRemoval(Actor(ana.id), ref(bob)))
    assert (preview.contact.name, preview.open_follow_ups, preview.cadence) == ("Bob Stone", 1, "Warm intro")


async def test_a_removed_contacts_cadence_step_and_follow_up_are_neither_due_nor_nudged(core, make, ana, clock):
    await core.execute(LinkChatIdentity(ana.email, "slack", "U-ana", dm_channel="D-ana"))
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ref(bob)))
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(hours=1), "call back"))
    await remove(core, ana, bob)
    clock.advance(hours=2)  # Tuesday 11:00 in London: working hours, the follow-up and step 1 both due

    due: DueSteps = await core.execute(ListDueSteps(Actor(ana.id)))
    assert due.items == ()
    claimed = await core.execute(ClaimDueDeliveries(("slack",), "token"))
    assert [c.kind for c in claimed.claims] == []

    await core.execute(RestoreContact(Actor(ana.id), ref(bob)))
    assert [s.contact.name for s in (await core.execute(ListDueSteps(Actor(ana.id)))).items] == ["Bob Stone"]
    claimed = await core.execute(ClaimDueDeliveries(("slack",), "token"))
    assert sorted(c.kind for c in claimed.claims) == ["nudge", "step"]


async def test_a_nudge_claimed_before_the_removal_is_skipped(core, make, ana, clock, db_rows):
    await core.execute(LinkChatIdentity(ana.email, "slack", "U-ana", dm_channel="D-ana"))
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(hours=1)))
    clock.advance(hours=2)
    [claim] = (await core.execute(ClaimDueDeliveries(("slack",), "first", limit=10))).claims
    await remove(core, ana, bob)
    clock.advance(hours=1)  # the first claim's lease has run out: another process retakes it
    assert (await core.execute(ClaimDueDeliveries(("slack",), "second", limit=10))).claims == ()
    [delivery] = await db_rows(Delivery, Delivery.id == claim.id)
    assert delivery.status == "skipped"


async def test_a_campaign_shows_and_counts_only_contacts_in_a_bank(core, make, ana, campaign, gt):
    camp = await campaign("Fintech Q1")
    bob = await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id, cara.id)))
    await remove(core, ana, bob)
    detail = await core.execute(ShowCampaign(Actor(ana.id), CampaignRef(id=camp.id)))
    assert [m.name for m in detail.members] == ["Cara Diaz"]
    gt_view = await core.execute(ShowCampaign(Actor(gt.id), CampaignRef(id=camp.id)))
    assert (len(gt_view.members), gt_view.campaign.contact_count) == (1, 1)
    suggestions = await core.execute(TodaySuggestions(Actor(ana.id), campaign=CampaignRef(id=camp.id)))
    assert [s.contact.name for s in suggestions.items] == ["Cara Diaz"]


async def test_a_removed_contact_is_not_added_to_a_campaign_nor_started_on_a_cadence_with_it(
    core, make, ana, campaign, db_rows
):
    from core.models import ContactPlan

    camp = await campaign("Fintech Q1")
    bob = await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id, cara.id)))
    await remove(core, ana, bob)
    with pytest.raises(NotFound):
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", campaign=CampaignRef(id=camp.id)))
    assert [p.contact_id for p in await db_rows(ContactPlan)] == [cara.id]


async def test_the_removed_mark_is_the_only_change(core, make, ana):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", warmness=3)
    async with core.sessions() as s:
        before = (await s.execute(select(Contact).where(Contact.id == bob.id))).scalar_one()
        before = {c.name: getattr(before, c.name) for c in Contact.__table__.columns}
    await remove(core, ana, bob)
    await core.execute(RestoreContact(Actor(ana.id), ref(bob)))
    async with core.sessions() as s:
        after = (await s.execute(select(Contact).where(Contact.id == bob.id))).scalar_one()
        after = {c.name: getattr(after, c.name) for c in Contact.__table__.columns}
    assert after == before

"""Merging two contacts of one bank: history, plans, reminders and campaigns joined; the Pipedrive ids kept."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.cadences.commands import StartCadence
from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import EditContact, MergeContacts, PreviewMerge, ShowContact
from core.contacts.handlers import CONTACTS_MERGED
from core.errors import InvalidInput, NotFound
from core.feed.commands import TodaySuggestions
from core.models import (
    Activity,
    AuditEntry,
    CampaignContact,
    Contact,
    ContactPlan,
    DomainEvent,
    FollowUp,
    OutboxMessage,
)
from core.outreach.commands import AddNote, LogOutreach, SetFollowUp
from core.sync.commands import RecordPipedriveIds


def ref(contact) -> ContactRef:
    return ContactRef(id=contact.id)


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva")


async def merge(core, user, keep, other, platform: str = "cli"):
    return await core.execute(MergeContacts(Actor(user.id, platform), ref(keep), ref(other)))


async def contact_row(core, contact_id: int) -> Contact | None:
    async with core.sessions() as s:
        return (await s.execute(select(Contact).where(Contact.id == contact_id))).scalar_one_or_none()


async def test_history_notes_follow_ups_and_campaigns_move_to_the_survivor(core, make, ana, clock, campaign, db_rows):
    keep = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    other = await make.contact(ana, "Robert Stone", phone="+447700900123", organisation="Acme", title="CFO")
    await core.execute(EditContact(Actor(ana.id), ref(other), "sector", "Fintech"))
    await core.execute(EditContact(Actor(ana.id), ref(other), "country", "Portugal"))
    camp = await campaign("Fintech Q1")
    both = await campaign("Both")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (other.id,)))
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=both.id), (keep.id, other.id)))
    await core.execute(LogOutreach(Actor(ana.id), ref(other), "call", note="left a message"))
    await core.execute(AddNote(Actor(ana.id), ref(other), "prefers mornings"))
    await core.execute(SetFollowUp(Actor(ana.id), ref(other), clock.now() + timedelta(days=2), "send the deck"))

    result = await merge(core, ana, keep, other)

    assert result.message == (
        "Merged Robert Stone (Acme) into Bob Stone (Acme) (2 activities, 1 follow-up, 1 campaign membership moved)."
    )
    assert await contact_row(core, other.id) is None
    acts = await db_rows(Activity, Activity.contact_id == keep.id)
    assert sorted(a.note for a in acts) == ["left a message", "prefers mornings"]
    assert [f.note for f in await db_rows(FollowUp, FollowUp.contact_id == keep.id)] == ["send the deck"]
    memberships = await db_rows(CampaignContact, CampaignContact.contact_id == keep.id)
    assert sorted(m.campaign_id for m in memberships) == sorted([camp.id, both.id])
    survivor = await contact_row(core, keep.id)
    assert (
        survivor.name,
        survivor.email,
        survivor.phone,
        survivor.organisation,
        survivor.title,
        survivor.sector,
        survivor.country,
    ) == ("Bob Stone", "bob@acme.com", "+447700900123", "Acme", "CFO", "Fintech", "PT")
    assert survivor.last_contacted_at == clock.now()


async def test_the_survivors_own_details_win_and_notes_are_joined(core, make, ana):
    keep = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", notes="met in London")
    other = await make.contact(ana, "Bob S", email="bob@old.example", organisation="Old Co", notes="likes golf")
    await merge(core, ana, keep, other)
    survivor = await contact_row(core, keep.id)
    assert (survivor.email, survivor.organisation, survivor.notes) == (
        "bob@acme.com",
        "Acme",
        "met in London\nlikes golf",
    )


async def test_the_other_contacts_email_passes_to_a_survivor_without_one(core, make, ana):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S", email="bob@acme.com")
    await merge(core, ana, keep, other)
    assert (await contact_row(core, keep.id)).email == "bob@acme.com"


async def test_warmness_is_the_higher_and_past_business_adds_up_in_one_currency(core, make, ana):
    keep = await make.contact(ana, "Bob Stone", warmness=2, past_business=Decimal(1000))
    other = await make.contact(ana, "Bob S", warmness=3, past_business=Decimal(500))
    await merge(core, ana, keep, other)
    survivor = await contact_row(core, keep.id)
    assert (survivor.warmness, survivor.past_business) == (3, Decimal("1500.00"))


async def test_past_business_in_two_currencies_keeps_the_survivors_and_says_so(core, make, ana):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S")
    await core.execute(EditContact(Actor(ana.id), ref(keep), "past business", "12k EUR"))
    await core.execute(EditContact(Actor(ana.id), ref(other), "past business", "3k USD"))
    preview = await core.execute(PreviewMerge(Actor(ana.id), ref(keep), ref(other)))
    note = "Past business in two currencies: Bob Stone's 12,000.00 EUR is kept, Bob S's 3,000.00 USD is not added."
    assert preview.notes == (note,)
    result = await merge(core, ana, keep, other)
    assert note in result.message
    survivor = await contact_row(core, keep.id)
    assert (survivor.past_business, survivor.past_business_currency) == (Decimal("12000.00"), "EUR")


async def test_when_both_follow_a_cadence_the_survivors_goes_on_and_the_others_stops(core, make, ana, db_rows):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S")
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ref(keep)))
    await core.execute(StartCadence(Actor(ana.id), "Cold email sequence", contact=ref(other)))
    result = await merge(core, ana, keep, other)
    assert "Both follow a cadence: Bob Stone's Warm intro goes on, Bob S's Cold email sequence is stopped." in (
        result.message
    )
    plans = await db_rows(ContactPlan, ContactPlan.contact_id == keep.id)
    assert sorted((p.status, p.end_reason) for p in plans) == [("aborted", "stopped"), ("not_started", None)]
    detail = await core.execute(ShowContact(Actor(ana.id), ref(keep)))
    assert detail.plan.strategy == "Warm intro"


async def test_the_other_contacts_cadence_passes_to_a_survivor_without_one(core, make, ana):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S")
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ref(other)))
    result = await merge(core, ana, keep, other)
    assert "cadence" not in result.message
    assert (await core.execute(ShowContact(Actor(ana.id), ref(keep)))).plan.status == "not_started"


async def test_pipedrive_ids_are_kept_and_a_second_person_is_named_for_merging_there(core, make, ana, db_rows):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S")
    await core.execute(RecordPipedriveIds(keep.id, person_id=11))
    await core.execute(RecordPipedriveIds(other.id, person_id=22, org_id=7))
    result = await merge(core, ana, keep, other)
    assert (
        "Both are in Pipedrive: Bob Stone stays linked to person 11; person 22 is left as it is there, "
        "merge it into 11 in Pipedrive."
    ) in result.message
    assert result.message.endswith("Nothing was deleted in Pipedrive.")
    assert (await contact_row(core, keep.id)).pipedrive_person_id == 11
    assert await db_rows(OutboxMessage) == []


async def test_a_survivor_not_in_pipedrive_takes_the_others_person(core, make, ana, db_rows):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S", organisation="Acme")
    await core.execute(RecordPipedriveIds(other.id, person_id=22, org_id=7))
    await merge(core, ana, keep, other)
    survivor = await contact_row(core, keep.id)
    assert (survivor.pipedrive_person_id, survivor.organisation, survivor.pipedrive_org_id) == (22, "Acme", 7)
    assert await db_rows(OutboxMessage) == []


async def test_only_contacts_of_ones_own_bank_merge(core, make, ana):
    other_user = await make.user("Other")
    mine = await make.contact(ana, "Bob Stone")
    theirs = await make.contact(other_user, "Bob S")
    for keep, other in ((mine, theirs), (theirs, mine)):
        with pytest.raises(NotFound, match="^That contact is not in your bank.$"):
            await merge(core, ana, keep, other)
    assert await contact_row(core, theirs.id) is not None and await contact_row(core, mine.id) is not None
    with pytest.raises(InvalidInput, match="twice"):
        await merge(core, ana, mine, mine)


async def test_the_merged_contacts_old_row_number_says_where_it_went(core, make, ana):
    keep = await make.contact(ana, "Bob Stone", warmness=1)
    other = await make.contact(ana, "Bob S", warmness=5)
    await core.execute(TodaySuggestions(Actor(ana.id, "console")))  # row 1: Bob S (warmer), row 2: Bob Stone
    await merge(core, ana, keep, other)
    with pytest.raises(NotFound, match="^That contact was merged into Bob Stone.$"):
        await core.execute(ShowContact(Actor(ana.id, "console"), ContactRef(text="1")))
    assert (await core.execute(ShowContact(Actor(ana.id, "console"), ContactRef(text="2")))).contact.id == keep.id


async def test_merge_is_audited_with_both_contacts(core, make, ana, db_rows):
    keep = await make.contact(ana, "Bob Stone")
    other = await make.contact(ana, "Bob S")
    await merge(core, ana, keep, other, platform="telegram")
    [entry] = await db_rows(AuditEntry, AuditEntry.command == "MergeContacts")
    assert (entry.user_id, entry.platform, entry.contact_ids) == (ana.id, "telegram", sorted([keep.id, other.id]))
    [event] = await db_rows(DomainEvent, DomainEvent.name == CONTACTS_MERGED)
    assert (event.contact_id, event.payload["other_id"]) == (keep.id, other.id)

"""The sync end to end: chat commands queue outbox rows, the worker drains them into a fake Pipedrive.

Every test ends by checking what a Pipedrive user would see: how many organisations, persons and activities
exist, with which fields, and that no deal was ever touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.render import sync_text
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import Actor, CampaignRef
from core.models import Activity, AuditEntry, Contact, OutboxMessage, User
from core.outreach.commands import AddNote, BookMeeting, LogOutreach, RequestMeeting, UndoOutreach
from core.sync.commands import ListSyncNotices, ListSyncs
from tests.pipedrive.helpers import assert_clean, me, ref, warm

# --- first syncs ----------------------------------------------------------------------------------------


async def test_first_sync_of_a_warm_contact_creates_organisation_and_person(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", phone="+44 20 7946 0958")
    assert "Pipedrive sync queued" in (await warm(core, ana, bob)).message
    assert await worker.drain() == 1
    [org] = fake.organizations.values()
    [person] = fake.persons.values()
    assert org["name"] == "Acme" and org["owner_id"] == 101
    assert person["name"] == "Bob Stone" and person["org_id"] == org["id"] and person["owner_id"] == 101
    assert person["emails"] == [{"value": "bob@acme.com", "primary": True, "label": "work"}]
    assert person["phones"] == [{"value": "+442079460958", "primary": True, "label": "work"}]
    warm_label = next(o["id"] for o in fake.label_options() if o["label"] == "Warm lead")
    assert person["label_ids"] == [warm_label]
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.pipedrive_org_id) == (person["id"], org["id"])
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts, row.last_error, row.locked_until) == ("done", 1, None, None)
    [user] = await rows(User)
    assert user.pipedrive_user_id == 101  # found by email once, kept for next time
    assert_clean(fake, orgs=1, persons=1)


async def test_a_contact_without_organisation_gets_a_person_only(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@stone.me")
    await warm(core, ana, bob)
    await worker.drain()
    [person] = fake.persons.values()
    assert "org_id" not in {k for k, v in person.items() if v is not None}
    assert fake.calls("GET", "/api/v2/organizations/search") == 0
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.pipedrive_org_id) == (person["id"], None)
    assert_clean(fake, orgs=0, persons=1)


async def test_an_existing_person_is_matched_by_email_and_gets_the_label(core, make, ana, fake, worker, rows):
    existing = fake.add_person("Robert Stone", email="BOB@acme.com", label_ids=(1,))
    acme = fake.add_organization("ACME")
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await warm(core, ana, bob)
    await worker.drain()
    warm_label = next(o["id"] for o in fake.label_options() if o["label"] == "Warm lead")
    assert existing["label_ids"] == [1, warm_label]  # their own label kept, ours added
    assert existing["org_id"] == acme["id"]  # the organisation found by exact name, whatever its case
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.pipedrive_org_id) == (existing["id"], acme["id"])
    assert fake.calls("POST", "/api/v2/persons") == fake.calls("POST", "/api/v2/organizations") == 0
    assert_clean(fake, orgs=1, persons=1)


async def test_without_email_the_person_is_found_by_name_within_the_organisation(core, make, ana, fake, worker, rows):
    acme = fake.add_organization("Acme")
    fake.add_person("Bob Stone", org_id=None)  # same name, elsewhere: not them
    inside = fake.add_person("Bob Stone", org_id=acme["id"])
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    await warm(core, ana, bob)
    await worker.drain()
    [contact] = await rows(Contact)
    assert contact.pipedrive_person_id == inside["id"]
    assert_clean(fake, orgs=1, persons=2)


# --- label and custom field -----------------------------------------------------------------------------


@pytest.mark.parametrize("fake_options", [{"labels": ("Customer", "Hot lead")}])
async def test_the_warm_label_is_created_once_keeping_every_option_then_reused(core, make, ana, fake, worker):
    for n in range(3):
        await warm(core, ana, await make.contact(ana, f"Lead {n}", email=f"lead{n}@x.io"))
    await worker.drain()
    assert [o["label"] for o in fake.label_options()] == ["Customer", "Hot lead", "Warm lead"]
    warm_label = fake.label_options()[2]["id"]
    assert all(p["label_ids"] == [warm_label] for p in fake.persons.values())
    assert fake.calls("PUT", r"/api/v1/personFields/\d+") == 1
    assert fake.calls("GET", "/api/v1/personFields") <= 2  # read, read fresh before adding; then cached
    assert fake.calls("GET", "/api/v1/users/find") == 1
    assert_clean(fake, orgs=0, persons=3)


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_warm_label": "WARM LEAD"}])
async def test_the_label_matches_whatever_its_case(core, make, ana, fake, worker):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io"))
    await worker.drain()
    assert fake.calls("PUT", r"/api/v1/personFields/\d+") == 0
    assert [o["label"] for o in fake.label_options()].count("Warm lead") == 1


async def campaign_contacts(core, make, ana, names):
    golden = await make.user("Goldie", role="golden_ticket")
    camp = (await core.execute(CreateCampaign(Actor(golden.id), "Fintech Q1", status="live"))).campaign
    contacts = [await make.contact(ana, name, email=f"{name.split()[0].lower()}@x.io") for name in names]
    await core.execute(AddToCampaign(me(ana), CampaignRef(id=camp.id), tuple(k.id for k in contacts)))
    return contacts


async def test_the_campaign_source_field_is_found_by_name_and_its_key_reused(core, make, ana, fake, worker):
    for contact in await campaign_contacts(core, make, ana, ["Bob Stone", "Cara Diaz"]):
        await warm(core, ana, contact)
    await worker.drain()
    key = fake.field_key("Campaign source")
    assert [p["custom_fields"] for p in fake.persons.values()] == [{key: "Fintech Q1"}] * 2
    assert fake.calls("GET", "/api/v1/personFields") == 1
    assert_clean(fake, orgs=0, persons=2)


@pytest.mark.parametrize("fake_options", [{"custom_fields": (("Source", "varchar"),)}])
async def test_a_missing_campaign_field_syncs_the_person_without_it_and_says_to_run_setup(
    core, make, ana, fake, worker, rows, caplog
):
    for contact in await campaign_contacts(core, make, ana, ["Bob Stone", "Cara Diaz"]):
        await warm(core, ana, contact)
    await worker.drain()
    done = await rows(OutboxMessage)
    assert [(r.status, r.attempts) for r in done] == [("done", 1), ("done", 1)]
    assert all("pipedriven pipedrive setup" in r.last_error for r in done)
    assert [p["custom_fields"] for p in fake.persons.values()] == [{}, {}]
    assert await core.execute(ListSyncNotices()) == ()  # nothing for the users to fix
    assert [r.message for r in caplog.records].count(
        "Pipedrive has no person field “Campaign source”, so the campaign was left out: "
        "run `pipedriven pipedrive setup` (or set PIPEDRIVE_CAMPAIGN_SOURCE_FIELD to its name)."
    ) == 1
    status = sync_text(await core.execute(ListSyncs()), "Europe/London")
    assert "run `pipedriven pipedrive setup`" in status.splitlines()[1]
    assert_clean(fake, orgs=0, persons=2)


# --- activities -----------------------------------------------------------------------------------------


async def test_a_booked_meeting_becomes_a_pipedrive_activity_due_in_utc(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    at = datetime(2026, 12, 1, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    result = await core.execute(BookMeeting(me(ana), ref(bob), at=at, note="coffee at their office"))
    await worker.drain()
    [person] = fake.persons.values()
    [activity] = fake.activities.values()
    assert (activity["type"], activity["subject"], activity["due_date"], activity["due_time"]) == (
        "meeting",
        "Meeting with Bob Stone",
        "2026-12-01",
        "13:30",
    )
    assert (activity["note"], activity["done"], activity["owner_id"]) == ("coffee at their office", False, 101)
    assert activity["participants"] == [{"person_id": person["id"], "primary": True}]
    assert activity["org_id"] == person["org_id"]
    [meeting] = await rows(Activity, Activity.id == result.activity_id)
    assert (meeting.pipedrive_activity_id, meeting.sync_state) == (activity["id"], "synced")
    assert_clean(fake, orgs=1, persons=1, activities=1)


async def test_a_requested_meeting_is_a_dated_to_do_without_a_time(core, make, ana, fake, worker, clock):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await core.execute(RequestMeeting(me(ana), ref(bob), note="asked for a demo"))
    await worker.drain()
    [activity] = fake.activities.values()
    assert (activity["type"], activity["subject"], activity["due_date"], activity["due_time"], activity["done"]) == (
        "meeting",
        "Meeting requested with Bob Stone",
        clock.now().date().isoformat(),
        None,
        False,
    )


async def test_later_activities_of_a_synced_contact_are_replicated_with_the_seeds_types(
    core, make, ana, fake, worker, rows, clock
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    clock.set(datetime(2026, 11, 24, 16, 5, tzinfo=UTC))
    kinds = {
        "call": "call",
        "email": "email",
        "linkedin": "task",
        "referral": "task",
        "conference": "meeting",
        "campaign_email": "email",
    }
    for method in kinds:
        logged = await core.execute(LogOutreach(me(ana), ref(bob), method, note="went well", outcome="replied"))
        assert logged.sync_queued
    assert await worker.drain() == len(kinds)
    [person] = fake.persons.values()
    assert [a["type"] for a in fake.activities.values()] == list(kinds.values())
    assert [a["subject"] for a in fake.activities.values()][:3] == [
        "Call with Bob Stone",
        "Email to Bob Stone",
        "LinkedIn message to Bob Stone",
    ]
    for activity in fake.activities.values():
        assert (activity["due_date"], activity["due_time"], activity["done"]) == ("2026-11-24", "16:05", True)
        assert activity["note"] == "Outcome: replied\nwent well"
        assert activity["participants"] == [{"person_id": person["id"], "primary": True}]
    assert {(a.sync_state, a.pipedrive_activity_id is not None) for a in await rows(Activity)} == {("synced", True)}
    assert_clean(fake, orgs=0, persons=1, activities=len(kinds))


async def test_activities_and_notes_of_a_contact_not_in_pipedrive_stay_here(core, make, ana, fake, worker, rows):
    cold = await make.contact(ana, "Cold Contact", email="cold@x.io")
    assert not (await core.execute(LogOutreach(me(ana), ref(cold), "email"))).sync_queued
    assert not (await core.execute(AddNote(me(ana), ref(cold), "likes golf"))).sync_queued
    assert await worker.drain() == 0
    assert_clean(fake, orgs=0, persons=0, activities=0)
    assert fake.notes == {}


async def test_an_activity_logged_while_the_person_is_on_its_way_is_replicated(core, make, ana, fake, worker):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    assert (await core.execute(LogOutreach(me(ana), ref(bob), "call"))).sync_queued
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1, activities=1)


@pytest.mark.parametrize("fake_options", [{"activity_types": ("call", "meeting", "email")}])
async def test_an_activity_type_the_company_lacks_fails_with_a_notice(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    await core.execute(LogOutreach(me(ana), ref(bob), "linkedin"))
    await worker.drain()
    row = (await rows(OutboxMessage))[-1]
    assert row.status == "failed" and "no active activity type “task”" in row.last_error
    [activity] = await rows(Activity)
    assert activity.sync_state == "failed"
    assert len(await core.execute(ListSyncNotices())) == 1
    assert_clean(fake, orgs=0, persons=1, activities=0)


async def test_an_undone_outreach_is_taken_back_in_pipedrive_or_never_sent(core, make, ana, fake, worker, clock):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    replicated = await core.execute(LogOutreach(me(ana), ref(bob), "call"))
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1, activities=1)
    await core.execute(UndoOutreach(me(ana), ref(bob), replicated.activity_id))
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1, activities=0)  # deleted there too
    clock.advance(minutes=5)
    not_yet_sent = await core.execute(LogOutreach(me(ana), ref(bob), "email"))
    await core.execute(UndoOutreach(me(ana), ref(bob), not_yet_sent.activity_id))
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1, activities=0)


async def test_an_outreach_undone_while_it_is_being_sent_is_deleted_in_pipedrive(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    logged = await core.execute(LogOutreach(me(ana), ref(bob), "call"))

    async def undo_meanwhile():
        await core.execute(UndoOutreach(me(ana), ref(bob), logged.activity_id))

    fake.before_answering("POST", "/api/v2/activities", undo_meanwhile)
    await worker.drain()
    assert fake.calls("DELETE", r"/api/v2/activities/\d+") == 1
    assert await rows(Activity) == []
    assert_clean(fake, orgs=0, persons=1, activities=0)


async def test_the_audit_trail_shows_what_went_to_pipedrive_not_the_queue_s_bookkeeping(
    core, make, ana, fake, worker, rows
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(BookMeeting(me(ana), ref(bob), at=datetime(2026, 12, 1, 10, tzinfo=UTC)))
    before = {e.id for e in await rows(AuditEntry)}
    await worker.drain()
    await worker.drain()  # an idle pass writes nothing
    entries = [e for e in await rows(AuditEntry) if e.id not in before]
    assert [(e.platform, e.command) for e in entries] == [
        ("pipedrive", "RecordPipedriveOwner"),
        ("pipedrive", "RecordPipedriveIds"),
        ("pipedrive", "RecordPipedriveIds"),
        ("pipedrive", "RecordPipedriveActivity"),
    ]
    assert entries[1].contact_ids == [bob.id] and entries[0].user_ids == [ana.id]

"""The sync end to end: chat commands queue outbox rows, the worker drains them into a fake Pipedrive.

Every test ends by checking what a Pipedrive user would see: how many organisations, persons and activities
exist, with which fields, and that no deal was ever touched.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.commands import (
    Actor,
    AddNote,
    AddToCampaign,
    BookMeeting,
    CampaignRef,
    ClaimSync,
    CreateCampaign,
    FlagWarm,
    ListSyncNotices,
    LogOutreach,
    MarkSyncNoticesSent,
    RequestMeeting,
    RetrySyncs,
)
from core.models import Activity, Contact, OutboxMessage, User
from pipedrive.worker import SyncWorker
from tests.pipedrive.conftest import me, ref

V1_PATHS = {"/api/v1/users/find", "/api/v1/activityTypes", "/api/v1/personFields"}


def assert_clean(fake, *, orgs: int, persons: int, activities: int = 0) -> None:
    """What Pipedrive holds: exactly these many of each, and never a deal."""
    assert (len(fake.organizations), len(fake.persons), len(fake.activities)) == (orgs, persons, activities)
    assert fake.deal_calls == 0
    assert all(s.path.startswith("/api/v2/") or s.path in V1_PATHS or s.path.startswith("/api/v1/personFields/")
               for s in fake.seen)


async def warm(core, user, contact):
    return await core.execute(FlagWarm(me(user), ref(contact)))


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


async def test_without_email_the_person_is_found_by_name_within_the_organisation(core, make, ana, fake, worker,
                                                                                  rows):
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
async def test_a_missing_campaign_field_fails_and_the_user_is_owed_one_notice(core, make, ana, fake, worker, rows):
    for contact in await campaign_contacts(core, make, ana, ["Bob Stone", "Cara Diaz"]):
        await warm(core, ana, contact)
    await worker.drain()
    failed = await rows(OutboxMessage)
    assert [(r.status, r.attempts) for r in failed] == [("failed", 1), ("failed", 1)]  # no retry can fix it
    assert "no person field called “Campaign source”" in failed[0].last_error
    [notice] = await core.execute(ListSyncNotices())
    assert notice.user_id == ana.id and notice.outbox_ids == tuple(r.id for r in failed)
    assert "PIPEDRIVE_CAMPAIGN_SOURCE_FIELD" in notice.text and "sync retry all" in notice.text
    await core.execute(MarkSyncNoticesSent(notice.outbox_ids))
    assert await core.execute(ListSyncNotices()) == ()
    assert_clean(fake, orgs=0, persons=0)


# --- activities -----------------------------------------------------------------------------------------


async def test_a_booked_meeting_becomes_a_pipedrive_activity_due_in_utc(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    at = datetime(2026, 12, 1, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    result = await core.execute(BookMeeting(me(ana), ref(bob), at=at, note="coffee at their office"))
    await worker.drain()
    [person] = fake.persons.values()
    [activity] = fake.activities.values()
    assert (activity["type"], activity["subject"], activity["due_date"], activity["due_time"]) == (
        "meeting", "Meeting with Bob Stone", "2026-12-01", "13:30")
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
        "meeting", "Meeting requested with Bob Stone", clock.now().date().isoformat(), None, False)


@pytest.mark.parametrize("method, pipedrive_type", [
    ("call", "call"), ("email", "email"), ("linkedin", "task"), ("referral", "task"), ("conference", "meeting"),
    ("campaign_email", "email")])
async def test_later_activities_of_a_synced_contact_are_replicated(core, make, ana, fake, worker, rows, clock,
                                                                   method, pipedrive_type):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    clock.set(datetime(2026, 11, 24, 16, 5, tzinfo=timezone.utc))
    logged = await core.execute(LogOutreach(me(ana), ref(bob), method, note="went well", outcome="replied"))
    assert logged.sync_queued
    await worker.drain()
    [person] = fake.persons.values()
    [activity] = fake.activities.values()
    assert (activity["type"], activity["due_date"], activity["due_time"], activity["done"]) == (
        pipedrive_type, "2026-11-24", "16:05", True)
    assert activity["note"] == "Outcome: replied\nwent well"
    assert activity["participants"] == [{"person_id": person["id"], "primary": True}]
    [row] = await rows(Activity, Activity.id == logged.activity_id)
    assert row.sync_state == "synced"
    assert_clean(fake, orgs=0, persons=1, activities=1)


async def test_activities_of_a_contact_not_in_pipedrive_and_notes_stay_here(core, make, ana, fake, worker, rows):
    cold = await make.contact(ana, "Cold Contact", email="cold@x.io")
    assert not (await core.execute(LogOutreach(me(ana), ref(cold), "email"))).sync_queued
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    await core.execute(AddNote(me(ana), ref(bob), "likes golf"))
    assert await worker.drain() == 0
    assert_clean(fake, orgs=0, persons=1, activities=0)


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


# --- faults: every one ends with exactly one of each --------------------------------------------------


@pytest.mark.parametrize("method, path, kind", [
    ("POST", "/api/v2/organizations", "lost"),
    ("POST", "/api/v2/persons", "lost"),
    ("POST", "/api/v2/activities", "lost"),
    ("POST", "/api/v2/persons", "timeout"),
    ("POST", "/api/v2/activities", "timeout"),
    ("POST", "/api/v2/persons", "500"),
    ("GET", "/api/v2/persons/search", "503"),
    ("GET", "/api/v1/personFields", "503"),
    ("POST", "/api/v2/activities", "503"),
])
async def test_a_fault_is_retried_and_leaves_no_duplicate(core, make, ana, fake, worker, rows, clock, method, path,
                                                          kind):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(BookMeeting(me(ana), ref(bob), at=datetime(2026, 12, 1, 10, tzinfo=timezone.utc)))
    fake.fail(method, path, kind)
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "try 1 of 4" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=1.5)  # 2 s doubled per try, jittered to 3/4
    assert await worker.drain() == 0  # not due yet
    clock.advance(seconds=2)
    assert await worker.drain() == 1
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts, row.last_error) == ("done", 2, None)
    assert_clean(fake, orgs=1, persons=1, activities=1)
    [contact] = await rows(Contact)
    [activity] = await rows(Activity, Activity.kind == "meeting")
    assert contact.pipedrive_person_id == next(iter(fake.persons))
    assert activity.pipedrive_activity_id == next(iter(fake.activities))


async def test_two_identical_activities_stay_two_even_after_a_lost_answer(core, make, ana, fake, worker, clock):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    await worker.drain()
    await core.execute(LogOutreach(me(ana), ref(bob), "call"))
    await worker.drain()
    await core.execute(LogOutreach(me(ana), ref(bob), "call"))  # same minute, same subject
    fake.fail("POST", "/api/v2/activities", "lost")
    await worker.drain()
    clock.advance(seconds=2)
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1, activities=2)


async def test_retries_back_off_then_fail_and_a_retry_command_sends_it(core, make, ana, fake, worker, rows, clock):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    fake.fail("POST", "/api/v2/persons", "503", times=4)
    delays = []
    for _ in range(4):
        await worker.drain()
        [row] = await rows(OutboxMessage)
        if row.status == "pending":
            delays.append((row.next_attempt_at - clock.now()).total_seconds())
            clock.set(row.next_attempt_at)
    assert delays == [1.5, 3.0, 6.0]  # exponential, with jitter (fixed at half here)
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("failed", 4)
    assert row.last_error.startswith("Gave up after 4 tries.") and "HTTP 503" in row.last_error
    assert row.user_notice is None  # a passing outage is no one's to fix
    retried = await core.execute(RetrySyncs(me(ana), all_failed=True))
    assert retried.ids == (row.id,)
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("done", 1)
    assert_clean(fake, orgs=0, persons=1)


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_max_retries": 1}])
async def test_the_number_of_retries_is_configurable(core, make, ana, fake, worker, rows, clock):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io"))
    fake.fail("POST", "/api/v2/persons", "500", times=5)
    await worker.drain()
    clock.advance(seconds=5)
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("failed", 2)


async def test_a_crashed_worker_s_sync_is_taken_over_and_resumes(core, make, ana, fake, worker, rows, clock):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await warm(core, ana, bob)
    task = await core.execute(ClaimSync(lease_seconds=300))  # a worker claims it, then dies
    assert task is not None and await worker.drain() == 0  # nobody else touches it meanwhile
    clock.advance(seconds=301)
    assert await worker.drain() == 1
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("done", 2)
    assert_clean(fake, orgs=1, persons=1)


# --- rate limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fake_options", [{"burst_limit": 20, "search_limit": 10}])
async def test_a_burst_of_warm_flags_meets_no_429(core, make, ana, fake, worker, vt, rows):
    for n in range(25):
        await warm(core, ana, await make.contact(ana, f"Lead {n}", email=f"lead{n}@x.io", organisation=f"Org {n}"))
    await worker.drain()
    assert fake.throttled == 0
    assert vt.slept > 0  # the throttle held requests back instead
    assert {r.status for r in await rows(OutboxMessage)} == {"done"}
    assert_clean(fake, orgs=25, persons=25)


async def test_a_429_waits_for_the_reset_then_sends_again_within_the_same_try(core, make, ana, fake, worker, vt,
                                                                              rows):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io", organisation="Acme"))
    fake.fail("POST", "/api/v2/organizations", "429", times=2)
    await worker.drain()
    assert worker.companies[0].client.rate_limited == 2
    assert vt.slept >= 4  # x-ratelimit-reset said 2 s, twice
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("done", 1)
    assert_clean(fake, orgs=1, persons=1)


async def test_a_429_that_does_not_pass_is_retried_later_like_an_outage(core, make, ana, fake, worker, rows, clock):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io"))
    fake.fail("POST", "/api/v2/persons", "429", times=4)
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("pending", 1) and "rate limit" in row.last_error
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=2)
    clock.set(row.next_attempt_at)
    await worker.drain()
    assert_clean(fake, orgs=0, persons=1)


@pytest.mark.parametrize("fake_options, pipedrive_settings", [({"burst_limit": 5}, {"pipedrive_burst_limit": 100})])
async def test_the_client_adopts_the_plan_s_limit_from_the_headers(core, make, ana, fake, worker, vt, rows):
    for n in range(4):
        await warm(core, ana, await make.contact(ana, f"Lead {n}", email=f"lead{n}@x.io", organisation=f"Org {n}"))
    await worker.drain()
    assert fake.throttled == 0 and vt.slept > 0
    assert [(r.status, r.attempts) for r in await rows(OutboxMessage)] == [("done", 1)] * 4
    assert_clean(fake, orgs=4, persons=4)


# --- workers side by side -------------------------------------------------------------------------------


async def test_two_workers_drain_together_and_each_row_is_done_once(core, make, ana, fake, vt, rows):
    for n in range(6):
        contact = await make.contact(ana, f"Lead {n}", email=f"lead{n}@x.io", organisation="Shared Org")
        await warm(core, ana, contact)
        await core.execute(BookMeeting(me(ana), ref(contact), at=datetime(2026, 12, n + 1, 9, tzinfo=timezone.utc)))
    first, second = (SyncWorker(core, clock=vt, sleep=vt.sleep) for _ in range(2))
    try:
        done = await asyncio.gather(first.drain(), second.drain())
    finally:
        await first.aclose()
        await second.aclose()
    assert sum(done) == 12 and all(done)  # both worked
    assert [(r.status, r.attempts) for r in await rows(OutboxMessage)] == [("done", 1)] * 12
    assert_clean(fake, orgs=1, persons=6, activities=6)


# --- tokens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_api_token": None}])
async def test_without_a_token_syncs_wait_and_nothing_is_lost(core, make, ana, fake, worker, rows):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io"))
    assert await worker.drain() == 0
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("pending", 0)
    assert fake.seen == []


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_api_token": "revoked-token"}])
async def test_a_refused_token_fails_at_once_and_is_told_once(core, make, ana, fake, worker, rows, clock):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io"))
    await warm(core, ana, await make.contact(ana, "Cara", email="cara@x.io"))
    await worker.drain()
    failed = await rows(OutboxMessage)
    assert [(r.status, r.attempts) for r in failed] == [("failed", 1)] * 2
    assert "HTTP 401" in failed[0].last_error
    [notice] = await core.execute(ListSyncNotices())
    assert notice.outbox_ids == (failed[0].id, failed[1].id) and "refused the API token" in notice.text
    await core.execute(MarkSyncNoticesSent(notice.outbox_ids))
    clock.advance(hours=1)
    await warm(core, ana, await make.contact(ana, "Dan", email="dan@x.io"))
    await worker.drain()
    assert await core.execute(ListSyncNotices()) == ()  # told an hour ago: not again
    assert_clean(fake, orgs=0, persons=0)

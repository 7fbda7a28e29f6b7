"""Reliability of the sync: faults, retries and backoff, crashes, rate limits, concurrent workers, tokens.

Every fault ends with exactly one organisation, person and activity in the fake Pipedrive.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from core.models import Activity, Contact, OutboxMessage
from core.outreach.commands import BookMeeting, LogOutreach
from core.sync.commands import ClaimSync, ListSyncNotices, MarkSyncNoticesSent, RetrySyncs
from pipedrive.worker import SyncWorker
from tests.pipedrive.helpers import assert_clean, me, ref, warm

# --- faults: every one ends with exactly one of each --------------------------------------------------


@pytest.mark.parametrize(
    "method, path, kind",
    [
        ("POST", "/api/v2/organizations", "lost"),
        ("POST", "/api/v2/persons", "lost"),
        ("POST", "/api/v2/activities", "lost"),
        ("POST", "/api/v2/persons", "timeout"),
        ("POST", "/api/v2/activities", "timeout"),
        ("POST", "/api/v2/persons", "500"),
        ("GET", "/api/v2/persons/search", "503"),
        ("GET", "/api/v1/personFields", "503"),
        ("POST", "/api/v2/activities", "503"),
    ],
)
async def test_a_fault_is_retried_and_leaves_no_duplicate(
    core, make, ana, fake, worker, rows, clock, method, path, kind
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(BookMeeting(me(ana), ref(bob), at=datetime(2026, 12, 1, 10, tzinfo=UTC)))
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


async def test_a_429_waits_for_the_reset_then_sends_again_within_the_same_try(core, make, ana, fake, worker, vt, rows):
    await warm(core, ana, await make.contact(ana, "Bob", email="bob@x.io", organisation="Acme"))
    fake.fail("POST", "/api/v2/organizations", "429", times=2)
    met = REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "pipedrive"}) or 0
    await worker.drain()
    assert worker.companies[0].client.rate_limited == 2
    assert REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "pipedrive"}) == met + 2
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
        await core.execute(BookMeeting(me(ana), ref(contact), at=datetime(2026, 12, n + 1, 9, tzinfo=UTC)))
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

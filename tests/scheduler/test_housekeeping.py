"""Housekeeping (core/housekeeping.py): old idempotency keys and finished deliveries go; nothing that still
prevents a repeat does, and nothing is ever sent twice because of it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.cadences.commands import StartCadence
from core.command import ContactRef
from core.housekeeping.commands import PruneHistory
from core.models import Delivery, FollowUp, ProcessedRequest
from core.outreach.commands import CompleteFollowUp, FlagWarm, SetFollowUp
from core.views import AlreadyDone
from scheduler.ports import TemporaryDeliveryError
from scheduler.service import SchedulerService
from tests.conftest import actor


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London"))


async def count(core, model, *where) -> int:
    async with core.reading() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def rows(core, model, *where) -> list:
    async with core.reading() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


@pytest.fixture
async def ana(reachable):
    return await reachable("Ana", contacts=0)


async def test_idempotency_keys_go_after_a_week_and_a_recent_retry_still_acts_once(core, at, make, ana):
    bob = await make.contact(ana, "Bob")
    at("2026-11-02 10:00")
    await core.execute(FlagWarm(actor(ana, "slack"), ContactRef(id=bob.id)), idempotency_key="slack:old")
    at("2026-11-24 10:00")
    await core.execute(FlagWarm(actor(ana, "slack"), ContactRef(id=bob.id)), idempotency_key="slack:new")
    pruned = await core.execute(PruneHistory())
    assert (pruned.requests, await count(core, ProcessedRequest)) == (1, 1)
    again = await core.execute(FlagWarm(actor(ana, "slack"), ContactRef(id=bob.id)), idempotency_key="slack:new")
    assert isinstance(again, AlreadyDone)


async def test_old_digests_go_but_recent_ones_stay(core, at, dispatcher, slack, reachable):
    bo = await reachable("Bo", contacts=2)
    for day in ("2026-08-03", "2026-11-23"):  # Mondays, 113 days and 1 day before
        at(f"{day} 08:30")
        await dispatcher.tick()
    assert len(slack.digests(bo)) == 2
    at("2026-11-24 07:00")
    assert (await core.execute(PruneHistory())).deliveries == 1
    assert await count(core, Delivery, Delivery.kind == "digest") == 1
    at("2026-11-24 08:30")  # the morning goes on as before
    await dispatcher.tick()
    assert len(slack.digests(bo)) == 3


async def test_a_nudge_for_a_follow_up_still_open_stays_and_is_not_sent_again(core, at, dispatcher, slack, make, ana):
    bob, carol = await make.contact(ana, "Bob"), await make.contact(ana, "Carol")
    at("2026-08-03 07:00")
    for contact in (bob, carol):
        await core.execute(SetFollowUp(actor(ana), ContactRef(id=contact.id), local("2026-08-04 10:00")))
    at("2026-08-04 10:00")
    await dispatcher.tick()
    assert len(slack.nudges(ana)) == 2
    await core.execute(CompleteFollowUp(actor(ana), ContactRef(id=carol.id)))
    at("2026-11-24 10:00")  # 112 days on: Bob's follow-up is still open, Carol's is done
    await core.execute(PruneHistory())
    [kept] = await rows(core, Delivery, Delivery.kind == "nudge")
    [bobs] = await rows(core, FollowUp, FollowUp.contact_id == bob.id)
    assert (kept.follow_up_id, kept.status) == (bobs.id, "sent")
    assert await count(core, Delivery, Delivery.kind == "digest") == 0  # that morning's digest is gone too
    await dispatcher.tick()
    assert len(slack.nudges(ana)) == 2  # Bob's nudge is not sent again


async def test_a_waiting_cadence_step_keeps_what_showed_it(core, at, dispatcher, slack, make, ana):
    bob, carol = await make.contact(ana, "Bob"), await make.contact(ana, "Carol")
    at("2026-08-03 07:00")  # Monday, before the digest: the digest leads with Bob's first step
    await core.execute(StartCadence(actor(ana), "Warm intro", contact=ContactRef(id=bob.id)))
    at("2026-08-03 08:30")
    await dispatcher.tick()
    at("2026-08-03 11:00")  # Carol's plan starts after the digest: her step comes as a nudge
    await core.execute(StartCadence(actor(ana), "Warm intro", contact=ContactRef(id=carol.id)))
    await dispatcher.tick()
    sent = len(slack.to(ana))
    assert sent == 2
    at("2026-11-24 11:00")  # neither step has been done since
    assert (await core.execute(PruneHistory())).deliveries == 0
    await dispatcher.tick()
    assert len(slack.to(ana)) == sent  # neither step is nudged again


async def test_unfinished_deliveries_never_go(core, at, dispatcher, slack, reachable):
    bo = await reachable("Bo", contacts=1)
    slack.fail_next(bo.id, TemporaryDeliveryError("503 Service Unavailable"))
    at("2026-08-03 08:30")
    await dispatcher.tick()  # the digest waits for a retry
    assert await count(core, Delivery, Delivery.status == "retry") == 1
    at("2026-11-24 07:00")
    assert (await core.execute(PruneHistory())).deliveries == 0


async def test_the_scheduler_prunes_every_hour(core, at, dispatcher, make, ana):
    bob = await make.contact(ana, "Bob")
    at("2026-11-02 10:00")
    await core.execute(FlagWarm(actor(ana, "slack"), ContactRef(id=bob.id)), idempotency_key="slack:old")
    service = SchedulerService(dispatcher, interval_seconds=3600)
    await service.start()
    try:
        assert service.jobs["housekeeping"] == timedelta(hours=1)
    finally:
        await service.stop()
    at("2026-11-24 10:00")
    await service.housekeeping()
    assert await count(core, ProcessedRequest) == 0


async def test_db_prune_on_the_command_line(core, wall_clock, make, ana, cli):
    bob = await make.contact(ana, "Bob")
    wall_clock.advance(days=-30)  # weeks before the process's today
    await core.execute(FlagWarm(actor(ana, "slack"), ContactRef(id=bob.id)), idempotency_key="slack:long-ago")
    result = cli("db", "prune")
    assert result.returncode == 0, result.stderr
    assert "Removed 1 request key older than 7 days and 0 finished deliveries older than 90 days." in result.stdout
    assert await count(core, ProcessedRequest) == 0

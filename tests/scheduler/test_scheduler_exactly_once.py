"""Exactly once with several scheduler processes, a process dying mid-way, and platform errors."""

import asyncio
import os
import sys
from collections import Counter

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.conversation import Conversation
from bot.notify import ChatCourier
from core import db
from core.command import ContactRef
from core.deliveries.commands import ClaimDueDeliveries, ListDeliveryProblems, RecordDelivered
from core.deliveries.handlers import MAX_ATTEMPTS
from core.models import Delivery
from core.outreach.commands import SetFollowUp
from core.privacy.commands import ListAudit
from core.service import Core
from scheduler.dispatch import Dispatcher
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError
from tests.conftest import actor


@pytest.fixture
async def second_core(database_url, clock, settings):
    """Another process's core: its own engine (its own connections) on the same database and clock."""
    engine = db.create_engine(database_url, pool_size=5)
    yield Core(engine, clock=clock, settings=settings)
    await engine.dispose()


async def statuses(core) -> Counter:
    async with core.sessions() as session:
        return Counter((await session.execute(select(Delivery.status))).scalars())


async def test_two_schedulers_send_each_digest_and_nudge_exactly_once(
    core, second_core, at, make, slack, telegram, reachable
):
    users = [await reachable(f"User{n}", platforms=("slack", "telegram")) for n in range(12)]
    due = at("2026-11-24 08:30")
    at("2026-11-24 06:00")
    for user in users:
        contact = await make.contact(user, f"Follow {user.name}")
        await core.execute(SetFollowUp(actor(user), ContactRef(id=contact.id), due))
    notifiers = {"slack": slack, "telegram": telegram}
    # Small batches so that the two processes interleave their claims.
    first = Dispatcher(core, ChatCourier(core, notifiers), limits={}, batch=5)
    second = Dispatcher(second_core, ChatCourier(second_core, notifiers), limits={}, batch=5)
    at("2026-11-24 08:30")
    a, b = await asyncio.gather(first.tick(), second.tick())
    assert a["sent"] + b["sent"] == 48
    at("2026-11-24 08:31")
    a, b = await asyncio.gather(first.tick(), second.tick())
    assert a["sent"] + b["sent"] == 0
    for notifier in (slack, telegram):
        assert Counter(target.user_id for target, reply in notifier.sent if reply.text.startswith("☀️")) == {
            u.id: 1 for u in users
        }
        assert Counter(target.user_id for target, reply in notifier.sent if reply.text.startswith("⏰")) == {
            u.id: 1 for u in users
        }
    assert await statuses(core) == {"sent": 48}


async def test_a_process_dying_between_claim_and_send_leaves_it_to_another_after_the_lease(
    core, at, clock, dispatcher, slack, reachable
):
    ana = await reachable("Ana")
    at("2026-11-24 08:30")
    claimed = await core.execute(ClaimDueDeliveries(("slack", "telegram"), token="process-that-dies"))
    assert [claim.user.id for claim in claimed.claims] == [ana.id]
    # ... and that process dies here, before sending.
    await dispatcher.tick()
    assert slack.to(ana) == [], "another process leaves a live claim alone"
    clock.advance(seconds=core.settings.delivery_lease_seconds)
    await dispatcher.tick()
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    # Had the first process only been slow, its late word no longer counts.
    assert not await core.execute(RecordDelivered(claimed.claims[0].id, "process-that-dies", "late"))
    assert await statuses(core) == {"sent": 1}


async def test_a_claim_abandoned_for_longer_than_the_grace_window_is_not_sent_late(
    core, at, dispatcher, slack, reachable
):
    ana = await reachable("Ana")
    at("2026-11-24 08:30")
    await core.execute(ClaimDueDeliveries(("slack",), token="process-that-dies"))
    at("2026-11-24 11:00")  # every process was down until 11:00
    await dispatcher.tick()
    assert slack.to(ana) == []
    assert await statuses(core) == {"skipped": 1}


async def test_a_temporary_error_is_retried_no_sooner_than_the_platform_asks(
    at, clock, dispatcher, telegram, reachable
):
    ana = await reachable("Ana", platforms=("telegram",))
    telegram.fail_next(ana.id, TemporaryDeliveryError("Too Many Requests: retry after 40", retry_after=40))
    at("2026-11-24 08:30")
    assert (await dispatcher.tick())["retry"] == 1
    clock.advance(seconds=39)
    await dispatcher.tick()
    assert telegram.to(ana) == []
    clock.advance(seconds=1)
    assert (await dispatcher.tick())["sent"] == 1
    await dispatcher.tick()
    assert len(telegram.digests(ana)) == 1


async def test_too_many_requests_never_makes_it_give_up(at, clock, dispatcher, telegram, reachable):
    ana = await reachable("Ana", platforms=("telegram",))
    telegram.fail_next(
        ana.id, *(TemporaryDeliveryError("Too Many Requests", retry_after=2) for _ in range(MAX_ATTEMPTS + 2))
    )
    at("2026-11-24 08:30")
    for _ in range(MAX_ATTEMPTS + 3):
        await dispatcher.tick()
        clock.advance(seconds=2)
    assert len(telegram.digests(ana)) == 1


async def test_temporary_errors_back_off_then_give_up(core, at, clock, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    slack.fail_next(ana.id, *(TemporaryDeliveryError("503 Service Unavailable") for _ in range(MAX_ATTEMPTS)))
    core.settings = core.settings.model_copy(update={"digest_grace_minutes": 24 * 60})
    at("2026-11-24 08:30")
    await dispatcher.tick()
    assert slack.errors_queued(ana) == MAX_ATTEMPTS - 1
    # Tried at once, then after 15 s, 1 min, 5 min, 15 min and 30 min (not a second sooner); then given up.
    for wait in (15, 60, 300, 900, 1800):
        clock.advance(seconds=wait - 1)
        await dispatcher.tick()
        clock.advance(seconds=1)
        queued = slack.errors_queued(ana)
        await dispatcher.tick()
        assert slack.errors_queued(ana) == queued - 1, f"not retried after {wait} s"
    clock.advance(hours=2)
    await dispatcher.tick()
    assert slack.to(ana) == []
    assert await statuses(core) == {"failed": 1}
    assert await core.execute(ListDeliveryProblems()) == (), "a run of temporary errors is not a blocked user"


async def test_a_permanent_error_is_recorded_on_that_account_and_others_still_get_theirs(
    core, at, dispatcher, slack, telegram, reachable
):
    ana = await reachable("Ana", platforms=("slack", "telegram"))
    telegram.fail_next(ana.id, PermanentDeliveryError("Forbidden: bot was blocked by the user"))
    at("2026-11-24 08:30")
    outcomes = await dispatcher.tick()
    assert (outcomes["sent"], outcomes["failed"]) == (1, 1)
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 0)
    [problem] = await core.execute(ListDeliveryProblems())
    assert (problem.user_id, problem.platform, problem.error) == (
        ana.id,
        "telegram",
        "Forbidden: bot was blocked by the user",
    )
    # The next morning it is tried again; it goes through (the user unblocked the bot), and the problem clears.
    at("2026-11-25 08:30")
    await dispatcher.tick()
    assert len(telegram.digests(ana)) == 1
    assert await core.execute(ListDeliveryProblems()) == ()


@pytest.mark.process
async def test_users_list_shows_an_account_that_cannot_be_reached(
    database_url, core, at, dispatcher, telegram, reachable, tmp_path
):
    ana = await reachable("Ana", platforms=("telegram",))
    await reachable("Bo", platforms=("telegram",))
    telegram.fail_next(ana.id, PermanentDeliveryError("Forbidden: user is deactivated"))
    at("2026-11-24 08:30")
    await dispatcher.tick()
    env = {**os.environ, "DATABASE_URL": database_url, "PIPEDRIVEN_DATA_DIR": str(tmp_path / "data")}
    env.pop("TEST_DATABASE_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "users",
        "list",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    ana_line = next(i for i, line in enumerate(lines) if "Ana" in line)
    assert lines[ana_line + 1].strip() == (
        f"⚠ telegram telegram-{ana.id}: undeliverable since 2026-11-24 08:30 UTC: Forbidden: user is deactivated"
    )
    assert not any("⚠" in line for line in lines[ana_line + 2 :]), "Bo is reachable"


async def test_a_notifier_bug_does_not_stop_the_other_deliveries(at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    bo = await reachable("Bo")
    slack.fail_next(ana.id, KeyError("oops"))
    at("2026-11-24 08:30")
    outcomes = await dispatcher.tick()
    assert (outcomes["sent"], outcomes["retry"]) == (1, 1)
    assert len(slack.digests(bo)) == 1


async def test_the_lease_is_a_setting(core, at, clock, dispatcher, slack, reachable):
    core.settings = core.settings.model_copy(update={"delivery_lease_seconds": 60})
    ana = await reachable("Ana")
    at("2026-11-24 08:30")
    await core.execute(ClaimDueDeliveries(("slack",), token="process-that-dies"))
    clock.advance(seconds=60)
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1


async def test_the_audit_trail_has_the_users_settings_but_not_each_beat_and_message(
    core, at, dispatcher, slack, telegram, reachable
):
    ana = await reachable("Ana", platforms=("slack", "telegram"))
    telegram.fail_next(ana.id, TemporaryDeliveryError("503"))
    at("2026-11-24 08:30")
    for _ in range(3):
        await dispatcher.tick()
    await Conversation(core, "slack").handle_text(ana, "settings pause until 2026-12-01")
    commands = [entry.command for entry in (await core.execute(ListAudit())).entries]
    assert "PauseDigests" in commands
    assert not {"ClaimDueDeliveries", "RecordDelivered", "RecordDeliveryFailure"} & set(commands)


async def test_a_delivery_sent_while_the_database_drops_is_recorded_when_it_is_back_and_never_sent_again(
    core, pg_server_url, database_url, at, clock, slack, reachable
):
    # Slack alone: a second platform's claim running at the moment the database drops would fail that tick.
    dispatcher = Dispatcher(core, ChatCourier(core, {"slack": slack}), limits={})
    ana = await reachable("Ana")
    at("2026-11-24 08:30")
    database = make_url(database_url).database
    send = slack.send

    async def send_then_lose_the_database(target, reply):
        message_id = await send(target, reply)
        with psycopg.connect(db.libpq_url(pg_server_url), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        asyncio.get_running_loop().call_later(1.0, allow_connections)
        return message_id

    def allow_connections():
        with psycopg.connect(db.libpq_url(pg_server_url), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')

    slack.send = send_then_lose_the_database
    assert (await dispatcher.tick())["sent"] == 1
    slack.send = send
    assert await statuses(core) == Counter({"sent": 1})
    clock.advance(seconds=core.settings.delivery_lease_seconds + 60)
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1

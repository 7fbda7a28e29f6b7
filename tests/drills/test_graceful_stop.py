"""`pipedriven run` on SIGTERM: the sends and syncs under way finish (within SHUTDOWN_GRACE_SECONDS), nothing new
starts, what it had claimed and not done is handed back for another process to take at once, and it exits 0.

Real subprocesses (`python -m bot.cli run`) on the test database, against local fakes served by this test.
Leases keep their production length (minutes): work handed back is taken over at once, not when a lease ends.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import select

from core.command import Actor, ContactRef
from core.contacts.commands import AddContact
from core.models import Activity, Delivery, OutboxMessage
from core.outreach.commands import FlagWarm
from core.users.commands import CreateUser
from fakes.limited import LimitedSlack, LimitedTelegram
from fakes.pipedrive import FakePipedrive
from fakes.processes import TELEGRAM_BASE, BotProcess, free_port, link_everyone, populate_digest_users
from fakes.slack import BOT_TOKEN, SIGNING_SECRET, SignedClient, fixture

pytestmark = [pytest.mark.drill, pytest.mark.process]

USERS = 60


class SlowTelegram(LimitedTelegram):
    """Telegram taking `delay` seconds over each message, so that sends are under way when SIGTERM comes."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.started = 0

    async def _api_sendMessage(self, params: dict) -> dict:
        self.started += 1
        await asyncio.sleep(self.delay)
        return await super()._api_sendMessage(params)


class SlowSlack(LimitedSlack):
    """Slack taking `delay` seconds over each posted message, so that a tap's reply is under way at SIGTERM."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.posting = 0

    async def _api(self, request):
        if request.match_info["method"] == "chat.postMessage":
            self.posting += 1
            await asyncio.sleep(self.delay)
        return await super()._api(request)


class StuckPipedrive(FakePipedrive):
    """Pipedrive answering nothing until `release` is set."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()

    async def _handle(self, request):
        self.arrived.set()
        await self.release.wait()
        return await super()._handle(request)


async def until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def sigterm(process: BotProcess, timeout: float) -> tuple[int, float]:
    """Send SIGTERM; the exit code and how long the process took to exit."""
    began = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.process.wait(), timeout)
    return code, time.monotonic() - began


def telegram_bot(url: str, fake: LimitedTelegram, **settings: str) -> BotProcess:
    return BotProcess(
        url,
        {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.api_url, "SCHEDULER_TICK_SECONDS": "0.5"}
        | settings,
    )


async def deliveries(core) -> list[Delivery]:
    async with core.sessions() as session:
        return list((await session.execute(select(Delivery).where(Delivery.platform == "telegram"))).scalars())


async def test_sigterm_mid_digest_run_finishes_the_sends_under_way_once_and_hands_back_the_rest(
    database_url, live_core
):
    await asyncio.to_thread(populate_digest_users, database_url, USERS, 3)
    slow, quick = SlowTelegram(delay=2.0), LimitedTelegram()
    for fake in (slow, quick):
        await fake.start()
        for user_id in range(1, USERS + 1):
            fake.open_chat(fake.user(TELEGRAM_BASE + user_id, f"User{user_id}"))
    first, second = telegram_bot(database_url, slow), telegram_bot(database_url, quick)
    try:
        await first.start()
        await asyncio.to_thread(link_everyone, database_url)
        await until(lambda: slow.started >= 5, 30, "the first sends")
        code, took = await sigterm(first, 30)
        assert code == 0, "\n".join(first.lines[-20:])
        assert took < 15
        sent_by_first = Counter(int(m["chat_id"]) for m in slow.sent("sendMessage"))
        assert len(sent_by_first) == slow.started  # every send under way finished
        assert 5 <= len(sent_by_first) < USERS
        rows = await deliveries(live_core)
        assert Counter(row.status for row in rows) == {"sent": len(sent_by_first), "retry": USERS - len(sent_by_first)}
        handed_back = [row for row in rows if row.status == "retry"]
        assert {(row.claim_token, row.claimed_until, row.attempts) for row in handed_back} == {(None, None, 0)}

        await second.start()  # the rest go at once, not when a five-minute lease would have run out
        await until(lambda: len(quick.sent("sendMessage")) >= USERS - len(sent_by_first), 30, "the rest")
        await asyncio.sleep(1)
    finally:
        for process in (first, second):
            await process.stop()
        for fake in (slow, quick):
            await fake.stop()
    reached = Counter(int(m["chat_id"]) for f in (slow, quick) for m in f.sent("sendMessage"))
    assert reached == {TELEGRAM_BASE + user_id: 1 for user_id in range(1, USERS + 1)}  # each user once
    assert Counter(row.status for row in await deliveries(live_core)) == {"sent": USERS}


async def test_a_sync_cut_short_by_the_grace_is_handed_back_and_the_process_exits_0(database_url, live_core):
    fake = StuckPipedrive(users=(("Ana Silva", "ana@example.com"),))
    await fake.start()
    ana = await live_core.execute(CreateUser("Ana Silva", "ana@example.com"))
    contact = (await live_core.execute(AddContact(Actor(ana.id, "console"), "Lead", email="lead@acme.io"))).contact
    await live_core.execute(FlagWarm(Actor(ana.id, "console"), ContactRef(id=contact.id)))
    bot = BotProcess(
        database_url,
        {
            "PIPEDRIVE_API_TOKEN": "company-token",
            "PIPEDRIVE_BASE_URL": fake.url,
            "PIPEDRIVE_TIMEOUT_SECONDS": "60",
            "SHUTDOWN_GRACE_SECONDS": "1",
        },
    )
    try:
        await bot.start()
        await asyncio.wait_for(fake.arrived.wait(), 30)
        code, took = await sigterm(bot, 30)
    finally:
        fake.release.set()
        await bot.stop()
        await fake.stop()
    assert code == 0, "\n".join(bot.lines[-20:])
    assert took < 6
    async with live_core.sessions() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert rows
    assert {(row.status, row.locked_until, row.attempts) for row in rows} == {("pending", None, 0)}
    assert all(row.next_attempt_at <= live_core.clock.now() for row in rows)  # due again now


async def test_sigterm_mid_tap_lets_the_tap_finish_and_its_reply_arrive(database_url, live_core):
    slack = SlowSlack(delay=2.0)
    await slack.start()
    slack.add_user("U0ANA", "ana@example.com")
    ana = await live_core.execute(CreateUser("Ana Silva", "ana@example.com"))
    await live_core.execute(AddContact(Actor(ana.id, "console"), "Bob Stone"))
    port = free_port()
    bot = BotProcess(
        database_url,
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{slack.url}/api/",
            "PORT": str(port),
        },
    )
    event = {
        "type": "message",
        "channel": "D0ANA",
        "channel_type": "im",
        "user": "U0ANA",
        "text": "log bob call",
        "ts": "1700000001.000100",
        "event_ts": "1700000001.000100",
    }
    body = json.dumps({**fixture("event_callback.json"), "event": event, "event_id": "EvStop1"})
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignedClient.signature(SIGNING_SECRET, stamp, body),
    }
    try:
        await bot.start()
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
        await until(lambda: slack.posting >= 1, 30, "the tap's reply")
        assert not slack.posted_at  # still under way
        code, took = await sigterm(bot, 30)
    finally:
        await bot.stop()
        await slack.stop()
    assert code == 0, "\n".join(bot.lines[-20:])
    assert len(slack.posted_at) == 1  # the reply went out, once
    async with live_core.sessions() as session:
        assert len((await session.execute(select(Activity))).scalars().all()) == 1


async def test_sigterm_while_idle_exits_0_at_once(database_url):
    telegram, pipedrive = LimitedTelegram(), FakePipedrive(users=(("Ana Silva", "ana@example.com"),))
    await telegram.start()
    await pipedrive.start()
    bot = telegram_bot(database_url, telegram, PIPEDRIVE_API_TOKEN="company-token", PIPEDRIVE_BASE_URL=pipedrive.url)
    try:
        await bot.start()
        await asyncio.sleep(1)
        code, took = await sigterm(bot, 30)
    finally:
        await bot.stop()
        await telegram.stop()
        await pipedrive.stop()
    assert code == 0, "\n".join(bot.lines[-20:])
    assert took < 2.5
    assert not [line for line in bot.lines if "Traceback" in line or "ERROR" in line]

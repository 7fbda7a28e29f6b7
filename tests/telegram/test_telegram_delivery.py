"""Sending within Telegram's limits: the notifier the scheduler uses, 429s and their retry_after, pacing."""

import pytest
from prometheus_client import REGISTRY
from telegram_harness import ANA_TG, TelegramHarness, texts

from bot.conversation import Conversation
from bot.notify import ChatTarget
from bot.runner import build_services
from bot.telegram.pacing import PER_CHAT_BURST, PacedRateLimiter
from bot.telegram.service import TelegramService, TelegramUnavailable
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError
from tests.virtual_time import VirtualTime


def target(user_id: int, chat: int) -> ChatTarget:
    return ChatTarget(user_id, "telegram", str(chat), str(chat))


async def test_the_morning_digest_goes_out_with_its_keyboard_and_a_tap_edits_it(bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone", organisation="Acme")
    telegram.open_chat(linked)
    digest = await Conversation(bot.service.core, "telegram").digest(ana)
    message_id = await bot.service.notifier.send(target(ana.id, ANA_TG), digest)
    sent = telegram.message(ANA_TG, int(message_id))
    assert sent["text"].startswith("☀️ Good morning Ana! Who to contact today:")
    assert [b["text"] for b in telegram.buttons(sent)] == ["LinkedIn ✓", "Email ✓", "Call ✓", "⋯"]
    await bot.tap(linked, sent, "LinkedIn")
    assert telegram.message(ANA_TG, int(message_id))["text"].endswith("✓ LinkedIn logged for Bob Stone · 09:00")


async def test_a_user_who_blocked_the_bot_or_an_unknown_chat_is_a_permanent_failure(bot, telegram, linked, ana):
    from bot.replies import Reply

    telegram.open_chat(linked)
    telegram.blocked.add(ANA_TG)
    with pytest.raises(PermanentDeliveryError, match="bot was blocked by the user"):
        await bot.service.notifier.send(target(ana.id, ANA_TG), Reply("hello"))
    with pytest.raises(PermanentDeliveryError, match="[Cc]hat not found"):
        await bot.service.notifier.send(target(ana.id, 555_555), Reply("hello"))


async def test_a_429_is_retried_after_its_retry_after(bot, telegram, linked):
    telegram.throttle("sendMessage", retry_after=1)
    met = REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "telegram"}) or 0
    calls = await bot.say(linked, "/help")
    assert REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "telegram"}) == met + 1
    refused, accepted = [c for c in calls if c.method == "sendMessage"]
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0
    assert len(texts(calls)) == 1 and len(telegram.messages(ANA_TG)) == 1


async def test_a_429_that_outlasts_the_retries_is_a_temporary_failure_with_retry_after(core, telegram, linked, ana):
    from bot.replies import Reply

    telegram.open_chat(linked)
    service = TelegramService(core.settings, core, rate_limit_retries=0)
    await service.start()
    try:
        telegram.throttle("sendMessage", retry_after=7)
        with pytest.raises(TemporaryDeliveryError) as caught:
            await service.notifier.send(target(ana.id, ANA_TG), Reply("hello"))
        assert caught.value.retry_after == 7.0
    finally:
        await service.stop()


async def test_a_private_chat_gets_a_burst_and_then_one_message_a_second():
    vt = VirtualTime()
    limiter = PacedRateLimiter(max_retries=0, clock=vt, sleep=vt.sleep)

    async def call(*args, **kwargs):
        return True

    async def burst():
        for _ in range(PER_CHAT_BURST):
            await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": ANA_TG}, None)

    await vt.run(burst())
    assert await limiter.limiter.free_at(("chat", ANA_TG)) > vt.now  # the next one waits its second
    assert await limiter.limiter.free_at(("chat", ANA_TG + 1)) == vt.now  # other chats are not held up


async def test_a_refused_token_stops_the_start_with_a_one_line_reason(core, telegram):
    settings = core.settings.model_copy(update={"telegram_bot_token": type(core.settings.telegram_bot_token)("1:bad")})
    service = TelegramService(settings, core)
    with pytest.raises(TelegramUnavailable, match="TELEGRAM_BOT_TOKEN") as caught:
        await service.start()
    assert "1:bad" not in str(caught.value)  # PTB's own message quotes the token


async def test_run_starts_telegram_only_when_a_token_is_set(core):
    services, notifiers = build_services(core.settings, core)
    # The Pipedrive sync runs beside a chat adapter: users may have Pipedrive tokens of their own.
    assert [s.name for s in services] == ["telegram", "scheduler", "pipedrive sync"] and list(notifiers) == ["telegram"]
    services, notifiers = build_services(core.settings.model_copy(update={"telegram_bot_token": None}), core)
    assert services == [] and notifiers == {}


async def test_a_database_outage_is_one_line_in_the_chat_never_a_trace(
    pg_server_url, settings, clock, telegram, linked
):
    from core import db
    from core.service import Core

    engine = db.create_engine(db.with_database(pg_server_url, "pipedriven_not_there"))
    broken = Core(engine, clock=clock, settings=settings)
    harness = TelegramHarness(telegram, TelegramService(settings, broken))
    await harness.service.start()
    try:
        assert texts(await harness.say(linked, "/today")) == [
            "The database is not reachable right now. Please try again in a moment."
        ]
    finally:
        await harness.service.stop()
        await engine.dispose()


async def test_run_with_telegram_polling_is_ready_on_health_port_once_polling(core):
    import asyncio
    import socket

    import aiohttp

    from bot.runner import run_forever

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = core.settings.model_copy(update={"health_port": port, "health_listen": "127.0.0.1"})
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(settings, core, stop))
    answers = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        answers.append((response.status, await response.text()))
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    assert answers[-1] == (200, "ready\n")
    assert all(status == 503 and "not started" in text for status, text in answers[:-1])

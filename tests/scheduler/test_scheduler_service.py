"""The scheduler as a `pipedriven run` service, and the console's notifier on the same delivery path."""

import asyncio
import io

from bot.console import ConsoleChat
from bot.console.notifier import ConsoleNotifier
from bot.notify import ChatCourier
from bot.runner import build_services, scheduler_service
from core.users.commands import LinkChatIdentity
from scheduler.dispatch import Dispatcher
from scheduler.service import SchedulerService
from tests.scheduler.conftest import RecordingNotifier


class SignallingNotifier(RecordingNotifier):
    """Records like its parent, and lets a test await the next message instead of sleeping."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.arrived = asyncio.Event()

    async def send(self, target, reply):
        result = await super().send(target, reply)
        self.arrived.set()
        return result


async def test_the_service_ticks_when_started_and_then_on_its_beat(core, at, reachable):
    ana = await reachable("Ana")
    notifier = SignallingNotifier("slack")
    service = SchedulerService(
        Dispatcher(core, ChatCourier(core, {"slack": notifier}), limits={}), interval_seconds=0.05
    )
    at("2026-11-24 08:30")
    await service.start()
    try:
        await asyncio.wait_for(notifier.arrived.wait(), 10)
        assert len(notifier.digests(ana)) == 1
        notifier.arrived.clear()
        at("2026-11-25 08:30")  # the next morning, as far as the core's clock goes
        await asyncio.wait_for(notifier.arrived.wait(), 10)
        assert len(notifier.digests(ana)) == 2
    finally:
        await service.stop()


async def test_a_failing_tick_is_logged_and_the_next_beat_still_comes(core, at, reachable, caplog, monkeypatch):
    ana = await reachable("Ana")
    notifier = SignallingNotifier("slack")
    dispatcher = Dispatcher(core, ChatCourier(core, {"slack": notifier}), limits={})
    service = SchedulerService(dispatcher, interval_seconds=0.05)
    real_tick, calls = dispatcher.tick, []

    async def flaky_tick():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return await real_tick()

    monkeypatch.setattr(dispatcher, "tick", flaky_tick)
    at("2026-11-24 08:30")
    await service.start()
    try:
        await asyncio.wait_for(notifier.arrived.wait(), 10)
    finally:
        await service.stop()
    assert len(notifier.digests(ana)) == 1
    assert "scheduler tick failed" in caplog.text


def test_run_adds_the_scheduler_only_when_a_platform_can_deliver(core):
    services, notifiers = build_services(core.settings, core)
    assert (services, notifiers) == ([], {})
    service = scheduler_service(core, {"slack": RecordingNotifier("slack")})
    assert service.name == "scheduler"
    assert service.interval_seconds == core.settings.scheduler_tick_seconds == 30


async def test_the_console_notifier_prints_the_digest_with_buttons_that_work_in_the_chat(core, at, make):
    ana = await make.user("Ana", email="ana@example.com")
    await make.contact(ana, "Bob Stone", organisation="Acme")
    await core.execute(LinkChatIdentity("ana@example.com", "console", "ana@example.com"))
    chat = ConsoleChat(core, ana)
    out = io.StringIO()
    at("2026-11-24 08:30")
    outcomes = await Dispatcher(core, ChatCourier(core, {"console": ConsoleNotifier(out, chat)}), limits={}).tick()
    assert outcomes["sent"] == 1
    assert out.getvalue().splitlines()[:3] == [
        "☀️ Good morning Ana! Who to contact today:",
        "1. Bob Stone (Acme)",
        "   never contacted",
    ]
    assert "[1b] Email ✓" in out.getvalue()
    assert await chat.send("1b") == "✓ Email logged for Bob Stone.\n[a] ↩ Undo"


async def test_the_console_notifier_alone_prints_plain_replies(core, at, make):
    ana = await make.user("Ana", email="ana@example.com")
    await make.contact(ana, "Bob Stone")
    await core.execute(LinkChatIdentity("ana@example.com", "console", "ana@example.com"))
    out = io.StringIO()
    at("2026-11-24 08:30")
    await Dispatcher(core, ChatCourier(core, {"console": ConsoleNotifier(out)}), limits={}).tick()
    assert "1. Bob Stone" in out.getvalue() and "[1a] LinkedIn ✓" in out.getvalue()

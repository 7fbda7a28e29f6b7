"""The scheduler's digest and nudges through the real Telegram notifier, to the fake Bot API over HTTP."""

from datetime import UTC, datetime, timedelta

from telegram_harness import ANA_TG, POLL_TIMEOUT

from bot.notify import ChatCourier
from bot.telegram.service import TelegramService
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import CampaignRef, ContactRef
from core.deliveries.commands import ListDeliveryProblems
from core.outreach.commands import LogOutreach, SetFollowUp
from core.users.commands import SetUserRole
from scheduler.dispatch import Dispatcher
from tests.conftest import actor


async def test_the_morning_digest_and_a_nudge_arrive_once_with_their_keyboards(
    core, bot, telegram, linked, make, ana, clock
):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    await core.execute(SetFollowUp(actor(ana), ContactRef(id=bob.id), clock.now() + timedelta(minutes=5)))
    telegram.open_chat(linked)
    dispatcher = Dispatcher(core, ChatCourier(core, {"telegram": bot.service.notifier}), limits={})
    clock.advance(minutes=5)  # Tuesday 09:05 in London: the 08:30 digest is within its grace window
    assert (await dispatcher.tick())["sent"] == 2
    await dispatcher.tick()
    digest, nudge = telegram.messages(ANA_TG)
    assert digest["text"].startswith("☀️ Good morning Ana! Who to contact today:")
    assert nudge["text"].startswith("⏰ Time to follow up with Bob Stone.")
    assert [b["text"] for b in telegram.buttons(nudge)][:3] == ["LinkedIn ✓", "Email ✓", "Call ✓"]


async def test_a_user_who_blocked_the_bot_is_recorded_as_unreachable(core, bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone")
    telegram.open_chat(linked)
    telegram.blocked.add(ANA_TG)
    outcomes = await Dispatcher(core, ChatCourier(core, {"telegram": bot.service.notifier}), limits={}).tick()
    assert outcomes["failed"] == 1
    [problem] = await core.execute(ListDeliveryProblems())
    assert (problem.user_id, problem.platform, problem.error) == (
        ana.id,
        "telegram",
        "Forbidden: bot was blocked by the user",
    )


async def test_the_monday_summary_arrives_once_even_when_its_picture_cannot_go(
    core, telegram, linked, make, ana, clock
):
    await core.execute(SetUserRole(ana.email, "golden_ticket"))
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(CreateCampaign(actor(ana), "Fintech", status="live"))
    await core.execute(AddToCampaign(actor(ana), CampaignRef(name="Fintech"), (bob.id,)))
    # Tuesday 24 November; a call with no outcome fires no rule, so the digest goes alone.
    await core.execute(LogOutreach(actor(ana), ContactRef(id=bob.id), "call"))
    telegram.open_chat(linked)
    telegram.throttle("sendPhoto", retry_after=30, times=5)  # flood control on photos, past any wait
    service = TelegramService(core.settings, core, poll_timeout=POLL_TIMEOUT, rate_limit_retries=0)
    await service.start()
    try:
        dispatcher = Dispatcher(core, ChatCourier(core, {"telegram": service.notifier}), limits={})
        clock.set(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))  # Monday 08:30 in London
        assert (await dispatcher.tick())["sent"] == 1
        for _ in range(3):
            clock.advance(minutes=20)
            await dispatcher.tick()
    finally:
        await service.stop()
    [digest] = telegram.messages(ANA_TG)
    assert digest["text"].startswith("☀️ Good morning Ana! Last week, then who to contact today:")
    assert "📊 Last week, W48, 23–29 Nov 2026" in digest["text"] and telegram.photos == []

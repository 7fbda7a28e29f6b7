"""The scheduler's digest and nudges through the real Telegram notifier, to the fake Bot API over HTTP."""

from datetime import timedelta

from telegram_harness import ANA_TG

from bot.notify import ChatCourier
from core.command import ContactRef
from core.deliveries.commands import ListDeliveryProblems
from core.outreach.commands import SetFollowUp
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

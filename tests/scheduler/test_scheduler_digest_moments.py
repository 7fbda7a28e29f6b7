"""The beat reads a user's digest moment only until that day's digest is claimed everywhere they are reached: a
change of time, timezone or working days, a user added during the day, an account linked or a platform chosen
after the digest, and a second scheduler serving another platform each still get the digest at the right moment,
once per local day."""

from datetime import UTC, datetime, time

from bot.conversation import Conversation
from bot.notify import ChatCourier
from core.users.commands import LinkChatIdentity, UpdateSettings
from scheduler.dispatch import Dispatcher
from tests.conftest import actor


def utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


async def test_a_later_time_set_after_todays_digest_waits_for_tomorrow(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    at("2026-11-24 08:30")
    await dispatcher.tick()
    at("2026-11-24 09:00")
    await core.execute(UpdateSettings(actor(ana), digest_time=time(10, 0)))
    for moment in ("2026-11-24 10:00", "2026-11-24 11:00", "2026-11-25 08:30", "2026-11-25 09:59"):
        at(moment)
        await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    at("2026-11-25 10:00")
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 2


async def test_an_earlier_time_set_before_todays_digest_brings_it_at_once(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    at("2026-11-24 08:00")
    await dispatcher.tick()
    await core.execute(UpdateSettings(actor(ana), digest_time=time(7, 45)))
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    for moment in ("2026-11-24 08:30", "2026-11-25 07:44"):
        at(moment)
        await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    at("2026-11-25 07:45")
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 2


async def test_moving_west_gives_no_second_digest_that_local_day(core, clock, dispatcher, slack, reachable):
    ana = await reachable("Ana", tz="Europe/London")
    clock.set(utc("2026-11-24 08:30"))  # Tuesday 08:30 in London
    await dispatcher.tick()
    clock.set(utc("2026-11-24 09:00"))
    await core.execute(UpdateSettings(actor(ana), timezone="America/New_York"))
    for moment in ("2026-11-24 13:30", "2026-11-25 13:29"):  # Tuesday 08:30, Wednesday 08:29 in New York
        clock.set(utc(moment))
        await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    clock.set(utc("2026-11-25 13:30"))
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 2


async def test_moving_east_brings_the_next_days_digest_at_the_new_zones_time(core, clock, dispatcher, slack, reachable):
    bo = await reachable("Bo", tz="America/New_York")
    clock.set(utc("2026-11-24 13:30"))  # Tuesday 08:30 in New York
    await dispatcher.tick()
    clock.set(utc("2026-11-24 14:00"))  # Tuesday 23:00 in Tokyo
    await core.execute(UpdateSettings(actor(bo), timezone="Asia/Tokyo"))
    clock.set(utc("2026-11-24 23:29"))
    await dispatcher.tick()
    assert len(slack.digests(bo)) == 1
    clock.set(utc("2026-11-24 23:30"))  # Wednesday 08:30 in Tokyo
    await dispatcher.tick()
    assert len(slack.digests(bo)) == 2


async def test_a_working_day_added_on_a_day_off_brings_that_days_digest(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    at("2026-11-27 08:30")  # Friday
    await dispatcher.tick()
    at("2026-11-28 08:30")  # Saturday: not a working day
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    at("2026-11-28 09:00")
    await core.execute(UpdateSettings(actor(ana), working_days=(1, 2, 3, 4, 5, 6)))
    await dispatcher.tick()  # 08:30 was missed by half an hour, within the grace window
    assert len(slack.digests(ana)) == 2


async def test_a_user_added_during_the_day_gets_that_days_digest(core, at, dispatcher, slack, reachable):
    at("2026-11-24 09:00")
    await dispatcher.tick()
    ana = await reachable("Ana")  # 08:30: missed by half an hour
    bo = await reachable("Bo")
    await core.execute(UpdateSettings(actor(bo), digest_time=time(11, 0)))
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(slack.digests(bo))) == (1, 0)
    at("2026-11-24 11:00")
    await dispatcher.tick()
    at("2026-11-24 12:00")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(slack.digests(bo))) == (1, 1)


async def test_a_scheduler_for_each_platform_each_sends_the_users_digest(at, core, slack, telegram, reachable):
    ana = await reachable("Ana", platforms=("slack", "telegram"))
    on_slack = Dispatcher(core, ChatCourier(core, {"slack": slack}), limits={})
    on_telegram = Dispatcher(core, ChatCourier(core, {"telegram": telegram}), limits={})
    at("2026-11-24 08:30")
    await on_slack.tick()
    at("2026-11-24 08:45")
    await on_telegram.tick()
    at("2026-11-24 09:00")
    await on_slack.tick()
    await on_telegram.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 1)


async def test_an_account_linked_after_the_digest_gets_it_within_the_grace_window(
    core, at, dispatcher, slack, telegram, reachable
):
    ana = await reachable("Ana", platforms=("slack",))
    at("2026-11-24 08:30")
    await dispatcher.tick()
    at("2026-11-24 09:00")
    await core.execute(LinkChatIdentity(ana.email, "telegram", f"telegram-{ana.id}"))
    await dispatcher.tick()
    at("2026-11-24 09:30")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 1)


async def test_every_platform_chosen_after_the_digest_brings_it_on_the_other_one(
    core, at, dispatcher, slack, telegram, reachable
):
    ana = await reachable("Ana", platforms=("slack", "telegram"))
    chat = Conversation(core, "slack")
    await chat.handle_text(ana, "settings platform telegram")
    at("2026-11-24 08:30")
    await dispatcher.tick()
    at("2026-11-24 09:00")
    await chat.handle_text(ana, "settings platform all")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 1)

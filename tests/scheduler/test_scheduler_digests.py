"""The morning digest: at each user's local time, on their working days, once, unless paused or too late."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from bot.conversation import Conversation
from core.users.commands import UpdateSettings
from tests.conftest import actor


async def test_each_user_gets_the_digest_at_their_own_local_time(clock, dispatcher, slack, reachable):
    london = await reachable("Ana", tz="Europe/London")
    new_york = await reachable("Bo", tz="America/New_York")
    tokyo = await reachable("Chie", tz="Asia/Tokyo")
    kolkata = await reachable("Dev", tz="Asia/Kolkata")  # UTC+5:30
    arrived: dict[str, datetime] = {}
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # Monday noon UTC
    for _ in range(2 * 24 * 4):  # two days in quarter-hour ticks
        await dispatcher.tick()
        for user in (london, new_york, tokyo, kolkata):
            for n, _reply in enumerate(slack.digests(user)):
                arrived.setdefault(f"{user.name} {n + 1}", clock.now())
        clock.advance(minutes=15)
    utc = lambda day, hour, minute: datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # noqa: E731
    assert arrived == {
        "Bo 1": utc(23, 13, 30),
        "Chie 1": utc(23, 23, 30),
        "Dev 1": utc(24, 3, 0),
        "Ana 1": utc(24, 8, 30),
        "Bo 2": utc(24, 13, 30),
        "Chie 2": utc(24, 23, 30),
        "Dev 2": utc(25, 3, 0),
        "Ana 2": utc(25, 8, 30),
    }


async def test_not_a_minute_early_and_only_once_that_day(at, dispatcher, slack, reachable):
    ana = await reachable("Ana", contacts=3)
    at("2026-11-24 08:29")
    await dispatcher.tick()
    assert slack.to(ana) == []
    at("2026-11-24 08:30")
    sent = {"kind": "digest", "platform": "slack"}
    before = REGISTRY.get_sample_value("pipedriven_messages_sent_total", sent) or 0
    assert (await dispatcher.tick())["sent"] == 1
    assert REGISTRY.get_sample_value("pipedriven_messages_sent_total", sent) == before + 1  # /metrics counts it
    digest = slack.digests(ana)[0]
    assert digest.text == "☀️ Good morning Ana! Who to contact today:"
    assert [section.text.split("\n")[0] for section in digest.sections] == [
        "1. Ana's contact 1",
        "2. Ana's contact 2",
        "3. Ana's contact 3",
    ]
    for later in ("08:31", "10:00", "17:59", "23:59"):
        at(f"2026-11-24 {later}")
        await dispatcher.tick()
    assert len(slack.digests(ana)) == 1


@pytest.mark.parametrize(
    "tz, before, on, due_before, due_on",
    [
        # Europe/London moves to BST on Sunday 29 March 2026: 08:30 local is 08:30 UTC, then 07:30 UTC.
        ("Europe/London", "2026-03-28", "2026-03-29", (8, 30), (7, 30)),
        # America/New_York moves to EDT on Sunday 8 March 2026: 08:30 local is 13:30 UTC, then 12:30 UTC.
        ("America/New_York", "2026-03-07", "2026-03-08", (13, 30), (12, 30)),
        # Europe/London moves back to GMT on Sunday 25 October 2026: 08:30 local is 07:30 UTC, then 08:30 UTC.
        ("Europe/London", "2026-10-24", "2026-10-25", (7, 30), (8, 30)),
    ],
)
async def test_the_digest_keeps_to_local_time_across_a_daylight_saving_change(
    core, clock, dispatcher, slack, reachable, tz, before, on, due_before, due_on
):
    user = await reachable("Ana", tz=tz)
    await core.execute(UpdateSettings(actor(user), working_days=(1, 2, 3, 4, 5, 6, 7)))
    for day, (hour, minute) in ((before, due_before), (on, due_on)):
        due = datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)
        sent_so_far = len(slack.digests(user))
        clock.set(due - timedelta(minutes=1))
        await dispatcher.tick()
        assert len(slack.digests(user)) == sent_so_far, f"early on {day}"
        clock.set(due)
        await dispatcher.tick()
        assert len(slack.digests(user)) == sent_so_far + 1, f"not at 08:30 local on {day}"


async def test_no_digest_outside_the_working_days(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    bo = await reachable("Bo")
    await core.execute(UpdateSettings(actor(bo), working_days=(2, 4), digest_time=datetime(1, 1, 1, 7, 15).time()))
    sent = {}
    for day in range(23, 31):  # Monday 23 to Monday 30 November 2026
        at(f"2026-11-{day} 08:30")
        await dispatcher.tick()
        sent[day] = (len(slack.digests(ana)), len(slack.digests(bo)))
    # Ana: Mon-Fri, not Sat 28 and Sun 29. Bo: Tuesdays and Thursdays only (at 07:15, within the grace window).
    assert sent == {23: (1, 0), 24: (2, 1), 25: (3, 1), 26: (4, 2), 27: (5, 2), 28: (5, 2), 29: (5, 2), 30: (6, 2)}


async def test_pause_until_a_day_then_digests_start_again_that_day(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    chat = Conversation(core, "slack")
    at("2026-11-24 12:00")  # Tuesday, after today's digest time
    reply = await chat.handle_text(ana, "settings pause until friday")
    assert "no digest or nudge until Fri 27 Nov 2026" in reply.text
    assert "Paused until Fri 27 Nov 2026" in (await chat.handle_text(ana, "settings")).text
    for day in (25, 26):
        at(f"2026-11-{day} 08:30")
        await dispatcher.tick()
    assert slack.digests(ana) == []
    assert "Paused until Fri 27 Nov 2026" in (await chat.handle_text(ana, "settings")).text
    at("2026-11-27 08:30")
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1
    # The first day back has come: settings no longer speak of a pause.
    assert "Paused" not in (await chat.handle_text(ana, "settings")).text


async def test_resume_ends_a_pause_at_once(core, at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    chat = Conversation(core, "slack")
    at("2026-11-24 12:00")
    await chat.handle_text(ana, "settings pause until 2026-12-14")
    at("2026-11-25 08:30")
    await dispatcher.tick()
    assert slack.digests(ana) == []
    at("2026-11-25 09:00")
    assert "Resumed" in (await chat.handle_text(ana, "settings resume")).text
    assert "Paused" not in (await chat.handle_text(ana, "settings")).text
    await dispatcher.tick()  # the morning's digest is still within its grace window
    assert len(slack.digests(ana)) == 1


@pytest.mark.parametrize(
    "text, problem",
    [
        ("settings pause until yesterday", "Pause until a day after today"),
        ("settings pause until today", "Pause until a day after today"),
        ("settings pause until 2028-01-01", "at most a year"),
        ("settings pause until whenever", "I can't read “whenever” as a date"),
        ("settings pause", "Pause until when?"),
        ("settings platform pigeon", "settings platform slack"),
        ("settings platform telegram", "You haven't used Pipedriven on Telegram yet"),
    ],
)
async def test_bad_pause_or_platform_is_explained_and_changes_nothing(core, at, reachable, text, problem):
    ana = await reachable("Ana", platforms=("slack",))
    chat = Conversation(core, "slack")
    at("2026-11-24 12:00")
    assert problem in (await chat.handle_text(ana, text)).text
    shown = (await chat.handle_text(ana, "settings")).text
    assert "Paused" not in shown and "on every platform you use" in shown


async def test_a_digest_missed_by_less_than_the_grace_window_is_sent_once(at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    at("2026-11-24 08:00")
    await dispatcher.tick()
    at("2026-11-24 09:30")  # the scheduler was down from 08:00 to 09:30: missed by an hour
    await dispatcher.tick()
    at("2026-11-24 09:31")
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1


async def test_a_digest_missed_by_more_than_the_grace_window_is_skipped(at, dispatcher, slack, reachable):
    ana = await reachable("Ana")
    at("2026-11-24 08:00")
    await dispatcher.tick()
    for later in ("11:30", "11:31", "17:00"):  # down until 11:30: missed by three hours
        at(f"2026-11-24 {later}")
        await dispatcher.tick()
    assert slack.digests(ana) == []
    at("2026-11-25 08:30")
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1, "the next day's digest comes as usual"


async def test_the_grace_window_is_a_setting(core, at, dispatcher, slack, reachable):
    core.settings = core.settings.model_copy(update={"digest_grace_minutes": 30})
    ana = await reachable("Ana")
    at("2026-11-24 09:30")
    await dispatcher.tick()
    assert slack.digests(ana) == []


async def test_a_digest_missed_just_before_midnight_still_comes_within_the_grace_window(
    core, at, dispatcher, slack, reachable
):
    ana = await reachable("Ana")
    await core.execute(UpdateSettings(actor(ana), digest_time=datetime(1, 1, 1, 23, 30).time()))
    at("2026-11-25 00:15")  # Wednesday: Tuesday's 23:30 digest was missed by 45 minutes
    await dispatcher.tick()
    assert len(slack.digests(ana)) == 1


async def test_nothing_to_suggest_sends_nothing(at, dispatcher, slack, reachable):
    ana = await reachable("Ana", contacts=0)
    at("2026-11-24 08:30")
    assert (await dispatcher.tick())["empty"] == 1
    await dispatcher.tick()
    assert slack.to(ana) == []


async def test_every_linked_platform_gets_it_unless_the_user_chose_one(
    core, at, dispatcher, slack, telegram, reachable
):
    ana = await reachable("Ana", platforms=("slack", "telegram"))
    at("2026-11-24 08:30")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 1)
    chat = Conversation(core, "slack")
    assert "Telegram only" in (await chat.handle_text(ana, "settings platform telegram")).text
    assert "on Telegram only" in (await chat.handle_text(ana, "settings")).text
    at("2026-11-25 08:30")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (1, 2)
    await chat.handle_text(ana, "settings platform all")
    at("2026-11-26 08:30")
    await dispatcher.tick()
    assert (len(slack.digests(ana)), len(telegram.digests(ana))) == (2, 3)


async def test_a_user_with_no_chat_account_is_left_alone(at, dispatcher, slack, telegram, reachable):
    ana = await reachable("Ana", platforms=())
    at("2026-11-24 08:30")
    assert not await dispatcher.tick()
    assert slack.to(ana) == telegram.to(ana) == []


async def test_the_digest_rows_answer_log_and_buttons_on_that_platform(core, at, dispatcher, telegram, reachable):
    ana = await reachable("Ana", platforms=("telegram",), contacts=2)
    at("2026-11-24 08:30")
    await dispatcher.tick()
    digest = telegram.digests(ana)[0]
    chat = Conversation(core, "telegram")
    assert "✓ Email logged for Ana's contact 2" in (await chat.handle_text(ana, "log 2 email")).text
    first_row_linkedin = digest.sections[0].buttons[0]
    assert first_row_linkedin.label == "LinkedIn ✓"
    reply = await chat.handle_button(ana, first_row_linkedin.data)
    assert reply.text == "✓ LinkedIn logged for Ana's contact 1."

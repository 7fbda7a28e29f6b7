"""Nudges: a follow-up that falls due, or a snooze that ends, arrives once, in the user's working hours."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.conversation import Conversation
from core.command import ContactRef
from core.outreach.commands import CompleteFollowUp, SetFollowUp, Snooze
from tests.conftest import actor


def local(text: str, tz: str = "Europe/London") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


@pytest.fixture
async def ana(reachable):
    return await reachable("Ana", contacts=0)


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


async def remind(core, at, user, contact, due: str, note: str | None = None, tz: str = "Europe/London"):
    at("2026-11-24 06:00", tz)  # set early on Tuesday morning
    await core.execute(SetFollowUp(actor(user), ContactRef(id=contact.id), local(due, tz), note))


async def tick_at(at, dispatcher, *moments: str, tz: str = "Europe/London") -> None:
    for moment in moments:
        at(moment, tz)
        await dispatcher.tick()


async def test_a_follow_up_falling_due_in_working_hours_arrives_then_once(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-24 14:00", "send the deck")
    await tick_at(at, dispatcher, "2026-11-24 13:59")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-24 14:00", "2026-11-24 14:01", "2026-11-25 09:00")
    [nudge] = slack.nudges(ana)
    assert nudge.text == "⏰ Time to follow up with Bob Stone."
    [row] = nudge.sections
    assert row.text == "Bob Stone (Acme)\nfollow-up due: send the deck · never contacted"
    assert [b.label for b in row.buttons] == ["LinkedIn ✓", "Email ✓", "Call ✓"]
    assert row.buttons[0].data == f"log:{bob.id}:linkedin"
    assert "⏰ Remind in 3 days" in [b.label for b in row.menu]


async def test_a_follow_up_due_at_two_in_the_morning_arrives_at_the_start_of_the_day(
    core, at, dispatcher, slack, ana, bob
):
    await remind(core, at, ana, bob, "2026-11-25 02:00")
    await tick_at(at, dispatcher, "2026-11-25 02:00", "2026-11-25 06:00", "2026-11-25 08:29")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-25 08:30")
    assert [n.text for n in slack.nudges(ana)] == ["⏰ Time to follow up with Bob Stone."]


async def test_after_working_hours_it_waits_for_the_next_working_morning(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-27 19:00")  # Friday evening
    await tick_at(
        at,
        dispatcher,
        "2026-11-27 19:00",
        "2026-11-27 23:00",
        "2026-11-28 09:00",
        "2026-11-29 12:00",
        "2026-11-30 08:00",
    )
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-30 08:30")  # Monday
    assert len(slack.nudges(ana)) == 1


async def test_working_hours_end_at_the_configured_hour(core, at, dispatcher, slack, ana, bob):
    core.settings = core.settings.model_copy(update={"workday_end": datetime(1, 1, 1, 17, 0).time()})
    await remind(core, at, ana, bob, "2026-11-24 17:00")
    await tick_at(at, dispatcher, "2026-11-24 17:00")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-25 08:30")
    assert len(slack.nudges(ana)) == 1


async def test_working_hours_are_the_users_own(core, at, dispatcher, slack, reachable, make):
    bo = await reachable("Bo", tz="America/New_York", contacts=0)
    carl = await make.contact(bo, "Carl Diaz")
    await remind(core, at, bo, carl, "2026-11-24 07:00", tz="America/New_York")
    # 12:00 UTC is 07:00 in New York: due, but before Bo's day starts at 08:30 there.
    await tick_at(at, dispatcher, "2026-11-24 12:00", "2026-11-24 13:29", tz="UTC")
    assert slack.nudges(bo) == []
    await tick_at(at, dispatcher, "2026-11-24 13:30", tz="UTC")
    assert len(slack.nudges(bo)) == 1


async def test_a_snooze_that_ends_nudges_the_contact_back(core, at, dispatcher, slack, ana, bob):
    at("2026-11-24 10:00")
    await core.execute(Snooze(actor(ana), ContactRef(id=bob.id), local("2026-11-26 10:00")))
    await tick_at(at, dispatcher, "2026-11-25 10:00", "2026-11-26 09:59")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-26 10:00", "2026-11-26 11:00")
    [nudge] = slack.nudges(ana)
    assert nudge.text == "💤 Snooze over: Bob Stone is back."
    assert nudge.sections[0].text == "Bob Stone (Acme)\nsnooze ended · never contacted"


async def test_snoozing_a_nudged_follow_up_nudges_again_when_the_snooze_ends(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-24 10:00")
    await tick_at(at, dispatcher, "2026-11-24 10:00")
    chat = Conversation(core, "slack")
    snooze_button = next(
        b for b in (await chat.handle_button(ana, f"more:{bob.id}")).all_buttons() if b.label == "💤 Snooze 1 week"
    )
    assert "snoozed until Tue 1 Dec" in (await chat.handle_button(ana, snooze_button.data)).text
    await tick_at(at, dispatcher, "2026-11-25 10:00", "2026-11-30 17:00")
    assert len(slack.nudges(ana)) == 1
    await tick_at(at, dispatcher, "2026-12-01 10:00")
    assert [n.text for n in slack.nudges(ana)] == [
        "⏰ Time to follow up with Bob Stone.",
        "💤 Snooze over: Bob Stone is back.",
    ]


async def test_a_follow_up_done_before_it_falls_due_sends_nothing(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-24 14:00")
    at("2026-11-24 12:00")
    await core.execute(CompleteFollowUp(actor(ana), ContactRef(id=bob.id)))
    await tick_at(at, dispatcher, "2026-11-24 14:00", "2026-11-25 09:00")
    assert slack.nudges(ana) == []


async def test_a_paused_user_gets_nudges_when_back(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-25 11:00")
    at("2026-11-24 12:00")
    await Conversation(core, "slack").handle_text(ana, "settings pause until 2026-11-30")
    await tick_at(at, dispatcher, "2026-11-25 11:00", "2026-11-27 16:00")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-30 08:30")
    assert len(slack.nudges(ana)) == 1


async def test_the_nudge_buttons_act_on_its_contact(core, at, dispatcher, slack, ana, bob):
    await remind(core, at, ana, bob, "2026-11-24 14:00")
    await tick_at(at, dispatcher, "2026-11-24 14:00")
    [nudge] = slack.nudges(ana)
    call = nudge.sections[0].buttons[2]
    reply = await Conversation(core, "slack").handle_button(ana, call.data)
    assert reply.text == "✓ Call logged for Bob Stone."


async def test_the_digest_comes_before_the_nudges_of_the_same_morning(core, at, dispatcher, slack, make, ana, bob):
    await make.contact(ana, "Cara Diaz")
    await remind(core, at, ana, bob, "2026-11-25 02:00")
    await tick_at(at, dispatcher, "2026-11-25 08:30")
    texts = [reply.text for reply in slack.to(ana)]
    assert texts == ["☀️ Good morning Ana! Who to contact today:", "⏰ Time to follow up with Bob Stone."]
    assert slack.digests(ana)[0].sections[0].text.startswith("1. Bob Stone (Acme)\nfollow-up due")

"""Rules from outcomes nudge like follow-ups do: once, in the user's working hours, never for a removed contact."""

import pytest

from core.command import ContactRef
from core.contacts.commands import ArchiveContact
from core.feed.commands import TodaySuggestions
from core.outreach.commands import LogOutreach, RequestMeeting
from core.rules.commands import SetOutcomeRule
from tests.conftest import actor


@pytest.fixture
async def ana(reachable):
    return await reachable("Ana", contacts=0)


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


async def tick_at(at, dispatcher, *moments: str, tz: str = "Europe/London") -> None:
    for moment in moments:
        at(moment, tz)
        await dispatcher.tick()


@pytest.mark.parametrize("tz", ["Europe/London", "Pacific/Auckland", "America/New_York"])
async def test_a_meeting_requested_and_not_booked_is_nudged_once_after_3_days(
    core, at, dispatcher, slack, make, reachable, tz
):
    ana = await reachable("Ana", tz=tz, contacts=0)
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    at("2026-11-24 10:00", tz)  # Tuesday
    await core.execute(RequestMeeting(actor(ana), ContactRef(id=bob.id)))
    await tick_at(at, dispatcher, "2026-11-26 09:00", "2026-11-26 17:59", tz=tz)  # Thursday: 2 days
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-27 09:00", "2026-11-27 09:01", "2026-11-30 09:00", tz=tz)
    [nudge] = slack.nudges(ana)
    assert nudge.text == "👉 Time to nudge Bob Stone."
    [row] = nudge.sections
    assert row.text.startswith("Bob Stone (Acme)\nmeeting requested 3 days ago, not booked yet: nudge them · ")


async def test_no_reply_falling_due_on_sunday_waits_for_monday_and_says_what_to_try(
    core, at, dispatcher, slack, ana, bob
):
    at("2026-11-24 10:00")  # Tuesday: an email, no reply; 5 days on is Sunday
    await core.execute(LogOutreach(actor(ana), ContactRef(id=bob.id), "email"))
    await tick_at(at, dispatcher, "2026-11-28 12:00", "2026-11-29 12:00", "2026-11-30 08:29")
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-30 08:30", "2026-11-30 12:00")
    [nudge] = slack.nudges(ana)
    [row] = nudge.sections
    assert "no reply to your email in 6 days: try a call" in row.text
    assert row.buttons[0].label == "Call ✓"


async def test_a_booked_meeting_and_a_removed_contact_get_no_nudge(core, at, dispatcher, slack, ana, bob, make):
    carol = await make.contact(ana, "Carol")
    at("2026-11-24 10:00")
    for contact in (bob, carol):
        await core.execute(RequestMeeting(actor(ana), ContactRef(id=contact.id)))
    await core.execute(ArchiveContact(actor(ana), ContactRef(id=bob.id)))
    at("2026-11-27 08:00")
    await core.execute(LogOutreach(actor(ana), ContactRef(id=carol.id), "call", outcome="meeting_booked"))
    await tick_at(at, dispatcher, "2026-11-27 09:00", "2026-11-30 09:00")
    assert slack.nudges(ana) == []


async def test_another_users_contact_is_not_nudged_to_them(core, at, dispatcher, slack, ana, reachable, make):
    ben = await reachable("Ben", contacts=0)
    theirs = await make.contact(ben, "Theirs")
    at("2026-11-24 10:00")
    await core.execute(RequestMeeting(actor(ben), ContactRef(id=theirs.id)))
    await tick_at(at, dispatcher, "2026-11-27 09:00")
    assert slack.nudges(ana) == []
    assert [n.text for n in slack.nudges(ben)] == ["👉 Time to nudge Theirs."]


async def test_the_teams_days_decide_when_the_nudge_comes_and_a_change_never_repeats_it(
    core, at, dispatcher, slack, ana, bob
):
    at("2026-11-24 10:00")
    await core.execute(RequestMeeting(actor(ana), ContactRef(id=bob.id)))
    await core.execute(SetOutcomeRule(None, "meeting_not_booked_days", 1))
    await tick_at(at, dispatcher, "2026-11-25 09:00")  # Wednesday: 1 day
    [nudge] = slack.nudges(ana)
    assert "meeting requested yesterday, not booked yet: nudge them" in nudge.sections[0].text
    await core.execute(SetOutcomeRule(None, "meeting_not_booked_days", 2))
    await tick_at(at, dispatcher, "2026-11-26 09:00", "2026-11-27 09:00")
    assert len(slack.nudges(ana)) == 1


async def test_a_rule_that_fired_weeks_ago_stays_in_the_list_without_a_nudge(core, at, dispatcher, slack, ana, bob):
    at("2026-10-27 10:00")  # four weeks ago: an email with no reply, long before the rules were there
    await core.execute(LogOutreach(actor(ana), ContactRef(id=bob.id), "email"))
    await tick_at(at, dispatcher, "2026-11-24 09:00", "2026-11-25 09:00")
    assert slack.nudges(ana) == []
    [row] = (await core.execute(TodaySuggestions(actor(ana)))).items
    assert "no reply to your email in 29 days: try a call" in row.reasons


async def test_rules_are_looked_at_every_sweep_not_every_tick(core, at, dispatcher, slack, ana, bob):
    """Day-counted rules need no look every tick: one that starts to fire between two sweeps comes at the next."""
    at("2026-11-20 10:00")  # Friday: a meeting requested
    await core.execute(RequestMeeting(actor(ana), ContactRef(id=bob.id)))
    await tick_at(at, dispatcher, "2026-11-23 08:20")  # Monday, before her day starts (08:30): swept, no nudge
    await tick_at(at, dispatcher, "2026-11-23 08:30", "2026-11-23 08:34")  # at work now, but no sweep yet
    assert [d.text for d in slack.digests(ana)] == ["☀️ Good morning Ana! Who to contact today:"]
    assert slack.nudges(ana) == []
    await tick_at(at, dispatcher, "2026-11-23 08:35")  # 15 minutes on: the next sweep
    assert [n.text for n in slack.nudges(ana)] == ["👉 Time to nudge Bob Stone."]

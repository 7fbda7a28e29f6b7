"""Rules from outcomes in today's list, for every contact: a meeting requested but not booked, no reply (try the
next method), a warm contact untouched; each after N calendar days in the user's own timezone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.command import Actor, ContactRef
from core.contacts.commands import ArchiveContact
from core.feed.commands import TodaySuggestions
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting

ZONES = ("Pacific/Auckland", "America/Los_Angeles", "Europe/London")


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


async def reasons(core, user) -> dict[str, str]:
    return {s.contact.name: s.reason for s in (await core.execute(TodaySuggestions(Actor(user.id)))).items}


def local(clock, tz: str, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant at a local wall-clock time, `day` days after the clock's local date."""
    base = clock.now().astimezone(ZoneInfo(tz)).date() + timedelta(days=day)
    return datetime(base.year, base.month, base.day, hour, minute, tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize("tz", ZONES)
async def test_a_meeting_requested_and_not_booked_is_nudged_after_3_days_not_before(core, make, clock, tz):
    ana = await make.user("Ana", timezone=tz)
    bob = await make.contact(ana, "Bob")
    clock.set(local(clock, tz, 0, 23, 30))  # late in the evening: the next day is already “1 day”
    await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=bob.id)))
    clock.set(local(clock, tz, 2, 23, 59))
    assert "not booked" not in (await reasons(core, ana))["Bob"]
    clock.set(local(clock, tz, 1, 0, 1))
    assert (await reasons(core, ana))["Bob"].endswith("meeting requested 3 days ago, not booked yet: nudge them")


async def test_a_booked_meeting_or_a_no_silences_the_meeting_rule(core, make, ana, clock):
    bob, carol = await make.contact(ana, "Bob"), await make.contact(ana, "Carol")
    for contact in (bob, carol):
        await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=contact.id)))
    clock.advance(days=1)
    await core.execute(BookMeeting(Actor(ana.id), ContactRef(id=bob.id)))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=carol.id), "call", outcome="not_interested"))
    clock.advance(days=5)
    assert not any("not booked" in r for r in (await reasons(core, ana)).values())


@pytest.mark.parametrize("tz", ZONES)
async def test_no_reply_to_linkedin_after_5_days_says_try_an_email(core, make, clock, tz):
    ana = await make.user("Ana", timezone=tz)
    bob = await make.contact(ana, "Bob")
    clock.set(local(clock, tz, 0, 23, 30))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "linkedin"))
    clock.set(local(clock, tz, 4, 23, 59))
    assert (await reasons(core, ana))["Bob"] == "4 days since last touch"
    clock.set(local(clock, tz, 1, 0, 1))
    assert (await reasons(core, ana))["Bob"] == (
        "5 days since last touch · no reply to your LinkedIn message in 5 days: try an email"
    )


@pytest.mark.parametrize("tz", ZONES)
async def test_a_warm_contact_untouched_for_14_days_is_nudged(core, make, clock, tz):
    ana = await make.user("Ana", timezone=tz)
    bob = await make.contact(ana, "Bob", warmness=4)
    clock.set(local(clock, tz, 0, 23, 30))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "conference"))
    clock.set(local(clock, tz, 13, 23, 59))
    assert (await reasons(core, ana))["Bob"] == "13 days since last touch · warm"
    clock.set(local(clock, tz, 1, 0, 1))
    assert (await reasons(core, ana))["Bob"] == (
        "14 days since last touch · warm · warm and untouched for 14 days: nudge them"
    )


async def test_a_warm_contact_never_touched_counts_from_when_it_was_added(core, make, ana, clock):
    await make.contact(ana, "Bob", warmness=5)
    clock.advance(days=14)
    assert (await reasons(core, ana))["Bob"] == "never contacted · warm · warm and untouched for 14 days: nudge them"


async def test_no_rule_for_a_removed_contact_or_another_users_contact(core, make, ana, clock):
    ben = await make.user("Ben")
    gone = await make.contact(ana, "Gone")
    theirs = await make.contact(ben, "Theirs")
    await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=gone.id)))
    await core.execute(RequestMeeting(Actor(ben.id), ContactRef(id=theirs.id)))
    await core.execute(ArchiveContact(Actor(ana.id), ContactRef(id=gone.id)))
    clock.advance(days=10)
    assert await reasons(core, ana) == {}
    assert list(await reasons(core, ben)) == ["Theirs"]

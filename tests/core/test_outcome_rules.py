"""Rules from outcomes in today's list, for every contact: a meeting requested but not booked, no reply (try the
next method), a warm contact untouched; each after N calendar days in the user's own timezone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.command import Actor, ContactRef
from core.contacts.commands import ArchiveContact
from core.errors import InvalidInput, NotAllowed
from core.feed.commands import TodaySuggestions
from core.learning.commands import RefitMethodRates
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting
from core.rules.commands import SetOutcomeRule, ShowOutcomeRules
from tests.conftest import contact_in_sector, fintech_prefers_email

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


async def test_the_golden_ticket_team_changes_a_rule_for_everyone_and_puts_it_back(core, make, ana, clock):
    boss = await make.user("Boss", role="golden_ticket")
    await make.contact(ana, "Bob", warmness=4)
    clock.advance(days=7)
    assert "untouched" not in (await reasons(core, ana))["Bob"]
    shown = await core.execute(SetOutcomeRule(Actor(boss.id), "warm_untouched_days", 7))
    assert shown.message == "warm_untouched_days is now 7 days for the whole team."
    assert (await reasons(core, ana))["Bob"].endswith("warm and untouched for 7 days: nudge them")
    rule = {r.name: r for r in (await core.execute(ShowOutcomeRules(Actor(ana.id)))).rules}["warm_untouched_days"]
    assert (rule.days, rule.default, rule.team_set) == (7, 14, True)
    await core.execute(SetOutcomeRule(None, "warm_untouched_days", None))  # the command line, back to the default
    assert "untouched" not in (await reasons(core, ana))["Bob"]


async def test_a_consultant_cannot_change_the_rules_and_bad_input_changes_nothing(core, make, ana):
    boss = await make.user("Boss", role="golden_ticket")
    with pytest.raises(NotAllowed):
        await core.execute(SetOutcomeRule(Actor(ana.id), "no_reply_days", 2))
    with pytest.raises(InvalidInput, match="There is no rule 'no_reply'"):
        await core.execute(SetOutcomeRule(Actor(boss.id), "no_reply", 2))
    with pytest.raises(InvalidInput, match="between 1 and 365 days"):
        await core.execute(SetOutcomeRule(Actor(boss.id), "no_reply_days", 0))
    assert not any(r.team_set for r in (await core.execute(ShowOutcomeRules())).rules)


async def test_no_reply_tries_the_method_the_teams_history_says_works_next(core, make, ana, clock):
    """Retail contacts answer LinkedIn, not email: no reply to an email says LinkedIn, not the fixed call."""
    ben = await make.user("Ben")
    await fintech_prefers_email(core, clock, make, ben)
    rita = await contact_in_sector(core, make, ana, "Rita", sector="Retail")
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=rita.id), "email"))
    clock.advance(days=5)
    assert "no reply to your email in 5 days: try a call" in (await reasons(core, ana))["Rita"]
    await core.execute(RefitMethodRates())
    [row] = (await core.execute(TodaySuggestions(Actor(ana.id)))).items
    assert "no reply to your email in 5 days: try LinkedIn" in row.reasons
    assert row.method == "linkedin"

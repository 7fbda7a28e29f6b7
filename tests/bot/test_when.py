"""Reading WHEN expressions and stats periods: pure unit tests, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import parse
from bot.when import WhenError, parse_period, parse_time, parse_when, split_when
from core.command import Actor
from core.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)  # a Tuesday


def local(year, month, day, hour=9, minute=0, tz=LONDON) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


# --- parse_when ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", local(2026, 11, 24)),
        ("tomorrow", local(2026, 11, 25)),
        ("yesterday", local(2026, 11, 23)),
        ("3d", local(2026, 11, 27)),
        ("3 days", local(2026, 11, 27)),
        ("in 3 days", local(2026, 11, 27)),
        ("1 day", local(2026, 11, 25)),
        ("2w", local(2026, 12, 8)),
        ("2 weeks", local(2026, 12, 8)),
        ("in 2w", local(2026, 12, 8)),
        ("a week", local(2026, 12, 1)),
        ("in a month", local(2026, 12, 24)),
        ("1m", local(2026, 12, 24)),
        ("1 month", local(2026, 12, 24)),
        ("in 2 months", local(2027, 1, 24)),
        ("0d", local(2026, 11, 24)),
        ("monday", local(2026, 11, 30)),
        ("mon", local(2026, 11, 30)),
        ("next monday", local(2026, 11, 30)),
        ("on monday", local(2026, 11, 30)),
        ("wednesday", local(2026, 11, 25)),
        ("thurs", local(2026, 11, 26)),
        ("sun", local(2026, 11, 29)),
        ("2026-12-01", local(2026, 12, 1)),
        ("2026/12/01", local(2026, 12, 1)),
        ("2025-01-15", local(2025, 1, 15)),
        ("1 dec", local(2026, 12, 1)),
        ("dec 1", local(2026, 12, 1)),
        ("1st dec", local(2026, 12, 1)),
        ("dec 1st, 2027", local(2027, 12, 1)),
        ("1 december 2026", local(2026, 12, 1)),
        ("24 nov", local(2026, 11, 24)),
        ("sept 3", local(2027, 9, 3)),
        ("1 jan", local(2027, 1, 1)),
    ],
)
def test_days_default_to_nine_in_the_morning(text, expected):
    assert parse_when(text, NOW) == expected
    assert parse_when(text, NOW).tzinfo is LONDON


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tomorrow 14:30", local(2026, 11, 25, 14, 30)),
        ("tomorrow 9:00", local(2026, 11, 25, 9, 0)),
        ("tomorrow 9am", local(2026, 11, 25, 9, 0)),
        ("tomorrow 9 am", local(2026, 11, 25, 9, 0)),
        ("tomorrow 2pm", local(2026, 11, 25, 14, 0)),
        ("tomorrow 2:45pm", local(2026, 11, 25, 14, 45)),
        ("tomorrow 12am", local(2026, 11, 25, 0, 0)),
        ("tomorrow 12pm", local(2026, 11, 25, 12, 0)),
        ("tomorrow 14h", local(2026, 11, 25, 14, 0)),
        ("tomorrow 14h30", local(2026, 11, 25, 14, 30)),
        ("tomorrow at 14:30", local(2026, 11, 25, 14, 30)),
        ("tomorrow noon", local(2026, 11, 25, 12, 0)),
        ("9am tomorrow", local(2026, 11, 25, 9, 0)),
        ("next monday 14:30", local(2026, 11, 30, 14, 30)),
        ("in 3 days 8am", local(2026, 11, 27, 8, 0)),
        ("2026-12-01 14:30", local(2026, 12, 1, 14, 30)),
        ("1 dec 2026 17:00", local(2026, 12, 1, 17, 0)),
    ],
)
def test_a_time_may_follow(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["TOMORROW 2PM", "Next Monday", "In 3 Days", "1 DEC", "  tomorrow   14:30  "])
def test_case_and_spaces_do_not_matter(text):
    assert parse_when(text, NOW) == parse_when(" ".join(text.lower().split()), NOW)


def test_default_time_can_be_changed():
    assert parse_when("tomorrow", NOW, default_time=time(8, 30)) == local(2026, 11, 25, 8, 30)
    assert parse_when("tomorrow 17:00", NOW, default_time=time(8, 30)) == local(2026, 11, 25, 17, 0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14:30", local(2026, 11, 24, 14, 30)),  # later today
        ("at 2pm", local(2026, 11, 24, 14, 0)),
        ("10:01", local(2026, 11, 24, 10, 1)),
        ("10:00", local(2026, 11, 25, 10, 0)),  # exactly now is not the future: tomorrow
        ("9:00", local(2026, 11, 25, 9, 0)),  # already past: tomorrow
        ("9am", local(2026, 11, 25, 9, 0)),
    ],
)
def test_a_bare_time_is_the_next_time_the_clock_shows_it(text, expected):
    assert parse_when(text, NOW) == expected


# --- weekdays, months and years rolling over ---------------------------------------------------------------


@pytest.mark.parametrize(
    "today, text, expected_day",
    [
        (datetime(2026, 11, 24), "tue", datetime(2026, 12, 1)),  # a weekday is strictly after today
        (datetime(2026, 11, 24), "next tuesday", datetime(2026, 12, 1)),
        (datetime(2026, 11, 24), "mon", datetime(2026, 11, 30)),
        (datetime(2026, 11, 29), "monday", datetime(2026, 11, 30)),  # Sunday to Monday
        (datetime(2026, 11, 29), "sunday", datetime(2026, 12, 6)),
        (datetime(2026, 12, 31), "fri", datetime(2027, 1, 1)),
    ],
)
def test_weekdays_roll_over(today, text, expected_day):
    now = today.replace(hour=10, tzinfo=LONDON)
    assert parse_when(text, now) == expected_day.replace(hour=9, tzinfo=LONDON)


@pytest.mark.parametrize(
    "today, text, expected_day",
    [
        (datetime(2026, 1, 31), "1m", datetime(2026, 2, 28)),  # a calendar month, clamped to the month's end
        (datetime(2028, 1, 31), "1m", datetime(2028, 2, 29)),  # leap year
        (datetime(2026, 3, 31), "1 month", datetime(2026, 4, 30)),
        (datetime(2026, 12, 31), "tomorrow", datetime(2027, 1, 1)),
        (datetime(2026, 12, 31), "2m", datetime(2027, 2, 28)),
        (datetime(2026, 2, 28), "1d", datetime(2026, 3, 1)),
        (datetime(2026, 12, 2), "1 dec", datetime(2027, 12, 1)),  # a day already gone this year is next year's
    ],
)
def test_months_and_years_roll_over(today, text, expected_day):
    now = today.replace(hour=10, tzinfo=LONDON)
    assert parse_when(text, now) == expected_day.replace(hour=9, tzinfo=LONDON)


# --- DST ---------------------------------------------------------------------------------------------------


def test_tomorrow_across_spring_forward_keeps_the_wall_clock():
    now = local(2026, 3, 28, 10, 0)  # GMT; clocks go forward overnight
    when = parse_when("tomorrow 09:00", now)
    assert when == local(2026, 3, 29, 9, 0)
    assert when.astimezone(UTC) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert when.utcoffset() == timedelta(hours=1)


def test_tomorrow_across_fall_back_keeps_the_wall_clock():
    now = local(2026, 10, 24, 10, 0)  # BST; clocks go back overnight
    when = parse_when("tomorrow 09:00", now)
    assert when.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert when.utcoffset() == timedelta(0)


def test_weeks_across_dst_keep_the_wall_clock():
    now = local(2026, 3, 20, 10, 0)
    assert parse_when("1w 9:00", now).astimezone(UTC) == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    assert parse_when("2w 9:00", now).astimezone(UTC) == datetime(2026, 4, 3, 8, 0, tzinfo=UTC)


def test_a_time_in_the_spring_forward_gap_becomes_the_real_time_after_it():
    when = parse_when("tomorrow 1:30", local(2026, 3, 28, 10, 0))  # 01:30 does not exist on 29 March
    assert when.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (when.hour, when.minute) == (2, 30)


def test_other_zones_and_fixed_offsets():
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 7, 10, 0, tzinfo=new_york)  # the US springs forward on 8 March 2026
    assert parse_when("tomorrow 9:00", now).astimezone(UTC) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    fixed = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_when("tomorrow", fixed) == datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=2)))


# --- errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "later",
        "31 feb",
        "25:00",
        "tomorrow 25:00",
        "13pm",
        "0am",
        "mon tue",
        "in",
        "3",
        "in 3",
        "am",
        "last monday",
        "tomorrow tomorrow",
        "3 years",
        "1000d",
        "x" * 10_000,
        "🔥",
        "!!!",
        "<b>_*[x](y)",
        "next",
        "on",
    ],
)
def test_unreadable_when_raises_a_friendly_when_error(text):
    with pytest.raises(WhenError) as caught:
        parse_when(text, NOW)
    assert isinstance(caught.value, InvalidInput)
    message = str(caught.value)
    assert "tomorrow" in message and "14:30" in message  # lists the forms it accepts
    assert len(message) < 300


@pytest.mark.parametrize(
    "text, expected",
    [
        ("28/02", local(2027, 2, 28)),
        ("1/12", local(2026, 12, 1)),
        ("25/11", local(2026, 11, 25)),
        ("5/1/2027 14:30", local(2027, 1, 5, 14, 30)),
        ("29/02", local(2028, 2, 29)),  # the next leap day
        ("2028-02-29", local(2028, 2, 29)),
    ],
)
def test_day_slash_month_is_read_day_first(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["31/02", "30/02", "2027-02-29", "2026-02-30", "31/04/2027", "13/13", "0000-01-01"])
def test_a_day_the_calendar_lacks_is_not_a_date(text):
    with pytest.raises(WhenError) as caught:
        parse_when(text, NOW)
    assert str(caught.value) == f"{text} is not a date."
    with pytest.raises(WhenError) as caught:
        parse_period(f"since {text}", NOW)
    assert str(caught.value) == f"{text} is not a date."


@pytest.mark.parametrize("text", ["remind john 31/02", "remind john 30/02 call him", "remind 3 2027-02-29 9am"])
def test_remind_on_a_day_the_calendar_lacks_says_so(text):
    with pytest.raises(InvalidInput) as caught:
        parse(text, Actor(1), NOW)
    assert " is not a date." in str(caught.value)
    assert "Who, and when?" not in str(caught.value)


@pytest.mark.parametrize("hours, text", [(14, "0001-01-01 01:00"), (-12, "9999-12-31 23:00")])
def test_dates_at_the_ends_of_the_calendar_do_not_overflow(hours, text):
    now = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=hours)))
    with pytest.raises(WhenError):
        parse_when(text, now)


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_when("tomorrow", datetime(2026, 11, 24, 10, 0))


# --- parse_time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14:30", time(14, 30)),
        ("09:15", time(9, 15)),
        ("9:00", time(9, 0)),
        ("0:00", time(0, 0)),
        ("9am", time(9, 0)),
        ("9 AM", time(9, 0)),
        ("2pm", time(14, 0)),
        ("12:30am", time(0, 30)),
        ("14h", time(14, 0)),
        ("14h30", time(14, 30)),
        ("noon", time(12, 0)),
        ("24:00", None),
        ("9:60", None),
        ("13pm", None),
        ("9", None),
        ("nine", None),
        ("", None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


# --- split_when -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tokens, expected",
    [
        (["next", "monday", "14:30", "call", "him"], (local(2026, 11, 30, 14, 30), 3)),
        (["in", "3", "days", "send", "deck"], (local(2026, 11, 27), 3)),
        (["2026-12-01", "14:30"], (local(2026, 12, 1, 14, 30), 2)),
        (["tomorrow", "at", "9am", "x"], (local(2026, 11, 25, 9, 0), 3)),
        (["tomorrow", "call", "back"], (local(2026, 11, 25), 1)),
        (["1", "dec", "2026", "17:00", "drinks"], (local(2026, 12, 1, 17, 0), 4)),
        (["2w"], (local(2026, 12, 8), 1)),
        (["Tomorrow", "2PM"], (local(2026, 11, 25, 14, 0), 2)),
    ],
)
def test_split_when_takes_the_longest_when_at_the_start(tokens, expected):
    assert split_when(tokens, NOW) == expected


@pytest.mark.parametrize("tokens", [[], ["ana"], ["call", "tomorrow"], ["3"], ["x" * 10_000]])
def test_split_when_finds_nothing(tokens):
    assert split_when(tokens, NOW) is None


def test_split_when_uses_default_time():
    assert split_when(["tomorrow"], NOW, default_time=time(7, 0)) == (local(2026, 11, 25, 7, 0), 1)


# --- parse_period -----------------------------------------------------------------------------------------


def midnight(year, month, day) -> datetime:
    return local(year, month, day, 0, 0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("this week", (midnight(2026, 11, 23), None, "this week (from Mon 23 Nov 2026)")),
        ("last week", (midnight(2026, 11, 16), midnight(2026, 11, 23), "last week (from Mon 16 Nov 2026)")),
        ("this month", (midnight(2026, 11, 1), None, "this month (November 2026)")),
        ("This Month", (midnight(2026, 11, 1), None, "this month (November 2026)")),
        ("last month", (midnight(2026, 10, 1), midnight(2026, 11, 1), "last month (October 2026)")),
        ("this year", (midnight(2026, 1, 1), None, "this year (2026)")),
        ("last year", (midnight(2025, 1, 1), midnight(2026, 1, 1), "last year (2025)")),
        ("last 30d", (midnight(2026, 10, 25), None, "last 30 days (since 25 Oct 2026)")),
        ("last 30 days", (midnight(2026, 10, 25), None, "last 30 days (since 25 Oct 2026)")),
        ("last 7d", (midnight(2026, 11, 17), None, "last 7 days (since 17 Nov 2026)")),
        ("last 1 day", (midnight(2026, 11, 23), None, "last 1 day (since 23 Nov 2026)")),
        ("last 3 months", (midnight(2026, 8, 24), None, "last 3 months (since 24 Aug 2026)")),
        ("2026-11-01", (midnight(2026, 11, 1), None, "since 1 Nov 2026")),
        ("since 2026-11-01", (midnight(2026, 11, 1), None, "since 1 Nov 2026")),
        ("since 1 nov", (midnight(2026, 11, 1), None, "since 1 Nov 2026")),
        ("1 dec", (midnight(2025, 12, 1), None, "since 1 Dec 2025")),  # looking back: last December
        ("since monday", (midnight(2026, 11, 23), None, "since 23 Nov 2026")),
        ("since tuesday", (midnight(2026, 11, 24), None, "since 24 Nov 2026")),  # today is Tuesday
        ("since last friday", (midnight(2026, 11, 20), None, "since 20 Nov 2026")),
        ("since yesterday", (midnight(2026, 11, 23), None, "since 23 Nov 2026")),
        ("today", (midnight(2026, 11, 24), None, "since 24 Nov 2026")),
        ("all", (None, None, "all time")),
        ("all time", (None, None, "all time")),
    ],
)
def test_parse_period(text, expected):
    assert parse_period(text, NOW) == expected


def test_last_month_from_january_is_december():
    since, until, label = parse_period("last month", local(2027, 1, 15, 10, 0))
    assert (since, until, label) == (midnight(2026, 12, 1), midnight(2027, 1, 1), "last month (December 2026)")


def test_period_bounds_are_local_midnights_across_dst():
    since, until, _ = parse_period("last month", local(2026, 11, 3, 10, 0))
    assert since.astimezone(UTC) == datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # BST
    assert until.astimezone(UTC) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # GMT


@pytest.mark.parametrize(
    "text", ["", "forever", "this", "last", "since", "next month", "last 30 parsecs", "x" * 10_000, "🔥"]
)
def test_unreadable_period_raises_when_error(text):
    with pytest.raises(WhenError) as caught:
        parse_period(text, NOW)
    assert "this month" in str(caught.value)

"""Dates, times and periods the way people type them in chat: `tomorrow 14:30`, `in 2w`, `next mon`, `1 dec`.

Day arithmetic is done on calendar dates and the wall-clock time is attached last, in the user's own zone, so
`tomorrow 09:00` is 09:00 local even across a DST change (adding 24 hours to an aware datetime would not be).
"""

from __future__ import annotations

import re
from calendar import isleap
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

from core.echo import shorten
from core.errors import InvalidInput

WHEN_FORMS = (
    "today, tomorrow, 3d, in 2 weeks, 1m, monday, next fri, 2026-12-01, 1/12 or 1 dec, "
    "optionally followed by a time like 14:30, 9am or 14h"
)
PERIOD_FORMS = "this week, this month, last month, last 30d, since 2026-11-01 or all time"

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Weekday words people type, to Python's weekday() (0 = Monday).
WEEKDAYS = {key: n for n, name in enumerate(DAY_NAMES) for key in (name, name[:3])}
WEEKDAYS.update(tues=1, weds=2, thur=3, thurs=3)

_DAY_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_UNITS = {
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "m": "months",
    "mo": "months",
    "mos": "months",
    "month": "months",
    "months": "months",
}
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
# "in 3 days", "3d", "a week": the article needs its space, or "am" would read as "a m" (one month).
_RELATIVE = re.compile(rf"(?:in )?(?:(\d{{1,3}}) ?|an? )({_UNIT})")
_WEEKDAY = re.compile(r"(?:(next|this|last) )?([a-z]+)")
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_DAY_SLASH_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?(?: (\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,?(?: (\d{4}))?")
_CLOCK_24 = re.compile(r"(\d{1,2})(?::|h)(\d{2})|(\d{1,2})h")
_CLOCK_12 = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)")
_SPACED_AMPM = re.compile(r"(\d)\s+(am|pm)\b")
_LAST_N = re.compile(rf"(?:last|past) (\d{{1,4}}) ?({_UNIT})")
_THIS_LAST = re.compile(r"(this|last) (week|month|year)")


class WhenError(InvalidInput):
    """That is not a date or time I can read."""


def parse_time(text: str) -> time | None:
    """A time of day: `14:30`, `9:00`, `9am`, `2:15 pm`, `14h`, `14h30`, `noon`; None if it isn't one."""
    text = _SPACED_AMPM.sub(r"\1\2", text.strip().lower())
    if text == "noon":
        return time(12, 0)
    if m := _CLOCK_12.fullmatch(text):
        hour, minute = int(m[1]), int(m[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if m[3] == "pm" else 0), minute)
    if m := _CLOCK_24.fullmatch(text):
        hour, minute = int(m[1] or m[3]), int(m[2] or 0)
        return time(hour, minute) if hour <= 23 and minute <= 59 else None
    return None


def parse_when(text: str, now: datetime, *, default_time: time = time(9, 0)) -> datetime:
    """The moment `text` names, as an aware datetime in `now`'s zone; raises WhenError if it names none."""
    when = _when(_words(text), now, default_time)
    if when is None:
        raise WhenError(f"I can't read “{_shorten(text)}” as a date. Try {WHEN_FORMS}.")
    return when


def split_when(
    tokens: list[str], now: datetime, *, default_time: time = time(9, 0), max_tokens: int = 4
) -> tuple[datetime, int] | None:
    """Read a WHEN at the start of `tokens`: the moment and how many tokens it took, or None.

    The longest reading wins, so `next monday 14:30 call` takes three tokens, not one.
    """
    for n in range(min(max_tokens, len(tokens)), 0, -1):
        when = _when(_words(" ".join(tokens[:n])), now, default_time)
        if when is not None:
            return when, n
    return None


def parse_period(text: str, now: datetime) -> tuple[datetime | None, datetime | None, str]:
    """A stats period as (since, until, label); either bound may be None (open). Raises WhenError.

    A lone date (`2026-11-01`, `since 1 nov`, `since monday`) means from that day's start until now, looking
    back: `1 nov` is the last 1 November that has begun and `monday` the latest Monday, today included.
    """
    phrase = " ".join(_words(text))
    today, tz = now.date(), _zone(now)
    if phrase in ("all", "all time", "ever"):
        return None, None, "all time"
    if m := _THIS_LAST.fullmatch(phrase):
        return _calendar_period(m[1], m[2], today, tz)
    if m := _LAST_N.fullmatch(phrase):
        n, unit = int(m[1]), _UNITS[m[2]]
        start, label = _shift(today, -n, unit), f"last {n} {unit if n != 1 else unit[:-1]}"
    else:
        start, label = _day(_words(phrase.removeprefix("since ")), today, future=False), None
    since = _midnight(start, tz) if start is not None else None
    if since is not None:
        return since, None, f"{label} (since {_day_label(start)})" if label else f"since {_day_label(start)}"
    raise WhenError(f"I can't read “{_shorten(text)}” as a period. Try {PERIOD_FORMS}.")


# --- reading ---------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    # "9 am" is one time to a reader, so glue it before splitting into words.
    return _SPACED_AMPM.sub(r"\1\2", (text or "").lower()).split()


def _when(words: list[str], now: datetime, default_time: time) -> datetime | None:
    if not words:
        return None
    tz = _zone(now)
    day_words, at = _split_time(words)
    if not day_words:
        if at is None:
            return None
        # A bare time is the next time the clock shows it.
        when = _local(now.date(), at, tz)
        if when is not None and when <= now:
            when = _local(now.date() + timedelta(days=1), at, tz)
        return when
    day = _day(day_words, now.date(), future=True)
    return None if day is None else _local(day, at or default_time, tz)


def _split_time(words: list[str]) -> tuple[list[str], time | None]:
    """Take a time off the end (`tomorrow at 9am`) or, failing that, the start (`9am tomorrow`) of the words."""
    words = [word for word in words if word != "at"]  # no date form uses "at", so it is only ever filler
    if words and (at := parse_time(words[-1])) is not None:
        return words[:-1], at
    if len(words) > 1 and (at := parse_time(words[0])) is not None:
        return words[1:], at
    return words, None


def _day(words: list[str], today: date, *, future: bool) -> date | None:
    """The calendar day the words name, looking forward from today (or back, when not `future`)."""
    text = " ".join(words).removeprefix("on ")
    if text in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[text])
    for read in (_relative_day, _weekday, _iso_day, _day_slash_month, _named_day):
        try:
            day = read(text, today, future)
        except (ValueError, OverflowError):  # a 29 February with no year given, or a year past 9999
            return None
        if day is not None:
            return day
    return None


def _relative_day(text: str, today: date, future: bool) -> date | None:
    if not (m := _RELATIVE.fullmatch(text)):
        return None
    n = int(m[1]) if m[1] else 1
    return _shift(today, n if future else -n, _UNITS[m[2]])


def _weekday(text: str, today: date, future: bool) -> date | None:
    m = _WEEKDAY.fullmatch(text)
    if not m or m[2] not in WEEKDAYS or m[1] == ("last" if future else "next"):
        return None
    target = WEEKDAYS[m[2]]
    if future:  # strictly after today: on a Tuesday, "tuesday" is a week away
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
    return today - timedelta(days=(today.weekday() - target) % 7)


def _iso_day(text: str, today: date, future: bool) -> date | None:
    m = _ISO.fullmatch(text)
    return _calendar_date(text, int(m[1]), int(m[2]), int(m[3])) if m else None


def _day_slash_month(text: str, today: date, future: bool) -> date | None:
    """`31/12` or `31/12/2026`, day first; without a year, the next such day (or the last, looking back)."""
    if not (m := _DAY_SLASH_MONTH.fullmatch(text)):
        return None
    day, month = int(m[1]), int(m[2])
    if m[3]:
        return _calendar_date(text, int(m[3]), month, day)
    if day == 29 and month == 2:  # a leap day: the next (or last) year that has one
        year = today.year
        while not isleap(year) or (date(year, 2, 29) < today if future else date(year, 2, 29) > today):
            year += 1 if future else -1
        return date(year, 2, 29)
    candidate = _calendar_date(text, 2000, month, day)  # a leap year: any day of any month
    return _named_day(f"{candidate.day} {MONTHS[candidate.month - 1]}", today, future)


def _calendar_date(text: str, year: int, month: int, day: int) -> date:
    """The day typed as `text`, or a WhenError saying it doesn't exist (a 31 February)."""
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"{_shorten(text)} is not a date.") from None


def _named_day(text: str, today: date, future: bool) -> date | None:
    """`1 dec`, `dec 1st`, `1 december 2026`; without a year, the next such day (or the last, looking back)."""
    if m := _DAY_MONTH.fullmatch(text):
        day, month, year = m[1], m[2], m[3]
    elif m := _MONTH_DAY.fullmatch(text):
        month, day, year = m[1], m[2], m[3]
    else:
        return None
    month_number = _month(month)
    if month_number is None:
        return None
    if year:
        return date(int(year), month_number, int(day))
    candidate = date(today.year, month_number, int(day))
    if future and candidate < today:
        return date(today.year + 1, month_number, int(day))
    if not future and candidate > today:
        return date(today.year - 1, month_number, int(day))
    return candidate


def _month(word: str) -> int | None:
    """1-12 for a month name or any abbreviation of at least three letters (`sep`, `sept`, `september`)."""
    if len(word) < 3:
        return None
    return next((n for n, name in enumerate(MONTHS, 1) if name.startswith(word)), None)


# --- building --------------------------------------------------------------------------------------------


def _calendar_period(which: str, unit: str, today: date, tz: tzinfo) -> tuple[datetime, datetime | None, str]:
    if unit == "week":
        start = today - timedelta(days=today.weekday())
    elif unit == "month":
        start = today.replace(day=1)
    else:
        start = today.replace(month=1, day=1)
    if which == "this":
        return _midnight(start, tz), None, f"this {unit} ({_period_label(unit, start)})"
    previous = start - relativedelta(**{f"{unit}s": 1})
    return _midnight(previous, tz), _midnight(start, tz), f"last {unit} ({_period_label(unit, previous)})"


def _period_label(unit: str, start: date) -> str:
    if unit == "week":
        return f"from Mon {_day_label(start)}"
    if unit == "month":
        return f"{MONTHS[start.month - 1].title()} {start.year}"
    return str(start.year)


def _day_label(day: date) -> str:
    # Spelled out by hand rather than strftime("%b"), which follows the server's locale.
    return f"{day.day} {MONTHS[day.month - 1][:3].title()} {day.year}"


def _shift(day: date, n: int, unit: str) -> date | None:
    """`day` moved by n calendar units; months clamp to the month's end (31 Jan + 1 month = 28 Feb)."""
    try:
        return day + relativedelta(**{unit: n})
    except (ValueError, OverflowError):
        return None


def _local(day: date, at: time, tz: tzinfo) -> datetime | None:
    """`day` at wall-clock `at` in `tz`.

    A wall time inside a DST gap (01:30 on the spring-forward night) does not exist; the round trip through
    UTC turns it into the real time an hour later instead of keeping an impossible one.
    """
    try:
        return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)
    except (ValueError, OverflowError):  # year 1 or 9999 pushed out of range by the zone's offset
        return None


def _midnight(day: date, tz: tzinfo) -> datetime | None:
    return _local(day, time(0, 0), tz)


def _zone(now: datetime) -> tzinfo:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware datetime in the user's timezone")
    return now.tzinfo


def _shorten(text: str, limit: int = 60) -> str:
    return shorten(" ".join((text or "").split()), limit)

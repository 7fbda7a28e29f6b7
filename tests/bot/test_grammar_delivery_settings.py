"""The settings that govern digests and nudges: pause until the day back, resume, choose a platform."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import USAGE, GrammarError, help_text, parse
from core.command import Actor
from core.deliveries.commands import ChooseDigestPlatform, PauseDigests, ResumeDigests

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))  # a Tuesday
ME = Actor(7, "telegram")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("settings pause until 2027-01-04", PauseDigests(ME, date(2027, 1, 4))),
        ("settings pause until monday", PauseDigests(ME, date(2026, 11, 30))),
        ("settings pause 2w", PauseDigests(ME, date(2026, 12, 8))),
        ("settings pause until 4 jan", PauseDigests(ME, date(2027, 1, 4))),
        ("/settings PAUSE Until Friday", PauseDigests(ME, date(2026, 11, 27))),
        ("settings resume", ResumeDigests(ME)),
        ("settings unpause", ResumeDigests(ME)),
        ("settings platform slack", ChooseDigestPlatform(ME, "slack")),
        ("settings platform Telegram", ChooseDigestPlatform(ME, "telegram")),
        ("settings platform all", ChooseDigestPlatform(ME, None)),
        ("settings platform both", ChooseDigestPlatform(ME, None)),
    ],
)
def test_delivery_settings(text, expected):
    assert parse(text, ME, NOW) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("settings pause", "Pause until when?"),
        ("settings pause until", "Pause until when?"),
        ("settings pause until someday", "I can't read “someday” as a date"),
        ("settings resume now please", "`settings resume` takes nothing after it."),
        ("settings platform", "settings platform slack"),
        ("settings platform carrier pigeon", "settings platform slack"),
        ("settings colour blue", "Or `pause until DATE`, `resume`, `platform slack|telegram|all`."),
    ],
)
def test_delivery_settings_errors(text, problem):
    with pytest.raises(GrammarError) as caught:
        parse(text, ME, NOW)
    assert problem in str(caught.value)
    assert USAGE["settings"] in str(caught.value)


def test_settings_help_teaches_pause_resume_and_platform():
    text = help_text("settings")
    assert "pause until DATE | resume | platform slack|telegram|all" in text
    assert "settings pause until 2027-01-04" in text

"""What the learned method rates look like in chat: the row's reason and first button on every platform, the
`stats methods` table within each platform's limits, and `pipedriven learn` / `pipedriven stats methods`."""

from datetime import UTC, datetime

import pytest

from bot import render as neutral
from bot.console import ConsoleChat
from bot.slack import render as slack
from bot.telegram import render as telegram
from core.command import Actor
from core.feed.commands import TodaySuggestions
from core.learning.commands import MethodFitView, MethodRateRow, MethodRatesTable, RefitMethodRates
from fakes.telegram import parse_html
from tests.conftest import contact_in_sector, fintech_prefers_email

FINN_REASON = "Email led to a meeting 1.6× more often than LinkedIn for Fintech contacts"


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def learned(core, clock, make, ana):
    """Bob's history says Fintech answers email; Ana has a Fintech contact, Finn, and the rates are fitted."""
    bob = await make.user("Bob")
    await fintech_prefers_email(core, clock, make, bob)
    finn = await contact_in_sector(core, make, ana, "Finn", sector="Fintech")
    await core.execute(RefitMethodRates())
    return finn


async def test_todays_row_says_why_and_leads_with_the_likeliest_method(core, ana, learned):
    chat = ConsoleChat(core, ana)
    out = await chat.send("today")
    assert f"1. Finn\n   never contacted · {FINN_REASON}" in out
    assert "[1a] Email ✓  [1b] LinkedIn ✓  [1c] Call ✓" in out
    assert "Bob" not in out and "Fintech email" not in out  # Bob's contacts taught the rates; none is shown
    assert "✓ Email logged for Finn" in await chat.send("1a")


async def test_slack_and_telegram_rows_lead_with_the_likeliest_method(core, ana, learned):
    suggestions = await core.execute(TodaySuggestions(Actor(ana.id)))
    reply = neutral.suggestions(suggestions)
    blocks = slack.message(reply).blocks
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"] if e["type"] == "button"] == [
        "Email ✓",
        "LinkedIn ✓",
        "Call ✓",
    ]
    assert any(FINN_REASON in b["text"]["text"] for b in blocks if b["type"] == "section")
    page = telegram.message(reply)
    assert [b.callback_data for b in page.keyboard.inline_keyboard[0]][:3] == [
        f"log:{learned.id}:email",
        f"log:{learned.id}:linkedin",
        f"log:{learned.id}:call",
    ]
    assert FINN_REASON in parse_html(page.html)[0]


async def test_stats_methods_in_chat(core, ana, learned):
    chat = ConsoleChat(core, ana)
    out = await chat.send("stats methods")
    assert "Method rates — the chance an outreach leads to a meeting (requested or booked within 14 days)" in out
    assert "from 24 outreach (10 meetings, 24 contacts, 1 user)" in out
    lines = [line.strip() for line in out.splitlines()]
    header = next(i for i, line in enumerate(lines) if line.startswith("Segment"))
    assert lines[header].split() == ["Segment", "Method", "Outreach", "Meetings", "Rate", "90%", "interval"]
    assert lines[header + 1].split()[:4] == ["all", "Email", "12", "5"]
    sector = await chat.send("stats methods sector")
    assert "sector Fintech  Email" in sector and "sector Retail" in sector
    assert "Method rates are by sector, country, campaign, warmness or step." in await chat.send("stats methods color")


async def test_stats_methods_before_anything_is_learned(core, ana):
    out = await ConsoleChat(core, ana).send("stats methods")
    assert "Nothing learned yet: the method rates are fitted every night (or by `pipedriven learn`)." in out


def test_the_largest_table_fits_a_slack_and_a_telegram_message():
    night = datetime(2026, 12, 6, 2, tzinfo=UTC)
    fit = MethodFitView(1, night, "nightly", 14, None, night, 123_456, 7_890, 45_678, 120, 0.064, 900)
    rows = tuple(
        MethodRateRow(f"sector {'Very long sector name ' * 3}{n}", "campaign_email", 99_999, 9_999, 0.1, 0.05, 0.15)
        for n in range(24)
    )
    reply = neutral.result(MethodRatesTable(fit, "sector", rows, hidden=300), None)
    message = slack.message(reply)
    assert len(message.blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if b.get("text"))
    pages = telegram.message(reply)
    text, _ = parse_html(pages.html)
    assert len(text) <= 4096 and "… and 300 more rows" in text


async def test_learn_and_stats_methods_on_the_command_line(core, wall_clock, make, cli):
    bob = await make.user("Bob")
    assert "Nothing learned yet" in cli("stats", "methods").stdout
    await fintech_prefers_email(core, wall_clock, make, bob)
    learned = cli("learn")
    assert learned.returncode == 0, learned.stderr
    assert learned.stdout.strip() == (
        "Method rates learned from 24 outreach and 10 meetings (24 contacts, 1 user): 10 rates stored; "
        "the team's rate 42.0%."
    )
    table = cli("stats", "methods", "sector").stdout
    assert "sector Fintech  Email                  6         5    51%" in table
    bad = cli("stats", "methods", "colour")
    assert bad.returncode != 0
    assert bad.stderr.startswith("pipedriven: Method rates are by sector, country, campaign, warmness or step.\n")

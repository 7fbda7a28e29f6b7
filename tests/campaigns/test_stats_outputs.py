"""Stats through the chat with their chart, the CSV export, and the import report as a chat reply.

The world, counted by hand (clock: Tue 24 Nov 2026 09:00 UTC; this week starts Mon 23 Nov):

    Tue 3 Nov   Ana  email a1 (Fintech)                    Ben  call b1
    Mon 23 Nov  Ana  linkedin a1 (Fintech), meeting requested a1
                Ben  email b1, meeting booked b1 (under email)
    Tue 24 Nov  Ana  linkedin a2, note a2 (never counted)

    all time   by method: linkedin 2/1/0, email 2/0/1, call 1/0/0 · total 5/1/1
    this week  by method: linkedin 2/1/0, email 1/0/1            · total 3/1/1
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib.image
import pytest
from csvfiles import csv_bytes
from PIL import Image

from bot.charts import MAX_GROUPS, bar_labels, funnel_chart
from bot.console import ConsoleChat
from bot.conversation import Conversation
from bot.export import stats_csv
from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.csvwriter import safe_cell
from core.outreach.commands import AddNote, BookMeeting, LogOutreach, RequestMeeting
from core.stats.commands import StatsReport, StatsRow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def world(core, make, campaign, clock):
    ana, ben = await make.user("Ana"), await make.user("Ben")
    fintech = await campaign("Fintech")
    a1, a2, b1 = await make.contact(ana, "A1"), await make.contact(ana, "A2"), await make.contact(ben, "B1")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=fintech.id), (a1.id,)))
    on = lambda user, k: (Actor(user.id), ContactRef(id=k.id))  # noqa: E731
    now = clock.now()
    for when, commands in [
        (
            datetime(2026, 11, 3, 10, tzinfo=UTC),
            [LogOutreach(*on(ana, a1), "email"), LogOutreach(*on(ben, b1), "call")],
        ),
        (
            datetime(2026, 11, 23, 10, tzinfo=UTC),
            [
                LogOutreach(*on(ana, a1), "linkedin"),
                RequestMeeting(*on(ana, a1)),
                LogOutreach(*on(ben, b1), "email"),
                BookMeeting(*on(ben, b1)),
            ],
        ),
        (datetime(2026, 11, 24, 8, tzinfo=UTC), [LogOutreach(*on(ana, a2), "linkedin"), AddNote(*on(ana, a2), "hi")]),
    ]:
        clock.set(when)
        for command in commands:
            await core.execute(command)
    clock.set(now)
    return ana, ben


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")  # decodes the whole image
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (pixels.shape[1], pixels.shape[0])
        return image.size


def table_rows(text: str) -> list[list[str]]:
    """The rows of a stats table under its column names, as words."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Outreach" in line) + 1
    return [line.split() for line in lines[start:]]


async def test_stats_by_method_in_chat_counts_the_hand_counted_world_and_comes_with_a_chart(core, world):
    ana, _ = world
    reply = await Conversation(core, "console").handle_text(ana, "stats by method all time")
    assert reply.text == "Stats — all time"
    assert table_rows(reply.sections[0].text) == [
        ["email", "2", "0", "1", "50%"],
        ["linkedin", "2", "1", "0", "0%"],
        ["call", "1", "0", "0", "0%"],
        ["total", "5", "1", "1", "20%"],
    ]  # most booked first, then most requested
    [chart] = reply.attachments
    assert (chart.filename, chart.mime_type, chart.title) == (
        "pipedriven-stats.png",
        "image/png",
        "Funnel by method, all time",
    )
    width, height = png_size(chart.data)
    assert width >= 640 and height >= 400


@pytest.mark.parametrize(
    "words, total",
    [
        ("this week", ["total", "3", "1", "1", "33%"]),
        ("last 30 days", ["total", "5", "1", "1", "20%"]),
        ("since 2026-11-23", ["total", "3", "1", "1", "33%"]),
        ("since 2026-11-24", ["total", "1", "0", "0", "0%"]),
        ("this month", ["total", "5", "1", "1", "20%"]),
    ],
)
async def test_periods(core, world, words, total):
    ana, _ = world
    reply = await Conversation(core, "console").handle_text(ana, f"stats {words}")
    assert table_rows(reply.sections[0].text) == [total]


async def test_stats_by_campaign_and_user_are_the_same_for_every_user(core, world, gt):
    ana, ben = world
    for user in (ana, ben, gt):
        chat = ConsoleChat(core, user)
        assert table_rows(await chat.send("stats by campaign all time")) == [
            ["(no", "campaign)", "3", "0", "1", "33%"],
            ["Fintech", "2", "1", "0", "0%"],
            ["total", "5", "1", "1", "20%"],
        ]
        assert table_rows(await chat.send("stats by user this week")) == [
            ["Ben", "1", "0", "1", "100%"],
            ["Ana", "2", "1", "0", "0%"],
            ["total", "3", "1", "1", "33%"],
        ]


async def test_no_activity_gives_a_table_but_no_chart(core, make):
    ana = await make.user("Ana")
    reply = await Conversation(core, "console").handle_text(ana, "stats by method")
    assert reply.attachments == () and "total" in reply.sections[0].text


def report(rows, group_by="campaign", campaign=None):
    total = StatsRow(
        "total",
        sum(r.outreach for r in rows),
        sum(r.meetings_requested for r in rows),
        sum(r.meetings_booked for r in rows),
    )
    return StatsReport(group_by, "this month", None, None, tuple(rows), total, campaign)


def test_the_chart_of_a_total_only_and_of_many_groups():
    total_only = StatsReport(None, "all time", None, None, (), StatsRow("total", 9, 3, 1))
    assert png_size(funnel_chart(total_only))[0] >= 640
    many = report([StatsRow(f"Campaign number {n}", 40 - n, n % 5, n % 3) for n in range(20)])
    few = report(many.rows[:3])
    # Up to MAX_GROUPS clusters are drawn, so the picture widens with them and then stops.
    assert png_size(funnel_chart(many))[0] > png_size(funnel_chart(few))[0]
    assert png_size(funnel_chart(many)) == png_size(funnel_chart(report(many.rows[:MAX_GROUPS])))


@pytest.mark.parametrize(
    "value, safe",
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Fintech", "Fintech"),
        ("a=b", "a=b"),
        ("", ""),
        (12, 12),
        (0.5, 0.5),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_made_text(value, safe):
    assert safe_cell(value) == safe


def test_the_csv_export_has_every_row_the_total_and_safe_keys():
    text = stats_csv(report([StatsRow("=cmd|' /C calc'!A0", 4, 2, 1), StatsRow("Fintech", 0, 0, 0)], campaign="@Q4"))
    assert text.splitlines() == [
        "group,key,outreach,meetings_requested,meetings_booked,conversion,period,campaign",
        "campaign,'=cmd|' /C calc'!A0,4,2,1,0.2500,this month,'@Q4",
        "campaign,Fintech,0,0,0,,this month,'@Q4",
        "total,total,4,2,1,0.2500,this month,'@Q4",
    ]


async def test_a_csv_shared_in_chat_is_imported_and_answered_with_the_report(core, settings, make):
    ana = await make.user("Ana")
    conversation = Conversation(core, "slack")
    data = csv_bytes([["Name", "Email", "Shoe size"], ["ana silva", "a@acme.com", "38"], ["Bo", "nope", ""]])
    reply = await conversation.handle_file(ana, data, "contacts.csv", idempotency_key="slack:F1")
    assert reply.text.splitlines() == [
        "Imported into Ana's bank: 1 new, 0 updated, 0 unchanged, 0 duplicates in the file, 1 rejected.",
        "Read 2 rows as UTF-8, comma-separated.",
        "Columns: Name → name, Email → email.",
        "Columns not imported: Shoe size.",
    ]
    assert reply.sections[0].text == "row 3: rejected: “nope” is not a valid email address."
    again = await conversation.handle_file(ana, data, "contacts.csv", idempotency_key="slack:F1")
    assert again.repeat and again.text.startswith("I imported that file already")
    core.settings = settings.model_copy(update={"import_max_upload_bytes": 10})
    too_big = await conversation.handle_file(ana, data, "contacts.csv")
    assert too_big.text.startswith("That file is ") and "files shared in chat can be up to" in too_big.text
    core.settings = settings
    for data, name, message in [
        (b"\x00\x01garbage", "x.csv", "I can't find a name column"),
        (b"PK\x03\x04", "x.xlsx", "That is a spreadsheet, not a CSV."),
    ]:
        reply = await conversation.handle_file(ana, data, name)
        assert message in reply.text and "Traceback" not in reply.text


async def test_a_long_list_of_rejected_rows_is_cut_short_in_chat(core, make):
    ana = await make.user("Ana")
    data = csv_bytes([["Name", "Email"]] + [[f"P{n}", "bad"] for n in range(30)])
    reply = await Conversation(core, "console").handle_file(ana, data)
    lines = reply.sections[0].text.splitlines()
    assert len(lines) == 21 and lines[0] == "row 2: rejected: “bad” is not a valid email address."
    assert lines[-1] == "… and 10 more (the CLI lists them all: pipedriven import)."


async def test_a_csv_shared_in_chat_names_the_people_in_a_colleagues_bank_and_where_to_see_the_rest(core, make):
    ana, carl = await make.user("Ana"), await make.user("Carl")
    for n in range(7):
        await make.contact(carl, f"Carl's {n}", email=f"p{n}@example.com", notes="Carl's own notes")
    data = csv_bytes([["Name", "Email"]] + [[f"Person {n}", f"P{n}@example.com"] for n in range(7)])
    reply = await Conversation(core, "slack").handle_file(ana, data, "contacts.csv")
    lines = reply.text.splitlines()
    start = lines.index("👥 7 contacts are also in a colleague's bank:")
    assert lines[start + 1 : start + 6] == [f"  Person {n} is also in Carl's bank." for n in range(5)]
    assert lines[start + 6] == (
        "  … and 2 more: an admin's `pipedriven import FILE --user EMAIL --show-collisions` lists them all."
    )
    assert "Carl's own notes" not in reply.text and "Carl's 0" not in reply.text


def test_the_requested_and_booked_bars_carry_their_step_rates():
    assert bar_labels(StatsRow("email", 20, 5, 2)) == ("20", "5 (25%)", "2 (40%)")
    assert bar_labels(StatsRow("call", 3, 0, 0)) == ("3", "0 (0%)", "0")  # nothing requested: no booking rate
    row = StatsRow("linkedin", 8, 2, 1)
    assert (row.request_rate, row.booking_rate) == (0.25, 0.5)
    width, height = png_size(funnel_chart(report([row, StatsRow("email", 20, 5, 2)])))
    assert width >= 640 and height >= 400


def test_an_empty_report_draws_a_picture_that_says_no_data_yet():
    empty = StatsReport("method", "this week", None, None, (), StatsRow("total", 0, 0, 0))
    assert png_size(funnel_chart(empty)) == (640, 320)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text, to read it back
        svg = funnel_chart(empty, format="svg").decode()
    assert "No data yet" in svg and "Funnel by method — this week" in svg
    assert 'id="axes_1"' not in svg  # no empty plot with its made-up axis

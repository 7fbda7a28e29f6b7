"""Heatmaps: outreach per campaign × week, method × weekday and user × week, as numbers and as a picture."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib
import matplotlib.image
import pytest
from PIL import Image

from bot.charts import heatmap_cells, heatmap_chart, heatmap_rates
from bot.console import ConsoleChat
from bot.conversation import Conversation
from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting
from core.stats.commands import GetHeatmap

WEEKS = tuple(f"W{n}" for n in range(37, 49))  # the clock stands in week 48


@pytest.fixture
async def world(core, make, campaign, clock):
    ana, ben = await make.user("Ana"), await make.user("Ben")
    fintech, health = await campaign("Fintech"), await campaign("Health")
    a1, a2, b1 = await make.contact(ana, "A1"), await make.contact(ana, "A2"), await make.contact(ben, "B1")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=fintech.id), (a1.id,)))
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=health.id), (a2.id,)))
    await core.execute(AddToCampaign(Actor(ben.id), CampaignRef(id=health.id), (b1.id,)))
    on = lambda user, k: (Actor(user.id), ContactRef(id=k.id))  # noqa: E731
    now = clock.now()
    for when, commands in [
        (datetime(2026, 8, 3, 10, tzinfo=UTC), [LogOutreach(*on(ana, a1), "call")]),  # before the 12 weeks
        (
            datetime(2026, 11, 17, 10, tzinfo=UTC),  # a Tuesday in week 47
            [LogOutreach(*on(ana, a1), "email"), LogOutreach(*on(ana, a2), "email"), LogOutreach(*on(ben, b1), "call")],
        ),
        (
            datetime(2026, 11, 23, 10, tzinfo=UTC),  # a Monday in week 48
            [LogOutreach(*on(ana, a1), "linkedin"), RequestMeeting(*on(ana, a1)), LogOutreach(*on(ben, b1), "email")],
        ),
        (datetime(2026, 11, 24, 8, tzinfo=UTC), [BookMeeting(*on(ben, b1))]),
    ]:
        clock.set(when)
        for command in commands:
            await core.execute(command)
    clock.set(now)
    return ana, ben


def matrix(heatmap):
    return {row.key: list(zip(row.outreach, row.meetings, strict=True)) for row in heatmap.rows}


def png_size(data: bytes) -> tuple[int, int]:
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")  # decodes the whole image
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (pixels.shape[1], pixels.shape[0])
        return image.size


async def test_campaign_by_week_counts_outreach_and_meetings_in_the_last_12_weeks(core, world):
    ana, _ = world
    heatmap = await core.execute(GetHeatmap(Actor(ana.id), "campaign"))
    assert heatmap.columns == WEEKS and heatmap.period == "last 12 weeks"
    empty = [(0, 0)] * 10
    assert matrix(heatmap) == {
        "Health": [*empty, (2, 0), (1, 1)],  # Ben's booking on Tuesday counts in week 48
        "Fintech": [*empty, (1, 0), (1, 1)],  # August's call is older than 12 weeks
    }
    assert heatmap_cells(heatmap)[0][-3:] == [("", None), ("2", 0.0), ("1/1", 1.0)]
    assert heatmap_rates(heatmap)[0][-3:] == ["", "0%", "100%"]  # written under each count


async def test_method_by_weekday_and_a_since_day(core, world):
    ana, _ = world
    heatmap = await core.execute(GetHeatmap(Actor(ana.id), "method", since=datetime(2026, 11, 20, tzinfo=UTC)))
    assert heatmap.columns == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert heatmap.period == "since 2026-11-20"
    assert matrix(heatmap) == {
        "email": [(1, 0), (0, 1), *[(0, 0)] * 5],  # the booking counts for the method that led to it
        "linkedin": [(1, 1), *[(0, 0)] * 6],
    }


async def test_by_user_a_consultant_sees_only_their_own_row_and_the_golden_ticket_team_everyone(core, world, gt):
    ana, ben = world
    everyone = await core.execute(GetHeatmap(Actor(gt.id), "user"))
    assert set(matrix(everyone)) == {"Ana", "Ben"} and not everyone.only_own
    own = await core.execute(GetHeatmap(Actor(ben.id), "user"))
    assert matrix(own) == {"Ben": [*[(0, 0)] * 10, (1, 0), (1, 1)]} and own.only_own
    reply = await Conversation(core, "console").handle_text(ben, "stats heatmap user")
    assert "Only your own outreach" in reply.text and "Ana" not in reply.text


async def test_in_chat_the_heatmap_comes_as_a_picture(core, world):
    ana, _ = world
    reply = await Conversation(core, "console").handle_text(ana, "stats heatmap campaign")
    assert reply.text.startswith("Outreach by campaign × week — last 12 weeks.")
    [chart] = reply.attachments
    assert (chart.filename, chart.mime_type) == ("pipedriven-heatmap.png", "image/png")
    assert png_size(chart.data) == (1100, 310)  # 12 week columns by two rows, at 100 dpi
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        svg = heatmap_chart(await core.execute(GetHeatmap(Actor(ana.id), "campaign")), format="svg").decode()
    assert ">1/1<" in svg and ">100%<" in svg and ">Health<" in svg  # the values are written in the cells


async def test_no_outreach_says_no_data_yet_without_a_picture(core, make):
    ana = await make.user("Ana")
    reply = await Conversation(core, "console").handle_text(ana, "stats heatmap method")
    assert reply.text == "Outreach by method × weekday — last 12 weeks: no data yet." and reply.attachments == ()


@pytest.mark.parametrize(
    "words, answer",
    [
        ("stats heatmap", "Which heatmap? `stats heatmap campaign`, `stats heatmap method` or `stats heatmap user`."),
        ("stats heatmap colour", "Which heatmap?"),
        ("stats heatmap method last month", "A heatmap shows the last 12 weeks, or from a day on"),
    ],
)
async def test_a_heatmap_it_cannot_read_gets_one_line(core, make, words, answer):
    chat = ConsoleChat(core, await make.user("Ana"))
    said = await chat.send(words)
    assert answer in said and "Traceback" not in said


@pytest.mark.parametrize(
    "zone, at, week, weekday",
    [
        ("Pacific/Kiritimati", datetime(2026, 11, 22, 12, tzinfo=UTC), "W48", "Mon"),  # Sunday noon UTC: Monday there
        ("Europe/London", datetime(2026, 11, 22, 12, tzinfo=UTC), "W47", "Sun"),
        ("America/Los_Angeles", datetime(2026, 11, 23, 3, tzinfo=UTC), "W47", "Sun"),  # Monday in UTC: Sunday there
    ],
)
async def test_weeks_and_weekdays_are_the_users_own(core, make, campaign, clock, zone, at, week, weekday):
    user = await make.user("Kai", timezone=zone)
    fintech = await campaign("Fintech")
    bob = await make.contact(user, "Bob")
    await core.execute(AddToCampaign(Actor(user.id), CampaignRef(id=fintech.id), (bob.id,)))
    now = clock.now()
    clock.set(at)
    await core.execute(LogOutreach(Actor(user.id), ContactRef(id=bob.id), "email"))
    clock.set(now)
    by_week = await core.execute(GetHeatmap(Actor(user.id), "campaign"))
    assert by_week.columns[-1] == "W48" and by_week.rows[0].outreach[by_week.columns.index(week)] == 1
    by_day = await core.execute(GetHeatmap(Actor(user.id), "method"))
    assert matrix(by_day) == {"email": [(1, 0) if day == weekday else (0, 0) for day in by_day.columns]}

"""Strategy analytics: conversion by cadence and by step, the step where plans stall, steps done on time; as a
table and a chart, in the chat and the CLI, in any time zone."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib
import matplotlib.image
import pytest
from PIL import Image

from bot.charts import cadence_bars, cadence_chart
from bot.console import ConsoleChat
from bot.conversation import Conversation
from core.analytics.commands import GetStrategyAnalytics, StepFigures
from core.analytics.replay import PAUSE, RESUME, Event, replay
from core.cadences.commands import PauseCadence, ResumeCadence, StopCadence
from core.command import Actor, ContactRef

ZONES = ("Europe/London", "Pacific/Kiritimati", "America/Los_Angeles")


def png_size(data: bytes) -> tuple[int, int]:
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")  # decodes the whole image
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (pixels.shape[1], pixels.shape[0])
        return image.size


@pytest.fixture(params=ZONES)
async def team(request, core, make, clock, start, log, meeting):
    """Warm intro (LinkedIn now, email 3 working days on, call 4 on) for five of Ana's contacts, started on a
    Tuesday in her zone; the clock left on the Wednesday of the week after, 09:00 her time."""
    zone = ZoneInfo(request.param)
    ana = await make.user("Ana", timezone=request.param)
    bob, carol, dave, eve, finn = [await make.contact(ana, n) for n in ("Bob", "Carol", "Dave", "Eve", "Finn")]

    def at(day: int, hour: int) -> None:
        """That day (of November, or of December for the 1st and 2nd), at that hour in Ana's zone."""
        clock.set(datetime(2026, 11 if day > 2 else 12, day, hour, tzinfo=zone))

    at(24, 9)  # Tuesday
    for contact in (bob, carol, dave, eve, finn):
        await start(ana, contact)
    await log(ana, bob, "linkedin")  # step 1 on its day
    await log(ana, eve, "linkedin")  # step 1 on its day…
    await meeting(ana, eve, booked=True)  # …and a meeting after it: plan completed
    await meeting(ana, finn, booked=False)  # a meeting before any step; the plan goes on at step 1
    at(25, 22)  # Wednesday, late
    await log(ana, carol, "linkedin")  # step 1 a day late
    at(30, 10)  # Monday: Bob's email was due Friday
    await log(ana, bob, "email")
    await core.execute(StopCadence(Actor(ana.id), ContactRef(id=carol.id)))  # Carol's plan ends at step 2
    at(1, 10)  # Tuesday 1 December
    await meeting(ana, bob, booked=False)  # after step 2
    at(2, 9)  # Wednesday: Dave and Finn have waited at step 1 since the 24th; Bob's call is due Friday
    return ana


async def test_by_step_conversion_stall_and_steps_on_time_in_the_users_zone(core, team):
    report = await core.execute(GetStrategyAnalytics(Actor(team.id), "warm"))
    [warm] = report.strategies
    assert report.one and (warm.strategy, warm.plans, warm.meetings, warm.meetings_before_first_step) == (
        "Warm intro",
        5,
        3,
        1,
    )
    assert warm.steps == (
        StepFigures(1, "linkedin", reached=5, done=3, on_time=2, meetings=1, dropped=0, waiting=2, overdue=2),
        StepFigures(2, "email", reached=3, done=1, on_time=0, meetings=1, dropped=1, waiting=0, overdue=0),
        StepFigures(3, "call", reached=1, done=0, on_time=0, meetings=0, dropped=0, waiting=1, overdue=0),
    )
    assert (warm.conversion, warm.adherence, warm.stall.position) == (0.6, 0.5, 1)


async def test_by_cadence_every_strategy_with_its_numbers(core, team):
    report = await core.execute(GetStrategyAnalytics(Actor(team.id)))
    assert [(f.strategy, f.plans, f.meetings, f.steps_done, f.steps_on_time) for f in report.strategies] == [
        ("Warm intro", 5, 3, 4, 2),
        ("Cold email sequence", 0, 0, 0, 0),
        ("Event follow-up", 0, 0, 0, 0),
    ]
    rows, series = cadence_bars(report)
    assert rows == ["Warm intro"]
    assert series == [
        ("Meetings per plan", [60.0], ["60% (3/5)"]),
        ("Steps done on time", [50.0], ["50% (2/4)"]),
    ]


async def test_in_chat_a_table_the_stall_and_a_chart(core, team):
    reply = await Conversation(core, "console").handle_text(team, "stats cadences")
    table, notes = (section.text for section in reply.sections)
    assert table.splitlines()[1].split() == ["Warm", "intro", "5", "3", "60%", "50%"]
    assert "• Warm intro: step 1 (LinkedIn), 2 waiting past their day" in notes
    [chart] = reply.attachments
    assert (chart.filename, chart.mime_type) == ("pipedriven-cadences.png", "image/png")
    assert png_size(chart.data) == (720, 320)

    reply = await Conversation(core, "console").handle_text(team, "stats cadence warm intro")
    assert reply.text.startswith("Cadence “Warm intro” — all time, whole team: 5 plans, 3 with a meeting (60%)")
    lines = reply.sections[0].text.splitlines()
    assert lines[1].split() == ["1", "LinkedIn", "5", "3", "2", "67%", "1", "2"]
    assert lines[2].split() == ["2", "Email", "3", "1", "0", "0%", "1", "1"]
    [chart] = reply.attachments
    rows, series = cadence_bars(await core.execute(GetStrategyAnalytics(Actor(team.id), "warm intro")))
    assert rows == ["1. LinkedIn", "2. Email", "3. Call"]
    assert dict((name, words) for name, _, words in series)["Meeting after it"] == ["1 (33%)", "1 (100%)", "0"]
    width, height = png_size(chart.data)
    assert width == 720 and height > 320
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        svg = cadence_chart(await core.execute(GetStrategyAnalytics(Actor(team.id), "warm")), format="svg").decode()
    assert ">2 (67%)<" in svg and ">Stalled here<" in svg  # the values are written on the bars


async def test_no_plan_yet_says_so_without_a_picture(core, make):
    ana = await make.user("Ana")
    reply = await Conversation(core, "console").handle_text(ana, "stats cadences")
    assert reply.attachments == ()
    assert "No cadence holds plans up." in reply.sections[1].text


@pytest.mark.parametrize(
    "words, answer",
    [
        ("stats cadence nothing like it", "There is no cadence “nothing like it”"),
        ("stats cadence e", "matches several cadences"),
    ],
)
async def test_a_cadence_it_cannot_find_gets_one_line(core, make, words, answer):
    chat = ConsoleChat(core, await make.user("Ana"))
    said = await chat.send(words)
    assert answer in said and "Traceback" not in said


async def test_a_pause_moves_the_due_day_on_as_the_plan_does(core, make, clock, start, log):
    ana = await make.user("Ana")
    bob = await make.contact(ana, "Bob")
    await start(ana, bob)
    await log(ana, bob, "linkedin")  # Tuesday: the email is due Friday
    clock.advance(days=1)
    await core.execute(PauseCadence(Actor(ana.id), ContactRef(id=bob.id)))
    clock.advance(days=2)
    await log(ana, bob, "email")  # while paused: ignored, as the plan did
    clock.advance(days=4)
    await core.execute(ResumeCadence(Actor(ana.id), ContactRef(id=bob.id)))  # Sunday: due 6 days later
    clock.advance(days=1)
    await log(ana, bob, "email")  # Monday: on time after the pause
    [warm] = (await core.execute(GetStrategyAnalytics(Actor(ana.id), "warm intro"))).strategies
    assert [(s.done, s.on_time) for s in warm.steps] == [(1, 1), (1, 1), (0, 0)]


def test_replay_a_call_with_no_answer_is_an_attempt_and_days_are_the_users():
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 11, 24, 9, tzinfo=tokyo)
    steps = [(0, "call"), (1, "email")]
    events = [
        Event(datetime(2026, 11, 24, 23, 30, tzinfo=tokyo), "call", "no_answer"),  # 14:30 UTC: Tuesday in Tokyo
        Event(datetime(2026, 11, 26, 10, tzinfo=tokyo), "call"),
        Event(datetime(2026, 11, 28, 7, tzinfo=tokyo), "email"),  # due Friday; Saturday in Tokyo, Friday in London
    ]
    r = replay(steps, start, events, zone="Asia/Tokyo", working_days=(1, 2, 3, 4, 5))
    assert [(d.position, d.on_time) for d in r.done] == [(1, True), (2, False)] and r.ended
    london = replay(steps, start, events, zone="Europe/London", working_days=(1, 2, 3, 4, 5))
    assert [d.on_time for d in london.done] == [True, True]
    paused = [
        Event(start + timedelta(hours=1), PAUSE),
        Event(start + timedelta(days=1), "call"),  # ignored while paused
        Event(start + timedelta(days=2), RESUME),  # the call, due Tuesday, is due two days later
        Event(start + timedelta(days=2, hours=1), "call"),
    ]
    r = replay(steps, start.astimezone(UTC), paused, zone="Asia/Tokyo", working_days=(1, 2, 3, 4, 5))
    assert [(d.position, d.first_attempt.day, d.on_time) for d in r.done] == [(1, 26, True)] and r.position == 2


def test_the_cli_prints_the_table_and_draws_the_chart(cli, tmp_path):
    assert cli("users", "add", "ana@example.com", "--name", "Ana Silva").returncode == 0
    assert cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\n").returncode == 0
    assert cli("cadences", "--as", "ana@example.com", "start", "Warm intro", "--contact", "bob").returncode == 0
    assert cli("console", "--as", "ana@example.com", stdin="log bob linkedin\n").returncode == 0
    drawn = cli("stats", "cadence", "warm", "intro", "--chart", "warm.png")
    assert drawn.returncode == 0, drawn.stderr
    assert "Cadence “Warm intro” — all time, whole team: 1 plan, 0 with a meeting (0%)" in drawn.stdout
    assert "1 LinkedIn" in drawn.stdout and f"Chart written to {tmp_path / 'warm.png'}" in drawn.stdout
    with Image.open(tmp_path / "warm.png") as image:
        assert image.format == "PNG" and image.size[0] == 720
    every = cli("stats", "cadences")
    [warm] = [line.split() for line in every.stdout.splitlines() if line.startswith("Warm intro")]
    assert every.returncode == 0 and warm == ["Warm", "intro", "1", "0", "0%", "100%"]
    refused = cli("stats", "cadences", "--csv", "out.csv")
    assert refused.returncode == 1 and not (tmp_path / "out.csv").exists()
    assert refused.stderr.splitlines()[-1].startswith("pipedriven: --csv exports the stats table")

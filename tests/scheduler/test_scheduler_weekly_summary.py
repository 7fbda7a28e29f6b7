"""The Golden Ticket team's weekly summary: in their Monday digest, once, with last week's numbers per live
campaign, the live campaigns' heatmap and who is behind on their cadence steps; never for a consultant."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from core.analytics.commands import GetWeeklySummary
from core.cadences.commands import StartCadence
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import NotAllowed
from core.outreach.commands import LogOutreach, RequestMeeting
from scheduler.ports import TemporaryDeliveryError

ZONES = ("Europe/London", "Pacific/Kiritimati", "America/Los_Angeles")


def summaries(replies) -> list:
    return [r for r in replies if any(s.text.startswith("📊 Last week") for s in r.sections)]


@pytest.fixture(params=ZONES)
async def team(request, core, make, clock, reachable):
    """Goldie (Golden Ticket, on Slack and Telegram) and Ana (a consultant) in one zone; last week (23–29 November
    there) Ana emailed and messaged Bob in the live Fintech campaign, who asked for a meeting late on Sunday; she
    called Carol in a draft campaign, did Eve's first cadence step a day late and left Dave's undone since Tuesday."""
    zone = request.param
    goldie = await reachable("Goldie", tz=zone, role="golden_ticket", platforms=("slack", "telegram"))
    ana = await reachable("Ana", tz=zone)
    bob, carol, dave, eve = [await make.contact(ana, name) for name in ("Bob", "Carol", "Dave", "Eve")]
    me, on = Actor(ana.id), lambda k: ContactRef(id=k.id)  # noqa: E731
    for name, status in (("Fintech", "live"), ("Health", "live"), ("Drafty", "draft")):
        await core.execute(CreateCampaign(Actor(goldie.id), name, status=status))
    await core.execute(AddToCampaign(me, CampaignRef(name="Fintech"), (bob.id,)))
    await core.execute(AddToCampaign(me, CampaignRef(name="Drafty"), (carol.id,)))
    local = lambda day, hour, minute=0: datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(zone))  # noqa: E731
    clock.set(local(24, 10))  # Tuesday
    await core.execute(LogOutreach(me, on(bob), "email"))
    await core.execute(LogOutreach(me, on(carol), "call"))
    await core.execute(StartCadence(me, "Warm intro", contact=on(dave)))  # LinkedIn due today
    await core.execute(StartCadence(me, "Warm intro", contact=on(eve)))
    clock.set(local(25, 10))  # Wednesday
    await core.execute(LogOutreach(me, on(eve), "linkedin"))  # a day late; her email is due on Monday
    clock.set(local(29, 23, 30))  # Sunday night, there
    await core.execute(LogOutreach(me, on(bob), "linkedin"))
    await core.execute(RequestMeeting(me, on(bob)))
    clock.set(local(30, 7))  # Monday morning: this week's, not in the summary
    await core.execute(LogOutreach(me, on(bob), "call"))
    return goldie, ana, local


async def test_last_weeks_numbers_heatmap_and_who_is_behind_in_any_zone(core, clock, team):
    goldie, ana, local = team
    clock.set(local(30, 8, 30))
    summary = await core.execute(GetWeeklySummary(Actor(goldie.id)))
    assert summary.week == "W48, 23–29 Nov 2026"
    assert [(c.campaign, c.outreach, c.meetings_requested, c.meetings_booked) for c in summary.campaigns] == [
        ("Fintech", 2, 1, 0),
        ("Health", 0, 0, 0),
    ]
    assert summary.heatmap.columns[-1] == "W48"
    assert {r.key: list(zip(r.outreach, r.meetings, strict=True)) for r in summary.heatmap.rows} == {
        "Fintech": [(0, 0)] * 11 + [(2, 1)]
    }
    [behind] = summary.behind
    assert (behind.user, behind.overdue, behind.oldest_days, behind.done_last_week, behind.on_time_last_week) == (
        "Ana",
        1,
        6,
        1,
        0,
    )
    with pytest.raises(NotAllowed):
        await core.execute(GetWeeklySummary(Actor(ana.id)))


async def test_the_golden_ticket_team_gets_it_on_monday_once_and_a_consultant_never(
    clock, dispatcher, slack, telegram, team
):
    goldie, ana, local = team
    clock.set(local(27, 8, 30))  # Friday: a digest, no summary
    await dispatcher.tick()
    assert len(slack.digests(goldie)) == 1 and summaries(slack.to(goldie)) == []
    slack.fail_next(goldie.id, TemporaryDeliveryError("Slack is down"))  # Monday's first try fails
    monday = local(30, 8, 30)
    for minutes in range(0, 24 * 60, 10):  # all of Monday, every ten minutes
        clock.set(monday + timedelta(minutes=minutes))
        await dispatcher.tick()
    [on_slack], [on_telegram] = summaries(slack.to(goldie)), summaries(telegram.to(goldie))
    assert on_slack.text == "☀️ Good morning Goldie! Last week, then who to contact today:"
    texts = [s.text for s in on_slack.sections]
    assert texts[0] == "📊 Last week, W48, 23–29 Nov 2026"
    assert [line.split() for line in texts[1].splitlines()[1:]] == [
        ["Fintech", "2", "1", "0"],
        ["Health", "0", "0", "0"],
    ]
    assert texts[2] == "Behind on their cadence steps:\n• Ana: 1 step overdue by 6 days; 0 of 1 on time last week"
    assert texts[3] == "👉 Who to contact today:" and texts[4].startswith("1. Goldie's contact 1")
    [picture] = on_slack.attachments
    with Image.open(io.BytesIO(picture.data)) as image:
        image.load()
        assert image.format == "PNG" and image.size == (1100, 250)  # 12 weeks by one live campaign, at 100 dpi
    assert on_telegram.attachments[0].data == picture.data
    assert slack.digests(ana) and summaries(slack.to(ana)) == []
    clock.set(local(30, 8, 30) + timedelta(days=1))  # Tuesday: the usual digest
    await dispatcher.tick()
    assert len(slack.digests(goldie)) == 3 and len(summaries(slack.to(goldie))) == 1


async def test_on_monday_the_summary_goes_even_with_nobody_to_suggest(core, clock, dispatcher, slack, reachable):
    lone = await reachable("Lone", role="golden_ticket", contacts=0, tz="Asia/Kolkata")
    clock.set(datetime(2026, 11, 30, 8, 30, tzinfo=ZoneInfo("Asia/Kolkata")))
    await dispatcher.tick()
    [reply] = slack.to(lone)
    assert reply.text == "☀️ Good morning Lone! Here is last week:" and reply.attachments == ()
    assert [s.text for s in reply.sections][1:] == ["No campaign is live.", "Nobody is behind on their cadence steps."]

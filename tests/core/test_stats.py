"""Outreach and meeting numbers, checked against a small world counted by hand.

    Tue 3 Nov   Ana  linkedin  a1 (Fintech)      Ben  call      b1 (Fintech)
                Ana  email     a2 (Health)       Ben  email     b2
    Tue 10 Nov  Ana  email     a1 (Fintech)      Ben  linkedin  b2
                Ana  meeting requested a1        Ben  meeting booked b2
                Ana  note      a3 (never counted)
    Tue 17 Nov  Ana  call      a3                Ana  meeting booked a1
                Ben  meeting requested b1        Ana  note      a1

A meeting counts under the method of the contact's last outreach before it: a1's under email, b1's under
call, b2's under linkedin.
"""

from datetime import UTC, datetime

import pytest

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import InvalidInput, NotFound
from core.outreach.commands import AddNote, BookMeeting, LogOutreach, RequestMeeting
from core.stats.commands import GetStats


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 10, 0, tzinfo=UTC)


@pytest.fixture
async def world(core, make, campaign, clock):
    ana, ben = await make.user("Ana"), await make.user("Ben")
    fintech, health = await campaign("Fintech"), await campaign("Health")
    a1, a2, a3 = [await make.contact(ana, name) for name in ("A1", "A2", "A3")]
    b1, b2 = [await make.contact(ben, name) for name in ("B1", "B2")]
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=fintech.id), (a1.id,)))
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=health.id), (a2.id,)))
    await core.execute(AddToCampaign(Actor(ben.id), CampaignRef(id=fintech.id), (b1.id,)))

    def on(user, contact):
        return Actor(user.id), ContactRef(id=contact.id)

    now = clock.now()
    for when, commands in [
        (
            day(3),
            [
                LogOutreach(*on(ana, a1), "linkedin"),
                LogOutreach(*on(ana, a2), "email"),
                LogOutreach(*on(ben, b1), "call"),
                LogOutreach(*on(ben, b2), "email"),
            ],
        ),
        (
            day(10),
            [
                LogOutreach(*on(ana, a1), "email"),
                RequestMeeting(*on(ana, a1)),
                LogOutreach(*on(ben, b2), "linkedin"),
                BookMeeting(*on(ben, b2)),
                AddNote(*on(ana, a3), "hi"),
            ],
        ),
        (
            day(17),
            [
                LogOutreach(*on(ana, a3), "call"),
                BookMeeting(*on(ana, a1)),
                RequestMeeting(*on(ben, b1)),
                AddNote(*on(ana, a1), "booked!"),
            ],
        ),
    ]:
        clock.set(when)
        for command in commands:
            await core.execute(command)
    clock.set(now)
    return ana


async def stats(core, user, **options):
    return await core.execute(GetStats(Actor(user.id), **options))


def table(report):
    return [(r.key, r.outreach, r.meetings_requested, r.meetings_booked) for r in report.rows]


def total(report):
    t = report.total
    return (t.outreach, t.meetings_requested, t.meetings_booked)


async def test_totals_count_outreach_and_meetings_but_not_notes(core, world):
    report = await stats(core, world)
    assert total(report) == (7, 2, 2)
    assert report.rows == ()
    assert report.period == "all time"


async def test_by_campaign(core, world):
    assert table(await stats(core, world, group_by="campaign")) == [
        ("Fintech", 3, 2, 1),
        ("(no campaign)", 3, 0, 1),
        ("Health", 1, 0, 0),
    ]


async def test_by_user(core, world):
    report = await stats(core, world, group_by="user")
    assert table(report) == [("Ana", 4, 1, 1), ("Ben", 3, 1, 1)]
    assert total(report) == (7, 2, 2)


async def test_by_method_counts_a_meeting_under_the_last_outreach_before_it(core, world):
    assert table(await stats(core, world, group_by="method")) == [
        ("email", 3, 1, 1),
        ("linkedin", 2, 0, 1),
        ("call", 2, 1, 0),
    ]


async def test_a_period_counts_from_since_up_to_but_not_including_until(core, world):
    week_of_10th = await stats(
        core, world, since=day(10).replace(hour=0), until=day(17).replace(hour=0), period_label="week of 10 Nov"
    )
    assert total(week_of_10th) == (2, 1, 1)
    assert week_of_10th.period == "week of 10 Nov"
    assert total(await stats(core, world, until=day(10))) == (4, 0, 0)
    assert total(await stats(core, world, since=day(17))) == (1, 1, 1)
    assert total(await stats(core, world, since=datetime(2026, 11, 18, tzinfo=UTC))) == (0, 0, 0)


async def test_a_campaign_filter_counts_only_that_campaign(core, world):
    report = await stats(core, world, campaign=CampaignRef.of("fintech"), group_by="method")
    assert report.campaign == "Fintech"
    assert table(report) == [("email", 1, 1, 1), ("call", 1, 1, 0), ("linkedin", 1, 0, 0)]
    assert total(report) == (3, 2, 1)


async def test_conversion_is_meetings_booked_per_outreach(core, world):
    report = await stats(core, world, group_by="user")
    assert [r.conversion for r in report.rows] == [0.25, pytest.approx(1 / 3)]
    assert report.total.conversion == pytest.approx(2 / 7)


async def test_no_activity_gives_zeros_and_no_conversion(core, make):
    ana = await make.user()
    report = await stats(core, ana, group_by="method")
    assert (table(report), total(report), report.total.conversion) == ([], (0, 0, 0), None)


async def test_grouping_by_something_else_is_refused(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="Group stats by campaign, user or method."):
        await stats(core, ana, group_by="colour")


async def test_an_unknown_campaign_is_not_found(core, make):
    ana = await make.user()
    with pytest.raises(NotFound, match="There is no campaign “Nope”"):
        await stats(core, ana, campaign=CampaignRef.of("Nope"))

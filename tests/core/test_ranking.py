"""“Who to contact today”: the order of the feed and the reasons it gives."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.campaigns.commands import AddToCampaign, UpdateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import InvalidInput, NotFound
from core.feed.commands import TodaySuggestions
from core.outreach.commands import AddNote, SetFollowUp, Snooze


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


async def today(core, user, **filters):
    return (await core.execute(TodaySuggestions(Actor(user.id), **filters))).items


async def feed(core, user, **filters):
    """The feed as a user reads it: name and reasons, in order."""
    return [(s.contact.name, s.reason) for s in await today(core, user, **filters)]


async def follow_up(core, user, contact, clock, note=None, hours=1):
    await core.execute(
        SetFollowUp(Actor(user.id), ContactRef(id=contact.id), clock.now() + timedelta(hours=hours), note)
    )


async def test_the_feed_ranks_due_follow_ups_then_warm_stale_and_never_contacted(core, make, ana, clock, log_at):
    due = await make.contact(ana, "Due")
    warm = await make.contact(ana, "Warm", warmness=5)
    await make.contact(ana, "Never")
    stale = await make.contact(ana, "Stale")
    recent = await make.contact(ana, "Recent")
    await log_at(ana, due, days_ago=10)
    await log_at(ana, warm, days_ago=30)
    await log_at(ana, stale, days_ago=60)
    await log_at(ana, recent, days_ago=2)
    await follow_up(core, ana, due, clock, "send the deck")
    clock.advance(hours=2)
    # Emails with no reply for 5 days or more say to try a call (core.rules.outcomes), worth the rule's points.
    assert await feed(core, ana) == [
        (
            "Due",
            "follow-up due: send the deck · 10 days since last touch · no reply to your email in 10 days: try a call",
        ),
        ("Warm", "30 days since last touch · warm · no reply to your email in 30 days: try a call"),
        ("Stale", "60 days since last touch · no reply to your email in 60 days: try a call"),
        ("Never", "never contacted"),
        ("Recent", "2 days since last touch"),
    ]
    items = await today(core, ana)
    assert [s.rank for s in items] == [1, 2, 3, 4, 5]
    assert [s.follow_up_due for s in items] == [True, False, False, False, False]


async def test_equal_scores_go_to_the_oldest_contact_first(core, make, ana):
    await make.contact(ana, "Zed")
    await make.contact(ana, "Abe")
    assert [name for name, _ in await feed(core, ana)] == ["Zed", "Abe"]


async def test_a_follow_up_without_a_note_just_says_due(core, make, ana, clock):
    bob = await make.contact(ana, "Bob")
    await follow_up(core, ana, bob, clock)
    clock.advance(hours=2)
    assert await feed(core, ana) == [("Bob", "follow-up due · never contacted")]


async def test_a_snoozed_contact_disappears_until_the_snooze_ends(core, make, ana, clock):
    bob = await make.contact(ana, "Bob")
    await make.contact(ana, "Carol")
    await core.execute(Snooze(Actor(ana.id), ContactRef(id=bob.id), clock.now() + timedelta(days=3)))
    assert [name for name, _ in await feed(core, ana)] == ["Carol"]
    clock.advance(days=3)
    assert (await feed(core, ana))[0] == ("Bob", "snooze ended · never contacted")


async def test_a_contact_with_only_a_future_follow_up_drops_out(core, make, ana, clock):
    bob = await make.contact(ana, "Bob")
    await follow_up(core, ana, bob, clock, "later", hours=48)
    assert await feed(core, ana) == []
    clock.advance(hours=49)
    assert await feed(core, ana) == [("Bob", "follow-up due: later · never contacted")]


async def test_a_due_follow_up_shows_even_when_another_lies_in_the_future(core, make, ana, clock):
    bob = await make.contact(ana, "Bob")
    await follow_up(core, ana, bob, clock, "now", hours=1)
    await follow_up(core, ana, bob, clock, "later", hours=100)
    clock.advance(hours=2)
    assert await feed(core, ana) == [("Bob", "follow-up due: now · never contacted")]


async def test_a_contact_touched_today_drops_out(core, make, ana, clock, log_at):
    bob = await make.contact(ana, "Bob")
    await log_at(ana, bob, at=clock.now().replace(hour=0, minute=1))
    assert await feed(core, ana) == []


async def test_a_note_is_not_a_touch_so_the_contact_stays(core, make, ana):
    bob = await make.contact(ana, "Bob")
    await core.execute(AddNote(Actor(ana.id), ContactRef(id=bob.id), "met at a dinner"))
    assert await feed(core, ana) == [("Bob", "never contacted")]


async def test_a_touch_before_local_midnight_is_yesterday_in_the_users_timezone(core, make, clock, log_at):
    # 23:00 UTC on the 24th is midday on the 25th in Auckland; 10:00 UTC that day was 23:00 on the 24th there.
    kiri = await make.user("Kiri", timezone="Pacific/Auckland")
    lon = await make.user("Lon", timezone="Europe/London")
    clock.set(datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    touched = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    await log_at(kiri, await make.contact(kiri, "Bob"), at=touched)
    await log_at(lon, await make.contact(lon, "Bob"), at=touched)
    assert await feed(core, kiri) == [("Bob", "1 day since last touch")]
    assert await feed(core, lon) == []


async def test_a_touch_after_local_midnight_is_today_in_the_users_timezone(core, make, clock, log_at):
    # 09:00 UTC on the 24th is 22:00 in Auckland; 12:00 UTC on the 23rd was already 01:00 on the 24th there.
    kiri = await make.user("Kiri", timezone="Pacific/Auckland")
    await log_at(kiri, await make.contact(kiri, "Bob"), at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert await feed(core, kiri) == []


async def test_days_since_last_touch_count_calendar_days(core, make, ana, clock, log_at):
    bob = await make.contact(ana, "Bob")
    carol = await make.contact(ana, "Carol")
    await log_at(ana, bob, "conference", days_ago=41)
    await log_at(ana, carol, "conference", at=clock.now() - timedelta(hours=15))  # Monday evening
    assert await feed(core, ana) == [("Bob", "41 days since last touch"), ("Carol", "1 day since last touch")]


async def test_warmness_and_past_business_are_reasons(core, make, ana):
    await make.contact(ana, "Hot", warmness=4, past_business=Decimal("12000"))
    await make.contact(ana, "Mild", warmness=2, past_business=Decimal("800"))
    assert await feed(core, ana) == [
        ("Hot", "never contacted · warm · past business 12k"),
        ("Mild", "never contacted · warmness 2/5 · past business 800"),
    ]


async def test_only_a_live_campaign_is_a_reason(core, make, ana, gt, campaign):
    bob = await make.contact(ana, "Bob")
    for name, status in (("Fintech", "live"), ("Drafty", "draft"), ("Done", "live")):
        camp = await campaign(name, status=status)
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef.of("Done"), status="closed"))
    await make.contact(ana, "Carol")
    assert await feed(core, ana) == [("Bob", "never contacted · live campaign Fintech"), ("Carol", "never contacted")]


async def test_two_live_campaigns_are_both_named_but_count_once(core, make, ana, campaign):
    bob = await make.contact(ana, "Bob")
    for name in ("Fintech", "Retail"):
        camp = await campaign(name, status="live")
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    await make.contact(ana, "Carol")
    [bob_s, carol_s] = await today(core, ana)
    assert bob_s.reason == "never contacted · live campaign Fintech · live campaign Retail"
    assert bob_s.score - carol_s.score == 15


async def test_warm_only_keeps_warm_contacts(core, make, ana):
    await make.contact(ana, "Cold", warmness=3)
    await make.contact(ana, "Hot", warmness=4)
    assert [name for name, _ in await feed(core, ana, warm_only=True)] == ["Hot"]


async def test_stale_days_keeps_contacts_untouched_that_long_or_never(core, make, ana, log_at):
    for name, days in (("Month", 30), ("Fortnight", 14), ("Old", 90)):
        await log_at(ana, await make.contact(ana, name), "conference", days_ago=days)
    await make.contact(ana, "Never")
    assert [name for name, _ in await feed(core, ana, stale_days=30)] == ["Never", "Old", "Month"]


async def test_campaign_filter_keeps_its_members_whatever_its_status(core, make, ana, campaign):
    camp = await campaign("Drafty", status="draft")
    bob = await make.contact(ana, "Bob")
    await make.contact(ana, "Carol")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    report = await core.execute(TodaySuggestions(Actor(ana.id), campaign=CampaignRef.of("drafty")))
    assert [s.contact.name for s in report.items] == ["Bob"]
    assert report.filters == "campaign Drafty"


async def test_limit_cuts_the_feed(core, make, ana):
    for n in range(4):
        await make.contact(ana, f"C{n}")
    assert len(await today(core, ana, limit=2)) == 2
    assert len(await today(core, ana)) == 4


async def test_the_filters_are_described(core, make, ana):
    report = await core.execute(TodaySuggestions(Actor(ana.id), warm_only=True, stale_days=30))
    assert report.filters == "warm · stale 30+ days"


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"limit": 51}, "Ask for between 1 and 50 suggestions."),
        ({"stale_days": -1}, "Stale takes a number of days"),
    ],
)
async def test_bad_filters_are_refused(core, ana, filters, message):
    with pytest.raises(InvalidInput, match=message):
        await today(core, ana, **filters)


async def test_an_unknown_campaign_filter_is_not_found(core, ana):
    with pytest.raises(NotFound, match="There is no campaign “Nope”"):
        await today(core, ana, campaign=CampaignRef.of("Nope"))


async def test_the_feed_shows_only_your_own_contacts(core, make, ana, clock):
    zoe = await make.user("Zoe")
    theirs = await make.contact(zoe, "Theirs")
    await follow_up(core, zoe, theirs, clock)
    clock.advance(hours=2)
    await make.contact(ana, "Mine")
    assert await feed(core, ana) == [("Mine", "never contacted")]

"""Stats read from the rollups give exactly what counting every activity gives, whatever wrote the activities
(logging, meetings, notes, undo, merge, erasure, a campaign or a user going) and over any period: whole months,
whole days, hours at either end, open ends; before and after the changes are folded in."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import MergeContacts
from core.housekeeping.commands import PruneHistory
from core.outreach.commands import AddNote, BookMeeting, LogOutreach, RequestMeeting, UndoOutreach
from core.privacy.commands import EraseContact
from core.stats.handlers import counted_from_activities, stats_rows

MOMENTS = [
    datetime(2026, 8, 31, 23, 30, tzinfo=UTC),  # the last half hour of a month
    datetime(2026, 9, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 9, 15, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 0, 30, tzinfo=UTC),
    datetime(2026, 10, 31, 22, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 8, 59, tzinfo=UTC),
]
PERIODS = [
    (None, None),
    (datetime(2026, 9, 1, tzinfo=UTC), None),
    (None, datetime(2026, 10, 1, tzinfo=UTC)),
    (datetime(2026, 8, 31, 23, 0, tzinfo=UTC), datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),  # Paris months
    (datetime(2026, 9, 15, 6, 0, tzinfo=UTC), datetime(2026, 9, 15, 18, 0, tzinfo=UTC)),  # inside one day
    (datetime(2026, 9, 14, 18, 30, tzinfo=UTC), datetime(2026, 11, 23, 5, 30, tzinfo=UTC)),  # Kolkata days
    (datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),  # last 30 days
    (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), None),  # from now on: nothing
]


async def _world(core, make, campaign, clock):
    """A month-spanning history written by the commands a user has, then undone, merged and erased in part."""
    ana, ben = await make.user("Ana"), await make.user("Ben")
    fintech, health = await campaign("Fintech"), await campaign("Health")
    a1, a2, a3 = [await make.contact(ana, name, email=f"{name.lower()}@example.com") for name in ("A1", "A2", "A3")]
    b1, b2 = [await make.contact(ben, name) for name in ("B1", "B2")]
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=fintech.id), (a1.id, a2.id)))
    await core.execute(AddToCampaign(Actor(ben.id), CampaignRef(id=health.id), (b1.id,)))
    now = clock.now()
    logged = []
    for n, moment in enumerate(MOMENTS):
        clock.set(moment)
        for user, contact, method in [(ana, a1, "email"), (ana, a2, "linkedin"), (ben, b1, "call"), (ben, b2, "email")]:
            ref = ContactRef(id=contact.id)
            campaign_ref = CampaignRef(id=fintech.id) if contact is a1 and n % 2 else None
            logged.append(await core.execute(LogOutreach(Actor(user.id), ref, method, campaign=campaign_ref)))
        await core.execute(AddNote(Actor(ana.id), ContactRef(id=a3.id), "a note, never counted"))
        await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=a3.id), "conference", outcome="replied"))
        if n % 2:
            await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=a1.id)))
        else:
            await core.execute(BookMeeting(Actor(ben.id), ContactRef(id=b2.id)))
        undone = await core.execute(LogOutreach(Actor(ben.id), ContactRef(id=b1.id), "referral"))
        await core.execute(UndoOutreach(Actor(ben.id), ContactRef(id=b1.id), undone.activity_id))
    clock.set(now)
    await core.execute(MergeContacts(Actor(ana.id), keep=ContactRef(id=a1.id), other=ContactRef(id=a2.id)))
    await core.execute(EraseContact(Actor(ana.id), ContactRef(id=a3.id)))
    return ana, ben, fintech, health


async def _same_everywhere(core, users, campaigns):
    async with core.reading() as session:
        for since, until in PERIODS:
            for group_by in (None, "campaign", "user", "method"):
                for campaign_id in (None, *campaigns):
                    for user_id in (None, *users) if group_by is None else (None,):
                        args = dict(group_by=group_by, since=since, until=until, campaign_id=campaign_id)
                        rolled = await stats_rows(session, **args, user_id=user_id)
                        counted = await counted_from_activities(session, **args, user_id=user_id)
                        assert rolled == counted, (since, until, group_by, campaign_id, user_id)


async def test_rollups_count_what_the_activities_count_after_every_kind_of_write(core, make, campaign, clock):
    ana, ben, fintech, health = await _world(core, make, campaign, clock)
    async with core.reading() as session:
        assert await session.scalar(text("SELECT count(*) FROM activity_rollup_changes")) > 0
        everything = await stats_rows(session, group_by="user", since=None, until=None, campaign_id=None)
    assert [row.key for row in everything] == ["Ben", "Ana"]
    await _same_everywhere(core, (ana.id, ben.id), (fintech.id, health.id))

    folded = await core.execute(PruneHistory())
    assert folded.folded > 0
    await _same_everywhere(core, (ana.id, ben.id), (fintech.id, health.id))

    async with core.sessions() as session:  # a campaign and a user go: their activities' ids become NULL
        await session.execute(text("DELETE FROM campaigns WHERE id = :id"), {"id": fintech.id})
        await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": ben.id})
        await session.commit()
    await _same_everywhere(core, (ana.id,), (health.id,))
    await core.execute(PruneHistory())
    await _same_everywhere(core, (ana.id,), (health.id,))


async def test_a_period_counts_the_hours_at_its_ends(core, make, clock):
    ana = await make.user("Ana")
    bob = await make.contact(ana, "Bob")
    now = clock.now()
    for hours in (1, 5, 30, 24 * 40):
        clock.set(now - timedelta(hours=hours))
        await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "email"))
    clock.set(now)
    await core.execute(PruneHistory())
    async with core.reading() as session:
        rows = await stats_rows(
            session, group_by=None, since=now - timedelta(hours=6), until=now - timedelta(minutes=30), campaign_id=None
        )
    assert [(r.key, r.outreach) for r in rows] == [("all", 2)]

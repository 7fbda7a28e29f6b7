"""Today's list read by the walk (core.feed.ranking: only the contacts whose rank_ceiling can't rule them out, and
those due something) is the list scored over the whole bank, row for row: over random banks (warm contacts, due and
future follow-ups and snoozes, cadence plans, rules from outcomes, campaigns live and ended, past business, removed
contacts), days, timezones and filters, with and without a learned fit. The triggers keep the ceiling's flags
right through the commands that move them."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text

from core import db
from core.campaigns.commands import AddToCampaign, UpdateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import ArchiveContact, EditContact, MergeContacts, RestoreContact
from core.feed import ranking
from core.importing.commands import ImportContacts
from core.learning import rates
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting, UndoOutreach

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TIMEZONES = ["Europe/London", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo"]
TOUCHES = ["email", "linkedin", "campaign_email", "call", "conference", "referral", "pipedrive", "meeting", "note"]
OUTCOMES = ["none", "none", "no_answer", "replied", "meeting_requested", "meeting_booked", "not_interested"]
# Walks this short (at least three times the list) cut banks of dozens of contacts; a bank they can't tell is scored
# whole, as it would be anyway.
WALKS = (2, 8)


def _bank(url: str, rng: random.Random) -> list[tuple[int, str]]:
    """Three users' banks of random contacts, written straight into the tables (the triggers keep the flags); the
    users and their timezones."""
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        strategies = conn.execute(
            "SELECT strategy_id, max(position) FROM strategy_steps GROUP BY strategy_id"
        ).fetchall()
        users = []
        for n, tz in enumerate(rng.sample(TIMEZONES, 3)):
            row = conn.execute(
                "INSERT INTO users (name, email, timezone) VALUES (%s, %s, %s) RETURNING id",
                (f"User {n}", f"user{n}@example.com", tz),
            ).fetchone()
            users.append((row[0], tz))
        campaigns = [
            conn.execute(
                "INSERT INTO campaigns (name, status) VALUES (%s, %s) RETURNING id",
                (f"Campaign {n}", rng.choice(["live", "live", "draft", "closed"])),
            ).fetchone()[0]
            for n in range(4)
        ]
        for uid, _ in users:
            for n in range(rng.randint(30, 80)):
                _contact(conn, rng, uid, n, campaigns, strategies)
        # A live campaign ends after its members joined; some members leave their campaigns.
        conn.execute("UPDATE campaigns SET status = 'closed' WHERE id = %s", (campaigns[0],))
        conn.execute("DELETE FROM campaign_contacts WHERE id % 5 = 0")
    return users


def _contact(conn, rng: random.Random, uid: int, n: int, campaigns: list[int], strategies: list) -> None:
    created = NOW - timedelta(days=rng.uniform(0, 400))
    touched = None if rng.random() < 0.2 else NOW - timedelta(days=rng.choice([rng.uniform(0, 200), rng.uniform(0, 3)]))
    past_business = Decimal(0) if rng.random() < 0.7 else Decimal(rng.randint(1, 30_000_000)) / 100
    touch_first = rng.random() < 0.5  # the contact's last touch set before its activities are written, or after
    (cid,) = conn.execute(
        """INSERT INTO contacts (owner_id, name, warmness, past_business, created_at, last_contacted_at, archived_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            uid,
            f"Contact {uid}-{n}",
            rng.choices(range(6), weights=[30, 15, 15, 10, 15, 15])[0],
            past_business,
            created,
            touched if touch_first else None,
            NOW - timedelta(days=1) if rng.random() < 0.04 else None,
        ),
    ).fetchone()
    if touched is not None:
        earlier = [touched - timedelta(days=rng.uniform(0.1, 60)) for _ in range(rng.randint(0, 3))]
        last = [touched] * rng.choice([1, 1, 1, 2])  # two touches at the same moment: the later id counts
        for at in sorted(earlier) + last:
            kind = rng.choice(TOUCHES)
            conn.execute(
                """INSERT INTO activities (contact_id, user_id, kind, channel, outcome, occurred_at)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (cid, uid, kind, None if kind == "note" else kind, rng.choice(OUTCOMES), at),
            )
        if not touch_first:
            conn.execute("UPDATE contacts SET last_contacted_at = %s WHERE id = %s", (touched, cid))
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        conn.execute(
            """INSERT INTO follow_ups (contact_id, user_id, due_at, note, snoozed, status)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            (
                cid,
                uid,
                NOW + timedelta(days=rng.uniform(-10, 10)),
                rng.choice([None, "send the deck"]),
                rng.random() < 0.3,
                rng.choice(["open", "open", "open", "done"]),
            ),
        )
    if rng.random() < 0.12:
        strategy, steps = rng.choice(strategies)
        conn.execute(
            """INSERT INTO contact_plans (contact_id, user_id, strategy_id, status, current_step, started_at,
                                          step_due_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (
                cid,
                uid,
                strategy,
                rng.choice(["not_started", "in_progress", "in_progress", "paused"]),
                rng.randint(1, steps),
                NOW - timedelta(days=rng.uniform(0, 30)),
                NOW + timedelta(days=rng.uniform(-5, 5)),
            ),
        )
    for campaign in rng.sample(campaigns, rng.choice([0, 0, 0, 1, 2])):
        conn.execute("INSERT INTO campaign_contacts (campaign_id, contact_id) VALUES (%s, %s)", (campaign, cid))


async def _lists(session, uid: int, tz: str, now: datetime, **filters):
    walked = await ranking.suggest(session, user_id=uid, tz=tz, now=now, walks=WALKS, **filters)
    whole = await ranking.suggest(session, user_id=uid, tz=tz, now=now, walks=(), **filters)
    params = ranking.parameters(uid, tz, now, **filters)
    told = await ranking.walked(session, await rates.has_fit(session), params, WALKS) is not None
    return walked, whole, told


@pytest.mark.parametrize("seed", range(8))
async def test_the_walk_lists_exactly_what_scoring_every_contact_lists(core, database_url, seed):
    rng = random.Random(seed)
    users = _bank(database_url, rng)
    moments = [NOW, NOW + timedelta(hours=rng.uniform(1, 72)), NOW + timedelta(days=rng.uniform(20, 120))]
    told = 0
    for learned in (False, True):
        if learned:
            async with core.sessions() as session, session.begin():
                await rates.refit(session, now=NOW, kind="on_demand")
        async with core.reading() as session:
            campaign_id = (await session.execute(text("SELECT min(id) FROM campaigns"))).scalar_one()
            for uid, tz in users:
                for now in moments:
                    for filters in (
                        {"limit": 1},
                        {"limit": rng.choice([2, 3, 5, 10, 20])},
                        {"limit": 3, "warm_only": True},
                        {"limit": 3, "stale_days": rng.choice([0, 7, 30])},
                        {"limit": 3, "campaign_id": campaign_id},
                    ):
                        walked, whole, decided = await _lists(session, uid, tz, now, **filters)
                        assert walked == whole, (learned, uid, tz, now, filters)
                        told += decided
    assert told > 0  # the walk decided lists on its own, not only by reading banks whole


@pytest.mark.parametrize("seed", range(4))
async def test_no_contact_outscores_its_ceiling(core, database_url, seed):
    """Every contact due nothing today scores at most its rank_ceiling, what the day adds and the learned cap."""
    rng = random.Random(100 + seed)
    users = _bank(database_url, rng)
    if seed % 2:
        async with core.sessions() as session, session.begin():
            await rates.refit(session, now=NOW, kind="on_demand")
    async with core.reading() as session:
        fitted = await rates.has_fit(session)
        cap = 0.0
        if fitted:
            cap = (await session.execute(text(f"WITH {rates.FIT_CTES} {rates.points_cap_sql()}"))).scalar_one()
        ceilings = dict((await session.execute(text("SELECT id, rank_ceiling FROM contacts"))).all())
        checked = 0
        for uid, tz in users:
            for now in (NOW, NOW + timedelta(days=rng.uniform(1, 100))):
                rows = (
                    await session.execute(text(ranking._QUERIES[fitted]), ranking.parameters(uid, tz, now, 100_000))
                ).all()
                for row in rows:
                    if not row.has_due and row.plan_id is None:
                        assert row.score <= ceilings[row.id] + ranking.STALE_POINTS + cap + 1e-9, row
                        checked += 1
        assert checked > 50


async def _flags_to_fix(core) -> int:
    async with core.sessions() as session, session.begin():
        return (await session.execute(text("SELECT contact_rank_flags_rebuild()"))).scalar_one()


async def test_the_commands_keep_the_ceilings_flags(core, make, clock, gt, campaign):
    ana = await make.user("Ana")
    bob = await make.contact(ana, "Bob")
    carol = await make.contact(ana, "Carol")
    dan = await make.contact(ana, "Dan")
    me = Actor(ana.id)
    fintech = await campaign("Fintech", status="live")

    async def flags(contact):
        async with core.reading() as session:
            return (
                await session.execute(
                    text("SELECT rule_may_fire, in_campaign, rank_ceiling FROM contacts WHERE id = :id"),
                    {"id": contact.id},
                )
            ).one()

    assert tuple(await flags(bob)) == (False, False, 0)
    logged = await core.execute(LogOutreach(me, ContactRef(id=bob.id), "email"))
    assert (await flags(bob)).rule_may_fire  # no reply yet: a rule may fire
    clock.advance(minutes=1)
    await core.execute(UndoOutreach(me, ContactRef(id=bob.id), logged.activity_id))
    assert not (await flags(bob)).rule_may_fire
    await core.execute(LogOutreach(me, ContactRef(id=bob.id), "call", outcome="replied"))
    assert not (await flags(bob)).rule_may_fire
    clock.advance(minutes=1)
    await core.execute(RequestMeeting(me, ContactRef(id=carol.id)))
    assert (await flags(carol)).rule_may_fire  # a meeting requested, not booked
    clock.advance(minutes=1)
    await core.execute(BookMeeting(me, ContactRef(id=carol.id)))
    assert not (await flags(carol)).rule_may_fire
    await core.execute(EditContact(me, ContactRef(id=dan.id), "warmness", "5"))
    assert (await flags(dan)).rank_ceiling == 6 * 5 + 50  # warm: the untouched rule may fire
    await core.execute(AddToCampaign(me, CampaignRef(id=fintech.id), (dan.id, bob.id)))
    assert (await flags(dan)).in_campaign
    await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef(id=fintech.id), status="closed"))
    assert (await flags(dan)).in_campaign  # any campaign counts toward the ceiling
    clock.advance(minutes=1)
    await core.execute(LogOutreach(me, ContactRef(id=dan.id), "linkedin"))
    await core.execute(MergeContacts(me, ContactRef(id=carol.id), ContactRef(id=dan.id)))
    merged = await flags(carol)
    assert merged.rule_may_fire and merged.in_campaign
    await core.execute(ArchiveContact(me, ContactRef(id=bob.id)))
    await core.execute(RestoreContact(me, ContactRef(id=bob.id)))
    assert await _flags_to_fix(core) == 0


async def test_an_import_flags_the_contacts_it_puts_in_a_campaign(core, make, campaign):
    ana = await make.user("Ana")
    await campaign("Fintech", status="live")
    rows = [["Name", "Email", "Organisation", "Campaign"], ["Bo Chen", "bo@chen.io", "Chen", "Fintech"]]
    rows += [["Cy Diaz", "", "Globex", "Fintech"], ["Di Eng", "di@eng.io", "Eng", ""]]
    data = "\n".join(",".join(row) for row in rows).encode()
    report = await core.execute(ImportContacts(Actor(ana.id), data))
    assert report.imported == 3
    async with core.reading() as session:
        flagged = dict((await session.execute(text("SELECT name, in_campaign FROM contacts"))).all())
    assert flagged == {"Bo Chen": True, "Cy Diaz": True, "Di Eng": False}
    assert await _flags_to_fix(core) == 0


async def test_a_contact_left_unread_that_ties_the_last_row_still_wins_on_the_tie_break(core, database_url):
    """The first walk reads three contacts whose ceilings promise much (warm, past business) but touched yesterday,
    and the warm contact touched 100 days ago; the one touched 200 days ago, unread, scores the same (its ceiling
    plus the day's 40, exactly) and goes first, the longest untouched: the walk must read on."""
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        (uid,) = conn.execute(
            "INSERT INTO users (name, email) VALUES ('Ana', 'ana@example.com') RETURNING id"
        ).fetchone()
        for name, days, business in (("P1", 1, 100_000), ("P2", 1, 100_000), ("P3", 1, 100_000), ("Old", 100, 0),
                                     ("Older", 200, 0)):  # fmt: skip
            at = NOW - timedelta(days=days)
            (cid,) = conn.execute(
                """INSERT INTO contacts (owner_id, name, warmness, past_business, last_contacted_at)
                   VALUES (%s, %s, 5, %s, %s) RETURNING id""",
                (uid, name, business, at),
            ).fetchone()
            conn.execute(
                """INSERT INTO activities (contact_id, user_id, kind, channel, occurred_at)
                   VALUES (%s, %s, 'conference', 'conference', %s)""",
                (cid, uid, at),
            )
    async with core.reading() as session:
        walked = await ranking.suggest(session, user_id=uid, tz="Europe/London", now=NOW, limit=1, walks=(4, 8))
        whole = await ranking.suggest(session, user_id=uid, tz="Europe/London", now=NOW, limit=1, walks=())
    assert [s.contact.name for s in walked] == ["Older"]
    assert walked == whole

"""Benchmark: “who to contact today” for one user in a database of 1,000 users × 500 contacts.

    python -m bench.bench_today [--users 1000] [--contacts 500] [--activities 5000000] [--samples 300]

Reports p50/p95 of the full TodaySuggestions command (one transaction: ranking query + remembering the
list) and, beside it in the same run, the naive way the seeds sketch: load the user's contacts, follow-ups
and campaign memberships and score them in Python. Target: ≤ 10 ms p95 for the command. `figures()` is what
`python -m bench` calls: one population, then the medians of several measuring runs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
from datetime import UTC, datetime

import psycopg
from sqlalchemy import select

from bench.common import Figure, bench_database, figure, machine, percentile, repeated, summary
from core import db
from core.clock import FixedClock
from core.command import Actor
from core.feed import ranking
from core.feed.commands import TodaySuggestions
from core.models import Campaign, CampaignContact, Contact, FollowUp
from core.service import Core

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def populate(url: str, users: int, contacts: int, activities: int) -> None:
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        conn.execute(
            """INSERT INTO users (name, email, timezone)
                        SELECT 'User ' || g, 'user' || g || '@example.com',
                               (ARRAY['Europe/London','Europe/Paris','America/New_York','Asia/Tokyo'])[1 + g %% 4]
                          FROM generate_series(1, %s) g""",
            (users,),
        )
        conn.execute(
            """INSERT INTO contacts (owner_id, name, email, organisation, warmness, last_contacted_at,
                                              past_business)
                        SELECT u.id, 'Contact ' || u.id || '-' || g, 'c' || u.id || '-' || g || '@example.com',
                               'Org ' || (g %% 50), (random() * 5)::int,
                               CASE WHEN random() < 0.2 THEN NULL
                                    ELSE %s::timestamptz - (random() * 200) * interval '1 day' END,
                               CASE WHEN random() < 0.1 THEN round((random() * 100000)::numeric, 2) ELSE 0 END
                          FROM users u, generate_series(1, %s) g""",
            (NOW, contacts),
        )
        conn.execute(
            """INSERT INTO follow_ups (contact_id, user_id, due_at, note, snoozed)
                        SELECT id, owner_id, %s::timestamptz + (random() * 20 - 10) * interval '1 day',
                               'call back', random() < 0.3
                          FROM contacts WHERE random() < 0.05""",
            (NOW,),
        )
        conn.execute("""INSERT INTO campaigns (name, status)
                        SELECT 'Campaign ' || g, CASE WHEN g <= 20 THEN 'live' ELSE 'draft' END
                          FROM generate_series(1, 40) g""")
        conn.execute("""INSERT INTO campaign_contacts (campaign_id, contact_id)
                        SELECT 1 + (random() * 39)::int, id FROM contacts WHERE random() < 0.05
                        ON CONFLICT DO NOTHING""")
        conn.execute(
            """INSERT INTO activities (contact_id, user_id, kind, channel, occurred_at)
                        SELECT 1 + (random() * (SELECT max(id) - 1 FROM contacts))::int, 1 + g %% %s,
                               'email', 'email', %s::timestamptz - (random() * 365) * interval '1 day'
                          FROM generate_series(1, %s) g""",
            (users, NOW, activities),
        )
        # ~5% of contacts follow a cadence (core.cadences.plans), their current step due within five days either
        # way.
        conn.execute(
            """INSERT INTO contact_plans (contact_id, user_id, strategy_id, status, current_step,
                                                   started_at, step_due_at)
                        SELECT k.id, k.owner_id, s.id, CASE WHEN k.step > 1 THEN 'in_progress' ELSE 'not_started' END,
                               k.step, %s::timestamptz - interval '10 days',
                               %s::timestamptz + (random() * 10 - 5) * interval '1 day'
                          FROM (SELECT id, owner_id, 1 + (random() * 2)::int AS step FROM contacts
                                 WHERE random() < 0.05) k, strategies s
                         WHERE s.name = 'Warm intro'""",
            (NOW, NOW),
        )
        conn.execute("VACUUM ANALYZE")


async def naive(core: Core, user_id: int) -> list:
    """The seeds' way: everything of the user's into Python, scored there."""
    async with core.reading() as s:
        contacts = (await s.execute(select(Contact).where(Contact.owner_id == user_id))).scalars().all()
        fus = (
            (await s.execute(select(FollowUp).where(FollowUp.user_id == user_id, FollowUp.status == "open")))
            .scalars()
            .all()
        )
        live = set(
            (
                await s.execute(
                    select(CampaignContact.contact_id)
                    .join(Campaign)
                    .join(Contact)
                    .where(Campaign.status == "live", Contact.owner_id == user_id)
                )
            ).scalars()
        )
    due = {f.contact_id for f in fus if f.due_at <= NOW}
    future = {f.contact_id for f in fus if f.due_at > NOW} - due
    scored = []
    for k in contacts:
        if k.id in future:
            continue
        days = (NOW - k.last_contacted_at).days if k.last_contacted_at else 90
        score = (
            (100 if k.id in due else 0)
            + 40 * min(days, 90) / 90
            + 6 * k.warmness
            + 15 * min(math.log1p(float(k.past_business)) / math.log1p(100_000), 1)
            + (15 if k.id in live else 0)
        )
        scored.append((score, k))
    scored.sort(key=lambda t: -t[0])
    return scored[:10]


async def measure(url: str, users: int, samples: int, seed: int = 7) -> dict[str, list[float]]:
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine, clock=FixedClock(NOW))
    rng = random.Random(seed)
    picks = [rng.randint(1, users) for _ in range(samples)]
    results: dict[str, list[float]] = {"command": [], "query": [], "naive": []}
    for uid in picks[:20]:  # warm up the pool and the caches
        await core.execute(TodaySuggestions(Actor(uid, "bench")))
    for uid in picks:
        t0 = time.perf_counter()
        await core.execute(TodaySuggestions(Actor(uid, "bench")))
        t1 = time.perf_counter()
        await naive(core, uid)
        t2 = time.perf_counter()
        async with core.reading() as s:
            await ranking.suggest(s, user_id=uid, tz="Europe/London", now=NOW, limit=10)
        t3 = time.perf_counter()
        results["command"].append((t1 - t0) * 1000)
        results["naive"].append((t2 - t1) * 1000)
        results["query"].append((t3 - t2) * 1000)
    await engine.dispose()
    return results


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    users, contacts, activities, samples = (200, 100, 200_000, 100) if quick else (1000, 500, 5_000_000, 300)
    with bench_database("pipedriven_bench_today") as url:
        t0 = time.perf_counter()
        populate(url, users, contacts, activities)
        populated = time.perf_counter() - t0

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure(url, users, samples, seed=7 + run))
            return {f"{name}_p{p}": percentile(values, p) for name, values in results.items() for p in (50, 95)}

        stats = repeated(runs, once)
    size = f"{users:,} users × {contacts} contacts, {activities:,} activities (populated in {populated:.0f} s)"
    return [
        figure(stats, "command_p50", f"today's list, p50 ({size})", "ms"),
        figure(stats, "command_p95", "today's list, p95", "ms", target="≤ 10 ms", limit=10),
        figure(stats, "query_p95", "  the ranking query alone, p95", "ms"),
        figure(stats, "naive_p50", "  beside it: naive (contacts scored in Python), p50", "ms"),
        figure(stats, "naive_p95", "  beside it: naive, p95", "ms"),
    ]


def account_figures(quick: bool, runs: int = 3) -> list[Figure]:
    """Today's list for users with 10,000 contacts each, on the account-scale data set (bench/account_scale.py)."""
    from bench.account_scale import FULL, QUICK, account_database

    size = QUICK if quick else FULL
    samples = 30 if quick else 50
    with account_database(quick) as url:

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure(url, size.users, samples, seed=17 + run))
            return {f"{name}_p{p}": percentile(values, p) for name, values in results.items() for p in (50, 95)}

        stats = repeated(runs, once)
    bank = f"{size.contacts_per_user:,} contacts each ({size.describe()})"
    return [
        figure(stats, "command_p50", f"today's list for a user with {bank}, p50", "ms"),
        figure(stats, "command_p95", "today's list, p95", "ms", target="≤ 15 ms", limit=15),
        figure(stats, "query_p95", "  the ranking query alone, p95", "ms"),
        figure(stats, "naive_p50", "  beside it: naive (contacts scored in Python), p50", "ms"),
        figure(stats, "naive_p95", "  beside it: naive, p95", "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--activities", type=int, default=5_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--account", action="store_true", help="on the account-scale data set instead (users of 10,000 contacts)"
    )
    parser.add_argument("--quick", action="store_true", help="with --account: its smaller size")
    args = parser.parse_args()
    if args.account:
        from bench.account_scale import FULL, QUICK, account_database
        from bench.common import shared_server

        with shared_server(), account_database(args.quick) as url:
            results = asyncio.run(measure(url, (QUICK if args.quick else FULL).users, args.samples))
        print(f"today's list (TodaySuggestions command): {summary(results['command'])}")
        print(f"the ranking query alone:                 {summary(results['query'])}")
        print(f"naive, scored in Python (beside it):     {summary(results['naive'])}")
        return
    with bench_database("pipedriven_bench_today") as url:
        t0 = time.perf_counter()
        populate(url, args.users, args.contacts, args.activities)
        print(
            f"populated {args.users} users × {args.contacts} contacts, {args.activities} activities "
            f"in {time.perf_counter() - t0:.1f} s ({machine()})"
        )
        results = asyncio.run(measure(url, args.users, args.samples))
    print(f"today's list (TodaySuggestions command): {summary(results['command'])}")
    print(f"the ranking query alone:                 {summary(results['query'])}")
    print(f"naive, scored in Python (beside it):     {summary(results['naive'])}")


if __name__ == "__main__":
    main()

"""Benchmark: `stats` by campaign, user and method over 10,000,000 activities, any period.

    python -m bench.bench_stats [--quick] [--samples 60]

On the account-scale data set (bench/account_scale.py). Each sample is one GetStats command (one transaction)
with a grouping (none, campaign, user, method), a period (all time, this month in Paris, the last 30 days from
now, since a day in Kolkata, a period inside one day) and, one time in four, one campaign. Beside it, in the same
run, the plain GROUP BY over the activities it replaced (core.stats.handlers.counted_from_activities), on fewer
samples: it reads every activity of the period. Target: ≤ 200 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from bench.account_scale import NOW, account_database
from bench.common import Figure, figure, percentile, repeated, shared_server, summary
from core import db
from core.clock import FixedClock
from core.command import Actor, CampaignRef
from core.service import Core
from core.stats.commands import GetStats
from core.stats.handlers import counted_from_activities

PERIODS = {
    "all time": (None, None),
    "this month (Paris)": (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), None),
    "last 30 days": (NOW - timedelta(days=30), None),
    "since a day (Kolkata)": (datetime(2026, 2, 28, 18, 30, tzinfo=UTC), None),
    "inside one day": (NOW - timedelta(hours=20), NOW - timedelta(hours=2)),
}
GROUPS = (None, "campaign", "user", "method")


def plan(samples: int, seed: int) -> list[tuple[str | None, str, int | None]]:
    rng = random.Random(seed)
    return [
        (rng.choice(GROUPS), rng.choice(list(PERIODS)), rng.randint(1, 40) if rng.random() < 0.25 else None)
        for _ in range(samples)
    ]


async def measure(url: str, samples: int, plain_samples: int, seed: int) -> dict[str, list[float]]:
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine, clock=FixedClock(NOW))
    results: dict[str, list[float]] = {"stats": [], "plain": []}
    picks = plan(samples, seed)
    for group_by, period, campaign in picks[:5]:  # warm up
        since, until = PERIODS[period]
        await core.execute(
            GetStats(Actor(1, "bench"), CampaignRef(id=campaign) if campaign else None, group_by, since, until)
        )
    for group_by, period, campaign in picks:
        since, until = PERIODS[period]
        t0 = time.perf_counter()
        await core.execute(
            GetStats(Actor(1, "bench"), CampaignRef(id=campaign) if campaign else None, group_by, since, until)
        )
        results["stats"].append((time.perf_counter() - t0) * 1000)
    for group_by, period, campaign in picks[:plain_samples]:
        since, until = PERIODS[period]
        t0 = time.perf_counter()
        async with core.reading() as session:
            await counted_from_activities(
                session, group_by=group_by, since=since, until=until, campaign_id=campaign, user_id=None
            )
        results["plain"].append((time.perf_counter() - t0) * 1000)
    await engine.dispose()
    return results


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    samples, plain_samples = (30, 3) if quick else (60, 6)
    with account_database(quick) as url:

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure(url, samples, plain_samples, seed=11 + run))
            return {
                "stats_p50": percentile(results["stats"], 50),
                "stats_p95": percentile(results["stats"], 95),
                "plain_p50": percentile(results["plain"], 50),
                "plain_max": max(results["plain"]),
            }

        stats = repeated(runs, once)
    size = "10,000,000 activities" if not quick else "500,000 activities"
    return [
        figure(stats, "stats_p50", f"stats by campaign / user / method, any period, p50 ({size})", "ms"),
        figure(stats, "stats_p95", "stats, p95", "ms", target="≤ 200 ms", limit=200),
        figure(
            stats,
            "plain_p50",
            f"  beside it: the plain GROUP BY over the activities, p50 ({plain_samples} samples)",
            "ms",
        ),
        figure(stats, "plain_max", "  beside it: the plain GROUP BY, slowest", "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--plain-samples", type=int, default=6)
    args = parser.parse_args()
    with shared_server(), account_database(args.quick) as url:
        results = asyncio.run(measure(url, args.samples, args.plain_samples, seed=11))
    print(f"stats (rollups):          {summary(results['stats'])}")
    print(f"plain GROUP BY (beside):  {summary(results['plain'])}")


if __name__ == "__main__":
    main()

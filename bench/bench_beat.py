"""Benchmark: the scheduler's beat with nothing due among 10,000 users.

    python -m bench.bench_beat [--quick] [--beats 100]

On the account-scale data set (bench/account_scale.py): 10,000 users in six timezones, each with a Slack or
Telegram account; today's digests (and yesterday's) already sent; 50,000 open follow-ups and 30,000 cadence
plans, all due later. At Tuesday 09:00 UTC it is working time in London, Paris, Madrid and Kolkata: every user
there passes the working-hours test and their follow-ups and steps are looked at. One beat is what
`pipedriven run` does every 30 seconds (scheduler.dispatch.Dispatcher.tick, both platforms: retakes, digests,
nudges, steps, sync notices, Pipedrive notes); every thirtieth beat is also the rule nudges' sweep, as with a
30-second tick and RULE_SWEEP_MINUTES of 15 (the rule nudges due at that moment were sent by the warm-up beats),
timed on its own too. Beside it,
in the same run, the naive way: every user with their chat accounts, open follow-ups and active plans loaded and
checked in Python. Target: ≤ 50 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.account_scale import NOW, account_database
from bench.common import Figure, figure, percentile, repeated, shared_server, summary
from bot.notify import ChatCourier
from core import db
from core.clock import FixedClock
from core.models import ChatIdentity, ContactPlan, FollowUp, User
from core.service import Core
from scheduler.dispatch import Dispatcher


class SentBefore:
    """A notifier that sends what was due before the measured beats (the rule nudges of the moment), then nothing."""

    def __init__(self) -> None:
        self.open = True

    async def send(self, *args, **kwargs):
        if self.open:
            return "sent before the measured beats"
        raise AssertionError("nothing is due: nothing should be sent")


async def naive_beat(core: Core) -> int:
    """Everyone's accounts, follow-ups and plans into Python, each user's digest and nudges decided there."""
    due = 0
    async with core.reading() as s:
        users = (await s.execute(select(User).where(User.active))).scalars().all()
        identities = (await s.execute(select(ChatIdentity))).scalars().all()
        follow_ups = (await s.execute(select(FollowUp).where(FollowUp.status == "open"))).scalars().all()
        plans = (
            (await s.execute(select(ContactPlan).where(ContactPlan.status.in_(("not_started", "in_progress")))))
            .scalars()
            .all()
        )
    reachable = {i.user_id for i in identities}
    by_user: dict[int, int] = {}
    for f in follow_ups:
        if f.due_at <= NOW:
            by_user[f.user_id] = by_user.get(f.user_id, 0) + 1
    for p in plans:
        if p.step_due_at and p.step_due_at <= NOW:
            by_user[p.user_id] = by_user.get(p.user_id, 0) + 1
    for u in users:
        local = NOW.astimezone(ZoneInfo(u.timezone))
        at_work = local.isoweekday() in u.working_days and local.time() >= u.digest_time
        if u.id in reachable and at_work and by_user.get(u.id):
            due += 1
    return due


async def measure(url: str, beats: int, naive_beats: int) -> dict[str, list[float]]:
    engine = db.create_engine(url, pool_size=4)
    core = Core(engine, clock=FixedClock(NOW + timedelta(seconds=1)))
    notifier = SentBefore()
    # Unpaced: the warm-up's sends reach no platform, and the measured beats send nothing.
    dispatcher = Dispatcher(core, ChatCourier(core, {"telegram": notifier, "slack": notifier}), limits={})
    sweep_every = round(core.settings.rule_sweep_minutes * 60 / core.settings.scheduler_tick_seconds)
    results: dict[str, list[float]] = {"beat": [], "sweep": [], "naive": []}
    for _ in range(5):  # warm up: what is due at this moment goes out first
        await dispatcher.tick()
    notifier.open = False
    for n in range(beats):
        if n % sweep_every == sweep_every - 1:  # the rule nudges' sweep comes round, as every RULE_SWEEP_MINUTES
            dispatcher.rules_swept_at.clear()
        swept = dict(dispatcher.rules_swept_at)
        t0 = time.perf_counter()
        outcomes = await dispatcher.tick()
        took = (time.perf_counter() - t0) * 1000
        results["beat"].append(took)
        if dispatcher.rules_swept_at != swept:
            results["sweep"].append(took)
        assert not outcomes, outcomes
        if n < naive_beats:
            t0 = time.perf_counter()
            await naive_beat(core)
            results["naive"].append((time.perf_counter() - t0) * 1000)
    await engine.dispose()
    return results


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    beats, naive_beats = (30, 3) if quick else (100, 5)
    with account_database(quick) as url:

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure(url, beats, naive_beats))
            return {
                "beat_p50": percentile(results["beat"], 50),
                "beat_p95": percentile(results["beat"], 95),
                "naive_p50": percentile(results["naive"], 50),
                "sweep_p50": percentile(results["sweep"], 50),
                "sweeps": len(results["sweep"]),
            }

        stats = repeated(runs, once)
    users = "10,000 users" if not quick else "2,000 users"
    return [
        figure(stats, "beat_p50", f"a scheduler beat with nothing due among {users}, p50 (both platforms)", "ms"),
        figure(stats, "beat_p95", "  p95", "ms", target="≤ 50 ms", limit=50),
        figure(stats, "sweeps", "  of which the rule nudges' sweep (every 15 minutes: one beat in 30)", ""),
        figure(stats, "sweep_p50", "  a beat with the rule nudges' sweep, p50", "ms"),
        figure(stats, "naive_p50", "  beside it: naive (everyone's follow-ups and plans checked in Python), p50", "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--beats", type=int, default=100)
    args = parser.parse_args()
    with shared_server(), account_database(args.quick) as url:
        results = asyncio.run(measure(url, args.beats, 5))
    print(f"beat, nothing due:        {summary(results['beat'])}")
    print(f"  with the rules' sweep:  {summary(results['sweep'])}")
    print(f"naive beat (beside):      {summary(results['naive'])}")


if __name__ == "__main__":
    main()

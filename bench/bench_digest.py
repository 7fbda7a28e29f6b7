"""Benchmark: 1,000 users' morning digests through a local fake Telegram that enforces Telegram's rate limit.

    python -m bench.bench_digest [--users 1000] [--contacts 20] [--unpaced]

Every user is in Europe/London with the default 08:30 digest and a Telegram account, and the clock starts at
Tuesday 08:30, so all the digests fall due in the same tick. The fake platform (fakes/sendmessage.py, an
aiohttp server on 127.0.0.1) answers 429 with a retry_after beyond 30 messages in any sliding second, or 1 a
second to one chat; the minimal HTTP notifier there reaches it. The scheduler's dispatcher runs as in
`pipedriven run` (claims in PostgreSQL, digests built by the core, sends paced per platform, outcomes
recorded); the bench only beats faster than the 30-second production beat, so that retries after a 429 are
not left waiting for it. Reports the total time, messages per second and the 429 count, and the cost of a tick
with nothing due (what every process pays each beat). `--unpaced` turns the scheduler's pacing off, to show
what it saves. `figures()` is what `python -m bench` calls (the digest through the real notifiers and both
platforms is bench/bench_process.py's).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import Figure, bench_database, figure, machine, percentile, repeated, summary
from bot.notify import ChatCourier
from core import db
from core.service import Core
from fakes.sendmessage import FakeTelegram, HttpTelegramNotifier
from scheduler.dispatch import Dispatcher
from scheduler.rate import DEFAULT_LIMITS

START = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # a Tuesday, 08:30 in London
BEAT_SECONDS = 0.25
IDLE_TICKS = 50


class RunningClock:
    """Starts at START and runs with real time, so that retry-afters fall due as they would."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return START + timedelta(seconds=time.monotonic() - self._t0)


def populate(url: str, users: int, contacts: int) -> None:
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        conn.execute(
            """INSERT INTO users (name, email, timezone)
                        SELECT 'User ' || g, 'user' || g || '@example.com', 'Europe/London'
                          FROM generate_series(1, %s) g""",
            (users,),
        )
        conn.execute("""INSERT INTO chat_identities (user_id, platform, external_user_id)
                        SELECT id, 'telegram', (100000 + id)::text FROM users""")
        conn.execute(
            """INSERT INTO contacts (owner_id, name, email, warmness, last_contacted_at)
                        SELECT u.id, 'Contact ' || u.id || '-' || g, 'c' || u.id || '-' || g || '@example.com',
                               (random() * 5)::int, %s::timestamptz - (random() * 200) * interval '1 day'
                          FROM users u, generate_series(1, %s) g""",
            (START - timedelta(days=1), contacts),
        )
        conn.execute("VACUUM ANALYZE")


async def run(url: str, users: int, paced: bool) -> dict:
    server = FakeTelegram()
    notifier = HttpTelegramNotifier(await server.start())
    engine = db.create_engine(url, pool_size=10)
    core = Core(engine, clock=RunningClock())
    dispatcher = Dispatcher(core, ChatCourier(core, {"telegram": notifier}), limits=DEFAULT_LIMITS if paced else {})
    outcomes: Counter = Counter()
    beats = 0
    started = time.perf_counter()
    try:
        while outcomes["sent"] + outcomes["empty"] + outcomes["failed"] < users:
            outcomes.update(await dispatcher.tick())
            beats += 1
            await asyncio.sleep(BEAT_SECONDS)
        elapsed = time.perf_counter() - started - BEAT_SECONDS  # the last beat found nothing more to do
        idle_ms = []
        for _ in range(IDLE_TICKS):  # what every process pays each beat when nothing is due
            begin = time.perf_counter()
            await dispatcher.tick()
            idle_ms.append((time.perf_counter() - begin) * 1000)
    finally:
        await notifier.close()
        await server.stop()
        await engine.dispose()
    return {
        "delivered": len(server.delivered),
        "elapsed": elapsed,
        "throttled": server.too_many_requests,
        "retries": outcomes["retry"],
        "beats": beats,
        "idle_ms": idle_ms,
    }


def report(users: int, paced: bool, r: dict) -> None:
    print(
        f"{'paced' if paced else 'unpaced'}: {r['delivered']} digests delivered in {r['elapsed']:.1f} s = "
        f"{r['delivered'] / r['elapsed']:.1f} messages/s (limit 30/s), 429 answers: {r['throttled']}, "
        f"retries: {r['retries']}, ticks: {r['beats']}"
    )
    print(f"  a tick with nothing due among {users} users: {summary(r['idle_ms'])}")


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    """The cost of a beat with nothing due (what every process pays every 30 s), after the digests went."""
    users = 200 if quick else 1000

    def once(index: int) -> dict[str, float]:
        with bench_database(f"pipedriven_bench_digest_{index}") as url:
            populate(url, users, 20)
            r = asyncio.run(run(url, users, True))
        return {"idle_p50": percentile(r["idle_ms"], 50), "idle_p95": percentile(r["idle_ms"], 95)}

    stats = repeated(runs, once)
    return [
        figure(stats, "idle_p50", f"a scheduler beat with nothing due among {users:,} users, p50", "ms"),
        figure(stats, "idle_p95", "  p95", "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--unpaced", action="store_true", help="also run with the scheduler's pacing off")
    args = parser.parse_args()
    print(f"bench_digest: {args.users} users × {args.contacts} contacts, one Telegram account each; {machine()}")
    for paced in (True, False) if args.unpaced else (True,):
        with bench_database(f"pipedriven_bench_digest_{'paced' if paced else 'unpaced'}") as url:
            populate(url, args.users, args.contacts)
            report(args.users, paced, asyncio.run(run(url, args.users, paced)))


if __name__ == "__main__":
    main()

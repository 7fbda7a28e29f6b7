"""Rate limits counted in PostgreSQL (core.shared_limits): limiters in different processes keep one pace."""

from __future__ import annotations

import asyncio

from core.db import libpq_url
from core.ratelimit import Limit, Limiter
from core.shared_limits import PostgresStore, shared


async def test_two_processes_limiters_keep_one_pace_between_them(database_url):
    stores = [PostgresStore(libpq_url(database_url)), PostgresStore(libpq_url(database_url))]  # one per process
    limiters = [Limiter({"overall": Limit.rate(40, 1.0)}, name="bot", **shared(store)) for store in stores]
    moments: list[float] = []

    async def send(limiter: Limiter, n: int) -> None:
        for _ in range(n):
            await limiter.acquire("overall")
            moments.append(stores[0].clock())

    try:
        await asyncio.gather(send(limiters[0], 10), send(limiters[1], 10))
    finally:
        for store in stores:
            await store.close()
    moments.sort()
    busiest = max(sum(1 for m in moments if start <= m < start + 0.25) for start in moments)
    assert busiest <= 11  # 40 a second between the two: 10 in a quarter second, one more for timing jitter
    assert moments[-1] - moments[0] >= 19 * 0.025 - 0.01


async def test_a_hold_in_one_process_holds_the_other(database_url):
    stores = [PostgresStore(libpq_url(database_url)), PostgresStore(libpq_url(database_url))]
    first, second = (Limiter({"overall": Limit.rate(100, 1.0)}, name="bot", **shared(store)) for store in stores)
    try:
        before_the_hold = stores[1].clock()
        await first.hold(0.3)
        await second.acquire("overall")
        assert stores[1].clock() - before_the_hold >= 0.29
    finally:
        for store in stores:
            await store.close()


async def test_a_window_counted_from_answers_is_shared(database_url):
    stores = [PostgresStore(libpq_url(database_url)), PostgresStore(libpq_url(database_url))]
    limits = {"requests": Limit.window(2, 0.2)}
    first, second = (Limiter(limits, name="pipedrive-x", **shared(store)) for store in stores)
    try:
        ticket = await first.acquire("requests")
        await second.acquire("requests")
        assert await second.take("requests") is None  # both places wait for their answers
        await first.done(ticket)
        await asyncio.sleep(0.25)
        assert await second.take("requests") is not None
    finally:
        for store in stores:
            await store.close()

"""A per-token throttle that keeps below Pipedrive's burst limits, so a burst of syncs meets no 429.

Pipedrive counts requests per API token over a rolling 2-second window (20 to 120 by plan, searches 10). Each
is a rolling window of core.ratelimit, whose places come back two seconds after each answer (the server counts
a request when it arrives, some time between our sending it and its answer). It aims a little below each limit
(clocks and networks differ), adopts the limit Pipedrive reports in `x-ratelimit-limit`, and after a 429 holds
every request of the token until the window resets. The clock and the sleep are injected, so tests move time
instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.ratelimit import Limit, Limiter, Store, Ticket

WINDOW_SECONDS = 2.0
REQUESTS, SEARCHES = "requests", "searches"  # the names of the two limits


def budget(limit: int) -> int:
    """How many requests to allow per window for a limit of `limit`: a tenth (at least one) below it."""
    return max(1, limit - max(1, limit // 10))


def window(limit: int) -> Limit:
    return Limit.window(budget(limit), WINDOW_SECONDS)


class Throttle:
    """The throttle of one API token: every request, and searches apart."""

    def __init__(
        self,
        burst_limit: int,
        search_limit: int,
        *,
        name: str = "pipedrive",
        store: Store | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.limiter = Limiter(
            {REQUESTS: window(burst_limit), SEARCHES: window(search_limit)},
            name=name,
            store=store,
            clock=clock,
            sleep=sleep,
        )
        self.waited_seconds = 0.0  # time spent holding requests back, for the benchmark

    async def acquire(self, *, search: bool = False) -> Ticket:
        """Wait until this request fits in the windows and take its place; `done(ticket)` when answered."""
        start = self.clock()
        ticket = await self.limiter.acquire(*((SEARCHES, REQUESTS) if search else (REQUESTS,)))
        self.waited_seconds += self.clock() - start
        return ticket

    async def done(self, ticket: Ticket) -> None:
        """The request's answer came (or it failed): its place frees a window later."""
        await self.limiter.done(ticket)

    async def observe(self, *, limit: int | None, remaining: int | None, reset: float | None, search: bool) -> None:
        """Learn from a response's x-ratelimit-* headers (a search reports the search limit, not the burst)."""
        if limit is not None and limit > 0:
            self.limiter.limits[SEARCHES if search else REQUESTS] = window(limit)
        if remaining == 0 and reset:
            await self.hold(reset)

    async def hold(self, seconds: float) -> None:
        """Send nothing on this token for `seconds` (after a 429, until its window resets)."""
        await self.limiter.hold(seconds)

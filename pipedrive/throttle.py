"""A per-token throttle that keeps below Pipedrive's burst limits, so a burst of syncs meets no 429.

Pipedrive counts requests per API token over a rolling 2-second window (20 to 120 by plan, searches 10).
A leaky bucket (aiolimiter) would let through up to twice the limit within one such window, so this keeps a
log of send times instead. It aims a little below each limit (clocks and networks differ), adopts the limit
Pipedrive reports in `x-ratelimit-limit`, and after a 429 holds every request of the token until the
window resets. The clock and the sleep are injected, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 2.0


def budget(limit: int) -> int:
    """How many requests to allow per window for a limit of `limit`: a tenth (at least one) below it."""
    return max(1, limit - max(1, limit // 10))


class SlidingWindow:
    """At most `limit` events within any `window` seconds."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._sent: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        """Seconds until one more event fits (0: now)."""
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[len(self._sent) - self.limit] + self.window - now

    def record(self, now: float) -> None:
        self._sent.append(now)


class Throttle:
    """The throttle of one API token: every request, and searches apart."""

    def __init__(self, burst_limit: int, search_limit: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._all = SlidingWindow(budget(burst_limit))
        self._search = SlidingWindow(budget(search_limit))
        self._held_until = 0.0
        self.waited_seconds = 0.0  # time spent holding requests back, for the benchmark

    async def acquire(self, *, search: bool = False) -> None:
        """Wait until this request fits in the windows, then count it."""
        while True:
            now = self.clock()
            wait = max(self._held_until - now, self._all.wait_needed(now),
                       self._search.wait_needed(now) if search else 0.0)
            if wait <= 0:
                self._all.record(now)
                if search:
                    self._search.record(now)
                return
            self.waited_seconds += wait
            await self.sleep(wait)

    def observe(self, *, limit: int | None, remaining: int | None, reset: float | None, search: bool) -> None:
        """Learn from a response's x-ratelimit-* headers (a search reports the search limit, not the burst)."""
        window = self._search if search else self._all
        if limit is not None and limit > 0:
            window.limit = budget(limit)
        if remaining == 0 and reset:
            self.hold(reset)

    def hold(self, seconds: float) -> None:
        """Send nothing on this token for `seconds` (after a 429, until its window resets)."""
        self._held_until = max(self._held_until, self.clock() + seconds)

"""A per-token throttle that keeps below Pipedrive's burst limits, so a burst of syncs meets no 429.

Pipedrive counts requests per API token over a rolling 2-second window (20 to 120 by plan, searches 10).
A leaky bucket (aiolimiter) would let through up to twice the limit within one such window, so this keeps a
log of the requests in the window instead. It aims a little below each limit (clocks and networks differ), adopts the limit
Pipedrive reports in `x-ratelimit-limit`, and after a 429 holds every request of the token until the
window resets. The clock and the sleep are injected, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 2.0
IN_FLIGHT_POLL_SECONDS = 0.05


def budget(limit: int) -> int:
    """How many requests to allow per window for a limit of `limit`: a tenth (at least one) below it."""
    return max(1, limit - max(1, limit // 10))


class Slot:
    """One request's place in a window: taken when it is sent, timed when its answer comes."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None  # None while the request is in flight


class SlidingWindow:
    """At most `limit` requests within any `window` seconds, as the server counts them.

    The server counts a request when it arrives, some time between our sending it and its answer, so a slot
    frees `window` seconds after the answer: never earlier than the server's own count lets it.
    """

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._slots: list[Slot] = []

    def wait_needed(self, now: float) -> float:
        """Seconds until one more request fits (0: now)."""
        self._slots = [s for s in self._slots if s.at is None or s.at > now - self.window]
        if len(self._slots) < self.limit:
            return 0.0
        answered = sorted(s.at for s in self._slots if s.at is not None)
        excess = len(self._slots) - self.limit  # this many must leave the window first
        if excess < len(answered):
            return answered[excess] + self.window - now
        return IN_FLIGHT_POLL_SECONDS  # the window is full of requests still waiting for their answers

    def take(self, slot: Slot) -> None:
        self._slots.append(slot)


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

    async def acquire(self, *, search: bool = False) -> Slot:
        """Wait until this request fits in the windows and take its place; `done(slot)` when answered."""
        while True:
            now = self.clock()
            wait = max(self._held_until - now, self._all.wait_needed(now),
                       self._search.wait_needed(now) if search else 0.0)
            if wait <= 0:
                slot = Slot()
                self._all.take(slot)
                if search:
                    self._search.take(slot)
                return slot
            self.waited_seconds += wait
            await self.sleep(wait)

    def done(self, slot: Slot) -> None:
        """The request's answer came (or it failed): its place frees a window later."""
        slot.at = self.clock()

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

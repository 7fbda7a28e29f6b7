"""One rate limiter for every limit we keep: Slack's and Telegram's pace, Pipedrive's rolling windows.

A limit has places. A message takes one place of each limit it comes under and gives it back `hold` seconds
after it went, or, for a limit counted from answers, `hold` seconds after its answer came; the places of a
paced limit come back in turn, at least `spacing` apart. A message may go when each of its limits has a place
free and nothing holds the limiter. That one rule has the two shapes the platforms ask for:

- `Limit.rate(count, per, burst)`: `count` every `per` seconds, evenly spaced, of which up to `burst` may go back
  to back: `burst` places, given back one interval (`per / count`) apart. This is GCRA, the generic cell rate
  algorithm (a token bucket): Slack and Telegram get a short burst and then an even pace, never a clump that
  network jitter could squeeze into one of their sliding seconds.
- `Limit.window(count, per)`: at most `count` within any `per` seconds, as Pipedrive counts per API token:
  `count` places, each given back `per` seconds after its answer. The server counts a request when it arrives,
  somewhere between our sending it and its answer, so a place never frees before the server's own count lets
  it. (A token bucket of `count` would let up to twice `count` into one window.)

Limits have names, and a limit is counted apart for each key a message names: `acquire(("chat", 42),
"platform")` takes a place of chat 42's own limit and one of the platform's. The last limit named is the shared
one: messages take their turn at it in order, and a message still waiting for its own key's place takes no
turn, so a busy chat holds up no other. `hold(seconds)` after a 429 holds every message of the limiter until
then. The clock and the sleep are injected, so tests move time instead of waiting.

The state lives in a `Store`: `MemoryStore` keeps it in this process, so the limits are per process;
core.shared_limits.PostgresStore keeps it in a PostgreSQL table (those rows locked for the step, a wall clock
the processes share instead of a monotonic one), so several processes keep one pace. The seam is one atomic step
on the state of a few keys: a message that finds its places free takes them in one step after the check that
its own key's are. The module imports nothing but the standard library.

Hand-written rather than a library's: pyrate-limiter 4 has GCRA with bursts and a rolling log, buckets in
PostgreSQL and Redis, but no place counted from its answer (what keeps Pipedrive at 0 × 429), no hold, a
PostgreSQL bucket for the log algorithms only, waits rounded to whole milliseconds plus a 50 ms buffer, and a
limiter that sleeps with asyncio.sleep (no virtual time in tests); `limits` 5 has rolling windows but no GCRA,
no PostgreSQL storage and no injected clock.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")
Want = str | tuple[str, Hashable]  # a limit's name, with the key it is counted under (a chat, a group)
StoreKey = tuple[Hashable, ...]

ANSWER_POLL_SECONDS = 0.05  # every place is held by a message awaiting its answer: look again this often


@dataclass(frozen=True)
class Limit:
    """Each message takes one of `places`, which comes back `hold` seconds after the message went (or, when
    `from_answer`, after its answer came) and at least `spacing` after the place that came back before it."""

    places: int
    hold: float
    spacing: float = 0.0
    from_answer: bool = False

    @classmethod
    def rate(cls, count: int, per: float, burst: int = 1) -> Limit:
        """`count` messages every `per` seconds, evenly spaced, of which up to `burst` may go back to back."""
        interval = per / count
        return cls(places=burst, hold=interval, spacing=interval)

    @classmethod
    def window(cls, count: int, per: float) -> Limit:
        """At most `count` messages within any `per` seconds, each counted until `per` after its answer."""
        return cls(places=count, hold=per, from_answer=True)

    def free_at(self, state: Places, now: float) -> float:
        """The first moment from `now` at which one more message fits."""
        state.forget_before(now)
        excess = len(state.back_at) + state.answers_due - self.places  # this many must come back first
        if excess < 0:
            return now
        if excess < len(state.back_at):
            return state.back_at[excess]
        return now + ANSWER_POLL_SECONDS

    def take(self, state: Places, now: float) -> None:
        if self.from_answer:
            state.answers_due += 1
            return
        back = now + self.hold
        if self.spacing and state.back_at:
            back = max(back, state.back_at[-1] + self.spacing)
        bisect.insort(state.back_at, back)

    def answered(self, state: Places, now: float) -> None:
        state.answers_due = max(0, state.answers_due - 1)
        bisect.insort(state.back_at, now + self.hold)


@dataclass
class Places:
    """The state of one limit for one key (or of the limiter's hold): plain numbers, for any store to keep."""

    back_at: list[float] = field(default_factory=list)  # when the places taken come back, in order
    answers_due: int = 0  # places taken by messages whose answer has not come yet
    held_until: float = -math.inf

    def forget_before(self, now: float) -> None:
        if self.back_at and self.back_at[0] <= now:
            del self.back_at[: bisect.bisect_right(self.back_at, now)]

    def idle(self, now: float) -> bool:
        """As good as new: nothing taken, nothing held."""
        return not self.answers_due and self.held_until <= now and (not self.back_at or self.back_at[-1] <= now)


class Store(Protocol):
    """Where the limiters keep their state."""

    async def update(self, keys: Sequence[StoreKey], now: float, step: Callable[[list[Places]], T]) -> T:
        """Run `step` on the state of `keys` (new ones start empty) as one atomic step, keep what it leaves, and
        return what it returns."""
        ...


class MemoryStore:
    """The state in this process's memory. A key as good as new is not kept; past `max_keys` keys, those that
    have become so since are dropped."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._places: dict[StoreKey, Places] = {}

    async def update(self, keys: Sequence[StoreKey], now: float, step: Callable[[list[Places]], T]) -> T:
        if len(self._places) + len(keys) > self.max_keys:
            self._places = {k: p for k, p in self._places.items() if k in keys or not p.idle(now)}
        states = [self._places.get(key) or Places() for key in keys]
        result = step(states)
        for key, state in zip(keys, states):
            if state.idle(now):
                self._places.pop(key, None)
            else:
                self._places[key] = state
        return result

    def __iter__(self) -> Iterator[StoreKey]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


@dataclass(frozen=True)
class Ticket:
    """The places one message took; `Limiter.done(ticket)` when its answer comes."""

    from_answer: tuple[StoreKey, ...] = ()  # the keys of the places counted from its answer


class Limiter:
    """Named limits (`None`: not limited), counted per key, with a hold; see the module's docstring.

    `limits` may be changed in place, e.g. to adopt the limit a server reports: the places already taken stay.
    """

    def __init__(
        self,
        limits: Mapping[str, Limit | None],
        *,
        name: str = "",
        store: Store | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = dict(limits)
        self.name = name  # sets this limiter's keys apart from others' in a shared store
        self.store: Store = store if store is not None else MemoryStore()
        self.clock = clock
        self.sleep = sleep
        self._turn = asyncio.Lock()

    async def acquire(self, *wants: Want) -> Ticket:
        """Wait until a message under `wants` may go, and take its places. The last want is the shared one
        whose turns go in order; the others are waited for without a turn. With no wants, only a hold waits."""
        own = wants[:-1]
        while True:
            await self._until_free(own)
            async with self._turn if wants else contextlib.nullcontext():
                while True:
                    ticket, own_at, at = await self._try_take(own, wants)
                    if ticket is not None:
                        return ticket
                    if own and own_at > self.clock():  # another message took its own key's place meanwhile
                        break
                    await self.sleep(max(0.0, at - self.clock()))

    async def _try_take(self, own: Sequence[Want], wants: Sequence[Want]) -> tuple[Ticket | None, float, float]:
        """In one step: take the places of a message under `wants` if they are all free; else when its own
        limits (`own`, the first of `wants`) and when all of them will be."""
        now = self.clock()
        limits, keys = self._limits(wants)
        own_count = len(self._limits(own)[0])

        def step(states: list[Places]) -> tuple[Ticket | None, float, float]:
            own_at = self._free_at(limits[:own_count], states[: own_count + 1], now)
            at = max(own_at, self._free_at(limits[own_count:], [states[0], *states[own_count + 1 :]], now))
            if at > now:
                return None, own_at, at
            for limit, state in zip(limits, states[1:]):
                limit.take(state, now)
            return Ticket(tuple(key for limit, key in zip(limits, keys) if limit.from_answer)), own_at, at

        return await self.store.update([self._hold_key, *keys], now, step)

    async def free_at(self, *wants: Want) -> float:
        """The first moment from now at which a message under `wants` may go."""
        now = self.clock()
        limits, keys = self._limits(wants)
        return await self.store.update([self._hold_key, *keys], now, lambda states: self._free_at(limits, states, now))

    async def take(self, *wants: Want) -> Ticket | None:
        """Take the places of a message under `wants` now, if they are all free (else None)."""
        now = self.clock()
        limits, keys = self._limits(wants)

        def step(states: list[Places]) -> Ticket | None:
            if self._free_at(limits, states, now) > now:
                return None
            for limit, state in zip(limits, states[1:]):
                limit.take(state, now)
            return Ticket(tuple(key for limit, key in zip(limits, keys) if limit.from_answer))

        return await self.store.update([self._hold_key, *keys], now, step)

    async def done(self, ticket: Ticket) -> None:
        """The message's answer came (or it failed): its places counted from the answer start coming back."""
        if not ticket.from_answer:
            return
        now = self.clock()

        def step(states: list[Places]) -> None:
            for key, state in zip(ticket.from_answer, states):
                limit = self.limits.get(str(key[1]))  # a state's key: (limiter, limit name, counted under)
                if limit is not None:
                    limit.answered(state, now)
                else:  # no longer limited
                    state.answers_due = max(0, state.answers_due - 1)

        await self.store.update(ticket.from_answer, now, step)

    async def hold(self, seconds: float) -> None:
        """Let no message go for `seconds` (the platform said “too many requests, retry after”)."""
        now = self.clock()

        def step(states: list[Places]) -> None:
            states[0].held_until = max(states[0].held_until, now + seconds)

        await self.store.update([self._hold_key], now, step)

    async def _until_free(self, wants: Sequence[Want]) -> None:
        while (at := await self.free_at(*wants)) > (now := self.clock()):
            await self.sleep(at - now)

    @property
    def _hold_key(self) -> StoreKey:
        return (self.name,)

    def _limits(self, wants: Sequence[Want]) -> tuple[list[Limit], list[StoreKey]]:
        """The limits `wants` come under (those not limited left out), and the keys of their state."""
        limits: list[Limit] = []
        keys: list[StoreKey] = []
        for want in wants:
            name, key = (want, None) if isinstance(want, str) else want
            if (limit := self.limits.get(name)) is not None:
                limits.append(limit)
                keys.append((self.name, name, key))
        return limits, keys

    @staticmethod
    def _free_at(limits: list[Limit], states: list[Places], now: float) -> float:
        """`states`: the hold's, then one for each limit."""
        at = max(now, states[0].held_until)
        for limit, state in zip(limits, states[1:]):
            at = max(at, limit.free_at(state, now))
        return at

"""The rate limiters' state in PostgreSQL (table rate_buckets), so that every process on the database keeps one
pace: Telegram's 30 a second and 1 a second per chat, Slack's per channel and per minute, Pipedrive's per token.

`PostgresStore` is a `core.ratelimit.Store`: one step on a few keys is one short transaction on its own
connection: an upsert that locks the keys' rows (in key order, so two processes never deadlock) and returns their
state, the step in Python, one UPDATE of what it left, COMMIT. Its clock is the wall clock set to the database
server's, which every process shares (a monotonic clock is each process's own). Rows as good as new are deleted
now and then. While the database is unreachable, each process counts on its own for a few seconds at a time.
RATE_LIMITS=process keeps the state in each process's memory instead (one process only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from core.ratelimit import MemoryStore, Places, StoreKey

T = TypeVar("T")

CLEAN_EVERY_SECONDS = 60.0  # how often this process deletes rows that are as good as new
# Answers still awaited by a key untouched this long are forgotten: a process that died mid-request never
# gives its places back (every request has a timeout well below this).
STALE_ANSWERS_SECONDS = 120.0
FALLBACK_SECONDS = 5.0  # after failing to reach the database, count in this process's memory this long

log = logging.getLogger(__name__)

LOCK = """
INSERT INTO rate_buckets AS b (key) SELECT unnest(%s::text[])
ON CONFLICT (key) DO UPDATE SET key = b.key
RETURNING key, state
"""
WRITE = """
UPDATE rate_buckets AS b SET state = v.state, idle_at = v.idle_at
  FROM unnest(%s::text[], %s::jsonb[], %s::float8[]) AS v(key, state, idle_at)
 WHERE b.key = v.key
"""
CLEAN = "DELETE FROM rate_buckets WHERE idle_at < %s"


def _name(key: StoreKey) -> str:
    return json.dumps(list(key), default=str, separators=(",", ":"))


def _places(state: dict[str, Any], now: float) -> Places:
    held = state.get("h")
    answers_due = state.get("a", 0) if now - state.get("t", now) < STALE_ANSWERS_SECONDS else 0
    return Places(
        back_at=list(state.get("b", ())), answers_due=answers_due, held_until=-math.inf if held is None else held
    )


def _state(places: Places, now: float) -> str:
    held = None if places.held_until == -math.inf else places.held_until
    return json.dumps({"b": places.back_at, "a": places.answers_due, "h": held, "t": now})


def _idle_at(places: Places) -> float:
    """From when `places` is as good as new (never while an answer is awaited)."""
    if places.answers_due:
        return math.inf
    return max(places.held_until, places.back_at[-1] if places.back_at else -math.inf)


def _offset(execute: Callable[[str], psycopg.Cursor]) -> float:
    """The database server's clock minus this machine's, in seconds."""
    before = time.time()
    row = execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    after = time.time()
    assert row is not None
    return float(row[0]) - (before + after) / 2


class PostgresStore:
    """Rate-limit state in the database at `url` (a libpq URL), shared by every process on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._offset: float | None = None  # the database server's clock minus this machine's
        self._cleaned_at = -math.inf
        self._fallback = MemoryStore()  # while the database is unreachable
        self._unreachable_until = -math.inf

    def clock(self) -> float:
        """Seconds since the epoch by the database server's clock, the one every process shares."""
        if self._offset is None:  # measured once, before the first step needs it
            try:
                with psycopg.connect(self.url, connect_timeout=5) as conn:
                    self._offset = _offset(conn.execute)
            except psycopg.OperationalError:
                self._offset = 0.0
        return time.time() + self._offset

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.url, application_name="pipedriven rate limits", connect_timeout=5
            )
        return self._conn

    async def update(self, keys: Sequence[StoreKey], now: float, step: Callable[[list[Places]], T]) -> T:
        if now < self._unreachable_until:
            return await self._fallback.update(keys, now, step)
        try:
            return await self._update(keys, now, step)
        except psycopg.OperationalError:
            log.warning("rate limits: the database is unreachable; counting in this process for a while")
            self._unreachable_until = now + FALLBACK_SECONDS
            return await self._fallback.update(keys, now, step)

    async def _update(self, keys: Sequence[StoreKey], now: float, step: Callable[[list[Places]], T]) -> T:
        names = [_name(key) for key in keys]
        async with self._lock:
            conn = await self._connection()
            try:
                async with conn.transaction():
                    rows = await (await conn.execute(LOCK, (sorted(set(names)),))).fetchall()
                    by_name = {name: _places(state, now) for name, state in rows}
                    states = [by_name[name] for name in names]
                    result = step(states)
                    await conn.execute(
                        WRITE,
                        (
                            list(by_name),
                            [_state(p, now) for p in by_name.values()],
                            [_idle_at(p) for p in by_name.values()],
                        ),
                    )
                if now - self._cleaned_at > CLEAN_EVERY_SECONDS:
                    self._cleaned_at = now
                    async with conn.transaction():
                        await conn.execute(CLEAN, (now,))
            except psycopg.OperationalError:
                await conn.close()
                self._conn = None
                raise
        return result

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


def shared(store: PostgresStore | None) -> dict[str, Any]:
    """A limiter's `store` and `clock` options for `store` (None: its own memory and monotonic clock)."""
    return {} if store is None else {"store": store, "clock": store.clock}

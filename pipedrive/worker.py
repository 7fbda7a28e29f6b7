"""The worker that drains the Pipedrive outbox, and the `pipedriven run` service that hosts it.

`SyncWorker.run_once()` claims one due row (core: FOR UPDATE SKIP LOCKED, one sync per contact at a time),
syncs it and ends the attempt: done; retried later with exponential backoff and jitter while retries are
left (PIPEDRIVE_MAX_RETRIES, 3 by default); else failed, retryable with `sync retry`. What only a person can
fix (a refused token, a missing field or activity type) fails at once, and the acting user is owed one notice.

`SyncService` runs a few workers side by side (PIPEDRIVE_CONCURRENCY). They sleep until PostgreSQL notifies a
new row (LISTEN, sent in the transaction that queued it), the next retry falls due, or the poll interval
passes (in case a notification was missed), so a new sync starts within milliseconds of the tap.
Any number of processes may run it against one database.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from core.errors import PipedrivenError
from core.service import Core
from core.shared_limits import shared
from core.sync.commands import ClaimSync, FinishSync, NextSyncDue, ReleaseSyncs, SyncTask
from pipedrive.client import PipedriveClient
from pipedrive.errors import PipedriveError, RateLimited
from pipedrive.lookups import CompanyLookups
from pipedrive.sync import Company, sync_task
from pipedrive.throttle import Throttle

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900.0
MIN_IDLE_SECONDS = 0.5  # never poll faster than this, whatever falls due


def throttle_name(token: SecretStr) -> str:
    """The name a token's limits go by: a digest, never the token."""
    return "pipedrive-" + hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]


class SyncWorker:
    """Claims and syncs outbox rows. Clients, throttles and caches are kept per API token."""

    def __init__(
        self,
        core: Core,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.core = core
        self.settings = core.settings
        self._clock, self._sleep, self._jitter = clock, sleep, jitter
        self._companies: dict[str, Company] = {}
        self.in_hand: set[int] = set()  # outbox rows claimed and not yet finished

    def company(self, token: SecretStr) -> Company:
        company = self._companies.get(token.get_secret_value())
        if company is None:
            s = self.settings
            throttle = Throttle(
                s.pipedrive_burst_limit,
                s.pipedrive_search_limit,
                name=throttle_name(token),
                sleep=self._sleep,
                # Counted in the database with every process's requests, unless a test moves the clock.
                **(shared(self.core.rate_store()) if self._clock is time.monotonic else {"clock": self._clock}),
            )
            client = PipedriveClient(s.pipedrive_url, token, throttle=throttle, timeout=s.pipedrive_timeout_seconds)
            company = Company(client, CompanyLookups(client, ttl_seconds=s.pipedrive_cache_seconds, clock=self._clock))
            self._companies[token.get_secret_value()] = company
        return company

    @property
    def companies(self) -> list[Company]:
        return list(self._companies.values())

    async def run_once(self) -> bool:
        """Sync the next due row, if any; whether there was one."""
        task = await self.core.execute(ClaimSync(lease_seconds=self.settings.pipedrive_lease_seconds))
        if task is None:
            return False
        self.in_hand.add(task.outbox_id)
        try:
            await self.core.execute(await self._attempt(task))
        except asyncio.CancelledError:
            raise  # still in hand: the stopping service hands it back
        except BaseException:
            self.in_hand.discard(task.outbox_id)
            raise
        self.in_hand.discard(task.outbox_id)
        return True

    async def drain(self) -> int:
        """Sync every row due now; how many attempts were made."""
        count = 0
        while await self.run_once():
            count += 1
        return count

    async def _attempt(self, task: SyncTask) -> FinishSync:
        if task.token_problem:  # never fall back to the company's token: the user chose their own
            return FinishSync(
                task.outbox_id,
                task.attempt,
                "failed",
                reason=task.token_problem,
                user_notice=f"{task.token_problem} Then say `sync retry all`.",
            )
        token = task.user_token or self.settings.pipedrive_api_token
        if token is None:  # the user's own token was removed after the claim
            return self._retry(task, "Pipedrive is not configured.")
        try:
            left_out = await sync_task(self.core, self.company(token), task)
        except PipedriveError as exc:
            log.info("pipedrive sync #%s attempt %s: %s", task.outbox_id, task.attempt, exc)
            if not exc.retryable:
                return FinishSync(task.outbox_id, task.attempt, "failed", reason=str(exc), user_notice=exc.user_notice)
            floor = exc.reset_after if isinstance(exc, RateLimited) and exc.reset_after else 0.0
            return self._retry(task, str(exc), floor)
        except PipedrivenError as exc:  # our database, for a moment
            return self._retry(task, exc.user_message)
        except Exception:
            log.exception("pipedrive sync #%s failed unexpectedly", task.outbox_id)
            return self._retry(task, "An unexpected error on our side.")
        return FinishSync(task.outbox_id, task.attempt, "done", reason=left_out)

    def _retry(self, task: SyncTask, reason: str, floor: float = 0.0) -> FinishSync:
        retries = self.settings.pipedrive_max_retries
        if task.attempt > retries:
            return FinishSync(
                task.outbox_id, task.attempt, "failed", reason=f"Gave up after {task.attempt} tries. Last: {reason}"
            )
        return FinishSync(
            task.outbox_id,
            task.attempt,
            "retry",
            reason=f"{reason} (try {task.attempt} of {retries + 1})",
            retry_in_seconds=max(floor, self.backoff(task.attempt)),
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half the doubled delay, plus up to as much again at random."""
        delay = min(MAX_BACKOFF_SECONDS, self.settings.pipedrive_retry_base_seconds * 2 ** (attempt - 1))
        return delay / 2 + delay / 2 * self._jitter()

    async def aclose(self) -> None:
        for company in self._companies.values():
            await company.client.aclose()
        self._companies.clear()


class SyncService:
    """`pipedriven run`'s Pipedrive part: workers woken by LISTEN/NOTIFY, with a poll in case one is missed."""

    name = "pipedrive sync"

    def __init__(self, core: Core, *, worker: SyncWorker | None = None) -> None:
        self.core = core
        self.worker = worker or SyncWorker(core)
        self.poll_seconds = core.settings.pipedrive_poll_seconds
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()  # set once notifications are on (else the poll alone wakes workers)
        self._stopping = False
        self._listener: asyncio.Task | None = None
        self._drainers: list[asyncio.Task] = []

    async def start(self) -> None:
        self._stopping = False
        self._wake.set()  # whatever waited while no worker ran
        self._listener = asyncio.create_task(self._listen(), name="pipedrive-listen")
        self._drainers = [
            asyncio.create_task(self._drain(), name=f"pipedrive-sync-{n}")
            for n in range(self.core.settings.pipedrive_concurrency)
        ]

    async def stop(self) -> None:
        """Let the syncs in flight finish (within SHUTDOWN_GRACE_SECONDS), then hand back any cut short."""
        self._stopping = True
        self._wake.set()
        if self._listener is not None:
            self._listener.cancel()
        grace = self.core.settings.shutdown_grace_seconds
        _, pending = await asyncio.wait(self._drainers, timeout=grace) if self._drainers else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._drainers, *([self._listener] if self._listener else []), return_exceptions=True)
        await self.worker.aclose()
        if self.worker.in_hand:
            try:
                released = await self.core.execute(ReleaseSyncs(tuple(sorted(self.worker.in_hand))))
                log.info("%d unfinished Pipedrive syncs handed back", released)
            except PipedrivenError as exc:
                log.warning("syncs not handed back (they expire after PIPEDRIVE_LEASE_SECONDS): %s", exc)
            self.worker.in_hand.clear()

    async def _listen(self) -> None:
        listener = self.core.outbox_listener()
        try:
            while not self._stopping:
                try:
                    await listener.connect()
                    self.listening.set()
                    self._wake.set()  # a row queued while notifications were off
                    async for _ in listener.wakes():
                        self._wake.set()
                except PipedrivenError:
                    self.listening.clear()
                    log.warning(
                        "outbox notifications lost; polling every %.0f s until they are back", self.poll_seconds
                    )
                    await asyncio.sleep(self.poll_seconds)
        finally:
            await listener.close()

    async def _drain(self) -> None:
        while not self._stopping:
            try:
                if await self.worker.run_once():
                    continue
                timeout = await self._idle_seconds()
            except PipedrivenError as exc:
                log.warning("pipedrive sync paused: %s", exc)
                timeout = self.poll_seconds
            except Exception:
                log.exception("pipedrive sync worker error")
                timeout = self.poll_seconds
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            # Cleared before the next claim: a row queued from here on sets it again.
            self._wake.clear()

    async def _idle_seconds(self) -> float:
        due = await self.core.execute(NextSyncDue())
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(MIN_IDLE_SECONDS, (due - self.core.clock.now()).total_seconds()))

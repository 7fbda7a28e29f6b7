"""The scheduler as a `pipedriven run` service: APScheduler (3.x, AsyncIOScheduler) calls a short tick.

There are two interval jobs and no job store: every tick asks the core what is due now (scheduler.dispatch), so
schedules live in the database (users' digest times, follow-ups) and a restart loses nothing. APScheduler only
keeps the beat; it never decides what is due. Ticks don't overlap (`max_instances=1`), and beats missed while
one ran long are folded into one (`coalesce`). On stop, the sends under way finish (within
SHUTDOWN_GRACE_SECONDS), no new one starts, and the claims left unsent are handed back at once. Every hour, housekeeping trims the bookkeeping tables
(core/housekeeping.py); any number of processes may run it. Every hour too, the learning beat refits the method
rates once a night (core/learning: the core decides whether tonight's fit is done; one process fits).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.errors import PipedrivenError
from core.housekeeping.commands import PruneHistory
from core.learning.commands import RefitMethodRates
from core.service import Core
from scheduler.dispatch import Dispatcher
from scheduler.ports import Courier

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL = timedelta(hours=1)
LEARNING_INTERVAL = timedelta(hours=1)


class SchedulerService:
    name = "scheduler"

    def __init__(self, dispatcher: Dispatcher, *, interval_seconds: float = 30) -> None:
        self.dispatcher = dispatcher
        self.interval_seconds = interval_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._ticking: asyncio.Task | None = None

    @classmethod
    def for_courier(cls, core: Core, courier: Courier) -> SchedulerService:
        """The service `pipedriven run` runs: the production limits, beating every SCHEDULER_TICK_SECONDS."""
        return cls(Dispatcher(core, courier), interval_seconds=core.settings.scheduler_tick_seconds)

    async def start(self) -> None:
        self.dispatcher.stopping = False
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        # APScheduler keeps its beat on the wall clock; what is due is decided on the core's (injected) clock.
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.interval_seconds),
            id="deliveries",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.add_job(
            self.housekeeping,
            IntervalTrigger(seconds=HOUSEKEEPING_INTERVAL.total_seconds()),
            id="housekeeping",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self.learning,
            IntervalTrigger(seconds=LEARNING_INTERVAL.total_seconds()),
            id="learning",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    @property
    def jobs(self) -> dict[str, timedelta]:
        """The beats this service keeps while started: job id → interval."""
        return {job.id: job.trigger.interval for job in self._scheduler.get_jobs()} if self._scheduler else {}

    async def tick(self) -> None:
        """One beat; a failure is logged and the next beat tries again (claims left unsent expire)."""
        self._idle.clear()
        try:
            self._ticking = asyncio.create_task(self.dispatcher.tick())
            outcomes = await self._ticking
            if outcomes:
                log.info("deliveries: %s", ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())))
        except asyncio.CancelledError:
            if not self.dispatcher.stopping:
                raise
            log.warning("the sends still under way were cut short by the shutdown grace")
        except PipedrivenError as exc:
            log.warning("scheduler tick failed: %s", exc)
        except Exception:
            log.exception("scheduler tick failed")
        finally:
            self._ticking = None
            self._idle.set()

    async def housekeeping(self) -> None:
        """Trim old idempotency keys and finished deliveries; a failure is logged and the next hour tries again."""
        try:
            pruned = await self.dispatcher.core.execute(PruneHistory())
            if pruned.requests or pruned.deliveries:
                log.info("housekeeping: %d request keys and %d deliveries removed", pruned.requests, pruned.deliveries)
        except PipedrivenError as exc:
            log.warning("housekeeping failed: %s", exc)
        except Exception:
            log.exception("housekeeping failed")

    async def learning(self) -> None:
        """Refit the method rates when tonight's fit is due; a failure is logged and the next hour tries again."""
        try:
            result = await self.dispatcher.core.execute(RefitMethodRates(nightly=True))
            if result.fit is not None:
                fit = result.fit
                log.info("learning: method rates refitted on %d outreach, %d meetings", fit.outreach, fit.meetings)
        except PipedrivenError as exc:
            log.warning("learning failed: %s", exc)
        except Exception:
            log.exception("learning failed")

    async def stop(self) -> None:
        """Let the sends under way finish (within the grace), then hand back every claim left unsent."""
        if self._scheduler is None:
            return
        self._scheduler.pause()
        self.dispatcher.stop_claiming()
        try:
            await asyncio.wait_for(self._idle.wait(), self.dispatcher.core.settings.shutdown_grace_seconds)
        except TimeoutError:
            if self._ticking is not None:
                self._ticking.cancel()
            await self._idle.wait()
        self._scheduler.shutdown(wait=False)
        self._scheduler = None
        try:
            released = await self.dispatcher.release_claims()
        except PipedrivenError as exc:
            log.warning("claims not handed back (they expire after DELIVERY_LEASE_SECONDS): %s", exc)
            return
        if released:
            log.info("%d unsent deliveries handed back", released)

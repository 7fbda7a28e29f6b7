"""The scheduler's tick: claim what the core says is due, have the courier compose it, pace it, send it, record it.

The tick decides nothing about time: `ClaimDueDeliveries` does, from the database and the injected clock, so a
tick may run as often as liked, in as many processes as liked, and a restart loses nothing. Sends are paced
per platform (scheduler.rate) and run concurrently; each claimed delivery ends recorded as sent, empty, to be
retried, or failed. What a message says and how it reaches a platform is the courier's (scheduler.ports).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from core import metrics
from core.deliveries.commands import (
    ClaimDueDeliveries,
    DeliveryClaim,
    RecordDelivered,
    RecordDeliveryFailure,
    ReleaseDeliveryClaims,
)
from core.errors import DatabaseUnavailable, PipedrivenError
from core.inbound.commands import ClaimPipedriveNotes, ReleasePipedriveNotes
from core.service import Core
from core.shared_limits import shared
from core.sync.commands import ClaimSyncNotices, ReleaseSyncNotices, SyncNotice
from core.users.commands import ListChatIdentities
from scheduler.ports import Courier, DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from scheduler.rate import DEFAULT_LIMITS, Pacer, PlatformLimits

log = logging.getLogger(__name__)

# A delivery sent but not yet recorded is recorded again after these pauses (doubling), until it is.
RECORD_RETRY_FIRST_SECONDS, RECORD_RETRY_MAX_SECONDS = 0.2, 5.0


class Dispatcher:
    def __init__(
        self,
        core: Core,
        courier: Courier,
        *,
        limits: Mapping[str, PlatformLimits] | None = None,
        batch: int = 100,
        concurrency: int = 32,
        token: str | None = None,
    ) -> None:
        self.core = core
        self.courier = courier
        self.platforms = tuple(courier.platforms)
        limits = DEFAULT_LIMITS if limits is None else limits
        store = shared(core.rate_store())
        self.pacers = {
            platform: Pacer(limits.get(platform), name=f"digests:{platform}", **store) for platform in self.platforms
        }
        self.batch = batch
        self.concurrency = concurrency
        # Each platform claims and sends on its own (its own slots, its own batches), so that one platform's
        # slower pace (Slack's 5 a second) never holds back another's (Telegram's 30).
        self._slots = {platform: asyncio.Semaphore(concurrency) for platform in self.platforms}
        # Claimed but not yet through, across batches: the next batch is claimed as this runs low.
        self._unfinished = {platform: 0 for platform in self.platforms}
        self._progress = asyncio.Condition()
        # Names this process's claims: only the claimant records an outcome.
        self.token = token or uuid.uuid4().hex
        self.stopping = False
        self.rule_sweep = timedelta(minutes=core.settings.rule_sweep_minutes)
        self.rules_swept_at: dict[str, datetime] = {}  # per platform: the last tick that looked for rule nudges

    def stop_claiming(self) -> None:
        """Claim nothing more and start no new send; the sends under way go on."""
        self.stopping = True

    async def release_claims(self) -> int:
        """Hand back this process's claims still unsent, for any process to take at once; how many."""
        return await self.core.execute(ReleaseDeliveryClaims(self.token))

    async def tick(self) -> Counter:
        """Send everything due now; returns how many deliveries ended each way (sent, empty, retry, failed)."""
        outcomes: Counter = Counter()
        if not self.platforms:
            return outcomes
        results = await asyncio.gather(
            *(self._tick(platform, outcomes) for platform in self.platforms), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        notices = 0 if self.stopping else await self.send_sync_notices()
        if notices:
            outcomes["notices"] = notices
        notes = await self.send_pipedrive_notes()
        if notes:
            outcomes["notes"] = notes
        return outcomes

    async def _tick(self, platform: str, outcomes: Counter) -> None:
        batches: list[asyncio.Task] = []
        now = self.core.clock.now()
        last = self.rules_swept_at.get(platform)
        rules = last is None or now - last >= self.rule_sweep or now < last
        try:
            while not self.stopping:
                due = await self.core.execute(ClaimDueDeliveries((platform,), self.token, self.batch, rules=rules))
                if rules and not due.more:
                    self.rules_swept_at[platform] = now
                self._unfinished[platform] += len(due.claims)
                batches.append(asyncio.create_task(self._deliver_batch(due.claims, outcomes)))
                if not due.more:
                    break
                # Claim the next batch just before the senders run dry, not sooner: a claim's lease is running.
                async with self._progress:
                    await self._progress.wait_for(lambda: self._unfinished[platform] < self.concurrency)
        except asyncio.CancelledError:  # cut short at shutdown: the sends go too
            for batch in batches:
                batch.cancel()
            raise
        finally:
            results = await asyncio.gather(*batches, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def send_sync_notices(self) -> int:
        """Tell users, once, about Pipedrive syncs only they can fix (a refused token, a missing field).

        Claiming marks a notice told, so two schedulers never both send it; one that reaches none of the
        user's platforms is handed back for a later tick. Returns how many went out."""
        sent = 0
        for notice in await self.core.execute(ClaimSyncNotices()):
            if await self._send_notice(notice):
                sent += 1
            else:
                await self.core.execute(ReleaseSyncNotices(notice.outbox_ids))
        return sent

    async def send_pipedrive_notes(self) -> int:
        """Tell owners, once, about changes from Pipedrive worth a message (a deal won with their contact)."""
        sent = 0
        for note in await self.core.execute(ClaimPipedriveNotes()):
            if await self._send_to(note.user_id, self.courier.compose_note(note.text)):
                sent += 1
            else:
                await self.core.execute(ReleasePipedriveNotes((note.id,)))
        return sent

    async def _send_notice(self, notice: SyncNotice) -> bool:
        return await self._send_to(notice.user_id, self.courier.compose_notice(notice))

    async def _send_to(self, user_id: int, message) -> bool:
        for identity in await self.core.execute(ListChatIdentities(user_id)):
            if identity.platform not in self.platforms:
                continue
            await self.pacers[identity.platform].wait(identity.dm_channel or identity.external_user_id)
            try:
                await self.courier.send(identity, message)
                return True
            except DeliveryError as exc:
                log.info(
                    "message for user %s not delivered on %s: %s",
                    user_id,
                    identity.platform,
                    type(exc).__name__,
                )
        return False

    async def _deliver_batch(self, claims: tuple[DeliveryClaim, ...], outcomes: Counter) -> None:
        # Digests first: a morning's nudges follow its digest rather than overtake it.
        for kind in ("digest", "nudge", "step", "rule"):
            outcomes.update(
                await asyncio.gather(*(self._deliver_counted(claim) for claim in claims if claim.kind == kind))
            )

    async def _deliver_counted(self, claim: DeliveryClaim) -> str:
        try:
            return await self._deliver(claim)
        finally:
            self._unfinished[claim.target.platform] -= 1
            async with self._progress:
                self._progress.notify_all()

    async def _deliver(self, claim: DeliveryClaim) -> str:
        async with self._slots[claim.target.platform]:
            if self.stopping:  # left claimed, for release_claims
                return "released"
            try:
                message = await self.courier.compose(claim)
            except Exception as exc:  # e.g. the database went away: the retry comes with backoff
                if not isinstance(exc, PipedrivenError):
                    log.exception("preparing delivery %s failed", claim.id)
                return await self._failed(claim, f"could not prepare it: {exc}")
            if message is None:
                await self.core.execute(RecordDelivered(claim.id, self.token, empty=True))
                return "empty"
            target = claim.target
            pacer = self.pacers[target.platform]
            await pacer.wait(target.dm_channel or target.external_user_id)
            if self.stopping:
                return "released"
            try:
                message_id = await self.courier.send(target, message)
            except TemporaryDeliveryError as exc:
                if exc.retry_after:
                    await pacer.hold(exc.retry_after)
                return await self._failed(claim, str(exc) or "temporary error", retry_after=exc.retry_after)
            except PermanentDeliveryError as exc:
                return await self._failed(claim, str(exc) or "permanent error", permanent=True)
            except Exception as exc:  # a courier bug must not stop the other deliveries
                log.exception("%s notifier failed on delivery %s", target.platform, claim.id)
                return await self._failed(claim, f"{type(exc).__name__}: {exc}")
            metrics.MESSAGES_SENT.labels(claim.kind, target.platform).inc()
            await self._record_sent(claim, message_id)
            return "sent"

    async def _record_sent(self, claim: DeliveryClaim, message_id: str | None) -> None:
        """Record a delivery that went out, however long the database takes to come back: left unrecorded, its
        claim would run out and the message be sent again."""
        pause = RECORD_RETRY_FIRST_SECONDS
        while True:
            try:
                recorded = await self.core.execute(RecordDelivered(claim.id, self.token, message_id))
                break
            except DatabaseUnavailable as exc:
                log.warning(
                    "delivery %s was sent but not recorded yet (%s); trying again in %.1f s", claim.id, exc, pause
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECORD_RETRY_MAX_SECONDS)
        if not recorded:
            log.warning("delivery %s was sent after its claim ran out; it may arrive twice", claim.id)

    async def _failed(
        self, claim: DeliveryClaim, error: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> str:
        status = await self.core.execute(
            RecordDeliveryFailure(claim.id, self.token, error, permanent=permanent, retry_after=retry_after)
        )
        log.log(
            logging.WARNING if status == "failed" else logging.INFO,
            "%s %s for user %s on %s: %s",
            claim.kind,
            status or "lost its claim",
            claim.user.id,
            claim.target.platform,
            error,
        )
        return status or "lost"

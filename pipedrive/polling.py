"""The polling fallback, where Pipedrive's webhooks can't reach the server (Socket Mode, behind NAT).

Every PIPEDRIVE_POLL_MINUTES it reads what changed since the last run from the v2 lists (persons,
organizations, deals, activities; `updated_since`, oldest change first, cursor pagination) and stores each item
as the webhook of its change would be, with the same identity (entity, id, action, update time), so an event
also delivered by a webhook, or read twice, acts once; then the webhook worker's apply path applies them, with
the same rules of order. Each list's high-water mark (the latest update time read) is kept in the database; the
first run starts from the latest change there is, so nothing older is replayed. Deals deleted come back (their
list is asked for deleted ones). The v2 lists leave deleted persons and organisations out, so v1 recents (persons
and organizations changed since its own mark) is read for them: one no longer active is deleted as its webhook
would say, and a merge's survivor (`merge_what_id` naming the other) is the other's delete naming the survivor,
so the contacts of the person merged away are relinked, not unlinked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import PipedrivenError
from core.inbound.commands import PipedrivePollMarks, ReceivePipedriveEvent, RecordPipedrivePollMark
from core.service import Core
from core.settings import Settings
from pipedrive.client import PipedriveClient, company_client
from pipedrive.errors import PipedriveError
from pipedrive.webhooks import BadEvent, WebhookReceiver, _rfc3339, _timestamp, event_of

log = logging.getLogger(__name__)

LISTS = (("persons", "person"), ("organizations", "organization"), ("deals", "deal"), ("activities", "activity"))
RECENTS = "recents"  # v1 recents, read for the deletions and merges the v2 lists leave out
MAX_PAGES = 50  # a run reads at most this many pages of a list; the next run goes on from its mark
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PollReport:
    read: int  # items read
    stored: int  # new events stored (the others were known already)
    applied: int  # events applied (theirs, and any waiting)


def deletions_of(entries: list[dict]) -> list[ReceivePipedriveEvent]:
    """The deletes a page of v1 recents stands for: a person or organization no longer active, and the one a
    merge's survivor took in (its delete naming the survivor, as the merge's webhook does)."""
    merged: dict[tuple[str, int], tuple[int, datetime]] = {}
    gone: dict[tuple[str, int], datetime] = {}
    for entry in entries:
        entity, data = entry.get("item"), entry.get("data")
        if entity not in ("person", "organization") or not isinstance(data, dict):
            continue
        try:
            entity_id = int(str(entry.get("id") or data.get("id")))
            at = _timestamp(data.get("update_time"))
        except (ValueError, BadEvent):
            continue
        loser = data.get("merge_what_id")
        if isinstance(loser, int) and not isinstance(loser, bool) and loser != entity_id:
            merged[(entity, loser)] = (entity_id, at)
        if data.get("active_flag") is False:
            gone[(entity, entity_id)] = at
    events = []
    for (entity, entity_id), at in gone.items():
        if (entity, entity_id) not in merged:  # the merge says more: where its contacts go
            events.append(_deleted(entity, entity_id, at, None))
    events += [_deleted(entity, loser, at, survivor) for (entity, loser), (survivor, at) in merged.items()]
    return events


def _deleted(entity: str, entity_id: int, at: datetime, merged_to: int | None) -> ReceivePipedriveEvent:
    meta = {"action": "delete", "entity": entity, "entity_id": str(entity_id), "timestamp": _rfc3339(at)}
    meta["change_source"] = "poll"
    if merged_to is not None:
        meta["merged_to_id"] = str(merged_to)
    payload = {"meta": meta, "data": None, "previous": None}
    return ReceivePipedriveEvent(
        f"{entity}:{entity_id}:delete:{at.isoformat()}", entity, "delete", entity_id, at, payload
    )


class Poller:
    """Reads the changes since each list's mark, stores them as events and applies them."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        client: PipedriveClient | None = None,
        receiver: WebhookReceiver | None = None,
    ) -> None:
        self.core = core
        self.settings = settings
        self._client = client
        self.receiver = receiver or WebhookReceiver(core, settings, client=client)

    @property
    def client(self) -> PipedriveClient:
        self._client = self._client or company_client(self.settings)
        return self._client

    async def poll_once(self) -> PollReport:
        marks = await self.core.execute(PipedrivePollMarks())
        read = stored = 0
        for collection, entity in LISTS:
            mark = marks.get(collection)
            if mark is None:
                latest, _ = await self.client.changed_since(collection, None, latest_only=True)
                first = event_of(entity, latest[0]) if latest else None
                mark = first.occurred_at if first else BEGINNING
                await self.core.execute(RecordPipedrivePollMark(collection, mark))
                continue
            cursor: str | None = None
            newest = mark
            for _ in range(MAX_PAGES):
                items, cursor = await self.client.changed_since(collection, _rfc3339(mark), cursor=cursor)
                for item in items:
                    event = event_of(entity, item)
                    if event is None:
                        continue
                    read += 1
                    if await self.core.execute(event) is not None:
                        stored += 1
                    newest = max(newest, event.occurred_at)
                if cursor is None:
                    break
            if newest > mark:
                await self.core.execute(RecordPipedrivePollMark(collection, newest))
        deletions_read, deletions_stored = await self._deletions(marks.get(RECENTS))
        applied = await self.receiver.apply_waiting()
        return PollReport(read + deletions_read, stored + deletions_stored, applied)

    async def _deletions(self, mark: datetime | None) -> tuple[int, int]:
        """Deleted and merged persons and organizations since recents' mark, stored as their webhooks would be; how
        many were read and stored. The first run starts where the persons and organizations lists stand."""
        if mark is None:
            marks = await self.core.execute(PipedrivePollMarks())
            known = [marks[c] for c in ("persons", "organizations") if c in marks]
            await self.core.execute(RecordPipedrivePollMark(RECENTS, max(known, default=BEGINNING)))
            return 0, 0
        read = stored = 0
        newest, start = mark, 0
        since = mark.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        for _ in range(MAX_PAGES):
            entries, following = await self.client.recents(since, ("person", "organization"), start=start)
            for entry in entries:
                data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
                try:
                    newest = max(newest, _timestamp(data.get("update_time")))
                except BadEvent:
                    pass
            for event in deletions_of(entries):
                read += 1
                if await self.core.execute(event) is not None:
                    stored += 1
            if following is None:
                break
            start = following
        if newest > mark:
            await self.core.execute(RecordPipedrivePollMark(RECENTS, newest))
        return read, stored

    async def aclose(self) -> None:
        await self.receiver.aclose()
        if self._client is not None:
            await self._client.aclose()


class PollService:
    """`pipedriven run`'s polling fallback: a pull every PIPEDRIVE_POLL_MINUTES."""

    def __init__(self, core: Core, settings: Settings, *, poller: Poller | None = None) -> None:
        self.poller = poller or Poller(core, settings)
        self.interval = settings.pipedrive_polling_minutes * 60.0
        self.name = f"pipedrive polling (every {settings.pipedrive_polling_minutes} min)"
        self.grace = settings.shutdown_grace_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="pipedrive-polling")

    async def stop(self) -> None:
        """Let a pull under way finish within SHUTDOWN_GRACE_SECONDS, else cut it off (a list cut off keeps its old
        mark, and what it stored is not stored twice when the next run reads it again)."""
        self._stop.set()
        if self._task is not None:
            _, pending = await asyncio.wait({self._task}, timeout=self.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.poller.aclose()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = await self.poller.poll_once()
                if report.stored:
                    log.info("pipedrive polling: %s changes read, %s new", report.read, report.stored)
            except (PipedriveError, PipedrivenError) as exc:
                log.warning("pipedrive polling paused: %s", exc)
            except Exception:
                log.exception("pipedrive polling error")
            try:
                await asyncio.wait_for(self._stop.wait(), self.interval)
            except TimeoutError:
                pass

"""Pipedrive's webhooks (v2) received: `POST /pipedrive/webhook`, and the worker that applies what arrives.

A delivery is checked before anything is stored: HTTP basic auth (PIPEDRIVE_WEBHOOK_USER/_PASSWORD, compared
in constant time) else 401; a body over 1 MB (by its Content-Length, or by what is read) 413; not JSON, or
without a `meta` object (action, entity, entity_id, timestamp) and a `data` key, 400. A good one is stored
once, by its identity (entity, entity id, action and the change's timestamp: the same on every retry; those
arriving together in one transaction); applying it is the worker's, woken by the receiver, never the request's.
Where this process's worker runs, the 200 waits for the event to be applied, at most ANSWER_WITHIN: that is the
flow control of a burst (Pipedrive's sender keeps a bounded number of deliveries open, so the next ones wait at
its end rather than in a queue here that every later event would wait behind); the event is safe once stored,
so a slow apply only makes the answer come after ANSWER_WITHIN. A database that can't store it gets a 503, so
Pipedrive sends it again.

The receiver shares the Slack HTTP server's port when Slack runs over HTTP, else it listens on its own
(PIPEDRIVE_WEBHOOK_PORT, with the health routes `pipedriven run` gives it, as Slack's server has). Where a person event links an organisation the bank does not know yet, its name is
fetched once from the API (and cached).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web
from cachetools import TTLCache

from core import metrics
from core.errors import InvalidInput, PipedrivenError
from core.inbound.commands import (
    ApplyPipedriveEvent,
    ApplyPipedriveEvents,
    PipedriveEventsToApply,
    ReceivePipedriveEvent,
    ReceivePipedriveEvents,
    ToName,
    WaitingEvent,
    WaitingPipedriveEvents,
)
from core.requests import new_request_id
from core.service import Core
from core.settings import Settings
from pipedrive.client import PipedriveClient, company_client
from pipedrive.errors import PipedriveError
from pipedrive.lookups import CompanyLookups
from pipedrive.setup import WEBHOOK_PATH

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
ENTITIES = ("person", "organization", "deal", "activity", "lead", "note", "product", "user")
ACTIONS = ("create", "change", "delete")
APPLY_CONCURRENCY = 4  # batches of events applied side by side by one worker
APPLY_BATCH = 20  # events applied in one transaction, at least (when as many are waiting)
STORE_GROUP_MAX = 200  # webhooks arriving together stored in one transaction, at most
APPLY_BATCH_MAX = 250  # and at most: a big backlog is shared out among the batches side by side
ANSWER_WITHIN = 1.0  # seconds a stored webhook's answer waits for the worker here to apply it, at most
# A delivery's outcome by the status it was answered with (core/metrics.py's webhook events); "applied" comes later.
RECEIVED_OUTCOMES = {200: "received", 401: "unauthorized", 400: "bad", 413: "too_large", 503: "unavailable"}


class BadEvent(ValueError):
    """A payload that is not a Pipedrive webhook v2."""


def read_event(body: bytes) -> ReceivePipedriveEvent:
    """The event a webhook body carries; BadEvent when it is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict) or "data" not in payload:
        raise BadEvent("a webhook has a meta object and data")
    meta = payload["meta"]
    entity, action = meta.get("entity"), meta.get("action")
    if entity not in ENTITIES or action not in ACTIONS:
        raise BadEvent("meta.entity or meta.action is not one Pipedrive sends")
    try:
        entity_id = int(str(meta.get("entity_id")))
    except ValueError:
        raise BadEvent("meta.entity_id is not an id") from None
    occurred_at = _timestamp(meta.get("timestamp"))
    key = f"{entity}:{entity_id}:{action}:{occurred_at.isoformat()}"
    return ReceivePipedriveEvent(key, entity, action, entity_id, occurred_at, payload)


def _timestamp(value) -> datetime:
    """meta.timestamp: an ISO 8601 time (v2), or seconds / milliseconds since the epoch."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadEvent("meta.timestamp is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise BadEvent("meta.timestamp is missing")


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_of(entity: str, item: dict, *, source: str = "poll") -> ReceivePipedriveEvent | None:
    """The event a changed item stands for, as its webhook would carry it (a poll's with the webhook's identity);
    None when it has no id or time."""
    try:
        entity_id = int(str(item.get("id")))
        occurred_at = _timestamp(item.get("update_time") or item.get("add_time"))
    except (ValueError, BadEvent):
        return None
    deleted = item.get("is_deleted") is True or (entity == "deal" and item.get("status") == "deleted")
    action = "delete" if deleted else "change"
    meta = {"action": action, "entity": entity, "entity_id": str(entity_id), "timestamp": _rfc3339(occurred_at)}
    meta["change_source"] = source
    payload = {"meta": meta, "data": None if deleted else item, "previous": item if deleted else None}
    key = f"{entity}:{entity_id}:{action}:{occurred_at.isoformat()}" + ("" if source == "poll" else f":{source}")
    return ReceivePipedriveEvent(key, entity, action, entity_id, occurred_at, payload)


class WebhookReceiver:
    """The request handler, and the worker that applies stored events."""

    def __init__(self, core: Core, settings: Settings, *, client: PipedriveClient | None = None) -> None:
        self.core = core
        self.settings = settings
        user, password = settings.pipedrive_webhook_user or "", settings.pipedrive_webhook_password
        self._expected = f"{user}:{password.get_secret_value() if password else ''}".encode()
        self._client = client
        self._org_names: TTLCache = TTLCache(maxsize=1024, ttl=settings.pipedrive_cache_seconds or 1)
        self._lookups: CompanyLookups | None = None
        self._unknown_users: TTLCache = TTLCache(maxsize=1024, ttl=settings.pipedrive_cache_seconds or 1)
        self.wake = asyncio.Event()  # set by each event stored: the worker applies it at once
        self.worker_running = False  # a worker in this process applies what is stored (answers wait for it)
        self._pending: list[tuple[ReceivePipedriveEvent, asyncio.Future]] = []
        self._answers: dict[int, asyncio.Future] = {}  # stored events whose answer waits for them to be applied
        self._stored_here: dict[int, WaitingEvent] = {}  # stored by this process, for its worker to take first
        self._storing: asyncio.Task | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        new_request_id("webhook")
        response = await self._receive(request)
        outcome = RECEIVED_OUTCOMES.get(response.status, "refused")
        metrics.WEBHOOK_EVENTS.labels(outcome).inc()
        log.info("pipedrive webhook: %s (%s)", outcome, response.status)
        return response

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorized(request.headers.get("Authorization", "")):
            return web.Response(
                status=401, text="unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="pipedrive"'}
            )
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large\n")
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY_BYTES:  # no more is read
                return web.Response(status=413, text="too large\n")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            event = read_event(body)
        except BadEvent as exc:
            return web.Response(status=400, text=f"{exc}\n")
        try:
            stored_id = await self._store(event)
        except InvalidInput:  # what the database refuses to hold (a NUL character): no retry will do better
            return web.Response(status=400, text="unreadable\n")
        except PipedrivenError:
            log.warning("a Pipedrive webhook could not be stored; Pipedrive will send it again")
            return web.Response(status=503, text="try again\n")
        if stored_id is not None and self.worker_running:
            await self._applied(stored_id)
        return web.json_response({"ok": True})

    async def _applied(self, event_id: int) -> None:
        """Once the worker here has applied the event, or after ANSWER_WITHIN (another process's worker may have
        taken it, or the apply is slow: it stays stored and waiting either way)."""
        answer = self._answers.setdefault(event_id, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(answer, ANSWER_WITHIN)
        except TimeoutError:
            pass
        finally:
            self._answers.pop(event_id, None)

    async def _store(self, event: ReceivePipedriveEvent) -> int | None:
        """Stored together with those arriving while a group is being stored: one transaction for them all. The
        stored event's id; None when it was stored before."""
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((event, done))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_pending(), name="pipedrive-webhooks-store")
        return await done

    async def _store_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending[:STORE_GROUP_MAX], self._pending[STORE_GROUP_MAX:]
            outcomes: list[BaseException | int | None] = [None] * len(group)
            try:
                outcomes = list(await self.core.execute(ReceivePipedriveEvents(tuple(e for e, _ in group))))
            except PipedrivenError as exc:
                if len(group) == 1:
                    outcomes[0] = exc
                else:  # one the database refuses must not fail the others: each stored on its own
                    for n, (event, _) in enumerate(group):
                        try:
                            outcomes[n] = await self.core.execute(event)
                        except PipedrivenError as one:
                            outcomes[n] = one
            if self.worker_running:
                for (event, _), outcome in zip(group, outcomes, strict=True):
                    if isinstance(outcome, int):
                        self._stored_here[outcome] = WaitingEvent(outcome, event.entity, event.action)
            self.wake.set()
            for (_, done), outcome in zip(group, outcomes, strict=True):
                if done.done():  # its request was given up
                    continue
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            given = base64.b64decode(encoded.strip(), validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        return hmac.compare_digest(given, self._expected)

    async def apply_waiting(self, *, sweep: bool = True) -> int:
        """Apply the events this process stored, then (`sweep`) every other stored event waiting; how many were
        applied here.

        They are applied a batch per transaction (one commit for several), a few batches side by side: a batch
        starts the moment a place is free and something waits (an event stored meanwhile is picked up then, not
        after the others' batches end). Events applied side by side may finish in any order: the rules make that
        safe (each contact is locked while an event changes it, and per field, per deal, the later change wins).
        Each process takes what it stored itself first, so that its answer to Pipedrive, waiting for the event to
        be applied, is not left to another process's worker; what no process took is found by the sweeps."""
        count = 0
        taken: set[int] = set()  # events in a batch here now, or found another worker's
        running: set[asyncio.Future] = set()
        stored = asyncio.ensure_future(self.wake.wait())
        try:
            while True:
                free = APPLY_CONCURRENCY - len(running)
                if free:
                    limit = APPLY_BATCH_MAX * APPLY_CONCURRENCY + len(taken)
                    waiting = [e for e in self._stored_here.values() if e.id not in taken][:limit]
                    if not waiting and sweep:
                        waiting = [
                            e for e in await self.core.execute(WaitingPipedriveEvents(limit=limit)) if e.id not in taken
                        ]
                    # a backlog is shared out among the places; what trickles in goes at once, in small batches
                    size = min(APPLY_BATCH_MAX, max(APPLY_BATCH, -(-len(waiting) // APPLY_CONCURRENCY)))
                    for n in range(free):
                        if batch := waiting[n * size : (n + 1) * size]:
                            taken |= {e.id for e in batch}
                            for e in batch:
                                self._stored_here.pop(e.id, None)
                            running.add(asyncio.ensure_future(self._apply_batch(batch)))
                if not running:
                    return count
                done, _ = await asyncio.wait({*running, stored}, return_when=asyncio.FIRST_COMPLETED)
                if stored in done:  # stored meanwhile: a free place takes it now
                    self.wake.clear()
                    stored = asyncio.ensure_future(self.wake.wait())
                for task in done & running:
                    running.discard(task)
                    applied = task.result()
                    count += len(applied)
                    taken -= set(applied)  # those not applied here stay taken: another worker has them
        finally:
            stored.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _apply_batch(self, batch: list[WaitingEvent]) -> list[int]:
        """One batch applied in one transaction; the ids of those applied here."""
        new_request_id("webhook-apply")
        persons = [e.id for e in batch if e.may_name_organisations]
        to_name = await self.core.execute(PipedriveEventsToApply(tuple(persons))) if persons else {}
        org_names = await self._org_names_for(to_name)
        users = await self._user_names({i for names in to_name.values() for i in names.owner_ids})
        warm = await self._warm_label_id() if persons else None
        commands = [ApplyPipedriveEvent(e.id, org_names.get(e.id, {}), users, warm) for e in batch]
        results = await self.core.execute(ApplyPipedriveEvents(tuple(commands)))
        applied = []
        outcomes: Counter[str] = Counter()
        for command, result in zip(commands, results, strict=True):
            if result is not None:
                if (answer := self._answers.get(command.event_id)) is not None and not answer.done():
                    answer.set_result(None)
                metrics.WEBHOOK_EVENTS.labels("applied").inc()
                log.debug(
                    "pipedrive event %s: %s, contacts %s", command.event_id, result.status, list(result.contact_ids)
                )
                applied.append(command.event_id)
                outcomes[result.status] += 1
        if applied:
            log.info("pipedrive events applied: %s", ", ".join(f"{n} {status}" for status, n in outcomes.items()))
        for survivor in {r.merged_into for r in results if r is not None and r.merged_into is not None}:
            await self._catch_up_with(survivor)
        return applied

    async def _catch_up_with(self, survivor_id: int) -> None:
        """The surviving person of a merge as Pipedrive holds it now, stored as its change: the survivor's own
        change may have come before the merge relinked anyone to it, and was then about an unknown person."""
        if (client := self._api()) is None:
            return
        try:
            person = await client.person_data(survivor_id)
        except PipedriveError as exc:
            log.info("the surviving person of a merge could not be read from Pipedrive: %s", exc)
            return
        if person is not None and (event := event_of("person", person, source="merge")) is not None:
            try:
                await self._store(event)
            except PipedrivenError as exc:
                log.warning("the surviving person of a merge could not be stored: %s", exc)

    async def _org_names_for(self, to_name: dict[int, ToName]) -> dict[int, dict[int, str]]:
        """Per event, names of the organisations it links that the bank does not know (fetched once, cached)."""
        names: dict[int, dict[int, str]] = {}
        for event_id, needed in to_name.items():
            for org_id in needed.org_ids:
                if org_id not in self._org_names:
                    try:
                        self._org_names[org_id] = await self._fetch_org_name(org_id)
                    except PipedriveError as exc:  # not cached: the next event asks again
                        log.info("organization %s could not be read from Pipedrive: %s", org_id, exc)
                        continue
                if self._org_names[org_id] is not None:
                    names.setdefault(event_id, {})[org_id] = self._org_names[org_id]
        return names

    def _api(self) -> PipedriveClient | None:
        """The company's client (made once); None without a token."""
        if self._client is None and self.settings.pipedrive_api_token is not None:
            self._client = company_client(self.settings)
        return self._client

    def _company(self) -> CompanyLookups | None:
        """The company's cached set-up, read with its token; None without one."""
        if (client := self._api()) is None:
            return None
        ttl = self.settings.pipedrive_cache_seconds or 1
        self._lookups = self._lookups or CompanyLookups(client, ttl_seconds=ttl)
        return self._lookups

    async def _user_names(self, owner_ids: set[int]) -> dict[int, str]:
        """The company's users by id, their names (cached; read again when one of `owner_ids` is new)."""
        if not owner_ids or (lookups := self._company()) is None:
            return {}
        try:
            names = await lookups.user_names()
            if not owner_ids <= names.keys() | self._unknown_users.keys():
                lookups.forget_users()
                names = await lookups.user_names()
                self._unknown_users.update((i, True) for i in owner_ids - names.keys())  # not asked again soon
            return names
        except PipedriveError as exc:
            log.info("the users could not be read from Pipedrive: %s", exc)
            return {}

    async def warm_up(self) -> None:
        """Read the company's set-up the first events will need, so that the first of a burst don't wait for it."""
        await self._warm_label_id()

    async def _warm_label_id(self) -> int | None:
        """The id of the person label that means warm in Pipedrive (cached); None when there is none or no token."""
        if (lookups := self._company()) is None:
            return None
        try:
            return await lookups.existing_label_id(self.settings.pipedrive_warm_label)
        except PipedriveError as exc:
            log.info("the person labels could not be read from Pipedrive: %s", exc)
            return None

    async def _fetch_org_name(self, org_id: int) -> str | None:
        """The organisation's name; None when it is gone or no token can ask."""
        if (client := self._api()) is None:
            return None
        org = await client.get_organization(org_id)
        return org.name if org else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class WebhookService:
    """`pipedriven run`'s receiver of Pipedrive webhooks: its own HTTP server unless it rides on Slack's, and the
    worker applying events (woken by each one stored, and every poll interval for those another process stored)."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        own_server: bool = True,
        host: str | None = None,
        routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self.receiver = WebhookReceiver(core, settings)
        self.routes = routes  # more routes on its own server (the health routes)
        self.own_server = own_server
        self.host = host or settings.pipedrive_webhook_listen
        self.port = settings.pipedrive_webhook_port
        self.poll_seconds = settings.pipedrive_poll_seconds
        where = f"on port {self.port}" if own_server else "on Slack's port"
        self.name = f"pipedrive webhooks ({WEBHOOK_PATH} {where})"
        self._runner: web.AppRunner | None = None
        self._worker: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        if self.own_server:
            app = web.Application()
            self.receiver.add_routes(app)
            if self.routes is not None:
                self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            if self.port == 0:
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._stopping = False
        self._worker = asyncio.create_task(self._apply(), name="pipedrive-webhooks")
        self.receiver.worker_running = True

    async def stop(self) -> None:
        self._stopping = True
        self.receiver.worker_running = False
        self.receiver.wake.set()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._worker is not None:
            await asyncio.gather(self._worker, return_exceptions=True)
        await self.receiver.aclose()

    async def _apply(self) -> None:
        """What this process stores, at once; every poll interval, also what other processes left waiting."""
        await self.receiver.warm_up()
        swept = -math.inf
        while not self._stopping:
            self.receiver.wake.clear()
            sweep = time.monotonic() - swept >= self.poll_seconds
            try:
                await self.receiver.apply_waiting(sweep=sweep)
                if sweep:
                    swept = time.monotonic()
            except PipedrivenError as exc:
                log.warning("pipedrive webhooks paused: %s", exc)
            except Exception:
                log.exception("pipedrive webhooks worker error")
            try:
                await asyncio.wait_for(self.receiver.wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

"""A local, stateful stand-in for Pipedrive's REST API, for the tests and the benchmark (aiohttp on 127.0.0.1).

It speaks the wire format of the endpoints the sync uses, as Pipedrive's OpenAPI documents describe them:
`x-api-token` authentication (401 otherwise), v2 persons, organizations and activities with v2's strict
validation (integers are integers, booleans are booleans, unknown keys are refused), their searches (exact or
partial, by field, within an organization; an organization's address an object of strings, its custom fields
the company's organization fields with values of their type), v1 users, users/find, activityTypes, personFields (a PUT
without an existing option deletes it), organizationFields and notes (created on a person, listed by person,
replaced, deleted). Rate limits work as Pipedrive's do: a burst limit per token over a rolling
2-second window, 10 searches per 2 seconds, `x-ratelimit-*` headers and 429s. Faults can be injected: a 5xx,
a timeout, and a response lost after the change was made. Any write to a deal is recorded (and must never
happen). Time comes from an injected clock, so rate-limit tests run on virtual time.

It also sends webhooks v2 as Pipedrive does: v1 webhooks endpoints register them (version, event action and
object, basic auth); a change made through `change_person`, `delete_person_in_app`, `merge_persons` or
`change_organization` is POSTed as JSON `{meta, data, previous}` to each matching webhook with its basic auth,
and sent again after a non-2xx answer or no answer (Pipedrive waits 3 s, 30 s and 150 s; the fake waits
`retry_delays`), `meta.attempt` counting the tries. A merge arrives as the loser's delete, whose meta names
`merged_to_id`, and the survivor's change. Deals (`add_deal`, `change_deal`, `delete_deal_in_app`) and
activities done in the app (`add_activity_in_app`, `mark_activity_done`) send theirs too. For the polling
fallback it serves the v2 lists of persons, organizations, deals and activities with `updated_since`, sorting
and cursor pagination; a change's `update_time` is the moment it was made (`at`).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import re
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import aiohttp
from aiohttp import web

WINDOW = 2.0
DEFAULT_LABELS = ("Customer", "Hot lead", "Warm lead", "Cold lead")
DEFAULT_ACTIVITY_TYPES = ("call", "meeting", "task", "deadline", "email", "lunch")
V2_PERSON_KEYS = {
    "name",
    "owner_id",
    "org_id",
    "add_time",
    "update_time",
    "emails",
    "phones",
    "visible_to",
    "label_ids",
    "marketing_status",
    "custom_fields",
}
V2_ORG_KEYS = {"name", "owner_id", "add_time", "update_time", "visible_to", "label_ids", "address", "custom_fields"}
ADDRESS_KEYS = {
    "value",
    "country",
    "admin_area_level_1",
    "admin_area_level_2",
    "locality",
    "sublocality",
    "route",
    "street_number",
    "postal_code",
}
V1_NOTE_KEYS = {
    "content",
    "lead_id",
    "deal_id",
    "person_id",
    "org_id",
    "project_id",
    "user_id",
    "add_time",
    "pinned_to_lead_flag",
    "pinned_to_deal_flag",
    "pinned_to_organization_flag",
    "pinned_to_person_flag",
    "pinned_to_project_flag",
}
V2_ACTIVITY_KEYS = {
    "subject",
    "type",
    "owner_id",
    "deal_id",
    "lead_id",
    "person_id",
    "org_id",
    "project_id",
    "due_date",
    "due_time",
    "duration",
    "busy",
    "done",
    "location",
    "participants",
    "attendees",
    "public_description",
    "priority",
    "note",
}


FIELD_TYPES = {"address", "date", "daterange", "double", "enum", "monetary", "org", "people", "phone", "set"}
FIELD_TYPES |= {"text", "time", "timerange", "user", "varchar", "varchar_auto"}
WEBHOOK_KEYS = {"subscription_url", "event_action", "event_object", "name", "user_id", "http_auth_user"}
WEBHOOK_KEYS |= {"http_auth_password", "version"}
WEBHOOK_OBJECTS = {"activity", "deal", "lead", "note", "organization", "person", "pipeline", "product", "stage"}
WEBHOOK_OBJECTS |= {"user", "*"}


class Invalid(Exception):
    """A request Pipedrive would refuse with 400."""


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    body: object
    status: int
    search: bool
    token: str | None = None  # the x-api-token header it came with


@dataclass
class Fault:
    method: str
    path: re.Pattern
    # "429" (the window is full), "500", "503", "timeout" (nothing happens) or "lost" (it happens, and the
    # answer never comes)
    kind: str
    times: int


@dataclass
class TimeSource:
    """Virtual time shared by the fake and the client under test: sleeping moves it, nothing waits."""

    now: float = 1_000.0
    slept: float = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        self.slept += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Window:
    sent: deque = field(default_factory=deque)

    def prune(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - WINDOW:
            self.sent.popleft()

    def reset_in(self, now: float) -> int:
        return max(1, math.ceil(self.sent[0] + WINDOW - now)) if self.sent else 0


class FakePipedrive:
    def __init__(
        self,
        *,
        tokens: tuple[str, ...] = ("company-token",),
        burst_limit: int = 20,
        search_limit: int = 10,
        clock=time.monotonic,
        users: tuple[tuple[str, str], ...] = (("Ana Silva", "ana@example.com"),),
        labels: tuple[str, ...] = DEFAULT_LABELS,
        activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES,
        custom_fields: tuple[tuple[str, str], ...] = (("Campaign source", "varchar"),),
        organization_fields: tuple[tuple[str, str, tuple[str, ...]], ...] = (),
        hang_seconds: float = 5.0,
    ) -> None:
        self.tokens = set(tokens)
        self.burst_limit, self.search_limit = burst_limit, search_limit
        self.clock = clock
        self.hang_seconds = hang_seconds
        self._ids = itertools.count(1001)
        self.users = [
            {"id": 100 + n, "name": name, "email": email, "active_flag": True, "is_deleted": False}
            for n, (name, email) in enumerate(users, 1)
        ]
        self.activity_types = [
            {
                "id": n,
                "order_nr": n,
                "name": key.title(),
                "key_string": key,
                "icon_key": key,
                "active_flag": True,
                "color": None,
                "is_custom_flag": False,
                "add_time": "2024-01-01 00:00:00",
                "update_time": "2024-01-01 00:00:00",
            }
            for n, key in enumerate(activity_types, 1)
        ]
        self.person_fields = [
            self._field(1, "name", "Name", "varchar"),
            self._field(
                2,
                "label",
                "Label",
                "enum",
                [{"id": n, "label": label, "color": "green"} for n, label in enumerate(labels, 1)],
            ),
            self._field(3, "email", "Email", "varchar"),
            self._field(4, "phone", "Phone", "phone"),
            self._field(5, "org_id", "Organization", "org"),
            *(self._field(10 + n, secrets.token_hex(20), name, kind) for n, (name, kind) in enumerate(custom_fields)),
        ]
        self.organization_fields = [
            self._field(1, "name", "Name", "varchar"),
            self._field(2, "address", "Address", "address"),
            *(
                self._field(
                    10 + n,
                    secrets.token_hex(20),
                    name,
                    kind,
                    [{"id": 200 + i, "label": label} for i, label in enumerate(options)] or None,
                )
                for n, (name, kind, options) in enumerate(organization_fields)
            ),
        ]
        self.organizations: dict[int, dict] = {}
        self.notes: dict[int, dict] = {}
        self.persons: dict[int, dict] = {}
        self.activities: dict[int, dict] = {}
        self.deals: dict[int, dict] = {}
        self.webhooks: dict[int, dict] = {}
        self.merges: dict[int, int] = {}  # a surviving person's id → the one merged into it (v1's merge_what_id)
        self.retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2)
        self.deliveries: list[tuple[int, int, int]] = []  # (webhook id, attempt, HTTP status or 0 for none)
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self.hooks: list[tuple[str, re.Pattern, object]] = []
        self.throttled = 0
        self.deal_calls = 0
        self.changed = asyncio.Condition()
        self._windows: dict[tuple[str, bool], Window] = {}
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._sender: aiohttp.ClientSession | None = None
        self.url = ""

    # --- the test's handles ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        """Serve on `port` (a free one by default; the same one again to come back after `stop`)."""
        self._release.clear()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        if self._sender is not None:
            await self._sender.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, method: str, path: str, kind: str, times: int = 1) -> None:
        """The next `times` requests `method path` (a regex of the path) meet this fault."""
        self.faults.append(Fault(method, re.compile(path), kind, times))

    def before_answering(self, method: str, path: str, hook) -> None:
        """Run `await hook()` once, after the next `method path` has acted and before it answers (to make
        something happen on our side while a request is in flight)."""
        self.hooks.append((method, re.compile(path), hook))

    def calls(self, method: str | None = None, path: str | None = None) -> int:
        return sum(
            1
            for s in self.seen
            if (method is None or s.method == method) and (path is None or re.fullmatch(path, s.path))
        )

    def live_persons(self) -> list[dict]:
        return [p for p in self.persons.values() if not p["is_deleted"]]

    def live_activities(self) -> list[dict]:
        return [a for a in self.activities.values() if not a["is_deleted"]]

    def organization_field_key(self, name: str) -> str:
        return next(f["key"] for f in self.organization_fields if f["name"] == name)

    def organization_option_list(self, name: str) -> list[dict]:
        return next(f["options"] for f in self.organization_fields if f["name"] == name)

    def label_options(self) -> list[dict]:
        return next(f for f in self.person_fields if f["key"] == "label")["options"]

    def field_key(self, name: str) -> str:
        return next(f["key"] for f in self.person_fields if f["name"] == name)

    def add_person(
        self,
        name: str,
        *,
        email: str | None = None,
        org_id: int | None = None,
        owner_id: int | None = None,
        label_ids: tuple[int, ...] = (),
    ) -> dict:
        """A person that was already in Pipedrive."""
        return self._store_person(
            {
                "name": name,
                "org_id": org_id,
                "owner_id": owner_id,
                "emails": [{"value": email, "primary": True, "label": "work"}] if email else [],
                "label_ids": list(label_ids),
            }
        )

    def add_user(self, name: str, email: str) -> dict:
        """Another user of the company (a person's owner may be them)."""
        user = {"id": 100 + len(self.users) + 1, "name": name, "email": email, "active_flag": True}
        self.users.append({**user, "is_deleted": False})
        return user

    def add_organization(self, name: str) -> dict:
        return self._store_org({"name": name})

    # --- changes made in Pipedrive's app, sent as webhooks --------------------------------------------------

    async def change_person(self, person_id: int, *, at: datetime | None = None, **changes) -> list[int]:
        """Change a person as a user would in Pipedrive (name=, emails=, phones=, org_id=) and send the webhook."""
        person = self.persons[person_id]
        previous = {key: person[key] for key in changes}
        person.update(changes)
        person["update_time"] = _stamp(at)
        return await self.emit("person", "change", person_id, data=dict(person), previous=previous, at=at)

    async def delete_person_in_app(
        self, person_id: int, *, merged_to_id: int | None = None, at: datetime | None = None
    ) -> list[int]:
        person = self.persons[person_id]
        person["is_deleted"], person["update_time"] = True, _stamp(at)
        return await self.emit(
            "person", "delete", person_id, data=None, previous=dict(person), at=at, merged_to_id=merged_to_id
        )

    async def merge_persons(self, loser_id: int, survivor_id: int, *, at: datetime | None = None) -> None:
        """Merge two persons: the loser is deleted (meta.merged_to_id), the survivor gains its emails."""
        at = at or datetime.now(UTC)
        loser, survivor = self.persons[loser_id], self.persons[survivor_id]
        emails = survivor["emails"] + [{**e, "primary": False} for e in loser["emails"]]
        self.merges[survivor_id] = loser_id
        await self.delete_person_in_app(loser_id, merged_to_id=survivor_id, at=at)
        await self.change_person(survivor_id, emails=emails, at=at)

    async def change_organization(self, org_id: int, *, at: datetime | None = None, **changes) -> list[int]:
        org = self.organizations[org_id]
        previous = {key: org[key] for key in changes}
        org.update(changes)
        org["update_time"] = _stamp(at)
        return await self.emit("organization", "change", org_id, data=dict(org), previous=previous, at=at)

    def add_deal(
        self,
        title: str,
        *,
        value: float = 0,
        currency: str = "EUR",
        person_id: int | None = None,
        org_id: int | None = None,
    ) -> dict:
        """A deal made in Pipedrive's app (open)."""
        deal = {
            "id": next(self._ids),
            "title": title,
            "value": value,
            "currency": currency,
            "person_id": person_id,
            "org_id": org_id,
            "status": "open",
            "lost_reason": None,
            "won_time": None,
            "lost_time": None,
            "is_deleted": False,
            "add_time": _now(),
            "update_time": _now(),
        }
        self.deals[deal["id"]] = deal
        return deal

    async def change_deal(self, deal_id: int, *, at: datetime | None = None, **changes) -> list[int]:
        """Change a deal as a user would in Pipedrive (status="won", value=, lost_reason=…) and send the webhook."""
        deal = self.deals[deal_id]
        previous = {key: deal[key] for key in changes}
        deal.update(changes)
        at = at or datetime.now(UTC)
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if changes.get("status") in ("won", "lost"):
            deal[f"{changes['status']}_time"] = stamp
        deal["update_time"] = stamp
        return await self.emit("deal", "change", deal_id, data=dict(deal), previous=previous, at=at)

    async def delete_deal_in_app(self, deal_id: int, *, at: datetime | None = None) -> list[int]:
        deal = self.deals[deal_id]
        deal["is_deleted"], deal["status"] = True, "deleted"
        deal["update_time"] = _now()
        return await self.emit("deal", "delete", deal_id, data=None, previous=dict(deal), at=at)

    def add_activity_in_app(self, person_id: int, kind: str = "call", subject: str | None = None) -> dict:
        """An activity planned in Pipedrive's app for a person (not done yet)."""
        activity = {
            "id": next(self._ids),
            "subject": subject or kind.title(),
            "type": kind,
            "owner_id": self.users[0]["id"],
            "person_id": person_id,
            "org_id": None,
            "due_date": None,
            "due_time": None,
            "done": False,
            "marked_as_done_time": None,
            "note": None,
            "participants": [{"person_id": person_id, "primary": True}],
            "is_deleted": False,
            "add_time": _now(),
            "update_time": _now(),
        }
        self.activities[activity["id"]] = activity
        return activity

    async def mark_activity_done(self, activity_id: int, *, at: datetime | None = None) -> list[int]:
        """Mark an activity done as a user would in Pipedrive, and send the webhook."""
        activity = self.activities[activity_id]
        at = at or datetime.now(UTC)
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        previous = {"done": activity["done"], "marked_as_done_time": activity.get("marked_as_done_time")}
        activity.update(done=True, marked_as_done_time=stamp, update_time=stamp)
        return await self.emit("activity", "change", activity_id, data=dict(activity), previous=previous, at=at)

    async def emit(
        self,
        entity: str,
        action: str,
        entity_id: int,
        *,
        data: dict | None,
        previous: dict | None = None,
        at: datetime | None = None,
        merged_to_id: int | None = None,
        change_source: str = "app",
    ) -> list[int]:
        """Send one event to every v2 webhook subscribed to it; the last status each webhook answered."""
        at = at or datetime.now(UTC)
        hooks = [
            h
            for h in self.webhooks.values()
            if h["version"] == "2.0"
            and h["event_object"] in (entity, "*")
            and h["event_action"] in (action, "*")
            and h["is_active"]
        ]
        meta = {
            "action": action,
            "company_id": "1",
            "correlation_id": str(uuid.uuid4()),
            "entity_id": str(entity_id),
            "entity": entity,
            "id": str(uuid.uuid4()),
            "is_bulk_edit": False,
            "timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "type": "general",
            "user_id": "101",
            "version": "2.0",
            "host": "company.pipedrive.com",
            "change_source": change_source,
            "permitted_user_ids": ["101"],
            **({"merged_to_id": str(merged_to_id)} if merged_to_id is not None else {}),
        }
        return [await self._deliver(hook, meta, data, previous) for hook in hooks]

    async def _deliver(self, hook: dict, meta: dict, data, previous) -> int:
        headers = (
            {"Authorization": aiohttp.encode_basic_auth(hook["http_auth_user"], hook["http_auth_password"] or "")}
            if hook["http_auth_user"]
            else {}
        )
        status = 0
        if self._sender is None or self._sender.closed:  # one pool of connections, as a sender keeps
            self._sender = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        session = self._sender
        for attempt, delay in enumerate((0.0, *self.retry_delays), 1):
            await asyncio.sleep(delay)
            body = {
                "meta": {
                    **meta,
                    "attempt": attempt,
                    "webhook_id": str(hook["id"]),
                    "webhook_owner_id": str(hook["owner_id"]),
                },
                "data": data,
                "previous": previous,
            }
            try:
                async with session.post(hook["subscription_url"], json=body, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self.deliveries.append((hook["id"], attempt, status))
            hook["last_delivery_time"], hook["last_http_status"] = _now(), status or None
            if 200 <= status < 300:
                break
        return status

    async def wait_until(self, predicate, timeout: float = 10.0) -> None:
        """Wait (on the server's own changes, not by polling) until `predicate()` holds."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    # --- the wire ----------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        query = dict(request.query)
        try:
            body = await request.json() if request.can_read_body else None
        except ValueError:
            return self._record(request, None, self._error(400, "Invalid JSON"), False)
        if "/deals" in path and method != "GET":
            self.deal_calls += 1
        if request.headers.get("x-api-token") not in self.tokens or "api_token" in query:
            return self._record(request, body, self._error(401, "unauthorized access"), False)
        search = path.endswith("/search") or path.endswith("/users/find")
        token = request.headers["x-api-token"]
        now = self.clock()
        every, searches = self._window(token, False, now), self._window(token, True, now)
        limit, window = (self.search_limit, searches) if search else (self.burst_limit, every)
        if len(every.sent) >= self.burst_limit or (search and len(searches.sent) >= self.search_limit):
            self.throttled += 1
            full = searches if search and len(searches.sent) >= self.search_limit else every
            response = self._error(429, "Request over limit")
            self._limit_headers(response, limit, 0, full.reset_in(now))
            return self._record(request, body, response, search)
        every.sent.append(now)
        if search:
            searches.sent.append(now)
        fault = self._fault(method, path)
        if fault == "429":  # another process used up the token's window
            self.throttled += 1
            every.sent.pop()
            response = self._error(429, "Request over limit")
            self._limit_headers(response, limit, 0, 2)
            return self._record(request, body, response, search)
        if fault in ("500", "503"):
            response = self._error(int(fault), "Service temporarily unavailable")
        elif fault == "timeout":
            await self._hang()
            response = self._error(504, "Gateway timeout")
        else:
            try:
                response = self._route(method, path, query, body)
            except Invalid as exc:
                response = self._error(400, str(exc))
        self._limit_headers(response, limit, max(0, limit - len(window.sent)), window.reset_in(now))
        self._record(request, body, response, search)
        async with self.changed:
            self.changed.notify_all()
        if fault == "lost":
            await self._hang()  # the change is made; its answer never arrives before the client gives up
        for hook in [h for h in self.hooks if h[0] == method and h[1].fullmatch(path)]:
            self.hooks.remove(hook)
            await hook[2]()
        return response

    def _window(self, token: str, search: bool, now: float) -> Window:
        window = self._windows.setdefault((token, search), Window())
        window.prune(now)
        return window

    def _fault(self, method: str, path: str) -> str | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.path.fullmatch(path):
                fault.times -= 1
                return fault.kind
        return None

    async def _hang(self) -> None:
        try:
            await asyncio.wait_for(self._release.wait(), self.hang_seconds)
        except TimeoutError:
            pass

    def _record(self, request, body, response: web.Response, search: bool) -> web.Response:
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                body,
                response.status,
                search,
                request.headers.get("x-api-token"),
            )
        )
        return response

    @staticmethod
    def _limit_headers(response: web.Response, limit: int, remaining: int, reset: int) -> None:
        response.headers.update(
            {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": str(reset)}
        )

    @staticmethod
    def _ok(data, additional_data=None) -> web.Response:
        body = {"success": True, "data": data}
        if additional_data is not None:
            body["additional_data"] = additional_data
        return web.json_response(body)

    @staticmethod
    def _error(status: int, error: str) -> web.Response:
        return web.json_response(
            {
                "success": False,
                "error": error,
                "error_info": "Please check developers.pipedrive.com",
                "data": None,
                "additional_data": None,
            },
            status=status,
        )

    def _route(self, method: str, path: str, query: dict, body) -> web.Response:
        routes = [
            ("GET", r"/api/v1/users/find", self._find_users),
            ("GET", r"/api/v1/users/me", self._me),
            ("GET", r"/api/v1/users", self._list_users),
            ("GET", r"/api/v1/recents", self._recents),
            ("GET", r"/api/v1/activityTypes", self._activity_types),
            ("GET", r"/api/v1/personFields", self._person_fields),
            ("POST", r"/api/v1/personFields", self._add_person_field),
            ("PUT", r"/api/v1/personFields/(\d+)", self._update_person_field),
            ("GET", r"/api/v1/organizationFields", self._organization_fields),
            ("GET", r"/api/v1/notes", self._list_notes),
            ("POST", r"/api/v1/notes", self._create_note),
            ("PUT", r"/api/v1/notes/(\d+)", self._update_note),
            ("DELETE", r"/api/v1/notes/(\d+)", self._delete_note),
            ("GET", r"/api/v1/webhooks", self._list_webhooks),
            ("POST", r"/api/v1/webhooks", self._add_webhook),
            ("DELETE", r"/api/v1/webhooks/(\d+)", self._delete_webhook),
            ("GET", r"/api/v2/organizations/(\d+)", self._get_organization),
            ("GET", r"/api/v2/organizations/search", self._search_organizations),
            ("POST", r"/api/v2/organizations", self._create_organization),
            ("PATCH", r"/api/v2/organizations/(\d+)", self._update_organization),
            ("GET", r"/api/v2/persons/search", self._search_persons),
            ("POST", r"/api/v2/persons", self._create_person),
            ("GET", r"/api/v2/persons/(\d+)", self._get_person),
            ("PATCH", r"/api/v2/persons/(\d+)", self._update_person),
            ("DELETE", r"/api/v2/persons/(\d+)", self._delete_person),
            ("GET", r"/api/v2/activities", self._list_activities),
            ("GET", r"/api/v2/persons", self._list_persons),
            ("GET", r"/api/v2/organizations", self._list_organizations),
            ("GET", r"/api/v2/deals", self._list_deals),
            ("POST", r"/api/v2/activities", self._create_activity),
            ("DELETE", r"/api/v2/activities/(\d+)", self._delete_activity),
        ]
        for route_method, pattern, handler in routes:
            if route_method == method and (match := re.fullmatch(pattern, path)):
                return handler(query, body, *match.groups())
        return self._error(404, f"Unknown method {method} {path}")

    # --- v1 ----------------------------------------------------------------------------------------------

    def _find_users(self, query, body) -> web.Response:
        term = query.get("term", "")
        if not term:
            raise Invalid("term is required")
        by_email = query.get("search_by_email") == "1"
        found = [u for u in self.users if term.lower() in (u["email"] if by_email else u["name"]).lower()]
        return self._ok(found or None)

    def _recents(self, query, body) -> web.Response:
        """v1 recents: persons and organizations changed at or after `since_timestamp` (UTC, YYYY-MM-DD HH:MM:SS),
        the deleted ones too (`active_flag` false) and a merge's survivor naming the other (`merge_what_id`), as
        v1 items, oldest change first, paged by start and limit."""
        try:
            floor = datetime.strptime(query["since_timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            raise Invalid("since_timestamp is required, as YYYY-MM-DD HH:MM:SS") from None
        kinds = set(query.get("items", "person,organization").split(","))
        found = []
        for kind, items in (("person", self.persons), ("organization", self.organizations)):
            if kind not in kinds:
                continue
            for item in items.values():
                changed = datetime.fromisoformat(item["update_time"].replace("Z", "+00:00"))
                if changed >= floor:
                    found.append((changed, item["id"], kind, item))
        found.sort(key=lambda f: f[:2])
        start, limit = int(query.get("start", 0)), min(int(query.get("limit", 100)), 500)
        page = found[start : start + limit]
        more = start + limit < len(found)

        def v1(kind: str, item: dict) -> dict:
            view = {
                "id": item["id"],
                "name": item["name"],
                "active_flag": not item["is_deleted"],
                "owner_id": item.get("owner_id"),
                "update_time": item["update_time"].replace("T", " ").rstrip("Z"),
                "add_time": item["add_time"].replace("T", " ").rstrip("Z"),
            }
            if kind == "person":
                view |= {"org_id": item.get("org_id"), "merge_what_id": self.merges.get(item["id"])}
            return view

        return self._ok(
            [{"item": kind, "id": item["id"], "data": v1(kind, item)} for _, _, kind, item in page],
            {
                "since_timestamp": query["since_timestamp"],
                "last_timestamp_on_page": page[-1][0].strftime("%Y-%m-%d %H:%M:%S") if page else None,
                "pagination": {
                    "start": start,
                    "limit": limit,
                    "more_items_in_collection": more,
                    **({"next_start": start + limit} if more else {}),
                },
            },
        )

    def _list_users(self, query, body) -> web.Response:
        return self._ok(self.users)

    def _me(self, query, body) -> web.Response:
        """The token's user (every token here is the first user's) and the company."""
        return self._ok({**self.users[0], "company_id": 7, "company_name": "Acme Ltd", "company_domain": "acme"})

    def _activity_types(self, query, body) -> web.Response:
        return self._ok(self.activity_types)

    def _person_fields(self, query, body) -> web.Response:
        start, limit = int(query.get("start", 0)), min(int(query.get("limit", 100)), 500)
        page = self.person_fields[start : start + limit]
        more = start + limit < len(self.person_fields)
        return self._ok(
            page,
            {
                "pagination": {
                    "start": start,
                    "limit": limit,
                    "more_items_in_collection": more,
                    **({"next_start": start + limit} if more else {}),
                }
            },
        )

    def _add_person_field(self, query, body) -> web.Response:
        data = _dict(body)
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            raise Invalid("name is required")
        if data.get("field_type") not in FIELD_TYPES:
            raise Invalid("field_type is invalid")
        field_ = self._field(
            max(f["id"] for f in self.person_fields) + 1, secrets.token_hex(20), data["name"], data["field_type"]
        )
        self.person_fields.append(field_)
        return self._ok(field_)

    def _update_person_field(self, query, body, field_id) -> web.Response:
        field_ = next((f for f in self.person_fields if f["id"] == int(field_id)), None)
        if field_ is None:
            return self._error(404, "Field not found")
        options = _dict(body).get("options")
        if not isinstance(options, list) or not all(
            isinstance(o, dict) and isinstance(o.get("label"), str) for o in options
        ):
            raise Invalid("options must be an array of objects with a label")
        existing = {o["id"]: o for o in field_["options"]}
        kept = []
        for option in options:
            if "id" in option:
                if option["id"] not in existing:
                    raise Invalid(f"Option {option['id']} does not exist")
                kept.append({**existing[option["id"]], "label": option["label"]})
            else:
                kept.append(
                    {"id": max([0, *existing, *(o["id"] for o in kept)]) + 1, "label": option["label"], "color": "blue"}
                )
        field_["options"] = kept  # what was left out is deleted, as Pipedrive does
        return self._ok(field_)

    # --- v1 webhooks ------------------------------------------------------------------------------------

    def _list_webhooks(self, query, body) -> web.Response:
        return self._ok([self._webhook_view(w) for w in self.webhooks.values()])

    def _add_webhook(self, query, body) -> web.Response:
        data = _dict(body)
        _only(data, WEBHOOK_KEYS)
        for key in ("subscription_url", "event_action", "event_object", "name"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise Invalid(f"{key} is required")
        if data["event_action"] not in ("create", "change", "delete", "*"):
            raise Invalid("event_action must be create, change, delete or *")
        if data["event_object"] not in WEBHOOK_OBJECTS:
            raise Invalid("event_object is invalid")
        if data.get("version", "2.0") not in ("1.0", "2.0"):
            raise Invalid("version must be 1.0 or 2.0")
        if len(self.webhooks) >= 40:
            raise Invalid("The maximum of 40 webhooks is reached")
        hook = {
            "id": next(self._ids),
            "company_id": 1,
            "owner_id": 101,
            "user_id": 101,
            "event_action": data["event_action"],
            "event_object": data["event_object"],
            "subscription_url": data["subscription_url"],
            "version": data.get("version", "2.0"),
            "is_active": 1,
            "add_time": _now(),
            "remove_time": None,
            "type": "general",
            "http_auth_user": data.get("http_auth_user"),
            "http_auth_password": data.get("http_auth_password"),
            "remove_reason": None,
            "last_delivery_time": None,
            "last_http_status": None,
            "admin_id": 101,
            "name": data["name"],
        }
        self.webhooks[hook["id"]] = hook
        return web.json_response({"status": "ok", "success": True, "data": self._webhook_view(hook)}, status=201)

    def _delete_webhook(self, query, body, webhook_id) -> web.Response:
        if self.webhooks.pop(int(webhook_id), None) is None:
            return self._error(404, "Webhook not found")
        return web.json_response({"status": "ok", "success": True})

    @staticmethod
    def _webhook_view(hook: dict) -> dict:
        return {**hook, "http_auth_password": "******" if hook["http_auth_password"] else None}

    # --- v2 organizations and persons --------------------------------------------------------------------

    def _get_organization(self, query, body, org_id) -> web.Response:
        org = self.organizations.get(int(org_id))
        return self._ok(org) if org and not org["is_deleted"] else self._error(404, "Organization not found")

    def _search_organizations(self, query, body) -> web.Response:
        term, exact, fields = _search_params(query, {"name", "address", "notes", "custom_fields"})
        items = [
            self._org_item(o)
            for o in self.organizations.values()
            if "name" in fields and _matches(o["name"], term, exact)
        ]
        return self._ok({"items": items}, {"next_cursor": None})

    def _create_organization(self, query, body) -> web.Response:
        data = self._check_org(_dict(body))
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            raise Invalid("Name is required")
        return self._ok(self._store_org(data))

    def _update_organization(self, query, body, org_id) -> web.Response:
        org = self.organizations.get(int(org_id))
        if org is None or org["is_deleted"]:
            return self._error(404, "Organization not found")
        data = self._check_org(_dict(body))
        org.update({k: v for k, v in data.items() if k != "custom_fields"})
        org["custom_fields"].update(data.get("custom_fields") or {})
        org["update_time"] = _now()
        return self._ok(org)

    def _check_org(self, data: dict) -> dict:
        """v2's organization body: the address an object of strings, custom fields by key with their type."""
        _only(data, V2_ORG_KEYS)
        self._check_owner(data)
        if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
            raise Invalid("name must be a non-empty string")
        address = data.get("address", {})
        if not isinstance(address, dict) or not all(
            k in ADDRESS_KEYS and isinstance(v, str) for k, v in address.items()
        ):
            raise Invalid("address must be an object of strings: " + ", ".join(sorted(ADDRESS_KEYS)))
        custom = {f["key"]: f for f in self.organization_fields if len(f["key"]) == 40}
        fields = data.get("custom_fields", {})
        if not isinstance(fields, dict) or not all(k in custom and _fits(custom[k], v) for k, v in fields.items()):
            raise Invalid("custom_fields must map organization custom field keys to values of their type")
        return data

    def _organization_fields(self, query, body) -> web.Response:
        return self._ok(self.organization_fields, {"pagination": {"more_items_in_collection": False}})

    # --- v1 notes ----------------------------------------------------------------------------------------

    def live_notes(self, person_id: int | None = None) -> list[dict]:
        return [
            n for n in self.notes.values() if not n["is_deleted"] and (person_id is None or n["person_id"] == person_id)
        ]

    def _list_notes(self, query, body) -> web.Response:
        person = query.get("person_id")
        if person is not None and not person.isdigit():
            raise Invalid("person_id must be an integer")
        items = [n for n in self.live_notes(int(person) if person else None)]
        items.sort(key=lambda n: n["id"], reverse=query.get("sort", "").endswith("DESC"))
        return self._ok(
            items[: min(int(query.get("limit", 100)), 500)], {"pagination": {"more_items_in_collection": False}}
        )

    def _create_note(self, query, body) -> web.Response:
        data = self._check_note(_dict(body))
        if not isinstance(data.get("content"), str) or not data["content"].strip():
            raise Invalid("content is required")
        if not any(k in data for k in ("lead_id", "deal_id", "person_id", "org_id", "project_id")):
            raise Invalid("a note needs one of lead_id, deal_id, person_id, org_id or project_id")
        note = {
            "id": next(self._ids),
            "content": data["content"],
            "person_id": data.get("person_id"),
            "org_id": data.get("org_id"),
            "deal_id": None,
            "user_id": data.get("user_id"),
            "active_flag": True,
            "is_deleted": False,
            "add_time": _now(),
            "update_time": _now(),
        }
        self.notes[note["id"]] = note
        return self._ok(note)

    def _update_note(self, query, body, note_id) -> web.Response:
        note = self.notes.get(int(note_id))
        if note is None or note["is_deleted"]:
            return self._error(404, "Note not found")
        data = self._check_note(_dict(body))
        if "content" in data and (not isinstance(data["content"], str) or not data["content"].strip()):
            raise Invalid("content must be a non-empty string")
        note.update(data)
        note["update_time"] = _now()
        return self._ok(note)

    def _delete_note(self, query, body, note_id) -> web.Response:
        note = self.notes.get(int(note_id))
        if note is None or note["is_deleted"]:
            return self._error(404, "Note not found")
        note["is_deleted"] = True
        return self._ok(note["id"])

    def _check_note(self, data: dict) -> dict:
        _only(data, V1_NOTE_KEYS)
        if "deal_id" in data:
            self.deal_calls += 1
        if "person_id" in data and (not _is_int(data["person_id"]) or data["person_id"] not in self.persons):
            raise Invalid("person_id must be the id of a person")
        if "org_id" in data and (not _is_int(data["org_id"]) or data["org_id"] not in self.organizations):
            raise Invalid("org_id must be the id of an organization")
        return data

    def _search_persons(self, query, body) -> web.Response:
        term, exact, fields = _search_params(query, {"custom_fields", "email", "notes", "phone", "name"})
        org_filter = query.get("organization_id")
        if org_filter is not None and not org_filter.isdigit():
            raise Invalid("organization_id must be an integer")
        items = []
        for person in self.live_persons():
            if org_filter is not None and person["org_id"] != int(org_filter):
                continue
            values = (
                ([person["name"]] if "name" in fields else [])
                + ([e["value"] for e in person["emails"]] if "email" in fields else [])
                + ([p["value"] for p in person["phones"]] if "phone" in fields else [])
            )
            if any(_matches(v, term, exact) for v in values):
                items.append(self._person_item(person))
        return self._ok({"items": items}, {"next_cursor": None})

    def _create_person(self, query, body) -> web.Response:
        data = self._check_person(_dict(body))
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            raise Invalid("Name is required")
        return self._ok(self._store_person(data))

    def _get_person(self, query, body, person_id) -> web.Response:
        person = self.persons.get(int(person_id))
        return self._ok(person) if person and not person["is_deleted"] else self._error(404, "Person not found")

    def _update_person(self, query, body, person_id) -> web.Response:
        person = self.persons.get(int(person_id))
        if person is None or person["is_deleted"]:
            return self._error(404, "Person not found")
        data = self._check_person(_dict(body))
        person.update({k: v for k, v in data.items() if k != "custom_fields"})
        person["custom_fields"].update(data.get("custom_fields") or {})
        person["update_time"] = _now()
        return self._ok(person)

    def _delete_person(self, query, body, person_id) -> web.Response:
        person = self.persons.get(int(person_id))
        if person is None or person["is_deleted"]:
            return self._error(404, "Person not found")
        person["is_deleted"] = True  # v2 deletes softly: gone from searches, kept 30 days
        person["update_time"] = _now()
        return self._ok({"id": person["id"]})

    def _check_person(self, data: dict) -> dict:
        _only(data, V2_PERSON_KEYS)
        self._check_owner(data)
        if "org_id" in data and (not _is_int(data["org_id"]) or data["org_id"] not in self.organizations):
            raise Invalid("org_id must be the id of an organization")
        for kind in ("emails", "phones"):
            items = data.get(kind, [])
            if not isinstance(items, list) or not all(
                isinstance(i, dict)
                and set(i) <= {"value", "primary", "label"}
                and isinstance(i.get("value"), str)
                and isinstance(i.get("primary", False), bool)
                and isinstance(i.get("label", ""), str)
                for i in items
            ):
                raise Invalid(f"{kind} must be an array of {{value, primary, label}}")
        labels = {o["id"] for o in self.label_options()}
        if "label_ids" in data and (
            not isinstance(data["label_ids"], list) or not all(_is_int(i) and i in labels for i in data["label_ids"])
        ):
            raise Invalid("label_ids must be ids of person label options")
        custom = {f["key"]: f for f in self.person_fields if len(f["key"]) == 40}
        fields = data.get("custom_fields", {})
        if not isinstance(fields, dict) or not all(k in custom and isinstance(v, str) for k, v in fields.items()):
            raise Invalid("custom_fields must map custom field keys to values")
        return data

    def _check_owner(self, data: dict) -> None:
        if "owner_id" in data and (
            not _is_int(data["owner_id"]) or data["owner_id"] not in {u["id"] for u in self.users}
        ):
            raise Invalid("owner_id must be the id of a user")

    # --- v2 activities -----------------------------------------------------------------------------------

    def _list_activities(self, query, body) -> web.Response:
        person = query.get("person_id")
        items = [
            a
            for a in self.activities.values()
            if not a["is_deleted"]
            and (person is None or any(p["person_id"] == int(person) and p["primary"] for p in a["participants"]))
        ]
        return self._page(items, query)

    def _list_persons(self, query, body) -> web.Response:
        return self._page([p for p in self.persons.values() if not p["is_deleted"]], query)

    def _list_organizations(self, query, body) -> web.Response:
        return self._page([o for o in self.organizations.values() if not o["is_deleted"]], query)

    def _list_deals(self, query, body) -> web.Response:
        wanted = set(query.get("status", "open,won,lost").split(","))
        if not wanted <= {"open", "won", "lost", "deleted"}:
            raise Invalid("status must be some of open, won, lost, deleted")
        return self._page([d for d in self.deals.values() if d["status"] in wanted], query)

    def _page(self, items: list[dict], query: dict) -> web.Response:
        """A v2 list's page: `updated_since` (RFC 3339, inclusive), `sort_by` id or update_time, `limit` (at most
        500) and an opaque `cursor`, with `additional_data.next_cursor` null on the last page."""
        since = query.get("updated_since")
        if since is not None:
            try:
                floor = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise Invalid("updated_since must be RFC 3339") from None
            items = [i for i in items if datetime.fromisoformat(i["update_time"].replace("Z", "+00:00")) >= floor]
        sort_by = query.get("sort_by", "id")
        if sort_by not in ("id", "update_time", "add_time"):
            raise Invalid("sort_by must be id, update_time or add_time")
        items = sorted(items, key=lambda i: (i[sort_by], i["id"]), reverse=query.get("sort_direction") == "desc")
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 500:
            raise Invalid("limit must be between 1 and 500")
        try:
            start = int(base64.urlsafe_b64decode(query["cursor"]).decode()) if "cursor" in query else 0
        except (ValueError, UnicodeDecodeError):
            raise Invalid("cursor is not one we gave") from None
        page = items[start : start + limit]
        more = start + limit < len(items)
        cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
        return self._ok(page, {"next_cursor": cursor})

    def _create_activity(self, query, body) -> web.Response:
        data = _dict(body)
        _only(data, V2_ACTIVITY_KEYS)
        if "deal_id" in data:
            self.deal_calls += 1
        active = {t["key_string"] for t in self.activity_types if t["active_flag"]}
        if data.get("type") not in active:
            raise Invalid(f"Invalid activity type {data.get('type')!r}")
        if not isinstance(data.get("subject", ""), str) or not isinstance(data.get("note", ""), str):
            raise Invalid("subject and note are strings")
        if not isinstance(data.get("done", False), bool):
            raise Invalid("done must be a boolean")
        self._check_owner(data)
        if "org_id" in data and data["org_id"] not in self.organizations:
            raise Invalid("org_id must be the id of an organization")
        if "due_date" in data and not _is_date(data["due_date"]):
            raise Invalid("due_date must be YYYY-MM-DD")
        if "due_time" in data and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(data["due_time"])):
            raise Invalid("due_time must be HH:MM")
        participants = data.get("participants", [])
        if not isinstance(participants, list) or not all(
            isinstance(p, dict)
            and _is_int(p.get("person_id"))
            and p["person_id"] in self.persons
            and isinstance(p.get("primary"), bool)
            for p in participants
        ):
            raise Invalid("participants must be [{person_id, primary}] of existing persons")
        activity = {
            "id": next(self._ids),
            "subject": data.get("subject") or data["type"].title(),
            "type": data["type"],
            "owner_id": data.get("owner_id"),
            "person_id": next((p["person_id"] for p in participants if p["primary"]), None),
            "org_id": data.get("org_id"),
            "due_date": data.get("due_date"),
            "due_time": data.get("due_time"),
            "done": data.get("done", False),
            "note": data.get("note"),
            "participants": participants,
            "is_deleted": False,
            "add_time": _now(),
            "update_time": _now(),
        }
        self.activities[activity["id"]] = activity
        return self._ok(activity)

    def _delete_activity(self, query, body, activity_id) -> web.Response:
        activity = self.activities.get(int(activity_id))
        if activity is None or activity["is_deleted"]:
            return self._error(404, "Activity not found")
        activity["is_deleted"] = True  # v2 deletes softly: gone from lists, kept 30 days
        activity["update_time"] = _now()
        return self._ok({"id": activity["id"]})

    # --- state -------------------------------------------------------------------------------------------

    @staticmethod
    def _field(field_id: int, key: str, name: str, kind: str, options: list | None = None) -> dict:
        return {
            "id": field_id,
            "key": key,
            "name": name,
            "field_type": kind,
            "active_flag": True,
            "edit_flag": len(key) == 40,
            "mandatory_flag": False,
            "options": options,
        }

    def _store_org(self, data: dict) -> dict:
        org = {
            "id": next(self._ids),
            "name": data["name"],
            "owner_id": data.get("owner_id"),
            "label_ids": data.get("label_ids", []),
            "is_deleted": False,
            "add_time": _now(),
            "update_time": _now(),
            "visible_to": 3,
            "address": data.get("address"),
            "custom_fields": dict(data.get("custom_fields", {})),
        }
        self.organizations[org["id"]] = org
        return org

    def _store_person(self, data: dict) -> dict:
        first, _, last = data["name"].partition(" ")
        person = {
            "id": next(self._ids),
            "name": data["name"],
            "first_name": first,
            "last_name": last,
            "owner_id": data.get("owner_id"),
            "org_id": data.get("org_id"),
            "emails": data.get("emails", []),
            "phones": data.get("phones", []),
            "label_ids": data.get("label_ids", []),
            "custom_fields": dict(data.get("custom_fields", {})),
            "is_deleted": False,
            "visible_to": 3,
            "add_time": _now(),
            "update_time": _now(),
        }
        self.persons[person["id"]] = person
        return person

    def _org_item(self, org: dict) -> dict:
        return {
            "result_score": 1.0,
            "item": {
                "id": org["id"],
                "type": "organization",
                "name": org["name"],
                "address": None,
                "visible_to": 3,
                "owner": {"id": org["owner_id"]},
                "custom_fields": [],
                "notes": [],
            },
        }

    def _person_item(self, person: dict) -> dict:
        org = self.organizations.get(person["org_id"]) if person["org_id"] else None
        return {
            "result_score": 1.0,
            "item": {
                "id": person["id"],
                "type": "person",
                "name": person["name"],
                "phones": [p["value"] for p in person["phones"]],
                "emails": [e["value"] for e in person["emails"]],
                "visible_to": 3,
                "owner": {"id": person["owner_id"]},
                "organization": {"id": org["id"], "name": org["name"], "address": None} if org else None,
                "custom_fields": [],
                "notes": [],
            },
        }


def _fits(field: dict, value) -> bool:
    """Whether `value` is what a custom field of this type takes: text, or the id of one of its options."""
    if field["field_type"] == "enum":
        return _is_int(value) and value in {o["id"] for o in field["options"] or []}
    return isinstance(value, str)


def _search_params(query: dict, allowed: set[str]) -> tuple[str, bool, set[str]]:
    term = query.get("term", "")
    exact_text = query.get("exact_match", "false")
    if exact_text not in ("true", "false"):
        raise Invalid("exact_match must be true or false")
    exact = exact_text == "true"
    if len(term) < (1 if exact else 2):
        raise Invalid("term must be at least 2 characters (1 with exact_match)")
    fields = set(filter(None, query.get("fields", ",".join(allowed)).split(",")))
    if not fields <= allowed:
        raise Invalid(f"fields must be some of {', '.join(sorted(allowed))}")
    return term, exact, fields


def _matches(value: str, term: str, exact: bool) -> bool:
    return value.lower() == term.lower() if exact else term.lower() in value.lower()


def _dict(body) -> dict:
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object")
    return body


def _only(data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(unknown)}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(at: datetime | None) -> str:
    """An update time as Pipedrive writes it: the moment of the change, to the second."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

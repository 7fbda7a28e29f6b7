"""A typed client for the few Pipedrive endpoints the sync uses; only `pipedrive.errors` types leave it.

API v2 for persons, organizations, activities and their searches; v1 only where v2 has nothing (users/find,
activityTypes, personFields, organizationFields, webhooks, notes). Authentication is the `x-api-token` header, never a query parameter, so the
token stays out of URLs and logs. Every request passes the token's `Throttle`; a 429 waits for
`x-ratelimit-reset` and is sent again (a 429 was not acted on, so resending even a create is safe). Nothing
else is resent here: after a timeout a create may or may not have happened, and only the sync, which
searches before it creates, can tell. The client counts its calls, their token cost and the 429s it met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from core import metrics
from core.settings import Settings
from pipedrive.errors import (
    AuthenticationFailed,
    PipedriveError,
    PipedriveUnavailable,
    RateLimited,
    RequestRejected,
)
from pipedrive.throttle import Throttle

# Token cost of each operation, from the `x-token-cost` of Pipedrive's OpenAPI documents.
COST_SEARCH, COST_WRITE, COST_DELETE, COST_GET_ONE, COST_LIST_ACTIVITIES = 20, 5, 3, 1, 10
COST_LIST = 10
COST_FIND_USER, COST_ACTIVITY_TYPES, COST_PERSON_FIELDS, COST_UPDATE_FIELD = 40, 20, 20, 10
COST_ADD_FIELD, COST_WEBHOOKS, COST_ADD_WEBHOOK, COST_DELETE_WEBHOOK = 10, 10, 10, 6
COST_LIST_NOTES, COST_WRITE_NOTE, COST_DELETE_NOTE, COST_ORG_FIELDS = 20, 10, 6, 20
COST_USERS, COST_RECENTS = 20, 20
DEFAULT_RESET_SECONDS = 2.0  # the burst window, when a 429 does not say when it resets


@dataclass(frozen=True)
class PipedriveUser:
    id: int
    email: str
    active: bool


@dataclass(frozen=True)
class ActivityType:
    key: str
    name: str
    active: bool


@dataclass(frozen=True)
class FieldOption:
    id: int
    label: str


@dataclass(frozen=True)
class PersonField:
    id: int | None
    key: str
    name: str
    field_type: str
    options: tuple[FieldOption, ...] = ()


@dataclass(frozen=True)
class Webhook:
    id: int
    event_action: str
    event_object: str
    subscription_url: str
    version: str
    is_active: bool


@dataclass(frozen=True)
class FoundOrganization:
    id: int
    name: str


@dataclass(frozen=True)
class FoundPerson:
    id: int
    name: str
    emails: tuple[str, ...]
    organization_id: int | None
    owner_id: int | None


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    org_id: int | None
    owner_id: int | None
    label_ids: tuple[int, ...]


@dataclass(frozen=True)
class NoteRecord:
    id: int
    content: str


@dataclass(frozen=True)
class ActivityRecord:
    id: int
    subject: str
    type: str
    due_date: str | None
    due_time: str | None
    note: str | None


class PipedriveClient:
    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        throttle: Throttle,
        timeout: float = 10.0,
        max_rate_limit_waits: int = 3,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"x-api-token": token.get_secret_value(), "accept": "application/json"},
        )
        self.throttle = throttle
        self.max_rate_limit_waits = max_rate_limit_waits
        self.calls = 0
        self.tokens_spent = 0
        self.rate_limited = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- v1 ---------------------------------------------------------------------------------------------

    async def me(self) -> tuple[str, str]:
        """Who the token belongs to and its company: (user's name, company name); v1 users/me."""
        body = await self._request("GET", "/api/v1/users/me", cost=COST_FIND_USER)
        return _parse(lambda: (str(body["data"]["name"]), str(body["data"].get("company_name") or "")))

    async def find_user_by_email(self, email: str) -> PipedriveUser | None:
        body = await self._request(
            "GET", "/api/v1/users/find", params={"term": email, "search_by_email": 1}, cost=COST_FIND_USER
        )
        users = _parse(
            lambda: [
                PipedriveUser(int(u["id"]), str(u.get("email") or ""), bool(u.get("active_flag", True)))
                for u in body.get("data") or []
            ]
        )
        matches = [u for u in users if u.email.lower() == email.lower()]
        return next((u for u in matches if u.active), matches[0] if matches else None)

    async def user_names(self) -> dict[int, str]:
        """Every user of the company by id, their names; v1 users (one call for all)."""
        body = await self._request("GET", "/api/v1/users", cost=COST_USERS)
        return _parse(lambda: {int(u["id"]): str(u.get("name") or "") for u in body.get("data") or []})

    async def activity_types(self) -> tuple[ActivityType, ...]:
        body = await self._request("GET", "/api/v1/activityTypes", cost=COST_ACTIVITY_TYPES)
        return _parse(
            lambda: tuple(
                ActivityType(
                    str(t["key_string"]), str(t.get("name") or t["key_string"]), bool(t.get("active_flag", True))
                )
                for t in body.get("data") or []
            )
        )

    async def person_fields(self) -> tuple[PersonField, ...]:
        fields: list[PersonField] = []
        start = 0
        while True:
            body = await self._request(
                "GET", "/api/v1/personFields", params={"start": start, "limit": 500}, cost=COST_PERSON_FIELDS
            )
            fields += _parse(lambda body=body: [_person_field(f) for f in body.get("data") or []])
            more = _parse(lambda body=body: (body.get("additional_data") or {}).get("pagination") or {})
            if not more.get("more_items_in_collection"):
                return tuple(fields)
            start = int(more.get("next_start") or start + 500)

    async def update_person_field_options(self, field_id: int, options: list[dict]) -> PersonField:
        """Replace a set/enum field's options: `options` must hold every existing one, or it is deleted."""
        body = await self._request(
            "PUT", f"/api/v1/personFields/{field_id}", json={"options": options}, cost=COST_UPDATE_FIELD
        )
        return _parse(lambda: _person_field(body["data"]))

    async def add_person_field(self, name: str, field_type: str) -> PersonField:
        body = await self._request(
            "POST", "/api/v1/personFields", json={"name": name, "field_type": field_type}, cost=COST_ADD_FIELD
        )
        return _parse(lambda: _person_field(body["data"]))

    async def organization_fields(self) -> tuple[PersonField, ...]:
        """The organization fields (the same shape as person fields: key, name, type, options)."""
        fields: list[PersonField] = []
        start = 0
        while True:
            body = await self._request(
                "GET", "/api/v1/organizationFields", params={"start": start, "limit": 500}, cost=COST_ORG_FIELDS
            )
            fields += _parse(lambda body=body: [_person_field(f) for f in body.get("data") or []])
            more = _parse(lambda body=body: (body.get("additional_data") or {}).get("pagination") or {})
            if not more.get("more_items_in_collection"):
                return tuple(fields)
            start = int(more.get("next_start") or start + 500)

    async def person_notes(self, person_id: int) -> tuple[NoteRecord, ...]:
        """The notes on this person (the latest 500)."""
        body = await self._request(
            "GET",
            "/api/v1/notes",
            params={"person_id": person_id, "sort": "id DESC", "limit": 500},
            cost=COST_LIST_NOTES,
        )
        return _parse(
            lambda: tuple(NoteRecord(int(n["id"]), str(n.get("content") or "")) for n in body.get("data") or [])
        )

    async def create_note(self, person_id: int, content: str) -> int:
        body = await self._request(
            "POST", "/api/v1/notes", json={"person_id": person_id, "content": content}, cost=COST_WRITE_NOTE
        )
        return _parse(lambda: int(body["data"]["id"]))

    async def update_note(self, note_id: int, content: str) -> bool:
        """Replace a note's content; False when it is gone (deleted in Pipedrive)."""
        try:
            await self._request("PUT", f"/api/v1/notes/{note_id}", json={"content": content}, cost=COST_WRITE_NOTE)
        except RequestRejected as exc:
            if exc.status != 404:
                raise
            return False
        return True

    async def delete_note(self, note_id: int) -> None:
        """Delete a note; one already gone is fine."""
        try:
            await self._request("DELETE", f"/api/v1/notes/{note_id}", cost=COST_DELETE_NOTE)
        except RequestRejected as exc:
            if exc.status != 404:
                raise

    async def webhooks(self) -> tuple[Webhook, ...]:
        body = await self._request("GET", "/api/v1/webhooks", cost=COST_WEBHOOKS)
        return _parse(lambda: tuple(_webhook(w) for w in body.get("data") or []))

    async def add_webhook(self, payload: dict) -> Webhook:
        body = await self._request("POST", "/api/v1/webhooks", json=payload, cost=COST_ADD_WEBHOOK)
        return _parse(lambda: _webhook(body["data"]))

    async def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook; one already gone is fine."""
        try:
            await self._request("DELETE", f"/api/v1/webhooks/{webhook_id}", cost=COST_DELETE_WEBHOOK)
        except RequestRejected as exc:
            if exc.status != 404:
                raise

    # --- v2 ---------------------------------------------------------------------------------------------

    async def get_organization(self, org_id: int) -> FoundOrganization | None:
        """The organization with this id; None when it is gone."""
        try:
            body = await self._request("GET", f"/api/v2/organizations/{org_id}", cost=COST_GET_ONE)
        except RequestRejected as exc:
            if exc.status == 404:
                return None
            raise
        return _parse(lambda: FoundOrganization(int(body["data"]["id"]), str(body["data"].get("name") or "")))

    async def organization_data(self, org_id: int) -> dict | None:
        """The organization as Pipedrive holds it (its address and custom fields among the rest); None when gone."""
        return await self._one(f"/api/v2/organizations/{org_id}")

    async def _one(self, path: str) -> dict | None:
        """One object's data as Pipedrive holds it; None when it is gone."""
        try:
            body = await self._request("GET", path, cost=COST_GET_ONE)
        except RequestRejected as exc:
            if exc.status == 404:
                return None
            raise
        data = body.get("data")
        return data if isinstance(data, dict) else None

    async def search_organizations(self, name: str) -> tuple[FoundOrganization, ...]:
        """Organizations whose name is exactly `name` (Pipedrive ignores case)."""
        body = await self._request(
            "GET",
            "/api/v2/organizations/search",
            params={"term": name, "fields": "name", "exact_match": "true"},
            cost=COST_SEARCH,
            search=True,
        )
        return _parse(
            lambda: tuple(
                FoundOrganization(int(i["item"]["id"]), str(i["item"].get("name") or ""))
                for i in (body.get("data") or {}).get("items") or []
            )
        )

    async def create_organization(self, payload: dict) -> int:
        body = await self._request("POST", "/api/v2/organizations", json=payload, cost=COST_WRITE)
        return _parse(lambda: int(body["data"]["id"]))

    async def update_organization(self, org_id: int, payload: dict) -> None:
        await self._request("PATCH", f"/api/v2/organizations/{org_id}", json=payload, cost=COST_WRITE)

    async def search_persons(
        self, term: str, *, field: str, organization_id: int | None = None
    ) -> tuple[FoundPerson, ...]:
        """Persons whose `field` (email, name, phone) is exactly `term`, optionally within an organization."""
        params: dict[str, Any] = {"term": term, "fields": field, "exact_match": "true"}
        if organization_id is not None:
            params["organization_id"] = organization_id
        body = await self._request("GET", "/api/v2/persons/search", params=params, cost=COST_SEARCH, search=True)
        return _parse(lambda: tuple(_found_person(i["item"]) for i in (body.get("data") or {}).get("items") or []))

    async def person_data(self, person_id: int) -> dict | None:
        """The person as Pipedrive holds it (as a v2 list or webhook carries it); None when gone."""
        return await self._one(f"/api/v2/persons/{person_id}")

    async def get_person(self, person_id: int) -> Person:
        body = await self._request("GET", f"/api/v2/persons/{person_id}", cost=COST_GET_ONE)
        return _parse(lambda: _person(body["data"]))

    async def create_person(self, payload: dict) -> int:
        body = await self._request("POST", "/api/v2/persons", json=payload, cost=COST_WRITE)
        return _parse(lambda: int(body["data"]["id"]))

    async def update_person(self, person_id: int, payload: dict) -> Person:
        body = await self._request("PATCH", f"/api/v2/persons/{person_id}", json=payload, cost=COST_WRITE)
        return _parse(lambda: _person(body["data"]))

    async def delete_person(self, person_id: int) -> None:
        """Delete a person; one already gone is fine."""
        try:
            await self._request("DELETE", f"/api/v2/persons/{person_id}", cost=COST_DELETE)
        except RequestRejected as exc:
            if exc.status != 404:
                raise

    async def person_activities(self, person_id: int) -> tuple[ActivityRecord, ...]:
        """The latest activities whose primary participant is this person (newest first)."""
        body = await self._request(
            "GET",
            "/api/v2/activities",
            params={"person_id": person_id, "sort_by": "id", "sort_direction": "desc", "limit": 500},
            cost=COST_LIST_ACTIVITIES,
        )
        return _parse(
            lambda: tuple(
                ActivityRecord(
                    int(a["id"]),
                    str(a.get("subject") or ""),
                    str(a.get("type") or ""),
                    a.get("due_date"),
                    a.get("due_time"),
                    a.get("note"),
                )
                for a in body.get("data") or []
                if not a.get("is_deleted")
            )
        )

    async def changed_since(
        self, collection: str, since: str | None, *, cursor: str | None = None, latest_only: bool = False
    ) -> tuple[list[dict], str | None]:
        """One page of a v2 list (persons, organizations, deals, activities) updated at or after `since` (RFC
        3339), oldest change first, and the cursor of the next page (None at the end). `latest_only`: the one
        changed last."""
        params: dict[str, Any] = {"sort_by": "update_time", "sort_direction": "desc" if latest_only else "asc"}
        params["limit"] = 1 if latest_only else 500
        if since:
            params["updated_since"] = since
        if cursor:
            params["cursor"] = cursor
        if collection == "deals":
            params["status"] = "open,won,lost,deleted"  # a deal deleted is a change too
        body = await self._request("GET", f"/api/v2/{collection}", params=params, cost=COST_LIST)
        items = [i for i in body.get("data") or [] if isinstance(i, dict)]
        extra = body.get("additional_data") if isinstance(body.get("additional_data"), dict) else {}
        return items, (None if latest_only else extra.get("next_cursor") or None)

    async def recents(self, since: str, items: tuple[str, ...], *, start: int = 0) -> tuple[list[dict], int | None]:
        """One page of v1 recents: the `items` (person, organization…) changed at or after `since` (UTC, YYYY-MM-DD
        HH:MM:SS), deleted ones included, each `{item, id, data}`; and where the next page starts (None at the end)."""
        params = {"since_timestamp": since, "items": ",".join(items), "start": start, "limit": 500}
        body = await self._request("GET", "/api/v1/recents", params=params, cost=COST_RECENTS)
        entries = [e for e in body.get("data") or [] if isinstance(e, dict)]
        extra = body.get("additional_data") if isinstance(body.get("additional_data"), dict) else {}
        pages = extra.get("pagination") if isinstance(extra.get("pagination"), dict) else {}
        if not pages.get("more_items_in_collection") or not entries:
            return entries, None
        following = pages.get("next_start")
        return entries, following if isinstance(following, int) and following > start else start + len(entries)

    async def create_activity(self, payload: dict) -> int:
        body = await self._request("POST", "/api/v2/activities", json=payload, cost=COST_WRITE)
        return _parse(lambda: int(body["data"]["id"]))

    async def delete_activity(self, activity_id: int) -> None:
        """Delete an activity; one already gone is fine."""
        try:
            await self._request("DELETE", f"/api/v2/activities/{activity_id}", cost=COST_DELETE)
        except RequestRejected as exc:
            if exc.status != 404:
                raise

    # --- the wire ---------------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        cost: int,
        params: dict | None = None,
        json: dict | None = None,
        search: bool = False,
    ) -> dict:
        for _ in range(self.max_rate_limit_waits + 1):
            ticket = await self.throttle.acquire(search=search)
            try:
                response = await self._http.request(method, path, params=params, json=json)
            except httpx.TimeoutException:
                raise PipedriveUnavailable("Pipedrive did not answer in time.") from None
            except httpx.HTTPError as exc:
                raise PipedriveUnavailable(f"Could not reach Pipedrive ({type(exc).__name__}).") from None
            finally:
                await self.throttle.done(ticket)
            self.calls += 1
            self.tokens_spent += cost
            reset = _number(response.headers.get("x-ratelimit-reset"))
            await self.throttle.observe(
                limit=_int(response.headers.get("x-ratelimit-limit")),
                remaining=_int(response.headers.get("x-ratelimit-remaining")),
                reset=reset,
                search=search,
            )
            if response.status_code != 429:
                return _body(response)
            self.rate_limited += 1
            metrics.RATE_LIMITED.labels("pipedrive").inc()
            await self.throttle.hold(reset if reset is not None else DEFAULT_RESET_SECONDS)
        raise RateLimited("Pipedrive's rate limit was still reached after waiting.", reset_after=reset)


def company_client(settings: Settings) -> PipedriveClient:
    """A client on the company's token (PIPEDRIVE_API_TOKEN), for the set-up commands."""
    if settings.pipedrive_api_token is None:
        raise AuthenticationFailed("PIPEDRIVE_API_TOKEN is not set.")
    throttle = Throttle(settings.pipedrive_burst_limit, settings.pipedrive_search_limit)
    return PipedriveClient(
        settings.pipedrive_url,
        settings.pipedrive_api_token,
        throttle=throttle,
        timeout=settings.pipedrive_timeout_seconds,
    )


def _body(response: httpx.Response) -> dict:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict) and body.get("error"):
        detail = f": {str(body['error'])[:200]}"
    if status in (401, 403):
        raise AuthenticationFailed(f"Pipedrive refused the API token (HTTP {status}{detail}).", status=status)
    if status >= 500:
        raise PipedriveUnavailable(f"Pipedrive had an error (HTTP {status}).", status=status)
    if status >= 400:
        raise RequestRejected(f"Pipedrive rejected the request (HTTP {status}{detail}).", status=status)
    if not isinstance(body, dict) or body.get("success") is False:
        raise PipedriveUnavailable(f"Pipedrive gave an answer that could not be read (HTTP {status}).", status=status)
    return body


def _parse(build):
    """Build typed values from a JSON body; an unexpected shape is Pipedrive's error, never a KeyError."""
    try:
        return build()
    except PipedriveError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError):
        raise PipedriveUnavailable("Pipedrive gave an answer of an unexpected shape.") from None


def _int(value: str | None) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _person_field(f: dict) -> PersonField:
    options = tuple(FieldOption(int(o["id"]), str(o.get("label") or "")) for o in f.get("options") or [])
    return PersonField(f.get("id"), str(f["key"]), str(f.get("name") or ""), str(f.get("field_type") or ""), options)


def _webhook(w: dict) -> Webhook:
    return Webhook(
        int(w["id"]),
        str(w.get("event_action") or ""),
        str(w.get("event_object") or ""),
        str(w.get("subscription_url") or ""),
        str(w.get("version") or ""),
        bool(w.get("is_active", 1)),
    )


def _found_person(item: dict) -> FoundPerson:
    organization = item.get("organization") or {}
    owner = item.get("owner") or {}
    return FoundPerson(
        int(item["id"]),
        str(item.get("name") or ""),
        tuple(str(e) for e in item.get("emails") or []),
        organization.get("id"),
        owner.get("id"),
    )


def _person(data: dict) -> Person:
    return Person(
        int(data["id"]),
        str(data.get("name") or ""),
        data.get("org_id"),
        data.get("owner_id"),
        tuple(int(i) for i in data.get("label_ids") or []),
    )

"""The Pipedrive company's set-up as one API token sees it, cached with expiry (each lookup costs tokens).

Owner ids by email (users/find costs 40 tokens), the person fields (the label options and the campaign source
field's key) and the activity types are fetched once per expiry period. A lock per lookup means concurrent
syncs wait for one fetch instead of each paying for it, and that the "Warm lead" label option is added once.
A missing activity type is a `SetupProblem`: a person must fix it in Pipedrive. A missing campaign source
field is not: persons are synced without it (logged once), until `pipedriven pipedrive setup` adds it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import TTLCache

from pipedrive.client import ActivityType, PersonField, PipedriveClient
from pipedrive.errors import SetupProblem

log = logging.getLogger(__name__)

LABEL_FIELD_KEYS = ("label", "label_ids")
TEXT_FIELD_TYPES = ("varchar", "varchar_auto", "text")
_FIELDS = "person_fields"
INDUSTRY_FIELD = "Industry"  # the organization field a contact's sector goes to, when the company has one
CUSTOM_KEY_LENGTH = 40  # custom fields are keyed by a 40-character hash


class CompanyLookups:
    def __init__(
        self, client: PipedriveClient, *, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self._cache: TTLCache = TTLCache(maxsize=4096, ttl=ttl_seconds, timer=clock)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._missing_logged: set[str] = set()

    async def owner_id(self, email: str) -> int | None:
        """The Pipedrive user with this email (None if there is none: the person gets the token's user)."""

        async def load():
            user = await self.client.find_user_by_email(email)
            return user.id if user else None

        return await self._cached(f"owner:{email.lower()}", load)

    async def user_names(self) -> dict[int, str]:
        """The company's users by id, their names (a person's owner is one of them)."""
        return await self._cached("users", self.client.user_names)

    def forget_users(self) -> None:
        """The users are read again at the next lookup (one is new since they were read)."""
        self._cache.pop("users", None)

    async def existing_label_id(self, name: str) -> int | None:
        """The id of the person label option called `name` (any case); None when there is none (none is added)."""
        try:
            return _option(_label_field(await self._person_fields()), name)
        except SetupProblem:
            return None

    async def label_id(self, name: str) -> int:
        """The id of the person label option called `name` (any case), added to the label field if missing."""

        async def load():
            field = _label_field(await self._person_fields())
            if (option := _option(field, name)) is not None:
                return option
            # Another process may have just added it: look again at fresh options before adding.
            self._cache.pop(_FIELDS, None)
            field = _label_field(await self._person_fields())
            if (option := _option(field, name)) is not None:
                return option
            if field.id is None:
                raise SetupProblem(f"Pipedrive's person label field can't take the option “{name}”.")
            # Every existing option goes along: an option left out of the PUT is deleted.
            options = [{"id": o.id, "label": o.label} for o in field.options] + [{"label": name}]
            updated = await self.client.update_person_field_options(field.id, options)
            self._cache.pop(_FIELDS, None)
            if (option := _option(updated, name)) is None:
                raise SetupProblem(f"Pipedrive did not add the person label “{name}”.")
            return option

        return await self._cached(f"label:{name.lower()}", load)

    async def text_field_key(self, name: str) -> str | None:
        """The key (a 40-character hash) of the person text field whose display name is `name` (any case); None
        when Pipedrive has no such field (logged once per process)."""

        async def load():
            fields = [f for f in await self._person_fields() if f.name.strip().lower() == name.strip().lower()]
            if not fields:
                if name.strip().lower() not in self._missing_logged:
                    self._missing_logged.add(name.strip().lower())
                    log.warning("%s", missing_field_note(name))
                return None
            if fields[0].field_type not in TEXT_FIELD_TYPES:
                raise SetupProblem(
                    f"The Pipedrive person field “{fields[0].name}” is not a text field, so the "
                    f"campaign can't be written in it."
                )
            return fields[0].key

        return await self._cached(f"field:{name.strip().lower()}", load)

    async def industry(self, sector: str) -> dict:
        """The custom field value that names this sector in the organization field called "Industry" (v2 has no
        industry of its own): `{key: text}` for a text field, `{key: option id}` for a single option field whose
        option has that name (any case); `{}` when the company has no such field or option."""
        fields: tuple[PersonField, ...] = await self._cached("organization_fields", self.client.organization_fields)
        field = next((f for f in fields if f.name.strip().lower() == INDUSTRY_FIELD.lower()), None)
        if field is None or len(field.key) != CUSTOM_KEY_LENGTH:
            return {}
        if field.field_type in TEXT_FIELD_TYPES:
            return {field.key: sector}
        if field.field_type == "enum" and (option := _option(field, sector)) is not None:
            return {field.key: option}
        return {}

    async def activity_type(self, key: str) -> str:
        """`key` if the company has it as an active activity type."""
        types: tuple[ActivityType, ...] = await self._cached("activity_types", self.client.activity_types)
        if any(t.key == key and t.active for t in types):
            return key
        raise SetupProblem(f"Pipedrive has no active activity type “{key}”: ask a Pipedrive admin to turn it on.")

    async def _person_fields(self) -> tuple[PersonField, ...]:
        return await self._cached(_FIELDS, self.client.person_fields)

    async def _cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        async with self._locks[key]:
            try:
                return self._cache[key]
            except KeyError:
                value = await load()
                self._cache[key] = value
                return value


def missing_field_note(name: str) -> str:
    """What a sync without the campaign source field says, for the log and `sync status`."""
    return (
        f"Pipedrive has no person field “{name}”, so the campaign was left out: "
        f"run `pipedriven pipedrive setup` (or set PIPEDRIVE_CAMPAIGN_SOURCE_FIELD to its name)."
    )


def _label_field(fields: tuple[PersonField, ...]) -> PersonField:
    field = next((f for f in fields if f.key in LABEL_FIELD_KEYS), None)
    if field is None:
        raise SetupProblem("Pipedrive has no person label field.")
    return field


def _option(field: PersonField, name: str) -> int | None:
    wanted = name.strip().lower()
    return next((o.id for o in field.options if o.label.strip().lower() == wanted), None)

"""What a batch of Pipedrive events reads, read once for the whole batch: the contacts its persons and
organisations link (locked in one statement), their local edits, its deals' rows, the activities the bank holds
already and which contacts have open follow-ups. A lookup the batch did not foresee reads the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, inspect, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import flag_modified

from core.contacts.handlers import CONTACT_EDIT_UNDONE, CONTACT_EDITED
from core.context import Context
from core.models import Activity, Contact, DomainEvent, FollowUp, PipedriveDeal, PipedriveEvent

_current: ContextVar[Preloaded | None] = ContextVar("pipedrive_batch", default=None)


@dataclass
class Preloaded:
    person_ids: set[int] = field(default_factory=set)
    org_ids: set[int] = field(default_factory=set)
    contacts: dict[int, Contact] = field(default_factory=dict)
    edits: dict[int, dict[str, datetime]] = field(default_factory=dict)
    deal_ids: set[int] = field(default_factory=set)
    deals: dict[int, dict[int, PipedriveDeal]] = field(default_factory=lambda: defaultdict(dict))
    activity_ids: set[int] = field(default_factory=set)
    held_activities: set[int] = field(default_factory=set)
    open_follow_ups: set[int] = field(default_factory=set)
    _links: dict[tuple[str, int], list[Contact]] | None = None  # (column, value) → contacts, until one is relinked

    def linked(self, column: str, value: int) -> list[Contact] | None:
        """The contacts linked to the person or organisation now; None when the batch did not read them."""
        if value not in (self.person_ids if column == "pipedrive_person_id" else self.org_ids):
            return None
        if self._links is None:
            self._links = defaultdict(list)
            for contact in sorted(self.contacts.values(), key=lambda c: c.id):
                for name in ("pipedrive_person_id", "pipedrive_org_id"):
                    if (linked_to := getattr(contact, name)) is not None:
                        self._links[(name, linked_to)].append(contact)
        return list(self._links.get((column, value), ()))

    def relinked(self) -> None:
        """A contact's person or organisation changed: the links are read again at the next lookup."""
        self._links = None


def write_together(pre: Preloaded) -> None:
    """The batch's changed contacts written in one statement: each is given every column any of them changed, so
    that their UPDATEs are alike (the ORM writes a run of unlike ones one statement each)."""
    changed = [c for c in pre.contacts.values() if inspect(c).modified]
    columns = set().union(*(inspect(c).committed_state for c in changed)) if changed else set()
    columns &= set(inspect(Contact).column_attrs.keys())
    for contact in changed:
        for name in columns - inspect(contact).committed_state.keys():
            flag_modified(contact, name)


def any_of(column: Any, ids: Iterable[int]) -> Any:
    """`column = ANY(ids)`, the ids as one array: the statement's text is the same however many there are (an
    IN list is a new statement, compiled and parsed again, for each count)."""
    return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))


def current() -> Preloaded | None:
    return _current.get()


def relinked() -> None:
    if (pre := _current.get()) is not None:
        pre.relinked()


@contextmanager
def using(pre: Preloaded) -> Iterator[None]:
    token = _current.set(pre)
    try:
        yield
    finally:
        _current.reset(token)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return _int(value.get("value"))
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _part(payload: dict | None, name: str) -> dict:
    value = (payload or {}).get(name)
    return value if isinstance(value, dict) and value else {}


async def preload(ctx: Context, events: list[PipedriveEvent]) -> Preloaded:
    pre = Preloaded()
    for e in events:
        data, meta = _part(e.payload, "data"), _part(e.payload, "meta")
        known = data or _part(e.payload, "previous")
        merged = _int(meta.get("merged_to_id"))
        if e.entity == "person":
            pre.person_ids |= {i for i in (e.entity_id, merged) if i is not None}
        elif e.entity == "organization":
            pre.org_ids |= {i for i in (e.entity_id, merged) if i is not None}
        elif e.entity == "deal":
            pre.deal_ids.add(e.entity_id)
            for ids, key in ((pre.person_ids, "person_id"), (pre.org_ids, "org_id")):
                if (found := _int(known.get(key))) is not None:
                    ids.add(found)
        elif e.entity == "activity":
            pre.activity_ids.add(e.entity_id)
            person = _int(data.get("person_id"))
            participants = data.get("participants")
            for p in participants if isinstance(participants, list) else ():
                if isinstance(p, dict) and p.get("primary") and (found := _int(p.get("person_id"))) is not None:
                    pre.person_ids.add(found)
            if person is not None:
                pre.person_ids.add(person)
    s = ctx.session
    if pre.person_ids or pre.org_ids:
        rows = await s.execute(
            select(Contact)
            .where(
                or_(any_of(Contact.pipedrive_person_id, pre.person_ids), any_of(Contact.pipedrive_org_id, pre.org_ids))
            )
            .order_by(Contact.id)
            .with_for_update()
        )
        pre.contacts = {c.id: c for c in rows.scalars()}
    contact_ids = list(pre.contacts)
    if contact_ids:
        edits = (
            await s.execute(
                select(
                    DomainEvent.id,
                    DomainEvent.contact_id,
                    DomainEvent.name,
                    DomainEvent.payload,
                    DomainEvent.occurred_at,
                ).where(
                    any_of(DomainEvent.contact_id, contact_ids),
                    DomainEvent.name.in_((CONTACT_EDITED, CONTACT_EDIT_UNDONE)),
                )
            )
        ).all()
        fields_of = {edit.id: edit.payload.get("field") for edit in edits if edit.name == CONTACT_EDITED}
        pre.edits = {i: {} for i in contact_ids}
        for edit in edits:
            name = fields_of.get(edit.id) if edit.name == CONTACT_EDITED else fields_of.get(edit.payload.get("edit_id"))
            latest = pre.edits[edit.contact_id]
            if isinstance(name, str) and (name not in latest or edit.occurred_at > latest[name]):
                latest[name] = edit.occurred_at
        pre.open_follow_ups = set(
            (
                await s.execute(
                    select(FollowUp.contact_id)
                    .where(any_of(FollowUp.contact_id, contact_ids), FollowUp.status == "open")
                    .distinct()
                )
            ).scalars()
        )
    if pre.deal_ids:
        deal_rows = await s.execute(
            select(PipedriveDeal)
            .where(any_of(PipedriveDeal.deal_id, pre.deal_ids))
            .order_by(PipedriveDeal.deal_id, PipedriveDeal.contact_id)
            .with_for_update()
        )
        for row in deal_rows.scalars():
            pre.deals[row.deal_id][row.contact_id] = row
    if pre.activity_ids:  # read after the contacts are locked: one another worker applied meanwhile is seen
        held = await s.execute(
            select(Activity.pipedrive_activity_id).where(any_of(Activity.pipedrive_activity_id, pre.activity_ids))
        )
        pre.held_activities = {i for i in held.scalars() if i is not None}
    return pre

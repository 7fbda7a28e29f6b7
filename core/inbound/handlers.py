"""Changes from Pipedrive (its webhooks), the core's side: stored once, then applied to the linked contacts.

A webhook is stored once (its identity is unique), then applied by the worker in order of arrival. For each
field, a contact keeps the time of the last Pipedrive change applied to it: an older event never moves the
field back, and a field edited here after the Pipedrive change keeps the local value; the refused change and
the local edit are both in the audit trail. Events about persons or organisations no contact is linked to are
recorded as ignored. An applied event keeps ids and its outcome, not its payload (personal data).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Text, bindparam, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.contacts.handlers import CONTACT_EDIT_UNDONE, CONTACT_EDITED
from core.context import Context, claim_owed
from core.errors import InvalidInput
from core.inbound import deals, preload
from core.inbound.commands import (
    ApplyPipedriveEvent,
    ApplyPipedriveEvents,
    ClaimPipedriveNotes,
    KeptLocalEdit,
    PipedriveEventApplied,
    PipedriveEventsToApply,
    PipedriveNoteView,
    PipedrivePollMarks,
    ReceivePipedriveEvent,
    ReceivePipedriveEvents,
    RecordPipedrivePollMark,
    ReleasePipedriveNotes,
    ToName,
    WaitingEvent,
    WaitingPipedriveEvents,
)
from core.models import Contact, DomainEvent, PipedriveEvent, PipedriveNote, PipedrivePollMark
from core.privacy.handlers import record_audit
from core.registry import handles
from core.validation import clean_email, clean_phone
from core.vocabulary import WARM_THRESHOLD

_PERSON_FIELDS = ("name", "email", "phone", "organisation", "pipedrive_owner")
_SAID = {"pipedrive_owner": "owner"}  # a field as the outcome and `show` name it


@handles
async def receive_pipedrive_event(cmd: ReceivePipedriveEvent, ctx: Context) -> int | None:
    """The stored event's id; None when the same event was stored before (a redelivery)."""
    stored = await ctx.session.execute(
        pg_insert(PipedriveEvent)
        .values(
            event_key=cmd.key[:200],
            entity=cmd.entity[:30],
            action=cmd.action[:10],
            entity_id=cmd.entity_id,
            occurred_at=cmd.occurred_at,
            received_at=ctx.clock.now(),
            payload=cmd.payload,
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(PipedriveEvent.id)
    )
    return stored.scalar_one_or_none()


# A group of events stored by one statement whatever its size (the group as one JSON array of rows), so that it
# is compiled and prepared once, not once per group size, and its payloads are not escaped into an array literal.
_STORE_GROUP = text(
    """
    INSERT INTO pipedrive_events (event_key, entity, action, entity_id, occurred_at, received_at, payload)
    SELECT k, e, a, i, o, :now, p
      FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS t(k text, e text, a text, i bigint, o timestamptz, p jsonb)
    ON CONFLICT (event_key) DO NOTHING
    RETURNING id, event_key
    """
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("events", type_=Text))


@handles
async def receive_pipedrive_events(cmd: ReceivePipedriveEvents, ctx: Context) -> tuple[int | None, ...]:
    """Each stored event's id, in one statement; None for one stored before, or earlier in the same group."""
    if not cmd.events:
        return ()
    stored = await ctx.session.execute(
        _STORE_GROUP,
        {
            "now": ctx.clock.now(),
            "events": json.dumps(
                [
                    {
                        "k": e.key[:200],
                        "e": e.entity[:30],
                        "a": e.action[:10],
                        "i": e.entity_id,
                        "o": e.occurred_at.isoformat(),
                        "p": e.payload,
                    }
                    for e in cmd.events
                ]
            ),
        },
    )
    ids: dict[str, int] = {key: id_ for id_, key in stored.all()}
    return tuple(ids.pop(e.key[:200], None) for e in cmd.events)


@handles
async def waiting_pipedrive_events(cmd: WaitingPipedriveEvents, ctx: Context) -> tuple[WaitingEvent, ...]:
    rows = await ctx.session.execute(
        select(PipedriveEvent.id, PipedriveEvent.entity, PipedriveEvent.action)
        .where(PipedriveEvent.status == "received")
        .order_by(PipedriveEvent.id)
        .limit(cmd.limit)
    )
    return tuple(WaitingEvent(*row) for row in rows.all())


@handles
async def pipedrive_events_to_apply(cmd: PipedriveEventsToApply, ctx: Context) -> dict[int, ToName]:
    """Per person event, the organisation it links whose name no contact knows yet and the owner it gives the
    person (the worker fetches their names)."""
    rows = await ctx.session.execute(
        select(PipedriveEvent.id, PipedriveEvent.payload).where(
            preload.any_of(PipedriveEvent.id, cmd.event_ids),
            PipedriveEvent.status == "received",
            PipedriveEvent.entity == "person",
            PipedriveEvent.action == "change",
        )
    )
    values = {event_id: _person_values(payload) for event_id, payload in rows.all()}
    owners = {event_id: v["owner_id"] for event_id, v in values.items() if isinstance(v.get("owner_id"), int)}
    links = {event_id: v["org_id"] for event_id, v in values.items() if isinstance(v.get("org_id"), int)}
    named: set[int | None] = set()
    if links:
        named = set(
            (
                await ctx.session.execute(
                    select(Contact.pipedrive_org_id)
                    .where(
                        preload.any_of(Contact.pipedrive_org_id, set(links.values())), Contact.organisation.is_not(None)
                    )
                    .distinct()
                )
            ).scalars()
        )
    unnamed = {event_id: org_id for event_id, org_id in links.items() if org_id not in named}
    return {
        event_id: ToName(
            (unnamed[event_id],) if event_id in unnamed else (), (owners[event_id],) if event_id in owners else ()
        )
        for event_id in unnamed.keys() | owners.keys()
    }


async def _org_name(ctx: Context, org_id: int) -> str | None:
    return await ctx.session.scalar(
        select(Contact.organisation)
        .where(Contact.pipedrive_org_id == org_id, Contact.organisation.is_not(None))
        .order_by(Contact.id)
        .limit(1)
    )


@handles
async def apply_pipedrive_event(cmd: ApplyPipedriveEvent, ctx: Context) -> PipedriveEventApplied | None:
    """None when the event is not waiting (applied already, or another worker has it)."""
    s = ctx.session
    event = (
        await s.execute(
            select(PipedriveEvent)
            .where(PipedriveEvent.id == cmd.event_id, PipedriveEvent.status == "received")
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if event is None:
        return None
    try:
        async with s.begin_nested():
            result = await _apply(ctx, event, cmd)
    except Exception as exc:  # one bad event must not stop the others: it is recorded, and they go on
        result = PipedriveEventApplied("error", f"could not be applied ({type(exc).__name__})")
    await _record(ctx, cmd, event, result)
    return result


# Applying a stored event need not wait for the disk: a crash before it reaches the disk leaves the event stored
# and waiting (its storing committed durably before Pipedrive was answered), so it is applied again after.
_APPLIED_WITHOUT_WAITING_FOR_DISK = text("SET LOCAL synchronous_commit = off")


@handles
async def apply_pipedrive_events(cmd: ApplyPipedriveEvents, ctx: Context) -> tuple[PipedriveEventApplied | None, ...]:
    """Apply a batch: its events locked and what they read read once, all applied in one savepoint; when one of
    them fails, the batch is applied again one event per savepoint, so that only that one is recorded as an error."""
    s = ctx.session
    await s.execute(_APPLIED_WITHOUT_WAITING_FOR_DISK)
    by_id = {c.event_id: c for c in cmd.events}
    events = list(
        (
            await s.execute(
                select(PipedriveEvent)
                .where(preload.any_of(PipedriveEvent.id, by_id), PipedriveEvent.status == "received")
                .order_by(PipedriveEvent.id)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    results: dict[int, PipedriveEventApplied] = {}
    try:
        async with s.begin_nested():
            pre = await preload.preload(ctx, events)
            with preload.using(pre):
                for event in events:
                    results[event.id] = await _apply(ctx, event, by_id[event.id])
                    await _record(ctx, by_id[event.id], event, results[event.id])
            preload.write_together(pre)
    except Exception:
        return tuple([await apply_pipedrive_event(one, ctx) for one in cmd.events])
    return tuple(results.get(one.event_id) for one in cmd.events)


async def _record(ctx: Context, cmd: ApplyPipedriveEvent, event: PipedriveEvent, result: PipedriveEventApplied) -> None:
    event.status, event.outcome, event.contact_ids = result.status, result.outcome[:500], list(result.contact_ids)
    event.applied_at, event.payload = ctx.clock.now(), {}  # the payload's personal data goes once applied
    if result.status == "applied" and result.contact_ids:
        await record_audit(ctx, cmd, result)


async def _apply(ctx: Context, event: PipedriveEvent, cmd: ApplyPipedriveEvent) -> PipedriveEventApplied:
    if event.entity == "person" and event.action == "change":
        return await _person_changed(ctx, event, cmd)
    if event.entity == "person" and event.action == "delete":
        return await _person_deleted(ctx, event)
    if event.entity == "organization" and event.action == "change":
        return await _organization_changed(ctx, event)
    if event.entity == "organization" and event.action == "delete":
        return await _organization_deleted(ctx, event)
    if event.entity == "deal":
        return await deals.deal_changed(ctx, event)
    if event.entity == "activity":
        return await deals.activity_changed(ctx, event)
    if event.entity == "person" and event.action == "create":
        return PipedriveEventApplied("ignored", "a person created in Pipedrive: not in any bank")
    return PipedriveEventApplied("ignored", f"{event.entity} {event.action}: not read yet")


async def _linked(ctx: Context, column, entity_id: int) -> list[Contact]:
    pre = preload.current()
    if pre is not None and (found := pre.linked(column.key, entity_id)) is not None:
        return found
    query = select(Contact).where(column == entity_id).order_by(Contact.id).with_for_update()
    return list((await ctx.session.execute(query)).scalars())


def _person_values(payload: dict) -> dict[str, Any]:
    """The contact's fields as the person's data gives them: only those that changed, when `previous` says."""
    data = _part(payload, "data")
    previous = payload.get("previous")
    changed = set(previous) if isinstance(previous, dict) and previous else set(data)
    values: dict[str, Any] = {}
    if "name" in changed and isinstance(data.get("name"), str) and data["name"].strip():
        values["name"] = " ".join(data["name"].split())[:200]
    for key, column, limit in (("emails", "email", 320), ("phones", "phone", 50)):
        if key in changed and isinstance(data.get(key), list):
            values[column] = _primary(data[key], limit)
    if "org_id" in changed and (data.get("org_id") is None or isinstance(data.get("org_id"), int)):
        values["org_id"] = data.get("org_id")
    if "owner_id" in changed:
        owner = data.get("owner_id")  # an id (v2), or an object with its id and name (v1)
        if isinstance(owner, dict) and isinstance(owner.get("id"), int):
            values["owner_id"] = owner["id"]
            if isinstance(owner.get("name"), str) and owner["name"].strip():
                values["owner_name"] = owner["name"]
        elif isinstance(owner, int) and not isinstance(owner, bool):
            values["owner_id"] = owner
    return values


def _part(payload: dict | None, name: str) -> dict:
    value = (payload or {}).get(name)
    return value if isinstance(value, dict) else {}


def _primary(items: list, limit: int) -> str | None:
    found = [i for i in items if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"].strip()]
    chosen = next((i for i in found if i.get("primary") is True), found[0] if found else None)
    return chosen["value"].strip()[:limit] if chosen else None


def _warm_label_added(payload: dict, label_id: int | None) -> bool:
    """Whether the person now has the warm label and had not before (when `previous` says)."""
    labels = _part(payload, "data").get("label_ids")
    if label_id is None or not isinstance(labels, list) or label_id not in labels:
        return False
    previous = payload.get("previous")
    if not isinstance(previous, dict) or not previous:
        return True
    return "label_ids" in previous and label_id not in (previous.get("label_ids") or [])


async def _person_changed(ctx: Context, event: PipedriveEvent, cmd: ApplyPipedriveEvent) -> PipedriveEventApplied:
    contacts = await _linked(ctx, Contact.pipedrive_person_id, event.entity_id)
    if not contacts:
        return PipedriveEventApplied("ignored", "unknown person")
    values = _person_values(event.payload)
    for field, clean in (("email", clean_email), ("phone", lambda v: clean_phone(v, ctx.settings.phone_region))):
        if values.get(field):
            try:
                values[field] = clean(values[field])
            except InvalidInput:  # what the bank can't hold stays as it is here
                del values[field]
    if "org_id" in values:
        org_id = values.pop("org_id")
        name = None if org_id is None else cmd.org_names.get(org_id) or await _org_name(ctx, org_id)
        if org_id is None or name is not None:
            values["organisation"], values["pipedrive_org_id"] = name, org_id
    if "owner_id" in values:  # the owner's name, when Pipedrive's users say it (else the owner shown stays)
        owner_id, given = values.pop("owner_id"), values.pop("owner_name", None)
        if owner_name := cmd.user_names.get(owner_id) or given:
            values["pipedrive_owner"] = " ".join(owner_name.split())[:200]
    changed_ids: list[int] = []
    kept: set[str] = set()
    stale: set[str] = set()
    changes: set[str] = set()
    warm = _warm_label_added(event.payload, cmd.warm_label_id)
    for contact in contacts:
        done, refused, old = await _set_fields(ctx, contact, values, event.occurred_at)
        kept |= refused
        stale |= old
        if warm and contact.warmness < WARM_THRESHOLD:  # as `warm` does, with no sync back: it came from there
            contact.warmness = WARM_THRESHOLD
            contact.pipedrive_change = f"{contact.pipedrive_change}; warm label added" if done else "warm label added"
            contact.pipedrive_changed_at = event.occurred_at
            done = done | {"warm"}
        changes |= done
        if done:
            changed_ids.append(contact.id)
    if kept:
        await _audit_kept(ctx, [k.id for k in contacts], kept)
    return _outcome(changed_ids, changes, kept, stale)


async def _set_fields(
    ctx: Context, contact: Contact, values: dict[str, Any], at: datetime
) -> tuple[set[str], set[str], set[str]]:
    """Set what is newer than both the last Pipedrive change and the last local edit of each field: the fields
    changed, those kept for a later local edit, and those an earlier Pipedrive event already moved past."""
    times = dict(contact.pipedrive_field_times or {})
    edited = await _local_edits(ctx, contact.id)
    done: set[str] = set()
    kept: set[str] = set()
    stale: set[str] = set()
    for field, value in values.items():
        if field == "pipedrive_org_id":
            continue
        last = times.get(field)
        if last is not None and datetime.fromisoformat(last) >= at:
            stale.add(field)
            continue
        if field in edited and edited[field] > at:
            kept.add(field)
            continue
        times[field] = at.isoformat()
        if field == "organisation":
            contact.pipedrive_org_id = values.get("pipedrive_org_id")
            preload.relinked()
        current = getattr(contact, field)
        same = (current or "").lower() == (value or "").lower() if field == "email" else current == value
        if same:
            continue
        if field == "email" and value and await _email_taken(ctx, contact, value):
            kept.add(field)
            continue
        setattr(contact, field, value)
        done.add(field)
    contact.pipedrive_field_times = times
    if done:
        contact.pipedrive_changed_at = at
        contact.pipedrive_change = ", ".join(_SAID.get(f, f) for f in _PERSON_FIELDS if f in done) + " changed"
    return done, kept, stale


async def _local_edits(ctx: Context, contact_id: int) -> dict[str, datetime]:
    """When each field of the contact was last edited (or an edit undone) here."""
    pre = preload.current()
    if pre is not None and contact_id in pre.edits:
        return pre.edits[contact_id]
    edits = (
        await ctx.session.execute(
            select(DomainEvent.id, DomainEvent.name, DomainEvent.payload, DomainEvent.occurred_at).where(
                DomainEvent.contact_id == contact_id, DomainEvent.name.in_((CONTACT_EDITED, CONTACT_EDIT_UNDONE))
            )
        )
    ).all()
    fields_of = {e.id: e.payload.get("field") for e in edits if e.name == CONTACT_EDITED}
    latest: dict[str, datetime] = {}
    for e in edits:
        field = fields_of.get(e.id) if e.name == CONTACT_EDITED else fields_of.get(e.payload.get("edit_id"))
        if isinstance(field, str) and (field not in latest or e.occurred_at > latest[field]):
            latest[field] = e.occurred_at
    return latest


async def _email_taken(ctx: Context, contact: Contact, email: str) -> bool:
    return bool(
        await ctx.session.scalar(
            select(
                exists().where(
                    Contact.owner_id == contact.owner_id,
                    func.lower(Contact.email) == email.lower(),
                    Contact.id != contact.id,
                )
            )
        )
    )


async def _audit_kept(ctx: Context, contact_ids: list[int], fields: set[str]) -> None:
    record = KeptLocalEdit(tuple(contact_ids), tuple(sorted(fields)))
    await record_audit(ctx, record, None)


def _outcome(changed_ids: list[int], changes: set[str], kept: set[str], stale: set[str]) -> PipedriveEventApplied:
    notes = []
    if fields := [_SAID.get(f, f) for f in _PERSON_FIELDS if f in changes]:
        notes.append(", ".join(fields) + " changed")
    if "warm" in changes:
        notes.append("warm label added")
    if kept:
        notes.append("kept the later edit here of " + ", ".join(sorted(kept)))
    if stale:
        notes.append("older than a change already applied to " + ", ".join(sorted(stale)))
    if changes:
        return PipedriveEventApplied("applied", "; ".join(notes), tuple(changed_ids))
    if kept or stale:
        return PipedriveEventApplied("stale", "; ".join(notes))
    return PipedriveEventApplied("applied", "nothing new")


async def _person_deleted(ctx: Context, event: PipedriveEvent) -> PipedriveEventApplied:
    contacts = await _linked(ctx, Contact.pipedrive_person_id, event.entity_id)
    if not contacts:
        return PipedriveEventApplied("ignored", "unknown person")
    merged_to = _merged_to(event.payload)
    for contact in contacts:
        contact.pipedrive_changed_at = event.occurred_at
        if merged_to is not None:
            contact.pipedrive_person_id = merged_to
            contact.pipedrive_change = f"merged into person {merged_to}"
            preload.relinked()
        else:
            contact.pipedrive_person_id, contact.pipedrive_deleted_at = None, event.occurred_at
            preload.relinked()
            contact.pipedrive_change = "deleted in Pipedrive"
    what = f"relinked to person {merged_to}" if merged_to is not None else "unlinked (deleted in Pipedrive)"
    return PipedriveEventApplied("applied", what, tuple(k.id for k in contacts), merged_to)


def _merged_to(payload: dict) -> int | None:
    value = _part(payload, "meta").get("merged_to_id")
    try:
        return int(value) if value is not None and str(value).strip() else None
    except ValueError:
        return None


async def _organization_changed(ctx: Context, event: PipedriveEvent) -> PipedriveEventApplied:
    contacts = await _linked(ctx, Contact.pipedrive_org_id, event.entity_id)
    if not contacts:
        return PipedriveEventApplied("ignored", "unknown organization")
    name = _part(event.payload, "data").get("name")
    if not isinstance(name, str) or not name.strip():
        return PipedriveEventApplied("applied", "nothing new")
    values: dict[str, Any] = {"organisation": " ".join(name.split())[:200], "pipedrive_org_id": event.entity_id}
    changed_ids: list[int] = []
    kept: set[str] = set()
    stale: set[str] = set()
    changes: set[str] = set()
    for contact in contacts:
        done, refused, old = await _set_fields(ctx, contact, values, event.occurred_at)
        kept, stale, changes = kept | refused, stale | old, changes | done
        if done:
            changed_ids.append(contact.id)
    if kept:
        await _audit_kept(ctx, [k.id for k in contacts], kept)
    return _outcome(changed_ids, changes, kept, stale)


async def _organization_deleted(ctx: Context, event: PipedriveEvent) -> PipedriveEventApplied:
    contacts = await _linked(ctx, Contact.pipedrive_org_id, event.entity_id)
    if not contacts:
        return PipedriveEventApplied("ignored", "unknown organization")
    merged_to = _merged_to(event.payload)
    for contact in contacts:
        contact.pipedrive_org_id = merged_to
        preload.relinked()
    what = f"relinked to organization {merged_to}" if merged_to is not None else "organization unlinked"
    return PipedriveEventApplied("applied", what, tuple(k.id for k in contacts))


@handles
async def claim_pipedrive_notes(cmd: ClaimPipedriveNotes, ctx: Context) -> tuple[PipedriveNoteView, ...]:
    """Take (and mark as told) the messages owed, so that two schedulers never both send one."""
    rows = await claim_owed(
        ctx,
        PipedriveNote,
        PipedriveNote.notified_at,
        (PipedriveNote.notified_at.is_(None),),
        cmd.limit,
        (PipedriveNote.id, PipedriveNote.user_id, PipedriveNote.text),
    )
    return tuple(PipedriveNoteView(*r) for r in sorted(rows))


@handles
async def release_pipedrive_notes(cmd: ReleasePipedriveNotes, ctx: Context) -> None:
    await ctx.session.execute(update(PipedriveNote).where(PipedriveNote.id.in_(cmd.note_ids)).values(notified_at=None))


@handles
async def pipedrive_poll_marks(cmd: PipedrivePollMarks, ctx: Context) -> dict[str, datetime]:
    rows = await ctx.session.execute(select(PipedrivePollMark.entity, PipedrivePollMark.updated_since))
    return {entity: since for entity, since in rows.all()}


@handles
async def record_pipedrive_poll_mark(cmd: RecordPipedrivePollMark, ctx: Context) -> None:
    stmt = pg_insert(PipedrivePollMark).values(
        entity=cmd.entity[:30], updated_since=cmd.updated_since, polled_at=ctx.clock.now()
    )
    await ctx.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["entity"],
            set_={
                "updated_since": func.greatest(PipedrivePollMark.updated_since, stmt.excluded.updated_since),
                "polled_at": stmt.excluded.polled_at,
            },
        )
    )

"""Privacy: a person's data exported and erased on request, and the append-only audit trail of who did what.

A *person* is one contact row (in the chat, one of the user's own) or, for a Golden Ticket user on the
CLI, every contact row in every bank with one email (case-insensitive), or one contact id.

What refers to a person is found from the schema, not listed by hand: every column with a foreign key to
`contacts.id` (today activities, follow-ups, campaign memberships, domain events, the outbox). A table added
later with such a column (cadence plans, say) is exported and erased with the rest: its rows go, as
`ON DELETE CASCADE` would, unless `ANONYMISED` says otherwise. Activities are anonymised rather than
deleted so that the numbers of past outreach stay right.

The audit trail is written by `Core.execute` through `record_audit`, in the command's own transaction, for
every command whose class says `Audit.RECORDED` (core.command: not a `Query`, not `Bookkeeping`). It holds ids
only; the tables `audit_log` and `erasures` refuse UPDATE, DELETE and TRUNCATE (a trigger, migration 0010).
"""

from __future__ import annotations

import json
import typing
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CursorResult,
    FromClause,
    Integer,
    Table,
    cast,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from core.command import CampaignRef, ContactRef
from core.context import Context, contact_view, load_contact, load_user, require_golden_ticket
from core.csvwriter import write_csv
from core.errors import InvalidInput, NotFound, UnknownUser
from core.models import AuditEntry, Base, Campaign, Contact, Erasure, OutboxMessage, User
from core.privacy.commands import (
    AuditEntryView,
    AuditList,
    ContactExport,
    EraseContact,
    ErasurePreview,
    ErasureResult,
    ExportContact,
    ExportSection,
    ListAudit,
    PreviewErasure,
)
from core.registry import handles
from core.sync.handlers import stop_syncs_of
from core.views import CampaignView, ContactView, UserView
from core.wording import plural

# Tables whose rows about an erased person are kept but emptied of them: the values to set. Activities keep
# their kind, channel, outcome, campaign, user and time, which is all that stats count.
ANONYMISED: dict[str, dict[str, Any]] = {"activities": {"contact_id": None, "note": None, "subject": None}}
ACROSS_BANKS = "export or erase a person across banks. In the chat, `export` and `forget` work on your own contacts"


# --- who the person is -------------------------------------------------------------------------------------


def referring_columns() -> list[Column]:
    """Every column, in every table of the schema, that points to a contact."""
    contact_id = Contact.__table__.c.id
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column is contact_id for fk in column.foreign_keys)
    ]


async def _subjects(ctx: Context, cmd, *, lock: bool = False) -> list[Contact]:
    """The contact rows of the person the command names, after checking the actor may act on them."""
    if not cmd.every_bank:
        return [await load_contact(ctx, cmd.actor, cmd.contact, lock=lock)]
    require_golden_ticket(await load_user(ctx, cmd.actor.user_id), ACROSS_BANKS)
    ref = cmd.contact
    given = (ref.text or "").strip()
    query = select(Contact).order_by(Contact.id)
    if ref.id is not None or given.isdigit():
        query = query.where(Contact.id == (ref.id if ref.id is not None else int(given)))
    elif "@" in given:
        query = query.where(func.lower(Contact.email) == given.lower())
    else:
        raise InvalidInput("Name the person by their email address or a contact id.")
    contacts = list((await ctx.session.execute(query.with_for_update() if lock else query)).scalars())
    if not contacts:
        raise NotFound(f"No contact in any bank matches “{str(ref)[:80]}”.")
    return contacts


# --- export ------------------------------------------------------------------------------------------------


async def _section(ctx: Context, table: Table, where, *, order_by=None) -> ExportSection:
    """All columns of `table`'s rows matching `where`, with the owner's and the campaign's names alongside."""
    columns: list[ColumnElement[Any]] = [c for c in table.columns if c.computed is None]  # not what PostgreSQL derives
    source: FromClause = table
    if table is Contact.__table__:
        users = User.__table__
        source = source.join(users, users.c.id == table.c.owner_id)
        columns.append(users.c.name.label("owner_name"))
    if "campaign_id" in table.c:
        campaigns = Campaign.__table__
        source = source.outerjoin(campaigns, campaigns.c.id == table.c.campaign_id)
        columns.append(campaigns.c.name.label("campaign_name"))
    result = await ctx.session.execute(
        select(*columns).select_from(source).where(where).order_by(*(order_by or table.primary_key.columns))
    )
    return ExportSection(table.name, tuple(result.keys()), tuple(tuple(row) for row in result))


@handles
async def export_contact(cmd: ExportContact, ctx: Context) -> ContactExport:
    contacts = await _subjects(ctx, cmd)
    ids = [k.id for k in contacts]
    sections = [await _section(ctx, typing.cast(Table, Contact.__table__), Contact.__table__.c.id.in_(ids))]
    for column in referring_columns():
        sections.append(await _section(ctx, column.table, column.in_(ids)))
    sections.append(
        await _section(
            ctx,
            typing.cast(Table, AuditEntry.__table__),
            AuditEntry.contact_ids.op("&&")(_int_array(ids)),
            order_by=[AuditEntry.occurred_at, AuditEntry.id],
        )
    )
    return ContactExport(
        subject=str(cmd.contact),
        generated_at=ctx.clock.now(),
        contact_ids=tuple(ids),
        pipedrive_person_ids=_person_ids(contacts),
        sections=tuple(sections),
    )


def _person_ids(contacts: list[Contact]) -> tuple[int, ...]:
    return tuple(sorted({k.pipedrive_person_id for k in contacts if k.pipedrive_person_id is not None}))


BIG_ID_LIST = 10_000  # from this many ids, an audit row's array is sent as one text (an import writes a million)


def _id_array(ids: set[int]) -> Any:
    """The ids in order, for an int[] column: a list, or when there are many one comma-separated text that
    PostgreSQL splits (a list of a million ints takes some 200 MB to send, the text 7 MB)."""
    ordered = sorted(ids)
    if len(ordered) < BIG_ID_LIST:
        return ordered
    return cast(func.string_to_array(",".join(map(str, ordered)), ","), ARRAY(Integer))


def _int_array(ids: list[int]):
    return cast(ids, ARRAY(Integer))


def _plain(value: Any) -> Any:
    """A value as JSON holds it: times in ISO 8601, amounts as exact decimal strings."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def export_json(export: ContactExport) -> str:
    """The export as one JSON document: who it is about, then every table's rows as objects."""
    return (
        json.dumps(
            {
                "subject": export.subject,
                "generated_at": _plain(export.generated_at),
                "contact_ids": list(export.contact_ids),
                "pipedrive_person_ids": list(export.pipedrive_person_ids),
                "tables": {s.name: [dict(zip(s.columns, map(_plain, row))) for row in s.rows] for s in export.sections},
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


CSV_HEADER = ("table", "row_id", "field", "value")


def export_csv(export: ContactExport) -> str:
    """The export as one CSV of (table, row id, field, value): every table in one file, nothing left out."""
    rows = [
        ("export", "", "subject", export.subject),
        ("export", "", "generated_at", _plain(export.generated_at)),
        ("export", "", "pipedrive_person_ids", _csv_value(list(export.pipedrive_person_ids))),
    ]
    for section in export.sections:
        for row in section.rows:
            values = dict(zip(section.columns, row))
            rows.extend(
                (section.name, values.get("id", ""), field, _csv_value(value)) for field, value in values.items()
            )
    return write_csv(CSV_HEADER, rows)


def _csv_value(value: Any) -> Any:
    """A number as it is; anything else as the text the JSON export holds (lists and objects as JSON)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    value = _plain(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- erasure -----------------------------------------------------------------------------------------------


async def _count(ctx: Context, column: Column, ids: list[int]) -> int:
    return (
        await ctx.session.execute(select(func.count()).select_from(column.table).where(column.in_(ids)))
    ).scalar_one()


@handles
async def preview_erasure(cmd: PreviewErasure, ctx: Context) -> ErasurePreview:
    contacts = await _subjects(ctx, cmd)
    ids = [k.id for k in contacts]
    counts = {column.table.name: await _count(ctx, column, ids) for column in referring_columns()}
    return ErasurePreview(
        tuple(contact_view(k) for k in contacts),
        activities=counts.get("activities", 0),
        follow_ups=counts.get("follow_ups", 0),
        campaign_memberships=counts.get("campaign_contacts", 0),
        sync_messages=counts.get("outbox", 0),
    )


@handles
async def erase_contact(cmd: EraseContact, ctx: Context) -> ErasureResult:
    contacts = await _subjects(ctx, cmd, lock=True)
    ids = [k.id for k in contacts]
    await stop_syncs_of(ctx, ids)
    s = ctx.session
    cut_off = await _sync_cut_off(ctx, [k.id for k in contacts if k.pipedrive_person_id is None])
    removed: dict[str, int] = {}
    for column in referring_columns():
        table = column.table
        if table.name in ANONYMISED:
            result = await s.execute(update(table).where(column.in_(ids)).values(**ANONYMISED[table.name]))
        else:
            result = await s.execute(delete(table).where(column.in_(ids)))
        removed[table.name] = typing.cast(CursorResult, result).rowcount
    # A remembered list keeps its length, so that `log 3` still means the third row shown; an erased row
    # becomes id 0, which no contact has ("That contact no longer exists").
    await s.execute(
        text("""
        UPDATE chat_contexts
           SET last_contact_ids = ARRAY(SELECT CASE WHEN x = ANY(CAST(:ids AS int[])) THEN 0 ELSE x END
                                          FROM unnest(last_contact_ids) WITH ORDINALITY AS t(x, n) ORDER BY n)
         WHERE last_contact_ids && CAST(:ids AS int[])
    """).bindparams(ids=ids)
    )
    await s.execute(delete(Contact).where(Contact.id.in_(ids)))
    person_ids = _person_ids(contacts)
    erasure = Erasure(
        erased_at=ctx.clock.now(),
        erased_by=cmd.actor.user_id,
        platform=cmd.actor.platform,
        contact_ids=ids,
        pipedrive_person_ids=list(person_ids),
    )
    s.add(erasure)
    await s.flush()
    anonymised = removed.get("activities", 0)
    return ErasureResult(
        _erasure_message(ids, person_ids, removed, anonymised, erasure.id, cut_off),
        erasure.id,
        tuple(ids),
        person_ids,
        anonymised,
    )


async def _sync_cut_off(ctx: Context, contact_ids: list[int]) -> bool:
    """Whether a sync of one of these contacts (none with a Pipedrive person id) was tried and cut off before it
    ended: Pipedrive may have created the person and the answer been lost on the way back."""
    return bool(contact_ids) and bool(
        await ctx.session.scalar(
            select(
                exists().where(
                    OutboxMessage.contact_id.in_(contact_ids),
                    OutboxMessage.attempts > 0,
                    OutboxMessage.status.in_(("pending", "failed")),
                )
            )
        )
    )


def _erasure_message(
    ids: list[int],
    person_ids: tuple[int, ...],
    removed: dict[str, int],
    anonymised: int,
    erasure_id: int,
    sync_cut_off: bool = False,
) -> str:
    which = ("contact " if len(ids) == 1 else "contacts ") + ", ".join(map(str, ids))
    gone = [
        plural(n, label)
        for label, n in (
            ("follow-up", removed.get("follow_ups", 0)),
            ("campaign membership", removed.get("campaign_contacts", 0)),
            ("event", removed.get("domain_events", 0)),
            ("sync message", removed.get("outbox", 0)),
        )
        if n
    ]
    lines = [
        f"🗑 Erased {which} from Pipedriven (erasure #{erasure_id})"
        + (f", with {', '.join(gone)}" if gone else "")
        + "."
    ]
    if anonymised:
        lines.append(
            f"{anonymised} past activit{'y stays' if anonymised == 1 else 'ies stay'} in the numbers, anonymous."
        )
    if person_ids:
        people = ", ".join(map(str, person_ids))
        lines.append(
            f"⚠️ Pipedrive still holds a copy: delete person {people} in Pipedrive as well "
            "(Pipedriven does not erase there; Pipedrive purges a deleted person after 30 days)."
        )
    if sync_cut_off:
        lines.append(
            "⚠️ A sync to Pipedrive was cut off before Pipedrive answered, so it may have created this "
            "person there without Pipedriven knowing: look them up in Pipedrive and erase them there too."
        )
    elif not person_ids:
        lines.append(
            "No Pipedrive person id was recorded, so Pipedriven never created one there; if someone "
            "added this person in Pipedrive by hand, erase them there too."
        )
    return "\n".join(lines)


# --- the audit trail ---------------------------------------------------------------------------------------

# Fields, of a command or its result, that hold ids of what it touched (besides refs and views).
_ID_FIELDS = {
    "contact_id": "contact",
    "contact_ids": "contact",
    "activity_id": "activity",
    "activity_ids": "activity",
    "campaign_id": "campaign",
    "campaign_ids": "campaign",
    "user_id": "user",
}


def touched_ids(command: Any, result: Any) -> dict[str, set[int]]:
    """The ids a command acted on, from its fields and its result: contacts, activities, campaigns, users.

    Only ids: a result's views are looked at for their id, never for what they say."""
    ids: dict[str, set[int]] = {"contact": set(), "activity": set(), "campaign": set(), "user": set()}

    def add(value: Any, name: str = "", top: bool = False) -> None:
        if isinstance(value, ContactRef) and value.id is not None:
            ids["contact"].add(value.id)
        elif isinstance(value, CampaignRef) and value.id is not None:
            ids["campaign"].add(value.id)
        elif isinstance(value, ContactView):
            ids["contact"].add(value.id)
        elif isinstance(value, CampaignView):
            ids["campaign"].add(value.id)
        elif isinstance(value, UserView):
            ids["user"].add(value.id)
        elif name in _ID_FIELDS and value is not None:
            ids[_ID_FIELDS[name]].update(value if isinstance(value, (tuple, list)) else (value,))
        elif top and is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                add(getattr(value, f.name), f.name)

    add(command, top=True)
    add(result, top=True)
    return ids


async def record_audit(ctx: Context, command: Any, result: Any) -> None:
    """Append who did what to the trail, in the command's transaction: it is written if and only if the
    command's changes are."""
    actor = getattr(command, "actor", None)
    # Commands without an actor are set-up run by the CLI operator (users add) or an adapter linking an
    # account on its platform.
    platform = actor.platform if actor else getattr(command, "platform", None) or "cli"
    ids = touched_ids(command, result)
    ctx.session.add(
        AuditEntry(
            occurred_at=ctx.clock.now(),
            user_id=actor.user_id if actor else None,
            platform=platform[:20],
            command=type(command).__name__[:60],
            contact_ids=_id_array(ids["contact"]),
            activity_ids=sorted(ids["activity"]),
            campaign_ids=sorted(ids["campaign"]),
            user_ids=sorted(ids["user"]),
        )
    )


@handles
async def list_audit(cmd: ListAudit, ctx: Context) -> AuditList:
    if not 1 <= cmd.limit <= 100_000:
        raise InvalidInput("Ask for between 1 and 100000 audit entries.")
    query = select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
    if cmd.user_email:
        user_id = (
            await ctx.session.execute(select(User.id).where(func.lower(User.email) == cmd.user_email.strip().lower()))
        ).scalar_one_or_none()
        if user_id is None:
            raise UnknownUser(f"There is no Pipedriven user with the email {cmd.user_email.strip()[:80]}.")
        query = query.where(AuditEntry.user_id == user_id)
    if cmd.since is not None:
        query = query.where(AuditEntry.occurred_at >= cmd.since)
    rows = (
        await ctx.session.execute(query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(cmd.limit))
    ).all()
    return AuditList(
        tuple(
            AuditEntryView(
                id=e.id,
                occurred_at=e.occurred_at,
                user_id=e.user_id,
                user_email=email,
                platform=e.platform,
                command=e.command,
                contact_ids=tuple(e.contact_ids),
                activity_ids=tuple(e.activity_ids),
                campaign_ids=tuple(e.campaign_ids),
                user_ids=tuple(e.user_ids),
            )
            for e, email in reversed(rows)
        )
    )

"""Contacts in a user's own bank: adding, editing, finding and showing one (with its recent activity, open
follow-ups, campaigns and cadence plan); removing one from the bank and restoring it; merging two.

A removed contact keeps its row and history (`archived_at` is set): it is out of every list (today's, find,
campaigns, cadence steps, nudges), and restoring it clears the mark, so it comes back as it was. A merge moves
everything of one contact to the other and deletes the emptied row; nothing is deleted in Pipedrive.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import cast

from sqlalchemy import CursorResult, delete, func, select, update

from core.cadences import plans
from core.collisions import collision_note
from core.contacts import search
from core.contacts.commands import (
    CLEARING_VALUES,
    EDITABLE_FIELD_LIST,
    EDITABLE_FIELDS,
    ActivityView,
    AddContact,
    ArchiveContact,
    ContactDetail,
    ContactList,
    DealView,
    EditContact,
    FindContacts,
    FindInEveryBank,
    ListRemoved,
    MergeContacts,
    MergePreview,
    MergeResult,
    PreviewMerge,
    PreviewRemoval,
    RemovalPreview,
    RemovedContact,
    RemovedList,
    RestoreContact,
    ShowContact,
    TeamContactList,
    TeamMatch,
    UndoContactEdit,
    UpdateContact,
)
from core.context import (
    CONTACTS_MERGED,
    Context,
    contact_view,
    escape_like,
    load_contact,
    load_user,
    local_day,
    remember_list,
    require_golden_ticket,
)
from core.countries import country_code, country_name
from core.errors import Conflict, ContactRemoved, InvalidInput, PipedrivenError
from core.models import (
    Activity,
    Campaign,
    CampaignContact,
    Contact,
    ContactPlan,
    DomainEvent,
    FollowUp,
    OutboxMessage,
    PipedriveDeal,
    User,
)
from core.outbox import DETAILS_CHANGED, NOTES_EDITED, ORGANISATION_CHANGED, queue_sync, set_warmness
from core.registry import handles
from core.sync.handlers import stop_syncs_of
from core.validation import (
    clean_amount,
    clean_email,
    clean_name,
    clean_note,
    clean_phone,
    clean_text,
    clean_warmness,
    display_phone,
    read_money,
    read_warmness,
)
from core.views import ActionResult, FollowUpView


async def _duplicate_email(ctx: Context, owner_id: int, email: str | None, exclude_id: int | None = None):
    if not email:
        return None
    query = select(Contact).where(Contact.owner_id == owner_id, func.lower(Contact.email) == email)
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return (await ctx.session.execute(query)).scalars().first()


@handles
async def add_contact(cmd: AddContact, ctx: Context) -> ActionResult:
    await load_user(ctx, cmd.actor.user_id)
    email = clean_email(cmd.email)
    if dup := await _duplicate_email(ctx, cmd.actor.user_id, email):
        if dup.archived_at is not None:
            user = await load_user(ctx, cmd.actor.user_id)
            raise ContactRemoved(
                f"{dup.name} has the email {email} and was removed from your bank on "
                f"{local_day(dup.archived_at, user.timezone)}. Restore them instead? (`restore {email}`)",
                dup.id,
            )
        raise Conflict(f"{dup.name} already has the email {email} in your bank.")
    now = ctx.clock.now()
    contact = Contact(
        owner_id=cmd.actor.user_id,
        name=clean_name(cmd.name),
        email=email,
        organisation=clean_text(cmd.organisation, field="organisation", max_length=200),
        phone=clean_phone(cmd.phone, ctx.settings.phone_region),
        title=clean_text(cmd.title, field="title", max_length=200),
        linkedin_url=clean_text(cmd.linkedin_url, field="LinkedIn URL", max_length=500),
        notes=clean_note(cmd.notes),
        warmness=clean_warmness(cmd.warmness),
        past_business=clean_amount(cmd.past_business) or 0,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(contact)
    await ctx.session.flush()
    await ctx.session.refresh(contact)
    note = await collision_note(ctx, contact.owner_id, contact.name, contact.email)
    return ActionResult(f"Added {contact_view(contact).label} to your bank.{note}", contact_view(contact))


@handles
async def update_contact(cmd: UpdateContact, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    if cmd.name is not None:
        contact.name = clean_name(cmd.name)
    if cmd.email is not None:
        email = clean_email(cmd.email)
        if dup := await _duplicate_email(ctx, contact.owner_id, email, exclude_id=contact.id):
            raise Conflict(f"{dup.name} already has the email {email} in your bank.")
        contact.email = email
    for field, limit in (("organisation", 200), ("title", 200), ("linkedin_url", 500)):
        value = getattr(cmd, field)
        if value is not None:
            setattr(contact, field, clean_text(value, field=field.replace("_", " "), max_length=limit))
    if cmd.phone is not None:
        contact.phone = clean_phone(cmd.phone, ctx.settings.phone_region)
    if cmd.notes is not None:
        contact.notes = clean_note(cmd.notes)
    if cmd.past_business is not None:
        amount = clean_amount(cmd.past_business)
        assert amount is not None, "only a missing or empty amount cleans to None"
        contact.past_business = amount
    queued = False
    if cmd.warmness is not None:
        queued = await set_warmness(ctx, cmd.actor, contact, clean_warmness(cmd.warmness))
    contact.updated_at = ctx.clock.now()
    await ctx.session.flush()
    return ActionResult(f"Updated {contact.name}.", contact_view(contact), sync_queued=queued)


CONTACT_EDITED = "ContactEdited"
CONTACT_EDIT_UNDONE = "ContactEditUndone"
# The columns each edited field writes; the ones kept to undo the edit.
_COLUMNS = {
    "organisation": ("organisation", "pipedrive_org_id"),
    "past_business": ("past_business", "past_business_currency"),
}
_PIPEDRIVE_FIELDS = frozenset({"name", "email", "phone", "organisation"})
_ORGANISATION_FIELDS = frozenset({"sector", "country"})
_LABELS = {"linkedin_url": "LinkedIn URL", "past_business": "past business"}
_CANONICAL_FIELDS = frozenset(EDITABLE_FIELDS.values())


def field_of(word: str) -> str:
    """The column an edit's field word names (`org`, `past-business`, `linkedin_url`); InvalidInput otherwise."""
    if word in _CANONICAL_FIELDS:
        return word
    field = EDITABLE_FIELDS.get(" ".join(re.sub(r"[_-]", " ", word.lower()).split()))
    if field is None:
        raise InvalidInput(f"I can't edit “{word[:30]}”. The fields: {EDITABLE_FIELD_LIST}.")
    return field


def _snapshot(contact: Contact, field: str) -> dict:
    values = {column: getattr(contact, column) for column in _COLUMNS.get(field, (field,))}
    return {column: str(value) if isinstance(value, Decimal) else value for column, value in values.items()}


def _clears(value: str) -> bool:
    return not value.strip() or value.strip().lower() in CLEARING_VALUES


async def _set(ctx: Context, cmd: EditContact, contact: Contact, field: str, value: str) -> bool:
    """Write the cleaned value (`-`, `none` or nothing empties an optional field); returns whether the warm
    threshold was crossed (which queues a sync)."""
    if field == "name":
        contact.name = clean_name("" if _clears(value) else value)  # a contact always has a name
    elif field == "warmness":
        warmness = None if _clears(value) else read_warmness(value)
        if warmness is None:
            raise InvalidInput("What warmness? 0 to 5, or cold/warm/hot.")
        return await set_warmness(ctx, cmd.actor, contact, warmness)
    elif _clears(value):
        for column in _COLUMNS.get(field, (field,)):
            setattr(contact, column, Decimal(0) if column == "past_business" else None)
    elif field == "email":
        email = clean_email(value)
        if dup := await _duplicate_email(ctx, contact.owner_id, email, exclude_id=contact.id):
            raise Conflict(f"{dup.name} already has the email {email} in your bank.")
        contact.email = email
    elif field == "phone":
        contact.phone = clean_phone(value, ctx.settings.phone_region)
    elif field in ("organisation", "title", "sector", "linkedin_url"):
        limit = 500 if field == "linkedin_url" else 200
        setattr(contact, field, clean_text(value, field=_LABELS.get(field, field), max_length=limit, required=True))
        if field == "organisation":
            contact.pipedrive_org_id = None  # the sync finds or creates the new one
    elif field == "country":
        contact.country = country_code(value)
    elif field == "notes":
        contact.notes = clean_note(value)
    elif field == "past_business":
        contact.past_business, contact.past_business_currency = read_money(value)
    return False


def _shown(contact: Contact, field: str) -> str:
    if field == "past_business":
        return f"{contact.past_business:,.2f}" + (
            f" {contact.past_business_currency}" if contact.past_business_currency else ""
        )
    value = display_phone(contact.phone) if field == "phone" else getattr(contact, field)
    if value is not None and field == "country":
        return country_name(value)
    return "(none)" if value is None else str(value)


def _now_is(contact: Contact, field: str) -> str:
    """`email is now x@y.z`, or `phone cleared`."""
    label = _LABELS.get(field, field)
    cleared = field != "past_business" and getattr(contact, field) is None
    return f"{label} cleared" if cleared else f"{label} is now {_shown(contact, field)}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@handles
async def edit_contact(cmd: EditContact, ctx: Context) -> ActionResult:
    changes: dict[str, str] = {}
    for word, value in cmd.changes:
        changes[field_of(word)] = value  # a field named twice takes its last value
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    previous: dict = {}
    warmed = False
    for field, value in changes.items():
        previous.update(_snapshot(contact, field))
        try:
            warmed = await _set(ctx, cmd, contact, field, value) or warmed
        except PipedrivenError as refused:
            refused.field = field
            raise
    contact.updated_at = now = ctx.clock.now()
    fields = list(changes)
    payload: dict = {"field": fields[0]} if len(fields) == 1 else {"fields": fields}
    edit = DomainEvent(
        name=CONTACT_EDITED,
        contact_id=contact.id,
        user_id=cmd.actor.user_id,
        payload={**payload, "previous": previous},
        occurred_at=now,
    )
    ctx.session.add(edit)
    queued = warmed or await _queue_details(ctx, cmd.actor, contact, fields)
    await ctx.session.flush()
    return ActionResult(
        f"{contact.name}: {_listed([_now_is(contact, f) for f in fields])}."
        + (" Pipedrive sync queued." if queued else ""),
        contact_view(contact),
        sync_queued=queued,
        edit_id=edit.id,
    )


async def _queue_details(ctx: Context, actor, contact: Contact, fields: list[str]) -> bool:
    """A contact already in Pipedrive gets its person, its note and its organisation updated there (by the
    worker, never in the request)."""
    queued = False
    synced = [f for f in fields if f in _PIPEDRIVE_FIELDS]
    if synced and contact.pipedrive_person_id is not None:
        await queue_sync(ctx, actor, contact, DETAILS_CHANGED, field=", ".join(synced))
        queued = True
    if "notes" in fields and contact.pipedrive_person_id is not None:
        await queue_sync(ctx, actor, contact, NOTES_EDITED)
        queued = True
    organisation = [f for f in fields if f in _ORGANISATION_FIELDS]
    if organisation and "organisation" not in fields and contact.pipedrive_org_id is not None:
        await queue_sync(ctx, actor, contact, ORGANISATION_CHANGED, field=", ".join(organisation))
        queued = True
    return queued


@handles
async def undo_contact_edit(cmd: UndoContactEdit, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    edit = (
        await ctx.session.execute(
            select(DomainEvent).where(
                DomainEvent.id == cmd.edit_id,
                DomainEvent.name == CONTACT_EDITED,
                DomainEvent.contact_id == contact.id,
                DomainEvent.user_id == cmd.actor.user_id,
            )
        )
    ).scalar_one_or_none()
    if edit is None:
        raise InvalidInput("That edit can't be undone.")
    undone = await ctx.session.execute(
        select(DomainEvent.id).where(
            DomainEvent.name == CONTACT_EDIT_UNDONE,
            DomainEvent.contact_id == contact.id,
            DomainEvent.payload["edit_id"].as_integer() == edit.id,
        )
    )
    if undone.first() is not None:
        raise InvalidInput("That edit was undone already.")
    fields = list(edit.payload.get("fields") or [edit.payload["field"]])
    previous = dict(edit.payload["previous"])
    if "email" in previous and (dup := await _duplicate_email(ctx, contact.owner_id, previous["email"], contact.id)):
        raise Conflict(f"{dup.name} has the email {previous['email']} now: that edit can't be undone.")
    queued = False
    for column, value in previous.items():
        if column == "warmness":
            queued = await set_warmness(ctx, cmd.actor, contact, int(value))
        else:
            setattr(contact, column, Decimal(value) if column == "past_business" else value)
    contact.updated_at = now = ctx.clock.now()
    ctx.session.add(
        DomainEvent(
            name=CONTACT_EDIT_UNDONE,
            contact_id=contact.id,
            user_id=cmd.actor.user_id,
            payload={"edit_id": edit.id},
            occurred_at=now,
        )
    )
    queued = queued or await _queue_details(ctx, cmd.actor, contact, fields)
    await ctx.session.flush()
    if len(fields) == 1:
        what = f"{contact.name}'s {_LABELS.get(fields[0], fields[0])} is {_shown(contact, fields[0])} again."
    else:
        what = f"{contact.name}'s {_listed([_LABELS.get(f, f) for f in fields])} are as they were."
    return ActionResult(
        "↩ Undone: " + what + (" Pipedrive sync queued." if queued else ""),
        contact_view(contact),
        sync_queued=queued,
    )


@handles
async def find_contacts(cmd: FindContacts, ctx: Context) -> ContactList:
    words = (cmd.text or "").strip()
    if not words:
        raise InvalidInput("Find what? Try `find ana` or `find acme`.")
    contacts = await search.find(ctx.session, cmd.actor.user_id, words, max(1, min(cmd.limit, 50)))
    await remember_list(ctx, cmd.actor, [k.id for k in contacts])
    return ContactList(tuple(contact_view(k) for k in contacts), query=words)


@handles
async def find_in_every_bank(cmd: FindInEveryBank, ctx: Context) -> TeamContactList:
    """Every bank's contacts, for the Golden Ticket team; the rows are not remembered as numbers, since the chat
    acts on the user's own bank only."""
    require_golden_ticket(await load_user(ctx, cmd.actor.user_id), "search everyone's contacts")
    words = (cmd.text or "").strip()
    if not words:
        raise InvalidInput("Find what? Try `find everyone ana` or `find everyone acme`.")
    contacts = await search.find_in_every_bank(ctx.session, words, max(1, min(cmd.limit, 50)))
    owners = dict(
        (await ctx.session.execute(select(User.id, User.name).where(User.id.in_({k.owner_id for k in contacts})))).all()
    )
    return TeamContactList(tuple(TeamMatch(contact_view(k), owners[k.owner_id]) for k in contacts), query=words)


@handles
async def show_contact(cmd: ShowContact, ctx: Context) -> ContactDetail:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, removed=True)
    acts = (
        (
            await ctx.session.execute(
                select(Activity).where(Activity.contact_id == contact.id).order_by(Activity.occurred_at.desc()).limit(5)
            )
        )
        .scalars()
        .all()
    )
    fus = (
        (
            await ctx.session.execute(
                select(FollowUp)
                .where(FollowUp.contact_id == contact.id, FollowUp.status == "open")
                .order_by(FollowUp.due_at)
            )
        )
        .scalars()
        .all()
    )
    camps = (
        (
            await ctx.session.execute(
                select(Campaign.name).join(CampaignContact).where(CampaignContact.contact_id == contact.id)
            )
        )
        .scalars()
        .all()
    )
    deals = (
        (
            await ctx.session.execute(
                select(PipedriveDeal)
                .where(PipedriveDeal.contact_id == contact.id, PipedriveDeal.status.in_(("won", "lost")))
                .order_by(PipedriveDeal.changed_at.desc())
            )
        )
        .scalars()
        .all()
    )
    won: dict[str, Decimal] = {}
    for d in deals:
        if d.status == "won":
            won[d.currency or ""] = won.get(d.currency or "", Decimal(0)) + d.value
    return ContactDetail(
        contact_view(contact),
        tuple(ActivityView(a.id, a.kind, a.outcome, a.occurred_at, a.note, a.due_at, a.channel) for a in acts),
        tuple(FollowUpView(f.id, f.contact_id, f.due_at, f.note, f.snoozed) for f in fus),
        tuple(camps),
        plan=await plans.plan_view(ctx.session, contact.id),
        pipedrive_change=contact.pipedrive_change,
        pipedrive_changed_at=contact.pipedrive_changed_at,
        pipedrive_deleted_at=contact.pipedrive_deleted_at if contact.pipedrive_person_id is None else None,
        pipedrive_owner=contact.pipedrive_owner if contact.pipedrive_person_id is not None else None,
        deals=tuple(DealView(d.title, d.status, d.value, d.currency, d.changed_at, d.lost_reason) for d in deals[:5]),
        won_by_currency=tuple(sorted(won.items())),
        removed_at=contact.archived_at,
    )


# --- removing a contact from the bank, and putting it back ---------------------------------------------------

CONTACT_REMOVED = "ContactRemoved"
CONTACT_RESTORED = "ContactRestored"


def _pipedrive_stays(contact: Contact) -> str:
    if contact.pipedrive_person_id is None:
        return ""
    return f" Nothing was deleted in Pipedrive: person {contact.pipedrive_person_id} stays there."


@handles
async def preview_removal(cmd: PreviewRemoval, ctx: Context) -> RemovalPreview:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    follow_ups = await ctx.session.scalar(
        select(func.count()).select_from(FollowUp).where(FollowUp.contact_id == contact.id, FollowUp.status == "open")
    )
    plan = await plans.plan_view(ctx.session, contact.id)
    return RemovalPreview(contact_view(contact), follow_ups or 0, plan.strategy if plan and plan.is_open else None)


@handles
async def archive_contact(cmd: ArchiveContact, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    contact.archived_at = now = ctx.clock.now()
    ctx.session.add(
        DomainEvent(name=CONTACT_REMOVED, contact_id=contact.id, user_id=cmd.actor.user_id, occurred_at=now)
    )
    await ctx.session.flush()
    return ActionResult(
        f"Removed {contact_view(contact).label} from your bank: out of your lists, history kept."
        + _pipedrive_stays(contact),
        contact_view(contact),
        restorable=True,
    )


@handles
async def restore_contact(cmd: RestoreContact, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True, removed=True)
    if contact.archived_at is None:
        raise InvalidInput(f"{contact.name} is in your bank already.")
    contact.archived_at = None
    ctx.session.add(
        DomainEvent(
            name=CONTACT_RESTORED, contact_id=contact.id, user_id=cmd.actor.user_id, occurred_at=ctx.clock.now()
        )
    )
    await ctx.session.flush()
    return ActionResult(f"↩ {contact_view(contact).label} is back in your bank.", contact_view(contact))


@handles
async def list_removed(cmd: ListRemoved, ctx: Context) -> RemovedList:
    removed = [Contact.owner_id == cmd.actor.user_id, Contact.archived_at.is_not(None)]
    if words := cmd.text.strip():
        removed.append(Contact.search_key.like(func.contact_fold(f"%{escape_like(words)}%"), escape="\\"))
    limit = max(1, min(cmd.limit, 50))
    contacts = (
        (
            await ctx.session.execute(
                select(Contact).where(*removed).order_by(Contact.archived_at.desc(), Contact.id.desc()).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    total = await ctx.session.scalar(select(func.count()).select_from(Contact).where(*removed)) or 0
    await remember_list(ctx, cmd.actor, [k.id for k in contacts])
    return RemovedList(
        tuple(RemovedContact(contact_view(k), k.archived_at) for k in contacts if k.archived_at is not None),
        more=total - len(contacts),
        query=cmd.text.strip(),
    )


# --- merging two contacts of one bank -------------------------------------------------------------------------

# Details of the survivor that a merge fills from the other contact when they are empty.
_FILLED = ("email", "phone", "organisation", "title", "linkedin_url", "sector", "country")


async def _pair(ctx: Context, cmd: PreviewMerge | MergeContacts, *, lock: bool = False) -> tuple[Contact, Contact]:
    keep = await load_contact(ctx, cmd.actor, cmd.keep, lock=lock)
    other = await load_contact(ctx, cmd.actor, cmd.other, lock=lock)
    if keep.id == other.id:
        raise InvalidInput(f"That is {keep.name} twice: name two different contacts, `merge OTHER into KEEP`.")
    return keep, other


def _money(amount: Decimal, currency: str | None) -> str:
    return f"{amount:,.2f}" + (f" {currency}" if currency else "")


async def _merge_notes(ctx: Context, keep: Contact, other: Contact) -> list[str]:
    """What a merge of `other` into `keep` can't join, and how it settles it."""
    notes = []
    keep_plan = await plans.plan_view(ctx.session, keep.id)
    other_plan = await plans.plan_view(ctx.session, other.id)
    if keep_plan and keep_plan.is_open and other_plan and other_plan.is_open:
        notes.append(
            f"Both follow a cadence: {keep.name}'s {keep_plan.strategy} goes on, "
            f"{other.name}'s {other_plan.strategy} is stopped."
        )
    if (
        keep.past_business > 0
        and other.past_business > 0
        and keep.past_business_currency != other.past_business_currency
    ):
        notes.append(
            f"Past business in two currencies: {keep.name}'s {_money(keep.past_business, keep.past_business_currency)}"
            f" is kept, {other.name}'s {_money(other.past_business, other.past_business_currency)} is not added."
        )
    if keep.pipedrive_person_id and other.pipedrive_person_id and keep.pipedrive_person_id != other.pipedrive_person_id:
        notes.append(
            f"Both are in Pipedrive: {keep.name} stays linked to person {keep.pipedrive_person_id}; person "
            f"{other.pipedrive_person_id} is left as it is there, merge it into {keep.pipedrive_person_id} in "
            "Pipedrive."
        )
    return notes


@handles
async def preview_merge(cmd: PreviewMerge, ctx: Context) -> MergePreview:
    keep, other = await _pair(ctx, cmd)
    return MergePreview(contact_view(keep), contact_view(other), tuple(await _merge_notes(ctx, keep, other)))


async def _move(ctx: Context, model, from_id: int, to_id: int) -> int:
    """Give `to_id` every row of `model` that belongs to `from_id`; how many moved."""
    moved = await ctx.session.execute(update(model).where(model.contact_id == from_id).values(contact_id=to_id))
    return cast(CursorResult, moved).rowcount or 0


@handles
async def merge_contacts(cmd: MergeContacts, ctx: Context) -> MergeResult:
    s, now = ctx.session, ctx.clock.now()
    keep, other = await _pair(ctx, cmd, lock=True)
    await stop_syncs_of(ctx, [keep.id, other.id])
    notes = await _merge_notes(ctx, keep, other)
    keep_plan = await plans.open_plan(s, keep.id, lock=True)
    other_plan = await plans.open_plan(s, other.id, lock=True)
    if keep_plan is not None and other_plan is not None:
        plans.end(other_plan, "aborted", "stopped", now)
    await s.flush()

    activities = await _move(ctx, Activity, other.id, keep.id)
    follow_ups = await _move(ctx, FollowUp, other.id, keep.id)
    for model in (ContactPlan, DomainEvent, OutboxMessage):
        await _move(ctx, model, other.id, keep.id)
    shared = select(CampaignContact.campaign_id).where(CampaignContact.contact_id == keep.id)
    await s.execute(
        delete(CampaignContact).where(CampaignContact.contact_id == other.id, CampaignContact.campaign_id.in_(shared))
    )
    campaigns = await _move(ctx, CampaignContact, other.id, keep.id)

    taken = {field: getattr(other, field) for field in (*_FILLED, "notes", "pipedrive_org_id")}
    other_id, other_label, other_person = other.id, contact_view(other).label, other.pipedrive_person_id
    other_warmness, other_touch = other.warmness, other.last_contacted_at
    other_amount, other_currency = other.past_business, other.past_business_currency
    s.expunge(other)
    await s.execute(delete(Contact).where(Contact.id == other_id))  # before its email may pass to the survivor

    for field in _FILLED:
        if not getattr(keep, field) and taken[field]:
            setattr(keep, field, taken[field])
            if field == "organisation":
                keep.pipedrive_org_id = taken["pipedrive_org_id"]
    if taken["notes"]:
        keep.notes = f"{keep.notes}\n{taken['notes']}" if keep.notes else taken["notes"]
    if keep.pipedrive_person_id is None:
        keep.pipedrive_person_id = other_person
    if other_touch and (keep.last_contacted_at is None or other_touch > keep.last_contacted_at):
        keep.last_contacted_at = other_touch
    if other_amount > 0:
        if keep.past_business_currency == other_currency or keep.past_business == 0:
            keep.past_business += other_amount
            keep.past_business_currency = other_currency
    queued = await set_warmness(ctx, cmd.actor, keep, max(keep.warmness, other_warmness))
    keep.updated_at = now
    s.add(
        DomainEvent(
            name=CONTACTS_MERGED,
            contact_id=keep.id,
            user_id=cmd.actor.user_id,
            payload={"other_id": other_id, "other_pipedrive_person_id": other_person},
            occurred_at=now,
        )
    )
    await s.flush()
    moved = ", ".join(
        f"{count} {one if count == 1 else many}"
        for count, one, many in (
            (activities, "activity", "activities"),
            (follow_ups, "follow-up", "follow-ups"),
            (campaigns, "campaign membership", "campaign memberships"),
        )
        if count
    )
    message = " ".join(
        [
            f"Merged {other_label} into {contact_view(keep).label}" + (f" ({moved} moved)." if moved else "."),
            *notes,
            "Nothing was deleted in Pipedrive." if other_person or keep.pipedrive_person_id else "",
            "Pipedrive sync queued." if queued else "",
        ]
    ).strip()
    return MergeResult(" ".join(message.split()), contact_view(keep), (keep.id, other_id))

"""Contacts in a user's own bank: adding, editing, finding and showing one (with its recent activity, open
follow-ups, campaigns and cadence plan).
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, or_, select

from core.cadences import plans
from core.collisions import collision_note
from core.contacts.commands import (
    CLEARING_VALUES,
    EDITABLE_FIELD_LIST,
    EDITABLE_FIELDS,
    ActivityView,
    AddContact,
    ContactDetail,
    ContactList,
    DealView,
    EditContact,
    FindContacts,
    ShowContact,
    UndoContactEdit,
    UpdateContact,
)
from core.context import Context, contact_view, escape_like, load_contact, load_user, remember_list
from core.countries import country_code, country_name
from core.errors import Conflict, InvalidInput, PipedrivenError
from core.models import Activity, Campaign, CampaignContact, Contact, DomainEvent, FollowUp, PipedriveDeal
from core.outbox import DETAILS_CHANGED, NOTES_EDITED, ORGANISATION_CHANGED, queue_sync, set_warmness
from core.registry import handles
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
    pattern = f"%{escape_like(words)}%"
    query = (
        select(Contact)
        .where(
            Contact.owner_id == cmd.actor.user_id,
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.email.ilike(pattern, escape="\\"),
                Contact.organisation.ilike(pattern, escape="\\"),
            ),
        )
        .order_by(Contact.warmness.desc(), Contact.name, Contact.id)
        .limit(max(1, min(cmd.limit, 50)))
    )
    contacts = (await ctx.session.execute(query)).scalars().all()
    await remember_list(ctx, cmd.actor, [k.id for k in contacts])
    return ContactList(tuple(contact_view(k) for k in contacts), query=words)


@handles
async def show_contact(cmd: ShowContact, ctx: Context) -> ContactDetail:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
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
        deals=tuple(DealView(d.title, d.status, d.value, d.currency, d.changed_at, d.lost_reason) for d in deals[:5]),
        won_by_currency=tuple(sorted(won.items())),
    )

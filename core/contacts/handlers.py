"""Contacts in a user's own bank: adding, editing, finding and showing one (with its recent activity, open
follow-ups, campaigns and cadence plan).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from core.cadences import plans
from core.contacts.commands import (
    ActivityView,
    AddContact,
    ContactDetail,
    ContactList,
    FindContacts,
    ShowContact,
    UpdateContact,
)
from core.context import Context, contact_view, escape_like, load_contact, load_user, remember_list
from core.errors import Conflict, InvalidInput
from core.models import Activity, Campaign, CampaignContact, Contact, FollowUp
from core.outbox import set_warmness
from core.registry import handles
from core.validation import clean_amount, clean_email, clean_name, clean_note, clean_phone, clean_text, clean_warmness
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
    return ActionResult(f"Added {contact_view(contact).label} to your bank.", contact_view(contact))


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
    return ContactDetail(
        contact_view(contact),
        tuple(ActivityView(a.id, a.kind, a.outcome, a.occurred_at, a.note, a.due_at) for a in acts),
        tuple(FollowUpView(f.id, f.contact_id, f.due_at, f.note, f.snoozed) for f in fus),
        tuple(camps),
        plan=await plans.plan_view(ctx.session, contact.id),
    )

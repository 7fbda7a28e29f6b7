"""Campaigns: creating and editing them (the Golden Ticket team), listing them, a campaign's view, and adding
contacts to one (by ids, or one contact named as in chat).
"""

from __future__ import annotations

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.campaigns.commands import (
    AddContactToCampaign,
    AddToCampaign,
    CampaignDetail,
    CampaignList,
    CampaignMember,
    CampaignResult,
    CreateCampaign,
    ListCampaigns,
    ShowCampaign,
    UpdateCampaign,
)
from core.collisions import collisions
from core.command import CampaignRef
from core.context import Context, campaign_view, find_campaign, load_contact, load_user, require_golden_ticket
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Campaign, CampaignContact, Contact
from core.registry import handles
from core.validation import METHOD_LABELS, clean_method, clean_note, clean_text
from core.vocabulary import OUTREACH_METHODS
from core.wording import plural

CAMPAIGN_SIZE_HINT = (10, 30)


def _campaign_fields(cmd) -> dict:
    fields = {
        "description": clean_note(cmd.description, 2000),
        "sector": clean_text(cmd.sector, field="sector", max_length=200),
        "theme": clean_text(cmd.theme, field="theme", max_length=200),
        "geography": clean_text(cmd.geography, field="geography", max_length=200),
        "start_date": cmd.start_date,
        "end_date": cmd.end_date,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _check_status(status: str) -> str:
    if status not in ("draft", "live", "closed"):
        raise InvalidInput("A campaign is draft, live or closed.")
    return status


@handles
async def create_campaign(cmd: CreateCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    require_golden_ticket(user, "create campaigns")
    name = clean_text(cmd.name, field="campaign name", max_length=200, required=True)
    if (await ctx.session.execute(select(Campaign.id).where(func.lower(Campaign.name) == name.lower()))).first():
        raise Conflict(f"A campaign called “{name}” already exists.")
    camp = Campaign(
        name=name,
        status=_check_status(cmd.status),
        created_by=user.id,
        created_at=ctx.clock.now(),
        **_campaign_fields(cmd),
    )
    _check_dates(camp)
    ctx.session.add(camp)
    await ctx.session.flush()
    return CampaignResult(f"Campaign “{name}” created ({camp.status}).", campaign_view(camp))


def _check_dates(camp: Campaign) -> None:
    if camp.start_date and camp.end_date and camp.end_date < camp.start_date:
        raise InvalidInput("A campaign can't end before it starts.")


@handles
async def update_campaign(cmd: UpdateCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    require_golden_ticket(user, "edit campaigns")
    camp = await find_campaign(ctx, cmd.campaign)
    if cmd.name is not None:
        name = clean_text(cmd.name, field="campaign name", max_length=200, required=True)
        taken = (
            await ctx.session.execute(
                select(Campaign.id).where(func.lower(Campaign.name) == name.lower(), Campaign.id != camp.id)
            )
        ).first()
        if taken:
            raise Conflict(f"A campaign called “{name}” already exists.")
        camp.name = name
    for key, value in _campaign_fields(cmd).items():
        setattr(camp, key, value)
    if cmd.status is not None:
        camp.status = _check_status(cmd.status)
    _check_dates(camp)
    await ctx.session.flush()
    return CampaignResult(f"Campaign “{camp.name}” saved ({camp.status}).", campaign_view(camp))


@handles
async def add_to_campaign(cmd: AddToCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    camp = await find_campaign(ctx, cmd.campaign)
    method = clean_method(cmd.method) if cmd.method else None
    contacts = (
        (
            await ctx.session.execute(
                select(Contact).where(Contact.id.in_(cmd.contact_ids), Contact.archived_at.is_(None))
            )
        )
        .scalars()
        .all()
    )
    if user.role != "golden_ticket" and any(k.owner_id != user.id for k in contacts):
        contacts = []  # as if they did not exist: an id tells nothing about other banks
    if len(contacts) != len(set(cmd.contact_ids)):
        raise NotFound(
            "Some of those contacts are not in your bank."
            if user.role != "golden_ticket"
            else "Some of those contacts no longer exist."
        )
    if camp.status == "closed":
        raise InvalidInput(f"Campaign “{camp.name}” is closed.")
    stmt = (
        pg_insert(CampaignContact)
        .values(
            [
                {
                    "campaign_id": camp.id,
                    "contact_id": k.id,
                    "outreach_method": method,
                    "added_by": user.id,
                    "added_at": ctx.clock.now(),
                }
                for k in contacts
            ]
        )
        .on_conflict_do_nothing()
    )
    added = (await ctx.session.execute(stmt.returning(CampaignContact.id))).all() if contacts else []
    count = await _member_count(ctx, camp.id)
    warnings = []
    low, high = CAMPAIGN_SIZE_HINT
    if count > high:
        warnings.append(f"“{camp.name}” now has {count} contacts; campaigns work best with {low}-{high}.")
    for owner_id in sorted({k.owner_id for k in contacts}):
        mine = [(k.name, k.email) for k in contacts if k.owner_id == owner_id]
        warnings += [found.sentence for found in await collisions(ctx, owner_id, mine)]
    return CampaignResult(
        f"Added {plural(len(added), 'contact')} to “{camp.name}” ({count} in all).",
        campaign_view(camp, count),
        tuple(warnings),
    )


async def _member_count(ctx: Context, campaign_id: int) -> int:
    """A campaign's contacts in every bank (a contact removed from its bank is left out)."""
    return (
        await ctx.session.execute(
            select(func.count())
            .select_from(CampaignContact)
            .join(Contact, Contact.id == CampaignContact.contact_id)
            .where(CampaignContact.campaign_id == campaign_id, Contact.archived_at.is_(None))
        )
    ).scalar_one()


@handles
async def list_campaigns(cmd: ListCampaigns, ctx: Context) -> CampaignList:
    counts = (
        select(CampaignContact.campaign_id, func.count().label("n"))
        .join(Contact, Contact.id == CampaignContact.contact_id)
        .where(Contact.archived_at.is_(None))
        .group_by(CampaignContact.campaign_id)
        .subquery()
    )
    rows = (
        await ctx.session.execute(
            select(Campaign, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.campaign_id == Campaign.id)
            .where(Campaign.status != "closed")
            .order_by((Campaign.status == "live").desc(), Campaign.name)
        )
    ).all()
    return CampaignList(tuple(campaign_view(camp, n) for camp, n in rows))


# --- a campaign's view, and adding one contact named as in chat --------------------------------------------

_OUTREACH = ", ".join(f"'{m}'" for m in OUTREACH_METHODS)
# The last outreach is the contact's latest, in or out of the campaign (it is what the owner last did);
# meetings count those recorded under this campaign, as `stats campaign NAME` does.
_MEMBERS = f"""
    SELECT k.id, k.name, k.organisation, k.owner_id, u.name AS owner, cc.outreach_method, cc.status,
           last.occurred_at AS last_at, last.kind AS last_method,
           count(m.id) FILTER (WHERE m.outcome = 'meeting_requested') AS requested,
           count(m.id) FILTER (WHERE m.outcome = 'meeting_booked') AS booked
      FROM campaign_contacts cc
      JOIN contacts k ON k.id = cc.contact_id
      JOIN users u ON u.id = k.owner_id
      LEFT JOIN LATERAL (SELECT a.occurred_at, a.kind FROM activities a
                          WHERE a.contact_id = k.id AND a.kind IN ({_OUTREACH})
                          ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1) last ON true
      LEFT JOIN activities m ON m.contact_id = k.id AND m.campaign_id = cc.campaign_id AND m.kind = 'meeting'
     WHERE cc.campaign_id = :campaign_id AND k.archived_at IS NULL
       AND (CAST(:owner_id AS int) IS NULL OR k.owner_id = :owner_id)
     GROUP BY k.id, u.name, cc.outreach_method, cc.status, last.occurred_at, last.kind
     ORDER BY k.name, k.id
"""


@handles
async def show_campaign(cmd: ShowCampaign, ctx: Context) -> CampaignDetail:
    """The Golden Ticket team sees every member; a consultant sees those of their own bank (banks are
    private) and how many others there are."""
    user = await load_user(ctx, cmd.actor.user_id)
    camp = await find_campaign(ctx, cmd.campaign)
    total = await _member_count(ctx, camp.id)
    only_owner = None if user.role == "golden_ticket" else user.id
    rows = (await ctx.session.execute(text(_MEMBERS), {"campaign_id": camp.id, "owner_id": only_owner})).all()
    members = tuple(
        CampaignMember(
            contact_id=r.id,
            name=r.name,
            organisation=r.organisation,
            owner=r.owner,
            planned_method=r.outreach_method,
            status=r.status,
            last_outreach_at=r.last_at,
            last_method=r.last_method,
            meetings_requested=r.requested,
            meetings_booked=r.booked,
        )
        for r in rows
    )
    return CampaignDetail(campaign_view(camp, total), members, others=total - len(members))


@handles
async def add_contact_to_campaign(cmd: AddContactToCampaign, ctx: Context) -> CampaignResult:
    """One contact from the user's bank (a row, an email, a name); the Golden Ticket team may also name a
    contact of any bank by its id. The rules of AddToCampaign (closed campaigns, size and shared-email
    warnings) then apply."""
    user = await load_user(ctx, cmd.actor.user_id)
    if cmd.contact.id is not None and user.role == "golden_ticket":
        contact = await ctx.session.get(Contact, cmd.contact.id)
        if contact is None:
            raise NotFound(f"There is no contact #{cmd.contact.id}.")
    else:
        contact = await load_contact(ctx, cmd.actor, cmd.contact)
    camp = await find_campaign(ctx, cmd.campaign)
    already = (
        await ctx.session.execute(
            select(CampaignContact.id).where(
                CampaignContact.campaign_id == camp.id, CampaignContact.contact_id == contact.id
            )
        )
    ).first()
    result = await add_to_campaign(AddToCampaign(cmd.actor, CampaignRef(id=camp.id), (contact.id,), cmd.method), ctx)
    count = result.campaign.contact_count
    if not already:
        message = f"Added {contact.name} to “{camp.name}” ({count} in all)."
    elif cmd.method:
        # Adding again with a method changes the plan for that contact.
        method = clean_method(cmd.method)
        await ctx.session.execute(
            update(CampaignContact).where(CampaignContact.id == already.id).values(outreach_method=method)
        )
        message = f"{contact.name} is already in “{camp.name}”; planned method now {METHOD_LABELS[method]}."
    else:
        message = f"{contact.name} is already in “{camp.name}” ({count} in all)."
    return CampaignResult(message, result.campaign, result.warnings, contact_ids=(contact.id,))

"""Campaign handlers beyond create/edit/list: a campaign's view, and adding one contact named as in chat.

Creating, editing (live, close) and adding by ids are `core.handlers`' (CreateCampaign, UpdateCampaign,
AddToCampaign); this module builds on them rather than repeating their rules.
"""

from __future__ import annotations

from sqlalchemy import func, select, text, update

from core import commands as c
from core.command import CampaignRef
from core.errors import NotFound
from core.handlers import add_to_campaign
from core.context import Context, campaign_view, find_campaign, load_contact, load_user
from core.models import OUTREACH_METHODS, CampaignContact, Contact
from core.results import CampaignDetail, CampaignMember, CampaignResult
from core.validation import METHOD_LABELS, clean_method

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
     WHERE cc.campaign_id = :campaign_id AND (CAST(:owner_id AS int) IS NULL OR k.owner_id = :owner_id)
     GROUP BY k.id, u.name, cc.outreach_method, cc.status, last.occurred_at, last.kind
     ORDER BY k.name, k.id
"""


async def show_campaign(cmd: c.ShowCampaign, ctx: Context) -> CampaignDetail:
    """The Golden Ticket team sees every member; a consultant sees those of their own bank (banks are
    private) and how many others there are."""
    user = await load_user(ctx, cmd.actor.user_id)
    camp = await find_campaign(ctx, cmd.campaign)
    total = (await ctx.session.execute(select(func.count()).select_from(CampaignContact)
                                       .where(CampaignContact.campaign_id == camp.id))).scalar_one()
    only_owner = None if user.role == "golden_ticket" else user.id
    rows = (await ctx.session.execute(text(_MEMBERS), {"campaign_id": camp.id, "owner_id": only_owner})).all()
    members = tuple(CampaignMember(contact_id=r.id, name=r.name, organisation=r.organisation, owner=r.owner,
                                   planned_method=r.outreach_method, status=r.status, last_outreach_at=r.last_at,
                                   last_method=r.last_method, meetings_requested=r.requested,
                                   meetings_booked=r.booked) for r in rows)
    return CampaignDetail(campaign_view(camp, total), members, others=total - len(members))


async def add_contact_to_campaign(cmd: c.AddContactToCampaign, ctx: Context) -> CampaignResult:
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
    already = (await ctx.session.execute(select(CampaignContact.id).where(
        CampaignContact.campaign_id == camp.id, CampaignContact.contact_id == contact.id))).first()
    result = await add_to_campaign(c.AddToCampaign(cmd.actor, CampaignRef(id=camp.id), (contact.id,),
                                                   cmd.method), ctx)
    count = result.campaign.contact_count
    if not already:
        message = f"Added {contact.name} to “{camp.name}” ({count} in all)."
    elif cmd.method:
        # Adding again with a method changes the plan for that contact.
        method = clean_method(cmd.method)
        await ctx.session.execute(update(CampaignContact).where(CampaignContact.id == already.id)
                                  .values(outreach_method=method))
        message = f"{contact.name} is already in “{camp.name}”; planned method now {METHOD_LABELS[method]}."
    else:
        message = f"{contact.name} is already in “{camp.name}” ({count} in all)."
    return CampaignResult(message, result.campaign, result.warnings, contact_ids=(contact.id,))


HANDLERS = {
    c.ShowCampaign: show_campaign,
    c.AddContactToCampaign: add_contact_to_campaign,
}

"""Undo: take back an outreach logged by mistake (a tap on the wrong row), by its own logger, within a minute.

The activity is deleted and what logging it changed is put back: the contact's last touch, the follow-ups the
touch settled, the campaign row's last outreach and the contact's cadence plan. Only plain outreach can be
undone: a meeting or a warm flag may already be on its way to Pipedrive. An outreach already replicated to
Pipedrive is deleted there too (a sync is queued); one not sent yet is simply not sent.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core import commands as c
from core import plans
from core.errors import InvalidInput, NotAllowed, NotFound
from core.context import Context, contact_view, load_contact
from core.outbox import queue_sync
from core.models import OUTREACH_METHODS, Activity, CampaignContact, FollowUp
from core.views import ActionResult
from core.validation import METHOD_LABELS

UNDO_WINDOW = timedelta(minutes=1)


async def undo_outreach(cmd: c.UndoOutreach, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = (await ctx.session.execute(
        select(Activity).where(Activity.id == cmd.activity_id, Activity.contact_id == contact.id)
        .with_for_update())).scalar_one_or_none()
    if activity is None:
        raise NotFound("That outreach is no longer there: nothing to undo.")
    if activity.user_id != cmd.actor.user_id:
        raise NotAllowed("Only the person who logged an outreach can undo it.")
    if activity.kind not in OUTREACH_METHODS:
        raise InvalidInput("Only a logged outreach can be undone.")
    now = ctx.clock.now()
    if now - activity.created_at > UNDO_WINDOW:
        raise InvalidInput("Too late to undo: an outreach can be taken back for a minute after it is logged.")
    await plans.undo_activity(ctx, contact, activity)
    if activity.pipedrive_activity_id is not None:  # already replicated: take it back in Pipedrive too
        await queue_sync(ctx, cmd.actor, contact, "ActivityUndone",
                         pipedrive_activity_id=activity.pipedrive_activity_id)
    await ctx.session.delete(activity)
    await ctx.session.flush()

    # Another touch logged since (or one from before, or an imported date) keeps the contact's last touch.
    latest = (await ctx.session.execute(
        select(func.max(Activity.occurred_at)).where(Activity.contact_id == contact.id, Activity.kind != "note")
    )).scalar_one()
    contact.last_contacted_at = max((t for t in (activity.previous_contacted_at, latest) if t), default=None)
    contact.updated_at = now
    # The touch settled the follow-ups then due, stamping them with its own moment.
    await ctx.session.execute(update(FollowUp).where(
        FollowUp.contact_id == contact.id, FollowUp.status == "done", FollowUp.completed_at == activity.occurred_at)
        .values(status="open", completed_at=None))
    if activity.campaign_id is not None:
        await _restore_campaign_row(ctx, activity.campaign_id, contact.id)
    await ctx.session.flush()
    return ActionResult(f"↩ Undone: {METHOD_LABELS[activity.kind]} for {contact.name}.", contact_view(contact))


async def _restore_campaign_row(ctx: Context, campaign_id: int, contact_id: int) -> None:
    last = (await ctx.session.execute(
        select(func.max(Activity.occurred_at)).where(Activity.campaign_id == campaign_id,
                                                     Activity.contact_id == contact_id))).scalar_one()
    values: dict = {"last_outreach_at": last}
    if last is None:  # nothing else happened with them in this campaign: back to where they were
        values["status"] = "planned"
    await ctx.session.execute(update(CampaignContact).where(
        CampaignContact.campaign_id == campaign_id, CampaignContact.contact_id == contact_id).values(**values))


HANDLERS = {c.UndoOutreach: undo_outreach}

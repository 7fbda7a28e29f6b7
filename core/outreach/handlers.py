"""Outreach on one contact: logging a touch, a note, a warm flag, meetings, follow-ups, snoozes, and undo.

Every activity is written by `_record`, which also moves the contact's last touch, settles the follow-ups then
due, updates the campaign row and tells the contact's cadence plan (core.cadences.plans).

Undo takes back an outreach logged by mistake (a tap on the wrong row), by its own logger, within UNDO_WINDOW.
The activity is deleted and what logging it changed is put back: the contact's last touch, the follow-ups the
touch settled, the campaign row's last outreach and the contact's cadence plan. Only plain outreach can be
undone: a meeting or a warm flag may already be on its way to Pipedrive. An outreach already replicated to
Pipedrive is deleted there too (a sync is queued); one not sent yet is simply not sent.

Logging the same method for the same contact again within REPEAT_WINDOW logs it again (a second call is a real
call) but says so, with the Undo: a double tap shows up. A platform's redelivery of the same request never gets
this far (the core's idempotency key makes it a no-op).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from core.cadences import plans
from core.command import Actor
from core.contacts.handlers import CONTACT_EDIT_UNDONE, CONTACT_EDITED
from core.context import Context, contact_view, find_campaign, load_contact, load_user, local_text
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Activity, Campaign, CampaignContact, Contact, DomainEvent, FollowUp
from core.outbox import queue_sync, set_warmness, syncs_to_pipedrive
from core.outreach.commands import (
    UNDO_LOOKBACK,
    AddNote,
    BookMeeting,
    CompleteFollowUp,
    FindLastUndoable,
    FlagWarm,
    LogOutreach,
    RequestMeeting,
    SetFollowUp,
    Snooze,
    Undoable,
    UndoOutreach,
)
from core.registry import handles
from core.validation import METHOD_LABELS, clean_method, clean_note, clean_outcome, clean_warmness
from core.views import ActionResult
from core.vocabulary import OUTREACH_METHODS, WARM_THRESHOLD


async def _live_campaign_of(ctx: Context, contact_id: int) -> int | None:
    """The live campaign an outreach counts towards: the most recently joined live one, if any."""
    return (
        await ctx.session.execute(
            select(CampaignContact.campaign_id)
            .join(Campaign)
            .where(CampaignContact.contact_id == contact_id, Campaign.status == "live")
            .order_by(CampaignContact.added_at.desc(), CampaignContact.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _last_method(ctx: Context, contact_id: int) -> str | None:
    return (
        await ctx.session.execute(
            select(Activity.channel)
            .where(Activity.contact_id == contact_id, Activity.kind != "meeting", Activity.kind != "note")
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _record(
    ctx: Context,
    actor: Actor,
    contact: Contact,
    *,
    kind: str,
    channel: str | None,
    outcome: str = "none",
    note: str | None = None,
    campaign_id: int | None = None,
    due_at: datetime | None = None,
    touch: bool = True,
) -> Activity:
    now = ctx.clock.now()
    if campaign_id is None and kind != "note":
        campaign_id = await _live_campaign_of(ctx, contact.id)
    activity = Activity(
        contact_id=contact.id,
        user_id=actor.user_id,
        campaign_id=campaign_id,
        kind=kind,
        channel=channel,
        outcome=outcome,
        note=note,
        occurred_at=now,
        due_at=due_at,
        created_at=now,
        previous_contacted_at=contact.last_contacted_at if touch else None,
    )
    ctx.session.add(activity)
    if touch:
        contact.last_contacted_at = now
        contact.updated_at = now
        if campaign_id is not None:
            status = outcome if outcome in ("meeting_requested", "meeting_booked", "replied") else "contacted"
            values = {"last_outreach_at": now, "status": status}
            if kind not in ("meeting", "note"):
                values["outreach_method"] = kind
            await ctx.session.execute(
                update(CampaignContact)
                .where(CampaignContact.campaign_id == campaign_id, CampaignContact.contact_id == contact.id)
                .values(**values)
            )
        # A touch settles the reminders that had fallen due.
        await ctx.session.execute(
            update(FollowUp)
            .where(FollowUp.contact_id == contact.id, FollowUp.status == "open", FollowUp.due_at <= now)
            .values(status="done", completed_at=now)
        )
    await ctx.session.flush()
    await plans.on_activity(ctx, contact, activity)
    return activity


# --- outreach ----------------------------------------------------------------------------------------------


REPEAT_WINDOW = timedelta(minutes=1)


async def _seconds_since_same_log(ctx: Context, actor: Actor, contact_id: int, method: str) -> int | None:
    """How long ago this user logged `method` for the contact, when that was within REPEAT_WINDOW."""
    now = ctx.clock.now()
    last = (
        await ctx.session.execute(
            select(func.max(Activity.created_at)).where(
                Activity.contact_id == contact_id,
                Activity.user_id == actor.user_id,
                Activity.kind == method,
                Activity.created_at >= now - REPEAT_WINDOW,
            )
        )
    ).scalar_one()
    return None if last is None else max(0, int((now - last).total_seconds()))


def _ago(seconds: int) -> str:
    if seconds < 2:
        return "just now"
    return f"{seconds} seconds ago"


@handles
async def log_outreach(cmd: LogOutreach, ctx: Context) -> ActionResult:
    method = clean_method(cmd.method)
    outcome = clean_outcome(cmd.outcome)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    campaign_id = (await find_campaign(ctx, cmd.campaign)).id if cmd.campaign else None
    again_after = await _seconds_since_same_log(ctx, cmd.actor, contact.id, method)
    activity = await _record(
        ctx,
        cmd.actor,
        contact,
        kind=method,
        channel=method,
        outcome=outcome,
        note=clean_note(cmd.note),
        campaign_id=campaign_id,
    )
    queued = await syncs_to_pipedrive(ctx, contact)
    if queued:
        await queue_sync(ctx, cmd.actor, contact, "ActivityLogged", activity_id=activity.id)
    message = (
        f"✓ {METHOD_LABELS[method]} logged for {contact.name}."
        if again_after is None
        else f"⚠️ You logged {METHOD_LABELS[method]} for {contact.name} {_ago(again_after)}; logged it again. Undo?"
    )
    return ActionResult(
        message,
        contact_view(contact),
        sync_queued=queued,
        activity_id=activity.id,
        undoable=True,
        logged_again_after=again_after,
    )


@handles
async def add_note(cmd: AddNote, ctx: Context) -> ActionResult:
    note = clean_note(cmd.text)
    if not note:
        raise InvalidInput("The note is empty. Try `note 2 met at the fintech dinner`.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _record(ctx, cmd.actor, contact, kind="note", channel=None, note=note, touch=False)
    return ActionResult(f"📝 Note added to {contact.name}.", contact_view(contact), activity_id=activity.id)


@handles
async def flag_warm(cmd: FlagWarm, ctx: Context) -> ActionResult:
    level = clean_warmness(cmd.warmness)
    if level < WARM_THRESHOLD:
        raise InvalidInput(f"Warm means a warmness of {WARM_THRESHOLD} or more.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    if contact.warmness >= level:
        return ActionResult(f"{contact.name} is already warm ({contact.warmness}/5).", contact_view(contact))
    queued = await set_warmness(ctx, cmd.actor, contact, level)
    contact.updated_at = ctx.clock.now()
    await ctx.session.flush()
    tail = " Pipedrive sync queued." if queued else ""
    return ActionResult(f"🔥 {contact.name} flagged warm ({level}/5).{tail}", contact_view(contact), sync_queued=queued)


# --- meetings and follow-ups -------------------------------------------------------------------------------


@handles
async def request_meeting(cmd: RequestMeeting, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _record(
        ctx,
        cmd.actor,
        contact,
        kind="meeting",
        channel=await _last_method(ctx, contact.id),
        outcome="meeting_requested",
        note=clean_note(cmd.note),
    )
    await queue_sync(ctx, cmd.actor, contact, "MeetingRequested", activity_id=activity.id)
    return ActionResult(
        f"📨 Meeting requested with {contact.name}. Pipedrive sync queued.",
        contact_view(contact),
        sync_queued=True,
        activity_id=activity.id,
    )


@handles
async def book_meeting(cmd: BookMeeting, ctx: Context) -> ActionResult:
    require_aware(cmd.at)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    user = await load_user(ctx, cmd.actor.user_id)
    activity = await _record(
        ctx,
        cmd.actor,
        contact,
        kind="meeting",
        channel=await _last_method(ctx, contact.id),
        outcome="meeting_booked",
        note=clean_note(cmd.note),
        due_at=cmd.at,
    )
    contact.warmness = max(contact.warmness, WARM_THRESHOLD)
    await queue_sync(ctx, cmd.actor, contact, "MeetingBooked", activity_id=activity.id)
    when = f" for {local_text(cmd.at, user.timezone)}" if cmd.at else ""
    return ActionResult(
        f"📅 Meeting booked with {contact.name}{when}. Pipedrive sync queued.",
        contact_view(contact),
        sync_queued=True,
        activity_id=activity.id,
    )


def require_aware(at: datetime | None) -> None:
    """Times reach the core with a timezone; a naive one is a caller's bug, reported as bad input."""
    if at is not None and at.tzinfo is None:
        raise InvalidInput("That time has no timezone; please give a full date and time.")


@handles
async def set_follow_up(cmd: SetFollowUp, ctx: Context) -> ActionResult:
    require_aware(cmd.due_at)
    if cmd.due_at <= ctx.clock.now():
        raise InvalidInput("That moment has passed; pick a time in the future.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    user = await load_user(ctx, cmd.actor.user_id)
    ctx.session.add(
        FollowUp(
            contact_id=contact.id,
            user_id=cmd.actor.user_id,
            due_at=cmd.due_at,
            note=clean_note(cmd.note),
            created_at=ctx.clock.now(),
        )
    )
    await ctx.session.flush()
    return ActionResult(
        f"⏰ I'll remind you about {contact.name} on {local_text(cmd.due_at, user.timezone)}.", contact_view(contact)
    )


@handles
async def snooze(cmd: Snooze, ctx: Context) -> ActionResult:
    require_aware(cmd.until)
    now = ctx.clock.now()
    if cmd.until <= now:
        raise InvalidInput("That moment has passed; snooze until a time in the future.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    user = await load_user(ctx, cmd.actor.user_id)
    moved = (
        await ctx.session.execute(
            update(FollowUp)
            .where(FollowUp.contact_id == contact.id, FollowUp.status == "open", FollowUp.due_at < cmd.until)
            .values(due_at=cmd.until, snoozed=True)
            .returning(FollowUp.id)
        )
    ).all()
    if not moved:
        ctx.session.add(
            FollowUp(contact_id=contact.id, user_id=cmd.actor.user_id, due_at=cmd.until, snoozed=True, created_at=now)
        )
    await ctx.session.flush()
    return ActionResult(
        f"💤 {contact.name} snoozed until {local_text(cmd.until, user.timezone)}.", contact_view(contact)
    )


@handles
async def complete_follow_up(cmd: CompleteFollowUp, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    done = (
        await ctx.session.execute(
            update(FollowUp)
            .where(FollowUp.contact_id == contact.id, FollowUp.status == "open")
            .values(status="done", completed_at=ctx.clock.now())
            .returning(FollowUp.id)
        )
    ).all()
    if not done:
        return ActionResult(f"{contact.name} has no open follow-up.", contact_view(contact))
    return ActionResult(f"✓ Follow-up with {contact.name} done.", contact_view(contact))


# --- undo --------------------------------------------------------------------------------------------------

UNDO_WINDOW = timedelta(minutes=1)


@handles
async def undo_outreach(cmd: UndoOutreach, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = (
        await ctx.session.execute(
            select(Activity).where(Activity.id == cmd.activity_id, Activity.contact_id == contact.id).with_for_update()
        )
    ).scalar_one_or_none()
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
        await queue_sync(
            ctx, cmd.actor, contact, "ActivityUndone", pipedrive_activity_id=activity.pipedrive_activity_id
        )
    await ctx.session.delete(activity)
    await ctx.session.flush()

    # Another touch logged since (or one from before, or an imported date) keeps the contact's last touch.
    latest = (
        await ctx.session.execute(
            select(func.max(Activity.occurred_at)).where(Activity.contact_id == contact.id, Activity.kind != "note")
        )
    ).scalar_one()
    contact.last_contacted_at = max((t for t in (activity.previous_contacted_at, latest) if t), default=None)
    contact.updated_at = now
    # The touch settled the follow-ups then due, stamping them with its own moment.
    await ctx.session.execute(
        update(FollowUp)
        .where(
            FollowUp.contact_id == contact.id, FollowUp.status == "done", FollowUp.completed_at == activity.occurred_at
        )
        .values(status="open", completed_at=None)
    )
    if activity.campaign_id is not None:
        await _restore_campaign_row(ctx, activity.campaign_id, contact.id)
    await ctx.session.flush()
    return ActionResult(f"↩ Undone: {METHOD_LABELS[activity.kind]} for {contact.name}.", contact_view(contact))


async def _restore_campaign_row(ctx: Context, campaign_id: int, contact_id: int) -> None:
    last = (
        await ctx.session.execute(
            select(func.max(Activity.occurred_at)).where(
                Activity.campaign_id == campaign_id, Activity.contact_id == contact_id
            )
        )
    ).scalar_one()
    values: dict = {"last_outreach_at": last}
    if last is None:  # nothing else happened with them in this campaign: back to where they were
        values["status"] = "planned"
    await ctx.session.execute(
        update(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id, CampaignContact.contact_id == contact_id)
        .values(**values)
    )


@handles
async def find_last_undoable(cmd: FindLastUndoable, ctx: Context) -> Undoable | None:
    since = ctx.clock.now() - UNDO_LOOKBACK
    user_id = cmd.actor.user_id
    own = select(Contact.id).where(Contact.owner_id == user_id)
    outreach = (
        await ctx.session.execute(
            select(Activity.id, Activity.contact_id, Activity.created_at)
            .where(
                Activity.user_id == user_id,
                Activity.kind.in_(OUTREACH_METHODS),
                Activity.created_at >= since,
                Activity.contact_id.in_(own),
            )
            .order_by(Activity.created_at.desc(), Activity.id.desc())
            .limit(1)
        )
    ).first()
    undone = select(DomainEvent.payload["edit_id"].as_integer()).where(
        DomainEvent.name == CONTACT_EDIT_UNDONE, DomainEvent.user_id == user_id, DomainEvent.occurred_at >= since
    )
    edit = (
        await ctx.session.execute(
            select(DomainEvent.id, DomainEvent.contact_id, DomainEvent.occurred_at)
            .where(
                DomainEvent.name == CONTACT_EDITED,
                DomainEvent.user_id == user_id,
                DomainEvent.occurred_at >= since,
                DomainEvent.contact_id.in_(own),
                DomainEvent.id.not_in(undone),
            )
            .order_by(DomainEvent.occurred_at.desc(), DomainEvent.id.desc())
            .limit(1)
        )
    ).first()
    if edit is not None and (outreach is None or edit.occurred_at > outreach.created_at):
        return Undoable("edit", edit.contact_id, edit.id)
    if outreach is not None:
        return Undoable("outreach", outreach.contact_id, outreach.id)
    return None

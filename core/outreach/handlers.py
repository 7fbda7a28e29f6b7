"""Outreach on one contact: logging a touch, a note, a warm flag, meetings, follow-ups, snoozes, and undo.

Every activity is written by `_record`, which also moves the contact's last touch, settles the follow-ups then
due, updates the campaign row and tells the contact's cadence plan (core.cadences.plans).

Undo takes back an outreach logged by mistake (a tap on the wrong row), by its own logger, within UNDO_WINDOW.
The activity is deleted and what logging it changed is put back: the contact's last touch, the follow-ups the
touch settled, the campaign row's last outreach and the contact's cadence plan. Only plain outreach can be
undone: a meeting or a warm flag may already be on its way to Pipedrive. An outreach already replicated to
Pipedrive is deleted there too (a sync is queued); one not sent yet is simply not sent.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update

from core.cadences import plans
from core.collisions import collision_note
from core.command import Actor, ContactRef
from core.context import Context, contact_view, find_campaign, load_contact, load_user, local_text
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Activity, Campaign, CampaignContact, Contact, FollowUp
from core.models import InteractionDraft as InteractionDraftRow
from core.outbox import NOTE_ADDED, queue_sync, set_warmness, syncs_to_pipedrive
from core.outreach.commands import (
    AddNote,
    BookMeeting,
    ChooseDraftContact,
    CompleteFollowUp,
    ConfirmInteraction,
    DiscardInteractionDraft,
    FlagWarm,
    InteractionDraft,
    InteractionFields,
    LogOutreach,
    RecordInteraction,
    RequestMeeting,
    SaveInteractionDraft,
    SetDraftMethod,
    SetFollowUp,
    ShowInteractionDraft,
    Snooze,
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


async def _log(
    ctx: Context,
    actor: Actor,
    contact: Contact,
    method: str,
    *,
    outcome: str = "none",
    note: str | None = None,
    campaign_id: int | None = None,
) -> tuple[Activity, bool]:
    """Record an outreach (or, for `meeting`, a meeting held) and queue its Pipedrive sync when the contact is
    replicated there; returns the activity and whether a sync was queued."""
    activity = await _record(
        ctx, actor, contact, kind=method, channel=method, outcome=outcome, note=note, campaign_id=campaign_id
    )
    queued = await syncs_to_pipedrive(ctx, contact)
    if queued:
        await queue_sync(ctx, actor, contact, "ActivityLogged", activity_id=activity.id)
    return activity, queued


@handles
async def log_outreach(cmd: LogOutreach, ctx: Context) -> ActionResult:
    method = clean_method(cmd.method)
    outcome = clean_outcome(cmd.outcome)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    campaign_id = (await find_campaign(ctx, cmd.campaign)).id if cmd.campaign else None
    activity, queued = await _log(
        ctx, cmd.actor, contact, method, outcome=outcome, note=clean_note(cmd.note), campaign_id=campaign_id
    )
    return ActionResult(
        f"✓ {METHOD_LABELS[method]} logged for {contact.name}.",
        contact_view(contact),
        sync_queued=queued,
        activity_id=activity.id,
        undoable=True,
    )


@handles
async def add_note(cmd: AddNote, ctx: Context) -> ActionResult:
    note = clean_note(cmd.text)
    if not note:
        raise InvalidInput("The note is empty. Try `note 2 met at the fintech dinner`.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _record(ctx, cmd.actor, contact, kind="note", channel=None, note=note, touch=False)
    queued = await syncs_to_pipedrive(ctx, contact)
    if queued:  # on its person in Pipedrive too; a contact linked later takes its notes along then
        await queue_sync(ctx, cmd.actor, contact, NOTE_ADDED, activity_id=activity.id)
    return ActionResult(
        f"📝 Note added to {contact.name}.", contact_view(contact), sync_queued=queued, activity_id=activity.id
    )


def _warm_level(level: int) -> int:
    level = clean_warmness(level)
    if level < WARM_THRESHOLD:
        raise InvalidInput(f"Warm means a warmness of {WARM_THRESHOLD} or more.")
    return level


async def _flag_warm(ctx: Context, actor: Actor, contact: Contact, level: int) -> bool | None:
    """Raise the contact's warmness to `level` (a `_warm_level`): whether a Pipedrive sync was queued, None when
    the contact was that warm already."""
    if contact.warmness >= level:
        return None
    queued = await set_warmness(ctx, actor, contact, level)
    contact.updated_at = ctx.clock.now()
    await ctx.session.flush()
    return queued


@handles
async def flag_warm(cmd: FlagWarm, ctx: Context) -> ActionResult:
    level = _warm_level(cmd.warmness)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    queued = await _flag_warm(ctx, cmd.actor, contact, level)
    if queued is None:
        return ActionResult(f"{contact.name} is already warm ({contact.warmness}/5).", contact_view(contact))
    tail = " Pipedrive sync queued." if queued else ""
    note = await collision_note(ctx, contact.owner_id, contact.name, contact.email)
    return ActionResult(
        f"🔥 {contact.name} flagged warm ({level}/5).{tail}{note}", contact_view(contact), sync_queued=queued
    )


# --- meetings and follow-ups -------------------------------------------------------------------------------


async def _request_meeting(ctx: Context, actor: Actor, contact: Contact, note: str | None) -> Activity:
    activity = await _record(
        ctx,
        actor,
        contact,
        kind="meeting",
        channel=await _last_method(ctx, contact.id),
        outcome="meeting_requested",
        note=clean_note(note),
    )
    await queue_sync(ctx, actor, contact, "MeetingRequested", activity_id=activity.id)
    return activity


async def _book_meeting(
    ctx: Context, actor: Actor, contact: Contact, at: datetime | None, note: str | None
) -> Activity:
    require_aware(at)
    activity = await _record(
        ctx,
        actor,
        contact,
        kind="meeting",
        channel=await _last_method(ctx, contact.id),
        outcome="meeting_booked",
        note=clean_note(note),
        due_at=at,
    )
    contact.warmness = max(contact.warmness, WARM_THRESHOLD)
    await queue_sync(ctx, actor, contact, "MeetingBooked", activity_id=activity.id)
    return activity


@handles
async def request_meeting(cmd: RequestMeeting, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _request_meeting(ctx, cmd.actor, contact, cmd.note)
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
    activity = await _book_meeting(ctx, cmd.actor, contact, cmd.at, cmd.note)
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


def _check_follow_up(ctx: Context, due_at: datetime) -> None:
    require_aware(due_at)
    if due_at <= ctx.clock.now():
        raise InvalidInput("That moment has passed; pick a time in the future.")


async def _set_follow_up(ctx: Context, actor: Actor, contact: Contact, due_at: datetime, note: str | None) -> None:
    _check_follow_up(ctx, due_at)
    ctx.session.add(
        FollowUp(
            contact_id=contact.id,
            user_id=actor.user_id,
            due_at=due_at,
            note=clean_note(note),
            created_at=ctx.clock.now(),
        )
    )
    await ctx.session.flush()


@handles
async def set_follow_up(cmd: SetFollowUp, ctx: Context) -> ActionResult:
    _check_follow_up(ctx, cmd.due_at)
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    user = await load_user(ctx, cmd.actor.user_id)
    await _set_follow_up(ctx, cmd.actor, contact, cmd.due_at, cmd.note)
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
    if activity.kind not in OUTREACH_METHODS and not (activity.kind == "meeting" and activity.outcome == "none"):
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


# --- an interaction told in one line -----------------------------------------------------------------------

# A meeting or conversation held (a coffee, a lunch) is an interaction too, recorded as a meeting activity.
INTERACTION_METHODS = (*OUTREACH_METHODS, "meeting")
MEETING_STATES = ("requested", "booked")
OUTCOME_WORDS = {"replied": "replied", "no_answer": "no answer", "not_interested": "not interested"}


def clean_interaction_method(value: str | None) -> str:
    method = (value or "").strip().lower()
    if method not in INTERACTION_METHODS:
        raise InvalidInput(f"How did it happen? Say one of: {', '.join(INTERACTION_METHODS)}.")
    return method


async def _interaction(ctx: Context, cmd: RecordInteraction, contact: Contact) -> ActionResult:
    """The outreach, then the follow-up, the warm flag and the meeting: all in the caller's transaction, so that
    any part refused leaves nothing of the others."""
    method = clean_interaction_method(cmd.method)
    outcome = clean_outcome(cmd.outcome)
    if cmd.meeting not in (None, *MEETING_STATES):
        raise InvalidInput("A meeting is requested or booked.")
    user = await load_user(ctx, cmd.actor.user_id)
    note = clean_note(cmd.note)
    activity, queued = await _log(ctx, cmd.actor, contact, method, outcome=outcome, note=note)
    said = f" ({OUTCOME_WORDS[outcome]})" if outcome in OUTCOME_WORDS else ""
    parts = [f"✓ {METHOD_LABELS[method]} logged for {contact.name}{said}"]
    if cmd.follow_up_at is not None:
        await _set_follow_up(ctx, cmd.actor, contact, cmd.follow_up_at, note)
        parts.append(f"⏰ reminder {local_text(cmd.follow_up_at, user.timezone)}")
    if cmd.warm:
        warmed = await _flag_warm(ctx, cmd.actor, contact, WARM_THRESHOLD)
        queued = queued or bool(warmed)
        parts.append("🔥 flagged warm" if warmed is not None else "🔥 warm already")
    if cmd.meeting == "requested":
        await _request_meeting(ctx, cmd.actor, contact, None)
        queued = True
        parts.append("📨 meeting requested")
    elif cmd.meeting == "booked":
        await _book_meeting(ctx, cmd.actor, contact, cmd.meeting_at, None)
        queued = True
        when = f" for {local_text(cmd.meeting_at, user.timezone)}" if cmd.meeting_at else ""
        parts.append(f"📅 meeting booked{when}")
    return ActionResult(
        " · ".join(parts) + "." + (" Pipedrive sync queued." if queued else ""),
        contact_view(contact),
        sync_queued=queued,
        activity_id=activity.id,
        undoable=True,
    )


@handles
async def record_interaction(cmd: RecordInteraction, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    return await _interaction(ctx, cmd, contact)


# --- drafts: the preview of an interaction, kept until it is confirmed ---------------------------------------

DRAFT_TTL = timedelta(days=1)
MOST_CANDIDATES = 5
FOLLOW_UP_TIME = time(9, 0)  # a follow-up given as a day falls due at this local time
DRAFT_GONE = "That preview is no longer there (confirmed, cancelled or over a day old). Type the line again."


async def _matching_contacts(ctx: Context, actor: Actor, name: str, organisation: str | None) -> list[Contact]:
    """The user's contacts a name said in passing may mean: the exact name (or email), else those whose name has a
    word starting with each word said (`Ana` is Ana Silva, not Diana). An organisation narrows them, when it
    matches."""
    own = select(Contact).where(Contact.owner_id == actor.user_id).order_by(Contact.name, Contact.id)
    if "@" in name:
        return list((await ctx.session.execute(own.where(func.lower(Contact.email) == name.lower()))).scalars())
    found = list((await ctx.session.execute(own.where(func.lower(Contact.name) == name.lower()))).scalars())
    if not found:
        words = name.split()[:6]
        if not words:
            return []
        query = own.where(*(Contact.name.op("~*")(r"\m" + re.escape(word)) for word in words))
        found = list((await ctx.session.execute(query.limit(50))).scalars())
    if organisation and len(found) > 1:
        narrowed = [k for k in found if k.organisation and organisation.lower() in k.organisation.lower()]
        found = narrowed or found
    return found


async def _draft_view(ctx: Context, draft: InteractionDraftRow) -> InteractionDraft:
    contact = await ctx.session.get(Contact, draft.contact_id) if draft.contact_id else None
    candidates: list[Contact] = []
    if draft.candidate_ids:
        candidates = list(
            (
                await ctx.session.execute(
                    select(Contact)
                    .where(Contact.id.in_(draft.candidate_ids), Contact.owner_id == draft.user_id)
                    .order_by(Contact.name, Contact.id)
                )
            ).scalars()
        )
    fields = InteractionFields(
        contact_name=draft.contact_name,
        organisation=draft.organisation,
        method=draft.method,
        outcome=draft.outcome,
        follow_up=draft.follow_up,
        warm=draft.warm,
        meeting=draft.meeting,
        meeting_at=draft.meeting_at,
        note=draft.note,
    )
    return InteractionDraft(
        draft.id,
        draft.line,
        fields,
        contact_view(contact) if contact else None,
        tuple(contact_view(k) for k in candidates),
    )


async def _load_draft(ctx: Context, actor: Actor, draft_id: int, *, lock: bool = False) -> InteractionDraftRow:
    """The user's own draft, younger than a day; someone else's and none at all get one answer."""
    query = select(InteractionDraftRow).where(
        InteractionDraftRow.id == draft_id,
        InteractionDraftRow.user_id == actor.user_id,
        InteractionDraftRow.created_at > ctx.clock.now() - DRAFT_TTL,
    )
    draft = (await ctx.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if draft is None:
        raise NotFound(DRAFT_GONE)
    return draft


def _short(value: str | None, limit: int) -> str | None:
    value = " ".join((value or "").split())
    return value[:limit] or None


@handles
async def save_interaction_draft(cmd: SaveInteractionDraft, ctx: Context) -> InteractionDraft:
    await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    fields = cmd.fields
    name = _short(fields.contact_name, 200)
    organisation = _short(fields.organisation, 200)
    matches = await _matching_contacts(ctx, cmd.actor, name, organisation) if name else []
    if cmd.draft_id is not None:
        draft = await _load_draft(ctx, cmd.actor, cmd.draft_id, lock=True)
    else:
        await ctx.session.execute(
            delete(InteractionDraftRow).where(
                InteractionDraftRow.user_id == cmd.actor.user_id, InteractionDraftRow.created_at <= now - DRAFT_TTL
            )
        )
        draft = InteractionDraftRow(user_id=cmd.actor.user_id)
    draft.line = cmd.text.strip()[:2000]
    draft.contact_name, draft.organisation = name, organisation
    draft.contact_id = matches[0].id if len(matches) == 1 else None
    draft.candidate_ids = [k.id for k in matches[:MOST_CANDIDATES]] if len(matches) > 1 else []
    method = (fields.method or "").strip().lower()
    draft.method = method if method in INTERACTION_METHODS else None
    draft.outcome = fields.outcome if fields.outcome in OUTCOME_WORDS else None
    draft.note = (fields.note or "").strip()[:5000]
    draft.follow_up = fields.follow_up
    draft.warm = fields.warm
    draft.meeting = fields.meeting if fields.meeting in MEETING_STATES else None
    draft.meeting_at = fields.meeting_at if draft.meeting == "booked" else None
    require_aware(draft.meeting_at)
    draft.created_at = now
    ctx.session.add(draft)
    await ctx.session.flush()
    return await _draft_view(ctx, draft)


@handles
async def show_interaction_draft(cmd: ShowInteractionDraft, ctx: Context) -> InteractionDraft:
    return await _draft_view(ctx, await _load_draft(ctx, cmd.actor, cmd.draft_id))


@handles
async def choose_draft_contact(cmd: ChooseDraftContact, ctx: Context) -> InteractionDraft:
    draft = await _load_draft(ctx, cmd.actor, cmd.draft_id, lock=True)
    if cmd.contact_id is None:
        draft.contact_id = None
    else:
        draft.contact_id = (await load_contact(ctx, cmd.actor, ContactRef(id=cmd.contact_id))).id
    draft.candidate_ids = []
    await ctx.session.flush()
    return await _draft_view(ctx, draft)


@handles
async def set_draft_method(cmd: SetDraftMethod, ctx: Context) -> InteractionDraft:
    draft = await _load_draft(ctx, cmd.actor, cmd.draft_id, lock=True)
    draft.method = clean_interaction_method(cmd.method)
    await ctx.session.flush()
    return await _draft_view(ctx, draft)


@handles
async def discard_interaction_draft(cmd: DiscardInteractionDraft, ctx: Context) -> str:
    draft = await _load_draft(ctx, cmd.actor, cmd.draft_id, lock=True)
    await ctx.session.delete(draft)
    return "Cancelled: nothing was written."


def follow_up_moment(day: date, timezone: str, now: datetime) -> datetime:
    """When a follow-up given as a day falls due: FOLLOW_UP_TIME that day in the user's timezone, or in a minute
    when that is today and already past."""
    at = datetime.combine(day, FOLLOW_UP_TIME, tzinfo=ZoneInfo(timezone))
    return max(at, now + timedelta(minutes=1)) if day <= now.astimezone(ZoneInfo(timezone)).date() else at


@handles
async def confirm_interaction(cmd: ConfirmInteraction, ctx: Context) -> ActionResult:
    draft = await _load_draft(ctx, cmd.actor, cmd.draft_id, lock=True)
    if draft.contact_id is None:
        raise InvalidInput("Who was it with? Pick the contact (or correct the line) before confirming.")
    if draft.method is None:
        raise InvalidInput("How did it happen? Pick the method (or correct the line) before confirming.")
    contact = await load_contact(ctx, cmd.actor, ContactRef(id=draft.contact_id), lock=True)
    user = await load_user(ctx, cmd.actor.user_id)
    follow_up_at = follow_up_moment(draft.follow_up, user.timezone, ctx.clock.now()) if draft.follow_up else None
    interaction = RecordInteraction(
        cmd.actor,
        ContactRef(id=contact.id),
        draft.method,
        note=draft.note or None,
        outcome=draft.outcome or "none",
        follow_up_at=follow_up_at,
        warm=draft.warm,
        meeting=draft.meeting,
        meeting_at=draft.meeting_at,
    )
    result = await _interaction(ctx, interaction, contact)
    await ctx.session.delete(draft)
    return result

"""One handler per command: a plain async function taking the command and the unit of work's context.

Each runs inside one transaction opened by `core.service.Core.execute`; a handler that raises leaves
nothing written. Ownership is checked here, whatever adapter sent the command.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import commands as c
from core.command import Actor
from core import plans, ranking, stats
from core.errors import Conflict, InvalidInput, NotFound, UnknownUser
from core.models import (
    WARM_THRESHOLD,
    Activity,
    Campaign,
    CampaignContact,
    ChatIdentity,
    Contact,
    FollowUp,
    User,
)
from core.results import (
    ActivityView,
    ChatIdentityView,
    CampaignList,
    CampaignResult,
    ContactDetail,
    ContactList,
    StatsReport,
    Suggestions,
    UserList,
)
from core.views import ActionResult, FollowUpView, SettingsView, UserView
from core.templates import clean_signature
from core.validation import (
    METHOD_LABELS,
    clean_amount,
    clean_email,
    clean_method,
    clean_name,
    clean_note,
    clean_outcome,
    clean_phone,
    clean_role,
    clean_text,
    clean_timezone,
    clean_warmness,
)
from core.context import Context, campaign_view, contact_view, find_campaign, load_contact, load_user, local_text, remember_list, require_golden_ticket, settings_view, user_view
from core.context import escape_like
from core.outbox import queue_sync, set_warmness, syncs_to_pipedrive

CAMPAIGN_SIZE_HINT = (10, 30)


# --- views ----------------------------------------------------------------------------------------------


# --- loading with permission checks ---------------------------------------------------------------------


# --- users ----------------------------------------------------------------------------------------------

async def create_user(cmd: c.CreateUser, ctx: Context) -> UserView:
    email = clean_email(cmd.email)
    if not email:
        raise InvalidInput("A user needs an email address.")
    tz = clean_timezone(cmd.timezone or ctx.settings.default_timezone)
    exists = (await ctx.session.execute(select(User.id).where(func.lower(User.email) == email))).first()
    if exists:
        raise Conflict(f"A user with the email {email} already exists.")
    user = User(name=clean_name(cmd.name), email=email, role=clean_role(cmd.role), timezone=tz)
    ctx.session.add(user)
    await ctx.session.flush()
    await ctx.session.refresh(user)
    return user_view(user)


async def list_users(cmd: c.ListUsers, ctx: Context) -> UserList:
    users = (await ctx.session.execute(select(User).order_by(User.name, User.id))).scalars().all()
    return UserList(tuple(user_view(u) for u in users))


async def link_chat_identity(cmd: c.LinkChatIdentity, ctx: Context) -> UserView:
    email = (cmd.email or "").strip().lower()
    user = (await ctx.session.execute(select(User).where(func.lower(User.email) == email, User.active))
            ).scalar_one_or_none()
    if user is None:
        raise UnknownUser()
    # The platform's timezone (Slack's profile) only fills in a user who never chose one; a bad one is ignored.
    if cmd.timezone and user.timezone == ctx.settings.default_timezone:
        try:
            user.timezone = clean_timezone(cmd.timezone)
        except InvalidInput:
            pass
    stmt = pg_insert(ChatIdentity).values(user_id=user.id, platform=cmd.platform,
                                          external_user_id=cmd.external_user_id, dm_channel=cmd.dm_channel)
    await ctx.session.execute(stmt.on_conflict_do_update(
        index_elements=[ChatIdentity.platform, ChatIdentity.external_user_id],
        set_={"user_id": user.id, "dm_channel": func.coalesce(stmt.excluded.dm_channel, ChatIdentity.dm_channel)}))
    return user_view(user)


async def list_chat_identities(cmd: c.ListChatIdentities, ctx: Context) -> tuple[ChatIdentityView, ...]:
    rows = (await ctx.session.execute(select(ChatIdentity).where(ChatIdentity.user_id == cmd.user_id)
                                      .order_by(ChatIdentity.platform, ChatIdentity.id))).scalars().all()
    return tuple(ChatIdentityView(r.user_id, r.platform, r.external_user_id, r.dm_channel) for r in rows)


async def show_settings(cmd: c.ShowSettings, ctx: Context) -> SettingsView:
    return settings_view(ctx, await load_user(ctx, cmd.actor.user_id))


async def update_settings(cmd: c.UpdateSettings, ctx: Context) -> SettingsView:
    user = await load_user(ctx, cmd.actor.user_id)
    changed = []
    if cmd.timezone is not None:
        user.timezone = clean_timezone(cmd.timezone)
        changed.append(f"timezone {user.timezone}")
    if cmd.digest_time is not None:
        user.digest_time = cmd.digest_time.replace(second=0, microsecond=0)
        changed.append(f"digest at {user.digest_time:%H:%M}")
    if cmd.working_days is not None:
        days = sorted(set(cmd.working_days))
        if not days or any(d not in range(1, 8) for d in days):
            raise InvalidInput("Working days must name at least one day, Monday to Sunday.")
        user.working_days = days
        changed.append("working days " + ", ".join(_DAY_NAMES[d - 1] for d in days))
    if cmd.signature is not None:
        user.signature = clean_signature(cmd.signature)
        changed.append("signature" if user.signature else "signature cleared")
    await ctx.session.flush()
    message = ("Saved: " + "; ".join(changed) + ".") if changed else ""
    return settings_view(ctx, user, message)


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- contacts -------------------------------------------------------------------------------------------

async def _duplicate_email(ctx: Context, owner_id: int, email: str | None, exclude_id: int | None = None):
    if not email:
        return None
    query = select(Contact).where(Contact.owner_id == owner_id, func.lower(Contact.email) == email)
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return (await ctx.session.execute(query)).scalars().first()


async def add_contact(cmd: c.AddContact, ctx: Context) -> ActionResult:
    await load_user(ctx, cmd.actor.user_id)
    email = clean_email(cmd.email)
    if dup := await _duplicate_email(ctx, cmd.actor.user_id, email):
        raise Conflict(f"{dup.name} already has the email {email} in your bank.")
    now = ctx.clock.now()
    contact = Contact(
        owner_id=cmd.actor.user_id, name=clean_name(cmd.name), email=email,
        organisation=clean_text(cmd.organisation, field="organisation", max_length=200),
        phone=clean_phone(cmd.phone, ctx.settings.phone_region),
        title=clean_text(cmd.title, field="title", max_length=200),
        linkedin_url=clean_text(cmd.linkedin_url, field="LinkedIn URL", max_length=500),
        notes=clean_note(cmd.notes), warmness=clean_warmness(cmd.warmness),
        past_business=clean_amount(cmd.past_business) or 0, created_at=now, updated_at=now,
    )
    ctx.session.add(contact)
    await ctx.session.flush()
    await ctx.session.refresh(contact)
    return ActionResult(f"Added {contact_view(contact).label} to your bank.", contact_view(contact))


async def update_contact(cmd: c.UpdateContact, ctx: Context) -> ActionResult:
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
        contact.past_business = clean_amount(cmd.past_business)
    queued = False
    if cmd.warmness is not None:
        queued = await set_warmness(ctx, cmd.actor, contact, clean_warmness(cmd.warmness))
    contact.updated_at = ctx.clock.now()
    await ctx.session.flush()
    return ActionResult(f"Updated {contact.name}.", contact_view(contact), sync_queued=queued)


async def find_contacts(cmd: c.FindContacts, ctx: Context) -> ContactList:
    words = (cmd.text or "").strip()
    if not words:
        raise InvalidInput("Find what? Try `find ana` or `find acme`.")
    pattern = f"%{escape_like(words)}%"
    query = (select(Contact).where(Contact.owner_id == cmd.actor.user_id,
                                   or_(Contact.name.ilike(pattern, escape="\\"),
                                       Contact.email.ilike(pattern, escape="\\"),
                                       Contact.organisation.ilike(pattern, escape="\\")))
             .order_by(Contact.warmness.desc(), Contact.name, Contact.id).limit(max(1, min(cmd.limit, 50))))
    contacts = (await ctx.session.execute(query)).scalars().all()
    await remember_list(ctx, cmd.actor, [k.id for k in contacts])
    return ContactList(tuple(contact_view(k) for k in contacts), query=words)


async def show_contact(cmd: c.ShowContact, ctx: Context) -> ContactDetail:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    acts = (await ctx.session.execute(select(Activity).where(Activity.contact_id == contact.id)
                                      .order_by(Activity.occurred_at.desc()).limit(5))).scalars().all()
    fus = (await ctx.session.execute(select(FollowUp).where(FollowUp.contact_id == contact.id,
                                                            FollowUp.status == "open")
                                     .order_by(FollowUp.due_at))).scalars().all()
    camps = (await ctx.session.execute(select(Campaign.name).join(CampaignContact)
                                       .where(CampaignContact.contact_id == contact.id))).scalars().all()
    return ContactDetail(
        contact_view(contact),
        tuple(ActivityView(a.id, a.kind, a.outcome, a.occurred_at, a.note, a.due_at) for a in acts),
        tuple(FollowUpView(f.id, f.contact_id, f.due_at, f.note, f.snoozed) for f in fus),
        tuple(camps), plan=await plans.plan_view(ctx.session, contact.id))


# --- outreach -------------------------------------------------------------------------------------------

async def _live_campaign_of(ctx: Context, contact_id: int) -> int | None:
    """The live campaign an outreach counts towards: the most recently joined live one, if any."""
    return (await ctx.session.execute(
        select(CampaignContact.campaign_id).join(Campaign)
        .where(CampaignContact.contact_id == contact_id, Campaign.status == "live")
        .order_by(CampaignContact.added_at.desc(), CampaignContact.id.desc()).limit(1))).scalar_one_or_none()


async def _last_method(ctx: Context, contact_id: int) -> str | None:
    return (await ctx.session.execute(
        select(Activity.channel).where(Activity.contact_id == contact_id, Activity.kind != "meeting",
                                       Activity.kind != "note")
        .order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(1))).scalar_one_or_none()


async def _record(ctx: Context, actor: Actor, contact: Contact, *, kind: str, channel: str | None,
                  outcome: str = "none", note: str | None = None, campaign_id: int | None = None,
                  due_at: datetime | None = None, touch: bool = True) -> Activity:
    now = ctx.clock.now()
    if campaign_id is None and kind != "note":
        campaign_id = await _live_campaign_of(ctx, contact.id)
    activity = Activity(contact_id=contact.id, user_id=actor.user_id, campaign_id=campaign_id, kind=kind,
                        channel=channel, outcome=outcome, note=note, occurred_at=now, due_at=due_at,
                        created_at=now, previous_contacted_at=contact.last_contacted_at if touch else None)
    ctx.session.add(activity)
    if touch:
        contact.last_contacted_at = now
        contact.updated_at = now
        if campaign_id is not None:
            status = outcome if outcome in ("meeting_requested", "meeting_booked", "replied") else "contacted"
            values = {"last_outreach_at": now, "status": status}
            if kind not in ("meeting", "note"):
                values["outreach_method"] = kind
            await ctx.session.execute(update(CampaignContact).where(
                CampaignContact.campaign_id == campaign_id, CampaignContact.contact_id == contact.id).values(**values))
        # A touch settles the reminders that had fallen due.
        await ctx.session.execute(update(FollowUp).where(
            FollowUp.contact_id == contact.id, FollowUp.status == "open", FollowUp.due_at <= now)
            .values(status="done", completed_at=now))
    await ctx.session.flush()
    await plans.on_activity(ctx, contact, activity)
    return activity


async def log_outreach(cmd: c.LogOutreach, ctx: Context) -> ActionResult:
    method = clean_method(cmd.method)
    outcome = clean_outcome(cmd.outcome)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    campaign_id = (await find_campaign(ctx, cmd.campaign)).id if cmd.campaign else None
    activity = await _record(ctx, cmd.actor, contact, kind=method, channel=method, outcome=outcome,
                             note=clean_note(cmd.note), campaign_id=campaign_id)
    queued = await syncs_to_pipedrive(ctx, contact)
    if queued:
        await queue_sync(ctx, cmd.actor, contact, "ActivityLogged", activity_id=activity.id)
    return ActionResult(f"✓ {METHOD_LABELS[method]} logged for {contact.name}.", contact_view(contact),
                        sync_queued=queued, activity_id=activity.id, undoable=True)


async def add_note(cmd: c.AddNote, ctx: Context) -> ActionResult:
    note = clean_note(cmd.text)
    if not note:
        raise InvalidInput("The note is empty. Try `note 2 met at the fintech dinner`.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _record(ctx, cmd.actor, contact, kind="note", channel=None, note=note, touch=False)
    return ActionResult(f"📝 Note added to {contact.name}.", contact_view(contact), activity_id=activity.id)


async def flag_warm(cmd: c.FlagWarm, ctx: Context) -> ActionResult:
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
    return ActionResult(f"🔥 {contact.name} flagged warm ({level}/5).{tail}", contact_view(contact),
                        sync_queued=queued)


async def request_meeting(cmd: c.RequestMeeting, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    activity = await _record(ctx, cmd.actor, contact, kind="meeting", channel=await _last_method(ctx, contact.id),
                             outcome="meeting_requested", note=clean_note(cmd.note))
    await queue_sync(ctx, cmd.actor, contact, "MeetingRequested", activity_id=activity.id)
    return ActionResult(f"📨 Meeting requested with {contact.name}. Pipedrive sync queued.",
                        contact_view(contact), sync_queued=True, activity_id=activity.id)


async def book_meeting(cmd: c.BookMeeting, ctx: Context) -> ActionResult:
    require_aware(cmd.at)
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    user = await load_user(ctx, cmd.actor.user_id)
    activity = await _record(ctx, cmd.actor, contact, kind="meeting", channel=await _last_method(ctx, contact.id),
                             outcome="meeting_booked", note=clean_note(cmd.note), due_at=cmd.at)
    contact.warmness = max(contact.warmness, WARM_THRESHOLD)
    await queue_sync(ctx, cmd.actor, contact, "MeetingBooked", activity_id=activity.id)
    when = f" for {local_text(cmd.at, user.timezone)}" if cmd.at else ""
    return ActionResult(f"📅 Meeting booked with {contact.name}{when}. Pipedrive sync queued.",
                        contact_view(contact), sync_queued=True, activity_id=activity.id)


def require_aware(at: datetime | None) -> None:
    """Times reach the core with a timezone; a naive one is a caller's bug, reported as bad input."""
    if at is not None and at.tzinfo is None:
        raise InvalidInput("That time has no timezone; please give a full date and time.")


async def set_follow_up(cmd: c.SetFollowUp, ctx: Context) -> ActionResult:
    require_aware(cmd.due_at)
    if cmd.due_at <= ctx.clock.now():
        raise InvalidInput("That moment has passed; pick a time in the future.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    user = await load_user(ctx, cmd.actor.user_id)
    ctx.session.add(FollowUp(contact_id=contact.id, user_id=cmd.actor.user_id, due_at=cmd.due_at,
                             note=clean_note(cmd.note), created_at=ctx.clock.now()))
    await ctx.session.flush()
    return ActionResult(f"⏰ I'll remind you about {contact.name} on {local_text(cmd.due_at, user.timezone)}.",
                        contact_view(contact))


async def snooze(cmd: c.Snooze, ctx: Context) -> ActionResult:
    require_aware(cmd.until)
    now = ctx.clock.now()
    if cmd.until <= now:
        raise InvalidInput("That moment has passed; snooze until a time in the future.")
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    user = await load_user(ctx, cmd.actor.user_id)
    moved = (await ctx.session.execute(
        update(FollowUp).where(FollowUp.contact_id == contact.id, FollowUp.status == "open",
                               FollowUp.due_at < cmd.until)
        .values(due_at=cmd.until, snoozed=True).returning(FollowUp.id))).all()
    if not moved:
        ctx.session.add(FollowUp(contact_id=contact.id, user_id=cmd.actor.user_id, due_at=cmd.until,
                                 snoozed=True, created_at=now))
    await ctx.session.flush()
    return ActionResult(f"💤 {contact.name} snoozed until {local_text(cmd.until, user.timezone)}.",
                        contact_view(contact))


async def complete_follow_up(cmd: c.CompleteFollowUp, ctx: Context) -> ActionResult:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    done = (await ctx.session.execute(
        update(FollowUp).where(FollowUp.contact_id == contact.id, FollowUp.status == "open")
        .values(status="done", completed_at=ctx.clock.now()).returning(FollowUp.id))).all()
    if not done:
        return ActionResult(f"{contact.name} has no open follow-up.", contact_view(contact))
    return ActionResult(f"✓ Follow-up with {contact.name} done.", contact_view(contact))


# --- campaigns ------------------------------------------------------------------------------------------

def _campaign_fields(cmd) -> dict:
    fields = {
        "description": clean_note(cmd.description, 2000),
        "sector": clean_text(cmd.sector, field="sector", max_length=200),
        "theme": clean_text(cmd.theme, field="theme", max_length=200),
        "geography": clean_text(cmd.geography, field="geography", max_length=200),
        "start_date": cmd.start_date, "end_date": cmd.end_date,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _check_status(status: str) -> str:
    if status not in ("draft", "live", "closed"):
        raise InvalidInput("A campaign is draft, live or closed.")
    return status


async def create_campaign(cmd: c.CreateCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    require_golden_ticket(user, "create campaigns")
    name = clean_text(cmd.name, field="campaign name", max_length=200, required=True)
    if (await ctx.session.execute(select(Campaign.id).where(func.lower(Campaign.name) == name.lower()))).first():
        raise Conflict(f"A campaign called “{name}” already exists.")
    camp = Campaign(name=name, status=_check_status(cmd.status), created_by=user.id,
                    created_at=ctx.clock.now(), **_campaign_fields(cmd))
    _check_dates(camp)
    ctx.session.add(camp)
    await ctx.session.flush()
    return CampaignResult(f"Campaign “{name}” created ({camp.status}).", campaign_view(camp))


def _check_dates(camp: Campaign) -> None:
    if camp.start_date and camp.end_date and camp.end_date < camp.start_date:
        raise InvalidInput("A campaign can't end before it starts.")


async def update_campaign(cmd: c.UpdateCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    require_golden_ticket(user, "edit campaigns")
    camp = await find_campaign(ctx, cmd.campaign)
    if cmd.name is not None:
        name = clean_text(cmd.name, field="campaign name", max_length=200, required=True)
        taken = (await ctx.session.execute(select(Campaign.id).where(
            func.lower(Campaign.name) == name.lower(), Campaign.id != camp.id))).first()
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


async def add_to_campaign(cmd: c.AddToCampaign, ctx: Context) -> CampaignResult:
    user = await load_user(ctx, cmd.actor.user_id)
    camp = await find_campaign(ctx, cmd.campaign)
    method = clean_method(cmd.method) if cmd.method else None
    contacts = (await ctx.session.execute(select(Contact).where(Contact.id.in_(cmd.contact_ids)))).scalars().all()
    if user.role != "golden_ticket" and any(k.owner_id != user.id for k in contacts):
        contacts = []  # as if they did not exist: an id tells nothing about other banks
    if len(contacts) != len(set(cmd.contact_ids)):
        raise NotFound("Some of those contacts are not in your bank." if user.role != "golden_ticket"
                       else "Some of those contacts no longer exist.")
    if camp.status == "closed":
        raise InvalidInput(f"Campaign “{camp.name}” is closed.")
    stmt = pg_insert(CampaignContact).values([
        {"campaign_id": camp.id, "contact_id": k.id, "outreach_method": method, "added_by": user.id,
         "added_at": ctx.clock.now()} for k in contacts]).on_conflict_do_nothing()
    added = (await ctx.session.execute(stmt.returning(CampaignContact.id))).all() if contacts else []
    count = (await ctx.session.execute(select(func.count()).select_from(CampaignContact)
                                       .where(CampaignContact.campaign_id == camp.id))).scalar_one()
    warnings = []
    low, high = CAMPAIGN_SIZE_HINT
    if count > high:
        warnings.append(f"“{camp.name}” now has {count} contacts; campaigns work best with {low}-{high}.")
    emails = [k.email for k in contacts if k.email]
    if emails:
        others = (await ctx.session.execute(
            select(Contact.email, User.name).join(User, User.id == Contact.owner_id)
            .where(func.lower(Contact.email).in_(emails), Contact.id.not_in([k.id for k in contacts])))).all()
        for email, owner in others:
            warnings.append(f"{email} is also in {owner}'s bank.")
    return CampaignResult(f"Added {len(added)} contact(s) to “{camp.name}” ({count} in all).",
                          campaign_view(camp, count), tuple(warnings))


async def list_campaigns(cmd: c.ListCampaigns, ctx: Context) -> CampaignList:
    counts = (select(CampaignContact.campaign_id, func.count().label("n"))
              .group_by(CampaignContact.campaign_id).subquery())
    rows = (await ctx.session.execute(
        select(Campaign, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.campaign_id == Campaign.id)
        .where(Campaign.status != "closed")
        .order_by((Campaign.status == "live").desc(), Campaign.name))).all()
    return CampaignList(tuple(campaign_view(camp, n) for camp, n in rows))


# --- feed and numbers -----------------------------------------------------------------------------------

async def today_suggestions(cmd: c.TodaySuggestions, ctx: Context) -> Suggestions:
    user = await load_user(ctx, cmd.actor.user_id)
    camp = await find_campaign(ctx, cmd.campaign) if cmd.campaign else None
    limit = cmd.limit or ctx.settings.suggestions_limit
    if not 1 <= limit <= 50:
        raise InvalidInput("Ask for between 1 and 50 suggestions.")
    if cmd.stale_days is not None and cmd.stale_days < 0:
        raise InvalidInput("Stale takes a number of days, like `stale 30`.")
    # The only write here is the remembered list, which a crash may lose harmlessly: don't wait for the WAL
    # flush on commit, it is most of the cost of a read-mostly command.
    await ctx.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    items = await ranking.suggest(ctx.session, user_id=user.id, tz=user.timezone, now=ctx.clock.now(),
                                  limit=limit, warm_only=cmd.warm_only, stale_days=cmd.stale_days,
                                  campaign_id=camp.id if camp else None,
                                  no_reply_days=ctx.settings.cadence_no_reply_days,
                                  retry_days=ctx.settings.cadence_retry_days)
    await remember_list(ctx, cmd.actor, [s.contact.id for s in items])
    filters = [f"campaign {camp.name}" if camp else "", "warm" if cmd.warm_only else "",
               f"stale {cmd.stale_days}+ days" if cmd.stale_days is not None else ""]
    return Suggestions(tuple(items), " · ".join(f for f in filters if f))


async def get_stats(cmd: c.GetStats, ctx: Context) -> StatsReport:
    """Stats are visible to every user (and to the CLI), so no ownership check applies."""
    if cmd.group_by not in stats.GROUPS:
        raise InvalidInput("Group stats by campaign, user or method.")
    camp = await find_campaign(ctx, cmd.campaign) if cmd.campaign else None
    until = cmd.until
    rows = await stats.stats_rows(ctx.session, group_by=cmd.group_by, since=cmd.since, until=until,
                                  campaign_id=camp.id if camp else None)
    return StatsReport(group_by=cmd.group_by, period=cmd.period_label or "all time", since=cmd.since,
                       until=until, rows=tuple(rows) if cmd.group_by else (), total=stats.total_of(rows),
                       campaign=camp.name if camp else None)


HANDLERS = {
    c.CreateUser: create_user,
    c.ListUsers: list_users,
    c.LinkChatIdentity: link_chat_identity,
    c.ListChatIdentities: list_chat_identities,
    c.ShowSettings: show_settings,
    c.UpdateSettings: update_settings,
    c.AddContact: add_contact,
    c.UpdateContact: update_contact,
    c.FindContacts: find_contacts,
    c.ShowContact: show_contact,
    c.LogOutreach: log_outreach,
    c.AddNote: add_note,
    c.FlagWarm: flag_warm,
    c.RequestMeeting: request_meeting,
    c.BookMeeting: book_meeting,
    c.SetFollowUp: set_follow_up,
    c.Snooze: snooze,
    c.CompleteFollowUp: complete_follow_up,
    c.CreateCampaign: create_campaign,
    c.UpdateCampaign: update_campaign,
    c.AddToCampaign: add_to_campaign,
    c.ListCampaigns: list_campaigns,
    c.TodaySuggestions: today_suggestions,
    c.GetStats: get_stats,
}

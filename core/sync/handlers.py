"""The Pipedrive sync's side of the core: the outbox rows' life, what users see of it, and what they are owed.

The worker in `pipedrive/` never touches SQL: it claims a row (`ClaimSync`, FOR UPDATE SKIP LOCKED with one
sync per contact at a time), records each id the moment Pipedrive gives it (`RecordPipedriveIds`, ...), and
ends the attempt (`FinishSync`). A claim is a lease: a crashed worker's row is taken again once it runs out,
and the ids already stored tell the next attempt where to resume. Queueing a sync, and waking the workers when
one is queued, is core.outbox's.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import Row, and_, exists, func, or_, select, update

from core import encryption
from core.context import Context, claim_owed, load_user
from core.errors import InvalidInput, NotFound, SyncInFlight, UnknownUser
from core.models import Activity, Campaign, CampaignContact, Contact, OutboxMessage, PipedriveEvent, User
from core.outbox import PIPEDRIVE_SYNC, notify_outbox
from core.registry import handles
from core.sync.commands import (
    ClaimSync,
    ClaimSyncNotices,
    FinishSync,
    InboundEventView,
    KnownIds,
    KnownPipedriveIds,
    ListSyncNotices,
    ListSyncs,
    MarkSyncNoticesSent,
    NextSyncDue,
    RecordPipedriveActivity,
    RecordPipedriveIds,
    RecordPipedriveNote,
    RecordPipedriveOwner,
    ReleaseSyncNotices,
    ReleaseSyncs,
    RetrySyncs,
    RotateSecrets,
    SecretsRotated,
    SetPipedriveToken,
    SyncActivity,
    SyncContact,
    SyncItemView,
    SyncList,
    SyncNote,
    SyncNotice,
    SyncRetried,
    SyncTask,
    SyncUser,
)
from core.views import ActionResult
from core.wording import plural

# The key space of the advisory locks on contacts: two workers never sync one contact at the same moment (the
# lock on one Pipedrive record is core.outbox's).
_CONTACT_LOCK_SPACE = 6_0001
# A failure a person must fix is told once; the same sentence again within this time is not repeated.
NOTICE_QUIET = timedelta(hours=24)
_CLAIM_BATCH = 10
_UNFINISHED = ("pending", "processing")


def _token_applies(ctx: Context):
    """Rows a configured token can send: all of them with a company token, else those of users with their own."""
    if ctx.settings.pipedrive_api_token is not None:
        return True
    return OutboxMessage.user_id.in_(select(User.id).where(User.pipedrive_api_token.is_not(None)))


def _ready(now):
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "processing", OutboxMessage.locked_until <= now),
    )


def _activity_id(row: OutboxMessage) -> int | None:
    value = (row.payload or {}).get("activity_id")
    return int(value) if isinstance(value, int) else None


# --- the worker's side -------------------------------------------------------------------------------------


@handles
async def claim_sync(cmd: ClaimSync, ctx: Context) -> SyncTask | None:
    s, now = ctx.session, ctx.clock.now()
    candidates = (
        (
            await s.execute(
                select(OutboxMessage)
                .where(OutboxMessage.topic == PIPEDRIVE_SYNC, _ready(now), _token_applies(ctx))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(_CLAIM_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for row in candidates:
        if row.contact_id is not None and not await _contact_free(ctx, row):
            continue
        row.status, row.attempts = "processing", row.attempts + 1
        row.locked_until, row.updated_at = now + timedelta(seconds=cmd.lease_seconds), now
        await s.flush()
        return await _task(ctx, row)
    return None


async def _contact_free(ctx: Context, row: OutboxMessage) -> bool:
    """Take this contact for the claim's transaction, unless another worker has it (claiming or syncing)."""
    s = ctx.session
    if not await s.scalar(select(func.pg_try_advisory_xact_lock(_CONTACT_LOCK_SPACE, row.contact_id))):
        return False
    return not await s.scalar(
        select(
            exists().where(
                OutboxMessage.contact_id == row.contact_id,
                OutboxMessage.id != row.id,
                OutboxMessage.status == "processing",
                OutboxMessage.locked_until > ctx.clock.now(),
            )
        )
    )


async def stop_syncs_of(ctx: Context, contact_ids: list[int]) -> None:
    """Keep workers off these contacts until the transaction ends (they claim none of their rows); SyncInFlight
    while one of them is being synced, since what that sync creates in Pipedrive is known only when it ends."""
    for contact_id in sorted(contact_ids):
        await ctx.session.execute(select(func.pg_advisory_xact_lock(_CONTACT_LOCK_SPACE, contact_id)))
    if await ctx.session.scalar(
        select(
            exists().where(
                OutboxMessage.contact_id.in_(contact_ids),
                OutboxMessage.status == "processing",
                OutboxMessage.locked_until > ctx.clock.now(),
            )
        )
    ):
        raise SyncInFlight()


async def _task(ctx: Context, row: OutboxMessage) -> SyncTask:
    s = ctx.session
    user = await s.get(User, row.user_id) if row.user_id is not None else None
    contact = await s.get(Contact, row.contact_id) if row.contact_id is not None else None
    activity_id = _activity_id(row)
    activity = await s.get(Activity, activity_id) if activity_id is not None else None
    if activity is not None and activity.contact_id != row.contact_id:
        activity = None  # erased with its contact, or not this contact's
    linked: frozenset[int] = frozenset()
    if contact is not None and activity is not None:
        linked = frozenset(
            pd_id
            for pd_id in (
                await s.execute(
                    select(Activity.pipedrive_activity_id).where(
                        Activity.contact_id == contact.id,
                        Activity.id != activity.id,
                        Activity.pipedrive_activity_id.is_not(None),
                    )
                )
            ).scalars()
            if pd_id is not None
        )
    payload = row.payload or {}
    undone = payload.get("pipedrive_activity_id") if payload.get("event") == "ActivityUndone" else None
    user_token, token_problem = _own_token(ctx, user)
    notes, linked_notes = await _notes_of(ctx, contact) if contact is not None else ((), frozenset())
    return SyncTask(
        outbox_id=row.id,
        attempt=row.attempts,
        event=str(payload.get("event", "")),
        user=SyncUser(user.id, user.name, user.email, user.pipedrive_user_id) if user else None,
        contact=await _sync_contact(ctx, contact, activity) if contact else None,
        activity=SyncActivity(
            activity.id,
            activity.kind,
            activity.outcome,
            activity.subject,
            activity.note,
            activity.occurred_at,
            activity.due_at,
            activity.pipedrive_activity_id,
        )
        if activity
        else None,
        user_token=user_token,
        token_problem=token_problem,
        linked_activity_ids=linked,
        undone_activity_id=undone if isinstance(undone, int) else None,
        notes=notes,
        linked_note_ids=linked_notes,
    )


async def _notes_of(ctx: Context, contact: Contact) -> tuple[tuple[SyncNote, ...], frozenset[int]]:
    """The contact's `note`s not in Pipedrive yet, oldest first, and the Pipedrive notes already linked to it."""
    rows = (
        await ctx.session.execute(
            select(Activity.id, Activity.note, Activity.pipedrive_note_id)
            .where(Activity.contact_id == contact.id, Activity.kind == "note")
            .order_by(Activity.occurred_at, Activity.id)
        )
    ).all()
    unsent = tuple(SyncNote(row.id, row.note) for row in rows if row.pipedrive_note_id is None and row.note)
    linked = {row.pipedrive_note_id for row in rows if row.pipedrive_note_id is not None}
    if contact.pipedrive_note_id is not None:
        linked.add(contact.pipedrive_note_id)
    return unsent, frozenset(linked)


def _own_token(ctx: Context, user: User | None) -> tuple[SecretStr | None, str | None]:
    """The user's own token, decrypted, or else why it can't be read; (None, None) when they have none."""
    if user is None or not user.pipedrive_api_token:
        return None, None
    try:
        return SecretStr(encryption.decrypt(ctx.settings, user.pipedrive_api_token)), None
    except encryption.SecretKeyProblem as exc:
        return None, (
            f"Your own Pipedrive token can't be read: {exc} An admin can put its key back in "
            "PIPEDRIVEN_SECRET_KEY, or set your token again (`pipedriven users pipedrive-token`)."
        )


async def _sync_contact(ctx: Context, contact: Contact, activity: Activity | None) -> SyncContact:
    """The contact as Pipedrive gets it; its campaign is the activity's, else the one it joined last."""
    if activity is not None and activity.campaign_id is not None:
        campaign = await ctx.session.scalar(select(Campaign.name).where(Campaign.id == activity.campaign_id))
    else:
        campaign = await ctx.session.scalar(
            select(Campaign.name)
            .join(CampaignContact, CampaignContact.campaign_id == Campaign.id)
            .where(CampaignContact.contact_id == contact.id)
            .order_by(CampaignContact.added_at.desc(), CampaignContact.id.desc())
            .limit(1)
        )
    return SyncContact(
        contact.id,
        contact.name,
        contact.email,
        contact.phone,
        contact.organisation,
        contact.warmness,
        contact.pipedrive_person_id,
        contact.pipedrive_org_id,
        campaign,
        notes=contact.notes,
        pipedrive_note_id=contact.pipedrive_note_id,
        sector=contact.sector,
        country=contact.country,
    )


@handles
async def next_sync_due(cmd: NextSyncDue, ctx: Context):
    due = func.least(
        func.min(OutboxMessage.next_attempt_at).filter(OutboxMessage.status == "pending"),
        func.min(OutboxMessage.locked_until).filter(OutboxMessage.status == "processing"),
    )
    return await ctx.session.scalar(
        select(due).where(
            OutboxMessage.topic == PIPEDRIVE_SYNC, OutboxMessage.status.in_(_UNFINISHED), _token_applies(ctx)
        )
    )


@handles
async def known_pipedrive_ids(cmd: KnownPipedriveIds, ctx: Context) -> KnownIds:
    org_id = person_id = None
    if cmd.organisation:
        org_id = await ctx.session.scalar(
            select(Contact.pipedrive_org_id)
            .where(
                func.lower(Contact.organisation) == cmd.organisation.strip().lower(),
                Contact.pipedrive_org_id.is_not(None),
            )
            .order_by(Contact.id)
            .limit(1)
        )
    if cmd.email:
        person_id = await ctx.session.scalar(
            select(Contact.pipedrive_person_id)
            .where(func.lower(Contact.email) == cmd.email.strip().lower(), Contact.pipedrive_person_id.is_not(None))
            .order_by(Contact.id)
            .limit(1)
        )
    return KnownIds(org_id, person_id)


@handles
async def record_pipedrive_ids(cmd: RecordPipedriveIds, ctx: Context) -> bool:
    """False when the contact is gone (erased while it was being synced)."""
    values = {
        k: v for k, v in (("pipedrive_org_id", cmd.org_id), ("pipedrive_person_id", cmd.person_id)) if v is not None
    }
    if not values:
        return bool(await ctx.session.scalar(select(exists().where(Contact.id == cmd.contact_id))))
    query = update(Contact).where(Contact.id == cmd.contact_id).values(**values).returning(Contact.id)
    return (await ctx.session.execute(query)).first() is not None


@handles
async def record_pipedrive_owner(cmd: RecordPipedriveOwner, ctx: Context) -> None:
    await ctx.session.execute(
        update(User).where(User.id == cmd.user_id).values(pipedrive_user_id=cmd.pipedrive_user_id)
    )


@handles
async def record_pipedrive_activity(cmd: RecordPipedriveActivity, ctx: Context) -> bool:
    """False when the activity is gone (undone while it was being sent)."""
    updated = (
        await ctx.session.execute(
            update(Activity)
            .where(Activity.id == cmd.activity_id)
            .values(pipedrive_activity_id=cmd.pipedrive_activity_id, sync_state="synced")
            .returning(Activity.id)
        )
    ).first()
    return updated is not None


@handles
async def record_pipedrive_note(cmd: RecordPipedriveNote, ctx: Context) -> bool:
    """False when the note (or the contact) is gone: erased while it was being sent."""
    if cmd.activity_id is not None:
        query = (
            update(Activity)
            .where(Activity.id == cmd.activity_id, Activity.contact_id.is_not(None))
            .values(pipedrive_note_id=cmd.pipedrive_note_id, sync_state="synced")
            .returning(Activity.id)
        )
    else:
        query = (
            update(Contact)
            .where(Contact.id == cmd.contact_id)
            .values(pipedrive_note_id=cmd.pipedrive_note_id)
            .returning(Contact.id)
        )
    return (await ctx.session.execute(query)).first() is not None


@handles
async def finish_sync(cmd: FinishSync, ctx: Context) -> bool:
    """End the attempt; False (and nothing written) when the claim was stale."""
    if cmd.outcome not in ("done", "retry", "failed"):
        raise ValueError(f"unknown sync outcome {cmd.outcome!r}")
    s, now = ctx.session, ctx.clock.now()
    row = await s.get(OutboxMessage, cmd.outbox_id, with_for_update=True)
    if row is None or row.status != "processing" or row.attempts != cmd.attempt:
        return False
    row.locked_until, row.updated_at = None, now
    if cmd.outcome == "done":
        row.status, row.last_error = "done", cmd.reason  # what was left out, if anything
    elif cmd.outcome == "retry":
        row.status, row.last_error = "pending", cmd.reason
        row.next_attempt_at = now + timedelta(seconds=max(0.0, cmd.retry_in_seconds))
    else:
        row.status, row.last_error = "failed", cmd.reason
        if cmd.user_notice and row.user_id is not None:
            await _owe_notice(ctx, row, cmd.user_notice)
        if (activity_id := _activity_id(row)) is not None:
            await s.execute(
                update(Activity)
                .where(Activity.id == activity_id, Activity.sync_state != "synced")
                .values(sync_state="failed")
            )
    if row.contact_id is not None and await s.scalar(
        select(
            exists().where(
                OutboxMessage.contact_id == row.contact_id,
                OutboxMessage.id != row.id,
                OutboxMessage.status == "pending",
                OutboxMessage.topic == PIPEDRIVE_SYNC,
            )
        )
    ):
        await notify_outbox(s)  # the contact's next sync waited for this one
    return True


async def _owe_notice(ctx: Context, row: OutboxMessage, text: str) -> None:
    """Owe the user this sentence, unless they were told the very same thing lately (then it counts as told)."""
    row.user_notice = text
    told_at = await ctx.session.scalar(
        select(func.max(OutboxMessage.user_notified_at)).where(
            OutboxMessage.user_id == row.user_id,
            OutboxMessage.user_notice == text,
            OutboxMessage.user_notified_at > ctx.clock.now() - NOTICE_QUIET,
        )
    )
    row.user_notified_at = told_at


def _owed_notices():
    return (
        OutboxMessage.user_notice.is_not(None),
        OutboxMessage.user_notified_at.is_(None),
        OutboxMessage.user_id.is_not(None),
    )


def _notices(rows) -> tuple[SyncNotice, ...]:
    """One notice per user and sentence, however many syncs failed the same way."""
    grouped: dict[tuple[int, str], list[int]] = {}
    for outbox_id, user_id, text in rows:
        grouped.setdefault((user_id, text), []).append(outbox_id)
    return tuple(SyncNotice(user_id, text, tuple(sorted(ids))) for (user_id, text), ids in grouped.items())


@handles
async def list_sync_notices(cmd: ListSyncNotices, ctx: Context) -> tuple[SyncNotice, ...]:
    rows = (
        await ctx.session.execute(
            select(OutboxMessage.id, OutboxMessage.user_id, OutboxMessage.user_notice)
            .where(*_owed_notices())
            .order_by(OutboxMessage.user_id, OutboxMessage.id)
        )
    ).all()
    return _notices(rows)


@handles
async def claim_sync_notices(cmd: ClaimSyncNotices, ctx: Context) -> tuple[SyncNotice, ...]:
    """Take the notices owed, marking them told in this same transaction so that two schedulers never both
    send one; a notice that then can't be delivered is handed back with ReleaseSyncNotices."""
    rows = await claim_owed(
        ctx,
        OutboxMessage,
        OutboxMessage.user_notified_at,
        tuple(_owed_notices()),
        cmd.limit,
        (OutboxMessage.id, OutboxMessage.user_id, OutboxMessage.user_notice),
    )
    return _notices(sorted(rows, key=lambda r: (r[1], r[0])))


@handles
async def release_syncs(cmd: ReleaseSyncs, ctx: Context) -> int:
    """Pending again and due now; the interrupted attempt is not counted. How many were handed back."""
    released = await ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(cmd.outbox_ids), OutboxMessage.status == "processing")
        .values(
            status="pending",
            locked_until=None,
            attempts=func.greatest(OutboxMessage.attempts - 1, 0),
            next_attempt_at=ctx.clock.now(),
            updated_at=ctx.clock.now(),
        )
        .returning(OutboxMessage.id)
    )
    return len(released.all())


@handles
async def release_sync_notices(cmd: ReleaseSyncNotices, ctx: Context) -> None:
    await ctx.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(cmd.outbox_ids)).values(user_notified_at=None)
    )


@handles
async def mark_sync_notices_sent(cmd: MarkSyncNoticesSent, ctx: Context) -> None:
    await ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(cmd.outbox_ids), OutboxMessage.user_notified_at.is_(None))
        .values(user_notified_at=ctx.clock.now())
    )


# --- what users see and do ---------------------------------------------------------------------------------


@handles
async def list_syncs(cmd: ListSyncs, ctx: Context) -> SyncList:
    """Unfinished syncs first (all of them), then the latest failed, then the latest done."""
    scope = [OutboxMessage.topic == PIPEDRIVE_SYNC]
    configured = ctx.settings.pipedrive_api_token is not None
    if cmd.actor is not None:
        user = await load_user(ctx, cmd.actor.user_id)
        scope.append(OutboxMessage.user_id == user.id)
        configured = configured or user.pipedrive_api_token is not None
    else:
        configured = configured or bool(
            await ctx.session.scalar(select(exists().where(User.pipedrive_api_token.is_not(None))))
        )
    limit = max(1, min(cmd.limit, 100))
    query = (
        select(
            OutboxMessage,
            Contact.name,
            User.email,
            Activity.kind,
            Contact.pipedrive_person_id,
            Activity.pipedrive_activity_id,
        )
        .outerjoin(Contact, Contact.id == OutboxMessage.contact_id)
        .outerjoin(User, User.id == OutboxMessage.user_id)
        .outerjoin(Activity, OutboxMessage.payload["activity_id"].as_integer() == Activity.id)
        .where(*scope)
    )
    rows: list[Row] = []
    for statuses, cap in ((_UNFINISHED, 100), (("failed",), limit), (("done",), limit)):
        rows += (
            await ctx.session.execute(
                query.where(OutboxMessage.status.in_(statuses)).order_by(OutboxMessage.id.desc()).limit(cap)
            )
        ).all()
    counts = dict(
        (
            await ctx.session.execute(
                select(OutboxMessage.status, func.count()).where(*scope).group_by(OutboxMessage.status)
            )
        ).all()
    )
    items = tuple(
        SyncItemView(
            id=row.id,
            event=str((row.payload or {}).get("event", "")),
            status=row.status,
            attempts=row.attempts,
            contact_id=row.contact_id,
            contact_name=name,
            user_email=email,
            activity_kind=activity_kind,
            reason=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            updated_at=row.updated_at,
            pipedrive_person_id=person_id,
            pipedrive_activity_id=pd_activity_id,
        )
        for row, name, email, activity_kind, person_id, pd_activity_id in rows
    )
    inbound_scope = []
    if cmd.actor is not None:
        theirs = select(func.array_agg(Contact.id)).where(Contact.owner_id == cmd.actor.user_id).scalar_subquery()
        inbound_scope.append(PipedriveEvent.contact_ids.op("&&")(theirs))
    inbound = dict(
        (
            await ctx.session.execute(
                select(PipedriveEvent.status, func.count()).where(*inbound_scope).group_by(PipedriveEvent.status)
            )
        ).all()
    )
    latest = (
        await ctx.session.execute(
            select(PipedriveEvent).where(*inbound_scope).order_by(PipedriveEvent.id.desc()).limit(min(limit, 10))
        )
    ).scalars()
    inbound_items = tuple(
        InboundEventView(e.id, e.entity, e.action, e.entity_id, e.status, e.outcome, e.occurred_at) for e in latest
    )
    last_received, oldest_waiting = (
        await ctx.session.execute(
            select(
                func.max(PipedriveEvent.received_at),
                func.min(PipedriveEvent.received_at).filter(PipedriveEvent.status == "received"),
            ).where(*inbound_scope)
        )
    ).one()
    return SyncList(
        items,
        configured,
        counts,
        ctx.settings.pipedrive_max_retries,
        inbound,
        inbound_items,
        inbound_last_received_at=last_received,
        inbound_oldest_waiting_at=oldest_waiting,
    )


@handles
async def retry_syncs(cmd: RetrySyncs, ctx: Context) -> SyncRetried:
    """Failed syncs go back in the queue with a fresh count of retries; a waiting one is tried at once."""
    if not cmd.ids and not cmd.all_failed:
        raise InvalidInput("Which sync? Give its number (from `sync`) or say `all`.")
    query = select(OutboxMessage).where(OutboxMessage.topic == PIPEDRIVE_SYNC)
    if cmd.actor is not None:
        await load_user(ctx, cmd.actor.user_id)
    if cmd.ids:
        rows = (
            (
                await ctx.session.execute(
                    query.where(OutboxMessage.id.in_(cmd.ids)).order_by(OutboxMessage.id).with_for_update()
                )
            )
            .scalars()
            .all()
        )
        # Someone else's sync and no sync at all get one answer: an id tells nothing about other users.
        missing = sorted(set(cmd.ids) - {r.id for r in rows if cmd.actor is None or r.user_id == cmd.actor.user_id})
        if missing:
            raise NotFound(f"You have no sync #{missing[0]}. Say `sync` to see yours.")
    else:
        query = query.where(OutboxMessage.status == "failed")
        if cmd.actor is not None:
            query = query.where(OutboxMessage.user_id == cmd.actor.user_id)
        rows = (await ctx.session.execute(query.order_by(OutboxMessage.id).with_for_update())).scalars().all()
    now = ctx.clock.now()
    again = [r for r in rows if r.status in ("failed", "pending")]
    for row in again:
        row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
        row.last_error, row.user_notice, row.user_notified_at, row.locked_until = None, None, None, None
        if (activity_id := _activity_id(row)) is not None:
            await ctx.session.execute(
                update(Activity)
                .where(Activity.id == activity_id, Activity.sync_state != "synced")
                .values(sync_state="pending")
            )
    if again:
        await notify_outbox(ctx.session)
    skipped = [
        f"#{r.id} is {'already done' if r.status == 'done' else 'being sent right now'}" for r in rows if r not in again
    ]
    if not again:
        message = "Nothing to retry" + (f": {'; '.join(skipped)}." if skipped else ": no failed syncs.")
    else:
        message = (
            f"Queued {plural(len(again), 'sync')} again: "
            + ", ".join(f"#{r.id}" for r in again)
            + "."
            + (f" ({'; '.join(skipped)}.)" if skipped else "")
        )
    return SyncRetried(message, tuple(r.id for r in again))


@handles
async def set_pipedrive_token(cmd: SetPipedriveToken, ctx: Context) -> ActionResult:
    email = (cmd.email or "").strip().lower()
    user = await ctx.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        raise UnknownUser(f"There is no Pipedriven user with the email {email[:80]}.")
    token = (cmd.token or "").strip() or None
    if token is not None and (len(token) > 200 or any(ch.isspace() for ch in token)):
        raise InvalidInput("That does not look like a Pipedrive API token (one word, at most 200 characters).")
    user.pipedrive_api_token = encryption.encrypt(ctx.settings, token) if token is not None else None
    if token is not None:
        # Syncs that waited for want of a token go now.
        await notify_outbox(ctx.session)
        return ActionResult(f"{user.name} now syncs to Pipedrive with their own API token.")
    return ActionResult(f"{user.name} now syncs with the company's Pipedrive token (if one is set).")


@handles
async def rotate_secrets(cmd: RotateSecrets, ctx: Context) -> SecretsRotated:
    encryption.keys(ctx.settings, missing=encryption.ROTATING_NEEDS_A_KEY)  # even with nothing stored yet
    users = (
        (
            await ctx.session.execute(
                select(User).where(User.pipedrive_api_token.is_not(None)).order_by(User.id).with_for_update()
            )
        )
        .scalars()
        .all()
    )
    rotated = were_plain_text = 0
    unreadable: list[str] = []
    for user in users:
        stored = user.pipedrive_api_token
        assert stored is not None, "only users with a token were selected"
        try:
            sealed = encryption.reencrypt(ctx.settings, stored)
        except encryption.SecretUnreadable:
            unreadable.append(user.email)
            continue
        were_plain_text += not encryption.is_encrypted(stored)
        user.pipedrive_api_token, rotated = sealed, rotated + 1
    return SecretsRotated(rotated, were_plain_text, tuple(unreadable))

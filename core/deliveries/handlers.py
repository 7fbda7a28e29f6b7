"""Digests and nudges: what is due to whom, decided from the database and claimed there exactly once.

The rules, all in the user's own timezone:

- A digest goes once per local day at the user's digest time, on their working days, unless digests are
  paused (`digest_paused_until` is the first day back). After downtime, a digest missed by less than the grace
  window (`DIGEST_GRACE_MINUTES`, 2 h) still goes, once; an older one is skipped, so a restart never sends a
  burst of stale digests. A digest with nothing to suggest is recorded as `empty` and nothing is sent.
- A nudge goes for each open follow-up that has fallen due (a reminder, or a snooze that ended) during the
  user's working hours: from their digest time until `WORKDAY_END` (18:00) on working days, not while paused.
  One due at 02:00 arrives at the start of their day; none is ever dropped, it waits for the next allowed
  moment. A snooze moves the follow-up's due moment, so the snooze ending nudges again.
- A cadence step that has fallen due is nudged the same way (working hours, never dropped), unless a digest
  sent since it fell due already led with it; a snoozed contact's step waits for the snooze to end.
- All go to every platform the user has linked, or only to the one they chose (`settings platform`).
- A contact removed from its owner's bank (core.contacts) gets no nudge, of a follow-up or a step, until it is
  restored.

Exactly once, with any number of scheduler processes: a delivery is a row of `deliveries` whose unique key
(digest: user, platform, local day; nudge: follow-up, due moment, platform) is inserted as a *claim* before
anything is sent (`INSERT … ON CONFLICT DO NOTHING`). A claim names its process (a token) and holds for a
lease; a process that dies between claim and send leaves a claim that expires, and another process retakes it
(`FOR UPDATE SKIP LOCKED`). A temporary platform error schedules a retry with backoff (at least the
platform's retry-after); a permanent one is recorded on the user's chat account, shown by `users list`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update

from core.cadences.commands import DueStep
from core.cadences.plans import ACTIVE_PLANS_SQL, due_steps
from core.context import Context, contact_view, load_user, settings_view, user_view
from core.deliveries.commands import (
    ChooseDigestPlatform,
    ClaimDueDeliveries,
    DeliveryClaim,
    DeliveryProblem,
    DueDeliveries,
    ListDeliveryProblems,
    PauseDigests,
    RecordDelivered,
    RecordDeliveryFailure,
    ReleaseDeliveryClaims,
    ResumeDigests,
    RuleNudge,
)
from core.errors import InvalidInput
from core.learning import rates
from core.models import Activity, ChatIdentity, Contact, Delivery, FollowUp, User
from core.registry import handles
from core.rules import outcomes
from core.rules.team import team_rules
from core.users.commands import ChatIdentityView
from core.validation import PLATFORM_NAMES
from core.views import FollowUpView, SettingsView

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (15, 60, 300, 900, 1800)  # after the 1st, 2nd, … temporary failure
MIN_RETRY_SECONDS = 1
MAX_PAUSE_DAYS = 366
RULE_NUDGE_DAYS = 7  # a rule is nudged within a week of starting to fire (weekends and pauses in between)


# Where a user is reached: on each platform this process serves (pf.platform) their newest account there, unless
# they chose another platform; `owner` names a row with the user's id (user_id) and chosen platform
# (digest_platform). Looked up per user and platform, after the checks that need only those two.
def _reach(owner: str) -> str:
    return f"""CROSS JOIN unnest(CAST(:platforms AS text[])) AS pf(platform)
CROSS JOIN LATERAL (
    SELECT ci.id, ci.platform
      FROM chat_identities ci
     WHERE ci.user_id = {owner}.user_id AND ci.platform = pf.platform
       AND ({owner}.digest_platform IS NULL OR {owner}.digest_platform = pf.platform)
     ORDER BY ci.id DESC
     LIMIT 1
) r"""


# Today's and yesterday's digest moments (a late digest time may have been missed across midnight), kept when
# they fell in the last grace window. The moments are worked out once per timezone and digest time (a handful),
# then only the users of a moment in the window whose digest for that day is not yet claimed on every platform
# (`digest_claimed_through`) are read, by one index range each: with nothing due, none.
_DIGEST_SLOTS = """
moment AS MATERIALIZED (
    SELECT z.timezone, z.digest_time, d.day, timezone(z.timezone, d.day + z.digest_time) AS due_at
      FROM (SELECT DISTINCT timezone, digest_time FROM users WHERE active) z
     CROSS JOIN LATERAL (VALUES (CAST(timezone(z.timezone, CAST(:now AS timestamptz)) AS date))) AS t(today)
     CROSS JOIN LATERAL (VALUES (t.today), (t.today - 1)) AS d(day)
),
slot AS (
    SELECT u.id AS user_id, u.digest_platform, m.day, m.due_at
      FROM moment m JOIN users u ON u.timezone = m.timezone AND u.digest_time = m.digest_time
     WHERE m.due_at <= :now AND m.due_at > :now - :grace AND u.active
       AND coalesce(u.digest_claimed_through, '-infinity'::date) < m.day
       AND CAST(extract(isodow FROM m.day) AS smallint) = ANY(u.working_days)
       AND (u.digest_paused_until IS NULL OR m.day >= u.digest_paused_until)
)"""

# The slots' digests not yet claimed on a platform this process serves.
_CLAIM_DIGESTS = f"""
WITH {_DIGEST_SLOTS}
INSERT INTO deliveries (kind, user_id, platform, chat_identity_id, local_date, due_at, status, claim_token,
                        claimed_until, created_at)
SELECT 'digest', s.user_id, r.platform, r.id, s.day, s.due_at, 'claimed', :token, :lease_end, :now
  FROM slot s {_reach("s")}
 WHERE NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.kind = 'digest' AND d.user_id = s.user_id AND d.platform = pf.platform
                      AND d.local_date = s.day)
 ORDER BY s.due_at, s.user_id, r.platform
 LIMIT :limit
ON CONFLICT DO NOTHING
RETURNING id
"""

# The slots whose digest is now claimed on every platform the user is reached on (whichever process serves it)
# leave the slots: their day is recorded as claimed. A user another transaction holds is left for the next beat.
_RECORD_DIGESTS_CLAIMED = f"""
WITH {_DIGEST_SLOTS},
done AS (
    SELECT u.id, s.day
      FROM slot s JOIN users u ON u.id = s.user_id
     WHERE NOT EXISTS (SELECT 1 FROM chat_identities ci
                        WHERE ci.user_id = s.user_id
                          AND (s.digest_platform IS NULL OR ci.platform = s.digest_platform)
                          AND NOT EXISTS (SELECT 1 FROM deliveries d
                                           WHERE d.kind = 'digest' AND d.user_id = s.user_id
                                             AND d.platform = ci.platform AND d.local_date = s.day))
     ORDER BY u.id
       FOR NO KEY UPDATE OF u SKIP LOCKED
)
UPDATE users u SET digest_claimed_through = done.day FROM done WHERE u.id = done.id
"""

# Users inside their working hours now: from their digest time until the end of the working day (a digest time
# at or after that end keeps the window open until midnight), on working days, not paused.
_AT_WORK = """
zone_now AS MATERIALIZED (
    SELECT z.timezone, timezone(z.timezone, CAST(:now AS timestamptz)) AS at
      FROM (SELECT DISTINCT timezone FROM users WHERE active) z
),
at_work AS (
    SELECT u.id AS user_id, u.digest_platform
      FROM users u JOIN zone_now l ON l.timezone = u.timezone
     WHERE u.active
       AND CAST(extract(isodow FROM l.at) AS smallint) = ANY(u.working_days)
       AND (u.digest_paused_until IS NULL OR CAST(l.at AS date) >= u.digest_paused_until)
       AND CAST(l.at AS time) >= u.digest_time
       AND (CAST(l.at AS time) < :day_end OR u.digest_time >= :day_end)
)"""

# Open follow-ups that have fallen due, of contacts still in the bank, for users at work now.
_CLAIM_NUDGES = f"""
WITH {_AT_WORK}
INSERT INTO deliveries (kind, user_id, platform, chat_identity_id, follow_up_id, due_at, status, claim_token,
                        claimed_until, created_at)
SELECT 'nudge', f.user_id, r.platform, r.id, f.id, f.due_at, 'claimed', :token, :lease_end, :now
  FROM follow_ups f JOIN at_work w ON w.user_id = f.user_id {_reach("w")}
  JOIN contacts k ON k.id = f.contact_id
 WHERE f.status = 'open' AND f.due_at <= :now AND k.archived_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.kind = 'nudge' AND d.follow_up_id = f.id AND d.due_at = f.due_at
                      AND d.platform = pf.platform)
 ORDER BY f.due_at, f.id, r.platform
 LIMIT :limit
ON CONFLICT DO NOTHING
RETURNING id
"""

# Cadence steps that have fallen due, for users at work now, unless a digest that went out (or is going out)
# on that platform since the step fell due already shows it at the top; a snoozed contact's step waits.
_CLAIM_STEPS = f"""
WITH {_AT_WORK}
INSERT INTO deliveries (kind, user_id, platform, chat_identity_id, plan_id, due_at, status, claim_token,
                        claimed_until, created_at)
SELECT 'step', p.user_id, r.platform, r.id, p.id, p.step_due_at, 'claimed', :token, :lease_end, :now
  FROM contact_plans p JOIN at_work w ON w.user_id = p.user_id {_reach("w")}
  JOIN contacts k ON k.id = p.contact_id
 WHERE p.status IN ({ACTIVE_PLANS_SQL}) AND p.step_due_at <= :now AND k.archived_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM follow_ups f
                    WHERE f.contact_id = p.contact_id AND f.status = 'open' AND f.snoozed AND f.due_at > :now)
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.kind = 'step' AND d.plan_id = p.id AND d.due_at = p.step_due_at
                      AND d.platform = pf.platform)
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.kind = 'digest' AND d.user_id = p.user_id AND d.platform = pf.platform
                      AND d.due_at >= p.step_due_at AND d.status IN ('claimed', 'retry', 'sent'))
 ORDER BY p.step_due_at, p.id, r.platform
 LIMIT :limit
ON CONFLICT DO NOTHING
RETURNING id
"""

# Rules from outcomes that started to fire in the last RULE_NUDGE_DAYS days (core.rules.outcomes), for users at
# work now: one nudge per contact, rule and the moment it counts from (so never twice, whatever the day counts
# become). A contact touched today, or with a reminder (or a snooze) still to come, waits; a rule that fired
# long ago (a bank older than the rules) stays in the list and is not nudged.
_RECENT = "k.last_contacted_at > :now - :rule_horizon"
_CLAIM_RULES = f"""
WITH {_AT_WORK},
meeting_requested AS MATERIALIZED (
    SELECT k.id, k.owner_id, k.warmness, k.created_at, k.last_contacted_at
      FROM (SELECT DISTINCT a.contact_id FROM activities a
             WHERE a.outcome = 'meeting_requested' AND a.occurred_at > :now - :rule_horizon) r
     CROSS JOIN LATERAL (SELECT k.id, k.owner_id, k.warmness, k.created_at, k.last_contacted_at
                           FROM contacts k
                          WHERE k.id = r.contact_id AND k.archived_at IS NULL
                         OFFSET 0) k  -- each by its key, never the banks of everyone at work
),
may_fire AS MATERIALIZED (
    -- Only what may fire this week, of the banks of users at work: contacts touched (or, never touched, added)
    -- within the longest rule's days and the week after, and contacts with a meeting requested since then; the
    -- bank's recent-touch index and the meeting requests' index find them. (A contact waiting for an older
    -- meeting fires `meeting_not_booked` more than a week ago: no nudge.)
    SELECT k.id, k.owner_id, k.warmness, k.created_at, k.last_contacted_at
      FROM contacts k JOIN at_work w ON w.user_id = k.owner_id
     WHERE k.archived_at IS NULL AND coalesce(k.last_contacted_at, k.created_at) > :now - :rule_horizon
     UNION
    SELECT k.id, k.owner_id, k.warmness, k.created_at, k.last_contacted_at
      FROM meeting_requested k JOIN at_work w ON w.user_id = k.owner_id
), {outcomes.ctes("k.id IN (SELECT id FROM may_fire)", _RECENT)},
candidates AS MATERIALIZED (
    SELECT k.id, k.owner_id AS user_id, k.warmness, k.created_at, k.last_contacted_at, u.timezone, l.today,
           l.today - CAST(timezone(u.timezone, k.last_contacted_at) AS date) AS days_since,
           last_touch.kind AS last_kind, last_touch.outcome AS last_outcome, meeting_news.requested_at
      FROM may_fire k
      JOIN users u ON u.id = k.owner_id
     CROSS JOIN LATERAL (SELECT CAST(timezone(u.timezone, CAST(:now AS timestamptz)) AS date) AS today) l
      LEFT JOIN last_touch ON last_touch.contact_id = k.id
      LEFT JOIN meeting_news ON meeting_news.contact_id = k.id
     WHERE NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.contact_id = k.id AND f.status = 'open' AND f.due_at > :now)
), ruled AS (
    SELECT candidates.*, {outcomes.rule_sql("today", "timezone")}
      FROM candidates
     WHERE days_since IS NULL OR days_since >= 1
)
INSERT INTO deliveries (kind, user_id, platform, chat_identity_id, contact_id, rule, due_at, status, claim_token,
                        claimed_until, created_at)
SELECT 'rule', ruled.user_id, r.platform, r.id, ruled.id, ruled.rule, {outcomes.COUNTED_FROM_SQL}, 'claimed', :token,
       :lease_end, :now
  FROM ruled JOIN at_work w ON w.user_id = ruled.user_id {_reach("w")}
 WHERE ruled.rule IS NOT NULL AND {outcomes.FIRED_DAYS_AGO_SQL} < :rule_nudge_days
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.kind = 'rule' AND d.contact_id = ruled.id AND d.rule = ruled.rule
                      AND d.due_at = {outcomes.COUNTED_FROM_SQL} AND d.platform = r.platform)
 ORDER BY ruled.id, r.platform
 LIMIT :limit
ON CONFLICT DO NOTHING
RETURNING id
"""

# Claims whose process died (lease over) and deliveries waiting for a retry, taken over by this process.
_RETAKE = """
UPDATE deliveries SET status = 'claimed', claim_token = :token, claimed_until = :lease_end
 WHERE id IN (SELECT id FROM deliveries
               WHERE ((status = 'claimed' AND claimed_until <= :now)
                      OR (status = 'retry' AND next_attempt_at <= :now))
                 AND platform = ANY(:platforms)
               ORDER BY due_at, id
               LIMIT :limit
               FOR UPDATE SKIP LOCKED)
RETURNING id
"""


# --- settings ----------------------------------------------------------------------------------------------


@handles
async def pause_digests(cmd: PauseDigests, ctx: Context) -> SettingsView:
    user = await load_user(ctx, cmd.actor.user_id)
    today = _local_today(ctx, user.timezone)
    if cmd.until <= today:
        raise InvalidInput("Pause until a day after today (the day your digests should start again).")
    if cmd.until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise InvalidInput("A pause lasts at most a year.")
    user.digest_paused_until = cmd.until
    await ctx.session.flush()
    return settings_view(
        ctx,
        user,
        f"Paused: no digest or nudge until {cmd.until:%a} {cmd.until.day} {cmd.until:%b %Y}, when they start again.",
    )


@handles
async def resume_digests(cmd: ResumeDigests, ctx: Context) -> SettingsView:
    user = await load_user(ctx, cmd.actor.user_id)
    was_paused = user.digest_paused_until is not None and user.digest_paused_until > _local_today(ctx, user.timezone)
    user.digest_paused_until = None
    await ctx.session.flush()
    return settings_view(
        ctx, user, "Resumed: digests and nudges are on." if was_paused else "Digests and nudges were not paused."
    )


@handles
async def choose_digest_platform(cmd: ChooseDigestPlatform, ctx: Context) -> SettingsView:
    user = await load_user(ctx, cmd.actor.user_id)
    if cmd.platform is None:
        user.digest_platform = None
        await ctx.session.flush()
        return settings_view(ctx, user, "Digests and nudges go to every platform you use.")
    platform = cmd.platform.strip().lower()
    if platform not in PLATFORM_NAMES:
        raise InvalidInput("Choose slack, telegram or all.")
    linked = (
        await ctx.session.execute(
            select(ChatIdentity.id).where(ChatIdentity.user_id == user.id, ChatIdentity.platform == platform).limit(1)
        )
    ).first()
    if linked is None:
        raise InvalidInput(
            f"You haven't used Pipedriven on {PLATFORM_NAMES[platform]} yet; say hello to it there first."
        )
    user.digest_platform = platform
    await ctx.session.flush()
    return settings_view(ctx, user, f"Digests and nudges go to {PLATFORM_NAMES[platform]} only.")


def _local_today(ctx: Context, tz: str) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(tz)).date()


# --- claims ------------------------------------------------------------------------------------------------


@handles
async def claim_due_deliveries(cmd: ClaimDueDeliveries, ctx: Context) -> DueDeliveries:
    """Retake expired claims and due retries, then claim new digests, then new nudges, up to the limit."""
    if not cmd.platforms or cmd.limit < 1:
        return DueDeliveries(())
    now = ctx.clock.now()
    rules = await team_rules(ctx)
    params = {
        "now": now,
        "token": cmd.token,
        "platforms": list(cmd.platforms),
        "lease_end": now + timedelta(seconds=ctx.settings.delivery_lease_seconds),
        "grace": timedelta(minutes=ctx.settings.digest_grace_minutes),
        "day_end": ctx.settings.workday_end,
        "rule_nudge_days": RULE_NUDGE_DAYS,
        "rule_horizon": timedelta(days=max(rules.params().values()) + RULE_NUDGE_DAYS + 1),
        **rules.params(),
    }
    ids: list[int] = []
    for query in (_RETAKE, _CLAIM_DIGESTS, _CLAIM_NUDGES, _CLAIM_STEPS, *([_CLAIM_RULES] if cmd.rules else [])):
        left = cmd.limit - len(ids)
        if left <= 0:
            break
        ids += (await ctx.session.execute(text(query), {**params, "limit": left})).scalars().all()
        if query is _CLAIM_DIGESTS:
            await ctx.session.execute(text(_RECORD_DIGESTS_CLAIMED), params)
    claims = await _still_due(ctx, ids, now)
    return DueDeliveries(tuple(claims), more=len(ids) >= cmd.limit)


async def _still_due(ctx: Context, ids: list[int], now: datetime) -> list[DeliveryClaim]:
    """The claims to send now; a retaken one that is no longer due (a digest past its grace window, a
    follow-up done or moved, an account unlinked) is marked skipped instead."""
    if not ids:
        return []
    rows = (
        await ctx.session.execute(
            select(Delivery, User, ChatIdentity, FollowUp, Contact)
            .join(User, User.id == Delivery.user_id)
            .outerjoin(ChatIdentity, ChatIdentity.id == Delivery.chat_identity_id)
            .outerjoin(FollowUp, FollowUp.id == Delivery.follow_up_id)
            .outerjoin(Contact, Contact.id == func.coalesce(FollowUp.contact_id, Delivery.contact_id))
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.kind, Delivery.due_at, Delivery.id)
        )
    ).all()  # digests, nudges, then steps
    grace = timedelta(minutes=ctx.settings.digest_grace_minutes)
    steps = await _steps_due(
        ctx, [(d.user_id, d.plan_id) for d, *_ in rows if d.kind == "step" and d.plan_id is not None], now
    )
    claims, skipped = [], []
    for delivery, user, identity, follow_up, contact in rows:
        step = steps.get(delivery.plan_id) if delivery.kind == "step" and delivery.plan_id is not None else None
        if delivery.kind == "digest":
            due = now - delivery.due_at < grace
        elif delivery.kind == "step":  # still at the step it was claimed for, and still due
            due = step is not None and step.due_at == delivery.due_at
        elif delivery.kind == "rule":  # still the user's, in the bank, and (but a meeting's) not touched since
            due = (
                contact is not None
                and contact.owner_id == delivery.user_id
                and contact.archived_at is None
                and (
                    delivery.rule == "meeting_not_booked"
                    or (contact.last_contacted_at or contact.created_at) == delivery.due_at
                )
            )
        else:
            due = (
                follow_up is not None
                and follow_up.status == "open"
                and follow_up.due_at == delivery.due_at
                and contact is not None
                and contact.archived_at is None
            )
        if not (due and user.active and identity is not None):
            skipped.append(delivery.id)
            continue
        claims.append(
            DeliveryClaim(
                id=delivery.id,
                kind=delivery.kind,
                user=user_view(user),
                target=ChatIdentityView(
                    identity.user_id, identity.platform, identity.external_user_id, identity.dm_channel
                ),
                due_at=delivery.due_at,
                follow_up=FollowUpView(
                    follow_up.id, follow_up.contact_id, follow_up.due_at, follow_up.note, follow_up.snoozed
                )
                if follow_up
                else None,
                contact=contact_view(contact) if contact else step.contact if step else None,
                step=step,
                rule=await _rule_nudge(ctx, delivery, user, contact, now) if delivery.kind == "rule" else None,
            )
        )
    if skipped:
        await ctx.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(skipped))
            .values(status="skipped", claim_token=None, claimed_until=None, finished_at=now)
        )
    return claims


async def _rule_nudge(ctx: Context, delivery: Delivery, user: User, contact: Contact, now: datetime) -> RuleNudge:
    """What a rule's nudge says: the rule's reason, and after no reply, the method likeliest to work next."""
    tz = ZoneInfo(user.timezone)
    days = (now.astimezone(tz).date() - delivery.due_at.astimezone(tz).date()).days
    last_kind = (
        await ctx.session.execute(
            select(Activity.kind)
            .where(Activity.contact_id == contact.id, Activity.occurred_at == contact.last_contacted_at)
            .order_by(Activity.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    method = None
    if delivery.rule == "no_reply":
        advice = await rates.advise(ctx.session, contact.id)
        method = outcomes.next_method(last_kind, advice.method if advice.reason else None)
    reason = outcomes.reason(delivery.rule, days, last_kind, method) or ""
    return RuleNudge(delivery.rule or "", reason, method)


async def _steps_due(ctx: Context, user_plans: list[tuple[int, int]], now: datetime) -> dict[int, DueStep]:
    """The due cadence steps of the claimed step nudges, rendered, by plan id."""
    wanted = {plan_id for _, plan_id in user_plans}
    steps: dict[int, DueStep] = {}
    for user_id in {user_id for user_id, _ in user_plans}:
        steps.update(
            (s.plan_id, s) for s in await due_steps(ctx.session, user_id=user_id, now=now) if s.plan_id in wanted
        )
    return steps


# --- outcomes ----------------------------------------------------------------------------------------------


def _ours(delivery_id: int, token: str):
    """Only the process holding the claim may record its outcome (a late twin whose lease ran out may not)."""
    return update(Delivery).where(
        Delivery.id == delivery_id, Delivery.claim_token == token, Delivery.status == "claimed"
    )


@handles
async def record_delivered(cmd: RecordDelivered, ctx: Context) -> bool:
    now = ctx.clock.now()
    identity_id = (
        await ctx.session.execute(
            _ours(cmd.delivery_id, cmd.token)
            .values(
                status="empty" if cmd.empty else "sent",
                message_id=cmd.message_id[:100] if cmd.message_id else None,
                claimed_until=None,
                last_error=None,
                finished_at=now,
            )
            .returning(Delivery.chat_identity_id)
        )
    ).first()
    if identity_id is None:
        return False
    if not cmd.empty and identity_id[0] is not None:  # the account works again
        await ctx.session.execute(
            update(ChatIdentity)
            .where(ChatIdentity.id == identity_id[0], ChatIdentity.delivery_failed_at.is_not(None))
            .values(delivery_error=None, delivery_failed_at=None)
        )
    return True


@handles
async def record_delivery_failure(cmd: RecordDeliveryFailure, ctx: Context) -> str | None:
    """Schedule a retry, or give up; returns the delivery's new status (None if the claim wasn't ours)."""
    now = ctx.clock.now()
    delivery = (
        await ctx.session.execute(
            select(Delivery)
            .where(Delivery.id == cmd.delivery_id, Delivery.claim_token == cmd.token, Delivery.status == "claimed")
            .with_for_update()
        )
    ).scalar_one_or_none()
    if delivery is None:
        return None
    error = (cmd.error or "unknown error")[:500]
    if cmd.retry_after is None:  # a “too many requests, retry after” is no reason to give up
        delivery.attempts += 1
    delivery.last_error = error
    delivery.claimed_until = None
    if cmd.permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.finished_at = "failed", now
        if cmd.permanent and delivery.chat_identity_id is not None:
            await ctx.session.execute(
                update(ChatIdentity)
                .where(ChatIdentity.id == delivery.chat_identity_id)
                .values(delivery_error=error, delivery_failed_at=now)
            )
    else:
        # The platform's retry-after when it gave one (a 429), else a growing backoff.
        wait = (
            max(cmd.retry_after, MIN_RETRY_SECONDS)
            if cmd.retry_after is not None
            else BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
        )
        delivery.status = "retry"
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    await ctx.session.flush()
    return delivery.status


@handles
async def release_delivery_claims(cmd: ReleaseDeliveryClaims, ctx: Context) -> int:
    """Due again at once, unclaimed and with no attempt counted; how many were handed back."""
    released = await ctx.session.execute(
        update(Delivery)
        .where(Delivery.claim_token == cmd.token, Delivery.status == "claimed")
        .values(status="retry", claim_token=None, claimed_until=None, next_attempt_at=ctx.clock.now())
        .returning(Delivery.id)
    )
    return len(released.all())


@handles
async def list_delivery_problems(cmd: ListDeliveryProblems, ctx: Context) -> tuple[DeliveryProblem, ...]:
    rows = (
        (
            await ctx.session.execute(
                select(ChatIdentity)
                .where(ChatIdentity.delivery_failed_at.is_not(None))
                .order_by(ChatIdentity.user_id, ChatIdentity.platform)
            )
        )
        .scalars()
        .all()
    )
    return tuple(
        DeliveryProblem(r.user_id, r.platform, r.external_user_id, r.delivery_error or "", r.delivery_failed_at)
        for r in rows
        if r.delivery_failed_at is not None
    )

"""Cadence plans at work: when a step falls due, what a logged activity does to a plan, and the due steps.

- A step falls due `delay_days` working days (the user's `working_days`: a Monday-to-Friday user skips
  weekends) after the previous step was done, or after the start for step 1, at the start of that local day
  so that the morning list shows it. A delay of 0 is due at once.
- Logging an activity of the current step's kind for the contact completes the step and schedules the next
  one, or ends the plan as completed (finished) after the last. An outreach of another kind is outside the
  plan and changes nothing.
- A call with no answer on a call step doesn't complete it: the step falls due again after
  `Settings.cadence_retry_days` working days.
- A reply or a booked meeting ends the plan as completed; “not interested” ends it as aborted. Both apply to a
  paused plan too (a paused plan otherwise ignores what is logged).
- A plan is `not_started` until its first step is done, then `in_progress` (so: in progress ⇔ past step 1).
- The plan keeps its state from before the last activity that changed it, so that undoing that outreach
  (core.outreach) undoes the change too.

This module sits below core.outreach.handlers (which calls `on_activity` from its one place that records
activities) and core.feed.ranking (which puts due steps at the top of the morning list), so it imports neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.cadences.commands import DueStep, PlanView
from core.cadences.templates import render
from core.models import (
    ACTIVE_PLAN_STATUSES,
    OPEN_PLAN_STATUSES,
    Activity,
    Contact,
    ContactPlan,
    Strategy,
    StrategyStep,
    User,
)
from core.validation import METHOD_LABELS
from core.views import ContactView

if TYPE_CHECKING:
    from core.context import Context

ACTIVE_PLANS_SQL = ", ".join(f"'{s}'" for s in ACTIVE_PLAN_STATUSES)

# The due steps of one user (:uid) at :now, with what it takes to render them; a caller joins `contacts k`.
# A contact snoozed into the future is left out, as it is from the morning list.
# The contact's columns a ContactView is made of, for raw statements that alias contacts as `k`. Named, not
# `k.*`: the driver prepares repeated statements, and a prepared statement whose result gains a column (a
# migration adding one to contacts under a running process) fails with “cached plan must not change result type”.
CONTACT_COLUMNS = ", ".join(f"k.{f.name}" for f in fields(ContactView))

DUE_STEPS_SQL = f"""
SELECT p.id AS plan_id, p.contact_id, p.current_step AS step_position, p.step_due_at,
       s.name AS strategy_name,
       (SELECT count(*) FROM strategy_steps n WHERE n.strategy_id = p.strategy_id) AS step_count,
       st.kind AS step_kind, st.subject_template, st.message_template,
       u.name AS user_name, u.signature AS user_signature, u.timezone AS user_timezone
  FROM contact_plans p
  JOIN strategies s ON s.id = p.strategy_id
  JOIN strategy_steps st ON st.strategy_id = p.strategy_id AND st.position = p.current_step
  JOIN users u ON u.id = p.user_id
 WHERE p.user_id = :uid AND p.status IN ({ACTIVE_PLANS_SQL}) AND p.step_due_at <= :now
   AND NOT EXISTS (SELECT 1 FROM follow_ups f
                    WHERE f.contact_id = p.contact_id AND f.status = 'open' AND f.snoozed AND f.due_at > :now)
"""


def due_after(start: datetime, delay_days: int, tz: str, working_days: Iterable[int]) -> datetime:
    """When a step `delay_days` working days after `start` falls due: the start of that day, in UTC."""
    if delay_days <= 0:
        return start
    days = set(working_days) or set(range(1, 8))
    zone = ZoneInfo(tz)
    day = start.astimezone(zone).date()
    left = delay_days
    while left:
        day += timedelta(days=1)
        if day.isoweekday() in days:
            left -= 1
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def kind_label(kind: str) -> str:
    """“email”, “call”, “campaign email”, but “LinkedIn”: a step's kind inside a sentence."""
    label = METHOD_LABELS[kind]
    return label if kind == "linkedin" else label.lower()


async def step_at(session: AsyncSession, strategy_id: int, position: int) -> StrategyStep | None:
    return (
        await session.execute(
            select(StrategyStep).where(StrategyStep.strategy_id == strategy_id, StrategyStep.position == position)
        )
    ).scalar_one_or_none()


async def step_count(session: AsyncSession, strategy_id: int) -> int:
    return (
        await session.execute(
            select(func.count()).select_from(StrategyStep).where(StrategyStep.strategy_id == strategy_id)
        )
    ).scalar_one()


def new_plan(user: User, contact_id: int, strategy_id: int, first: StrategyStep, now: datetime) -> dict:
    """The columns of a plan starting now at step 1 (a dict, so a campaign start inserts many at once)."""
    return {
        "contact_id": contact_id,
        "user_id": user.id,
        "strategy_id": strategy_id,
        "status": "not_started",
        "current_step": 1,
        "started_at": now,
        "step_due_at": due_after(now, first.delay_days, user.timezone, user.working_days),
        "created_at": now,
        "updated_at": now,
    }


async def open_plan(session: AsyncSession, contact_id: int, *, lock: bool = False) -> ContactPlan | None:
    query = select(ContactPlan).where(ContactPlan.contact_id == contact_id, ContactPlan.status.in_(OPEN_PLAN_STATUSES))
    return (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


_UNDO_FIELDS = ("status", "current_step", "step_due_at", "paused_at", "ended_at", "end_reason")


def _remember(plan: ContactPlan, activity: Activity) -> None:
    """Keep the plan as it is before `activity` changes it."""
    plan.undo_activity_id = activity.id
    plan.undo_state = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name in _UNDO_FIELDS
        for value in (getattr(plan, name),)
    }


async def undo_activity(ctx: Context, contact: Contact, activity: Activity) -> None:
    """Put back the plan `activity` changed, as it was before, when `activity` is taken back."""
    plan = (
        await ctx.session.execute(
            select(ContactPlan)
            .where(ContactPlan.contact_id == contact.id, ContactPlan.undo_activity_id == activity.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if plan is None:
        return
    assert plan.undo_state is not None, "_remember sets the state with the activity, and undoing clears both"
    for name in _UNDO_FIELDS:
        value = plan.undo_state[name]
        setattr(plan, name, datetime.fromisoformat(value) if name.endswith("_at") and value else value)
    plan.undo_activity_id = plan.undo_state = None
    plan.updated_at = ctx.clock.now()
    await ctx.session.flush()


def end(plan: ContactPlan, status: str, reason: str, now: datetime) -> None:
    plan.status, plan.end_reason, plan.ended_at = status, reason, now
    plan.step_due_at = plan.paused_at = None
    plan.updated_at = now


async def on_activity(ctx: Context, contact: Contact, activity: Activity) -> None:
    """What a just-recorded activity does to the contact's open plan (see the module docstring)."""
    if activity.kind == "note":
        return
    plan = await open_plan(ctx.session, contact.id, lock=True)
    if plan is None:
        return
    now = ctx.clock.now()
    if activity.outcome in ("replied", "meeting_booked"):
        _remember(plan, activity)
        end(plan, "completed", activity.outcome, now)
        return
    if activity.outcome == "not_interested":
        _remember(plan, activity)
        end(plan, "aborted", "not_interested", now)
        return
    if plan.status == "paused":
        return
    step = await step_at(ctx.session, plan.strategy_id, plan.current_step)
    if step is None or activity.kind != step.kind:
        return  # outside the plan
    _remember(plan, activity)
    user = await ctx.session.get_one(User, plan.user_id)
    if activity.kind == "call" and activity.outcome == "no_answer":
        plan.step_due_at = due_after(now, ctx.settings.cadence_retry_days, user.timezone, user.working_days)
    else:
        following = await step_at(ctx.session, plan.strategy_id, plan.current_step + 1)
        if following is None:
            end(plan, "completed", "finished", now)
            return
        plan.current_step += 1
        plan.status = "in_progress"
        plan.step_due_at = due_after(now, following.delay_days, user.timezone, user.working_days)
    plan.updated_at = now


def due_step_of(row, now: datetime) -> DueStep:
    """A due step from a row of DUE_STEPS_SQL joined with the contact's columns, rendered for that contact."""
    zone = ZoneInfo(row.user_timezone)
    late = (now.astimezone(zone).date() - row.step_due_at.astimezone(zone).date()).days
    state = "due" if late <= 0 else f"overdue by {late} day{'s' if late > 1 else ''}"
    fill = {
        "contact_name": row.name,
        "organisation": row.organisation,
        "user_name": row.user_name,
        "signature": row.user_signature,
    }
    return DueStep(
        plan_id=row.plan_id,
        contact=ContactView.of(row),
        strategy=row.strategy_name,
        position=row.step_position,
        step_count=row.step_count,
        kind=row.step_kind,
        due_at=row.step_due_at,
        reason=f"step {row.step_position}/{row.step_count} of {row.strategy_name}: {kind_label(row.step_kind)} {state}",
        subject=render(row.subject_template, **fill),
        message=render(row.message_template, **fill),
    )


async def due_steps(session: AsyncSession, *, user_id: int, now: datetime) -> tuple[DueStep, ...]:
    """The user's cadence steps due at `now`, the longest-waiting first, each rendered ready to copy."""
    rows = await session.execute(
        text(
            f"SELECT step.*, {CONTACT_COLUMNS} FROM ({DUE_STEPS_SQL}) step JOIN contacts k ON k.id = step.contact_id"
            " WHERE k.archived_at IS NULL ORDER BY step.step_due_at, k.name, k.id"
        ),
        {"uid": user_id, "now": now},
    )
    return tuple(due_step_of(row, now) for row in rows)


async def plan_view(session: AsyncSession, contact_id: int) -> PlanView | None:
    """The contact's open plan, else its latest one, else None."""
    every_step = aliased(StrategyStep)
    count = (
        select(func.count())
        .select_from(every_step)
        .where(every_step.strategy_id == ContactPlan.strategy_id)
        .correlate(ContactPlan)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(ContactPlan, Strategy.name, StrategyStep.kind, count)
            .join(Strategy, Strategy.id == ContactPlan.strategy_id)
            .outerjoin(
                StrategyStep,
                and_(
                    StrategyStep.strategy_id == ContactPlan.strategy_id,
                    StrategyStep.position == ContactPlan.current_step,
                ),
            )
            .where(ContactPlan.contact_id == contact_id)
            .order_by(
                ContactPlan.status.in_(OPEN_PLAN_STATUSES).desc(), ContactPlan.started_at.desc(), ContactPlan.id.desc()
            )
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    plan, name, kind, steps = row
    return PlanView(
        id=plan.id,
        contact_id=plan.contact_id,
        strategy=name,
        status=plan.status,
        current_step=plan.current_step,
        step_count=steps,
        step_kind=kind,
        step_due_at=plan.step_due_at,
        end_reason=plan.end_reason,
    )

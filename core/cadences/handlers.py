"""Cadences: contact strategies (shared, ordered steps with message templates), starting one for a contact or a
campaign, pausing, resuming, restarting and stopping a contact's plan, the due steps, and stats by strategy.

Strategies are the team's: anyone may list, show and start one; its creator or the Golden Ticket team may
change it; the built-in ones (seeded by the migration) can't be changed. A contact follows at most one open plan
(a unique index says so). What a logged activity does to a plan, and when steps fall due, is core.cadences.plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.cadences import plans
from core.cadences.commands import (
    AddStrategyStep,
    CadenceStats,
    CreateStrategy,
    DueSteps,
    EditStrategyStep,
    GetCadenceStats,
    ListDueSteps,
    ListStrategies,
    PauseCadence,
    RemoveStrategyStep,
    RestartCadence,
    ResumeCadence,
    ShowStrategy,
    StartCadence,
    StepStall,
    StepView,
    StopCadence,
    StrategyList,
    StrategyResult,
    StrategyStatsRow,
    StrategyView,
)
from core.cadences.templates import MESSAGE_MAX, SUBJECT_MAX, clean_template
from core.command import Actor, CampaignRef, ContactRef
from core.context import Context, contact_view, find_campaign, load_contact, load_user, local_text, remember_list
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import (
    MAX_STEP_DELAY_DAYS,
    OPEN_PLAN_STATUSES,
    CampaignContact,
    Contact,
    ContactPlan,
    Strategy,
    StrategyStep,
    User,
)
from core.registry import handles
from core.validation import clean_method, clean_note, clean_text
from core.views import ActionResult
from core.wording import plural

MAX_STEPS = 20


# --- strategies --------------------------------------------------------------------------------------------


async def find_strategy(ctx: Context, name: str, *, lock: bool = False) -> Strategy:
    """The strategy a user named: its exact name (any case), else the only one whose name contains the words."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Which cadence? Say `cadence list` to see them.")
    exact = select(Strategy).where(func.lower(Strategy.name) == name.lower())
    strategy = (await ctx.session.execute(exact.with_for_update() if lock else exact)).scalar_one_or_none()
    if strategy is None:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = (
            (
                await ctx.session.execute(
                    select(Strategy).where(Strategy.name.ilike(pattern, escape="\\")).order_by(Strategy.name).limit(4)
                )
            )
            .scalars()
            .all()
        )
        if len(found) > 1:
            names = ", ".join(f"“{f.name}”" for f in found[:3]) + (" …" if len(found) > 3 else "")
            raise InvalidInput(f"“{name[:60]}” matches several cadences: {names}. Give more of the name.")
        if not found:
            raise NotFound(f"There is no cadence “{name[:60]}”. Say `cadence list` to see them.")
        strategy = found[0]
        if lock:
            await ctx.session.refresh(strategy, with_for_update=True)
    return strategy


async def _views(ctx: Context, strategies: list[Strategy]) -> list[StrategyView]:
    ids = [s.id for s in strategies]
    steps = (
        (
            await ctx.session.execute(
                select(StrategyStep)
                .where(StrategyStep.strategy_id.in_(ids))
                .order_by(StrategyStep.strategy_id, StrategyStep.position)
            )
        )
        .scalars()
        .all()
    )
    open_counts = dict(
        (
            await ctx.session.execute(
                select(ContactPlan.strategy_id, func.count())
                .where(ContactPlan.strategy_id.in_(ids), ContactPlan.status.in_(OPEN_PLAN_STATUSES))
                .group_by(ContactPlan.strategy_id)
            )
        ).all()
    )
    creators: dict[int | None, str] = dict(
        (
            await ctx.session.execute(
                select(User.id, User.name).where(User.id.in_({s.created_by for s in strategies if s.created_by}))
            )
        ).all()
    )
    return [
        StrategyView(
            id=s.id,
            name=s.name,
            description=s.description,
            built_in=s.built_in,
            created_by=creators.get(s.created_by),
            open_plans=open_counts.get(s.id, 0),
            steps=tuple(
                StepView(st.position, st.delay_days, st.kind, st.subject_template, st.message_template)
                for st in steps
                if st.strategy_id == s.id
            ),
        )
        for s in strategies
    ]


async def strategy_view(ctx: Context, strategy: Strategy) -> StrategyView:
    return (await _views(ctx, [strategy]))[0]


@handles
async def list_strategies(cmd: ListStrategies, ctx: Context) -> StrategyList:
    strategies = (
        (await ctx.session.execute(select(Strategy).order_by(Strategy.built_in.desc(), Strategy.name))).scalars().all()
    )
    return StrategyList(tuple(await _views(ctx, list(strategies))))


@handles
async def show_strategy(cmd: ShowStrategy, ctx: Context) -> StrategyView:
    return await strategy_view(ctx, await find_strategy(ctx, cmd.strategy))


@handles
async def create_strategy(cmd: CreateStrategy, ctx: Context) -> StrategyResult:
    user = await load_user(ctx, cmd.actor.user_id)
    name = clean_text(cmd.name, field="cadence name", max_length=100, required=True)
    taken = (
        await ctx.session.execute(select(Strategy.name).where(func.lower(Strategy.name) == name.lower()))
    ).scalar_one_or_none()
    if taken:
        raise Conflict(f"A cadence called “{taken}” already exists.")
    now = ctx.clock.now()
    strategy = Strategy(
        name=name, description=clean_note(cmd.description, 2000), created_by=user.id, created_at=now, updated_at=now
    )
    ctx.session.add(strategy)
    await ctx.session.flush()
    return StrategyResult(f"Cadence “{name}” created. It has no steps yet.", await strategy_view(ctx, strategy))


async def _editable(ctx: Context, actor: Actor, name: str) -> Strategy:
    """The named strategy, locked for a change the actor may make."""
    user = await load_user(ctx, actor.user_id)
    strategy = await find_strategy(ctx, name, lock=True)
    if strategy.built_in:
        raise NotAllowed(f"“{strategy.name}” is built in and can't be changed; create your own with a new name.")
    if strategy.created_by != user.id and user.role != "golden_ticket":
        raise NotAllowed(f"Only the creator of “{strategy.name}” or the Golden Ticket team can change it.")
    return strategy


def _step_fields(cmd: AddStrategyStep | EditStrategyStep) -> dict:
    """A step's columns from a command, every template checked now (not when the step falls due)."""
    if not 0 <= cmd.delay_days <= MAX_STEP_DELAY_DAYS:
        raise InvalidInput(f"A step's delay is 0 to {MAX_STEP_DELAY_DAYS} days.")
    return {
        "delay_days": cmd.delay_days,
        "kind": clean_method(cmd.kind),
        "subject_template": clean_template(cmd.subject, field="subject", max_length=SUBJECT_MAX),
        "message_template": clean_template(cmd.message, field="message", max_length=MESSAGE_MAX),
    }


async def _changed(ctx: Context, strategy: Strategy, message: str) -> StrategyResult:
    strategy.updated_at = ctx.clock.now()
    await ctx.session.flush()
    return StrategyResult(message, await strategy_view(ctx, strategy))


@handles
async def add_strategy_step(cmd: AddStrategyStep, ctx: Context) -> StrategyResult:
    strategy = await _editable(ctx, cmd.actor, cmd.strategy)
    fields = _step_fields(cmd)
    count = await plans.step_count(ctx.session, strategy.id)
    if count >= MAX_STEPS:
        raise InvalidInput(f"“{strategy.name}” already has {MAX_STEPS} steps, the most a cadence can have.")
    now = ctx.clock.now()
    ctx.session.add(StrategyStep(strategy_id=strategy.id, position=count + 1, created_at=now, updated_at=now, **fields))
    return await _changed(ctx, strategy, f"Step {count + 1} added to “{strategy.name}”.")


async def _step(ctx: Context, strategy: Strategy, position: int) -> StrategyStep:
    step = await plans.step_at(ctx.session, strategy.id, position) if 1 <= position <= MAX_STEPS else None
    if step is None:
        count = await plans.step_count(ctx.session, strategy.id)
        raise NotFound(f"“{strategy.name}” has no step {position}; it has {count}.")
    return step


@handles
async def edit_strategy_step(cmd: EditStrategyStep, ctx: Context) -> StrategyResult:
    strategy = await _editable(ctx, cmd.actor, cmd.strategy)
    step = await _step(ctx, strategy, cmd.position)
    for key, value in _step_fields(cmd).items():
        setattr(step, key, value)
    step.updated_at = ctx.clock.now()
    return await _changed(ctx, strategy, f"Step {cmd.position} of “{strategy.name}” saved.")


@handles
async def remove_strategy_step(cmd: RemoveStrategyStep, ctx: Context) -> StrategyResult:
    strategy = await _editable(ctx, cmd.actor, cmd.strategy)
    step = await _step(ctx, strategy, cmd.position)
    following = (
        await ctx.session.execute(
            select(func.count())
            .select_from(ContactPlan)
            .where(ContactPlan.strategy_id == strategy.id, ContactPlan.status.in_(OPEN_PLAN_STATUSES))
        )
    ).scalar_one()
    if following:
        raise Conflict(
            f"{plural(following, 'contact')} {'follows' if following == 1 else 'follow'} “{strategy.name}”: removing a step would move them to "
            f"another. Stop their plans first, or edit the step instead."
        )
    await ctx.session.execute(delete(StrategyStep).where(StrategyStep.id == step.id))
    # One at a time, upwards, so that (strategy, position) stays unique after every row.
    later = (
        (
            await ctx.session.execute(
                select(StrategyStep)
                .where(StrategyStep.strategy_id == strategy.id, StrategyStep.position > cmd.position)
                .order_by(StrategyStep.position)
            )
        )
        .scalars()
        .all()
    )
    for moved in later:
        moved.position -= 1
        await ctx.session.flush()
    return await _changed(ctx, strategy, f"Step {cmd.position} removed from “{strategy.name}”.")


# --- plans -------------------------------------------------------------------------------------------------


def _due_text(due: datetime | None, user: User, now: datetime) -> str:
    if due is None:
        return ""
    return "due now" if due <= now else f"due {local_text(due, user.timezone)}"


async def _first_step(ctx: Context, strategy: Strategy) -> tuple[StrategyStep, int]:
    first = await plans.step_at(ctx.session, strategy.id, 1)
    if first is None:
        raise InvalidInput(f"“{strategy.name}” has no steps yet: add one before starting it.")
    return first, await plans.step_count(ctx.session, strategy.id)


def _where(plan: ContactPlan, steps: int) -> str:
    return f"step {plan.current_step}/{steps}"


async def _split_name_and_contact(ctx: Context, words: str) -> tuple[Strategy, ContactRef]:
    """“warm intro bob stone” → the strategy “Warm intro” and the contact “bob stone”."""
    parts = words.split()
    for end in range(len(parts) - 1, 0, -1):
        strategy = (
            await ctx.session.execute(
                select(Strategy).where(func.lower(Strategy.name) == " ".join(parts[:end]).lower())
            )
        ).scalar_one_or_none()
        if strategy is not None:
            return strategy, ContactRef(text=" ".join(parts[end:]))
    raise InvalidInput(
        f"No cadence's name starts “{words[:60]}”. Quote the cadence's name, like "
        f'`cadence start "Warm intro" Ana Silva`, or say `cadence list`.'
    )


@handles
async def start_cadence(cmd: StartCadence, ctx: Context) -> ActionResult:
    contact_ref = cmd.contact
    if cmd.name_and_contact:
        strategy, contact_ref = await _split_name_and_contact(ctx, cmd.name_and_contact)
    elif (cmd.contact is None) == (cmd.campaign is None):
        raise InvalidInput("Start a cadence for one contact or for a campaign.")
    else:
        strategy = await find_strategy(ctx, cmd.strategy)
    user = await load_user(ctx, cmd.actor.user_id)
    first, steps = await _first_step(ctx, strategy)
    now = ctx.clock.now()
    if cmd.campaign is not None:
        return await _start_for_campaign(ctx, cmd.campaign, user, strategy, first, now)
    assert contact_ref is not None, "a contact or a campaign was named, and a campaign's start returned above"
    contact = await load_contact(ctx, cmd.actor, contact_ref, lock=True)
    if (current := await plans.open_plan(ctx.session, contact.id)) is not None:
        name = (await ctx.session.get_one(Strategy, current.strategy_id)).name
        raise Conflict(
            f"{contact.name} already follows “{name}” ({current.status.replace('_', ' ')}). Stop or restart it first."
        )
    plan = ContactPlan(**plans.new_plan(user, contact.id, strategy.id, first, now))
    ctx.session.add(plan)
    await ctx.session.flush()
    return ActionResult(
        f"▶ “{strategy.name}” started for {contact.name}: step 1/{steps} "
        f"({plans.kind_label(first.kind)}) {_due_text(plan.step_due_at, user, now)}.",
        contact_view(contact),
    )


async def _start_for_campaign(
    ctx: Context, ref: CampaignRef, user: User, strategy: Strategy, first: StrategyStep, now: datetime
) -> ActionResult:
    """Every contact of the campaign in the user's own bank; those already following a cadence keep theirs."""
    camp = await find_campaign(ctx, ref)
    if camp.status == "closed":
        raise InvalidInput(f"Campaign “{camp.name}” is closed.")
    members = (
        await ctx.session.execute(
            select(Contact.id, Contact.owner_id)
            .join(CampaignContact, CampaignContact.contact_id == Contact.id)
            .where(CampaignContact.campaign_id == camp.id, Contact.archived_at.is_(None))
            .order_by(Contact.id)
        )
    ).all()
    own = [contact_id for contact_id, owner in members if owner == user.id]
    others = len(members) - len(own)
    started: Sequence[Row] = []
    if own:
        # The unique index on open plans skips contacts that already follow one, even one started concurrently.
        started = (
            await ctx.session.execute(
                pg_insert(ContactPlan)
                .values([plans.new_plan(user, k, strategy.id, first, now) for k in own])
                .on_conflict_do_nothing()
                .returning(ContactPlan.id)
            )
        ).all()
    parts = [f"▶ “{strategy.name}” started for {plural(len(started), 'contact')} of “{camp.name}”."]
    if len(own) > len(started):
        parts.append(f"{len(own) - len(started)} already follow a cadence.")
    if others:
        parts.append(f"{others} in other people's banks were left to them.")
    return ActionResult(" ".join(parts))


async def _plan_of(ctx: Context, cmd, *, latest: bool = False) -> tuple[Contact, ContactPlan, Strategy, int]:
    """The contact (locked) and its open plan, or with `latest` its most recent plan whatever its state."""
    contact = await load_contact(ctx, cmd.actor, cmd.contact, lock=True)
    plan = await plans.open_plan(ctx.session, contact.id, lock=True)
    if plan is None and latest:
        plan = (
            await ctx.session.execute(
                select(ContactPlan)
                .where(ContactPlan.contact_id == contact.id)
                .order_by(ContactPlan.started_at.desc(), ContactPlan.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if plan is None:
        raise NotFound(f"{contact.name} isn't following a cadence. Start one with `cadence start NAME CONTACT`.")
    strategy = await ctx.session.get_one(Strategy, plan.strategy_id)
    return contact, plan, strategy, await plans.step_count(ctx.session, strategy.id)


@handles
async def pause_cadence(cmd: PauseCadence, ctx: Context) -> ActionResult:
    contact, plan, strategy, steps = await _plan_of(ctx, cmd)
    if plan.status == "paused":
        return ActionResult(f"“{strategy.name}” is already paused for {contact.name}.", contact_view(contact))
    now = ctx.clock.now()
    plan.status, plan.paused_at, plan.updated_at = "paused", now, now
    return ActionResult(
        f"⏸ “{strategy.name}” paused for {contact.name} at {_where(plan, steps)}.", contact_view(contact)
    )


@handles
async def resume_cadence(cmd: ResumeCadence, ctx: Context) -> ActionResult:
    contact, plan, strategy, steps = await _plan_of(ctx, cmd)
    if plan.status != "paused":
        return ActionResult(f"“{strategy.name}” isn't paused for {contact.name}.", contact_view(contact))
    user = await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    assert plan.step_due_at is not None and plan.paused_at is not None, "pausing keeps the due moment and records when"
    # The wait left before the pause is still left after it.
    plan.step_due_at = plan.step_due_at + (now - plan.paused_at)
    plan.status = "in_progress" if plan.current_step > 1 else "not_started"
    plan.paused_at, plan.updated_at = None, now
    step = await plans.step_at(ctx.session, strategy.id, plan.current_step)
    assert step is not None, "a step can't be removed while plans follow its cadence"
    return ActionResult(
        f"▶ “{strategy.name}” resumed for {contact.name}: {_where(plan, steps)} "
        f"({plans.kind_label(step.kind)}) {_due_text(plan.step_due_at, user, now)}.",
        contact_view(contact),
    )


@handles
async def restart_cadence(cmd: RestartCadence, ctx: Context) -> ActionResult:
    contact, plan, strategy, _ = await _plan_of(ctx, cmd, latest=True)
    user = await load_user(ctx, cmd.actor.user_id)
    first, steps = await _first_step(ctx, strategy)
    now = ctx.clock.now()
    if plan.status in OPEN_PLAN_STATUSES:
        plans.end(plan, "aborted", "restarted", now)
        await ctx.session.flush()  # the open plan ends before the new one opens (one open plan per contact)
    fresh = ContactPlan(**plans.new_plan(user, contact.id, strategy.id, first, now))
    ctx.session.add(fresh)
    await ctx.session.flush()
    return ActionResult(
        f"↺ “{strategy.name}” restarted for {contact.name}: step 1/{steps} "
        f"({plans.kind_label(first.kind)}) {_due_text(fresh.step_due_at, user, now)}.",
        contact_view(contact),
    )


@handles
async def stop_cadence(cmd: StopCadence, ctx: Context) -> ActionResult:
    contact, plan, strategy, steps = await _plan_of(ctx, cmd)
    plans.end(plan, "aborted", "stopped", ctx.clock.now())
    return ActionResult(
        f"⏹ “{strategy.name}” stopped for {contact.name} at {_where(plan, steps)}.", contact_view(contact)
    )


@handles
async def list_due_steps(cmd: ListDueSteps, ctx: Context) -> DueSteps:
    user = await load_user(ctx, cmd.actor.user_id)
    items = await plans.due_steps(ctx.session, user_id=user.id, now=ctx.clock.now())
    await remember_list(ctx, cmd.actor, [step.contact.id for step in items])
    return DueSteps(items)


# --- stats -------------------------------------------------------------------------------------------------

# A meeting or reply counts for a plan when it happens from the plan's start until the contact's next plan
# starts (if any): each contact counts once per strategy, however often it was restarted.
_STATS = """
WITH spans AS (
    SELECT p.strategy_id, p.contact_id, p.started_at,
           lead(p.started_at) OVER (PARTITION BY p.contact_id ORDER BY p.started_at, p.id) AS next_start
      FROM contact_plans p
), per_contact AS (
    SELECT spans.strategy_id, spans.contact_id,
           bool_or(a.outcome = 'replied') AS replied,
           bool_or(a.outcome = 'meeting_requested') AS requested,
           bool_or(a.outcome = 'meeting_booked') AS booked
      FROM spans
      LEFT JOIN activities a
        ON a.contact_id = spans.contact_id AND a.occurred_at >= spans.started_at
       AND (spans.next_start IS NULL OR a.occurred_at < spans.next_start)
       AND a.outcome IN ('replied', 'meeting_requested', 'meeting_booked')
     GROUP BY 1, 2
), outcomes AS (
    SELECT strategy_id, count(*) AS started, count(*) FILTER (WHERE replied) AS replies,
           count(*) FILTER (WHERE requested) AS requested, count(*) FILTER (WHERE booked) AS booked
      FROM per_contact GROUP BY 1
), states AS (
    SELECT strategy_id,
           count(*) FILTER (WHERE status IN ('not_started', 'in_progress')) AS active,
           count(*) FILTER (WHERE status = 'paused') AS paused,
           count(*) FILTER (WHERE status = 'completed') AS completed
      FROM contact_plans GROUP BY 1
)
SELECT s.id, s.name, coalesce(o.started, 0) AS started, coalesce(o.replies, 0) AS replies,
       coalesce(o.requested, 0) AS requested, coalesce(o.booked, 0) AS booked,
       coalesce(st.active, 0) AS active, coalesce(st.paused, 0) AS paused, coalesce(st.completed, 0) AS completed
  FROM strategies s
  LEFT JOIN outcomes o ON o.strategy_id = s.id
  LEFT JOIN states st ON st.strategy_id = s.id
 ORDER BY started DESC, s.built_in DESC, s.name
"""

_STALLS = """
SELECT p.strategy_id, p.current_step AS position, st.kind, count(*) AS waiting,
       count(*) FILTER (WHERE p.step_due_at < :overdue_before) AS overdue
  FROM contact_plans p
  JOIN strategy_steps st ON st.strategy_id = p.strategy_id AND st.position = p.current_step
  JOIN contacts k ON k.id = p.contact_id AND k.archived_at IS NULL  -- a removed contact's plan waits on nobody
 WHERE p.status IN ('not_started', 'in_progress')
 GROUP BY 1, 2, 3
 ORDER BY 1, 2
"""


@handles
async def get_cadence_stats(cmd: GetCadenceStats, ctx: Context) -> CadenceStats:
    """Team-wide, like GetStats, so no ownership check applies."""
    rows = (await ctx.session.execute(text(_STATS))).all()
    stalls: dict[int, list[StepStall]] = {}
    for row in await ctx.session.execute(text(_STALLS), {"overdue_before": ctx.clock.now() - timedelta(days=1)}):
        stalls.setdefault(row.strategy_id, []).append(StepStall(row.position, row.kind, row.waiting, row.overdue))
    return CadenceStats(
        tuple(
            StrategyStatsRow(
                strategy=r.name,
                contacts_started=r.started,
                replies=r.replies,
                meetings_requested=r.requested,
                meetings_booked=r.booked,
                active=r.active,
                paused=r.paused,
                completed=r.completed,
                stalls=tuple(stalls.get(r.id, ())),
            )
            for r in rows
        )
    )

"""Strategy analytics and the weekly summary: every plan's history replayed (core.analytics.replay), then
counted by cadence and step; the week's campaign numbers and heatmap from core.stats."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from core.analytics.commands import (
    BehindOnSteps,
    CampaignWeek,
    GetStrategyAnalytics,
    GetWeeklySummary,
    StepFigures,
    StrategyAnalytics,
    StrategyFigures,
    WeeklySummary,
)
from core.analytics.replay import PAUSE, RESUME, Event, Replayed, local_day, replay
from core.cadences.handlers import find_strategy
from core.context import Context, load_user, require_golden_ticket
from core.models import ACTIVE_PLAN_STATUSES
from core.registry import handles
from core.stats.handlers import heatmap_of, stats_rows

_PLANS = """
SELECT p.id, p.strategy_id, p.user_id, p.status, p.current_step, p.started_at, p.end_reason, p.step_due_at,
       u.name AS user_name, u.timezone, u.working_days, k.archived_at IS NOT NULL AS removed
  FROM contact_plans p
  JOIN users u ON u.id = p.user_id
  JOIN contacts k ON k.id = p.contact_id
 WHERE CAST(:strategy_id AS int) IS NULL OR p.strategy_id = :strategy_id
 ORDER BY p.id
"""

# What each plan saw while it ran: the contact's activities and the plan's pauses and resumes (the audit trail).
_EVENTS = f"""
WITH spans AS (
    SELECT id, contact_id, started_at, coalesce(ended_at, 'infinity') AS span_end
      FROM contact_plans
     WHERE CAST(:strategy_id AS int) IS NULL OR strategy_id = :strategy_id
)
SELECT s.id AS plan_id, a.occurred_at AS at, a.kind, a.outcome, 0 AS source, a.id AS event_id
  FROM spans s
  JOIN activities a ON a.contact_id = s.contact_id AND a.occurred_at >= s.started_at AND a.occurred_at <= s.span_end
 WHERE a.kind <> 'note'
UNION ALL
SELECT s.id, e.occurred_at, e.command, NULL, 1, e.id
  FROM spans s
  JOIN audit_log e ON e.contact_ids @> ARRAY[s.contact_id]
   AND e.command IN ('{PAUSE}', '{RESUME}') AND e.occurred_at >= s.started_at AND e.occurred_at <= s.span_end
 ORDER BY 1, 2, 5, 6
"""

_STEPS = """
SELECT s.id, s.name, st.delay_days, st.kind
  FROM strategies s
  LEFT JOIN strategy_steps st ON st.strategy_id = s.id
 WHERE CAST(:strategy_id AS int) IS NULL OR s.id = :strategy_id
 ORDER BY s.built_in DESC, s.name, s.id, st.position
"""

DROPPED_REASONS = ("stopped", "not_interested", "restarted")


@dataclass(frozen=True)
class _Plan:
    row: Any  # a row of _PLANS
    replayed: Replayed


async def _replayed(ctx: Context, strategy_id: int | None) -> tuple[dict[int, tuple[str, list]], list[_Plan]]:
    """Each strategy (name and steps) and each plan with its replayed history."""
    params = {"strategy_id": strategy_id}
    strategies: dict[int, tuple[str, list]] = {}
    for r in await ctx.session.execute(text(_STEPS), params):
        _, steps = strategies.setdefault(r.id, (r.name, []))
        if r.kind is not None:
            steps.append((r.delay_days, r.kind))
    events: dict[int, list[Event]] = defaultdict(list)
    for r in await ctx.session.execute(text(_EVENTS), params):
        events[r.plan_id].append(Event(r.at, r.kind, r.outcome))
    plans = [
        _Plan(
            p,
            replay(
                strategies[p.strategy_id][1],
                p.started_at,
                events.get(p.id, ()),
                zone=p.timezone,
                working_days=p.working_days,
            ),
        )
        for p in await ctx.session.execute(text(_PLANS), params)
    ]
    return strategies, plans


def _figures(name: str, steps: list, plans: list[_Plan], now: datetime) -> StrategyFigures:
    figures = [dict(position=n, kind=kind) for n, (_, kind) in enumerate(steps, 1)]
    count = lambda n, field: figures[n - 1].__setitem__(field, figures[n - 1].get(field, 0) + 1)  # noqa: E731
    meetings = before_first = 0
    for plan in plans:
        p, r = plan.row, plan.replayed
        if steps:
            for n in range(1, min(max(r.position, p.current_step), len(steps)) + 1):
                count(n, "reached")
            for done in r.done:
                count(done.position, "done")
                if done.on_time:
                    count(done.position, "on_time")
        if r.meeting_after is not None:
            meetings += 1
            if r.meeting_after == 0 or not steps:
                before_first += 1
            else:
                count(r.meeting_after, "meetings")
        elif p.end_reason in DROPPED_REASONS and steps:
            count(min(p.current_step, len(steps)), "dropped")
        if p.status in ACTIVE_PLAN_STATUSES and not p.removed and 1 <= p.current_step <= len(steps):
            count(p.current_step, "waiting")
            if p.step_due_at is not None and local_day(p.step_due_at, p.timezone) < local_day(now, p.timezone):
                count(p.current_step, "overdue")
    return StrategyFigures(name, len(plans), meetings, before_first, tuple(StepFigures(**f) for f in figures))


@handles
async def get_strategy_analytics(cmd: GetStrategyAnalytics, ctx: Context) -> StrategyAnalytics:
    """Team-wide, like GetStats, so no ownership check applies."""
    strategy = await find_strategy(ctx, cmd.strategy) if cmd.strategy is not None else None
    strategies, plans = await _replayed(ctx, strategy.id if strategy else None)
    by_strategy: dict[int, list[_Plan]] = defaultdict(list)
    for plan in plans:
        by_strategy[plan.row.strategy_id].append(plan)
    now = ctx.clock.now()
    figures = [_figures(name, steps, by_strategy[sid], now) for sid, (name, steps) in strategies.items()]
    figures.sort(key=lambda f: -f.plans)  # stable: built-in first, then by name, among equals
    return StrategyAnalytics(tuple(figures), one=strategy is not None)


@handles
async def get_weekly_summary(cmd: GetWeeklySummary, ctx: Context) -> WeeklySummary:
    """For the Golden Ticket team (and the command line's operator): last week in the actor's zone."""
    zone = ctx.settings.default_timezone
    if cmd.actor.user_id:
        user = await load_user(ctx, cmd.actor.user_id)
        require_golden_ticket(user, "see the weekly summary")
        zone = user.timezone
    now = ctx.clock.now()
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    since = datetime.combine(monday, time(0), tz)
    until = datetime.combine(monday + timedelta(days=7), time(0), tz)
    live = (await ctx.session.execute(text("SELECT id, name FROM campaigns WHERE status = 'live' ORDER BY name"))).all()
    numbers = {
        r.key: r for r in await stats_rows(ctx.session, group_by="campaign", since=since, until=until, campaign_id=None)
    }
    campaigns = [
        CampaignWeek(c.name, r.outreach, r.meetings_requested, r.meetings_booked)
        if (r := numbers.get(c.name))
        else CampaignWeek(c.name, 0, 0, 0)
        for c in live
    ]
    heatmap = await heatmap_of(
        ctx.session,
        "campaign",
        now=until - timedelta(microseconds=1),
        zone=zone,
        campaign_ids=tuple(c.id for c in live),
    )
    return WeeklySummary(
        week=_week_label(monday),
        since=since,
        until=until,
        campaigns=tuple(sorted(campaigns, key=lambda c: (-c.outreach, -c.meetings_booked, c.campaign))),
        heatmap=heatmap,
        behind=await _behind(ctx, now, since, until),
    )


async def _behind(ctx: Context, now: datetime, since: datetime, until: datetime) -> tuple[BehindOnSteps, ...]:
    """Users with steps past their due day now, the most overdue first, with how they kept to their steps in
    [since, until)."""
    _, plans = await _replayed(ctx, None)
    names: dict[int, str] = {}
    overdue: dict[int, list[int]] = defaultdict(list)
    week: dict[int, list[bool]] = defaultdict(list)
    for plan in plans:
        p = plan.row
        names[p.user_id] = p.user_name
        if p.status in ACTIVE_PLAN_STATUSES and not p.removed and p.step_due_at is not None:
            late = (local_day(now, p.timezone) - local_day(p.step_due_at, p.timezone)).days
            if late > 0:
                overdue[p.user_id].append(late)
        week[p.user_id].extend(d.on_time for d in plan.replayed.done if since <= d.first_attempt < until)
    rows = [
        BehindOnSteps(names[uid], len(lates), max(lates), len(week[uid]), sum(week[uid]))
        for uid, lates in overdue.items()
    ]
    return tuple(sorted(rows, key=lambda b: (-b.overdue, -b.oldest_days, b.user)))


def _week_label(monday) -> str:
    sunday = monday + timedelta(days=6)
    start = f"{monday.day} {monday:%b}" if monday.month != sunday.month else str(monday.day)
    if monday.year != sunday.year:
        start += f" {monday.year}"
    return f"W{monday.isocalendar().week:02d}, {start}–{sunday.day} {sunday:%b %Y}"

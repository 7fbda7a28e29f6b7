"""Campaign and outreach numbers: outreach count, meetings requested and booked, grouped and over a period.

Meetings count where they came from: `activities.channel` holds the outreach method that led to a meeting,
so “by method” shows which channel books meetings. Touches done in Pipedrive count as outreach under their
method, "pipedrive:<type>". Stats are visible to every user; the heatmap by user shows a consultant only
their own row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context, find_campaign, load_user
from core.errors import InvalidInput
from core.registry import handles
from core.stats.commands import (
    HEATMAP_AXES,
    HEATMAP_WEEKS,
    WEEKDAYS,
    GetHeatmap,
    GetStats,
    Heatmap,
    HeatmapRow,
    StatsReport,
    StatsRow,
)
from core.vocabulary import COUNTED_OUTREACH

GROUPS = {
    None: "'all'",
    "campaign": "coalesce(c.name, '(no campaign)')",
    "user": "coalesce(u.name, '(former user)')",
    "method": "coalesce(a.channel, '(unknown)')",
}
_OUTREACH = ", ".join(f"'{m}'" for m in COUNTED_OUTREACH)


async def stats_rows(
    session: AsyncSession,
    *,
    group_by: str | None,
    since: datetime | None,
    until: datetime | None,
    campaign_id: int | None,
    user_id: int | None = None,
) -> list[StatsRow]:
    """The numbers per group over [since, until); `user_id` narrows them to one user's own activity.

    Read from the rollups (whole UTC months, whole UTC days, and the changes not folded yet) with the activities
    themselves only for the hours at the ends of the period that fall inside a day."""
    if group_by == "method" and user_id is not None:  # no rollup holds method × user
        return await counted_from_activities(
            session, group_by=group_by, since=since, until=until, campaign_id=campaign_id, user_id=user_id
        )
    query, params = rolled_up_query(group_by, since, until, campaign_id, user_id)
    result = await session.execute(text(query), params)
    return [
        StatsRow(
            key=r.key, outreach=int(r.outreach), meetings_requested=int(r.requested), meetings_booked=int(r.booked)
        )
        for r in result
    ]


def rolled_up_query(
    group_by: str | None,
    since: datetime | None,
    until: datetime | None,
    campaign_id: int | None,
    user_id: int | None,
) -> tuple[str, dict[str, object]]:
    """The statement of `stats_rows` (by campaign, user or none when `user_id` is given) and its parameters."""
    days, months = rollup_spans(since, until)
    params: dict[str, object] = {"campaign_id": campaign_id, "user_id": user_id, "since": since, "until": until}
    narrowed = (" AND a.campaign_id = :campaign_id" if campaign_id is not None else "") + (
        " AND a.user_id = :user_id" if user_id is not None else ""
    )
    parts = []
    if days is not None:
        params.update(axis="method" if group_by == "method" else "user", d0=days[0], d1=days[1])
        in_days = _range("a.starts_on", days, "d0", "d1")
        by_span = f"a.span = 'day' AND {in_days}"
        if months is not None:
            params.update(m0=months[0], m1=months[1])
            in_months = _range("a.starts_on", months, "m0", "m1")
            by_span = f"(a.span = 'month' AND {in_months}) OR ({by_span} AND NOT ({in_months}))"
        parts.append(f"""
            SELECT a.campaign_id, a.user_id, a.channel, a.activities, a.outreach, a.requested, a.booked
              FROM activity_rollups a
             WHERE a.axis = :axis AND ({by_span}){narrowed}""")
        parts.append(f"""
            SELECT a.campaign_id, a.user_id, a.channel, a.activities, a.outreach, a.requested, a.booked
              FROM activity_rollup_changes a
             WHERE {_range("a.day", days, "d0", "d1")}{narrowed}""")
        raw = [_range("a.occurred_at", (since, days[0]), "since", "d0")] * (since is not None) + [
            _range("a.occurred_at", (days[1], until), "d1", "until")
        ] * (until is not None)
    else:
        raw = [_range("a.occurred_at", (since, until), "since", "until")]
    for where in raw:
        parts.append(f"""
            SELECT a.campaign_id, a.user_id, a.channel, 1, CAST(a.kind IN ({_OUTREACH}) AS int),
                   CAST(a.outcome = 'meeting_requested' AS int), CAST(a.outcome = 'meeting_booked' AS int)
              FROM activities a
             WHERE {where} AND a.kind <> 'note'{narrowed}""")
    query = f"""
        SELECT {GROUPS[group_by]} AS key, sum(a.outreach) AS outreach, sum(a.requested) AS requested,
               sum(a.booked) AS booked
          FROM ({" UNION ALL ".join(parts)}) AS a (campaign_id, user_id, channel, activities, outreach, requested,
                                                   booked)
          LEFT JOIN campaigns c ON c.id = a.campaign_id
          LEFT JOIN users u ON u.id = a.user_id
         GROUP BY 1
        HAVING sum(a.activities) > 0
         ORDER BY 4 DESC, 3 DESC, 2 DESC, 1
    """
    return query, params


def rollup_spans(
    since: datetime | None, until: datetime | None
) -> tuple[tuple[date | None, date | None] | None, tuple[date | None, date | None] | None]:
    """The whole UTC days inside [since, until) (None: not one), and the whole months among them (None: not
    one); an open end stays open (None)."""
    first_day = None if since is None else _day_on_or_after(since)
    end_day = None if until is None else until.astimezone(UTC).date()
    if first_day is not None and end_day is not None and first_day >= end_day:
        return None, None
    first_month = None if first_day is None else _month_on_or_after(first_day)
    end_month = None if end_day is None else end_day.replace(day=1)
    if first_month is not None and end_month is not None and first_month >= end_month:
        return (first_day, end_day), None
    return (first_day, end_day), (first_month, end_month)


def _day_on_or_after(moment: datetime) -> date:
    utc = moment.astimezone(UTC)
    return utc.date() if utc.time() == datetime.min.time() else utc.date() + timedelta(days=1)


def _month_on_or_after(day: date) -> date:
    if day.day == 1:
        return day
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _range(column: str, bounds: tuple[object, object], low: str, high: str) -> str:
    """`column` in [:low, :high); an end whose bound is None is open."""
    conditions = [f"{column} >= :{low}"] * (bounds[0] is not None) + [f"{column} < :{high}"] * (bounds[1] is not None)
    return " AND ".join(conditions) or "true"


async def counted_from_activities(
    session: AsyncSession,
    *,
    group_by: str | None,
    since: datetime | None,
    until: datetime | None,
    campaign_id: int | None,
    user_id: int | None = None,
) -> list[StatsRow]:
    """The numbers per group, counted from every activity of the period (what the rollups spare)."""
    key = GROUPS[group_by]
    query = f"""
        SELECT {key} AS key,
               count(*) FILTER (WHERE a.kind IN ({_OUTREACH})) AS outreach,
               count(*) FILTER (WHERE a.outcome = 'meeting_requested') AS requested,
               count(*) FILTER (WHERE a.outcome = 'meeting_booked') AS booked
          FROM activities a
          LEFT JOIN campaigns c ON c.id = a.campaign_id
          LEFT JOIN users u ON u.id = a.user_id
         WHERE (CAST(:since AS timestamptz) IS NULL OR a.occurred_at >= :since)
           AND (CAST(:until AS timestamptz) IS NULL OR a.occurred_at < :until)
           AND (CAST(:campaign_id AS int) IS NULL OR a.campaign_id = :campaign_id)
           AND (CAST(:user_id AS int) IS NULL OR a.user_id = :user_id)
           AND a.kind <> 'note'
         GROUP BY 1
         ORDER BY 4 DESC, 3 DESC, 2 DESC, 1
    """
    result = await session.execute(
        text(query), {"since": since, "until": until, "campaign_id": campaign_id, "user_id": user_id}
    )
    return [
        StatsRow(key=r.key, outreach=r.outreach, meetings_requested=r.requested, meetings_booked=r.booked)
        for r in result
    ]


def total_of(rows: list[StatsRow]) -> StatsRow:
    return StatsRow(
        key="total",
        outreach=sum(r.outreach for r in rows),
        meetings_requested=sum(r.meetings_requested for r in rows),
        meetings_booked=sum(r.meetings_booked for r in rows),
    )


@handles
async def get_stats(cmd: GetStats, ctx: Context) -> StatsReport:
    """Stats are visible to every user (and to the CLI), so no ownership check applies."""
    if cmd.group_by not in GROUPS:
        raise InvalidInput("Group stats by campaign, user or method.")
    camp = await find_campaign(ctx, cmd.campaign) if cmd.campaign else None
    until = cmd.until
    rows = await stats_rows(
        ctx.session, group_by=cmd.group_by, since=cmd.since, until=until, campaign_id=camp.id if camp else None
    )
    return StatsReport(
        group_by=cmd.group_by,
        period=cmd.period_label or "all time",
        since=cmd.since,
        until=until,
        rows=tuple(rows) if cmd.group_by else (),
        total=total_of(rows),
        campaign=camp.name if camp else None,
    )


_HEATMAP_ROWS = {"campaign": GROUPS["campaign"], "method": GROUPS["method"], "user": GROUPS["user"]}


@handles
async def get_heatmap(cmd: GetHeatmap, ctx: Context) -> Heatmap:
    """The outreach matrix, its weeks and weekdays in the acting user's time zone (the command line's: the
    default one). By user, a consultant sees only their own row; the Golden Ticket team and the command line's
    operator (no acting user) see everyone."""
    if cmd.axis not in HEATMAP_AXES:
        raise InvalidInput(f"A heatmap is by {', '.join(HEATMAP_AXES[:-1])} or {HEATMAP_AXES[-1]}.")
    only_user, zone = None, ctx.settings.default_timezone
    if cmd.actor.user_id:
        user = await load_user(ctx, cmd.actor.user_id)
        zone = user.timezone
        if cmd.axis == "user" and user.role != "golden_ticket":
            only_user = user.id
    return await heatmap_of(ctx.session, cmd.axis, now=ctx.clock.now(), zone=zone, since=cmd.since, only_user=only_user)


async def heatmap_of(
    session: AsyncSession,
    axis: str,
    *,
    now: datetime,
    zone: str,
    since: datetime | None = None,
    only_user: int | None = None,
    campaign_ids: tuple[int, ...] | None = None,
) -> Heatmap:
    """Outreach and meetings per row (campaign, method or user) and column (local week or weekday in `zone`),
    from `since` (at most the last 12 weeks) until `now`; `campaign_ids` keeps those campaigns' rows only."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    this_week = today - timedelta(days=today.weekday())
    first_week = this_week - timedelta(weeks=HEATMAP_WEEKS - 1)
    since_day = since.astimezone(tz).date() if since else None
    if since_day is not None and since_day > first_week:
        first_week = since_day - timedelta(days=since_day.weekday())
    from_since = since is not None and since_day is not None and since_day >= first_week
    start = since if since is not None and from_since else datetime.combine(first_week, time(0), tz)
    weeks = [first_week + timedelta(weeks=n) for n in range((this_week - first_week).days // 7 + 1)]
    columns: tuple[str, ...] = WEEKDAYS
    local = "(a.occurred_at AT TIME ZONE CAST(:zone AS text))"
    if axis == "method":
        column_sql = f"extract(isodow FROM {local})::int - 1"
    else:
        columns = tuple(f"W{w.isocalendar().week:02d}" for w in weeks)
        column_sql = f"(date_trunc('week', {local})::date - CAST(:first_week AS date)) / 7"
    query = f"""
        SELECT {_HEATMAP_ROWS[axis]} AS key, {column_sql} AS col,
               count(*) FILTER (WHERE a.kind IN ({_OUTREACH})) AS outreach,
               count(*) FILTER (WHERE a.outcome IN ('meeting_requested', 'meeting_booked')) AS meetings
          FROM activities a
          LEFT JOIN campaigns c ON c.id = a.campaign_id
          LEFT JOIN users u ON u.id = a.user_id
         WHERE a.occurred_at >= :start AND a.occurred_at <= :now
           AND (CAST(:user_id AS int) IS NULL OR a.user_id = :user_id)
           AND (CAST(:campaign_ids AS int[]) IS NULL OR a.campaign_id = ANY(CAST(:campaign_ids AS int[])))
           AND a.kind <> 'note'
         GROUP BY 1, 2
    """
    result = await session.execute(
        text(query),
        {
            "start": start,
            "now": now,
            "user_id": only_user,
            "first_week": first_week,
            "zone": zone,
            "campaign_ids": list(campaign_ids) if campaign_ids is not None else None,
        },
    )
    cells: dict[str, tuple[list[int], list[int]]] = {}
    for r in result:
        outreach, meetings = cells.setdefault(r.key, ([0] * len(columns), [0] * len(columns)))
        outreach[r.col] += r.outreach
        meetings[r.col] += r.meetings
    rows = sorted(
        (HeatmapRow(key, tuple(o), tuple(m)) for key, (o, m) in cells.items()),
        key=lambda row: (-sum(row.outreach), -sum(row.meetings), row.key),
    )
    period = f"since {since_day.isoformat()}" if from_since and since_day else f"last {len(weeks)} weeks"
    return Heatmap(axis, columns, tuple(rows), period, only_own=only_user is not None)

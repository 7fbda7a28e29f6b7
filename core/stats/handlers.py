"""Campaign and outreach numbers: outreach count, meetings requested and booked, grouped and over a period.

Meetings count where they came from: `activities.channel` holds the outreach method that led to a meeting,
so “by method” shows which channel books meetings. Touches done in Pipedrive count as outreach under their
method, "pipedrive:<type>". Stats are visible to every user.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context, find_campaign
from core.errors import InvalidInput
from core.registry import handles
from core.stats.commands import GetStats, StatsReport, StatsRow
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
    """The numbers per group; `user_id` narrows them to one user's own activity."""
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

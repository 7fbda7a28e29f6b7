"""The feed: today's suggestions, ranked by core.feed.ranking, and a user's home (Slack's App Home): today's
suggestions, the follow-ups due by the end of their day, and their own numbers this month.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from core.context import Context, contact_view, find_campaign, load_user, remember_list
from core.errors import InvalidInput
from core.feed import ranking
from core.feed.commands import DueFollowUp, HomeView, ShowHome, Suggestions, TodaySuggestions
from core.models import Contact, FollowUp
from core.registry import handles
from core.rules.team import team_rules
from core.stats.commands import StatsReport
from core.stats.handlers import stats_rows, total_of
from core.views import FollowUpView


@handles
async def today_suggestions(cmd: TodaySuggestions, ctx: Context) -> Suggestions:
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
    items = await ranking.suggest(
        ctx.session,
        user_id=user.id,
        tz=user.timezone,
        now=ctx.clock.now(),
        limit=limit,
        warm_only=cmd.warm_only,
        stale_days=cmd.stale_days,
        campaign_id=camp.id if camp else None,
        rules=await team_rules(ctx),
    )
    await remember_list(ctx, cmd.actor, [s.contact.id for s in items])
    filters = [
        f"campaign {camp.name}" if camp else "",
        "warm" if cmd.warm_only else "",
        f"stale {cmd.stale_days}+ days" if cmd.stale_days is not None else "",
    ]
    return Suggestions(tuple(items), " · ".join(f for f in filters if f))


HOME_FOLLOW_UPS = 15


@handles
async def show_home(cmd: ShowHome, ctx: Context) -> HomeView:
    user = await load_user(ctx, cmd.actor.user_id)
    suggestions = await today_suggestions(TodaySuggestions(cmd.actor), ctx)
    local_now = ctx.clock.now().astimezone(ZoneInfo(user.timezone))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    end_of_day = midnight + timedelta(days=1)  # wall-clock arithmetic: the next local midnight, DST or not
    rows = (
        await ctx.session.execute(
            select(FollowUp, Contact)
            .join(Contact, Contact.id == FollowUp.contact_id)
            .where(
                FollowUp.user_id == user.id,
                FollowUp.status == "open",
                FollowUp.due_at < end_of_day,
                Contact.owner_id == user.id,
                Contact.archived_at.is_(None),
            )
            .order_by(FollowUp.due_at, FollowUp.id)
            .limit(HOME_FOLLOW_UPS)
        )
    ).all()
    follow_ups = tuple(
        DueFollowUp(FollowUpView(f.id, f.contact_id, f.due_at, f.note, f.snoozed), contact_view(k)) for f, k in rows
    )
    month_start = midnight.replace(day=1)
    own = await stats_rows(ctx.session, group_by=None, since=month_start, until=None, campaign_id=None, user_id=user.id)
    month = StatsReport(group_by=None, period="this month", since=month_start, until=None, rows=(), total=total_of(own))
    return HomeView(suggestions, follow_ups, month)

"""A user's home (Slack's App Home): today's suggestions, the follow-ups due by the end of their day, and their
own numbers this month."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import commands as c
from core import stats
from core.handlers import today_suggestions
from core.context import Context, contact_view, load_user
from core.models import Contact, FollowUp
from core.results import DueFollowUp, HomeView, StatsReport
from core.views import FollowUpView

HOME_FOLLOW_UPS = 15


async def show_home(cmd: c.ShowHome, ctx: Context) -> HomeView:
    user = await load_user(ctx, cmd.actor.user_id)
    suggestions = await today_suggestions(c.TodaySuggestions(cmd.actor), ctx)
    local_now = ctx.clock.now().astimezone(ZoneInfo(user.timezone))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    end_of_day = midnight + timedelta(days=1)  # wall-clock arithmetic: the next local midnight, DST or not
    rows = (await ctx.session.execute(
        select(FollowUp, Contact).join(Contact, Contact.id == FollowUp.contact_id)
        .where(FollowUp.user_id == user.id, FollowUp.status == "open", FollowUp.due_at < end_of_day,
               Contact.owner_id == user.id)
        .order_by(FollowUp.due_at, FollowUp.id).limit(HOME_FOLLOW_UPS))).all()
    follow_ups = tuple(DueFollowUp(FollowUpView(f.id, f.contact_id, f.due_at, f.note, f.snoozed), contact_view(k))
                       for f, k in rows)
    month_start = midnight.replace(day=1)
    own = await stats.stats_rows(ctx.session, group_by=None, since=month_start, until=None, campaign_id=None,
                                 user_id=user.id)
    month = StatsReport(group_by=None, period="this month", since=month_start, until=None, rows=(),
                        total=stats.total_of(own))
    return HomeView(suggestions, follow_ups, month)


HANDLERS = {c.ShowHome: show_home}

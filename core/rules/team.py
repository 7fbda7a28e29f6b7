"""The team's day counts for the rules from outcomes: the settings' defaults, overridden by the team's own."""

from __future__ import annotations

from sqlalchemy import select

from core.context import Context
from core.models import TeamRule
from core.rules.outcomes import RULES, SETTING_OF, OutcomeRules


def defaults(ctx: Context) -> dict[str, int]:
    return {name: getattr(ctx.settings, SETTING_OF[name]) for name in RULES}


async def team_days(ctx: Context) -> dict[str, int]:
    """Each rule's day count: the team's where it set one, else the setting's."""
    days = defaults(ctx)
    for name, value in (await ctx.session.execute(select(TeamRule.name, TeamRule.days))).all():
        if name in days:
            days[name] = value
    return days


async def team_rules(ctx: Context) -> OutcomeRules:
    return OutcomeRules(**await team_days(ctx))

"""The team's day counts for the rules from outcomes: the settings' defaults, overridden by the team's own."""

from __future__ import annotations

from core.context import Context
from core.rules.outcomes import RULES, SETTING_OF, OutcomeRules


async def team_rules(ctx: Context) -> OutcomeRules:
    return OutcomeRules(**{name: getattr(ctx.settings, SETTING_OF[name]) for name in RULES})

"""The team's day counts for the rules from outcomes (core.rules.outcomes): shown to everyone, changed by the
Golden Ticket team (chat `rules set NAME DAYS`) or on the command line (`pipedriven rules set NAME DAYS`)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from core.context import Context, load_user, require_golden_ticket
from core.errors import InvalidInput
from core.models import TeamRule
from core.registry import handles
from core.rules.commands import OutcomeRulesView, OutcomeRuleView, SetOutcomeRule, ShowOutcomeRules
from core.rules.outcomes import MAX_DAYS, RULES
from core.rules.team import defaults, team_days


async def _view(ctx: Context, message: str = "") -> OutcomeRulesView:
    days, default = await team_days(ctx), defaults(ctx)
    return OutcomeRulesView(
        tuple(OutcomeRuleView(name, days[name], default[name], meaning) for name, meaning in RULES.items()), message
    )


@handles
async def show_outcome_rules(cmd: ShowOutcomeRules, ctx: Context) -> OutcomeRulesView:
    if cmd.actor is not None:
        await load_user(ctx, cmd.actor.user_id)
    return await _view(ctx)


@handles
async def set_outcome_rule(cmd: SetOutcomeRule, ctx: Context) -> OutcomeRulesView:
    user = await load_user(ctx, cmd.actor.user_id) if cmd.actor is not None else None
    if user is not None:
        require_golden_ticket(user, "change the team's rules")
    name = cmd.name.strip().lower()
    if name not in RULES:
        raise InvalidInput(f"There is no rule {name[:40]!r}: choose {', '.join(RULES)}.")
    if cmd.days is None:
        await ctx.session.execute(delete(TeamRule).where(TeamRule.name == name))
        return await _view(ctx, f"{name} is back to its default, {defaults(ctx)[name]} days, for the whole team.")
    if not 1 <= cmd.days <= MAX_DAYS:
        raise InvalidInput(f"A rule counts between 1 and {MAX_DAYS} days.")
    values = {"days": cmd.days, "updated_by": user.id if user else None, "updated_at": ctx.clock.now()}
    await ctx.session.execute(
        insert(TeamRule).values(name=name, **values).on_conflict_do_update(index_elements=["name"], set_=values)
    )
    return await _view(ctx, f"{name} is now {cmd.days} days for the whole team.")

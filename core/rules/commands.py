"""The team's day counts for the rules from outcomes: see them, and (the Golden Ticket team) change them."""

from __future__ import annotations

from dataclasses import dataclass

from core.command import Actor, Command, Query


@dataclass(frozen=True)
class ShowOutcomeRules(Query):
    """Each rule's day count for the team, whether the team set it, and what it means (actor None: the CLI)."""

    actor: Actor | None = None


@dataclass(frozen=True)
class SetOutcomeRule(Command):
    """Set one rule's day count for the whole team; `days` None puts back the setting's default. The Golden
    Ticket team's, or the CLI's (actor None)."""

    actor: Actor | None
    name: str
    days: int | None


@dataclass(frozen=True)
class OutcomeRuleView:
    name: str
    days: int
    default: int
    meaning: str

    @property
    def team_set(self) -> bool:
        return self.days != self.default


@dataclass(frozen=True)
class OutcomeRulesView:
    rules: tuple[OutcomeRuleView, ...]
    message: str = ""

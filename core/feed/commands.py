"""The feed: today's suggestions (who to contact, and why) and a user's home."""

from __future__ import annotations

from dataclasses import dataclass

from core.cadences.commands import DueStep
from core.command import Actor, CampaignRef, Query
from core.stats.commands import StatsReport
from core.views import ContactView, FollowUpView


@dataclass(frozen=True)
class TodaySuggestions(Query):
    actor: Actor
    campaign: CampaignRef | None = None
    warm_only: bool = False
    stale_days: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class ShowHome(Query):
    actor: Actor


@dataclass(frozen=True)
class Suggestion:
    rank: int
    contact: ContactView
    score: float
    reasons: tuple[str, ...]
    follow_up_due: bool = False
    step: DueStep | None = None  # a due cadence step, with its message rendered ready to copy
    # The method most likely to lead to a meeting (core.learning), when the learned rates can say why; else None.
    method: str | None = None

    @property
    def reason(self) -> str:
        return " · ".join(self.reasons)


@dataclass(frozen=True)
class Suggestions:
    items: tuple[Suggestion, ...]
    filters: str = ""


@dataclass(frozen=True)
class DueFollowUp:
    follow_up: FollowUpView
    contact: ContactView


@dataclass(frozen=True)
class HomeView:
    """One user's overview: today's suggestions, the follow-ups due by the end of their day, their month."""

    suggestions: Suggestions
    follow_ups: tuple[DueFollowUp, ...]
    month: StatsReport

"""Strategy analytics: how each cadence converts, step by step, where its plans stall and how often its steps
are done on time; and the Golden Ticket team's weekly summary. Team-wide numbers, like the other stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, Query
from core.stats.commands import Heatmap


@dataclass(frozen=True)
class GetStrategyAnalytics(Query):
    """Every cadence's conversion, stall step and adherence; or, `strategy` named, that cadence step by step."""

    actor: Actor
    strategy: str | None = None


@dataclass(frozen=True)
class StepFigures:
    """One step of a cadence over every plan that followed it.

    reached: plans that got to this step; done: plans in which it was done; on_time: done on or before the day
    it fell due (its first attempt: a call with no answer is an attempt); meetings: plans whose first meeting
    (requested or booked) came while this was the last step done; dropped: plans that ended at this step without
    a meeting (stopped, not interested, restarted); waiting: open plans at this step now; overdue: those of them
    whose step fell due before today."""

    position: int
    kind: str
    reached: int = 0
    done: int = 0
    on_time: int = 0
    meetings: int = 0
    dropped: int = 0
    waiting: int = 0
    overdue: int = 0

    @property
    def conversion(self) -> float | None:
        """Meetings per plan that did this step, or None when none did."""
        return self.meetings / self.done if self.done else None

    @property
    def adherence(self) -> float | None:
        """Steps done on time per step done, or None when none was done."""
        return self.on_time / self.done if self.done else None

    @property
    def stalled(self) -> int:
        """Plans stuck here: ended at this step without a meeting, or waiting past its due day."""
        return self.dropped + self.overdue


@dataclass(frozen=True)
class StrategyFigures:
    strategy: str
    plans: int
    meetings: int  # plans with a meeting requested or booked while they ran
    meetings_before_first_step: int
    steps: tuple[StepFigures, ...]

    @property
    def conversion(self) -> float | None:
        return self.meetings / self.plans if self.plans else None

    @property
    def steps_done(self) -> int:
        return sum(s.done for s in self.steps)

    @property
    def steps_on_time(self) -> int:
        return sum(s.on_time for s in self.steps)

    @property
    def adherence(self) -> float | None:
        return self.steps_on_time / self.steps_done if self.steps_done else None

    @property
    def stall(self) -> StepFigures | None:
        """The step where most plans stall (the earliest of equals), or None when none stalls."""
        worst = max(self.steps, key=lambda s: (s.stalled, -s.position), default=None)
        return worst if worst is not None and worst.stalled else None


@dataclass(frozen=True)
class StrategyAnalytics:
    strategies: tuple[StrategyFigures, ...]
    one: bool = False  # one cadence asked for, shown step by step

    @property
    def empty(self) -> bool:
        return not any(s.plans for s in self.strategies)


@dataclass(frozen=True)
class GetWeeklySummary(Query):
    """The Golden Ticket team's summary of last week (Monday to Sunday in the actor's zone, or of the week
    before `now`'s): each live campaign's numbers and heatmap, and who is behind on their cadence steps."""

    actor: Actor


@dataclass(frozen=True)
class CampaignWeek:
    campaign: str
    outreach: int
    meetings_requested: int
    meetings_booked: int


@dataclass(frozen=True)
class BehindOnSteps:
    """A user with cadence steps past their due day now, and how they kept to their steps last week."""

    user: str
    overdue: int
    oldest_days: int  # days the longest-waiting step is late
    done_last_week: int
    on_time_last_week: int


@dataclass(frozen=True)
class WeeklySummary:
    week: str  # “W48, 23–29 Nov 2026”
    since: datetime
    until: datetime
    campaigns: tuple[CampaignWeek, ...]
    heatmap: Heatmap  # live campaigns × week
    behind: tuple[BehindOnSteps, ...]

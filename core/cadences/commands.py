"""Cadences: strategies (shared, ordered steps with message templates) and each contact's plan following one.

Strategies are shared by the team: anyone may list, show and start one; its creator (or the Golden Ticket team)
may change it; built-in ones can't be changed. A strategy is named by (part of) its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, CampaignRef, Command, ContactRef, Query
from core.views import ContactView


@dataclass(frozen=True)
class ListStrategies(Query):
    actor: Actor


@dataclass(frozen=True)
class ShowStrategy(Query):
    actor: Actor
    strategy: str


@dataclass(frozen=True)
class CreateStrategy(Command):
    actor: Actor
    name: str
    description: str | None = None


@dataclass(frozen=True)
class AddStrategyStep(Command):
    """Append a step: `delay_days` working days after the previous step (or the start), do `kind`."""

    actor: Actor
    strategy: str
    delay_days: int
    kind: str
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class EditStrategyStep(Command):
    """Replace step `position` (its delay, kind and templates); plans already running use the new text."""

    actor: Actor
    strategy: str
    position: int
    delay_days: int
    kind: str
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RemoveStrategyStep(Command):
    actor: Actor
    strategy: str
    position: int


@dataclass(frozen=True)
class StartCadence(Command):
    """Start a strategy for one contact, or for every contact of the actor's in a campaign.

    `name_and_contact` is a strategy's name run on into a contact's, as typed (“warm intro bob stone”) when
    the words alone don't show where one ends: the core splits it after the longest name of a strategy.
    """

    actor: Actor
    strategy: str = ""
    contact: ContactRef | None = None
    campaign: CampaignRef | None = None
    name_and_contact: str | None = None


@dataclass(frozen=True)
class PauseCadence(Command):
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ResumeCadence(Command):
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class RestartCadence(Command):
    """Start the contact's latest plan again from step 1 (the old plan ends, as history)."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class StopCadence(Command):
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ListDueSteps(Query):
    """The actor's cadence steps that have fallen due, rendered; the scheduler's nudges use it too."""

    actor: Actor


@dataclass(frozen=True)
class GetCadenceStats(Query):
    """By strategy, team-wide like GetStats: contacts started, replies, meetings, and where plans stall."""

    actor: Actor


@dataclass(frozen=True)
class StepView:
    position: int
    delay_days: int
    kind: str
    subject_template: str | None = None
    message_template: str | None = None


@dataclass(frozen=True)
class StrategyView:
    id: int
    name: str
    steps: tuple[StepView, ...]
    description: str | None = None
    built_in: bool = False
    created_by: str | None = None
    open_plans: int = 0


@dataclass(frozen=True)
class StrategyList:
    strategies: tuple[StrategyView, ...]


@dataclass(frozen=True)
class StrategyResult:
    """A strategy created or changed, with the sentence to tell the user."""

    message: str
    strategy: StrategyView


@dataclass(frozen=True)
class PlanView:
    id: int
    contact_id: int
    strategy: str
    status: str
    current_step: int
    step_count: int
    step_kind: str | None = None
    step_due_at: datetime | None = None
    end_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("not_started", "in_progress", "paused")


@dataclass(frozen=True)
class DueStep:
    """A cadence step that has fallen due for one contact, its subject and message rendered for that contact."""

    plan_id: int
    contact: ContactView
    strategy: str
    position: int
    step_count: int
    kind: str
    due_at: datetime
    reason: str  # “step 2/3 of Warm intro: email due”
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class DueSteps:
    items: tuple[DueStep, ...]


@dataclass(frozen=True)
class StepStall:
    """Open plans waiting at one step: how many, and how many of those fell due more than a day ago."""

    position: int
    kind: str
    waiting: int
    overdue: int


@dataclass(frozen=True)
class StrategyStatsRow:
    strategy: str
    contacts_started: int
    replies: int
    meetings_requested: int
    meetings_booked: int
    active: int
    paused: int
    completed: int
    stalls: tuple[StepStall, ...] = ()


@dataclass(frozen=True)
class CadenceStats:
    rows: tuple[StrategyStatsRow, ...]

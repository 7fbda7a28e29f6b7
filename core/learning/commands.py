"""Learning which outreach method leads to a meeting, for whom: the refit, the table, one contact's advice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, Bookkeeping, ContactRef, Query
from core.views import ContactView

RATE_DIMENSIONS = ("sector", "country", "campaign", "warmness", "step")


@dataclass(frozen=True)
class RefitMethodRates(Bookkeeping):
    """Fit the method rates on the team's history and store them with the date and the counts they saw.
    `nightly`: the scheduler's hourly beat, which fits once a night (from NIGHTLY_HOUR_UTC) and else does nothing."""

    nightly: bool = False


@dataclass(frozen=True)
class MethodFitView:
    """One fit: when, why, and the data it saw (outreach whose window had closed, from everyone's history)."""

    fit_id: int
    fitted_at: datetime
    kind: str
    window_days: int
    data_from: datetime | None
    data_until: datetime
    outreach: int
    meetings: int
    contacts: int
    users: int
    team_rate: float
    rates: int


@dataclass(frozen=True)
class RefitResult:
    fit: MethodFitView | None  # None: the nightly beat found tonight's fit already done


@dataclass(frozen=True)
class ShowMethodRates(Query):
    """The current fit's table: each method's chance of a meeting overall, or within one dimension's segments."""

    actor: Actor | None = None
    dimension: str | None = None


@dataclass(frozen=True)
class MethodRateRow:
    segment: str  # "all", "sector Fintech", "step 2"
    method: str
    outreach: int
    meetings: int
    rate: float
    low: float  # the 90% interval
    high: float


@dataclass(frozen=True)
class MethodRatesTable:
    fit: MethodFitView | None  # None: nothing learned yet
    dimension: str | None
    rows: tuple[MethodRateRow, ...]
    hidden: int = 0  # rows left out to stay within a message


@dataclass(frozen=True)
class AdviseMethod(Query):
    """The method most likely to lead to a meeting with one of the user's contacts next, and why."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class MethodAdvice:
    contact: ContactView
    method: str
    chance: float | None  # None without a fit: the usual first method
    reason: str | None

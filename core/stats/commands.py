"""Numbers: outreach and meetings over a period, grouped by campaign, user or method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, CampaignRef, Query


@dataclass(frozen=True)
class GetStats(Query):
    """Outreach and meetings over [since, until), grouped by campaign, user or method (or not at all)."""

    actor: Actor
    campaign: CampaignRef | None = None
    group_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    period_label: str | None = None


@dataclass(frozen=True)
class StatsRow:
    key: str
    outreach: int
    meetings_requested: int
    meetings_booked: int

    @property
    def conversion(self) -> float | None:
        """Meetings booked per outreach, or None when there was no outreach."""
        return self.meetings_booked / self.outreach if self.outreach else None

    @property
    def request_rate(self) -> float | None:
        """Meetings requested per outreach, or None when there was no outreach."""
        return self.meetings_requested / self.outreach if self.outreach else None

    @property
    def booking_rate(self) -> float | None:
        """Meetings booked per meeting requested, or None when none was requested."""
        return self.meetings_booked / self.meetings_requested if self.meetings_requested else None


@dataclass(frozen=True)
class StatsReport:
    group_by: str | None
    period: str
    since: datetime | None
    until: datetime | None
    rows: tuple[StatsRow, ...]
    total: StatsRow
    campaign: str | None = None

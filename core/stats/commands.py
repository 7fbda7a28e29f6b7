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


HEATMAP_AXES = ("campaign", "method", "user")
HEATMAP_WEEKS = 12  # columns a phone shows readably
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class GetHeatmap(Query):
    """Outreach per campaign × ISO week, method × weekday or user × ISO week, from `since` (default: the last
    12 weeks) until now; at most the last 12 weeks are columns."""

    actor: Actor
    axis: str
    since: datetime | None = None


@dataclass(frozen=True)
class HeatmapRow:
    key: str
    outreach: tuple[int, ...]
    meetings: tuple[int, ...]

    def meeting_rate(self, column: int) -> float | None:
        """Meetings (requested or booked) per outreach in one column, or None when there was no outreach."""
        return self.meetings[column] / self.outreach[column] if self.outreach[column] else None


@dataclass(frozen=True)
class Heatmap:
    """Rows × columns of outreach counts, with the meetings that came of them (requested or booked)."""

    axis: str
    columns: tuple[str, ...]
    rows: tuple[HeatmapRow, ...]
    period: str
    only_own: bool = False

    @property
    def empty(self) -> bool:
        return not any(any(r.outreach) or any(r.meetings) for r in self.rows)

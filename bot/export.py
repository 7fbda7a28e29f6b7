"""Stats as a CSV file for spreadsheets (written by core.csvwriter, so every text cell is safe to open)."""

from __future__ import annotations

from core.csvwriter import write_csv
from core.stats.commands import StatsReport

HEADER = ("group", "key", "outreach", "meetings_requested", "meetings_booked", "conversion", "period", "campaign")


def stats_csv(report: StatsReport) -> str:
    """The report's rows and its total, one line each, with the period and campaign it covers."""
    rows = []
    for row in (*report.rows, report.total):
        conversion = "" if row.conversion is None else f"{row.conversion:.4f}"
        group = "total" if row is report.total else (report.group_by or "")
        rows.append(
            (
                group,
                row.key,
                row.outreach,
                row.meetings_requested,
                row.meetings_booked,
                conversion,
                report.period,
                report.campaign or "",
            )
        )
    return write_csv(HEADER, rows)

"""Stats as a CSV file for spreadsheets, with every text cell made safe to open.

A cell that starts with = + - @ (or a tab or carriage return) is a formula to Excel, LibreOffice and
Google Sheets: a campaign or user called `=HYPERLINK(...)` would run when the file is opened. Such cells get
a leading single quote, which spreadsheets show as text (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io

from core.results import StatsReport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("group", "key", "outreach", "meetings_requested", "meetings_booked", "conversion", "period",
          "campaign")


def safe_cell(value):
    """The value as a spreadsheet will take it as data, never as a formula. Numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stats_csv(report: StatsReport) -> str:
    """The report's rows and its total, one line each, with the period and campaign it covers."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in (*report.rows, report.total):
        conversion = "" if row.conversion is None else f"{row.conversion:.4f}"
        group = "total" if row is report.total else (report.group_by or "")
        writer.writerow([safe_cell(cell) for cell in (group, row.key, row.outreach, row.meetings_requested,
                                                      row.meetings_booked, conversion, report.period,
                                                      report.campaign or "")])
    return out.getvalue()

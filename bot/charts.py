"""Stats as a picture: a bar chart of the funnel (outreach → meetings requested → booked) per group, as PNG
(or SVG, for the command line's `--chart FILE.svg`).

A pure function, bytes out, for the chat adapters to post beside the text table. It draws on a bare
matplotlib Figure with the Agg canvas: no pyplot, no global state, no display, safe in any thread.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.stats.commands import StatsReport

FUNNEL = (
    ("outreach", "Outreach", "#4C78A8"),
    ("meetings_requested", "Meetings requested", "#F2A541"),
    ("meetings_booked", "Meetings booked", "#54A24B"),
)
CHART_FORMATS = ("png", "svg")
MAX_GROUPS = 12  # beyond this the bars are unreadable; the table still has every row
GROUP_NAMES = {"method": "method", "campaign": "campaign", "user": "user"}


def funnel_chart(report: StatsReport, *, dpi: int = 100, format: str = "png") -> bytes:
    """The report's funnel as PNG or SVG, one cluster of three bars per row (or one for the total)."""
    if format not in CHART_FORMATS:
        raise ValueError(f"a chart is drawn as {' or '.join(CHART_FORMATS)}, not {format}")
    rows = list(report.rows[:MAX_GROUPS]) or [report.total]
    labels = [_short(row.key) for row in rows]
    width = max(6.4, 1.1 * len(rows) + 2.5)
    figure = Figure(figsize=(width, 4.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bar = 0.8 / len(FUNNEL)
    for n, (field, label, colour) in enumerate(FUNNEL):
        xs = [i + (n - 1) * bar for i in range(len(rows))]
        values = [getattr(row, field) for row in rows]
        bars = axes.bar(xs, values, bar, label=label, color=colour)
        axes.bar_label(bars, fontsize=8, padding=2)
    axes.set_xticks(
        range(len(rows)), labels, rotation=20 if len(rows) > 5 else 0, ha="right" if len(rows) > 5 else "center"
    )
    axes.set_ylabel("count")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(y=0.15)
    axes.legend(frameon=False, fontsize=8, ncols=3, loc="upper right")
    axes.set_title(_title(report, len(report.rows)), fontsize=11, loc="left")
    out = io.BytesIO()
    figure.savefig(out, format=format)
    return out.getvalue()


def _title(report: StatsReport, groups: int) -> str:
    scope = f"campaign {report.campaign}, " if report.campaign else ""
    by = f" by {GROUP_NAMES.get(report.group_by, report.group_by)}" if report.group_by else ""
    more = f" (top {MAX_GROUPS} of {groups})" if groups > MAX_GROUPS else ""
    return f"Funnel{by} — {scope}{report.period}{more}"


def _short(label: str, limit: int = 18) -> str:
    label = label.replace("_", " ")
    return label if len(label) <= limit else label[: limit - 1] + "…"

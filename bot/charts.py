"""Stats as a picture: a bar chart of the funnel (outreach → meetings requested → booked) per group, as PNG
(or SVG, for the command line's `--chart FILE.svg`). The requested bars carry requested / outreach, the booked
bars booked / requested; a report with nothing in it draws a picture that says so.

A pure function, bytes out, for the chat adapters to post beside the text table. It draws on a bare
matplotlib Figure with the Agg canvas: no pyplot, no global state, no display, safe in any thread.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.stats.commands import StatsReport, StatsRow

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
    title = _title(report, len(report.rows))
    if _is_empty(report.total):
        return no_data_chart(title, dpi=dpi, format=format)
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
        axes.bar_label(bars, [bar_labels(row)[n] for row in rows], fontsize=8, padding=2)
    axes.set_xticks(
        range(len(rows)), labels, rotation=20 if len(rows) > 5 else 0, ha="right" if len(rows) > 5 else "center"
    )
    axes.set_ylabel("count")
    axes.set_xlabel("% on the bars: requested / outreach, booked / requested", fontsize=8, color="#555555")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(y=0.15)
    axes.legend(frameon=False, fontsize=8, ncols=3, loc="upper right")
    axes.set_title(title, fontsize=11, loc="left")
    return _save(figure, format)


def bar_labels(row: StatsRow) -> tuple[str, str, str]:
    """What is written on the row's three bars: the outreach count, then each count with its step's rate."""
    return (
        str(row.outreach),
        _with_rate(row.meetings_requested, row.request_rate),
        _with_rate(row.meetings_booked, row.booking_rate),
    )


def no_data_chart(title: str, *, dpi: int = 100, format: str = "png") -> bytes:
    """A picture with the title and "No data yet" in place of an empty plot."""
    figure = Figure(figsize=(6.4, 3.2), dpi=dpi)
    FigureCanvasAgg(figure)
    figure.text(0.02, 0.92, title, fontsize=11, va="top")
    figure.text(0.5, 0.45, "No data yet", fontsize=22, ha="center", va="center", color="#555555")
    return _save(figure, format)


def _with_rate(count: int, rate: float | None) -> str:
    return f"{count} ({rate:.0%})" if rate is not None else str(count)


def _is_empty(row: StatsRow) -> bool:
    return not (row.outreach or row.meetings_requested or row.meetings_booked)


def _save(figure: Figure, format: str) -> bytes:
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

"""Stats as a picture: a bar chart of the funnel (outreach → meetings requested → booked) per group, as PNG
(or SVG, for the command line's `--chart FILE.svg`). The requested bars carry requested / outreach, the booked
bars booked / requested; a report with nothing in it draws a picture that says so.

A pure function, bytes out, for the chat adapters to post beside the text table. It draws on a bare
matplotlib Figure with the Agg canvas: no pyplot, no global state, no display, safe in any thread.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.analytics.commands import StrategyAnalytics
from core.stats.commands import Heatmap, StatsReport, StatsRow
from core.validation import METHOD_LABELS

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


HEATMAP_PALETTE = "cividis"  # colour-blind safe, and light to dark reads in grey too
HEATMAP_ROWS = 12
HEATMAP_TITLES = {
    "campaign": "Outreach by campaign × week",
    "method": "Outreach by method × weekday",
    "user": "Outreach by user × week",
}


def heatmap_title(heatmap: Heatmap) -> str:
    return f"{HEATMAP_TITLES[heatmap.axis]} — {heatmap.period}"


def heatmap_cells(heatmap: Heatmap) -> list[list[tuple[str, float | None]]]:
    """What each drawn cell says and how it is shaded: the outreach count, with the meetings after a slash when
    there were any (nothing when neither), and meetings per outreach (None: no outreach, drawn grey)."""
    return [
        [(_cell_label(row.outreach[c], row.meetings[c]), row.meeting_rate(c)) for c in range(len(heatmap.columns))]
        for row in heatmap.rows[:HEATMAP_ROWS]
    ]


def heatmap_chart(heatmap: Heatmap, *, dpi: int = 100, format: str = "png") -> bytes:
    """The heatmap as PNG or SVG: one row per campaign, method or user (the busiest 12), one column per week
    or weekday, each cell with its count written in it, large enough to read on a phone."""
    if format not in CHART_FORMATS:
        raise ValueError(f"a chart is drawn as {' or '.join(CHART_FORMATS)}, not {format}")
    title = heatmap_title(heatmap)
    if heatmap.empty:
        return no_data_chart(title, dpi=dpi, format=format)
    cells = heatmap_cells(heatmap)
    rows, columns = len(cells), len(heatmap.columns)
    figure = Figure(figsize=(2.6 + 0.7 * columns, 1.9 + 0.6 * rows), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    shades = [[rate if rate is not None else float("nan") for _, rate in line] for line in cells]
    cmap = matplotlib.colormaps[HEATMAP_PALETTE].with_extremes(bad="#EEEEEE")
    vmax = min(1.0, max(0.5, _max_rate(cells)))  # rates above 100% (meetings without outreach) saturate
    image = axes.imshow(shades, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    for r, line in enumerate(cells):
        for c, (label, rate) in enumerate(line):
            colour = "white" if rate is not None and rate < 0.6 * image.norm.vmax else "black"
            if rate is None:
                axes.text(c, r, label, ha="center", va="center", fontsize=14, color=colour)
                continue
            axes.text(c, r - 0.08, label, ha="center", va="bottom", fontsize=14, color=colour)
            axes.text(c, r + 0.08, _rate_label(rate), ha="center", va="top", fontsize=10, color=colour)
    axes.set_xticks(range(columns), heatmap.columns, fontsize=12)
    axes.set_yticks(range(rows), [_short(row.key, 16) for row in heatmap.rows[:HEATMAP_ROWS]], fontsize=12)
    axes.tick_params(length=0)
    axes.spines[:].set_visible(False)
    colourbar = figure.colorbar(image, ax=axes, format=lambda x, _: f"{x:.0%}", shrink=0.9)
    colourbar.set_label("meetings per outreach", fontsize=11)
    more = f" (top {HEATMAP_ROWS} of {len(heatmap.rows)})" if len(heatmap.rows) > HEATMAP_ROWS else ""
    axes.set_title(title + more, fontsize=13, loc="left")
    axes.set_xlabel(
        "cell: outreach / meetings (requested or booked), and meetings per outreach", fontsize=10, color="#555555"
    )
    return _save(figure, format)


CADENCE_ROWS = 10  # cadences drawn; the table has them all


def _palette(n: int) -> list:
    """`n` colours spread along the colour-blind-safe palette, from dark blue to yellow."""
    cmap = matplotlib.colormaps[HEATMAP_PALETTE]
    return [cmap(0.05 + 0.9 * i / max(1, n - 1)) for i in range(n)]


def cadence_chart_title(report: StrategyAnalytics) -> str:
    if report.one and report.strategies:
        return f"“{_short(report.strategies[0].strategy, 28)}” step by step, all time"
    return "Cadences, all time"


def cadence_bars(report: StrategyAnalytics) -> tuple[list[str], list[tuple[str, list[float], list[str]]]]:
    """What the cadence chart draws: its row labels (steps of one cadence, or cadences), and each series with its
    bar lengths and the words written at the end of each bar."""
    if report.one:
        figures = report.strategies[0]
        steps = figures.steps
        rows = [f"{s.position}. {METHOD_LABELS[s.kind]}" for s in steps]
        series = [
            ("Reached", [s.reached for s in steps], [str(s.reached) for s in steps]),
            ("Done", [s.done for s in steps], [str(s.done) for s in steps]),
            ("Done on time", [s.on_time for s in steps], [_with_rate(s.on_time, s.adherence) for s in steps]),
            ("Meeting after it", [s.meetings for s in steps], [_with_rate(s.meetings, s.conversion) for s in steps]),
            ("Stalled here", [s.stalled for s in steps], [str(s.stalled) for s in steps]),
        ]
        return rows, series
    shown = [f for f in report.strategies if f.plans][:CADENCE_ROWS]
    rows = [_short(f.strategy, 18) for f in shown]
    series = [
        (
            "Meetings per plan",
            [100 * (f.conversion or 0) for f in shown],
            [f"{f.conversion or 0:.0%} ({f.meetings}/{f.plans})" for f in shown],
        ),
        (
            "Steps done on time",
            [100 * (f.adherence or 0) for f in shown],
            [
                f"{f.adherence:.0%} ({f.steps_on_time}/{f.steps_done})" if f.steps_done else "no step done"
                for f in shown
            ],
        ),
    ]
    return rows, series


def cadence_chart(report: StrategyAnalytics, *, dpi: int = 100, format: str = "png") -> bytes:
    """Strategy analytics as PNG or SVG: for every cadence, meetings per plan and steps done on time (in %); for
    one cadence, each step's plans reached, done, done on time, followed by a meeting, and stalled there.
    Horizontal bars with their values written at the end, in fonts a phone shows readably."""
    if format not in CHART_FORMATS:
        raise ValueError(f"a chart is drawn as {' or '.join(CHART_FORMATS)}, not {format}")
    title = cadence_chart_title(report)
    if report.empty:
        return no_data_chart(title, dpi=dpi, format=format)
    rows, series = cadence_bars(report)
    height = 0.18 * len(series) * len(rows) + 0.35 * len(rows) + 1.6
    figure = Figure(figsize=(7.2, max(3.2, height)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bar = 0.8 / len(series)
    for n, ((label, values, words), colour) in enumerate(zip(series, _palette(len(series)), strict=True)):
        ys = [i + (n - (len(series) - 1) / 2) * bar for i in range(len(rows))]
        bars = axes.barh(ys, values, bar, label=label, color=colour)
        axes.bar_label(bars, words, fontsize=11, padding=3)
    axes.set_yticks(range(len(rows)), rows, fontsize=12)
    axes.invert_yaxis()
    axes.xaxis.set_visible(False)
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    axes.margins(x=0.3)
    figure.legend(frameon=False, fontsize=11, ncols=min(3, len(series)), loc="outside lower center")
    axes.set_title(title, fontsize=13, loc="left")
    return _save(figure, format)


def heatmap_rates(heatmap: Heatmap) -> list[list[str]]:
    """The meeting rate written under each drawn cell's count (nothing where there was no outreach)."""
    return [[_rate_label(rate) if rate is not None else "" for _, rate in line] for line in heatmap_cells(heatmap)]


def _rate_label(rate: float) -> str:
    return f"{rate:.0%}"


def _cell_label(outreach: int, meetings: int) -> str:
    if meetings:
        return f"{outreach}/{meetings}"
    return str(outreach) if outreach else ""


def _max_rate(cells: list[list[tuple[str, float | None]]]) -> float:
    return max((rate for line in cells for _, rate in line if rate is not None), default=0.0)


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

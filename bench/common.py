"""Shared benchmark plumbing: a database to measure in, percentiles, figures and their medians, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core import db

# The embedded server shared by every benchmark of one `python -m bench` run (see `shared_server`).
_shared_admin_url: str | None = None


@contextmanager
def shared_server() -> Iterator[None]:
    """Start one embedded server for all the benchmarks run inside (unless BENCH_DATABASE_URL is set): a throwaway
    one, or with BENCH_DATA_DIR one whose data is kept there between runs (the account-scale data set with it)."""
    global _shared_admin_url
    if os.environ.get("BENCH_DATABASE_URL") or _shared_admin_url:
        yield
        return
    kept = os.environ.get("BENCH_DATA_DIR")
    server = (
        db.EmbeddedServer(Path(kept), cleanup_mode="stop")
        if kept
        else db.EmbeddedServer(Path(tempfile.mkdtemp(prefix="pipedriven-bench-")), cleanup_mode="delete")
    )
    _shared_admin_url = server.url("postgres")
    try:
        yield
    finally:
        _shared_admin_url = None
        server.stop()


def admin_url() -> str:
    """The benchmarks' server (BENCH_DATABASE_URL's, or the shared embedded one; call inside `shared_server`)."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        return db.sqlalchemy_url(configured)
    if not _shared_admin_url:
        raise RuntimeError("no benchmark server: run inside bench.common.shared_server()")
    return _shared_admin_url


def server_version() -> str:
    """The PostgreSQL the benchmarks run on (BENCH_DATABASE_URL's, or the shared embedded one while it runs)."""
    admin = os.environ.get("BENCH_DATABASE_URL") or _shared_admin_url
    if not admin:
        return ""
    import psycopg

    with psycopg.connect(db.libpq_url(db.with_database(admin, "postgres"))) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]


@contextmanager
def bench_database(name: str):
    """A fresh migrated database: on BENCH_DATABASE_URL's server if set, else on a throwaway embedded server."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    server = None
    if configured:
        admin = db.sqlalchemy_url(configured)
    elif _shared_admin_url:
        admin = _shared_admin_url
    else:
        server = db.EmbeddedServer(Path(tempfile.mkdtemp(prefix="pipedriven-bench-")), cleanup_mode="delete")
        admin = server.url("postgres")
    url = db.with_database(admin, name)
    db.drop_database(url)
    db.ensure_database(url)
    db.upgrade(url)
    try:
        yield url
    finally:
        db.drop_database(url)
        if server:
            server.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values_ms: list[float]) -> str:
    return (
        f"p50 {percentile(values_ms, 50):.2f} ms · p95 {percentile(values_ms, 95):.2f} ms · "
        f"max {max(values_ms):.2f} ms · mean {statistics.fmean(values_ms):.2f} ms (n={len(values_ms)})"
    )


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


# --- figures for the table of `python -m bench` ----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured value of one benchmark: the median of `runs` runs (each run's value is in `spread`)."""

    label: str
    value: float
    unit: str  # "ms", "s", "/s", "MB", "" (a count), "×", "%"
    runs: int = 1
    target: str = ""  # e.g. "≤ 10 ms"
    met: bool | None = None  # against the target, when there is one
    spread: tuple[float, ...] = ()
    note: str = ""

    def shown(self) -> str:
        digits = 0 if self.unit in ("", "MB") or abs(self.value) >= 100 else (1 if abs(self.value) >= 10 else 2)
        number = f"{self.value:,.{digits}f}"
        return f"{number} {self.unit}".strip() if self.unit not in ("×", "/s", "%") else f"{number}{self.unit}"


def medians(runs: list[dict[str, float]]) -> dict[str, tuple[float, tuple[float, ...]]]:
    """Per key: the median of the runs' values, and the values themselves."""
    keys = runs[0].keys()
    return {key: (statistics.median(run[key] for run in runs), tuple(run[key] for run in runs)) for key in keys}


def repeated(runs: int, measure_once: Callable[[int], dict[str, float]]) -> dict[str, tuple[float, tuple]]:
    """Run `measure_once(run_index)` `runs` times; each key's median and values."""
    return medians([measure_once(n) for n in range(runs)])


def figure(
    stats: dict[str, tuple[float, tuple]],
    key: str,
    label: str,
    unit: str,
    *,
    target: str = "",
    limit: float | None = None,
    at_least: float | None = None,
    note: str = "",
    worst: bool = False,
) -> Figure:
    """A Figure for `stats[key]`; `limit` (≤) or `at_least` (≥) decide whether the target was met, by the median
    or, with `worst`, by every run (a count that must never pass a limit, like 429s)."""
    value, spread = stats[key]
    met = None
    if limit is not None:
        met = (max(spread) if worst else value) <= limit
    elif at_least is not None:
        met = value >= at_least
    return Figure(label, value, unit, runs=len(spread), target=target, met=met, spread=spread, note=note)

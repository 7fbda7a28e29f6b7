"""Shared benchmark plumbing: a database to measure in, and percentiles."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
from contextlib import contextmanager
from pathlib import Path

from core import db


@contextmanager
def bench_database(name: str):
    """A fresh migrated database: on BENCH_DATABASE_URL's server if set, else on a throwaway embedded server."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    server = None
    if configured:
        admin = db.sqlalchemy_url(configured)
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
    return (f"p50 {percentile(values_ms, 50):.2f} ms · p95 {percentile(values_ms, 95):.2f} ms · "
            f"max {max(values_ms):.2f} ms · mean {statistics.fmean(values_ms):.2f} ms (n={len(values_ms)})")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"

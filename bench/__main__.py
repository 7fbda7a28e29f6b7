"""`python -m bench`: every benchmark in one run, the figures as a table in BENCHMARKS.md.

    python -m bench [--quick] [--only NAME ...] [--runs N] [--out BENCHMARKS.md]

Each figure is the median of several runs (3 by default; the API-call counts, the same every run, once); pairs
marked “beside it” are measured in the same run, so their ratio holds on a noisy machine. The machine and its
load (other work on it skews every figure) are noted above the table. A full run (no --quick, no --only)
writes BENCHMARKS.md; otherwise the table is printed and written only where --out says.

Benchmarks (NAME): today, taps, digest, scaleout, replicas, beat, import, pipedrive, webhooks, capture, find,
find-everyone, today-account, stats, beat-account (those four on the account-scale data set of
bench/account_scale.py, built once per run, or kept between runs with BENCH_DATA_DIR), learning. The
individual modules run alone too: `python -m bench.bench_today`, `bench.bench_process`, `bench.bench_digest`,
`bench.bench_scaleout`, `bench.bench_taps`, `bench.bench_import`, `bench.bench_pipedrive`, `bench.bench_webhooks`,
`bench.bench_capture`, `bench.bench_find`, `bench.bench_stats`, `bench.bench_beat`, `bench.account_scale`,
`bench.bench_learning`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    bench_beat,
    bench_capture,
    bench_digest,
    bench_find,
    bench_import,
    bench_learning,
    bench_pipedrive,
    bench_process,
    bench_scaleout,
    bench_stats,
    bench_taps,
    bench_today,
    bench_webhooks,
)
from bench.common import Figure, server_version, shared_server


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    figures: Callable[[bool, int], list[Figure]]
    runs: int  # the default number of runs whose median is shown


BENCHMARKS = [
    Benchmark("today", "Today's list", bench_today.figures, 3),
    Benchmark("taps", "A tap under load (a real `pipedriven run` process)", bench_process.tap_figures, 3),
    Benchmark(
        "digest", "The morning digest and memory (a real `pipedriven run` process)", bench_process.digest_figures, 3
    ),
    Benchmark(
        "scaleout",
        "Two `pipedriven run` processes, one PostgreSQL server: shared rate limits",
        bench_scaleout.figures,
        1,
    ),
    Benchmark("replicas", "Taps at saturation: one replica against two", bench_taps.figures, 3),
    Benchmark("beat", "The scheduler's beat", bench_digest.figures, 3),
    Benchmark("import", "CSV import", bench_import.figures, 3),
    Benchmark("pipedrive", "Pipedrive sync (local fake Pipedrive)", bench_pipedrive.figures, 3),
    Benchmark(
        "webhooks",
        "Pipedrive webhooks in a burst (a fake Pipedrive process → a real `pipedriven run` process)",
        bench_webhooks.figures,
        3,
    ),
    Benchmark("capture", "Free text read as an interaction (labelled corpus)", bench_capture.figures, 3),
    Benchmark("find", "`find TEXT` in a bank of 10,000 contacts", bench_find.figures, 3),
    # On the account-scale data set (bench/account_scale.py), built once and shared by the four.
    Benchmark(
        "find-everyone",
        "`find everyone TEXT` (Golden Ticket team) over 1,000,000 contacts",
        bench_find.account_figures,
        3,
    ),
    Benchmark("today-account", "Today's list for users of 10,000 contacts", bench_today.account_figures, 3),
    Benchmark("stats", "Stats over 10,000,000 activities, any period", bench_stats.figures, 3),
    Benchmark("beat-account", "The scheduler's beat among 10,000 users, nothing due", bench_beat.figures, 3),
    Benchmark(
        "learning", "The learned ranking: a year of outreach replayed (synthetic history)", bench_learning.figures, 3
    ),
]


def describe_machine(postgres: str) -> list[str]:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    memory = ""
    if Path("/proc/meminfo").exists():
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 2**20:.0f} GiB of memory"
    return [
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}",
        f"Python {platform.python_version()}" + (f", {postgres}" if postgres else ""),
    ]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def table(results: list[tuple[Benchmark, list[Figure], float]]) -> list[str]:
    lines = ["| benchmark | figure | value | target | runs | notes |", "| --- | --- | --- | --- | --- | --- |"]
    for bench, rows, took in results:
        for n, row in enumerate(rows):
            target = f"{row.target} {'✅' if row.met else '❌'}" if row.target and row.met is not None else row.target
            spread = (
                " (" + ", ".join(Figure(row.label, v, row.unit).shown() for v in row.spread) + ")"
                if len(row.spread) > 1
                else ""
            )
            name = f"**{bench.title}** ({took / 60:.1f} min)" if n == 0 else ""
            label = row.label.replace("|", "\\|")
            if label.startswith("  "):
                label = "↳ " + label.strip()
            lines.append(
                f"| {name} | {label} | {row.shown()} | {target} | {row.runs}{spread} | {row.note.replace('|', '/')} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in BENCHMARKS],
        metavar="NAME",
        help="run only this benchmark (may be repeated): " + ", ".join(b.name for b in BENCHMARKS),
    )
    parser.add_argument("--runs", type=int, help="runs per figure (default: each benchmark's own)")
    parser.add_argument("--out", type=Path, help="where to write the table (default: BENCHMARKS.md on a full run)")
    parser.add_argument("--remark", default="", help="a line about the run for the file (e.g. what else ran)")
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    out = args.out or (
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md" if not args.quick and not args.only else None
    )
    started = datetime.now(UTC)
    load_before = load()
    results = []
    with shared_server():
        postgres = server_version()
        for bench in chosen:
            runs = args.runs or bench.runs
            print(f"== {bench.name}: {bench.title} ({runs} run{'s' if runs > 1 else ''})", flush=True)
            t0 = time.perf_counter()
            rows = bench.figures(args.quick, runs)
            took = time.perf_counter() - t0
            results.append((bench, rows, took))
            for row in rows:
                print(f"   {row.label:<96} {row.shown():>12}  {row.target}", flush=True)
    lines = [
        "# Benchmarks",
        "",
        f"`python -m bench{' --quick' if args.quick else ''}` on {started:%Y-%m-%d %H:%M} UTC, "
        f"{(datetime.now(UTC) - started).total_seconds() / 60:.0f} minutes.",
        "",
        *(f"- {line}" for line in describe_machine(postgres)),
        f"- load average (1 / 5 / 15 min) before: {load_before}; after: {load()}. The machine is shared: other "
        f"work running at the same time slows every figure down, the “beside it” pairs alike.",
        *([f"- {args.remark}"] if args.remark else []),
        "",
        "Each value is the median of the runs listed (each run's own value in brackets); ✅ / ❌ against the "
        "target. “Beside it” figures were measured in the same runs as the figure above them.",
        "",
        *table(results),
        "",
    ]
    text = "\n".join(lines)
    if out:
        out.write_text(text)
        print(f"written to {out}")
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: import a CSV of contacts into one bank, beside PostgreSQL's own COPY of the same file.

    python -m bench.bench_import [--rows 100000]

Writes a realistic file (names in mixed case, emails, UK phones to normalise, companies, titles, notes with
commas and some newlines, warmness; 1% duplicate emails and 1% bad emails), then in one run:
  1. `ImportContacts` of 100,000 rows into an empty bank (the full path: decode, map, validate, normalise,
     dedupe, write);
  2. the same file again (every row matches, nothing changes);
  3. `COPY scratch FROM STDIN (FORMAT csv)` of the same file into an unindexed scratch table: the floor;
  4. 1,000,000 rows imported by a process of its own (`--child`), whose peak resident memory (VmHWM) is the
     memory figure, and COPY of that file beside it.
Targets: 100,000 rows within 20× of COPY, 1,000,000 rows within 60 s in at most 300 MB. `figures()` is what
`python -m bench` calls: the medians of several runs, each on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

import psycopg

from bench.common import Figure, bench_database, figure, machine, repeated
from core import db
from core.clock import FixedClock
from core.command import Actor
from core.importing.commands import ImportContacts
from core.service import Core
from core.users.commands import CreateUser

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FIRST = ("ana", "BO", "Cara", "dev", "Eve", "FINN", "gia", "Hugo", "ivy", "Jan")
LAST = ("silva", "CHEN", "McDonald", "van der Berg", "o'brien", "Łukasiewicz", "Dupré", "Smith-Jones", "ng", "DIAZ")


def write_file(path: str, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Full Name", "Email", "Company", "Phone", "Job Title", "Notes", "Warmness"])
        for n in range(rows):
            email = f"person{n}@company{n % 997}.example.com"
            if n % 100 == 1:
                email = f"person{n - 1}@company{(n - 1) % 997}.example.com"  # a duplicate inside the file
            elif n % 100 == 2:
                email = f"person{n}@@broken"
            note = f"met at event {n % 40}, follow up" + ("\nsecond line" if n % 10 == 0 else "")
            writer.writerow(
                [
                    f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}",
                    email,
                    f"Company {n % 997} Ltd",
                    f"020 7946 {n % 10000:04d}",
                    "Head of Partnerships",
                    note,
                    str(rng.randint(0, 3)),
                ]
            )


async def run_import(url: str, path: str) -> tuple[float, object, float, object]:
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine, clock=FixedClock(NOW))
    user = await core.execute(CreateUser(name="Bench", email="bench@example.com"))
    t0, cpu0 = time.perf_counter(), time.process_time()
    first = await core.execute(ImportContacts(Actor(user.id, "bench"), path))
    t1, cpu1 = time.perf_counter(), time.process_time()
    second = await core.execute(ImportContacts(Actor(user.id, "bench"), path))
    t2 = time.perf_counter()
    await engine.dispose()
    return t1 - t0, first, t2 - t1, second, cpu1 - cpu0


def run_copy(url: str, path: str) -> tuple[float, int]:
    with psycopg.connect(db.libpq_url(url)) as conn:
        conn.execute("""CREATE TABLE scratch (name text, email text, company text, phone text, title text,
                                              notes text, warmness text)""")
        t0 = time.perf_counter()
        with conn.cursor() as cursor, open(path, "rb") as source:
            with cursor.copy("COPY scratch FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - t0
        return elapsed, conn.execute("SELECT count(*) FROM scratch").fetchone()[0]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_alone(url: str, path: str) -> tuple[float, float, int]:
    """Import the file in a process of its own: (seconds, peak MB of that process, rows imported)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_import", "--child", path, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    )
    took, peak, imported = json.loads(done.stdout.strip().splitlines()[-1])
    return took, peak, imported


def _child(url: str, path: str) -> None:
    async def once() -> tuple[float, int]:
        engine = db.create_engine(url, pool_size=2)
        core = Core(engine, clock=FixedClock(NOW))
        user = await core.execute(CreateUser(name="Alone", email="alone@example.com"))
        t0 = time.perf_counter()
        report = await core.execute(ImportContacts(Actor(user.id, "bench"), path))
        took = time.perf_counter() - t0
        await engine.dispose()
        return took, report.imported

    took, imported = asyncio.run(once())
    print(json.dumps([took, peak_rss_mb(), imported]))


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    rows = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "contacts.csv")
        write_file(path, rows)

        def once(run: int) -> dict[str, float]:
            with bench_database(f"pipedriven_bench_import_{run}") as url:
                took, report, again, second, cpu = asyncio.run(run_import(url, path))
                copy_took, copied = run_copy(url, path)
            assert copied == rows and report.imported + len(report.duplicates) + len(report.rejected) == rows
            return {"import": took, "rate": rows / took, "again": again, "copy": copy_took, "ratio": took / copy_took}

        stats = repeated(runs, once)

        big_rows = 100_000 if quick else 1_000_000
        big = os.path.join(folder, "big.csv")
        write_file(big, big_rows)

        def once_big(run: int) -> dict[str, float]:
            with bench_database(f"pipedriven_bench_import_big_{run}") as url:
                took, peak, imported = import_alone(url, big)
                copy_took, copied = run_copy(url, big)
            assert copied == big_rows and imported == big_rows * 98 // 100
            return {"big": took, "big_rate": big_rows / took, "peak": peak, "big_copy": copy_took}

        big_stats = repeated(runs, once_big)
    return [
        figure(stats, "import", f"CSV import of {rows:,} rows (ImportContacts)", "s", target="≤ 20 s", limit=20),
        figure(stats, "rate", "  rows per second", "/s"),
        figure(stats, "again", "  the same file again (nothing changes)", "s"),
        figure(stats, "copy", "  beside it: PostgreSQL COPY of the same file", "s"),
        figure(stats, "ratio", "  import / COPY", "×", target="≤ 20×", limit=20),
        figure(
            big_stats, "big", f"CSV import of {big_rows:,} rows, a process of its own", "s", target="≤ 60 s", limit=60
        ),
        figure(big_stats, "big_rate", "  rows per second", "/s"),
        figure(big_stats, "peak", "  peak memory of that process (VmHWM)", "MB", target="≤ 300 MB", limit=300),
        figure(big_stats, "big_copy", "  beside it: PostgreSQL COPY of the same file", "s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.url, args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "contacts.csv")
        write_file(path, args.rows)
        size = os.path.getsize(path)
        with bench_database("pipedriven_bench_import") as url:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            load = os.getloadavg()[0]
            took, report, again, second, cpu = asyncio.run(run_import(url, path))
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            copy_took, copied = run_copy(url, path)
    print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB ({machine()}, load average {load:.1f} at the start)")
    print(
        f"ImportContacts:        {took:6.2f} s  {args.rows / took:9,.0f} rows/s  "
        f"({report.imported:,} new, {len(report.duplicates):,} duplicates, {len(report.rejected):,} rejected)"
        f"  target ≤ 20 s: {'met' if took <= 20 else 'MISSED'}"
    )
    print(f"  of which this process's CPU (reading, validating, normalising): {cpu:.2f} s")
    print(
        f"same file again:       {again:6.2f} s  {args.rows / again:9,.0f} rows/s  "
        f"({second.imported} new, {second.updated} updated, {second.unchanged:,} unchanged)"
    )
    print(
        f"PostgreSQL COPY alone: {copy_took:6.2f} s  {copied / copy_took:9,.0f} rows/s  "
        f"(raw text into an unindexed scratch table, no checks)"
    )
    print(
        f"import / COPY: {took / copy_took:.1f}× the time; peak memory grew by "
        f"{(rss_after - rss_before) / 1024:.0f} MB during the imports"
    )


if __name__ == "__main__":
    main()

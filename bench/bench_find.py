"""Benchmark: `find TEXT` for a user with 10,000 contacts, in an account of 100,000.

    python -m bench.bench_find [--users 10] [--contacts 10000] [--samples 200]

Reports the p95 of the FindContacts command (one transaction: the search and remembering the list) for an exact
name, a word prefix and an in-word fragment, and beside each, in the same run, the ILIKE '%text%' scan of name,
email and organisation it replaced. Names, organisations and emails carry accents; the queries are typed without
them. Target: ≤ 20 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import unicodedata
from datetime import UTC, datetime

import psycopg
from sqlalchemy import or_, select

from bench.common import Figure, bench_database, figure, machine, percentile, repeated, summary
from core import db
from core.clock import FixedClock
from core.command import Actor
from core.contacts.commands import FindContacts, FindInEveryBank
from core.context import escape_like
from core.models import Contact
from core.service import Core

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

FIRST = [
    "José", "María", "Zoë", "Renée", "Søren", "Björn", "Ana", "Anaïs", "Chloé", "François", "Łukasz", "Mikuláš",
    "Inés", "Noémie", "Jürgen", "Åsa", "Ömer", "Thomas", "Sarah", "David", "Oliver", "Amélie", "Joël", "Héloïse",
    "Dóra", "Zoltán", "Ayşe", "Rafael", "Sofía", "Ludovic", "Émile", "Giulia", "Niccolò", "Mateus", "João",
]  # fmt: skip
LAST = [
    "Álvarez", "García", "Müller", "Dvořák", "Šimek", "Nuñez", "Lefèvre", "Brontë", "Çelik", "Kowalczyk",
    "Håkansson", "O'Brien", "Smith", "Johnson", "Dubois", "Moreau", "Rossi", "Esposito", "Schäfer", "Fernández",
    "Gonçalves", "Ibáñez", "Jørgensen", "Kovács", "Lindqvist", "Novák", "Pérez", "Quintão", "Rodríguez", "Weiß",
]  # fmt: skip
ORGS = [
    "Société Générale", "Crédit Agricole", "Nestlé", "L'Oréal", "Volkswagen", "Škoda", "Ørsted", "Citroën",
    "Deutsche Bank", "Banco Santander", "Telefónica", "Zürich Insurance", "Acme Capital", "Golden Ticket",
    "Initech", "Globex", "Umbrella", "Hooli", "Pied Piper", "Stark Industries", "Wayne Enterprises", "Nordea",
]  # fmt: skip


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).replace("ø", "o")


def populate(url: str, users: int, contacts: int, seed: int = 3) -> list[tuple[str, str, str]]:
    """`users` users of `contacts` contacts each; the first user's (name, email, organisation) rows."""
    rng = random.Random(seed)
    first: list[tuple[str, str, str]] = []
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        conn.execute(
            """INSERT INTO users (name, email, timezone)
               SELECT 'User ' || g, 'user' || g || '@example.com', 'Europe/London' FROM generate_series(1, %s) g""",
            (users,),
        )
        owners = [row[0] for row in conn.execute("SELECT id FROM users ORDER BY id")]
        with (
            conn.cursor() as cur,
            cur.copy("COPY contacts (owner_id, name, email, organisation, warmness) FROM STDIN") as copy,
        ):
            for owner in owners:
                for n in range(contacts):
                    given, family, org = rng.choice(FIRST), rng.choice(LAST), rng.choice(ORGS)
                    domain = _ascii(org).lower().replace(" ", "").replace("'", "")
                    local = f"{_ascii(given)}.{_ascii(family)}".lower().replace("'", "")
                    email = f"{local}{n}@{domain}.com"
                    row = (f"{given} {family}", email, org)
                    if owner == owners[0]:
                        first.append(row)
                    copy.write_row((owner, *row, rng.randint(0, 5)))
        conn.execute("VACUUM ANALYZE contacts")
    return first


async def ilike_scan(core: Core, user_id: int, text: str) -> list:
    """The find it replaced: ILIKE '%text%' on name, email and organisation."""
    pattern = f"%{escape_like(text)}%"
    async with core.reading() as s:
        query = (
            select(Contact)
            .where(
                Contact.owner_id == user_id,
                Contact.archived_at.is_(None),
                or_(
                    Contact.name.ilike(pattern, escape="\\"),
                    Contact.email.ilike(pattern, escape="\\"),
                    Contact.organisation.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(Contact.warmness.desc(), Contact.name, Contact.id)
            .limit(10)
        )
        return list((await s.execute(query)).scalars().all())


def queries(rows: list[tuple[str, str, str]], samples: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    picks = [rng.choice(rows) for _ in range(samples)]
    return {
        "exact": [_ascii(name).upper() for name, _, _ in picks],
        "prefix": [_ascii(name.split()[1])[:4].lower() for name, _, _ in picks],
        "fragment": [_ascii(name.split()[1])[1:4].lower() for name, _, _ in picks],
    }


async def measure(url: str, rows, samples: int, seed: int) -> dict[str, list[float]]:
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine, clock=FixedClock(NOW))
    results: dict[str, list[float]] = {}
    for kind, texts in queries(rows, samples, seed).items():
        for text in texts[:10]:  # warm up the pool and the caches
            await core.execute(FindContacts(Actor(1, "bench"), text))
        new, old = results.setdefault(kind, []), results.setdefault(f"{kind}_ilike", [])
        for text in texts:
            t0 = time.perf_counter()
            await core.execute(FindContacts(Actor(1, "bench"), text))
            t1 = time.perf_counter()
            await ilike_scan(core, 1, text)
            t2 = time.perf_counter()
            new.append((t1 - t0) * 1000)
            old.append((t2 - t1) * 1000)
    await engine.dispose()
    return results


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    users, contacts, samples = (3, 10_000, 100) if quick else (10, 10_000, 200)
    with bench_database("pipedriven_bench_find") as url:
        rows = populate(url, users, contacts)

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure(url, rows, samples, seed=5 + run))
            return {f"{name}_p95": percentile(values, 95) for name, values in results.items()}

        stats = repeated(runs, once)
    size = f"{contacts:,} contacts of one user, {users * contacts:,} in the account"
    out = []
    for kind, example in (("exact", "JOSE ALVAREZ"), ("prefix", "alva"), ("fragment", "lva")):
        label = f"find, {kind} (like `{example}`), p95" + (f" ({size})" if kind == "exact" else "")
        out.append(figure(stats, f"{kind}_p95", label, "ms", target="≤ 20 ms", limit=20))
        out.append(figure(stats, f"{kind}_ilike_p95", "  beside it: the ILIKE scan it replaced, p95", "ms"))
    return out


async def ilike_scan_everyone(core: Core, text: str) -> list:
    """The team search the ILIKE way: '%text%' on name, email and organisation of every bank."""
    pattern = f"%{escape_like(text)}%"
    async with core.reading() as s:
        query = (
            select(Contact)
            .where(
                Contact.archived_at.is_(None),
                or_(
                    Contact.name.ilike(pattern, escape="\\"),
                    Contact.email.ilike(pattern, escape="\\"),
                    Contact.organisation.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(Contact.warmness.desc(), Contact.name, Contact.id)
            .limit(10)
        )
        return list((await s.execute(query)).scalars().all())


def account_rows(url: str, count: int = 2000) -> list[tuple[str, str, str]]:
    """(name, email, organisation) of contacts spread over the whole account."""
    with psycopg.connect(db.libpq_url(url)) as conn:
        return conn.execute(
            "SELECT name, coalesce(email, ''), coalesce(organisation, '') FROM contacts WHERE id %% 487 = 0 LIMIT %s",
            (count,),
        ).fetchall()


async def measure_everyone(url: str, rows, samples: int, ilike_samples: int, seed: int) -> dict[str, list[float]]:
    """`find everyone TEXT` as a Golden Ticket user (user 1 of the account-scale data set)."""
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine, clock=FixedClock(NOW))
    results: dict[str, list[float]] = {}
    for kind, texts in queries(rows, samples, seed).items():
        for text in texts[:5]:
            await core.execute(FindInEveryBank(Actor(1, "bench"), text))
        new, old = results.setdefault(kind, []), results.setdefault(f"{kind}_ilike", [])
        for n, text in enumerate(texts):
            t0 = time.perf_counter()
            await core.execute(FindInEveryBank(Actor(1, "bench"), text))
            new.append((time.perf_counter() - t0) * 1000)
            if n < ilike_samples:
                t0 = time.perf_counter()
                await ilike_scan_everyone(core, text)
                old.append((time.perf_counter() - t0) * 1000)
    await engine.dispose()
    return results


def account_figures(quick: bool, runs: int = 3) -> list[Figure]:
    """`find everyone TEXT` for the Golden Ticket team over the account-scale data set (bench/account_scale.py)."""
    from bench.account_scale import FULL, QUICK, account_database

    size = QUICK if quick else FULL
    samples, ilike_samples = (40, 2) if quick else (100, 3)
    with account_database(quick) as url:
        rows = account_rows(url)

        def once(run: int) -> dict[str, float]:
            results = asyncio.run(measure_everyone(url, rows, samples, ilike_samples, seed=5 + run))
            return {
                f"{name}_{'p50' if name.endswith('ilike') else 'p95'}": percentile(
                    values, 50 if name.endswith("ilike") else 95
                )
                for name, values in results.items()
            }

        stats = repeated(runs, once)
    out = []
    for kind, example in (("exact", "JOSE ALVAREZ"), ("prefix", "alva"), ("fragment", "lva")):
        label = f"find everyone, {kind} (like `{example}`), p95" + (
            f" ({size.contacts:,} contacts in the account)" if kind == "exact" else ""
        )
        out.append(figure(stats, f"{kind}_p95", label, "ms", target="≤ 100 ms", limit=100))
        out.append(
            figure(
                stats,
                f"{kind}_ilike_p50",
                f"  beside it: the ILIKE scan of every bank, p50 ({ilike_samples} samples)",
                "ms",
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--everyone", action="store_true", help="`find everyone` over the account-scale data set")
    parser.add_argument("--quick", action="store_true", help="with --everyone: its smaller size")
    args = parser.parse_args()
    if args.everyone:
        from bench.account_scale import account_database
        from bench.common import shared_server

        with shared_server(), account_database(args.quick) as url:
            results = asyncio.run(measure_everyone(url, account_rows(url), args.samples, 5, seed=5))
        for kind in ("exact", "prefix", "fragment"):
            print(f"find everyone, {kind:8}:     {summary(results[kind])}")
            print(f"  beside it, ILIKE scan:      {summary(results[kind + '_ilike'])}")
        return
    with bench_database("pipedriven_bench_find") as url:
        t0 = time.perf_counter()
        rows = populate(url, args.users, args.contacts)
        print(
            f"populated {args.users} users × {args.contacts} contacts in {time.perf_counter() - t0:.1f} s ({machine()})"
        )
        results = asyncio.run(measure(url, rows, args.samples, seed=5))
    for kind in ("exact", "prefix", "fragment"):
        print(f"find, {kind:8}:              {summary(results[kind])}")
        print(f"  beside it, ILIKE scan:      {summary(results[kind + '_ilike'])}")


if __name__ == "__main__":
    main()

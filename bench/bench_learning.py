"""Benchmark: does the learned ranking book more meetings? A replay of a year of outreach over synthetic history.

    python -m bench.bench_learning [--users 4] [--contacts 750] [--days 261] [--seeds 3]

A team of consultants, each with a bank of contacts (sector, country, warmness, past business, last touch), works
its list every weekday: the top 10 suggestions of the real ranking (core.feed.ranking), each reached by the row's
first button. Hidden from the product, each contact has a chance that each method leads to a meeting: log-odds
that add up a base, a per-sector × method effect (each sector has a method it answers), a per-country × method
effect and a warmness band effect; a contact reached again within 14 days is half as likely to answer per recent
touch (fatigue, hidden too). A meeting takes the contact out of the list (it becomes a deal).

Three rankings replay the same year with the same dice (a contact's answer on a day is one draw, whichever
ranking reached them):
- fixed: today's weights and buttons (no fit ever);
- learned: the same, plus the rates refitted every night from the replay's own history (cold start: none);
- oracle: the same ranking given the hidden rates as its stored rates (what the learned fit could at best know).
Each run is one seed (one world, one set of dice). Meetings are counted as they fell, and as expected: the sum
of the hidden chances of the outreach each ranking chose, which the dice don't blur; the targets are on the
expected figures. The share of the gap fixed → oracle that the learned ranking closes: target ≥ 50%; expected
meetings in the first 30 days, learned against fixed: never fewer, in any run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import psycopg
from sqlalchemy import insert, text

from bench.common import Figure, bench_database, machine
from core import db
from core.feed import ranking
from core.learning import model, rates
from core.models import MethodFit, MethodRate

SECTORS = ("Fintech", "Retail", "Energy", "Health", "Logistics", "Media")
COUNTRIES = ("GB", "FR", "DE", "US", "NL")
METHODS = model.SUGGESTIBLE
BASE_RATE = 0.04
BANDS = {"cold": 0.0, "lukewarm": 0.3, "warm": 0.6}
FATIGUE_DAYS = 14
START = date(2025, 12, 1)
LIST = 10
COLD_START_DAYS = 30


def band(warmness: int) -> str:
    return "warm" if warmness >= 4 else "lukewarm" if warmness >= 2 else "cold"


def hidden_effects(seed: int) -> tuple[dict, dict]:
    """The world's secret: per sector and per country, each method's log-odds above the base."""
    rng = np.random.default_rng(seed)
    sector = {}
    for n, s in enumerate(SECTORS):
        favoured = METHODS[(n + seed) % len(METHODS)]
        sector[s] = {m: (1.1 if m == favoured else float(rng.normal(-0.4, 0.25))) for m in METHODS}
    country = {c: {m: float(rng.normal(0, 0.3)) for m in METHODS} for c in COUNTRIES}
    return sector, country


def populate(url: str, users: int, contacts: int, seed: int) -> dict[int, tuple[str, str, int]]:
    """The team and their banks; returns contact id → (sector, country, warmness)."""
    rng = np.random.default_rng(1000 + seed)
    people: dict[int, tuple[str, str, int]] = {}
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        for u in range(users):
            user_id = conn.execute(
                "INSERT INTO users (name, email) VALUES (%s, %s) RETURNING id", (f"User {u}", f"u{u}@example.com")
            ).fetchone()[0]
            rows = []
            for n in range(contacts):
                sector = SECTORS[int(rng.integers(len(SECTORS)))]
                country = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
                warmness = int(rng.choice(6, p=[0.35, 0.2, 0.15, 0.12, 0.1, 0.08]))
                touched = (
                    None
                    if rng.random() < 0.3
                    else datetime(2025, 11, 28, 9, tzinfo=UTC) - timedelta(days=float(rng.uniform(1, 200)))
                )
                business = round(float(rng.uniform(0, 100_000)), 2) if rng.random() < 0.1 else 0
                rows.append((user_id, f"Contact {u}-{n}", sector, country, warmness, touched, business))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO contacts (owner_id, name, sector, country, warmness, last_contacted_at, past_business)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, sector, country, warmness",
                    rows,
                    returning=True,
                )
                while True:
                    row = cur.fetchone()
                    if row:
                        people[row[0]] = (row[1], row[2], row[3])
                    if not cur.nextset():
                        break
    return people


def true_chance(person: tuple[str, str, int], method: str, effects: tuple[dict, dict]) -> float:
    sector, country, warmness = person
    x = model.logit(BASE_RATE) + effects[0][sector][method] + effects[1][country][method] + BANDS[band(warmness)]
    return model.sigmoid(x)


def dice(seed: int, contact_id: int, day: int) -> float:
    """The contact's answer that day, the same whichever ranking reached them."""
    return float(np.random.default_rng([seed, contact_id, day]).random())


async def store_oracle(session, effects: tuple[dict, dict], now: datetime) -> None:
    """The hidden rates as a stored fit: the team's rate is the base, each segment's lift its hidden effect."""
    fit = MethodFit(
        fitted_at=now,
        kind="on_demand",
        window_days=rates.MEETING_WINDOW_DAYS,
        prior_strength=0,
        data_from=None,
        data_until=now,
        outreach=0,
        meetings=0,
        contacts=0,
        users=0,
        team_rate=BASE_RATE,
    )
    session.add(fit)
    await session.flush()
    cells = [("all", "", "", {m: 0.0 for m in METHODS})]
    cells += [("sector", s.lower(), s, effects[0][s]) for s in SECTORS]
    cells += [("country", c, c, effects[1][c]) for c in COUNTRIES]
    cells += [("warmness", b, b, {m: lift for m in METHODS}) for b, lift in BANDS.items()]
    await session.execute(
        insert(MethodRate),
        [
            {
                "fit_id": fit.id,
                "dimension": d,
                "value": v,
                "label": label,
                "method": m,
                "outreach": 0,
                "meetings": 0,
                "contacts": 0,
                "rate": model.sigmoid(model.logit(BASE_RATE) + lift[m]),
                "low": 0.0,
                "high": 1.0,
                "lift": lift[m],
            }
            for d, v, label, lift in cells
            for m in METHODS
        ],
    )
    await session.commit()


async def replay(url: str, kind: str, people: dict, effects: tuple[dict, dict], days: int, seed: int) -> dict:
    """One ranking's year: meetings in all, and in the first COLD_START_DAYS days."""
    engine = db.create_engine(url, pool_size=2)
    sessions = db.session_factory(engine)
    users = sorted({uid for (uid,) in await _users(engine)})
    touches: dict[int, list[int]] = {}
    meetings = early = 0
    expected = expected_early = 0.0
    fit_seconds: list[float] = []
    try:
        if kind == "oracle":
            async with sessions() as session:
                await store_oracle(session, effects, datetime.combine(START, datetime.min.time(), UTC))
        day_index = 0
        day = START
        while day_index < days:
            if day.weekday() >= 5:
                day += timedelta(days=1)
                continue
            now = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            if kind == "learned":
                async with sessions() as session, session.begin():
                    t0 = time.perf_counter()
                    await rates.refit(session, now=now - timedelta(hours=7), kind="nightly")
                    fit_seconds.append(time.perf_counter() - t0)
            activities, archived = [], []
            async with sessions() as session, session.begin():
                for user_id in users:
                    rows = await ranking.suggest(session, user_id=user_id, tz="UTC", now=now, limit=LIST)
                    for n, s in enumerate(rows):
                        cid = s.contact.id
                        method = s.method or METHODS[0]
                        recent = [d for d in touches.get(cid, []) if day_index - d < FATIGUE_DAYS * 5 / 7]
                        chance = true_chance(people[cid], method, effects) * 0.5 ** len(recent)
                        touches.setdefault(cid, []).append(day_index)
                        expected += chance
                        expected_early += chance if day_index < COLD_START_DAYS * 5 / 7 else 0
                        at = now + timedelta(minutes=n)
                        activities.append((cid, user_id, method, method, "none", at))
                        if dice(seed, cid, day_index) < chance:
                            meetings += 1
                            early += day_index < COLD_START_DAYS * 5 / 7
                            activities.append(
                                (cid, user_id, "meeting", method, "meeting_requested", at + timedelta(hours=3))
                            )
                            archived.append((at + timedelta(hours=3), cid))
                        else:
                            archived.append((None, cid))
                await _record(session, activities, archived)
            day_index += 1
            day += timedelta(days=1)
    finally:
        await engine.dispose()
    return {
        "meetings": meetings,
        "early": early,
        "expected": expected,
        "expected_early": expected_early,
        "fit_ms": statistics.median(fit_seconds) * 1000 if fit_seconds else 0,
    }


async def _users(engine):
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT id FROM users"))).all()


async def _record(session, activities: list, touched: list) -> None:
    await session.execute(
        text(
            "INSERT INTO activities (contact_id, user_id, kind, channel, outcome, occurred_at, created_at) "
            "VALUES (:c, :u, :k, :ch, :o, :at, :at)"
        ),
        [{"c": c, "u": u, "k": k, "ch": ch, "o": o, "at": at} for c, u, k, ch, o, at in activities],
    )
    last = {c: at for c, u, k, ch, o, at in activities if k != "meeting"}
    await session.execute(
        text("UPDATE contacts SET last_contacted_at = :at WHERE id = :c"),
        [{"c": c, "at": at} for c, at in last.items()],
    )
    won = [{"c": c, "at": at} for at, c in touched if at is not None]
    if won:
        await session.execute(text("UPDATE contacts SET archived_at = :at WHERE id = :c"), won)


def run_seed(users: int, contacts: int, days: int, seed: int) -> dict[str, dict]:
    effects = hidden_effects(seed)
    out = {}
    for kind in ("fixed", "learned", "oracle"):
        with bench_database(f"pipedriven_bench_learning_{kind}") as url:
            people = populate(url, users, contacts, seed)
            out[kind] = asyncio.run(replay(url, kind, people, effects, days, seed))
    return out


def measure(users: int, contacts: int, days: int, seeds: int) -> list[dict[str, dict]]:
    return [run_seed(users, contacts, days, seed) for seed in range(seeds)]


def gap_closed(r: dict[str, dict]) -> float:
    gap = r["oracle"]["expected"] - r["fixed"]["expected"]
    return 100 * (r["learned"]["expected"] - r["fixed"]["expected"]) / gap if gap else math.nan


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    users, contacts, days = (2, 400, 130) if quick else (4, 750, 261)
    results = measure(users, contacts, days, runs)
    size = f"{users} users × {contacts:,} contacts, {days} working days, the top {LIST} a day"

    def fig(kind: str, key: str, label: str, unit: str = "", **target) -> Figure:
        values = tuple(float(r[kind][key]) for r in results)
        return Figure(label, statistics.median(values), unit, runs=len(results), spread=values, **target)

    closed = tuple(gap_closed(r) for r in results)
    return [
        fig("learned", "expected", f"meetings expected in the year, learned ranking ({size})"),
        fig("fixed", "expected", "  beside it: fixed weights"),
        fig("oracle", "expected", "  beside it: oracle (the hidden rates as its stored rates)"),
        Figure(
            "share of the gap fixed → oracle the learned ranking closes",
            statistics.median(closed),
            "%",
            runs=len(results),
            target="≥ 50%",
            met=statistics.median(closed) >= 50,
            spread=closed,
        ),
        fig("learned", "meetings", "meetings as they fell, learned"),
        fig("fixed", "meetings", "  beside it: fixed weights"),
        fig("oracle", "meetings", "  beside it: oracle"),
        fig(
            "learned",
            "expected_early",
            f"meetings expected in the first {COLD_START_DAYS} days (cold start), learned",
            target="≥ fixed, every run",
            met=all(r["learned"]["expected_early"] >= r["fixed"]["expected_early"] for r in results),
        ),
        fig("fixed", "expected_early", "  beside it: fixed weights"),
        fig("learned", "fit_ms", "the nightly refit on the replay's history, median over the year", "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--contacts", type=int, default=750)
    parser.add_argument("--days", type=int, default=261)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = measure(args.users, args.contacts, args.days, args.seeds)
    print(f"{args.users} users × {args.contacts} contacts, {args.days} working days ({machine()})")
    for seed, r in enumerate(results):
        print(
            f"seed {seed}: meetings fixed {r['fixed']['meetings']}, learned {r['learned']['meetings']}, "
            f"oracle {r['oracle']['meetings']}; expected fixed {r['fixed']['expected']:.1f}, learned "
            f"{r['learned']['expected']:.1f}, oracle {r['oracle']['expected']:.1f} (gap closed {gap_closed(r):.0f}%); "
            f"first {COLD_START_DAYS} days expected fixed {r['fixed']['expected_early']:.1f}, learned "
            f"{r['learned']['expected_early']:.1f}; refit {r['learned']['fit_ms']:.0f} ms"
        )
    print(f"took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

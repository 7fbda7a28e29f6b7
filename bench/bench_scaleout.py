"""Two `pipedriven run` processes on one PostgreSQL server from the system's packages (fakes.postgres), the
morning digests of many users due at once on Slack and Telegram (fakes.limited, each in a process of its own,
counting as the platforms do): each digest delivered once, no 429, the busiest second and minute within the
platforms' limits, because the processes count their sends against one budget in the database.

    python -m bench.bench_scaleout [--users N]
"""

from __future__ import annotations

import argparse
import asyncio

from bench.common import Figure
from fakes.limited import SLACK_WORKSPACE_PER_MINUTE, TELEGRAM_PER_CHAT_PER_SECOND, TELEGRAM_PER_SECOND
from fakes.postgres import SystemPostgres
from fakes.scaleout import measure

USERS = 1000
PROCESSES = 2


def run(users: int, processes: int = PROCESSES, settings: dict[str, str] | None = None) -> dict:
    """On a fresh PostgreSQL server of the system's (the oldest installed)."""
    from core import db

    with SystemPostgres() as server:
        url = db.with_database(server.url(), "pipedriven_scaleout")
        db.ensure_database(url)
        db.upgrade(url)
        result = asyncio.run(measure(url, users, processes, settings))
        result["postgres"] = server.version
    return result


def figures(quick: bool, runs: int = 1) -> list[Figure]:
    users = 200 if quick else USERS
    r = run(users)
    within = f"PostgreSQL {r['postgres']}, {PROCESSES} processes, {users} users"
    rows = [Figure(f"Digests on both platforms, wall time ({within})", r["wall"], "s")]
    for name, limit_second, limit_minute in (
        ("slack", None, SLACK_WORKSPACE_PER_MINUTE),
        ("telegram", TELEGRAM_PER_SECOND, None),
    ):
        p = r[name]
        title = name.capitalize()
        rows += [
            Figure(f"  {title}: delivered", p["delivered"], "", target=f"= {users}", met=p["delivered"] == users),
            Figure(f"  {title}: duplicates", p["duplicates"], "", target="0", met=p["duplicates"] == 0),
            Figure(f"  {title}: 429s", p["429"], "", target="0", met=p["429"] == 0),
            Figure(
                f"  {title}: busiest second",
                p["busiest_second"],
                "",
                target=f"≤ {limit_second}" if limit_second else "",
                met=p["busiest_second"] <= limit_second if limit_second else None,
            ),
            Figure(
                f"  {title}: busiest minute",
                p["busiest_minute"],
                "",
                target=f"≤ {limit_minute}" if limit_minute else "",
                met=p["busiest_minute"] <= limit_minute if limit_minute else None,
            ),
        ]
    rows.append(
        Figure(
            "  Telegram: busiest second in one chat",
            r["telegram"]["busiest_chat_second"],
            "",
            target=f"≤ {TELEGRAM_PER_CHAT_PER_SECOND}",
            met=r["telegram"]["busiest_chat_second"] <= TELEGRAM_PER_CHAT_PER_SECOND,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--rate-limits", choices=["database", "process"], default="database")
    args = parser.parse_args()
    r = run(args.users, args.processes, {"RATE_LIMITS": args.rate_limits})
    print(f"PostgreSQL {r['postgres']}, {args.processes} processes, {args.users} users, RATE_LIMITS={args.rate_limits}")
    print(f"wall time {r['wall']:.1f} s; deliveries {r['deliveries']}")
    for name in ("slack", "telegram"):
        p = r[name]
        print(
            f"{name:>8}: delivered {p['delivered']}, duplicates {p['duplicates']}, 429s {p['429']}, "
            f"busiest second {p['busiest_second']}, busiest minute {p['busiest_minute']}, "
            f"busiest second in one chat {p['busiest_chat_second']}"
        )


if __name__ == "__main__":
    main()

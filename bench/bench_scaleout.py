"""Two `pipedriven run` processes on one PostgreSQL server from the system's packages (fakes.postgres), the
morning digests of many users due at once on Slack and Telegram (fakes.limited, each in a process of its own,
counting as the platforms do): each digest delivered once, no 429, the busiest second and minute within the
platforms' limits, because the processes count their sends against one budget in the database.

    python -m bench.bench_scaleout [--users N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from bench.common import Figure
from fakes.limited import (
    SLACK_WORKSPACE_PER_MINUTE,
    TELEGRAM_PER_CHAT_PER_SECOND,
    TELEGRAM_PER_SECOND,
)
from fakes.postgres import SystemPostgres
from fakes.processes import TELEGRAM_BASE, BotProcess, FakeProcess, link_everyone, populate_digest_users, sql

USERS = 1000
PROCESSES = 2


def busiest(times: list[float], seconds: float) -> int:
    """The most messages that arrived within any `seconds`-long window."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def busiest_per_chat(times: list[float], chats: list[str], seconds: float) -> int:
    by_chat: dict[str, list[float]] = {}
    for at, chat in zip(times, chats):
        by_chat.setdefault(chat, []).append(at)
    return max((busiest(t, seconds) for t in by_chat.values()), default=0)


async def measure(url: str, users: int, processes: int = PROCESSES, settings: dict[str, str] | None = None) -> dict:
    """Run the digests of `users` users through `processes` processes on the migrated database at `url`."""
    await asyncio.to_thread(populate_digest_users, url, users, 3)
    async with (
        FakeProcess("slack") as slack_fake,
        FakeProcess("telegram", "--chats", str(users), "--first-chat", str(TELEGRAM_BASE + 1)) as telegram_fake,
    ):
        bots = [BotProcess.against(url, slack_fake, telegram_fake) for _ in range(processes)]
        for bot in bots:
            bot.env.update(settings or {})
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            start = time.time()
            await asyncio.to_thread(link_everyone, url)
            deadline = time.monotonic() + 60 + users * 60 / SLACK_WORKSPACE_PER_MINUTE * 1.5
            while True:
                slack, telegram = await slack_fake.stats(), await telegram_fake.stats()
                if len(slack["posted_at"]) >= users and len(telegram["posted_at"]) >= users:
                    break
                if time.monotonic() > deadline or any(bot.process.returncode is not None for bot in bots):
                    raise RuntimeError(
                        f"only {len(slack['posted_at'])} Slack and {len(telegram['posted_at'])} Telegram digests "
                        "arrived:\n" + "\n".join(line for bot in bots for line in bot.lines[-10:])
                    )
                await asyncio.sleep(0.5)
            wall = max(max(slack["posted_at"]), max(telegram["posted_at"])) - start
            await asyncio.sleep(2)  # a beat or two: nothing more may go out
            slack, telegram = await slack_fake.stats(), await telegram_fake.stats()
            sent = dict(await asyncio.to_thread(sql, url, "SELECT status, count(*) FROM deliveries GROUP BY status"))
        finally:
            await asyncio.gather(*(bot.stop() for bot in bots))
    result: dict = {"wall": wall, "deliveries": sent}
    for name, stats in (("slack", slack), ("telegram", telegram)):
        chats = Counter(stats["posted_to"])
        result[name] = {
            "delivered": len(chats),
            "duplicates": sum(n - 1 for n in chats.values()),
            "429": stats["too_many_requests"],
            "busiest_second": busiest(stats["posted_at"], 1.0),
            "busiest_minute": busiest(stats["posted_at"], 60.0),
            "busiest_chat_second": busiest_per_chat(stats["posted_at"], stats["posted_to"], 1.0),
        }
    return result


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

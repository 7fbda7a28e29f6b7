"""Many users' digests through several `pipedriven run` processes on one database, against the rate-limited fakes
(each in a process of its own): what each platform received, how often, and how bunched up. For the scale-out test
and benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from fakes.limited import SLACK_WORKSPACE_PER_MINUTE
from fakes.processes import TELEGRAM_BASE, BotProcess, FakeProcess, link_everyone, populate_digest_users, sql


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


async def measure(url: str, users: int, processes: int = 2, settings: dict[str, str] | None = None) -> dict:
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

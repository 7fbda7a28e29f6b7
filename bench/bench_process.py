"""Benchmarks of a real `pipedriven run` process: taps under load, the morning digest for 1,000 users, memory.

    python -m bench.bench_process [--quick] [--runs 3] [--only taps|digest]

The process under test is a subprocess (`python -m bot.cli run`, or `python -m bench.serve`: the same services
plus a no-op button) configured from the environment as a deployment is: Slack in HTTP mode on a local port,
Telegram by webhook, the scheduler and the Pipedrive sync, against the local fakes of fakes.limited (with the
platforms' rate limits) reached through SLACK_API_URL and TELEGRAM_API_URL. This process is the platforms and
the users.

1. Taps (bench.serve): 20 users tap at once, each about once a second, on rows of messages the bot posted:
   - Slack: a signed block_actions request over HTTP to POST /slack/events; the bot acknowledges, logs the
     outreach (the activity is stored, checked by count after each run) and updates the row in place with
     chat.update. Measured: request → chat.update arrived (“reply out”), and request → HTTP answer (the ack).
     Beside it in the same run, the same users tap a no-op button of the same Bolt app (ack, then chat.update
     of the message as it is, no database). Target: p99 ≤ 100 ms.
   - Telegram: a callback_query update POSTed to the webhook with its secret header; the bot answers the query,
     logs the outreach, edits the message. Measured: update → editMessageText arrived; beside it a no-op button
     (the query answered, nothing else): update → answerCallbackQuery arrived.
2. The morning digest (`pipedriven run` itself): 1,000 users, each with 20 contacts and both a Slack and a
   Telegram account, whose digest time has just passed. The process starts with their accounts unlinked (so it
   idles: that is when the idle memory is read), then all accounts are linked at once and every digest falls due
   at the next beat (SCHEDULER_TICK_SECONDS=1). Each fake runs in a process of its own here, so that it sees
   requests when they come, not when this process gets round to them. Measured: the time until the last digest arrived, each platform's
   messages per second against its allowed rate, 429s met (target: none), and the process's memory (RSS) idle,
   after the digests, and at its peak.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import time
from urllib.parse import urlencode

import aiohttp

from bench.common import Figure, bench_database, figure, machine, medians, percentile, repeated
from bench.serve import NOOP
from bot.conversation import Conversation
from bot.slack import render as slack_render
from bot.telegram import render as telegram_render
from core import db
from core.service import Core
from fakes.limited import SLACK_WORKSPACE_PER_MINUTE, TELEGRAM_PER_SECOND, LimitedSlack, LimitedTelegram
from fakes.processes import (
    SLACK_BASE,
    TELEGRAM_BASE,
    BotProcess,
    FakeProcess,
    link_everyone,
    populate_digest_users,
    sql,
)
from fakes.slack import SIGNING_SECRET, SignedClient, fixture

TAP_USERS, TAP_CONTACTS = 20, 30
IDLE_SECONDS = 10


# --- 1. taps under load ------------------------------------------------------------------------------------


def populate_tap_users(url: str, users: int = TAP_USERS) -> None:
    """Users who never get a digest (no working day), each with contacts and both accounts linked."""
    sql(
        url,
        """INSERT INTO users (name, email, timezone, working_days)
                SELECT 'Tap User ' || g, 'tap' || g || '@example.com', 'UTC', '{}' FROM generate_series(1, %s) g""",
        (users,),
    )
    sql(
        url,
        """INSERT INTO contacts (owner_id, name, email, organisation, warmness, last_contacted_at)
                SELECT u.id, 'Contact ' || u.id || '-' || g, 'c' || u.id || '-' || g || '@example.com',
                       'Org ' || (g %% 7), g %% 3, now() - g * interval '3 days'
                  FROM users u, generate_series(1, %s) g""",
        (TAP_CONTACTS,),
    )
    sql(
        url,
        """INSERT INTO chat_identities (user_id, platform, external_user_id, dm_channel)
                SELECT id, 'slack', 'U' || (%s + id), 'DU' || (%s + id) FROM users
                UNION ALL
                SELECT id, 'telegram', (%s + id)::text, (%s + id)::text FROM users""",
        (SLACK_BASE, SLACK_BASE, TELEGRAM_BASE, TELEGRAM_BASE),
    )


async def digests_of_tap_users(url: str, users: int = TAP_USERS) -> dict[int, dict]:
    """Each tap user's digest as the bot renders it for Slack (blocks) and Telegram (HTML and keyboard)."""
    engine = db.create_engine(url, pool_size=2)
    core = Core(engine)
    rendered = {}
    try:
        for n in range(1, users + 1):
            user = await core.identify("slack", f"U{SLACK_BASE + n}")
            reply = await Conversation(core, "slack").digest(user)
            slack_page = slack_render.message(reply)
            telegram_page = telegram_render.message(reply)
            rendered[user.id] = {
                "slack": (slack_page.text, slack_page.blocks),
                "telegram": (telegram_page.html, telegram_page.keyboard.to_dict()),
            }
    finally:
        await engine.dispose()
    return rendered


def slack_button(blocks: list[dict], row: int, label: str) -> dict:
    """The block_actions `action` for the button `label` on row `row` (0-based) of a message's blocks."""
    rows = [b for b in blocks if b.get("type") == "actions"]
    block = rows[row % len(rows)]
    element = next(e for e in block["elements"] if e.get("type") == "button" and e["text"]["text"] == label)
    return {
        "action_id": element["action_id"],
        "block_id": block["block_id"],
        "type": "button",
        "value": element["value"],
        "text": element["text"],
        "action_ts": f"{time.time():.6f}",
    }


class TapLoad:
    """20 users tapping at once, about once a second each, real taps and no-op taps in turn."""

    def __init__(
        self,
        bot: BotProcess,
        slack: LimitedSlack,
        telegram: LimitedTelegram,
        rendered: dict,
        session: aiohttp.ClientSession,
        seed: int,
    ) -> None:
        self.bot, self.slack, self.telegram, self.rendered, self.session = bot, slack, telegram, rendered, session
        self.rng = random.Random(seed)
        self.secret = telegram.webhook["secret_token"]
        self.samples: dict[str, list[float]] = {
            k: [] for k in ("slack_reply", "slack_ack", "slack_noop", "telegram_reply", "telegram_ack", "telegram_noop")
        }
        self.real_taps = 0

    async def slack_tap(self, user_id: int, row: int, noop: bool, record: bool) -> None:
        text, blocks = self.rendered[user_id]["slack"]
        channel = f"DU{SLACK_BASE + user_id}"
        message = self.slack._chat_postMessage({"channel": channel, "text": text, "blocks": copy.deepcopy(blocks)})
        ts = message["ts"]
        action = slack_button(message["message"]["blocks"], row, "LinkedIn ✓")
        if noop:
            action = {**action, "action_id": NOOP, "value": NOOP}
        payload = {
            **fixture("block_actions.json"),
            "user": {"id": f"U{SLACK_BASE + user_id}", "team_id": "T0001", "username": "tap", "name": "tap"},
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "directmessage"},
            "message": message["message"],
            "response_url": self.slack.response_url(),
            "trigger_id": f"trigger-{ts}",
            "actions": [action],
        }
        body = urlencode({"payload": json.dumps(payload)})
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignedClient.signature(SIGNING_SECRET, stamp, body),
        }
        arrival = self.slack.arrival(("update", channel, ts))
        start = time.perf_counter()
        async with self.session.post(self.bot.slack_url, data=body.encode(), headers=headers) as response:
            await response.read()
            acked = time.perf_counter()
            if response.status != 200:
                raise RuntimeError(f"Slack tap answered {response.status}")
        replied = await asyncio.wait_for(arrival, 30)
        self.slack.forget(("update", channel, ts))
        if record:
            self.samples["slack_noop" if noop else "slack_reply"].append((replied - start) * 1000)
            if not noop:
                self.samples["slack_ack"].append((acked - start) * 1000)
        self.real_taps += not noop

    async def telegram_tap(self, user_id: int, row: int, noop: bool, record: bool) -> None:
        html, keyboard = self.rendered[user_id]["telegram"]
        chat = TELEGRAM_BASE + user_id
        tg_user = self.telegram.user(chat, f"Tap{user_id}")
        message = await self.telegram.seed_message(chat, html, keyboard)
        linkedin = [b["callback_data"] for r in keyboard["inline_keyboard"] for b in r if "LinkedIn" in b["text"]]
        data = NOOP if noop else linkedin[row % len(linkedin)]
        update = self.telegram.tap_update(tg_user, message, data)
        query_id = update["callback_query"]["id"]
        edited = self.telegram.arrival(("edit", chat, message["message_id"]))
        answered = self.telegram.arrival(("answer", query_id))
        start = time.perf_counter()
        async with self.session.post(
            self.bot.webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": self.secret}
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"the Telegram webhook answered {response.status}")
        answer_at = await asyncio.wait_for(answered, 30)
        reply_at = answer_at if noop else await asyncio.wait_for(edited, 30)
        self.telegram.forget(("edit", chat, message["message_id"]))
        self.telegram.forget(("answer", query_id))
        if record:
            if noop:
                self.samples["telegram_noop"].append((answer_at - start) * 1000)
            else:
                self.samples["telegram_reply"].append((reply_at - start) * 1000)
                self.samples["telegram_ack"].append((answer_at - start) * 1000)
        self.real_taps += not noop

    async def user(self, platform: str, user_id: int, taps: int, warmup: int) -> None:
        tap = self.slack_tap if platform == "slack" else self.telegram_tap
        await asyncio.sleep(self.rng.uniform(0, 1))  # users don't all start on the same millisecond
        for n in range(warmup + taps):
            await tap(user_id, n // 2, noop=n % 2 == 1, record=n >= warmup)
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))  # a person's pace between two taps

    async def run(self, platform: str, taps: int, warmup: int = 2) -> None:
        await asyncio.gather(*(self.user(platform, user_id, taps, warmup) for user_id in self.rendered))


async def activities(url: str) -> int:
    return (await asyncio.to_thread(sql, url, "SELECT count(*) FROM activities"))[0][0]


async def measure_taps(url: str, runs: int, taps: int) -> dict[str, tuple[float, tuple]]:
    slack, telegram = LimitedSlack(), LimitedTelegram()
    await slack.start()
    await telegram.start()
    rendered = await digests_of_tap_users(url)
    for user_id in rendered:
        telegram.open_chat(telegram.user(TELEGRAM_BASE + user_id, f"Tap{user_id}"))
    bot = BotProcess.against(url, slack, telegram, "bench.serve")
    results = []
    try:
        await bot.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            for run in range(runs):
                load = TapLoad(bot, slack, telegram, rendered, session, seed=run)
                before = await activities(url)
                await load.run("slack", taps)
                await load.run("telegram", taps)
                stored = await activities(url) - before
                if stored != load.real_taps:
                    raise RuntimeError(f"{load.real_taps} taps but {stored} activities stored")
                results.append(
                    {
                        f"{name}_p{p}": percentile(values, p)
                        for name, values in load.samples.items()
                        for p in (50, 95, 99)
                    }
                    | {"samples": len(load.samples["slack_reply"])}
                )
    finally:
        await bot.stop()
        await slack.stop()
        await telegram.stop()
    return medians(results)


def tap_figures(quick: bool, runs: int = 3) -> list[Figure]:
    taps = 6 if quick else 30  # per user and run, half of them no-ops
    with bench_database("pipedriven_bench_taps") as url:
        populate_tap_users(url)
        stats = asyncio.run(measure_taps(url, runs, taps))
    users = f"{TAP_USERS} users at once, ~1 tap/s each, {int(stats['samples'][0])} taps a run"
    rows = []
    for platform, reply, noop in (
        ("slack", "signed request → chat.update arrived", "ack, chat.update, no database"),
        ("telegram", "webhook update → editMessageText arrived", "query answered, nothing else"),
    ):
        name = "Slack HTTP mode" if platform == "slack" else "Telegram webhook"
        rows += [
            figure(stats, f"{platform}_reply_p50", f"{name} tap, {reply}, p50 ({users})", "ms"),
            figure(stats, f"{platform}_reply_p95", f"{name} tap, p95", "ms"),
            figure(stats, f"{platform}_reply_p99", f"{name} tap, p99", "ms", target="≤ 100 ms", limit=100),
            figure(
                stats,
                f"{platform}_ack_p99",
                f"  its acknowledgement ({'HTTP 200' if platform == 'slack' else 'answerCallbackQuery'}), p99",
                "ms",
            ),
            figure(stats, f"{platform}_noop_p50", f"  beside it: a no-op button ({noop}), p50", "ms"),
            figure(stats, f"{platform}_noop_p95", "  beside it: no-op, p95", "ms"),
            figure(stats, f"{platform}_noop_p99", "  beside it: no-op, p99", "ms"),
        ]
    return rows


# --- 2. the morning digest and memory ----------------------------------------------------------------------


async def measure_digest(url: str, users: int) -> dict[str, float]:
    async with (
        FakeProcess("slack") as slack_fake,
        FakeProcess("telegram", "--chats", str(users), "--first-chat", str(TELEGRAM_BASE + 1)) as telegram_fake,
    ):
        bot = BotProcess.against(url, slack_fake, telegram_fake)
        try:
            await bot.start()
            await asyncio.sleep(IDLE_SECONDS)
            idle_rss, _ = bot.memory()
            start = time.time()
            await asyncio.to_thread(link_everyone, url)
            deadline = time.monotonic() + 120 + users * 60 / SLACK_WORKSPACE_PER_MINUTE * 2
            while True:
                slack, telegram = await slack_fake.stats(), await telegram_fake.stats()
                if len(slack["posted_at"]) >= users and len(telegram["posted_at"]) >= users:
                    break
                if time.monotonic() > deadline or bot.process.returncode is not None:
                    raise RuntimeError(
                        f"only {len(slack['posted_at'])} Slack and {len(telegram['posted_at'])} "
                        f"Telegram digests arrived:\n" + "\n".join(bot.lines[-20:])
                    )
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # a beat or two: outcomes recorded, nothing more sent
            slack, telegram = await slack_fake.stats(), await telegram_fake.stats()
            sent = dict(await asyncio.to_thread(sql, url, "SELECT status, count(*) FROM deliveries GROUP BY status"))
            after_rss, peak_rss = bot.memory()
        finally:
            await bot.stop()
    slack_times, telegram_times = slack["posted_at"], telegram["posted_at"]
    if len(slack_times) != users or len(telegram_times) != users or sent.get("sent") != 2 * users:
        raise RuntimeError(
            f"digests: Slack {len(slack_times)}, Telegram {len(telegram_times)}, deliveries {sent} for {users} users"
        )

    def rate(times: list[float]) -> float:
        return (len(times) - 1) / (times[-1] - times[0])

    def busiest(times: list[float], seconds: float) -> int:
        """The most messages that arrived within any `seconds`-long window."""
        most, first = 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - seconds:
                first += 1
            most = max(most, last - first + 1)
        return most

    return {
        "total": max(slack_times[-1], telegram_times[-1]) - start,
        "slack_time": slack_times[-1] - start,
        "telegram_time": telegram_times[-1] - start,
        "slack_rate": rate(slack_times),
        "telegram_rate": rate(telegram_times),
        "slack_busiest": busiest(slack_times, 60.0),
        "telegram_busiest": busiest(telegram_times, 1.0),
        "slack_429": slack["too_many_requests"],
        "telegram_429": telegram["too_many_requests"],
        "telegram_429_chat": telegram["chat_refusals"],
        "idle_rss": idle_rss,
        "after_rss": after_rss,
        "peak_rss": peak_rss,
    }


def digest_figures(quick: bool, runs: int = 3) -> list[Figure]:
    users = 100 if quick else 1000

    def once(index: int) -> dict[str, float]:
        with bench_database(f"pipedriven_bench_digest_run_{index}") as url:
            populate_digest_users(url, users, 20)
            return asyncio.run(measure_digest(url, users))

    stats = repeated(runs, once)
    slack_rate = SLACK_WORKSPACE_PER_MINUTE / 60
    return [
        figure(
            stats,
            "total",
            f"morning digest, {users:,} users × (Slack + Telegram): all delivered after",
            "s",
            note="from the moment they fell due; `pipedriven run`, real notifiers and scheduler",
        ),
        figure(stats, "slack_time", f"  Slack: last of {users:,} digests after", "s"),
        figure(
            stats,
            "slack_rate",
            f"  Slack: messages per second, first to last (allowed {slack_rate:g}/s: "
            f"{SLACK_WORKSPACE_PER_MINUTE} a minute)",
            "/s",
        ),
        figure(
            stats,
            "slack_busiest",
            "  Slack: most messages in any 60 s",
            "",
            target=f"≤ {SLACK_WORKSPACE_PER_MINUTE}",
            limit=SLACK_WORKSPACE_PER_MINUTE,
            worst=True,
        ),
        figure(stats, "slack_429", "  Slack: 429s met", "", target="0", limit=0, worst=True),
        figure(stats, "telegram_time", f"  Telegram: last of {users:,} digests after", "s"),
        figure(
            stats,
            "telegram_rate",
            f"  Telegram: messages per second, first to last (allowed {TELEGRAM_PER_SECOND}/s)",
            "/s",
        ),
        figure(
            stats,
            "telegram_busiest",
            "  Telegram: most messages in any 1 s",
            "",
            target=f"≤ {TELEGRAM_PER_SECOND}",
            limit=TELEGRAM_PER_SECOND,
            worst=True,
        ),
        figure(
            stats,
            "telegram_429",
            "  Telegram: 429s met",
            "",
            target="0",
            limit=0,
            worst=True,
            note=(
                f"of which over one chat's limit: {sum(stats['telegram_429_chat'][1]):.0f} in all runs; the "
                f"rest over the overall limit"
            )
            if any(stats["telegram_429"][1])
            else "",
        ),
        figure(
            stats,
            "idle_rss",
            f"memory (RSS) of an idle `pipedriven run` (Slack HTTP, Telegram webhook, "
            f"scheduler, sync; {users:,} users)",
            "MB",
        ),
        figure(stats, "after_rss", "  after the digest", "MB"),
        figure(stats, "peak_rss", "  its peak (VmHWM)", "MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="runs of each benchmark")
    parser.add_argument("--only", choices=["taps", "digest"])
    args = parser.parse_args()
    print(f"bench_process ({machine()})")
    rows = []
    if args.only in (None, "taps"):
        rows += tap_figures(args.quick, args.runs)
    if args.only in (None, "digest"):
        rows += digest_figures(args.quick, args.runs)
    for row in rows:
        print(f"{row.label:<100} {row.shown():>12}  {row.target}")


if __name__ == "__main__":
    main()

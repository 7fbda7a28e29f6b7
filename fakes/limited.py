"""The fake Slack and Telegram with the platforms' rate limits, and a note of when each answer arrives.

Both build on fakes.slack and fakes.telegram (the Web API and Bot API as the real bot calls them, Block Kit and
HTML checked) and serve on 127.0.0.1 at a free port. They count on their own (SlidingWindow, TokenBucket below),
never with the bot's own limiter (core.ratelimit): a referee that shared the code under test would miss its
mistakes.

Limits, as the platforms publish them:
- Slack `chat.postMessage`: 1 message a second per channel with short bursts (a token bucket of 3), and
  “several hundred messages a minute” for the workspace, read at its lowest: 300 in any 60 seconds. Over
  either, HTTP 429 with `Retry-After`.
- Telegram `sendMessage`: 30 messages in any second overall and 1 a second to one chat; over either, 429 with
  `parameters.retry_after`.

`arrival(key)` is a future resolved when the bot's answer arrives: Slack ("update", channel, ts) for a
chat.update; Telegram ("edit", chat, message_id) for an editMessageText and ("answer", query_id) for an
answerCallbackQuery. The wall-clock time of each accepted digest message is kept in `posted_at`, its chat in `posted_to`; GET
/bench/stats answers it with the 429s given.

`python -m fakes.limited slack|telegram [--chats N --first-chat ID]` serves one fake in a process of its own
(for the digest benchmark: a fake sharing a process with other work would see requests late, bunched up, and
count 429s the bot never earned), prints its address as a JSON line, and stops when its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import defaultdict, deque

from aiohttp import web

from fakes.slack import FakeSlack
from fakes.telegram import ApiError, FakeTelegram

SLACK_PER_CHANNEL_RATE, SLACK_PER_CHANNEL_BURST = 1.0, 3
SLACK_WORKSPACE_PER_MINUTE = 300
TELEGRAM_PER_SECOND, TELEGRAM_PER_CHAT_PER_SECOND = 30, 1


class SlidingWindow:
    """At most `limit` events in any `seconds`-long window (how Telegram and Slack count), on a monotonic clock."""

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit, self.seconds = limit, seconds
        self._recent: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self._recent and self._recent[0] <= now - self.seconds:
            self._recent.popleft()
        return self._recent[0] + self.seconds - now if len(self._recent) >= self.limit else 0.0

    def add(self, now: float) -> None:
        self._recent.append(now)


class TokenBucket:
    """`rate` events a second with bursts of up to `burst` (Slack's “1 a second per channel, short bursts”)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = float(burst), None

    def wait(self, now: float) -> float:
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def add(self, now: float) -> None:
        self.wait(now)
        self._tokens -= 1


class Arrivals:
    """Futures for answers a benchmark waits for, resolved with the moment the answer came in."""

    def __init__(self) -> None:
        self._futures: dict[tuple, asyncio.Future] = {}

    def arrival(self, key: tuple) -> asyncio.Future:
        if key not in self._futures:
            self._futures[key] = asyncio.get_running_loop().create_future()
        return self._futures[key]

    def arrived(self, key: tuple) -> None:
        future = self.arrival(key)
        if not future.done():
            future.set_result(time.perf_counter())

    def forget(self, key: tuple) -> None:
        self._futures.pop(key, None)


class LimitedSlack(FakeSlack, Arrivals):
    def __init__(self) -> None:
        FakeSlack.__init__(self)
        Arrivals.__init__(self)
        self.workspace = SlidingWindow(SLACK_WORKSPACE_PER_MINUTE, 60.0)
        self.channels: dict[str, TokenBucket] = defaultdict(
            lambda: TokenBucket(SLACK_PER_CHANNEL_RATE, SLACK_PER_CHANNEL_BURST)
        )
        self.too_many_requests = 0
        self.posted_at: list[float] = []
        self.posted_to: list[str] = []  # the chat or channel of each, in the same order
        self._runner: web.AppRunner | None = None
        self.app.router.add_get("/bench/stats", self._stats)

    def stats(self) -> dict:
        return {
            "posted_at": self.posted_at,
            "posted_to": self.posted_to,
            "too_many_requests": self.too_many_requests,
            "chat_refusals": 0,
        }

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "chat.postMessage":
            channel = (await self._args(request)).get("channel", "")
            now = time.monotonic()
            wait = max(self.workspace.wait(now), self.channels[channel].wait(now))
            if wait > 0:
                self.too_many_requests += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            self.workspace.add(now)
            self.channels[channel].add(now)
        response = await super()._api(request)
        if method == "chat.postMessage" and response.status == 200:
            self.posted_at.append(time.time())
            self.posted_to.append(channel)
        if method == "chat.update":
            args = self.calls[-1].args
            self.arrived(("update", args.get("channel"), args.get("ts")))
        return response


class LimitedTelegram(FakeTelegram, Arrivals):
    def __init__(self) -> None:
        FakeTelegram.__init__(self)
        Arrivals.__init__(self)
        self.overall = SlidingWindow(TELEGRAM_PER_SECOND, 1.0)
        self.chats: dict[int, SlidingWindow] = defaultdict(lambda: SlidingWindow(TELEGRAM_PER_CHAT_PER_SECOND, 1.0))
        self.too_many_requests = 0
        self.refusals: list[tuple[float, str]] = []  # when, and which limit
        self.posted_at: list[float] = []
        self.posted_to: list[str] = []  # the chat or channel of each, in the same order

    def stats(self) -> dict:
        return {
            "posted_at": self.posted_at,
            "posted_to": self.posted_to,
            "too_many_requests": self.too_many_requests,
            "chat_refusals": sum(1 for _, limit in self.refusals if limit == "chat"),
        }

    async def _handle(self, request: web.Request) -> web.Response:
        if request.path == "/bench/stats":
            return web.json_response(self.stats())
        return await super()._handle(request)

    async def _api_sendMessage(self, params: dict) -> dict:
        chat = int(params.get("chat_id") or 0)
        now = time.monotonic()
        wait = max(self.overall.wait(now), self.chats[chat].wait(now))
        if wait > 0:
            self.too_many_requests += 1
            self.refusals.append((time.time(), "chat" if self.chats[chat].wait(now) > 0 else "overall"))
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        message = await super()._api_sendMessage(params)
        self.overall.add(now)
        self.chats[chat].add(now)
        self.posted_at.append(time.time())
        self.posted_to.append(str(chat))
        return message

    async def seed_message(self, chat_id: int, html: str, keyboard: dict) -> dict:
        """A message the bot sent earlier (for taps to land on), outside the rate limits."""
        return await FakeTelegram._api_sendMessage(
            self, {"chat_id": chat_id, "text": html, "parse_mode": "HTML", "reply_markup": keyboard}
        )

    async def _api_editMessageText(self, params: dict) -> dict:
        message = await super()._api_editMessageText(params)
        self.arrived(("edit", message["chat"]["id"], message["message_id"]))
        return message

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        answered = await super()._api_answerCallbackQuery(params)
        self.arrived(("answer", str(params.get("callback_query_id"))))
        return answered


async def serve(kind: str, chats: int, first_chat: int) -> None:
    fake = LimitedSlack() if kind == "slack" else LimitedTelegram()
    await fake.start()
    if isinstance(fake, LimitedTelegram):
        for chat in range(first_chat, first_chat + chats):
            fake.open_chat(fake.user(chat, f"User{chat}"))
        address = {"token": fake.token, "api_url": fake.api_url, "url": fake.api_url.removesuffix("/bot")}
    else:
        address = {"url": fake.url}
    print(json.dumps(address), flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the benchmark closes it
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="serve one rate-limited fake platform")
    parser.add_argument("kind", choices=["slack", "telegram"])
    parser.add_argument("--chats", type=int, default=0, help="Telegram: private chats open with the bot")
    parser.add_argument("--first-chat", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(serve(args.kind, args.chats, args.first_chat))


if __name__ == "__main__":
    main()

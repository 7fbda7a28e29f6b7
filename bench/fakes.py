"""The tests' fake Slack and Telegram with the platforms' rate limits, and a note of when each answer arrives.

Both build on the suite's fakes (tests/slack/fake_slack.py, tests/telegram/fake_telegram.py: the Web API and
Bot API as the real bot calls them, Block Kit and HTML checked) and serve on 127.0.0.1 at a free port.

Limits, as the platforms publish them:
- Slack `chat.postMessage`: 1 message a second per channel with short bursts (a token bucket of 3), and
  “several hundred messages a minute” for the workspace, read at its lowest: 300 in any 60 seconds. Over
  either, HTTP 429 with `Retry-After`.
- Telegram `sendMessage`: 30 messages in any second overall and 1 a second to one chat; over either, 429 with
  `parameters.retry_after`.

`arrival(key)` is a future resolved when the bot's answer arrives: Slack ("update", channel, ts) for a
chat.update; Telegram ("edit", chat, message_id) for an editMessageText and ("answer", query_id) for an
answerCallbackQuery. The time of each accepted digest message is kept in `posted_at`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import defaultdict

from aiohttp import web

from bench.common import SlidingWindow, TokenBucket
from tests.slack.fake_slack import FakeSlack
from tests.telegram.fake_telegram import ApiError, FakeTelegram

SLACK_PER_CHANNEL_RATE, SLACK_PER_CHANNEL_BURST = 1.0, 3
SLACK_WORKSPACE_PER_MINUTE = 300
TELEGRAM_PER_SECOND, TELEGRAM_PER_CHAT_PER_SECOND = 30, 1


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
            lambda: TokenBucket(SLACK_PER_CHANNEL_RATE, SLACK_PER_CHANNEL_BURST))
        self.too_many_requests = 0
        self.posted_at: list[float] = []
        self._runner: web.AppRunner | None = None

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
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(max(1, math.ceil(wait)))})
            self.workspace.add(now)
            self.channels[channel].add(now)
        response = await super()._api(request)
        if method == "chat.postMessage" and response.status == 200:
            self.posted_at.append(time.perf_counter())
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

    async def _api_sendMessage(self, params: dict) -> dict:
        chat = int(params.get("chat_id") or 0)
        now = time.monotonic()
        wait = max(self.overall.wait(now), self.chats[chat].wait(now))
        if wait > 0:
            self.too_many_requests += 1
            self.refusals.append((time.perf_counter(), "chat" if self.chats[chat].wait(now) > 0 else "overall"))
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        message = await super()._api_sendMessage(params)
        self.overall.add(now)
        self.chats[chat].add(now)
        self.posted_at.append(time.perf_counter())
        return message

    async def seed_message(self, chat_id: int, html: str, keyboard: dict) -> dict:
        """A message the bot sent earlier (for taps to land on), outside the rate limits."""
        return await FakeTelegram._api_sendMessage(self, {"chat_id": chat_id, "text": html, "parse_mode": "HTML",
                                                          "reply_markup": keyboard})

    async def _api_editMessageText(self, params: dict) -> dict:
        message = await super()._api_editMessageText(params)
        self.arrived(("edit", message["chat"]["id"], message["message_id"]))
        return message

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        answered = await super()._api_answerCallbackQuery(params)
        self.arrived(("answer", str(params.get("callback_query_id"))))
        return answered


class InThread:
    """Serve a fake on an event loop of its own, in a thread of its own: one fake's work (Slack's Block Kit checks
    of each digest) then never holds back the other's requests, which would bunch them up in its clock."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"fake-{type(fake).__name__}", daemon=True)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    async def __aenter__(self):
        self.thread.start()
        await asyncio.to_thread(self._run, self.fake.start())
        return self.fake

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self._run, self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join, 10)
        self.loop.close()

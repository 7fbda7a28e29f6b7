"""A local stand-in for Telegram's `sendMessage` with Telegram's rate limits, and a minimal notifier for it.

`FakeTelegram` is an aiohttp.web server on 127.0.0.1 (a free port) that answers `POST /bot<token>/sendMessage`
as the Bot API does: over 30 messages in any sliding second overall, or over 1 a second to one chat, it
answers 429 with `parameters.retry_after`; a chat marked blocked gets 403 “Forbidden: bot was blocked by the
user”. `HttpTelegramNotifier` implements the `Notifier` port over plain HTTP against any such base URL and maps
the answers onto the port's errors. Used by the scheduler's benchmark (bench/bench_digest.py) and a scheduler
test.
"""

from __future__ import annotations

import math
import socket
import time
from collections import defaultdict

import aiohttp
from aiohttp import web

from bot.notify import ChatTarget
from bot.replies import Reply
from fakes.limited import SlidingWindow
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError


class FakeTelegram:
    def __init__(self, *, per_second: int = 30, per_chat_per_second: int = 1, blocked: set[str] = frozenset()):
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self.blocked = set(blocked)
        self.delivered: list[dict] = []
        self.too_many_requests = 0
        self._overall = SlidingWindow(per_second)
        self._by_chat: dict[str, SlidingWindow] = defaultdict(lambda: SlidingWindow(per_chat_per_second))
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start serving; returns the base URL a notifier appends `<token>/sendMessage` to."""
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._send_message)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}/bot"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _send_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = str(body.get("chat_id"))
        now = time.monotonic()
        wait = max(self._overall.wait(now), self._by_chat[chat].wait(now))
        if wait > 0:
            self.too_many_requests += 1
            retry_after = max(1, math.ceil(wait))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        if chat in self.blocked:
            return web.json_response(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, status=403
            )
        self._overall.add(now)
        self._by_chat[chat].add(now)
        self.delivered.append(body)
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": len(self.delivered),
                    "chat": {"id": body.get("chat_id")},
                    "text": body.get("text"),
                },
            }
        )


class HttpTelegramNotifier:
    """The smallest Telegram notifier: the reply's text and an inline keyboard, over aiohttp."""

    platform = "telegram"

    def __init__(self, base_url: str, token: str = "123:bench") -> None:
        self.url = f"{base_url}{token}/sendMessage"
        self._session: aiohttp.ClientSession | None = None

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        text = "\n\n".join([reply.text, *(section.text for section in reply.sections if section.text)])
        keyboard = [
            [{"text": b.label, "callback_data": b.data} for b in section.buttons]
            for section in reply.sections
            if section.buttons
        ]
        payload = {
            "chat_id": target.dm_channel or target.external_user_id,
            "text": text[:4096],
            "reply_markup": {"inline_keyboard": keyboard},
        }
        try:
            async with self._session.post(self.url, json=payload) as response:
                answer = await response.json()
        except aiohttp.ClientError as exc:
            raise TemporaryDeliveryError(f"network: {exc}") from exc
        if answer.get("ok"):
            return str(answer["result"]["message_id"])
        description = answer.get("description", f"HTTP {response.status}")
        if response.status == 429:
            raise TemporaryDeliveryError(description, (answer.get("parameters") or {}).get("retry_after"))
        if response.status >= 500:
            raise TemporaryDeliveryError(description)
        raise PermanentDeliveryError(description)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

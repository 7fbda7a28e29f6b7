"""Pacing of calls to the Bot API within Telegram's flood limits, on core.ratelimit, as PTB's rate limiter.

Every call that names a chat keeps to an overall pace of 25 a second with bursts of 2 (PTB's own
AIORateLimiter defaults to 30 a second with bursts of 30, which lets the calls held during a retry_after out
all at once, and Telegram, counting over a sliding second, answers that burst with more 429s: `python -m
bench` met such cascades; a burst of 5 on top of 25 a second still filled Telegram's 30 to the brim). A private
chat, where Telegram asks for about one message a second, lets a short burst through (a few taps in a row, a
list of several pages) and is held to one a second after that; a group or channel to 20 a minute. A 429 holds
every call for its retry_after (and a tenth of a second), then the call is made again, up to `max_retries`
times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.notifier import retry_seconds
from core import metrics
from core.ratelimit import Limit, Limiter, Store, Want

log = logging.getLogger(__name__)

OVERALL_RATE, OVERALL_BURST = 25, 2  # calls a second to the Bot API as a whole, and how many may go at once
PER_CHAT_RATE = 1.0  # messages a second, sustained
PER_CHAT_BURST = 10  # calls let through at once before the pace applies
GROUP_PER_MINUTE = 20  # Telegram's limit in a group or channel
RETRY_MARGIN_SECONDS = 0.1  # waited beyond a retry_after


class PacedRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        max_retries: int,
        store: Store | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.limiter = Limiter(
            {
                "overall": Limit.rate(OVERALL_RATE, 1.0, burst=OVERALL_BURST),
                "chat": Limit.rate(PER_CHAT_RATE, 1.0, burst=PER_CHAT_BURST),
                "group": Limit.rate(GROUP_PER_MINUTE, 60.0, burst=GROUP_PER_MINUTE),
            },
            name="telegram-bot",
            store=store,
            clock=clock,
            sleep=sleep,
        )

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        wants = limits_of(data.get("chat_id"))
        retries_left = rate_limit_args or self.max_retries
        while True:
            await self.limiter.acquire(*wants)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                metrics.RATE_LIMITED.labels("telegram").inc()
                if retries_left <= 0:
                    raise
                retries_left -= 1
                wait = retry_seconds(exc) + RETRY_MARGIN_SECONDS
                log.info("Telegram's flood control: every call waits %.1f s", wait)
                await self.limiter.hold(wait)


def limits_of(chat_id: Any) -> tuple[Want, ...]:
    """The limits a call to `chat_id` comes under: none without a chat (it still waits out a hold); a private
    chat's (a positive id) or a group's or channel's (a negative id or an @name), then the overall pace."""
    if chat_id is None:
        return ()
    with contextlib.suppress(TypeError, ValueError):
        chat_id = int(chat_id)
    own = ("chat", chat_id) if isinstance(chat_id, int) and chat_id > 0 else ("group", chat_id)
    return own, "overall"

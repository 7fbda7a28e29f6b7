"""Pacing of calls to the Bot API within Telegram's flood limits.

PTB's AIORateLimiter keeps to a pace overall and 20 a minute per group, and retries a 429 after the
retry_after Telegram gives (holding every other call meanwhile). Its overall pace here is 25 a second with
bursts of 2 (PTB's default, 30 a second with bursts of 30, lets the calls held during a retry_after out all at
once, and Telegram, counting over a sliding second, answers that burst with more 429s: `python -m bench` met
such cascades; a burst of 5 on top of 25 a second still filled Telegram's 30 to the brim). It has no limit per private chat, where Telegram asks for about one message a second: this adds
one, a leaky bucket that lets a short burst through (a few taps in a row, a list of several pages) and holds
the chat to one a second after that.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

OVERALL_RATE, OVERALL_BURST = 25, 2  # calls a second to the Bot API as a whole, and how many may go at once
PER_CHAT_RATE = 1.0  # messages a second, sustained
PER_CHAT_BURST = 10  # calls let through at once before the pace applies
MAX_CHAT_LIMITERS = 512  # idle limiters beyond this are dropped


class PacedRateLimiter(AIORateLimiter):
    def __init__(self, *, max_retries: int) -> None:
        super().__init__(max_retries=max_retries, overall_max_rate=OVERALL_BURST,
                         overall_time_period=OVERALL_BURST / OVERALL_RATE)
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chat_limiters) > MAX_CHAT_LIMITERS:
            for key, limiter in list(self._chat_limiters.items()):
                if key != chat_id and limiter.has_capacity(limiter.max_rate):
                    del self._chat_limiters[key]
        if chat_id not in self._chat_limiters:
            self._chat_limiters[chat_id] = AsyncLimiter(PER_CHAT_BURST, PER_CHAT_BURST / PER_CHAT_RATE)
        return self._chat_limiters[chat_id]

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        # Private chats have positive ids; groups and channels (negative ids, @names) are paced by the parent.
        pace = self._chat_limiter(chat_id) if isinstance(chat_id, int) and chat_id > 0 else contextlib.nullcontext()
        async with pace:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

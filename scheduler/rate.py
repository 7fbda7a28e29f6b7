"""Pacing the scheduler's sends to a platform's limits: one for the platform as a whole and one per chat.

Both are paced limits of core.ratelimit (GCRA: a short burst, then an even pace). A message first waits until
its chat may take one, then for its turn on the platform; see `Pacer`. With RATE_LIMITS=database (the default)
every process on the database counts against the same limits (core.shared_limits); should a 429 come all the
same, the dispatcher holds the whole platform for the retry-after the platform asked for.

The defaults follow the platforms' published limits, a little under them: the platform counts arrivals,
which network and event-loop jitter can bunch closer together than they were sent (`python -m bench`
measures this against fakes that count as the platforms do):
- Telegram: about 30 messages a second to different chats, and 1 a second in one chat. Sent at 25 a second,
  spread evenly (no burst), since Telegram counts over a sliding second.
- Slack (chat.postMessage): about 1 message a second per channel, short bursts allowed; the workspace-wide
  limit is “several hundred a minute”: bursts of 10, then 290 a minute, so at most 299 in any minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.ratelimit import Limit, Limiter, Store

PLATFORM, CHAT = "platform", "chat"  # the names of the two limits


@dataclass(frozen=True)
class PlatformLimits:
    overall: Limit | None = None
    per_chat: Limit | None = None


DEFAULT_LIMITS = {
    "telegram": PlatformLimits(overall=Limit.rate(25, 1.0), per_chat=Limit.rate(1, 1.0)),
    "slack": PlatformLimits(overall=Limit.rate(290, 60.0, burst=10), per_chat=Limit.rate(1, 1.0, burst=3)),
}


class Pacer:
    """The limits of one platform. `await pacer.wait(chat)` returns when a message to `chat` may go.

    Messages take their turn on the platform in order, and a turn is booked at the moment the message actually
    goes, not in advance: a sender that wakes late never squeezes the ones after it closer together. A message
    waiting for its chat takes no turn, so it holds up no other chat. A platform without limits (the console;
    tests, whose clock is not the event loop's) is not paced at all.
    """

    def __init__(
        self,
        limits: PlatformLimits | None = None,
        *,
        name: str = "",
        store: Store | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        limits = limits or PlatformLimits()
        self.paced = limits.overall is not None or limits.per_chat is not None
        self.limiter = Limiter(
            {PLATFORM: limits.overall, CHAT: limits.per_chat}, name=name, store=store, clock=clock, sleep=sleep
        )

    async def wait(self, chat: str) -> None:
        if self.paced:
            await self.limiter.acquire((CHAT, chat), PLATFORM)

    async def hold(self, seconds: float) -> None:
        """The platform said “too many requests, retry after `seconds`”: send nothing more until then."""
        if self.paced:
            await self.limiter.hold(seconds)

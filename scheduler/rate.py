"""Pacing sends to a platform's limits: one token bucket for the platform as a whole and one per chat.

Each bucket is a GCRA (the “generic cell rate algorithm”, a token bucket kept as one number: the moment the
bucket is next free). A message first waits until its chat may take one, then for its turn on the platform;
see `Pacer`. The limits are per process; with several processes a 429 still can happen, and the
dispatcher then holds the whole platform for the retry-after the platform asked for.

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
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """`count` messages every `per` seconds, of which up to `burst` may go back to back."""

    count: int
    per: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return self.per / self.count


@dataclass(frozen=True)
class PlatformLimits:
    overall: Rate | None = None
    per_chat: Rate | None = None


DEFAULT_LIMITS = {
    "telegram": PlatformLimits(overall=Rate(25, 1.0), per_chat=Rate(1, 1.0)),
    "slack": PlatformLimits(overall=Rate(290, 60.0, burst=10), per_chat=Rate(1, 1.0, burst=3)),
}


class _Bucket:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.next_free = float("-inf")  # GCRA's “theoretical arrival time”

    def earliest(self, now: float) -> float:
        """The first moment from `now` at which one more message conforms."""
        return max(now, self.next_free - (self.rate.burst - 1) * self.rate.interval)

    def book(self, at: float) -> None:
        self.next_free = max(self.next_free, at) + self.rate.interval


class Pacer:
    """The limits of one platform. `await pacer.wait(chat)` returns when a message to `chat` may go.

    Messages take their turn in order (a fair lock), and a turn is booked at the moment the message actually
    goes, not in advance: a sender that wakes late never squeezes the ones after it closer together. A message
    waiting for its chat takes no turn, so it holds up no other chat. A platform without limits (the console;
    tests, whose clock is not the event loop's) is not paced at all.
    """

    MAX_IDLE_CHATS = 10_000

    def __init__(self, limits: PlatformLimits | None = None) -> None:
        limits = limits or PlatformLimits()
        self.paced = limits.overall is not None or limits.per_chat is not None
        self._overall = _Bucket(limits.overall) if limits.overall else None
        self._per_chat_rate = limits.per_chat
        self._chats: dict[str, _Bucket] = {}
        self._held_until = float("-inf")
        self._turn = asyncio.Lock()

    def chat_free_at(self, chat: str, now: float) -> float:
        """The first moment from `now` at which `chat` may take one more message."""
        bucket = self._chat(chat, now)
        return bucket.earliest(now) if bucket else now

    def platform_free_at(self, now: float) -> float:
        """The first moment from `now` at which the platform may take one more message."""
        at = max(now, self._held_until)
        return max(at, self._overall.earliest(now)) if self._overall else at

    def book(self, chat: str, at: float) -> None:
        """A message to `chat` goes at `at`."""
        if self._overall:
            self._overall.book(at)
        if bucket := self._chat(chat, at):
            bucket.book(at)

    def hold(self, seconds: float, now: float) -> None:
        """The platform said “too many requests, retry after `seconds`”: send nothing more until then."""
        if self.paced:
            self._held_until = max(self._held_until, now + seconds)

    async def wait(self, chat: str) -> None:
        if not self.paced:
            return
        loop = asyncio.get_running_loop()
        while True:
            if (free := self.chat_free_at(chat, loop.time())) > loop.time():
                await asyncio.sleep(free - loop.time())
            async with self._turn:
                now = loop.time()
                if self.chat_free_at(chat, now) > now:  # another message to this chat went meanwhile
                    continue
                if (at := self.platform_free_at(now)) > now:
                    await asyncio.sleep(at - now)
                self.book(chat, loop.time())
                return

    def _chat(self, chat: str, now: float) -> _Bucket | None:
        if self._per_chat_rate is None:
            return None
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= self.MAX_IDLE_CHATS:  # a bucket whose slot has passed is as good as new
                self._chats = {k: b for k, b in self._chats.items() if b.next_free > now}
            bucket = self._chats[chat] = _Bucket(self._per_chat_rate)
        return bucket

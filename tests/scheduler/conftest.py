"""Scheduler test helpers: a recording notifier at the network edge, reachable users, and a movable local clock.

Time only moves when a test says so (`at(...)` sets the injected clock); nothing sleeps. Pacing is off in the
dispatcher under test (it would wait in real time); scheduler.rate has its own tests on virtual time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.notify import ChatCourier, ChatTarget
from bot.replies import Reply
from core.users.commands import LinkChatIdentity
from scheduler.dispatch import Dispatcher


class RecordingNotifier:
    """The Notifier port, standing where the platform's network would be: it records what it is asked to send,
    and raises the errors a test queues for a user (`fail_next`)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent: list[tuple[ChatTarget, Reply]] = []
        self._errors: dict[int, list[Exception]] = defaultdict(list)

    def fail_next(self, user_id: int, *errors: Exception) -> None:
        self._errors[user_id].extend(errors)

    def errors_queued(self, user) -> int:
        return len(self._errors[user.id])

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        if self._errors[target.user_id]:
            raise self._errors[target.user_id].pop(0)
        self.sent.append((target, reply))
        return f"{self.platform}-{len(self.sent)}"

    def to(self, user) -> list[Reply]:
        return [reply for target, reply in self.sent if target.user_id == user.id]

    def digests(self, user) -> list[Reply]:
        return [reply for reply in self.to(user) if reply.text.startswith("☀️ Good morning")]

    def nudges(self, user) -> list[Reply]:
        return [reply for reply in self.to(user) if not reply.text.startswith("☀️ Good morning")]


@pytest.fixture
def slack():
    return RecordingNotifier("slack")


@pytest.fixture
def telegram():
    return RecordingNotifier("telegram")


@pytest.fixture
def dispatcher(core, slack, telegram):
    return Dispatcher(core, ChatCourier(core, {"slack": slack, "telegram": telegram}), limits={})


@pytest.fixture
def at(clock):
    """`at("2026-11-24 08:30", "Europe/London")`: set the clock to that local moment."""

    def move(local: str, tz: str = "Europe/London") -> datetime:
        moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))
        clock.set(moment)
        return moment

    return move


@pytest.fixture
def reachable(core, make):
    """`await reachable("Ana", tz=..., platforms=("slack",), contacts=2, role=...)`: a user linked on those
    platforms, with that many contacts in their bank (so their digest has something to suggest)."""

    async def create(
        name: str,
        *,
        tz: str = "Europe/London",
        platforms: tuple[str, ...] = ("slack",),
        contacts: int = 1,
        role: str = "consultant",
    ):
        user = await make.user(name, timezone=tz, role=role)
        for platform in platforms:
            await core.execute(
                LinkChatIdentity(
                    user.email,
                    platform,
                    f"{platform}-{user.id}",
                    dm_channel=f"D{user.id}" if platform == "slack" else None,
                )
            )
        for n in range(contacts):
            await make.contact(user, f"{name}'s contact {n + 1}")
        return user

    return create

"""Output to chat as a port: the scheduler hands neutral replies to a `Notifier` per platform.

Slack, Telegram and the console each implement `Notifier`. A notifier raises `TemporaryDeliveryError`
for what a retry may fix (429 with its retry-after, 5xx, timeouts) and `PermanentDeliveryError` for what it
never will (the user blocked the bot, the account is deactivated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.replies import Reply


@dataclass(frozen=True)
class ChatTarget:
    """Where to reach one user on one platform."""

    user_id: int
    platform: str
    external_user_id: str
    dm_channel: str | None = None


class DeliveryError(Exception):
    """The message could not be delivered."""


class TemporaryDeliveryError(DeliveryError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The platform will never take this message for this user (blocked, deactivated, unknown chat)."""


class Notifier(Protocol):
    platform: str

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        """Deliver `reply` to the user's DM; return the platform's message id if it has one."""
        ...

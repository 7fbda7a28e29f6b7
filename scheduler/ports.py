"""The chat side as the scheduler sees it: a `Courier` that composes and sends what was claimed, and its errors.

The scheduler decides what is due, claims it, paces the sends and records how each ended; the courier (bot/
implements it) knows what a digest, a nudge or a notice looks like on each platform and how to get it there.
A send raises `TemporaryDeliveryError` for what a retry may fix (429 with its retry-after, 5xx, timeouts) and
`PermanentDeliveryError` for what it never will (the user blocked the bot, the account is deactivated).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, TypeVar

from core.deliveries.commands import DeliveryClaim
from core.sync.commands import SyncNotice
from core.users.commands import ChatIdentityView

Message = TypeVar("Message")


class DeliveryError(Exception):
    """The message could not be delivered."""


class TemporaryDeliveryError(DeliveryError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The platform will never take this message for this user (blocked, deactivated, unknown chat)."""


class Courier(Protocol[Message]):
    """Composes the message of a claimed delivery or a sync notice, and sends it to one user's DM."""

    @property
    def platforms(self) -> Collection[str]:
        """The platforms it reaches: the scheduler claims deliveries for these only."""
        ...

    async def compose(self, claim: DeliveryClaim) -> Message | None:
        """The message a claimed digest, nudge or step makes; None when there is nothing to send."""
        ...

    def compose_notice(self, notice: SyncNotice) -> Message: ...

    def compose_note(self, text: str) -> Message:
        """A message about a change from Pipedrive (a deal won)."""
        ...

    async def send(self, to: ChatIdentityView, message: Message) -> str | None:
        """Deliver `message` to the user's DM on `to.platform`; return the platform's message id if it has one."""
        ...

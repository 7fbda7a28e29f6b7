"""The chat side of scheduled messages: the scheduler's `Courier`, and the `Notifier` each platform sends through.

`ChatCourier` renders what the scheduler claimed (a digest through the conversation, a nudge or a cadence step
through bot.render) as a neutral reply and hands it to the notifier of the user's platform. Slack, Telegram and
the console each implement `Notifier`; a notifier raises scheduler.ports' `TemporaryDeliveryError` for what a
retry may fix and `PermanentDeliveryError` for what it never will.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import render
from bot.conversation import Conversation
from bot.replies import Reply
from core.cadences.commands import DueSteps
from core.deliveries.commands import DeliveryClaim
from core.service import Core
from core.sync.commands import SyncNotice
from core.users.commands import ChatIdentityView


@dataclass(frozen=True)
class ChatTarget:
    """Where to reach one user on one platform."""

    user_id: int
    platform: str
    external_user_id: str
    dm_channel: str | None = None


class Notifier(Protocol):
    platform: str

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        """Deliver `reply` to the user's DM; return the platform's message id if it has one."""
        ...


class ChatCourier:
    """The scheduler's courier (scheduler.ports.Courier) over one notifier per platform."""

    def __init__(self, core: Core, notifiers: Mapping[str, Notifier]) -> None:
        self.notifiers = dict(notifiers)
        self._conversations = {platform: Conversation(core, platform) for platform in self.notifiers}

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self.notifiers)

    async def compose(self, claim: DeliveryClaim) -> Reply | None:
        if claim.kind == "digest":
            day = claim.due_at.astimezone(ZoneInfo(claim.user.timezone)).date()
            return await self._conversations[claim.target.platform].digest(claim.user, day)
        if claim.kind == "step":
            return render.due_steps(DueSteps((claim.step,)), header="⏭ A cadence step is due:")
        if claim.kind == "rule":
            return render.rule_nudge(claim.contact, claim.rule, claim.user)
        return render.nudge(claim.contact, claim.follow_up, claim.user)

    def compose_notice(self, notice: SyncNotice) -> Reply:
        return Reply(f"⚠️ A Pipedrive sync needs you: {notice.text}")

    def compose_note(self, text: str) -> Reply:
        return Reply(f"🎉 {text}")

    async def send(self, to: ChatIdentityView, message: Reply) -> str | None:
        target = ChatTarget(to.user_id, to.platform, to.external_user_id, to.dm_channel)
        return await self.notifiers[to.platform].send(target, message)

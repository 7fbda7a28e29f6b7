"""What the Slack listener modules are given: `Listen` to register with Bolt, and `SlackDeps` to work with.

Every listener acknowledges first (Slack's 3 seconds) and works afterwards; Bolt runs that work in the
background, and `InFlight` counts it so that a shutdown (or a test) can wait for it to finish.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Conversation
from bot.replies import Reply
from bot.slack import render
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import Messenger, Origin
from core.errors import PipedrivenError
from core.views import UserView

log = logging.getLogger(__name__)


class InFlight:
    """Interactions acknowledged whose work is still running (Bolt runs it after the ack)."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def begin(self, next) -> None:
        """Bolt listener middleware: counts the work in before Bolt starts it in the background."""
        self._count += 1
        self._idle.clear()
        await next()

    def _end(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def track(self, listener):
        """The listener, counted out when it ends (Bolt reads the arguments it wants through the wrapper)."""

        @functools.wraps(listener)
        async def tracked(**kwargs):
            try:
                return await listener(**kwargs)
            finally:
                self._end()

        return tracked

    async def wait_idle(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)


@dataclass(frozen=True)
class Listen:
    """`listen(kind, constraints, listener)` registers `listener` with Bolt (`kind`: command, action, view or
    event), its work counted in flight."""

    app: AsyncApp
    in_flight: InFlight

    def __call__(self, kind: str, constraints, listener) -> None:
        getattr(self.app, kind)(constraints, middleware=[self.in_flight.begin])(self.in_flight.track(listener))


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners share: the conversation, who is who, the messenger and the Web API client."""

    conversation: Conversation
    identity: SlackIdentity
    messenger: Messenger
    client: AsyncWebClient

    async def user(self, slack_user_id: str, origin: Origin) -> UserView | None:
        """The Pipedriven user, or None after telling them how to be added (or what went wrong)."""
        try:
            return await self.identity.user(slack_user_id)
        except PipedrivenError as exc:
            await self.messenger.tell(origin, Reply(exc.user_message, ephemeral=True))
            return None

    async def publish_home(self, user: UserView, slack_user_id: str, notice: str | None = None) -> None:
        reply = await self.conversation.home(user)
        await self.messenger.publish_home(slack_user_id, render.home_view(reply, notice))

    async def answer(
        self,
        user: UserView,
        origin: Origin,
        reply: Reply,
        *,
        row: str | None = None,
        blocks: list[dict] | None = None,
        restore_actions: str | None = None,
    ) -> None:
        """Show the outcome of a tap or a modal: in place of the row it was about when it can be, else as a
        new message. `restore_actions` (after an undo) gives the row its usual buttons back under a new id."""
        if reply.repeat:
            return  # a platform's retry: the first delivery has been answered
        contact = render.contact_of_row(row) if row else None
        if contact is None or reply.replaces_contact_id != contact:
            await self.messenger.tell(origin, reply)
            return
        line = f"{reply.text.rstrip('.')} · {self.conversation.now_for(user):%H:%M}"
        if origin.kind == "ephemeral":  # Slack doesn't give back an ephemeral message's blocks: a new line
            await self.messenger.ephemeral(origin, Reply(line, undo=reply.undo))
            return
        if reply.undo:
            actions = render.undo_actions(reply.undo, row)
        elif restore_actions:
            actions = render.row_actions(contact, row, restore_actions)
        else:
            actions = None
        if origin.kind == "home":
            updated = render.replace_row(blocks, row, line, actions) if blocks else None
            try:
                if updated is not None:
                    await self.messenger.publish_home(
                        origin.user_id, {"type": "home", "blocks": updated}, origin.view_hash
                    )
                    return
            except SlackApiError as exc:  # the home changed meanwhile (hash_conflict): show it afresh
                log.info("App Home update refused: %s", exc.response.get("error"))
            await self.publish_home(user, origin.user_id, notice=line)
            return
        updated = render.replace_row(blocks or await self.messenger.message_blocks(origin) or [], row, line, actions)
        if updated is None:
            await self.messenger.tell(origin, Reply(line, undo=reply.undo))
        else:
            await self.messenger.update(origin, updated, line)

"""Typed input: `/outreach WORDS` anywhere, and plain messages in the bot's DM, both read by the chat grammar.

Answers stay private: in the bot's DM they are ordinary messages (so their rows can be updated in place),
anywhere else they are ephemeral. A redelivery (same trigger_id, or an event Slack retries with the same
event_id) is acted on once and answered once.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot import codec
from bot.render import edit_button
from bot.replies import Reply
from bot.slack.deps import Listen, SlackDeps
from bot.slack.messenger import Origin
from bot.slack.views import open_edit_form

log = logging.getLogger(__name__)

COMMAND = "/outreach"
# <mailto:a@b.com|a@b.com>, <http://x.com|x.com>, <@U123>, <#C123|general>: Slack's markup for what it recognised.
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def unwrap(text: str) -> str:
    """What the user typed, from Slack's wrapped form: links and emails as written, &amp; &lt; &gt; undone."""

    def plain(match: re.Match) -> str:
        target, label = match[1], match[2]
        return label or target.removeprefix("mailto:")

    text = _SLACK_LINK.sub(plain, text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


FORM_OFFER = "Change it in the contact form:"


def _asks_edit(reply: Reply) -> bool:
    """`edit CONTACT FIELD` without a value: Slack asks with the contact form rather than a question whose
    answer, typed as a new message, couldn't find it."""
    return reply.prompt is not None and reply.prompt.data.startswith("edit:")


def register(listen: Listen, deps: SlackDeps) -> None:
    async def command_origin(command: dict) -> Origin:
        user_id, channel = command["user_id"], command.get("channel_id") or ""
        if channel.startswith("D"):
            try:
                if channel == await deps.messenger.dm_channel(user_id):
                    return Origin(user_id, "dm", channel)
            except SlackApiError as exc:
                log.info("conversations.open failed: %s", exc.response.get("error"))
        return Origin(user_id, "ephemeral", channel, response_url=command.get("response_url"))

    async def outreach(ack, command: dict) -> None:
        """`/outreach WORDS`: the whole chat grammar."""
        await ack()
        origin = await command_origin(command)
        user = await deps.user(command["user_id"], origin)
        if user is None:
            return
        reply = await deps.conversation.handle_text(
            user, unwrap(command.get("text", "")), idempotency_key=f"slack:command:{command['trigger_id']}"
        )
        if _asks_edit(reply):
            await open_edit_form(deps, user, reply.prompt.data, command["trigger_id"], origin)
        elif not reply.repeat:
            await deps.messenger.tell(origin, reply)

    async def direct_message(event: dict, body: dict) -> None:
        """A message typed in the bot's DM: the same grammar as `/outreach`, without the slash."""
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        origin = Origin(event["user"], "dm", event["channel"])
        user = await deps.user(event["user"], origin)
        if user is None:
            return
        reply = await deps.conversation.handle_text(
            user, unwrap(event.get("text", "")), idempotency_key=f"slack:event:{body['event_id']}"
        )
        if _asks_edit(reply):  # no trigger to open the form with: a button that opens it
            contact_id = codec.decode(reply.prompt.data).contact_id
            await deps.messenger.tell(origin, Reply(FORM_OFFER, footer=edit_button(contact_id), ephemeral=True))
        elif not reply.repeat:
            await deps.messenger.tell(origin, reply)

    async def other_message(event: dict) -> None:
        """Edits, joins and other message subtypes in the DM: acknowledged (so Slack doesn't retry), ignored."""

    listen("command", COMMAND, outreach)
    listen("event", {"type": "message", "subtype": None}, direct_message)
    listen("event", "message", other_message)

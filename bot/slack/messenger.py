"""Where an answer goes in Slack, and the Web API calls that put it there.

An interaction comes from one of three places (its `Origin`): a message the bot posted in the user's DM (the
morning digest, replies to `/outreach` typed in that DM), an ephemeral reply in some channel, or the App Home.
Rows of a DM message and of the App Home are updated in place; Slack does not send an ephemeral message's
content back with a tap, so there a tap's outcome comes as a new ephemeral line. The bot's own messages only
ever go to the user's DM: what someone does in a channel is never shown to the channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.replies import Reply
from bot.slack import render
from core import metrics

log = logging.getLogger(__name__)


class RetryAfter429(AsyncRetryHandler):
    """Slack's 429: wait as long as its Retry-After says, then try again; a wait longer than `max_wait` is not
    waited for here (the caller gets the 429, and a scheduler retries later)."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = 30.0, sleep=asyncio.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    @staticmethod
    def wait_of(response) -> float:
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                value = values[0] if isinstance(values, list) else values
                try:
                    return max(0.0, float(value))
                except ValueError:
                    break
        return 1.0

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        metrics.RATE_LIMITED.labels("slack").inc()
        return self.wait_of(response) <= self.max_wait

    async def prepare_for_next_attempt_async(self, *, state, request, response=None, error=None) -> None:
        state.next_attempt_requested = True
        await self.sleep(self.wait_of(response))
        state.increment_current_attempt()


@dataclass(frozen=True)
class Origin:
    """Where an interaction came from, and so where its answer goes."""

    user_id: str
    kind: str  # "dm" (a message of ours in the user's DM), "ephemeral" (in some channel) or "home"
    channel: str | None = None
    message_ts: str | None = None
    response_url: str | None = None
    view_id: str | None = None  # the App Home view, and the hash of the version the user saw
    view_hash: str | None = None

    @classmethod
    def of_action(cls, body: dict) -> Origin:
        """The origin of a block_actions payload."""
        container = body.get("container") or {}
        user_id = body["user"]["id"]
        if container.get("type") == "view":
            view = body.get("view") or {}
            return cls(user_id, "home", view_id=view.get("id"), view_hash=view.get("hash"))
        kind = "ephemeral" if container.get("is_ephemeral") else "dm"
        return cls(user_id, kind, container.get("channel_id"), container.get("message_ts"), body.get("response_url"))

    def to_metadata(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_metadata(cls, data: dict) -> Origin:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


class Messenger:
    """Posts, updates and publishes replies through the Web API (and response URLs)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}

    async def dm_channel(self, slack_user_id: str) -> str:
        """The bot's DM with this user (conversations.open gives the same one every time)."""
        if slack_user_id not in self._dm_channels:
            opened = await self.client.conversations_open(users=slack_user_id)
            self._dm_channels[slack_user_id] = opened["channel"]["id"]
        return self._dm_channels[slack_user_id]

    async def post(self, channel: str, reply: Reply) -> str | None:
        """Post the reply as one message in `channel`; returns its ts."""
        message = render.message(reply)
        sent = await self.client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)
        await self.attach(channel, reply)
        return sent.get("ts")

    async def attach(self, channel: str, reply: Reply) -> None:
        """Upload the reply's files (the stats chart) into `channel`, after its text, through Slack's external
        upload flow (files.getUploadURLExternal, the upload, files.completeUploadExternal). The text is what
        was asked for: a failed upload (refused, or the network) is logged, never the user's failure, and never
        a reason to send the text again."""
        for attachment in reply.attachments:
            try:
                await self.client.files_upload_v2(
                    channel=channel,
                    file=attachment.data,
                    filename=attachment.filename,
                    title=attachment.title or attachment.filename,
                    alt_txt=attachment.title or None,
                )
            except (SlackApiError, SlackRequestError, ClientError, OSError) as exc:
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else repr(exc)
                log.warning("could not upload %s: %s", attachment.filename, error)

    async def ephemeral(self, origin: Origin, reply: Reply) -> None:
        """Only the user sees it: through the response URL while there is one, else chat.postEphemeral. Its
        files can't be ephemeral: they go to the user's DM, never to the channel."""
        message = render.message(reply)
        if origin.response_url:
            answer = await AsyncWebhookClient(origin.response_url).send(
                text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
            )
            if answer.status_code != 200:
                log.warning("response_url answered %s", answer.status_code)
        else:
            await self.client.chat_postEphemeral(
                channel=origin.channel, user=origin.user_id, text=message.text, blocks=message.blocks
            )
        if reply.attachments:
            await self.attach(await self.dm_channel(origin.user_id), reply)

    async def tell(self, origin: Origin, reply: Reply) -> None:
        """A new message for the user, next to what they tapped or typed."""
        if origin.kind == "ephemeral":
            await self.ephemeral(origin, reply)
        else:
            await self.post(origin.channel if origin.kind == "dm" else await self.dm_channel(origin.user_id), reply)

    async def message_blocks(self, origin: Origin) -> list[dict] | None:
        """The current blocks of the DM message the origin names (when the tap's payload did not carry them)."""
        try:
            found = await self.client.conversations_history(
                channel=origin.channel, latest=origin.message_ts, inclusive=True, limit=1
            )
        except SlackApiError as exc:
            log.warning("could not read back message %s: %s", origin.message_ts, exc.response.get("error"))
            return None
        messages = [m for m in found.get("messages", []) if m.get("ts") == origin.message_ts]
        return messages[0].get("blocks") if messages else None

    async def update(self, origin: Origin, blocks: list[dict], text: str) -> None:
        await self.client.chat_update(channel=origin.channel, ts=origin.message_ts, text=text, blocks=blocks)

    async def publish_home(self, slack_user_id: str, view: dict, view_hash: str | None = None) -> None:
        kwargs = {"hash": view_hash} if view_hash else {}
        await self.client.views_publish(user_id=slack_user_id, view=view, **kwargs)

    async def open_modal(self, trigger_id: str, view: dict) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=view)


def metadata(data: str, origin: Origin, row: str | None) -> str:
    """A modal's private_metadata: the button it answers, where it came from, and the row to update."""
    return json.dumps({"data": data, "origin": origin.to_metadata(), "row": row}, separators=(",", ":"))


def read_metadata(text: str) -> tuple[str, Origin, str | None]:
    data = json.loads(text)
    return data["data"], Origin.from_metadata(data["origin"]), data.get("row")

"""Files shared in the bot's DM: a CSV is imported into the sender's bank and answered with the import report.

Slack announces a shared file with a `message` event of subtype `file_share` (acknowledged by Bolt at once,
like every event). For each file, files.info gives its name, type and size: anything but a CSV is explained, a
file over IMPORT_MAX_UPLOAD_BYTES is refused, both before any download. A CSV is then downloaded from its
url_private (with the bot token, which needs `files:read`) and imported with the file's id as idempotency key:
Slack's retry of the event (X-Slack-Retry-Num) imports nothing and says nothing more, while the same file shared
again is imported once and the user told so.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.replies import Reply
from bot.slack.deps import Listen, SlackDeps
from bot.slack.messenger import Origin
from core.echo import quoted
from core.errors import PipedrivenError
from core.importing.uploads import check_upload_size

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60.0  # seconds for a whole download
CHUNK_BYTES = 64 * 1024
SLACK_FILE_HOST = "files.slack.com"  # where Slack serves the files users share (url_private)
REMOTE_FILE = (
    "{name} is stored outside Slack (shared as a link to another service), so I can't read it and "
    "nothing was imported. Download it as a CSV file and share that file here."
)


class DownloadFailed(PipedrivenError):
    """I couldn't fetch that file from Slack, so nothing was imported. Please share it again in a moment."""


def may_send_token(url: str, api_url: str) -> bool:
    """The bot token goes only to Slack's file host over HTTPS, or to the origin of the configured Web API
    (SLACK_API_URL: Slack itself, or a local stand-in)."""
    target, api = urlsplit(url), urlsplit(api_url)
    try:
        slack_files = target.scheme == "https" and target.hostname == SLACK_FILE_HOST and target.port in (None, 443)
    except ValueError:  # a port that is not a number
        return False
    return slack_files or (bool(target.netloc) and (target.scheme, target.netloc) == (api.scheme, api.netloc))


def is_remote(info: dict) -> bool:
    """A remote file (files.remote.add): Slack holds only a link to it, its url_private is the other service's."""
    return bool(info.get("is_external")) or info.get("mode") == "external"


async def download(url: str, token: str, max_bytes: int) -> bytes:
    """The file at a Slack url_private, read with the bot token; refused past `max_bytes` whatever was
    announced, so a file that grew never fills memory."""
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                # Without files:read Slack answers 200 with its sign-in page, not the file.
                if response.status != 200 or response.content_type == "text/html":
                    log.warning(
                        "Slack file download answered %s (%s): does the app have files:read?",
                        response.status,
                        response.content_type,
                    )
                    raise DownloadFailed()
                data = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    data += chunk
                    check_upload_size(len(data), max_bytes)
                return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Slack file download failed: %s", type(exc).__name__)
        raise DownloadFailed() from exc


def register(listen: Listen, deps: SlackDeps) -> None:
    async def import_file(user, file_id: str) -> Reply:
        """One shared file: explained, refused, or downloaded and imported."""
        try:
            info = (await deps.client.files_info(file=file_id))["file"]
            name = info.get("name") or info.get("title")
            if is_remote(info):
                return Reply(REMOTE_FILE.format(name=quoted(name) if name else "That file"), ephemeral=True)
            refusal = deps.conversation.refuse_file(name, info.get("mimetype"), info.get("size"))
            if refusal is not None:
                return refusal
            url = info.get("url_private_download") or info.get("url_private") or ""
            if not may_send_token(url, str(deps.client.base_url)):
                log.warning("not sending the bot token to %s", urlsplit(url).hostname or "an empty URL")
                raise DownloadFailed()
            data = await download(url, deps.client.token, deps.conversation.max_upload_bytes)
        except SlackApiError as exc:
            log.warning("files.info failed for %s: %s", file_id, exc.response.get("error"))
            return Reply(DownloadFailed().user_message, ephemeral=True)
        except PipedrivenError as exc:  # DownloadFailed, or a file bigger than it was announced
            return Reply(exc.user_message, ephemeral=True)
        return await deps.conversation.handle_file(user, data, name, idempotency_key=f"slack:file:{file_id}")

    async def file_shared(event: dict, request) -> None:
        """Files shared in the bot's DM: each CSV imported, anything else explained."""
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        origin = Origin(event["user"], "dm", event["channel"])
        user = await deps.user(event["user"], origin)
        if user is None:
            return
        retried = bool(request.headers.get("x-slack-retry-num"))
        for shared in event.get("files") or []:
            reply = await import_file(user, shared["id"])
            if not (reply.repeat and retried):  # a retry of an event already answered stays silent
                await deps.messenger.tell(origin, reply)

    listen("event", {"type": "message", "subtype": "file_share"}, file_shared)

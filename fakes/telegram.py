"""A local Telegram Bot API server for the tests: the methods the bot calls, in Telegram's JSON shapes.

It plays Telegram for the real python-telegram-bot stack, reached through TELEGRAM_API_URL. Users send
messages and tap buttons; their updates reach the bot as Telegram delivers them: through getUpdates long
polling, or POSTed to the webhook with the secret header once setWebhook was called (like a self-hosted Bot
API server, it takes an http:// webhook on any port). Every call the bot makes is recorded for assertions.

Users can send documents: getFile hands out a file_path (refusing files over the cloud Bot API's 20 MB) and
the file is served at TELEGRAM_API_URL's file base, /file/bot<token>/<file_path>, as Telegram does. The bot's
photos (sendPhoto) arrive as multipart uploads; they are kept, bytes and all.

It refuses what Telegram refuses, with Telegram's error descriptions: callback_data over 64 bytes, text over
4096 characters or empty, HTML it can't parse ("can't parse entities", as tdlib parses it), a second answer
to a callback query or one over 200 characters, an edit that changes nothing, a chat the bot may not write
to (unknown: "chat not found"; blocked: 403), a photo that isn't an image or whose dimensions Telegram
won't take, a caption over 1024 characters. `throttle()` makes a method answer 429 with retry_after.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import os
import re
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
ANSWER_TEXT_LIMIT = 200
CAPTION_LIMIT = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile's limit on the cloud Bot API
PHOTO_LIMIT = 10 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DELIVERY_TIMEOUT = 10.0  # a bot that never fetches an update fails the test instead of hanging it


class ApiError(Exception):
    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Call:
    """One Bot API call the bot made, and how the server answered it."""

    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)
    result: Any = None


# --- Telegram's HTML, parsed as tdlib does ------------------------------------------------------------------

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTRIBUTE_SOURCE = r"[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?"
_START_TAG = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_ATTRIBUTE_SOURCE})*)\s*>")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_CHAR_REF = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict]]:
    """Telegram's HTML parse mode: the visible text and its entities (offsets in UTF-16 code units)."""

    def parse_error(problem: str, at: int) -> ApiError:
        return bad_request(f"can't parse entities: {problem} at byte offset {len(source[:at].encode())}")

    text: list[str] = []
    size = 0
    open_tags: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&" and (ref := _CHAR_REF.match(source, i)):
            decimal, hexadecimal, name = ref.groups()
            char = _NAMED[name] if name else chr(int(decimal) if decimal else int(hexadecimal, 16))
            i = ref.end()
        elif char == "<" and source.startswith("</", i):
            end = _END_TAG.match(source, i)
            if end is None:
                raise parse_error("Unclosed end tag", i)
            name = end[1].lower()
            if not open_tags:
                raise parse_error("Unexpected end tag", i)
            if open_tags[-1][0] != name:
                raise parse_error(f'Unmatched end tag, expected "</{open_tags[-1][0]}>", found "</{name}>"', i)
            tag, start, attributes = open_tags.pop()
            if size > start:
                entity = {"type": _ENTITY_TYPES[tag], "offset": start, "length": size - start}
                if tag == "a":
                    entity["url"] = attributes.get("href", "")
                entities.append(entity)
            i = end.end()
            continue
        elif char == "<":
            start_tag = _START_TAG.match(source, i)
            if start_tag is None:
                name = re.match(r"<([^\s>]*)", source[i:])[1]
                if ">" not in source[i:]:
                    raise parse_error("Unclosed start tag", i)
                raise parse_error(f'Unsupported start tag "{name}"', i)
            name = start_tag[1].lower()
            attributes = {
                m[1].lower(): next((v for v in m.groups()[1:] if v is not None), "")
                for m in _ATTRIBUTE.finditer(start_tag[2])
            }
            if name not in _ENTITY_TYPES or (name == "span" and attributes.get("class") != "tg-spoiler"):
                raise parse_error(f'Unsupported start tag "{name}"', i)
            open_tags.append((name, size, attributes))
            i = start_tag.end()
            continue
        else:
            i += 1
        text.append(char)
        size += utf16_len(char)
    if open_tags:
        raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


# --- the server ---------------------------------------------------------------------------------------------


class FakeTelegram:
    def __init__(self, *, bot_id: int = 4242, username: str = "PipedrivenTestBot") -> None:
        self.token = f"{bot_id}:AAtest-token"
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Pipedriven",
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.commands: list[dict] | None = None
        self.webhook: dict | None = None
        self.webhook_error: str | None = None  # getWebhookInfo's last_error_message
        self.blocked: set[int] = set()
        self._chats: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._message_ids: dict[int, itertools.count] = {}
        self._update_ids = itertools.count(70_000)
        self._pending: list[dict] = []
        self._confirmed = 0  # every update below this id has been fetched and confirmed by the bot
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._throttles: list[list] = []  # [method, retry_after, times left]
        self._files: dict[str, dict] = {}  # file_id -> file_unique_id, file_size, file_path, data
        self.photos: list[dict] = []  # the photos the bot sent: chat_id, data, filename, caption
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what the tests look at -------------------------------------------------------------------------

    def sent(self, method: str, since: int = 0) -> list[dict]:
        """The parameters of the calls of `method` that Telegram accepted."""
        return [c.params for c in self.calls[since:] if c.method == method and c.status == 200]

    def refused(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.status != 200 and (method is None or c.method == method)]

    def messages(self, chat_id: int) -> list[dict]:
        """The bot's messages in a chat as they stand now (edits applied), oldest first."""
        return [
            copy.deepcopy(m)
            for (chat, _), m in sorted(self._messages.items())
            if chat == chat_id and m["from"]["id"] == self.bot_user["id"]
        ]

    def message(self, chat_id: int, message_id: int) -> dict:
        return copy.deepcopy(self._messages[(chat_id, message_id)])

    @staticmethod
    def buttons(message: dict) -> list[dict]:
        return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]

    def button(self, message: dict, label: str, row: int | None = None) -> str:
        """The callback_data of the button whose label contains `label` (in keyboard row `row`, if given)."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        for index, buttons in enumerate(rows):
            for b in buttons:
                if label in b["text"] and (row is None or index == row):
                    return b["callback_data"]
        raise AssertionError(f"no button {label!r} in {[b['text'] for b in self.buttons(message)]}")

    def throttle(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next `times` calls of `method` are refused with 429 and this retry_after."""
        self._throttles.append([method, retry_after, times])

    # --- users' side ------------------------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ana", username: str | None = None) -> dict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": username or first_name.lower(),
            "language_code": "en",
        }

    def open_chat(self, user: dict) -> None:
        """The user has started the bot at some point, so the bot may write to them."""
        self._chat_of(user)

    def _chat_of(self, user: dict) -> dict:
        """A user's private chat with the bot (its id is the user's); known once the user wrote to the bot."""
        return self._chats.setdefault(
            user["id"],
            {"id": user["id"], "type": "private", "first_name": user["first_name"], "username": user["username"]},
        )

    def message_update(self, user: dict, text: str, *, reply_to: dict | None = None) -> dict:
        """An update carrying a message the user typed (a reply to `reply_to` when given)."""
        message = self._store(self._chat_of(user), user, text, reply_to=reply_to)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
            self._messages[(user["id"], message["message_id"])]["entities"] = message["entities"]
        return {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}

    def document_update(
        self,
        user: dict,
        file_name: str,
        data: bytes,
        *,
        mime_type: str | None = "text/csv",
        file_size: int | None = None,
        unique_id: str | None = None,
    ) -> dict:
        """An update carrying a document the user sent. `file_size` is what Telegram announces (the bytes' by
        default); the same `unique_id` is the same file sent again (Telegram's file_unique_id)."""
        n = len(self._files) + 1
        file_id = f"BQACAgQAAxkBAAI{n:04d}{uuid.uuid4().hex[:12]}"
        unique = unique_id or f"AgAD{n:04d}"
        self._files[file_id] = {
            "file_unique_id": unique,
            "file_size": len(data) if file_size is None else file_size,
            "file_path": f"documents/file_{n}{os.path.splitext(file_name)[1]}",
            "data": data,
        }
        document = {
            "file_name": file_name,
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": self._files[file_id]["file_size"],
        }
        if mime_type:
            document["mime_type"] = mime_type
        message = self._store(self._chat_of(user), user, None, extra={"document": document})
        return {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}

    def downloads(self) -> list[Call]:
        """The file downloads the bot made."""
        return [c for c in self.calls if c.method == "download"]

    def tap_update(self, user: dict, message: dict, data: str) -> dict:
        """An update for a tap on a button of `message` (as it stands now) sending `data`."""
        query_id = uuid.uuid4().hex[:16]
        self._queries[query_id] = False
        current = self._messages[(message["chat"]["id"], message["message_id"])]
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": user,
                "message": copy.deepcopy(current),
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            },
        }

    async def deliver(self, update: dict, *, again: bool = False) -> int | None:
        """Hand the update to the bot as Telegram would. Through the webhook: POST it with the secret and
        return the HTTP status. Through polling: return once the bot has fetched and confirmed it; `again`
        hands out an update whose confirmation was lost (the bot died first), as Telegram does."""
        if self.webhook is not None:
            return await self.post_to_webhook(update, self.webhook.get("secret_token"))
        async with self._changed:
            if again:
                self._confirmed = min(self._confirmed, update["update_id"])
            self._pending.append(update)
            self._changed.notify_all()
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self._confirmed > update["update_id"]), DELIVERY_TIMEOUT
            )
        return None

    async def post_to_webhook(self, update: dict, secret: str | None) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook["url"], json=update, headers=headers) as response:
                return response.status

    # --- the Bot API ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        prefix, _, method = request.match_info["path"].partition("/")
        if prefix == "file":
            return self._download(method)
        if prefix != f"bot{self.token}":
            return _answer(ApiError(401, "Unauthorized"))
        params = await _params(request)
        call = Call(method, params, 200)
        self.calls.append(call)
        try:
            for throttle in self._throttles:
                if throttle[0] == method and throttle[2] > 0:
                    throttle[2] -= 1
                    raise ApiError(429, f"Too Many Requests: retry after {throttle[1]}", retry_after=throttle[1])
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            call.result = await handler(params)
        except ApiError as error:
            call.status = error.code
            return _answer(error)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": call.result})

    def _download(self, path: str) -> web.Response:
        """GET /file/bot<token>/<file_path>: a file getFile handed out."""
        prefix, _, file_path = path.partition("/")
        found = next((f for f in self._files.values() if f["file_path"] == file_path), None)
        call = Call("download", {"file_path": file_path}, 200)
        self.calls.append(call)
        if prefix != f"bot{self.token}" or found is None:
            call.status = 404
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=found["data"], content_type="application/octet-stream")

    async def _api_getMe(self, params: dict) -> dict:
        return self.bot_user

    async def _api_getWebhookInfo(self, params: dict) -> dict:
        info = {"url": self.webhook["url"] if self.webhook else "", "has_custom_certificate": False}
        info["pending_update_count"] = 0 if self.webhook else len(self._pending)
        if self.webhook_error:
            info["last_error_date"], info["last_error_message"] = int(time.time()), self.webhook_error
        return info

    async def _api_setMyCommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = commands
        return True

    async def _api_deleteWebhook(self, params: dict) -> bool:
        self.webhook = None
        if _flag(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _api_setWebhook(self, params: dict) -> bool:
        if not params.get("url"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        self.webhook = {"url": params["url"], "secret_token": secret}
        return True

    async def _api_getUpdates(self, params: dict) -> list[dict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            if offset:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
                self._confirmed = max(self._confirmed, offset)
                self._changed.notify_all()
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._pending or self._closing), timeout)
            except TimeoutError:
                pass
            return copy.deepcopy(self._pending[:limit])

    async def _api_sendMessage(self, params: dict) -> dict:
        chat = self._writable_chat(params.get("chat_id"))
        text, entities = _text(params)
        markup = _reply_markup(params.get("reply_markup"))
        reply_to = None
        if isinstance(params.get("reply_parameters"), dict):
            key = (chat["id"], int(params["reply_parameters"]["message_id"]))
            if key not in self._messages and not params["reply_parameters"].get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            reply_to = self._messages.get(key)
        message = self._store(chat, self.bot_user, text, entities=entities, markup=markup, reply_to=reply_to)
        return copy.deepcopy(message)

    async def _api_editMessageText(self, params: dict) -> dict:
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = _text(params)
        markup = _reply_markup(params.get("reply_markup"))
        inline = markup if markup and "inline_keyboard" in markup else None
        if (text, entities, inline) == (message["text"], message.get("entities", []), message.get("reply_markup")):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(text=text, entities=entities, edit_date=int(time.time()))
        self._set_markup(message, inline)
        return copy.deepcopy(message)

    async def _api_editMessageReplyMarkup(self, params: dict) -> dict:
        message = self._editable(params)
        markup = _reply_markup(params.get("reply_markup"))
        inline = markup if markup and "inline_keyboard" in markup else None
        if inline == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._set_markup(message, inline)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _api_getFile(self, params: dict) -> dict:
        file_id = str(params.get("file_id") or "")
        file = self._files.get(file_id)
        if file is None:
            raise bad_request("invalid file_id")
        if file["file_size"] > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file["file_unique_id"],
            "file_size": file["file_size"],
            "file_path": file["file_path"],
        }

    async def _api_sendPhoto(self, params: dict) -> dict:
        chat = self._writable_chat(params.get("chat_id"))
        photo = params.get("photo")
        if not isinstance(photo, web.FileField):  # a file_id or URL of a photo Telegram already has: not here
            raise bad_request("wrong file identifier/HTTP URL specified")
        data = photo.file.read()
        width, height = _image_size(data)
        if len(data) > PHOTO_LIMIT or width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        caption = str(params.get("caption") or "")
        if len(caption) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        self.photos.append({"chat_id": chat["id"], "data": data, "filename": photo.filename, "caption": caption})
        sizes = [
            {
                "file_id": f"AgACAgQAAxkBAAI{len(self.photos):04d}",
                "file_unique_id": f"AQAD{len(self.photos):04d}",
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]
        message = self._store(
            chat, self.bot_user, None, extra={"photo": sizes, **({"caption": caption} if caption else {})}
        )
        return copy.deepcopy(message)

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self._queries.get(query_id, True):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > ANSWER_TEXT_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        self._queries[query_id] = True
        return True

    # --- state ------------------------------------------------------------------------------------------

    def _writable_chat(self, chat_id: Any) -> dict:
        try:
            chat = self._chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _editable(self, params: dict) -> dict:
        chat = self._writable_chat(params.get("chat_id"))
        message = self._messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message to edit not found")
        return message

    def _store(
        self,
        chat: dict,
        sender: dict,
        text: str | None,
        *,
        entities: list | None = None,
        markup: dict | None = None,
        reply_to: dict | None = None,
        extra: dict | None = None,
    ) -> dict:
        """A message in the chat: text, or (text None) what `extra` holds, a document or a photo."""
        ids = self._message_ids.setdefault(chat["id"], itertools.count(1))
        message = {
            "message_id": next(ids),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **({"text": text} if text is not None else {}),
            **(extra or {}),
        }
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in copy.deepcopy(reply_to).items() if k != "reply_to_message"}
        self._set_markup(message, markup if markup and "inline_keyboard" in markup else None)
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    @staticmethod
    def _set_markup(message: dict, inline: dict | None) -> None:
        if inline:
            message["reply_markup"] = inline
        else:
            message.pop("reply_markup", None)


def _answer(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


async def _params(request: web.Request) -> dict[str, Any]:
    """Parameters as Telegram reads them: query string, JSON body or form fields (objects JSON-encoded)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, str) and value[:1] in "[{":
                value = json.loads(value)
            params[key] = value
    return params


def _image_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, as Telegram reads them before taking a photo."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    raise bad_request("IMAGE_PROCESS_FAILED")  # (Telegram takes JPEGs too; the bot sends only PNGs)


def _flag(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _text(params: dict) -> tuple[str, list[dict]]:
    source = str(params.get("text") or "")
    if params.get("parse_mode") == "HTML":
        text, entities = parse_html(source)
    elif params.get("parse_mode"):
        raise bad_request(f"unsupported parse_mode {params['parse_mode']!r} in these tests")
    else:
        text, entities = source, []
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def _reply_markup(markup: Any) -> dict | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if sum(len(row) for row in rows) > 100:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup
    if markup.get("force_reply") is True:
        if len(markup.get("input_field_placeholder") or "") > 64:
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")

"""A local stand-in for Slack: its Web API methods (as the SDK calls them), response URLs, and a client that sends
signed requests to our app the way Slack does.

The fake keeps what Slack would: the messages posted (so chat.update and conversations.history work on them),
the App Home and modals, and files: those users share (files.info, and their url_private served only with the
bot token; without it Slack answers with its sign-in page) and those the bot uploads through the external
upload flow (files.getUploadURLExternal, the bytes POSTed to the upload URL, files.completeUploadExternal).
Every message or view it receives is checked against Block Kit with slack_sdk's models and Slack's limits; a
bad one is refused (`invalid_blocks`) and remembered in `invalid`, which the fixtures assert is empty at the
end of every test.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

PAYLOADS = Path(__file__).resolve().parent / "slack_payloads"  # requests as Slack sends them, to start from
TEXT_OBJECT_LIMIT = 3000  # characters of any text object (slack_sdk checks those of sections and buttons)
CONTEXT_ELEMENTS = 10
INPUT_LIMIT = 3000  # a plain_text_input's max_length, and so its initial value
MESSAGE_TEXT_LIMIT = 40_000  # a message's `text`: Slack answers msg_too_long past it
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0001"


def fixture(name: str) -> dict:
    """A sample of a request Slack sends (block_actions.json, slash_command.json, ...), as a dict."""
    return json.loads((PAYLOADS / name).read_text())


@dataclass
class Call:
    method: str
    args: dict


def block_problems(blocks, *, max_blocks: int) -> list[str]:
    """What Slack would refuse in these blocks: Block Kit's shape and limits, and repeated ids."""
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (at most {max_blocks})")
    block_ids, action_ids = [], []
    for raw in blocks:
        parsed = Block.parse(copy.deepcopy(raw))
        if parsed is None:
            problems.append(f"unknown block {raw.get('type')}")
            continue
        try:
            parsed.to_dict()  # checks the block and, recursively, its elements
        except SlackObjectFormationError as exc:
            problems.append(str(exc))
        if raw.get("type") == "context":
            elements = raw.get("elements", [])
            if len(elements) > CONTEXT_ELEMENTS:
                problems.append(f"{len(elements)} context elements (at most {CONTEXT_ELEMENTS})")
            problems += [
                f"context text of {len(e['text'])} characters (at most {TEXT_OBJECT_LIMIT})"
                for e in elements
                if len(e.get("text", "")) > TEXT_OBJECT_LIMIT
            ]
        if raw.get("block_id"):
            block_ids.append(raw["block_id"])
        for element in raw.get("elements", []) if raw.get("type") == "actions" else []:
            action_ids.append(element.get("action_id"))
    if len(block_ids) != len(set(block_ids)):
        problems.append(f"repeated block_id in {block_ids}")
    if len(action_ids) != len(set(action_ids)):
        problems.append(f"repeated action_id in {action_ids}")
    return problems


def input_problems(blocks: list[dict]) -> list[str]:
    """What Slack refuses in a form's text inputs (slack_sdk doesn't check it): a max_length over 3,000, an
    initial value longer than the input takes."""
    problems = []
    for block in blocks:
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") != "plain_text_input":
            continue
        limit = element.get("max_length", INPUT_LIMIT)
        if limit > INPUT_LIMIT:
            problems.append(f"max_length {limit} of {block.get('block_id')} (at most {INPUT_LIMIT})")
        if len(element.get("initial_value") or "") > limit:
            problems.append(f"initial_value of {block.get('block_id')} longer than its max_length {limit}")
    return problems


def view_problems(view) -> list[str]:
    if isinstance(view, str):
        view = json.loads(view)
    try:
        View(**copy.deepcopy(view)).to_dict()
    except (SlackObjectFormationError, TypeError) as exc:
        return [str(exc)]
    return block_problems(view.get("blocks", []), max_blocks=100) + input_problems(view.get("blocks", []))


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.invalid: list[tuple[str, list[str]]] = []
        self.users: dict[str, dict] = {}
        self.messages: dict[tuple[str, str], dict] = {}
        self.homes: dict[str, dict] = {}
        self.modals: list[dict] = []
        self.responses: list[dict] = []  # what came to response URLs
        self.files: dict[str, dict] = {}  # shared by users: id -> files.info's `file`, with its bytes in "data"
        self.uploads: dict[str, dict] = {}  # started by the bot: id -> filename, length, data, and once shared
        self.shared_uploads: list[dict] = []  # the bot's files completed into a channel, in order
        self.failures: dict[str, list[tuple[int, dict, str]]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self.url = ""
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/respond/{n}", self._respond)
        self.app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        self.app.router.add_post("/upload/v1/{file_id}", self._upload)
        self.app.router.add_get("/link", self._socket_mode)
        self.socket: web.WebSocketResponse | None = None
        self.socket_open = asyncio.Event()
        self.socket_acks: asyncio.Queue = asyncio.Queue()

    # --- set-up --------------------------------------------------------------------------------------------

    def add_user(self, slack_id: str, email: str | None, tz: str = "Europe/London", **extra) -> None:
        profile = {"email": email} if email else {}
        self.users[slack_id] = {
            "id": slack_id,
            "team_id": TEAM,
            "name": slack_id.lower(),
            "deleted": False,
            "tz": tz,
            "is_bot": False,
            "profile": profile,
            **extra,
        }

    def fail(self, method: str, status: int = 200, error: str = "ratelimited", headers: dict | None = None) -> None:
        """The next call of `method` fails so."""
        self.failures.setdefault(method, []).append((status, headers or {}, error))

    def response_url(self) -> str:
        return f"{self.url}/respond/{next(self._ids)}"

    def add_file(
        self,
        user: str,
        name: str,
        data: bytes,
        mimetype: str = "text/csv",
        filetype: str = "csv",
        size: int | None = None,
        external_url: str | None = None,
    ) -> str:
        """A file `user` uploads to Slack; returns its id. `size` is what Slack announces (the bytes' by default).
        With `external_url` it is a remote file (files.remote.add): Slack holds a link, its url_private is that."""
        file_id = f"F{next(self._ids):08d}"
        url = f"{self.url}/files-pri/{TEAM}-{file_id}/{name}"
        self.files[file_id] = {
            "id": file_id,
            "created": 1700000000,
            "timestamp": 1700000000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": TEAM,
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "is_public": False,
            "size": len(data) if size is None else size,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "data": data,
        }
        if external_url is not None:
            self.files[file_id].update(
                mode="external",
                is_external=True,
                external_type="app",
                external_id=f"ext-{file_id}",
                external_url=external_url,
                url_private=external_url,
            )
            del self.files[file_id]["url_private_download"]
        return file_id

    def file_share_event(self, user: str, *file_ids: str, text: str = "") -> dict:
        """The message event Slack sends when `user` shares these files in their DM with the bot."""
        files = [{k: v for k, v in self.files[f].items() if k != "data"} for f in file_ids]
        return {
            "type": "message",
            "subtype": "file_share",
            "text": text,
            "files": files,
            "upload": False,
            "user": user,
            "display_as_bot": False,
            "ts": f"{1700000000 + next(self._ts)}.000300",
            "channel": "D" + user,
            "channel_type": "im",
            "event_ts": "1700000000.000300",
        }

    # --- reading what happened -----------------------------------------------------------------------------

    def called(self, method: str) -> list[dict]:
        return [c.args for c in self.calls if c.method == method]

    def dm_messages(self, channel: str) -> list[dict]:
        return [m for (ch, _), m in self.messages.items() if ch == channel]

    # --- the Web API ---------------------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("response_url", body))
        problems = block_problems(body.get("blocks", []), max_blocks=50)
        if problems:
            self.invalid.append(("response_url", problems))
            return web.Response(status=400, text="invalid_blocks")
        self.responses.append(body)
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM}-")
        authorized = request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}"
        self.calls.append(Call("download", {"file": file_id, "authorized": authorized}))
        if not authorized or file_id not in self.files:
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        file = self.files[file_id]
        return web.Response(body=file["data"], content_type=file["mimetype"])

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: takes the file's bytes (no token needed)."""
        upload = self.uploads.get(request.match_info["file_id"])
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"], "length": len(data)}))
        if upload is None or "data" in upload:
            return web.Response(status=404, text="upload URL unknown or used")
        if len(data) != upload["length"]:
            return web.Response(status=400, text=f"expected {upload['length']} bytes, got {len(data)}")
        upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _args(self, request: web.Request) -> dict:
        args = dict(request.query)
        if request.body_exists:
            raw = await request.read()
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw.decode()))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append(Call(method, args))
        token = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.failures.get(method):
            status, headers, error = self.failures[method].pop(0)
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        return web.json_response(handler(args))

    def _refuse(self, method: str, problems: list[str]) -> dict:
        self.invalid.append((method, problems))
        return {"ok": False, "error": "invalid_blocks", "errors": problems}

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode's WebSocket: says hello, then takes the envelopes' acknowledgements."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A123456"}})
        self.socket_open.set()
        async for message in socket:
            await self.socket_acks.put(json.loads(message.data))
        return socket

    def _apps_connections_open(self, args):
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}

    def _auth_test(self, args):
        return {
            "ok": True,
            "url": "https://example.slack.com/",
            "team": "Example",
            "user": "pipedriven",
            "team_id": TEAM,
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "is_enterprise_install": False,
        }

    def _users_info(self, args):
        user = self.users.get(args.get("user"))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversations_open(self, args):
        return {"ok": True, "channel": {"id": "D" + args["users"]}}

    def _chat_postMessage(self, args):
        if len(args.get("text", "")) > MESSAGE_TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        if problems := block_problems(args.get("blocks", []), max_blocks=50):
            return self._refuse("chat.postMessage", problems)
        ts = f"{1700000000 + next(self._ts)}.000100"
        message = {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
        }
        self.messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _chat_update(self, args):
        key = (args["channel"], args["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if problems := block_problems(args.get("blocks", []), max_blocks=50):
            return self._refuse("chat.update", problems)
        self.messages[key].update(text=args.get("text", ""), blocks=args.get("blocks", []))
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_postEphemeral(self, args):
        if problems := block_problems(args.get("blocks", []), max_blocks=50):
            return self._refuse("chat.postEphemeral", problems)
        return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}

    def _conversations_history(self, args):
        message = self.messages.get((args["channel"], args.get("latest")))
        return {"ok": True, "messages": [copy.deepcopy(message)] if message else [], "has_more": False}

    def _files_info(self, args):
        file = self.files.get(args.get("file"))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "file": {k: v for k, v in file.items() if k != "data"},
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_getUploadURLExternal(self, args):
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = {
            "filename": args["filename"],
            "length": int(args["length"]),
            "alt_txt": args.get("alt_txt"),
        }
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args):
        files = json.loads(args.get("files") or "[]")
        if not files:
            return {"ok": False, "error": "invalid_arguments"}
        for f in files:
            if "data" not in self.uploads.get(f.get("id"), {}):
                return {"ok": False, "error": "file_not_found"}  # never uploaded: Slack can't complete it
        completed = []
        for f in files:
            upload = self.uploads[f["id"]]
            upload.update(title=f.get("title") or upload["filename"], channel=args.get("channel_id"))
            if args.get("channel_id"):
                self.shared_uploads.append(upload)
            completed.append({"id": f["id"], "title": upload["title"], "name": upload["filename"]})
        return {"ok": True, "files": completed}

    def _views_open(self, args):
        if not args.get("trigger_id"):  # Slack opens a modal only in answer to an interaction
            self.invalid.append(("views.open", ["no trigger_id"]))
            return {"ok": False, "error": "invalid_arguments"}
        if problems := view_problems(args["view"]):
            return self._refuse("views.open", problems)
        view = {**args["view"], "id": f"V{next(self._ids):08d}", "hash": f"{next(self._ids)}.abc"}
        self.modals.append(view)
        return {"ok": True, "view": view}

    def _views_publish(self, args):
        if problems := view_problems(args["view"]):
            return self._refuse("views.publish", problems)
        current = self.homes.get(args["user_id"])
        if args.get("hash") and current and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view = {
            **args["view"],
            "id": current["id"] if current else f"VH{args['user_id']}",
            "hash": f"{next(self._ids)}.home",
        }
        self.homes[args["user_id"]] = view
        return {"ok": True, "view": view}


@dataclass
class Sent:
    status: int
    body: str


@dataclass
class SignedClient:
    """Sends requests to our app as Slack does: signed with the signing secret, timestamped now."""

    http: object  # aiohttp.test_utils.TestClient on the service's web app
    fake: FakeSlack
    in_flight: object
    secret: str = SIGNING_SECRET
    _trigger: itertools.count = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def signature(secret: str, timestamp: str, body: str) -> str:
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict | None = None,
    ) -> Sent:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self.signature(secret or self.secret, stamp, body),
            **(headers or {}),
        }
        response = await self.http.post("/slack/events", data=body.encode(), headers=signed)
        sent = Sent(response.status, await response.text())
        await self.in_flight.wait_idle(10)  # the work Bolt runs after the ack
        return sent

    async def command(
        self, user: str, text: str, *, channel: str = "C2147483705", trigger_id: str | None = None, **kwargs
    ) -> Sent:
        form = {
            **fixture("slash_command.json"),
            "user_id": user,
            "text": text,
            "channel_id": channel,
            "response_url": self.fake.response_url(),
            "trigger_id": trigger_id or f"trigger-{next(self._trigger)}",
        }
        if channel.startswith("D"):
            form["channel_name"] = "directmessage"
        return await self.send(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    async def interact(self, payload: dict, **kwargs) -> Sent:
        return await self.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kwargs
        )

    async def event(self, event: dict, *, event_id: str = "Ev0PV52K21", headers: dict | None = None) -> Sent:
        body = {**fixture("event_callback.json"), "event": event, "event_id": event_id}
        return await self.send(json.dumps(body), "application/json", headers=headers)

    # --- taps on what the fake holds -----------------------------------------------------------------------

    def _action_payload(
        self, user: str, blocks: list[dict], label: str, container: dict, contact: str | None = None
    ) -> dict:
        """A block_actions payload for the button (or overflow choice) labelled `label`, in the row whose text
        mentions `contact` when given."""
        payload = fixture("block_actions.json")
        payload["user"] = {**payload["user"], "id": user}
        payload["container"] = container
        payload["trigger_id"] = f"trigger-{next(self._trigger)}"
        payload["actions"] = [_find_action(blocks, label, contact)]
        return payload

    async def tap(
        self,
        user: str,
        channel: str,
        ts: str,
        label: str,
        *,
        contact: str | None = None,
        value: str | None = None,
        **kwargs,
    ) -> Sent:
        """Tap a button of a message the bot posted (`value` forges what the client sends back)."""
        return await self.interact(self.tap_payload(user, channel, ts, label, contact=contact, value=value), **kwargs)

    def tap_payload(
        self, user: str, channel: str, ts: str, label: str, *, contact: str | None = None, value: str | None = None
    ) -> dict:
        """The block_actions payload Slack sends for that tap (send it again to play a Slack retry)."""
        message = self.fake.messages[(channel, ts)]
        payload = self._action_payload(
            user,
            message["blocks"],
            label,
            {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            contact,
        )
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["message"] = copy.deepcopy(message)
        payload["response_url"] = self.fake.response_url()
        if value is not None:
            _forge(payload["actions"][0], value)
        return payload

    async def tap_ephemeral(self, user: str, blocks: list[dict], label: str, *, contact: str | None = None) -> Sent:
        payload = self._action_payload(
            user,
            blocks,
            label,
            {"type": "message", "message_ts": "1700000999.000300", "channel_id": "C2147483705", "is_ephemeral": True},
            contact,
        )
        payload.pop("message")  # Slack sends no content back for an ephemeral message
        payload["response_url"] = self.fake.response_url()
        return await self.interact(payload)

    async def tap_home(self, user: str, label: str, *, contact: str | None = None) -> Sent:
        home = self.fake.homes[user]
        payload = self._action_payload(user, home["blocks"], label, {"type": "view", "view_id": home["id"]}, contact)
        payload.pop("message")
        payload.pop("response_url")
        payload["view"] = copy.deepcopy(home)
        return await self.interact(payload)

    async def submit(self, user: str, modal: dict, values: dict) -> Sent:
        """Submit a modal the bot opened, with `values` as Slack's view.state.values."""
        payload = fixture("view_submission.json")
        payload["user"] = {**payload["user"], "id": user}
        payload["view"] = {
            **payload["view"],
            **{k: modal[k] for k in ("id", "hash", "callback_id", "private_metadata", "blocks")},
            "state": {"values": values},
        }
        return await self.interact(payload)


def _forge(action: dict, value: str) -> None:
    if action["type"] == "overflow":
        action["selected_option"]["value"] = value
    else:
        action["value"] = value


def _find_action(blocks: list[dict], label: str, contact: str | None) -> dict:
    in_row = contact is None
    for block in blocks:
        if block.get("type") == "section" and contact is not None:
            in_row = contact in block.get("text", {}).get("text", "")
        if block.get("type") != "actions" or not in_row:
            continue
        for element in block["elements"]:
            base = {
                "action_id": element["action_id"],
                "block_id": block["block_id"] if "block_id" in block else "",
                "action_ts": f"{time.time():.6f}",
            }
            if element["type"] == "button" and element["text"]["text"] == label:
                return {**base, "type": "button", "value": element["value"], "text": element["text"]}
            if element["type"] == "overflow":
                for option in element["options"]:
                    if option["text"]["text"] == label:
                        return {**base, "type": "overflow", "selected_option": copy.deepcopy(option)}
    raise AssertionError(f"no {label!r} on {contact or 'any row'}")

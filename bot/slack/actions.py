"""Taps on a row: LinkedIn ✓ / Email ✓ / Call ✓, the overflow menu, Done, Pick and Undo; and on an interaction's
preview (confirm, pick, edit, cancel).

A tap is acknowledged first, then run through the conversation with an idempotency key naming that one
delivery (the action's action_ts, which Slack's retry of the same request carries again): a retry acts once, and
a second tap on the same button acts again. Choices that need more (a note,
a meeting date, a reminder date, a preview's line to correct) open a modal, and Edit… the contact form; the core has
checked the contact is the user's before it opens.
"""

from __future__ import annotations

import re

from bot.slack import render
from bot.slack.deps import Listen, SlackDeps
from bot.slack.messenger import Origin, metadata
from bot.slack.views import modal_for, open_edit_form

# Buttons that ask for more when they carry no argument (`note` and `iedit`, a preview's Edit, always do).
ASKING_VERBS = ("note", "mbook", "remind", "snooze")


def _asks(data: str) -> bool:
    verb, _, rest = data.partition(":")
    return verb in ("note", "iedit") or (verb in ASKING_VERBS and ":" not in rest)


def register(listen: Listen, deps: SlackDeps) -> None:
    async def tap(ack, body: dict, action: dict) -> None:
        """A button or an overflow choice on one of our rows."""
        await ack()
        data = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        origin = Origin.of_action(body)
        user = await deps.user(origin.user_id, origin)
        if user is None:
            return
        block_id = action.get("block_id") or ""
        row = render.row_of({"block_id": block_id})
        if data.startswith("edit:"):  # Edit…, or a field of “Which field?”: the contact form
            await open_edit_form(deps, user, data, body["trigger_id"], origin)
            return
        if _asks(data):
            reply = await deps.conversation.handle_button(user, data)  # checks the contact; asks when allowed
            if reply.prompt is None:
                await deps.messenger.tell(origin, reply)
            else:
                view = modal_for(reply.prompt, metadata(data, origin, row), deps.conversation.now_for(user))
                await deps.messenger.open_modal(body["trigger_id"], view)
            return
        delivery = action.get("action_ts") or body.get("trigger_id") or ""
        reply = await deps.conversation.handle_button(
            user, data, idempotency_key=f"slack:action:{origin.user_id}:{delivery}:{block_id}:{data}"
        )
        source = body.get("view") if origin.kind == "home" else body.get("message")
        verb, _, rest = data.partition(":")
        await deps.answer(
            user,
            origin,
            reply,
            row=row,
            blocks=(source or {}).get("blocks"),
            restore_actions=f"r{rest.partition(':')[2]}" if verb == "undo" else None,
        )

    listen("action", re.compile("^" + re.escape(render.ACTION_PREFIX)), tap)

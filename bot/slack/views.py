"""Modals: a note, a booked meeting's date and time, a reminder or snooze, a contact's details, an interaction's
line to correct; and their submissions.

A modal carries in its private_metadata the button it answers (`note:12`), where the tap came from and the
row to update; its submission runs that button with the answer, keyed by the modal's view id so that it is
recorded once. Missing input is answered inside the modal (response_action errors) before any work.

The contact form (an `edit:` button) is filled with the contact's values; its submission runs one edit of the
fields changed before it is acknowledged, so that a value the core refuses is shown under its field and nothing
is saved.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import codec
from bot.conversation import SOMETHING_WENT_WRONG
from bot.render import EDIT_FIELD_LABELS, edit_value
from bot.replies import Prompt, Reply
from bot.slack.deps import Listen, SlackDeps
from bot.slack.messenger import Origin, metadata, read_metadata
from bot.slack.render import escape
from core.errors import PipedrivenError
from core.views import ContactView

log = logging.getLogger(__name__)

NOTE, MEETING, TIMING, EDIT, LINE = "pd-note", "pd-meeting", "pd-timing", "pd-edit", "pd-line"
NOTE_MAX = 3000  # Slack's limit for a text input
TIMING_CHOICES = (
    ("Remind me in 3 days", "remind:3d"),
    ("Snooze for 1 week", "snooze:1w"),
    ("Remind me on the date below", "remind:date"),
    ("Snooze until the date below", "snooze:date"),
)


def _question(prompt: Prompt) -> str:
    """The prompt's question without the typed examples, which a date picker doesn't need."""
    return prompt.question.split(" (e.g.", 1)[0]


def modal_for(prompt: Prompt, private_metadata: str, now: datetime) -> dict:
    """The modal asking what a button's prompt asks; `now` is the user's local time (for the pickers)."""
    verb = codec.decode(prompt.data).verb
    if verb == "note":
        return View(
            type="modal",
            callback_id=NOTE,
            title="Add a note",
            submit="Save",
            close="Cancel",
            private_metadata=private_metadata,
            blocks=[
                InputBlock(
                    block_id="note",
                    label=prompt.question[:2000],
                    element=PlainTextInputElement(action_id="text", multiline=True, max_length=NOTE_MAX),
                )
            ],
        ).to_dict()
    if verb == "iedit":
        return View(
            type="modal",
            callback_id=LINE,
            title="Correct the line",
            submit="Preview",
            close="Cancel",
            private_metadata=private_metadata,
            blocks=[
                InputBlock(
                    block_id="line",
                    label="What happened, in your words",
                    element=PlainTextInputElement(
                        action_id="text",
                        multiline=True,
                        max_length=NOTE_MAX,
                        initial_value=prompt.default[:NOTE_MAX] or None,
                    ),
                )
            ],
        ).to_dict()
    intro = SectionBlock(text=MarkdownTextObject(text=escape(_question(prompt))))
    if verb == "mbook":
        return View(
            type="modal",
            callback_id=MEETING,
            title="Meeting booked",
            submit="Save",
            close="Cancel",
            private_metadata=private_metadata,
            blocks=[
                intro,
                InputBlock(
                    block_id="date",
                    label="Date",
                    element=DatePickerElement(action_id="date", initial_date=f"{now:%Y-%m-%d}"),
                ),
                InputBlock(
                    block_id="time", label="Time", element=TimePickerElement(action_id="time", initial_time="10:00")
                ),
            ],
        ).to_dict()
    options = [Option(text=label, value=value) for label, value in TIMING_CHOICES]
    return View(
        type="modal",
        callback_id=TIMING,
        title="Remind or snooze",
        submit="Save",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            intro,
            InputBlock(
                block_id="choice",
                label="When",
                element=RadioButtonsElement(action_id="choice", options=options, initial_option=options[0]),
            ),
            InputBlock(block_id="date", label="Date", optional=True, element=DatePickerElement(action_id="date")),
        ],
    ).to_dict()


# The contact form's text inputs: their longest values, as the core takes them (a note: a text input's 3,000).
EDIT_INPUT_LIMITS = {
    "name": 200,
    "email": 320,
    "phone": 50,
    "organisation": 200,
    "title": 200,
    "linkedin_url": 500,
    "sector": 200,
    "country": 60,
    "past_business": 40,
    "notes": NOTE_MAX,
}
EDIT_HINTS = {
    "past_business": "An amount with an optional currency: 12000, 12k EUR, 1.5m USD.",
    "phone": "With its country code, or one of your region's.",
    "country": "Its name or two-letter code: Portugal, PT.",
}
WARMNESS_LABELS = ("0 (cold)", "1", "2", "3", "4 (warm)", "5 (hot)")


def edit_modal(contact: ContactView, private_metadata: str) -> dict:
    """The contact form: every editable field filled in with the contact's value; an emptied one is cleared.
    A note too long for a text input is left out of the form (and said so): `edit CONTACT notes` changes it."""
    blocks: list = [
        SectionBlock(
            text=MarkdownTextObject(
                text=escape(f"{contact.label[:200]}: change what you need; a field left empty is cleared.")
            )
        )
    ]
    for field, label in EDIT_FIELD_LABELS.items():
        current = edit_value(contact, field)
        if field == "warmness":
            options = [Option(text=text, value=str(n)) for n, text in enumerate(WARMNESS_LABELS)]
            element = StaticSelectElement(
                action_id="value", options=options, initial_option=options[min(max(contact.warmness, 0), 5)]
            )
        elif len(current) > EDIT_INPUT_LIMITS[field]:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f"The {label.lower()} are too long for this form: `/outreach edit CONTACT notes TEXT` "
                        "changes them."
                    )
                )
            )
            continue
        else:
            element = PlainTextInputElement(
                action_id="value",
                initial_value=current or None,
                max_length=EDIT_INPUT_LIMITS[field],
                multiline=field == "notes",
            )
        blocks.append(
            InputBlock(
                block_id=field,
                label=label,
                element=element,
                optional=field not in ("name", "warmness"),
                hint=EDIT_HINTS.get(field),
            )
        )
    return View(
        type="modal",
        callback_id=EDIT,
        title="Edit contact",
        submit="Save",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    ).to_dict()


async def open_edit_form(deps: SlackDeps, user, data: str, trigger_id: str, origin: Origin) -> None:
    """The contact form for an `edit:` button, or the reason it can't be opened."""
    try:
        contact = await deps.conversation.contact_to_edit(user, data)
    except PipedrivenError as exc:
        await deps.messenger.tell(origin, Reply(exc.user_message, ephemeral=True))
        return
    filled = {field: _fingerprint(edit_value(contact, field)) for field in EDIT_FIELD_LABELS}
    private = json.dumps({**json.loads(metadata(data, origin, None)), "filled": filled}, separators=(",", ":"))
    await deps.messenger.open_modal(trigger_id, edit_modal(contact, private))


def _fingerprint(value: str) -> str:
    """A short digest of a value the form was filled with: the submission's fields that differ were changed
    by the user (a change made elsewhere meanwhile to a field left alone is kept)."""
    return hashlib.sha256(value.strip().encode()).hexdigest()[:12]


def _value(view: dict, block: str, action: str, key: str) -> str | None:
    field = view.get("state", {}).get("values", {}).get(block, {}).get(action) or {}
    value = field.get(key)
    return value.get("value") if isinstance(value, dict) else value


def register(listen: Listen, deps: SlackDeps) -> None:
    async def finish(view: dict, answer: str | None, choice: str | None = None) -> None:
        """Run the button the modal answers and show the outcome where the tap was."""
        data, origin, row = read_metadata(view["private_metadata"])
        if choice:  # the timing modal: `snooze:1w` or `remind:date` for the contact of the button
            verb, _, arg = choice.partition(":")
            data = codec.encode(verb, codec.decode(data).contact_id, None if arg == "date" else arg)
        user = await deps.user(origin.user_id, origin)
        if user is None:
            return
        reply = await deps.conversation.handle_button(user, data, answer, idempotency_key=f"slack:view:{view['id']}")
        await deps.answer(user, origin, reply, row=row)

    async def note_submitted(ack, view: dict) -> None:
        """The note modal's Save."""
        text = (_value(view, "note", "text", "value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"note": "Write the note first."})
            return
        await ack()
        await finish(view, text)

    async def line_submitted(ack, view: dict) -> None:
        """The corrected line's Preview: read again into the same draft, its new preview shown."""
        text = (_value(view, "line", "text", "value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"line": "Write what happened first."})
            return
        await ack()
        await finish(view, text)

    async def meeting_submitted(ack, view: dict) -> None:
        """The meeting modal's Save: the date and time become the meeting's moment in the user's timezone."""
        day = _value(view, "date", "date", "selected_date")
        at = _value(view, "time", "time", "selected_time")
        if not day or not at:
            await ack(
                response_action="errors", errors={"date" if not day else "time": "Pick the meeting's date and time."}
            )
            return
        await ack()
        await finish(view, f"{day}T{at}")

    async def timing_submitted(ack, view: dict) -> None:
        """The remind-or-snooze modal's Save."""
        choice = _value(view, "choice", "choice", "selected_option") or ""
        day = _value(view, "date", "date", "selected_date")
        if choice not in {value for _, value in TIMING_CHOICES}:
            await ack(response_action="errors", errors={"choice": "Pick one of these."})
            return
        if choice.endswith(":date") and not day:
            await ack(response_action="errors", errors={"date": "Pick the date for this choice."})
            return
        await ack()
        await finish(view, day if choice.endswith(":date") else None, choice)

    async def edit_submitted(ack, view: dict) -> None:
        """The contact form's Save: one edit of the changed fields; a refused value is shown under its field."""
        data, origin, _ = read_metadata(view["private_metadata"])
        user = await deps.user(origin.user_id, origin)
        if user is None:
            await ack()
            return
        filled = json.loads(view["private_metadata"]).get("filled") or {}
        changes = {
            field: value
            for field in EDIT_FIELD_LABELS
            if _in_form(view, field) and _fingerprint(value := _form_value(view, field)) != filled.get(field)
        }
        try:
            reply = await deps.conversation.submit_edit_form(
                user, codec.decode(data).contact_id, changes, idempotency_key=f"slack:view:{view['id']}"
            )
        except PipedrivenError as exc:
            if exc.field in changes:
                await ack(response_action="errors", errors={exc.field: exc.user_message[:150]})
                return
            reply = Reply(exc.user_message, ephemeral=True)
        except Exception:
            log.exception("unexpected error saving the contact form")
            reply = Reply(SOMETHING_WENT_WRONG, ephemeral=True)
        await ack()
        if not reply.repeat:
            await deps.messenger.post(await deps.messenger.dm_channel(origin.user_id), reply)

    listen("view", NOTE, note_submitted)
    listen("view", EDIT, edit_submitted)
    listen("view", LINE, line_submitted)
    listen("view", MEETING, meeting_submitted)
    listen("view", TIMING, timing_submitted)


def _in_form(view: dict, field: str) -> bool:
    return any(block.get("block_id") == field for block in view.get("blocks", []))


def _form_value(view: dict, field: str) -> str:
    """What the user left in a field of the contact form: "" for an emptied one."""
    return _value(view, field, "value", "selected_option" if field == "warmness" else "value") or ""

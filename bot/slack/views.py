"""Modals: a note, a booked meeting's date and time, a reminder or snooze, an interaction's line to correct; and
their submissions.

A modal carries in its private_metadata the button it answers (`note:12`), where the tap came from and the
row to update; its submission runs that button with the answer, keyed by the modal's view id so that it is
recorded once. Missing input is answered inside the modal (response_action errors) before any work.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import codec
from bot.replies import Prompt
from bot.slack.deps import Listen, SlackDeps
from bot.slack.messenger import read_metadata
from bot.slack.render import escape

NOTE, MEETING, TIMING, LINE = "pd-note", "pd-meeting", "pd-timing", "pd-line"
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

    listen("view", NOTE, note_submitted)
    listen("view", LINE, line_submitted)
    listen("view", MEETING, meeting_submitted)
    listen("view", TIMING, timing_submitted)

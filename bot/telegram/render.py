"""Neutral replies as Telegram messages: HTML text with every character of user text escaped, and inline keyboards.

A reply is always one message (at most 4096 characters and 100 buttons): the reply's text, then one block per
section, blocks parted by a blank line, then its footer's buttons. A text too long is cut (an ellipsis ends it);
sections that don't fit are left out and counted in a last line (“… and 26 more”). A contact row gets one
keyboard row: LinkedIn ✓ · Email ✓ · Call ✓ · ⋯ (the rest of its actions). A tap edits that message in place:
`with_status` adds a line to the tapped row.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot import codec
from bot.replies import Button, Prompt, Reply, Section, and_more

TEXT_LIMIT = 4096  # Telegram's limit on a message's text
BUTTON_LIMIT = 100  # and on the buttons of its inline keyboard
CALLBACK_TEXT_LIMIT = 200  # and on the text of a callback query's answer
# A message is filled well within the limit, so that the status lines taps add to its rows still fit.
MESSAGE_BUDGET = 3500
NOTE_ROOM = 40  # of which this much stays free for the line saying what was left out
QUICK_ROW_MAX = 4  # buttons that fit side by side; longer sets go two to a row
BLOCK_SEPARATOR = "\n\n"
MORE_LABEL = "⋯"

Keyboard = list[list[InlineKeyboardButton]]


@dataclass(frozen=True)
class Message:
    """One Telegram message: HTML text and its inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    """Telegram counts text in UTF-16 code units (an emoji such as 🔥 is two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """User text as Telegram HTML that shows exactly as typed (`<b>_*[x](y)` stays `<b>_*[x](y)`)."""
    return html.escape(text, quote=False)


def _bold(html_text: str) -> str:
    return f"<b>{html_text}</b>"


def _monospace(html_text: str) -> str:
    return f"<pre>{html_text}</pre>"


def _plain(html_text: str) -> str:
    return html_text


def message(reply: Reply) -> Message:
    """The one message that shows `reply`, within Telegram's limits: its text (cut with “…” when it goes on),
    its sections while they fit (each whole, with its buttons; a first one too long is cut rather than left out),
    its footer's buttons; sections left out are counted in a last line."""
    # With several contact rows, each keyboard row starts with the row's number, as its text does.
    rows_with_buttons = [i for i, s in enumerate(reply.sections) if s.contact_id is not None and (s.buttons or s.menu)]
    numbers = {i: n for n, i in enumerate(rows_with_buttons, 1)} if len(rows_with_buttons) > 1 else {}
    footer = _rows([_button(b) for b in reply.footer])
    texts: list[str] = []
    rows: Keyboard = []

    def room() -> int:
        """UTF-16 units left for one more block of text."""
        used = utf16_len(BLOCK_SEPARATOR.join(texts)) + (len(BLOCK_SEPARATOR) if texts else 0)
        return MESSAGE_BUDGET - NOTE_ROOM - used

    if reply.text:
        texts.append(clip(reply.text, _bold if reply.sections else _plain, room()))
    sections = [_section(s, numbers.get(i)) for i, s in enumerate(reply.sections)]
    sections = [(text, wrap, keys) for text, wrap, keys in sections if text or keys]
    shown = 0
    for text, wrap, keys in sections:
        if sum(len(row) for row in [*footer, *rows, *keys]) > BUTTON_LIMIT:
            break
        whole = wrap(escape(text)) if text else ""
        if utf16_len(whole) <= room():
            texts += [whole] if whole else []
        elif shown == 0 and room() > NOTE_ROOM:  # a contact's card too long: cut, with its buttons
            texts.append(clip(text, wrap, room()))
        else:
            break
        rows += keys
        shown += 1
    if shown < len(sections):
        texts.append(left_out_line(len(sections) - shown))
    keyboard = rows + footer
    return Message(BLOCK_SEPARATOR.join(texts) or "…", InlineKeyboardMarkup(keyboard) if keyboard else None)


def _section(section: Section, number: int | None) -> tuple[str, Callable[[str], str], Keyboard]:
    """A section's text, how it is wrapped, and its keyboard rows."""
    buttons = [_button(b) for b in section.buttons]
    if section.menu:
        if section.contact_id is not None:
            buttons.append(_button(Button(MORE_LABEL, codec.encode("more", section.contact_id))))
        else:
            buttons += [_button(b) for b in section.menu]
    if number is not None and buttons:
        buttons[0] = InlineKeyboardButton(f"{number} · {buttons[0].text}", callback_data=buttons[0].callback_data)
    text = section.text if section.text.strip() else ""
    if section.contact_id is not None:
        text = re.sub(r"\n\s*\n", "\n", text)  # a row is one block: `with_status` finds rows by blank lines
    return text, _monospace if section.monospace else _plain, _rows(buttons)


def _button(button: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(button.label, callback_data=button.data)


def _rows(buttons: list[InlineKeyboardButton]) -> Keyboard:
    if not buttons:
        return []
    if len(buttons) <= QUICK_ROW_MAX:
        return [buttons]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def clip(text: str, wrap: Callable[[str], str], room: int) -> str:
    """`text` escaped and wrapped within `room` UTF-16 units: whole when it fits, else as much as fits (cut at a
    line end when one comes late enough) followed by “…”."""
    whole = wrap(escape(text))
    if utf16_len(whole) <= room:
        return whole
    budget = room - utf16_len(wrap("")) - 2  # "\n…"
    kept: list[str] = []
    size, last_line_end = 0, 0
    for char in text:
        piece = escape(char)
        if size + utf16_len(piece) > budget:
            break
        if char == "\n":
            last_line_end = len(kept)
        kept.append(piece)
        size += utf16_len(piece)
    if last_line_end and last_line_end * 2 >= len(kept):  # a line end in the second half: “…” on a line of its own
        return wrap("".join(kept[:last_line_end]) + "\n…")
    return wrap("".join(kept) + "…")


def left_out_line(count: int) -> str:
    """The message's last line when sections were left out: “… and 26 more.”"""
    return escape(and_more(count)) + "."


_LEFT_OUT = re.compile(r"… and [\d,]+ more\.")  # left_out_line's, as `with_status` finds it


def prompt_markup(prompt: Prompt) -> ForceReply:
    """Opens the user's keyboard as a reply to the question, so that the answer comes back matched to it."""
    return ForceReply(selective=True, input_field_placeholder=_placeholder(prompt))


def _placeholder(prompt: Prompt) -> str:
    verb = codec.decode(prompt.data).verb
    if verb == "iedit":
        return "The line, corrected"
    if verb == "edit":
        return "The new value"
    return "Your note" if verb == "note" else "e.g. tomorrow 10:00, 3d, next monday"


def callback_text(text: str) -> str:
    """Text for answerCallbackQuery, within Telegram's 200 characters."""
    return text if len(text) <= CALLBACK_TEXT_LIMIT else text[: CALLBACK_TEXT_LIMIT - 1] + "…"


def keyboard_contacts(keyboard: InlineKeyboardMarkup | None) -> list[int]:
    """The contacts a message's keyboard acts on, in the order of their rows."""
    ids: list[int] = []
    for row in keyboard.inline_keyboard if keyboard else ():
        for button in row:
            try:
                contact_id = codec.decode(button.callback_data).contact_id
            except codec.BadButton:
                continue
            if contact_id not in ids:
                ids.append(contact_id)
    return ids


def with_status(message_html: str, keyboard: InlineKeyboardMarkup | None, contact_id: int, status: str) -> str | None:
    """The message's HTML with `status` added under the contact's row (or at the end of a one-contact
    message); None if that would make the message too long, when the status goes in a message of its own."""
    line = escape(status)
    contacts = keyboard_contacts(keyboard)
    blocks = message_html.split(BLOCK_SEPARATOR)
    left_out = blocks[-1:] if len(blocks) > 1 and _LEFT_OUT.fullmatch(blocks[-1]) else []
    blocks = blocks[: len(blocks) - len(left_out)]
    index = len(blocks) - len(contacts) + contacts.index(contact_id) if contact_id in contacts else -1
    if len(contacts) <= 1 or not 0 <= index < len(blocks):
        index = len(blocks) - 1
    blocks[index] = f"{blocks[index]}\n{line}"
    edited = BLOCK_SEPARATOR.join(blocks + left_out)
    return edited if utf16_len(edited) <= TEXT_LIMIT else None

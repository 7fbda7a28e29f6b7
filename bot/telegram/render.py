"""Neutral replies as Telegram messages: HTML text with every character of user text escaped, and inline keyboards.

A reply becomes one or more pages (a message holds at most 4096 characters): the reply's text, then one block
per section, blocks parted by a blank line. A contact row gets one keyboard row: LinkedIn ✓ · Email ✓ · Call ✓ ·
⋯ (the rest of its actions). A tap edits that message in place: `with_status` adds a line to the tapped row.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot import codec
from bot.replies import Button, Prompt, Reply, Section

TEXT_LIMIT = 4096  # Telegram's limit on a message's text
CALLBACK_TEXT_LIMIT = 200  # and on the text of a callback query's answer
# A page is cut well within the limit, so that the status lines taps add to its rows still fit.
PAGE_BUDGET = 3500
ROWS_PER_PAGE = 10  # contact rows (keyboard rows) per message
QUICK_ROW_MAX = 4  # buttons that fit side by side; longer sets go two to a row
BLOCK_SEPARATOR = "\n\n"
MORE_LABEL = "⋯"


@dataclass(frozen=True)
class Page:
    """One Telegram message: HTML text and its inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass
class _Block:
    html: str
    rows: list[list[InlineKeyboardButton]]
    is_contact_row: bool = False


def utf16_len(text: str) -> int:
    """Telegram counts text in UTF-16 code units (an emoji such as 🔥 is two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """User text as Telegram HTML that shows exactly as typed (`<b>_*[x](y)` stays `<b>_*[x](y)`)."""
    return html.escape(text, quote=False)


def pages(reply: Reply) -> list[Page]:
    """The messages that show `reply`, in order; each within Telegram's limits."""
    # With several contact rows, each keyboard row starts with the row's number, as its text does.
    rows_with_buttons = [i for i, s in enumerate(reply.sections) if s.contact_id is not None and (s.buttons or s.menu)]
    numbers = {i: n for n, i in enumerate(rows_with_buttons, 1)} if len(rows_with_buttons) > 1 else {}
    blocks: list[_Block] = []
    if reply.text:
        wrap = (lambda h: f"<b>{h}</b>") if reply.sections else (lambda h: h)
        blocks += [_Block(chunk, []) for chunk in _chunks(reply.text, wrap)]
    for i, section in enumerate(reply.sections):
        blocks += _section_blocks(section, numbers.get(i))
    if reply.footer:
        footer_rows = _rows([_button(b) for b in reply.footer])
        if blocks:
            blocks[-1].rows += footer_rows
        else:
            blocks.append(_Block("", footer_rows))
    return _pack(blocks) or [Page("…")]


def _section_blocks(section: Section, number: int | None) -> list[_Block]:
    buttons = [_button(b) for b in section.buttons]
    if section.menu:
        if section.contact_id is not None:
            buttons.append(_button(Button(MORE_LABEL, codec.encode("more", section.contact_id))))
        else:
            buttons += [_button(b) for b in section.menu]
    if number is not None and buttons:
        buttons[0] = InlineKeyboardButton(f"{number} · {buttons[0].text}", callback_data=buttons[0].callback_data)
    rows = _rows(buttons)
    text = section.text
    if section.contact_id is not None:
        text = re.sub(r"\n\s*\n", "\n", text)  # a row is one block: `with_status` finds rows by blank lines
    wrap = (lambda h: f"<pre>{h}</pre>") if section.monospace else (lambda h: h)
    chunks = _chunks(text, wrap) if text.strip() else [""]
    blocks = [_Block(chunk, []) for chunk in chunks]
    blocks[-1].rows = rows
    blocks[-1].is_contact_row = section.contact_id is not None and bool(rows)
    return [b for b in blocks if b.html or b.rows]


def _button(button: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(button.label, callback_data=button.data)


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    if not buttons:
        return []
    if len(buttons) <= QUICK_ROW_MAX:
        return [buttons]
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def _pack(blocks: list[_Block]) -> list[Page]:
    out: list[Page] = []
    texts: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    contact_rows = 0

    def flush() -> None:
        nonlocal texts, rows, contact_rows
        if texts or rows:
            out.append(Page(BLOCK_SEPARATOR.join(t for t in texts if t) or "…",
                            InlineKeyboardMarkup(rows) if rows else None))
        texts, rows, contact_rows = [], [], 0

    for block in blocks:
        size = utf16_len(BLOCK_SEPARATOR.join([*texts, block.html]))
        if (texts or rows) and (size > PAGE_BUDGET or (block.is_contact_row and contact_rows >= ROWS_PER_PAGE)):
            flush()
        texts.append(block.html)
        rows += block.rows
        contact_rows += block.is_contact_row
    flush()
    return out


def _chunks(text: str, wrap: Callable[[str], str]) -> list[str]:
    """`text` escaped and wrapped, in pieces within the page budget, cut at line ends where possible."""
    budget = PAGE_BUDGET - utf16_len(wrap(""))
    pieces: list[str] = []
    lines: list[str] = []
    for line in _escaped_lines(text, budget):
        if lines and utf16_len("\n".join([*lines, line])) > budget:
            pieces.append(wrap("\n".join(lines)))
            lines = []
        lines.append(line)
    if lines:
        pieces.append(wrap("\n".join(lines)))
    return pieces


def _escaped_lines(text: str, budget: int) -> Iterator[str]:
    """Each line escaped; a line longer than the budget is cut into runs (never inside an `&amp;`)."""
    for line in text.split("\n"):
        run, size = [], 0
        for char in line:
            piece = escape(char)
            if size + utf16_len(piece) > budget:
                yield "".join(run)
                run, size = [], 0
            run.append(piece)
            size += utf16_len(piece)
        yield "".join(run)


def prompt_markup(prompt: Prompt) -> ForceReply:
    """Opens the user's keyboard as a reply to the question, so that the answer comes back matched to it."""
    return ForceReply(selective=True, input_field_placeholder=_placeholder(prompt))


def _placeholder(prompt: Prompt) -> str:
    verb = codec.decode(prompt.data).verb
    return "Your note" if verb == "note" else "e.g. tomorrow 10:00, 3d, next monday"


def callback_text(text: str) -> str:
    """Text for answerCallbackQuery, within Telegram's 200 characters."""
    return text if len(text) <= CALLBACK_TEXT_LIMIT else text[:CALLBACK_TEXT_LIMIT - 1] + "…"


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


def with_status(message_html: str, keyboard: InlineKeyboardMarkup | None, contact_id: int,
                status: str) -> str | None:
    """The message's HTML with `status` added under the contact's row (or at the end of a one-contact
    message); None if that would make the message too long, when the status goes in a message of its own."""
    line = escape(status)
    contacts = keyboard_contacts(keyboard)
    blocks = message_html.split(BLOCK_SEPARATOR)
    index = len(blocks) - len(contacts) + contacts.index(contact_id) if contact_id in contacts else -1
    if len(contacts) <= 1 or not 0 <= index < len(blocks):
        index = len(blocks) - 1
    blocks[index] = f"{blocks[index]}\n{line}"
    edited = BLOCK_SEPARATOR.join(blocks)
    return edited if utf16_len(edited) <= TEXT_LIMIT else None

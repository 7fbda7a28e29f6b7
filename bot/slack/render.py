"""Neutral replies to Slack Block Kit, within Slack's limits.

A contact row is a section (its text, first line bold) and an actions block: the one-tap buttons and an overflow
menu. Block ids name the row (`r:<contact>.<n>` for its text, `a:<contact>.<n>[:<suffix>]` for its actions), so a
tap can replace its own row in place. Blocks are built with slack_sdk's models, whose `to_dict()` checks Slack's
limits (section text 3000 characters, button text 75, value 2000, action_id 255, overflow 5 options). A reply is
always one message of at most 50 blocks (100 in the App Home): a long text is split over a few sections and cut
past them; rows that don't fit are left out and counted in a last line (“… and 26 more”). User text is escaped
for mrkdwn (&, <, >).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import codec
from bot.render import menu_buttons, quick_buttons
from bot.replies import Button, Reply, Section, and_more
from core.echo import shorten

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000
MAX_TEXT_SECTIONS = 10  # sections one text may fill (a 5,000-character note, however escaped); past them it is cut
MAX_ACTIONS = 25
MAX_LABEL = 75  # a button's or an overflow choice's text
MAX_OVERFLOW = 5
FALLBACK_CHARS = 300  # the notification text of a message with blocks
ACTION_PREFIX = "pd-"  # every action_id of ours starts so; app.py listens for it
TIMING_LABEL = "⏰ Remind / snooze…"


def escape(text: str) -> str:
    """User text made safe for mrkdwn: Slack reads &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Message:
    """One Slack message: its notification text and its blocks."""

    text: str
    blocks: list[dict]


# --- text -----------------------------------------------------------------------------------------------


def _chunks(text: str, limit: int) -> list[str]:
    """Split `text` into pieces whose escaped length stays within `limit`, at line ends where possible."""
    pieces, current, size = [], [], 0
    for line in text.split("\n"):
        cost = len(escape(line)) + (1 if current else 0)
        if current and size + cost > limit:
            pieces.append("\n".join(current))
            current, size = [], 0
            cost = len(escape(line))
        while len(escape(line)) > limit:  # one overlong line: cut it by characters
            cut, used = 0, 0
            while cut < len(line) and used + len(escape(line[cut])) <= limit:
                used += len(escape(line[cut]))
                cut += 1
            cut = max(cut, 1)  # a limit under one escaped character would never end otherwise
            pieces.append(line[:cut])
            line = line[cut:]
            cost = len(escape(line))
        current.append(line)
        size += cost
    if current:
        pieces.append("\n".join(current))
    return pieces


def text_blocks(
    text: str, *, monospace: bool = False, bold_first_line: bool = False, block_id: str | None = None
) -> list[dict]:
    """Sections holding `text` (escaped), split to fit, at most MAX_TEXT_SECTIONS of them (the last ends with “…”
    when the text goes on); a monospace text keeps its ``` fence in every piece."""
    if not text.strip():
        return []
    fence = 8 if monospace else 0  # "```\n" + "\n```"
    bold = 2 if bold_first_line else 0
    pieces = _chunks(text, MAX_TEXT - fence - bold)
    if len(pieces) > MAX_TEXT_SECTIONS:
        pieces = pieces[:MAX_TEXT_SECTIONS]
        pieces[-1] = pieces[-1][:-1] + "…"  # never longer escaped: no character escapes to less than one
    blocks = []
    for n, piece in enumerate(pieces):
        body = escape(piece)
        if monospace:
            body = f"```\n{body}\n```"
        elif bold_first_line and n == 0:
            head, sep, rest = body.partition("\n")
            body = f"*{head}*{sep}{rest}" if head.strip() else body
        part_id = None if block_id is None else (block_id if n == 0 else f"{block_id}:{n}")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=body), block_id=part_id).to_dict())
    return blocks


# --- rows -----------------------------------------------------------------------------------------------


def row_id(contact_id: int, index: int) -> str:
    return f"{contact_id}.{index}"


def row_of(block: dict) -> str | None:
    """The row a block belongs to (from its block id), or None."""
    parts = (block.get("block_id") or "").split(":")
    return parts[1] if len(parts) >= 2 and parts[0] in ("r", "a") else None


def contact_of_row(row: str) -> int | None:
    head = row.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _button(button: Button, action_id: str) -> ButtonElement:
    return ButtonElement(text=shorten(button.label, MAX_LABEL), value=button.data, action_id=action_id)


def _overflow_choices(section: Section) -> list[Button]:
    """The row's menu for an overflow: remind and snooze, whatever their presets, become one “…” choice that
    opens a modal (3 days, 1 week or a date), so the menu stays within Slack's five options."""
    choices, timing = [], False
    for button in section.menu:
        verb = button.data.split(":", 1)[0]
        if verb in ("remind", "snooze") and section.contact_id is not None:
            if not timing:
                choices.append(Button(TIMING_LABEL, codec.encode("remind", section.contact_id)))
                timing = True
            continue
        choices.append(button)
    return choices


def actions_blocks(
    buttons: tuple[Button, ...] | list[Button], menu: list[Button], *, key: str, block_id: str | None = None
) -> list[dict]:
    """Buttons then overflow menus (five choices each), at most 25 elements per actions block."""
    elements: list = [_button(b, f"{ACTION_PREFIX}{key}-{i}") for i, b in enumerate(buttons)]
    for start in range(0, len(menu), MAX_OVERFLOW):
        options = [Option(text=shorten(b.label, MAX_LABEL), value=b.data) for b in menu[start : start + MAX_OVERFLOW]]
        elements.append(OverflowMenuElement(options=options, action_id=f"{ACTION_PREFIX}{key}-m{start}"))
    blocks = []
    for n, start in enumerate(range(0, len(elements), MAX_ACTIONS)):
        part_id = None if block_id is None else (block_id if n == 0 else f"{block_id}:{n}")
        blocks.append(ActionsBlock(elements=elements[start : start + MAX_ACTIONS], block_id=part_id).to_dict())
    return blocks


def section_blocks(section: Section, index: int) -> list[dict]:
    """One neutral section: its text, then its buttons and menu."""
    row = row_id(section.contact_id, index) if section.contact_id is not None else None
    blocks = text_blocks(
        section.text, monospace=section.monospace, bold_first_line=row is not None, block_id=f"r:{row}" if row else None
    )
    if section.buttons or section.menu:
        blocks += actions_blocks(
            section.buttons, _overflow_choices(section), key=f"{index}", block_id=f"a:{row}" if row else None
        )
    return blocks


def row_actions(contact_id: int, row: str, suffix: str) -> list[dict]:
    """A row's usual actions, rendered afresh (after an undo) under a block id of their own."""
    section = Section(text="", buttons=quick_buttons(contact_id), menu=menu_buttons(contact_id), contact_id=contact_id)
    return actions_blocks(
        section.buttons, _overflow_choices(section), key=f"{row}{suffix}", block_id=f"a:{row}:{suffix}"
    )


def undo_actions(undo: Button, row: str) -> list[dict]:
    return actions_blocks((undo,), [], key=f"{row}u", block_id=f"a:{row}:u")


def replace_row(blocks: list[dict], row: str, text: str, actions: list[dict] | None) -> list[dict] | None:
    """`blocks` with the row's text replaced by `text` (and its actions by `actions`, unless None: kept as
    they were); None when the row is not there any more."""
    first = next((i for i, b in enumerate(blocks) if row_of(b) == row), None)
    if first is None:
        return None
    own = [b for b in blocks if row_of(b) == row]
    kept = [b for b in own if b.get("block_id", "").startswith("a:")] if actions is None else actions
    section = SectionBlock(text=MarkdownTextObject(text=escape(text)[:MAX_TEXT]), block_id=f"r:{row}").to_dict()
    rest = [b for b in blocks[first:] if row_of(b) != row]
    return blocks[:first] + [section] + kept + rest


# --- whole replies --------------------------------------------------------------------------------------


def _note(text: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=escape(text)[:MAX_TEXT])]).to_dict()


def _fitted(reply: Reply, max_blocks: int, left_out: Callable[[int], str]) -> list[dict]:
    """The reply's blocks within `max_blocks`: its text, its sections while they fit (each whole: a row with its
    actions), its footer; when sections are left out, a last line says so (`left_out(how many)`)."""
    footer = list(reply.footer) + ([reply.undo] if reply.undo else [])
    tail = actions_blocks(footer, [], key="f") if footer else []
    room = max_blocks - len(tail)
    blocks = text_blocks(reply.text)[: room - 1]
    sections = [unit for index, section in enumerate(reply.sections) if (unit := section_blocks(section, index))]
    if len(blocks) + sum(len(unit) for unit in sections) <= room:
        return blocks + [block for unit in sections for block in unit] + tail
    shown = 0
    for unit in sections:
        if len(blocks) + len(unit) > room - 1:  # one block stays free for the line saying what was left out
            break
        blocks += unit
        shown += 1
    return blocks + [_note(left_out(len(sections) - shown))] + tail


def fallback_text(reply: Reply) -> str:
    """The message's notification text (Slack reads it as mrkdwn too)."""
    text = reply.text or next((s.text for s in reply.sections if s.text), "Pipedriven")
    return escape(text if len(text) <= FALLBACK_CHARS else text[: FALLBACK_CHARS - 1] + "…")


def message(reply: Reply) -> Message:
    """The reply as one Slack message: at most 50 blocks, rows that don't fit counted in a last line."""
    return Message(fallback_text(reply), _fitted(reply, MAX_MESSAGE_BLOCKS, lambda count: and_more(count) + "."))


def home_view(reply: Reply, notice: str | None = None) -> dict:
    """The App Home: the reply's blocks (after `notice`, the outcome of what the user just did), cut to fit the
    home's 100 blocks with a pointer to the rest."""
    blocks = [_note(notice)] if notice else []
    blocks += _fitted(reply, MAX_VIEW_BLOCKS - len(blocks), lambda count: "More in `/outreach today`.")
    return View(type="home", blocks=blocks).to_dict()

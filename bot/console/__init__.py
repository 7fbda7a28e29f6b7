"""The console adapter: a chat in the terminal over the same core and grammar as Slack and Telegram.

One numbering: numbers are rows (`1. Bob Stone`, as `log 1 linkedin` names them) and buttons have letters. A
row's buttons print under it as `[1a] LinkedIn ✓  [1b] Email ✓ …`; a reply's other buttons (a contact's card,
a menu, Undo, a question's Confirm and Keep) as `[a] …`. Typing a button's label presses it; a bare row number
shows that row's contact card (and never presses anything). A reply that asks for text (a note, a date) takes
the next line as its answer. Tests drive it like errbot's test backend:
`assert "logged" in await chat.send("log 3 linkedin")`.
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import TextIO

from bot import codec
from bot.conversation import Conversation
from bot.replies import Button, Reply
from core.service import Core
from core.views import UserView

PLATFORM = "console"
_ROW_LABEL = re.compile(r"\d+[a-z]+")
_LOOKS_LIKE_A_LABEL = re.compile(r"\d+[a-z]|[a-z]")
CONSOLE_HELP = (
    "In this console, numbers are rows (`log 1 linkedin`; a bare `1` shows row 1's card) and buttons have labels "
    "in brackets: type `1a` or `a` to press one. `quit` leaves."
)


def letters(index: int) -> str:
    """A button's letters by its place: 0 → a, 25 → z, 26 → aa."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def render_text(reply: Reply) -> tuple[str, dict[str, str]]:
    """Terminal text for a reply, and its buttons' data by their labels."""
    lines = [reply.text] if reply.text else []
    buttons: dict[str, str] = {}

    def label(prefix: str, index: int, button: Button) -> str:
        name = f"{prefix}{letters(index)}"
        buttons[name] = button.data
        return f"[{name}] {button.label}"

    loose = 0  # buttons outside a numbered row share one run of letters
    for section in reply.sections:
        if section.text:
            head, *rest = section.text.split("\n")
            indent = "  " if section.monospace else "   "
            lines.append("\n".join([indent + head if section.monospace else head] + [indent + ln for ln in rest]))
        # A terminal row keeps to the quick buttons; the rest sit behind “more”, as on Telegram.
        more = (
            (Button("⋯ more", codec.encode("more", section.contact_id)),)
            if section.menu and section.contact_id
            else section.menu
        )
        row = [*section.buttons, *more]
        if section.number is not None:
            labels = [label(str(section.number), i, b) for i, b in enumerate(row)]
        else:
            labels = [label("", loose + i, b) for i, b in enumerate(row)]
            loose += len(row)
        if labels:
            lines.append("   " + "  ".join(labels))
    for button in (*reply.footer, *((reply.undo,) if reply.undo else ())):
        lines.append(label("", loose, button))
        loose += 1
    if reply.prompt:
        lines.append("(type your answer, or an empty line to cancel)")
    return "\n".join(lines), buttons


class ConsoleChat:
    def __init__(self, core: Core, user: UserView) -> None:
        self.conversation = Conversation(core, PLATFORM)
        self.user = user
        self.buttons: dict[str, str] = {}  # by label: `1a` on a list's row 1, `a` elsewhere
        self.rows: dict[int, int] = {}  # the contacts of the last numbered list, by row number
        self.pending_prompt: str | None = None

    async def send(self, text: str) -> str:
        """One line typed by the user; returns what the console prints back."""
        text = text.strip()
        if self.pending_prompt is not None:
            data, self.pending_prompt = self.pending_prompt, None
            if not text:
                return "Cancelled."
            return self.display(await self.conversation.handle_button(self.user, data, answer=text))
        typed = text.lower()
        if typed in self.buttons:
            return self.display(await self.conversation.handle_button(self.user, self.buttons[typed]))
        if text.isdigit():
            return await self._row(int(text))
        if self.buttons and _LOOKS_LIKE_A_LABEL.fullmatch(typed):
            example = next(iter(self.buttons))
            return f"There is no button [{typed}] on screen: type a label shown in brackets, like [{example}]."
        out = self.display(await self.conversation.handle_text(self.user, text))
        return f"{out}\n{CONSOLE_HELP}" if typed.lstrip("/") in ("help", "?", "") else out

    async def _row(self, number: int) -> str:
        """A bare number names a row: its contact's card, never a button."""
        if number in self.rows:
            return self.display(
                await self.conversation.handle_button(self.user, codec.encode("show", self.rows[number]))
            )
        if self.rows:
            return (
                f"There is no row {number} in the last list (it has {len(self.rows)}). To press a button, type its "
                "label, like 1a; to log, say `log 1 linkedin`."
            )
        return (
            "A number names a row of a list: say `today` or `find NAME` first, then `log 1 linkedin`, or type a "
            "button's label, like 1a."
        )

    def display(self, reply: Reply) -> str:
        """Terminal text for a reply; its buttons' labels (and its question) now belong to this chat. A reply
        without a numbered list keeps the last list's rows and their buttons usable."""
        out, buttons = render_text(reply)
        rows = {s.number: s.contact_id for s in reply.sections if s.number is not None and s.contact_id}
        if rows:
            self.rows, self.buttons = rows, buttons
        elif buttons:
            self.buttons = {k: v for k, v in self.buttons.items() if _ROW_LABEL.fullmatch(k)} | buttons
        if reply.prompt:
            self.pending_prompt = reply.prompt.data
        return out

    async def run(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        """Read lines until end of file (or `quit`), printing each reply."""
        interactive = stdin.isatty()
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or line.strip().lower() in ("quit", "exit"):
                break
            if not line.strip() and self.pending_prompt is None:
                continue
            stdout.write(await self.send(line) + "\n")
            stdout.flush()

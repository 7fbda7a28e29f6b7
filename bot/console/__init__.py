"""The console adapter: a chat in the terminal over the same core and grammar as Slack and Telegram.

Buttons print as `[1] LinkedIn ✓  [2] Email ✓ …`; typing a button's number presses it. A reply that asks
for text (a note, a date) takes the next line as its answer. Tests drive it like errbot's test backend:
`assert "logged" in await chat.send("log 3 linkedin")`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot import codec
from bot.conversation import Conversation
from bot.replies import Button, Reply
from core.service import Core
from core.views import UserView

PLATFORM = "console"


def render_text(reply: Reply, first_number: int = 1) -> tuple[str, list[str]]:
    """Terminal text for a reply, and the button data in the order of their numbers."""
    lines = [reply.text] if reply.text else []
    buttons: list[str] = []
    for section in reply.sections:
        if section.text:
            head, *rest = section.text.split("\n")
            indent = "  " if section.monospace else "   "
            lines.append("\n".join([indent + head if section.monospace else head] + [indent + ln for ln in rest]))
        labels = []
        # A terminal row keeps to the quick buttons; the rest sit behind “more”, as on Telegram.
        more = (
            (Button("⋯ more", codec.encode("more", section.contact_id)),)
            if section.menu and section.contact_id
            else section.menu
        )
        for button in (*section.buttons, *more):
            buttons.append(button.data)
            labels.append(f"[{first_number + len(buttons) - 1}] {button.label}")
        if labels:
            lines.append("   " + "  ".join(labels))
    for button in reply.footer:
        buttons.append(button.data)
        lines.append(f"[{first_number + len(buttons) - 1}] {button.label}")
    if reply.prompt:
        lines.append("(type your answer, or an empty line to cancel)")
    return "\n".join(lines), buttons


class ConsoleChat:
    def __init__(self, core: Core, user: UserView) -> None:
        self.conversation = Conversation(core, PLATFORM)
        self.user = user
        self.buttons: list[str] = []
        self.pending_prompt: str | None = None

    async def send(self, text: str) -> str:
        """One line typed by the user; returns what the console prints back."""
        text = text.strip()
        if self.pending_prompt is not None:
            data, self.pending_prompt = self.pending_prompt, None
            if not text:
                return "Cancelled."
            return self.display(await self.conversation.handle_button(self.user, data, answer=text))
        if text.isdigit() and self.buttons:
            index = int(text)
            if not 1 <= index <= len(self.buttons):
                return f"There is no button [{index}]; the last message had {len(self.buttons)}."
            return self.display(await self.conversation.handle_button(self.user, self.buttons[index - 1]))
        return self.display(await self.conversation.handle_text(self.user, text))

    def display(self, reply: Reply) -> str:
        """Terminal text for a reply; its buttons' numbers (and its question) now belong to this chat."""
        out, buttons = render_text(reply)
        if buttons:  # a reply without buttons keeps the last numbers usable
            self.buttons = buttons
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

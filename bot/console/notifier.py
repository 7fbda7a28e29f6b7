"""The console's notifier: digests and nudges printed to a text stream, as the terminal chat shows replies.

It implements the same `Notifier` port as Slack and Telegram (platform 'console'); the demo prints its
morning digest through it. Given the chat it belongs to, the printed buttons' numbers work in that chat.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.console import PLATFORM, ConsoleChat, render_text
from bot.notify import ChatTarget
from bot.replies import Reply


class ConsoleNotifier:
    platform = PLATFORM

    def __init__(self, stream: TextIO | None = None, chat: ConsoleChat | None = None) -> None:
        self.stream = stream or sys.stdout
        self.chat = chat

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        text = self.chat.display(reply) if self.chat else render_text(reply)[0]
        self.stream.write(text + "\n")
        self.stream.flush()
        return None

"""Driving the real Telegram bot through the fake Bot API server: users, updates, and what came back.

`TelegramHarness.say(user, text)` and `.tap(user, message, label)` deliver updates as Telegram would and return
once the bot has handled them, with the Bot API calls it made meanwhile.
"""

from __future__ import annotations

from datetime import timedelta

from bot.telegram.service import TelegramService
from fakes.telegram import Call, FakeTelegram

POLL_TIMEOUT = timedelta(seconds=5)
ANA_TG = 111_111
STRANGER_TG = 999_999


class TelegramHarness:
    """Users talking to the running bot through the fake server."""

    def __init__(self, fake: FakeTelegram, service: TelegramService) -> None:
        self.fake = fake
        self.service = service

    async def settle(self) -> None:
        """Wait until the bot has handled every update it has received."""
        await self.service.application.update_queue.join()

    async def deliver(self, update: dict, *, again: bool = False) -> list[Call]:
        mark = len(self.fake.calls)
        await self.fake.deliver(update, again=again)
        await self.settle()
        return [c for c in self.fake.calls[mark:] if c.method != "getUpdates"]

    async def restart(self) -> None:
        """Stop the bot and start a fresh one (a new process, as far as the bot can tell)."""
        await self.service.stop()
        self.service = TelegramService(self.service.settings, self.service.core, poll_timeout=POLL_TIMEOUT)
        await self.service.start()

    async def say(self, user: dict, text: str, *, reply_to: dict | None = None) -> list[Call]:
        return await self.deliver(self.fake.message_update(user, text, reply_to=reply_to))

    async def tap(self, user: dict, message: dict, label: str, *, row: int | None = None) -> list[Call]:
        return await self.deliver(self.fake.tap_update(user, message, self.fake.button(message, label, row)))

    def last(self, chat_id: int) -> dict:
        """The bot's latest message in the chat."""
        return self.fake.messages(chat_id)[-1]


def texts(calls: list[Call], method: str = "sendMessage") -> list[str]:
    """The visible text of the messages sent (or edited) by these calls."""
    return [c.result["text"] for c in calls if c.method == method and c.status == 200]

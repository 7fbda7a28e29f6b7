"""Fixtures for the Telegram adapter: the fake Bot API server, the real bot service against it, and users.

`bot` is the real TelegramService (python-telegram-bot Application, long polling) pointed at the fake server
through TELEGRAM_API_URL; `bot.say(user, text)` and `bot.tap(user, message, label)` deliver updates as Telegram
would and return once the bot has handled them, with the Bot API calls it made meanwhile.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fake_telegram import Call, FakeTelegram

from bot.telegram.service import TelegramService
from core.commands import LinkChatIdentity
from core.settings import Settings

POLL_TIMEOUT = timedelta(seconds=5)
ANA_TG = 111_111
BOB_TG = 222_222
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


@pytest.fixture
async def telegram():
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(database_url, telegram):
    """The core's settings, pointed at the fake server (overrides the suite's `settings`)."""
    return Settings(database_url=database_url, _env_file=None, telegram_bot_token=telegram.token,
                    telegram_api_url=telegram.api_url)


@pytest.fixture
async def bot(core, telegram):
    harness = TelegramHarness(telegram, TelegramService(core.settings, core, poll_timeout=POLL_TIMEOUT))
    await harness.service.start()
    yield harness
    await harness.service.stop()


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
def ana_tg(telegram):
    return telegram.user(ANA_TG, "Ana")


@pytest.fixture
async def linked(core, ana, ana_tg):
    """Ana's Telegram account, already linked to her Pipedriven user."""
    await core.execute(LinkChatIdentity(email=ana.email, platform="telegram", external_user_id=str(ANA_TG),
                                        dm_channel=str(ANA_TG)))
    return ana_tg

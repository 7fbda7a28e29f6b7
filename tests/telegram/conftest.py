"""Fixtures for the Telegram adapter: the fake Bot API server, the real bot service against it, and users.

`bot` is the real TelegramService (python-telegram-bot Application, long polling) pointed at the fake server
through TELEGRAM_API_URL.
"""

from __future__ import annotations

import pytest
from telegram_harness import ANA_TG, POLL_TIMEOUT, TelegramHarness

from bot.telegram.service import TelegramService
from core.settings import Settings
from core.users.commands import LinkChatIdentity
from fakes.telegram import FakeTelegram


@pytest.fixture
async def telegram():
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(database_url, telegram):
    """The core's settings, pointed at the fake server (overrides the suite's `settings`)."""
    return Settings(
        database_url=database_url, _env_file=None, telegram_bot_token=telegram.token, telegram_api_url=telegram.api_url
    )


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
    await core.execute(
        LinkChatIdentity(email=ana.email, platform="telegram", external_user_id=str(ANA_TG), dm_channel=str(ANA_TG))
    )
    return ana_tg

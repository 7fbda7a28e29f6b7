"""Webhook mode: setWebhook with a secret at start, updates POSTed by Telegram, the secret checked on each one."""

import socket

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from telegram_harness import ANA_TG, TelegramHarness, texts

from bot.telegram.service import TelegramService, webhook_secret
from core.models import Activity


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def hooked(core, telegram):
    """The bot in webhook mode, listening on a local port (Telegram would reach it through a proxy)."""
    port = free_port()
    settings = core.settings.model_copy(
        update={
            "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "telegram_webhook_listen": "127.0.0.1",
            "telegram_webhook_port": port,
        }
    )
    harness = TelegramHarness(telegram, TelegramService(settings, core))
    await harness.service.start()
    yield harness
    await harness.service.stop()


async def activities(core) -> int:
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(Activity))).scalar_one()


async def test_start_sets_the_webhook_with_a_secret_and_updates_arrive_through_it(hooked, telegram, linked):
    assert telegram.webhook["url"].endswith("/telegram/hook")
    secret = telegram.webhook["secret_token"]
    assert secret == webhook_secret(hooked.service.settings) and telegram.token not in secret
    assert telegram.sent("getUpdates") == [] and telegram.sent("deleteWebhook") == []
    [said] = texts(await hooked.say(linked, "/help"))
    assert said.startswith("Here is what I understand")


async def test_a_post_without_the_right_secret_is_refused_and_ignored(hooked, telegram, linked, make, ana, core):
    await make.contact(ana, "Bob Stone")
    update = telegram.message_update(linked, "/log bob call")
    mark = len(telegram.calls)
    assert await telegram.post_to_webhook(update, None) == 403
    assert await telegram.post_to_webhook(update, "not-the-secret") == 403
    await hooked.settle()
    assert telegram.calls[mark:] == [] and await activities(core) == 0


async def test_telegram_redelivering_an_update_logs_once(hooked, telegram, linked, make, ana, core):
    await make.contact(ana, "Bob Stone")
    update = telegram.message_update(linked, "/log bob call")
    assert texts(await hooked.deliver(update)) == ["✓ Call logged for Bob Stone."]
    assert await hooked.deliver(update) == []  # Telegram missed our 200 and sent it again
    assert await activities(core) == 1
    assert [m["text"] for m in telegram.messages(ANA_TG)] == ["✓ Call logged for Bob Stone."]


async def test_a_configured_secret_is_used_as_it_is(core, telegram):
    settings = core.settings.model_copy(update={"telegram_webhook_secret": SecretStr("my_Secret-42")})
    assert webhook_secret(settings) == "my_Secret-42"
    assert webhook_secret(core.settings) == webhook_secret(core.settings.model_copy())  # every process agrees

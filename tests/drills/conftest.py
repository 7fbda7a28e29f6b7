"""Drill fixtures: a core on real time, counting, and the real Slack and Telegram apps against their fakes.

Drills run alone with `pytest -m drill`.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.notify import ChatTarget
from bot.slack.app import build_bot
from bot.slack.service import SlackService
from bot.telegram.service import TelegramService
from core import db
from core.clock import SystemClock
from core.service import Core
from core.settings import Settings
from core.users.commands import LinkChatIdentity
from fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SignedClient
from fakes.telegram import FakeTelegram


@pytest.fixture
async def live_core(database_url, settings):
    """A core on the wall clock: for drills where real processes, backoffs and leases run in real time."""
    engine = db.create_engine(database_url, pool_size=5)
    yield Core(engine, clock=SystemClock(), settings=settings)
    await engine.dispose()


@pytest.fixture
def count(core):
    """`await count(Model, *where)`: how many rows, read in a transaction of its own."""

    async def rows(model, *where) -> int:
        async with core.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))

    return rows


# --- the chat apps, running against their fakes --------------------------------------------------------------

ANA_SLACK, ANA_DM, ANA_TELEGRAM = "U0ANA", "DU0ANA", 111_111


@dataclass
class SlackApp:
    """The real Slack app over HTTP (`client` sends signed requests), its fake Web API, and Ana's digest message."""

    fake: FakeSlack
    client: SignedClient
    service: SlackService
    digest_ts: str


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


@pytest.fixture
async def slack_app(core, database_url, ana, bob):
    fake = FakeSlack()
    fake.add_user(ANA_SLACK, "ana@example.com")
    async with TestServer(fake.app, host="127.0.0.1") as api:
        fake.url = str(api.make_url("")).rstrip("/")
        settings = Settings(
            database_url=database_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{fake.url}/api/",
            _env_file=None,
        )
        bot = build_bot(core, settings)
        service = SlackService(core, settings, bot=bot, host="127.0.0.1")
        async with TestClient(TestServer(service.web_app(), host="127.0.0.1")) as http:
            ts = await service.notifier.send(
                ChatTarget(ana.id, "slack", ANA_SLACK), await Conversation(core, "slack").digest(ana)
            )
            yield SlackApp(fake, SignedClient(http, fake, bot.in_flight), service, ts)
            await bot.in_flight.wait_idle(10)
    assert fake.invalid == [], "Slack would have refused these messages"


@dataclass
class TelegramApp:
    """The real Telegram bot in webhook mode, its fake Bot API, Ana's Telegram user and her digest message."""

    fake: FakeTelegram
    service: TelegramService
    user: dict
    digest: dict

    @property
    def secret(self) -> str:
        return self.fake.webhook["secret_token"]

    async def post(self, update, *, secret: str | None = None, raw: bytes | None = None) -> int:
        """POST to the webhook as Telegram does (the right secret unless told otherwise); waits until handled."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret}
        async with aiohttp.ClientSession() as session:
            if raw is not None:
                headers["Content-Type"] = "application/json"
            async with session.post(
                self.fake.webhook["url"], json=None if raw is not None else update, data=raw, headers=headers
            ) as response:
                status = response.status
        await self.service.application.update_queue.join()
        return status


@pytest.fixture
async def telegram_app(core, ana, bob):
    fake = FakeTelegram()
    await fake.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = core.settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(fake.token),
            "telegram_api_url": fake.api_url,
            "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "telegram_webhook_listen": "127.0.0.1",
            "telegram_webhook_port": port,
        }
    )
    service = TelegramService(settings, core)
    await service.start()
    user = fake.user(ANA_TELEGRAM, "Ana")
    fake.open_chat(user)
    await core.execute(LinkChatIdentity(ana.email, "telegram", str(ANA_TELEGRAM), dm_channel=str(ANA_TELEGRAM)))
    await service.notifier.send(
        ChatTarget(ana.id, "telegram", str(ANA_TELEGRAM), str(ANA_TELEGRAM)),
        await Conversation(core, "telegram").digest(ana),
    )
    yield TelegramApp(fake, service, user, fake.messages(ANA_TELEGRAM)[-1])
    await service.stop()
    await fake.stop()

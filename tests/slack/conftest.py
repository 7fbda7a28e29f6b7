"""Slack fixtures: the fake Slack on 127.0.0.1, our real Bolt app reaching it through SLACK_API_URL, and a client
that sends it signed requests over HTTP."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.slack.app import build_bot
from bot.slack.service import SlackService
from core.settings import Settings
from fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SignedClient


@pytest.fixture(autouse=True)
def no_error_logged():
    """Bolt logs (rather than raises) what fails in a listener after its ack: any error logged fails the test."""
    errors: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record)

    handler = Collect(level=logging.ERROR)
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    assert [r.getMessage() for r in errors] == []


@pytest.fixture
async def fake():
    fake = FakeSlack()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()
    assert fake.invalid == [], "Slack would have refused these messages"


@pytest.fixture
def slack_settings(database_url, fake):
    return Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=f"{fake.url}/api/",
        _env_file=None,
    )


@pytest.fixture
def waits():
    """The waits the Slack client was asked for (Retry-After), recorded instead of slept."""
    return []


@pytest.fixture
async def bot(core, slack_settings, waits):
    async def sleep(seconds):
        waits.append(seconds)

    return build_bot(core, slack_settings, sleep=sleep)


@pytest.fixture
async def service(core, slack_settings, bot):
    return SlackService(core, slack_settings, bot=bot, host="127.0.0.1")


@pytest.fixture
async def slack(service, fake, bot):
    http = TestClient(TestServer(service.web_app(), host="127.0.0.1"))
    await http.start_server()
    yield SignedClient(http, fake, bot.in_flight)
    await http.close()
    await bot.in_flight.wait_idle(10)

"""`pipedriven doctor` against the fake Slack, Telegram and Pipedrive: one line a check, ✓ or ✗ with the fix."""

from __future__ import annotations

import asyncio
import os
import sys

import psycopg
import pytest
from aiohttp.test_utils import TestServer

from core import db
from fakes.pipedrive import FakePipedrive
from fakes.slack import BOT_TOKEN, FakeSlack
from fakes.telegram import FakeTelegram

pytestmark = pytest.mark.process


@pytest.fixture
async def slack():
    fake = FakeSlack()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def telegram():
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def pipedrive_options():
    return {}


@pytest.fixture
async def pipedrive(pipedrive_options):
    fake = FakePipedrive(**pipedrive_options)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def doctor(database_url, tmp_path, slack, telegram, pipedrive):
    """`doctor(**env)`: `pipedriven doctor` in a process of its own with every platform configured on the fakes;
    an env value of None leaves that variable out. The event loop keeps serving the fakes meanwhile."""
    configured = {
        "DATABASE_URL": database_url,
        "PIPEDRIVEN_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": f"{slack.url}/api/",
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.api_url,
        "PIPEDRIVE_API_TOKEN": "company-token",
        "PIPEDRIVE_BASE_URL": pipedrive.url,
    }

    async def run(**env: str | None) -> tuple[int, list[str]]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "PIPEDRIVE"))}
        base.pop("TEST_DATABASE_URL", None)
        merged = {**base, **configured, **env}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "doctor",
            env={k: v for k, v in merged.items() if v is not None},
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert err.decode() == ""
        return process.returncode, out.decode().splitlines()

    return run


async def test_everything_set_up_is_all_ticks_and_exit_0(doctor):
    code, lines = await doctor()
    assert lines == [
        "✓ database: reachable",
        f"✓ migrations: current ({db.head_revision()})",
        "✓ Slack: bot @pipedriven in Example",
        "✓ Slack scopes: all 8 granted",
        "✓ Telegram: bot @PipedrivenTestBot",
        "✓ Telegram updates: long polling (no TELEGRAM_WEBHOOK_URL)",
        "✓ Pipedrive token: Ana Silva at Acme Ltd",
        "✓ Pipedrive person field “Campaign source”",
        "✓ Pipedrive person label “Warm lead”",
    ]
    assert code == 0


async def test_platforms_without_credentials_are_not_configured_not_failed(doctor):
    code, lines = await doctor(SLACK_BOT_TOKEN=None, TELEGRAM_BOT_TOKEN=None, PIPEDRIVE_API_TOKEN=None)
    assert lines[2:] == [
        "– Slack: not configured (set SLACK_BOT_TOKEN)",
        "– Telegram: not configured (set TELEGRAM_BOT_TOKEN)",
        "– Pipedrive: not configured (set PIPEDRIVE_API_TOKEN)",
    ]
    assert code == 0


async def test_wrong_tokens_are_crosses_that_name_the_variable_to_fix_and_exit_1(doctor, telegram):
    wrong_telegram = telegram.token.replace("AAtest", "AAwrong")
    code, lines = await doctor(
        SLACK_BOT_TOKEN="xoxb-wrong", TELEGRAM_BOT_TOKEN=wrong_telegram, PIPEDRIVE_API_TOKEN="wrong-token"
    )
    assert lines[2:] == [
        "✗ Slack: auth.test says invalid_auth — check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-)",
        "✗ Telegram: getMe refused the bot token — check TELEGRAM_BOT_TOKEN (from @BotFather)",
        "✗ Pipedrive: users/me refused the token — check PIPEDRIVE_API_TOKEN (Pipedrive: Personal preferences → API) "
        "and PIPEDRIVE_BASE_URL",
    ]
    assert code == 1
    assert not any(secret in line for line in lines for secret in ("xoxb-wrong", wrong_telegram, "wrong-token"))


@pytest.mark.parametrize("pipedrive_options", [{"custom_fields": (), "labels": ("Customer",)}])
async def test_what_is_missing_is_said_with_the_command_that_fixes_it(doctor, slack, database_url):
    slack.scopes.remove("im:history")
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    code, lines = await doctor()
    assert code == 1
    assert (
        f"✗ migrations: the database is at 0001, this code at {db.head_revision()} — run `pipedriven db upgrade`, "
        "or if the database is newer, upgrade Pipedriven"
    ) in lines
    assert (
        "✗ Slack scopes: missing im:history — add them under OAuth & Permissions (they are in slack-manifest.yml) "
        "and reinstall the app"
    ) in lines
    assert "✗ Pipedrive person field “Campaign source”: missing — run `pipedriven pipedrive setup`" in lines
    assert "✗ Pipedrive person label “Warm lead”: missing — run `pipedriven pipedrive setup`" in lines


async def test_a_failing_telegram_webhook_is_told_with_telegrams_own_error(doctor, telegram):
    url = "https://bot.example.com/telegram"
    telegram.webhook = {"url": url, "secret_token": None}
    telegram.webhook_error = "Wrong response from the webhook: 502 Bad Gateway"
    code, lines = await doctor(TELEGRAM_WEBHOOK_URL=url)
    assert (
        "✗ Telegram webhook: Telegram's last delivery failed (Wrong response from the webhook: 502 Bad Gateway) — "
        f"check that {url} reaches port 8443 over HTTPS"
    ) in lines
    assert code == 1


async def test_an_unreachable_database_is_one_line_not_a_traceback(doctor):
    code, lines = await doctor(DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    assert code == 1 and lines[0].startswith(
        "✗ database: The database at postgresql+psycopg://nobody@127.0.0.1:9/none is not"
    )
    assert lines[0].endswith("— check DATABASE_URL and that PostgreSQL is running")

"""`pipedriven doctor`: is this deployment set up right? One line per check, ✓ or ✗ with what to fix.

It checks the database and its migrations, then each platform that has credentials: Slack (auth.test and the
token's scopes), Telegram (getMe, getWebhookInfo) and Pipedrive (users/me, the campaign source person field and
the warm label). A platform without credentials is said to be not configured. Nothing is changed anywhere.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core import db
from core.errors import DatabaseUnavailable
from core.settings import Settings

OK, FAILED, SKIPPED = True, False, None
MARKS = {OK: "✓", FAILED: "✗", SKIPPED: "–"}


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: not checked (not configured)
    text: str

    @property
    def line(self) -> str:
        return f"{MARKS[self.ok]} {self.text}"


def database_checks(settings: Settings) -> list[Check]:
    try:
        with db.database_url(settings) as url:
            revision = db.current_revision(url)
    except DatabaseUnavailable as exc:
        return [Check(FAILED, f"database: {exc} — check DATABASE_URL and that PostgreSQL is running")]
    head = db.head_revision()
    checks = [Check(OK, "database: reachable")]
    if revision == head:
        checks.append(Check(OK, f"migrations: current ({head})"))
    elif revision is None:
        checks.append(
            Check(FAILED, "migrations: none applied — run `pipedriven db upgrade` (or start `pipedriven run`)")
        )
    else:
        checks.append(
            Check(
                FAILED,
                f"migrations: the database is at {revision}, this code at {head} — run `pipedriven db upgrade`, "
                "or if the database is newer, upgrade Pipedriven",
            )
        )
    return checks


async def slack_checks(settings: Settings) -> list[Check]:
    if settings.slack_bot_token is None:
        return [Check(SKIPPED, "Slack: not configured (set SLACK_BOT_TOKEN)")]
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import BOT_SCOPES

    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "refused"
        return [
            Check(FAILED, f"Slack: auth.test says {error} — check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-)")
        ]
    except Exception as exc:  # aiohttp's connection errors and timeouts
        return [Check(FAILED, f"Slack: not reachable at SLACK_API_URL ({type(exc).__name__})")]
    checks = [Check(OK, f"Slack: bot @{answer.get('user')} in {answer.get('team')}")]
    headers = {name.lower(): value for name, value in (answer.headers or {}).items()}
    header = headers.get("x-oauth-scopes", "")
    granted = {s.strip() for s in (header[0] if isinstance(header, list) else header).split(",") if s.strip()}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        checks.append(
            Check(
                FAILED,
                f"Slack scopes: missing {', '.join(missing)} — add them under OAuth & Permissions (they are in "
                "slack-manifest.yml) and reinstall the app",
            )
        )
    else:
        checks.append(Check(OK, f"Slack scopes: all {len(BOT_SCOPES)} granted"))
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        checks.append(Check(FAILED, "Slack mode: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)"))
    return checks


async def telegram_checks(settings: Settings) -> list[Check]:
    if settings.telegram_bot_token is None:
        return [Check(SKIPPED, "Telegram: not configured (set TELEGRAM_BOT_TOKEN)")]
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bot.telegram.app import file_url

    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings.telegram_api_url),
    )
    try:  # a TelegramError's message may quote the token: only its kind is told
        async with bot:  # getMe
            info = await bot.get_webhook_info()
    except InvalidToken:
        return [Check(FAILED, "Telegram: getMe refused the bot token — check TELEGRAM_BOT_TOKEN (from @BotFather)")]
    except TelegramError as exc:
        return [Check(FAILED, f"Telegram: not reachable at TELEGRAM_API_URL ({type(exc).__name__})")]
    checks = [Check(OK, f"Telegram: bot @{bot.username}")]
    wanted = settings.telegram_webhook_url
    if info.last_error_message and (wanted or info.url):
        checks.append(
            Check(
                FAILED,
                f"Telegram webhook: Telegram's last delivery failed ({info.last_error_message}) — check that "
                f"{info.url or wanted} reaches port {settings.telegram_webhook_port} over HTTPS",
            )
        )
    elif wanted and info.url and info.url != wanted:
        checks.append(
            Check(
                FAILED,
                f"Telegram webhook: set to {info.url}, not TELEGRAM_WEBHOOK_URL — `pipedriven run` sets it at start; "
                "is another deployment using this bot?",
            )
        )
    elif wanted:
        checks.append(
            Check(OK, f"Telegram webhook: {wanted}" + ("" if info.url else " (set when `pipedriven run` starts)"))
        )
    else:
        checks.append(Check(OK, "Telegram updates: long polling (no TELEGRAM_WEBHOOK_URL)"))
    return checks


async def pipedrive_checks(settings: Settings) -> list[Check]:
    if settings.pipedrive_api_token is None:
        return [Check(SKIPPED, "Pipedrive: not configured (set PIPEDRIVE_API_TOKEN)")]
    from pipedrive import setup
    from pipedrive.client import company_client
    from pipedrive.errors import AuthenticationFailed, PipedriveError, PipedriveUnavailable

    client = company_client(settings)
    try:
        return [Check(ok, text) for ok, text in await setup.check(client, settings)]
    except AuthenticationFailed:
        return [
            Check(
                FAILED,
                "Pipedrive: users/me refused the token — check PIPEDRIVE_API_TOKEN (Pipedrive: Personal preferences → "
                "API) and PIPEDRIVE_BASE_URL",
            )
        ]
    except PipedriveUnavailable as exc:
        return [Check(FAILED, f"Pipedrive: not reachable at {settings.pipedrive_url} ({exc})")]
    except PipedriveError as exc:
        return [Check(FAILED, f"Pipedrive: {exc}")]
    finally:
        await client.aclose()


async def run_checks(settings: Settings) -> list[Check]:
    checks = await asyncio.to_thread(database_checks, settings)
    for platform in (slack_checks, telegram_checks, pipedrive_checks):
        checks += await platform(settings)
    return checks

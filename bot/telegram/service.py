"""`pipedriven run`'s Telegram part: long polling by default, a webhook when TELEGRAM_WEBHOOK_URL is set.

At start it asks getMe who the bot is (its username makes the t.me links of link codes) and registers the
command menu (setMyCommands). In webhook mode Telegram must send the secret token with every update
(TELEGRAM_WEBHOOK_SECRET, or one derived from the bot token so that every process agrees on it).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError

from bot.telegram.app import ALLOWED_UPDATES, RATE_LIMIT_RETRIES, bot_commands, build_application
from bot.telegram.notifier import TelegramNotifier
from core.errors import PipedrivenError
from core.service import Core
from core.settings import Settings

POLL_TIMEOUT = timedelta(seconds=30)  # long polling: Telegram holds getUpdates open this long when idle


class TelegramUnavailable(PipedrivenError):
    """Telegram could not be reached, or refused the bot token (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL)."""


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or a secret derived from the bot token (Telegram allows A-Z, a-z, 0-9, _ and -)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    token = settings.telegram_bot_token.get_secret_value().encode()
    return hmac.new(token, b"pipedriven telegram webhook", hashlib.sha256).hexdigest()


class TelegramService:
    name = "telegram"

    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        poll_timeout: timedelta = POLL_TIMEOUT,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
    ) -> None:
        self.settings = settings
        self.core = core
        self.poll_timeout = poll_timeout
        self.application = build_application(settings, core, rate_limit_retries=rate_limit_retries)
        self.notifier = TelegramNotifier(self.application.bot)

    async def start(self) -> None:
        app = self.application
        try:
            await app.initialize()  # getMe
            if not self.settings.telegram_bot_username:
                # Learnt once here, so that link codes issued anywhere in this process come with a t.me link.
                self.settings.telegram_bot_username = app.bot.username
            await app.bot.set_my_commands(bot_commands())
            await app.start()
            url = self.settings.telegram_webhook_url
            if url:
                await app.updater.start_webhook(
                    listen=self.settings.telegram_webhook_listen,
                    port=self.settings.telegram_webhook_port,
                    url_path=urlsplit(url).path,
                    webhook_url=url,
                    secret_token=webhook_secret(self.settings),
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await app.updater.start_polling(timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
        except InvalidToken:
            await self.stop()
            # PTB's own message quotes the token: it must not reach a log or the terminal.
            raise TelegramUnavailable("Telegram refused the bot token: check TELEGRAM_BOT_TOKEN.") from None
        except NetworkError as exc:
            await self.stop()
            raise TelegramUnavailable(
                f"Telegram could not be reached at TELEGRAM_API_URL ({type(exc).__name__})."
            ) from None
        except Exception:
            await self.stop()
            raise

    def ready(self) -> bool:
        """Polling or serving the webhook."""
        app = self.application
        return app.running and app.updater is not None and app.updater.running

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

"""The Slack part of `pipedriven run`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.

HTTP mode serves Slack's requests on POST /slack/events (events, interactivity and the slash command), the health
routes (/healthz, /readyz, /metrics: bot/health.py), and POST /pipedrive/webhook when Pipedrive's webhooks are
configured (pipedrive/webhooks.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.health import Health
from bot.slack.app import SlackBot, SlackNotConfigured, build_bot
from bot.slack.notifier import SlackNotifier
from core.service import Core
from core.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackService:
    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        bot: SlackBot | None = None,
        host: str = "0.0.0.0",
        routes: Callable[[web.Application], None] | None = None,
        health: Health | None = None,
    ) -> None:
        self.core = core
        self.health = health or Health(core)
        self.routes = routes  # more routes on the same server (Pipedrive's webhooks)
        self.bot = bot or build_bot(core, settings)
        self.notifier = SlackNotifier(self.bot.messenger)
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        if not self.app_token and not settings.slack_signing_secret:
            raise SlackNotConfigured(
                "Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)."
            )
        self.port = settings.port
        self.grace = settings.shutdown_grace_seconds  # how long a stop waits for acknowledged work to finish
        self.host = host
        self.name = "slack (Socket Mode)" if self.app_token else f"slack (HTTP on port {self.port})"
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        """Slack's request URL and the health routes."""
        app = self.bot.app.web_app(path=EVENTS_PATH, port=self.port)
        self.health.add_routes(app)
        if self.routes is not None:
            self.routes(app)
        return app

    async def ready(self) -> bool:
        """Connected to Slack (Socket Mode), or serving Slack's requests (HTTP)."""
        if self._socket is not None:
            socket_mode = self._socket.client
            return await socket_mode.is_connected()
        return self._runner is not None

    async def start(self) -> None:
        if self.app_token:
            self._socket = AsyncSocketModeHandler(self.bot.app, self.app_token)
            await self._socket.connect_async()
            return
        self._runner = web.AppRunner(self.web_app(), shutdown_timeout=self.grace)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        try:
            await self.bot.in_flight.wait_idle(self.grace)
        except TimeoutError:
            log.warning("stopped with Slack work still running")

"""The Slack part of `pipedriven run`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.

HTTP mode serves Slack's requests on POST /slack/events (events, interactivity and the slash command) and
GET /healthz, which answers 200 while the database answers and 503 when it does not, for the host's checks,
and POST /pipedrive/webhook when Pipedrive's webhooks are configured (pipedrive/webhooks.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.slack.app import SlackBot, SlackNotConfigured, build_bot
from bot.slack.notifier import SlackNotifier
from core.errors import DatabaseUnavailable
from core.service import Core
from core.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 5.0
DRAIN_TIMEOUT = 10.0  # how long a stop waits for acknowledged work to finish


class SlackService:
    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        bot: SlackBot | None = None,
        host: str = "0.0.0.0",
        routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self.core = core
        self.routes = routes  # more routes on the same server (Pipedrive's webhooks)
        self.bot = bot or build_bot(core, settings)
        self.notifier = SlackNotifier(self.bot.messenger)
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        if not self.app_token and not settings.slack_signing_secret:
            raise SlackNotConfigured(
                "Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)."
            )
        self.port = settings.port
        self.host = host
        self.name = "slack (Socket Mode)" if self.app_token else f"slack (HTTP on port {self.port})"
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        """Slack's request URL and the health check."""
        app = self.bot.app.web_app(path=EVENTS_PATH, port=self.port)
        app.router.add_get(HEALTH_PATH, self.healthz)
        if self.routes is not None:
            self.routes(app)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        """200 while the database answers, 503 otherwise."""
        try:
            await asyncio.wait_for(self.core.ping(), HEALTH_TIMEOUT)
        except (DatabaseUnavailable, TimeoutError):
            return web.Response(status=503, text="database unavailable\n")
        return web.Response(text="ok\n")

    async def start(self) -> None:
        if self.app_token:
            self._socket = AsyncSocketModeHandler(self.bot.app, self.app_token)
            await self._socket.connect_async()
            return
        self._runner = web.AppRunner(self.web_app())
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        try:
            await self.bot.in_flight.wait_idle(DRAIN_TIMEOUT)
        except TimeoutError:
            log.warning("stopped with Slack work still running")

"""`pipedriven run`: every configured part of Pipedriven on one event loop.

Each part is a `Service` (start, stop). Chat adapters also provide a `Notifier`: the scheduler sends through a
`ChatCourier` over them (the scheduler imports nothing of the chat side; this is where the two meet).
Several `pipedriven run` processes may share one database: whatever must happen once is claimed there.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

from bot.notify import ChatCourier, Notifier
from core.service import Core
from core.settings import Settings

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class NothingToRun(Exception):
    """Nothing configured to run: set SLACK_BOT_TOKEN and/or TELEGRAM_BOT_TOKEN, or PIPEDRIVE_API_TOKEN to sync
    to Pipedrive, or PIPEDRIVE_WEBHOOK_USER and _PASSWORD to receive its changes (or try `pipedriven demo`)."""


def build_services(settings: Settings, core: Core) -> tuple[list[Service], dict[str, Notifier]]:
    """The parts this configuration asks for. Chat adapters come first so the scheduler gets their notifiers."""
    services: list[Service] = []
    notifiers: dict[str, Notifier] = {}
    webhooks = None
    if settings.pipedrive_webhooks_on:  # Pipedrive's changes come back: on Slack's HTTP port, else on their own
        from pipedrive.webhooks import WebhookService

        slack_http = bool(settings.slack_bot_token) and not settings.slack_app_token
        webhooks = WebhookService(core, settings, own_server=not slack_http)
    if settings.slack_bot_token:
        from bot.slack.service import SlackService

        slack = SlackService(core, settings, routes=webhooks.receiver.add_routes if webhooks else None)
        services.append(slack)
        notifiers[slack.notifier.platform] = slack.notifier

    if settings.telegram_bot_token:
        from bot.telegram.service import TelegramService  # imported only when configured: it loads PTB

        telegram = TelegramService(settings, core)
        services.append(telegram)
        notifiers[telegram.notifier.platform] = telegram.notifier

    if notifiers:  # digests and nudges go wherever a chat adapter can deliver them
        services.append(scheduler_service(core, notifiers))
    # The Pipedrive sync drains the outbox whenever a token may be there: the company's, or (users' own tokens
    # live in the database) alongside a chat adapter, whose users queue the syncs.
    if settings.pipedrive_api_token is not None or notifiers:
        from pipedrive.worker import SyncService

        services.append(SyncService(core))
    if webhooks is not None:
        services.append(webhooks)
    return services, notifiers


def scheduler_service(core: Core, notifiers: dict[str, Notifier]) -> Service:
    from scheduler.service import SchedulerService

    return SchedulerService.for_courier(core, ChatCourier(core, notifiers))


async def run_forever(settings: Settings, core: Core, stop: asyncio.Event | None = None) -> None:
    services, _ = build_services(settings, core)
    await run_services(services, stop)


async def run_services(services: list[Service], stop: asyncio.Event | None = None) -> None:
    """Start the services in order, run until SIGINT/SIGTERM (or `stop`), then stop them in reverse order."""
    if not services:
        raise NothingToRun(" ".join(NothingToRun.__doc__.split()))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    started: list[Service] = []
    try:
        for service in services:
            await service.start()
            started.append(service)
            log.info("%s started", service.name)
        await stop.wait()
    finally:
        for service in reversed(started):
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %s failed", service.name)

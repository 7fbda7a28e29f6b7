"""The Slack app, built in one place: `build_bot` makes the slack-bolt AsyncApp and registers every listener.

Each listener module (`uploads`, `commands`, `actions`, `views`, `home`) has one `register(listen, deps)`; none
knows the others or this module. Bolt verifies every HTTP request's signature and timestamp (401 otherwise).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Conversation
from bot.slack import actions, commands, home, uploads, views
from bot.slack.deps import InFlight, Listen, SlackDeps
from bot.slack.identity import PLATFORM, SlackIdentity
from bot.slack.messenger import Messenger, RetryAfter429
from core.errors import PipedrivenError
from core.service import Core
from core.settings import Settings

# Bolt runs the first listener that matches: files shared in the DM (message subtype file_share) must be
# registered before the commands' catch-all for other message subtypes.
LISTENERS = (uploads, commands, actions, views, home)
# The bot token scopes the app uses (slack-manifest.yml grants them; `pipedriven doctor` checks them).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "files:read",
    "files:write",
)


class SlackNotConfigured(PipedrivenError):
    """Slack is not fully configured."""


@dataclass(frozen=True)
class SlackBot:
    """The Slack app as built: Bolt's AsyncApp, the work its listeners still run, and the messenger they send with."""

    app: AsyncApp
    in_flight: InFlight
    messenger: Messenger


def build_bot(core: Core, settings: Settings, *, sleep=asyncio.sleep) -> SlackBot:
    """The AsyncApp for SLACK_BOT_TOKEN at SLACK_API_URL with every listener registered; nothing is called yet.
    `sleep` is how the client waits out a 429's Retry-After."""
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("Set SLACK_BOT_TOKEN to run the Slack app.")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url.rstrip("/") + "/",
        retry_handlers=[RetryAfter429(sleep=sleep), AsyncConnectionErrorRetryHandler()],
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = AsyncApp(client=client, signing_secret=secret, name="pipedriven")
    in_flight = InFlight()
    messenger = Messenger(client)
    deps = SlackDeps(Conversation(core, PLATFORM), SlackIdentity(core, client), messenger, client)
    listen = Listen(app, in_flight)
    for listeners in LISTENERS:
        listeners.register(listen, deps)
    return SlackBot(app, in_flight, messenger)

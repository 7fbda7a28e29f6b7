"""The scheduler's way into Slack (bot.notify.Notifier for platform 'slack'): a reply posted in the user's DM.

429s are waited out by the client (Retry-After) and only surface when the wait would be too long; what a retry
may fix becomes TemporaryDeliveryError, what it never will (the account is gone, the user is a bot) becomes
PermanentDeliveryError.
"""

from __future__ import annotations

import logging

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

from bot.notify import ChatTarget
from bot.replies import Reply
from bot.slack.identity import PLATFORM
from bot.slack.messenger import Messenger, RetryAfter429
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError

log = logging.getLogger(__name__)

# Web API errors that no retry will fix for this user. (A bad token or a missing scope is the deployment's to
# fix and stays temporary: the scheduler keeps trying once it is.)
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "user_is_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "messages_tab_disabled",
    }
)


class SlackNotifier:
    platform = PLATFORM

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        """Post `reply` in the user's DM; returns the ts of its message."""
        try:
            channel = target.dm_channel or await self.messenger.dm_channel(target.external_user_id)
            return await self.messenger.post(channel, reply)
        except SlackApiError as exc:
            error = exc.response.get("error") or ""
            if exc.response.status_code == 429:
                raise TemporaryDeliveryError("ratelimited", RetryAfter429.wait_of(exc.response)) from exc
            if error in PERMANENT_ERRORS:
                raise PermanentDeliveryError(error) from exc
            raise TemporaryDeliveryError(error or f"HTTP {exc.response.status_code}") from exc
        except (ClientError, TimeoutError, OSError) as exc:
            raise TemporaryDeliveryError(type(exc).__name__) from exc

"""Who a Slack user is in Pipedriven: matched once by their Slack profile email, then by their linked account.

The first time, users.info gives the profile's email and timezone and the core links the Slack account to the
user with that email (the timezone fills in a user who still has the default one). From then on the core finds
them by their Slack id alone. Nobody is created here: an admin adds users.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import UnknownUser
from core.service import Core
from core.users.commands import LinkChatIdentity
from core.views import UserView

log = logging.getLogger(__name__)

PLATFORM = "slack"


def not_added(email: str) -> str:
    return (
        f"I don't know you yet: no Pipedriven user has the email on your Slack profile ({email}). "
        f"Ask a Pipedriven admin to add you with `pipedriven users add {email}`, then try again."
    )


NO_EMAIL = (
    "I can't see an email address on your Slack profile, so I can't tell who you are in Pipedriven. "
    "Ask a Pipedriven admin to add you with `pipedriven users add YOUR_EMAIL` and check that your Slack "
    "profile shows that email."
)


class SlackIdentity:
    def __init__(self, core: Core, client: AsyncWebClient) -> None:
        self.core = core
        self.client = client

    async def user(self, slack_user_id: str) -> UserView:
        """The Pipedriven user behind this Slack account, or UnknownUser with what to do about it."""
        try:
            return await self.core.identify(PLATFORM, slack_user_id)
        except UnknownUser:
            pass
        try:
            info = (await self.client.users_info(user=slack_user_id))["user"]
        except SlackApiError as exc:
            log.info("users.info failed for a Slack user: %s", exc.response.get("error"))
            raise UnknownUser(NO_EMAIL) from None
        email = (info.get("profile") or {}).get("email")
        if info.get("is_bot") or info.get("deleted") or not email:
            raise UnknownUser(NO_EMAIL)
        try:
            return await self.core.execute(
                LinkChatIdentity(
                    email=email, platform=PLATFORM, external_user_id=slack_user_id, timezone=info.get("tz")
                )
            )
        except UnknownUser:
            raise UnknownUser(not_added(email)) from None

"""Users: creating and listing them, linking their chat accounts (by email or a one-time code), their settings,
and the questions the bot asked them in a chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from core.command import Actor, Command, Query
from core.views import UserView


@dataclass(frozen=True)
class CreateUser(Command):
    name: str
    email: str
    role: str = "consultant"
    timezone: str | None = None


@dataclass(frozen=True)
class ListUsers(Query):
    pass


@dataclass(frozen=True)
class SetUserActive(Command):
    """Deactivate a user (no digests or nudges, and nothing they say is acted on) or activate them again."""

    email: str
    active: bool


@dataclass(frozen=True)
class SetUserRole(Command):
    email: str
    role: str


@dataclass(frozen=True)
class LinkChatIdentity(Command):
    """Link a platform account to the user with this email (Slack matches on the profile email)."""

    email: str
    platform: str
    external_user_id: str
    dm_channel: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ListChatIdentities(Query):
    """Where a user can be reached (all their linked platforms), for notifications."""

    user_id: int


@dataclass(frozen=True)
class ShowSettings(Query):
    actor: Actor


@dataclass(frozen=True)
class UpdateSettings(Command):
    actor: Actor
    digest_time: time | None = None
    timezone: str | None = None
    working_days: tuple[int, ...] | None = None
    signature: str | None = None  # "" clears it


@dataclass(frozen=True)
class IssueLinkCode(Command):
    """A one-time code the user sends to a platform's bot to link that account (Telegram: `/start CODE`)."""

    actor: Actor
    platform: str = "telegram"


@dataclass(frozen=True)
class RedeemLinkCode(Command):
    """Link the chat account that sent `code` to the user the code was issued to."""

    code: str
    platform: str
    external_user_id: str
    dm_channel: str | None = None


@dataclass(frozen=True)
class RememberPrompt(Command):
    """The bot asked a question in a chat (message `message_id`); a reply to it answers button `data`."""

    actor: Actor
    chat_id: str
    message_id: str
    data: str


@dataclass(frozen=True)
class RecallPrompt(Query):
    """The button data a reply to message `message_id` answers, or None."""

    actor: Actor
    chat_id: str
    message_id: str


@dataclass(frozen=True)
class UserList:
    users: tuple[UserView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ChatIdentityView:
    user_id: int
    platform: str
    external_user_id: str
    dm_channel: str | None = None


@dataclass(frozen=True)
class LinkCodeIssued:
    """A fresh one-time link code (shown once; only its hash is stored)."""

    platform: str
    code: str
    expires_at: datetime
    start_link: str | None = None  # e.g. https://t.me/<bot>?start=CODE, when the bot's username is known


@dataclass(frozen=True)
class ChatLinked:
    user: UserView
    platform: str

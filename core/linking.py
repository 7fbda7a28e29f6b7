"""Linking a chat account to a user with a one-time code, for platforms that know no email (Telegram).

`IssueLinkCode` gives the user (from the CLI or another chat) a short code; sending it to the bot
(`/start CODE`) runs `RedeemLinkCode`, which links that account. Only the code's hash is stored; a code
expires after LINK_CODE_TTL and works once, and issuing a new one cancels the user's unused ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select

from core import commands as c
from core.errors import InvalidInput
from core.handlers import link_chat_identity
from core.context import Context, load_user
from core.models import ChatLinkCode, User
from core.results import ChatLinked, LinkCodeIssued

LINK_CODE_TTL = timedelta(minutes=30)
# Used and expired codes are kept a day, so that a reused code is told apart from a mistyped one.
KEEP_SPENT_CODES = timedelta(days=1)
# Uppercase letters and digits a person reads without confusion (no 0/O, 1/I/L); 10 of them are ~50 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
LINKABLE_PLATFORMS = ("telegram",)


def _normalise(code: str) -> str:
    """What the user typed, as issued: case, spaces and dashes don't matter."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -")


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _start_link(ctx: Context, platform: str, code: str) -> str | None:
    username = (ctx.settings.telegram_bot_username or "").lstrip("@")
    return f"https://t.me/{username}?start={code}" if platform == "telegram" and username else None


async def issue_link_code(cmd: c.IssueLinkCode, ctx: Context) -> LinkCodeIssued:
    if cmd.platform not in LINKABLE_PLATFORMS:
        raise InvalidInput("Only a Telegram account is linked with a code: say `settings link telegram`.")
    user = await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    await ctx.session.execute(delete(ChatLinkCode).where(or_(
        and_(ChatLinkCode.user_id == user.id, ChatLinkCode.platform == cmd.platform, ChatLinkCode.used_at.is_(None)),
        ChatLinkCode.expires_at < now - KEEP_SPENT_CODES)))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + LINK_CODE_TTL
    ctx.session.add(ChatLinkCode(code_hash=_hash(code), user_id=user.id, platform=cmd.platform,
                                 created_at=now, expires_at=expires_at))
    await ctx.session.flush()
    return LinkCodeIssued(cmd.platform, code, expires_at, _start_link(ctx, cmd.platform, code))


async def redeem_link_code(cmd: c.RedeemLinkCode, ctx: Context) -> ChatLinked:
    ask_again = "Ask for a new one with `settings link telegram` (or an admin's `pipedriven users link EMAIL`)."
    row = (await ctx.session.execute(
        select(ChatLinkCode).where(ChatLinkCode.code_hash == _hash(cmd.code), ChatLinkCode.platform == cmd.platform)
        .with_for_update())).scalar_one_or_none()
    if row is None:
        raise InvalidInput(f"That link code is not valid. {ask_again}")
    if row.used_at is not None:
        raise InvalidInput(f"That link code has already been used; a code works once. {ask_again}")
    now = ctx.clock.now()
    if row.expires_at <= now:
        raise InvalidInput(f"That link code has expired. {ask_again}")
    row.used_at = now
    email = (await ctx.session.execute(select(User.email).where(User.id == row.user_id))).scalar_one()
    user = await link_chat_identity(c.LinkChatIdentity(email=email, platform=cmd.platform,
                                                       external_user_id=cmd.external_user_id,
                                                       dm_channel=cmd.dm_channel), ctx)
    return ChatLinked(user, cmd.platform)


HANDLERS = {
    c.IssueLinkCode: issue_link_code,
    c.RedeemLinkCode: redeem_link_code,
}

"""Users, their chat accounts, their settings, link codes and prompts.

A chat account is linked to a user by the platform profile's email (Slack) or, for platforms that know no email
(Telegram), with a one-time code: `IssueLinkCode` gives the user (from the CLI or another chat) a short code;
sending it to the bot (`/start CODE`) runs `RedeemLinkCode`, which links that account. Only the code's hash is
stored; a code expires after LINK_CODE_TTL and works once, and issuing a new one cancels the user's unused ones.

A prompt is a question the bot asked in a chat (a tap on “📝 Add note…”); the user answers by replying to that
message. The question's message id and the button's data are stored here (not in memory), so the answer works
after a restart and on whichever process receives it. Only the user who was asked can answer; prompts go stale
after PROMPT_TTL.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.cadences.templates import clean_signature
from core.context import Context, load_user, settings_view, user_view
from core.errors import Conflict, InvalidInput, UnknownUser
from core.models import ChatIdentity, ChatLinkCode, ChatPrompt, User
from core.registry import handles
from core.users.commands import (
    ChatIdentityView,
    ChatLinked,
    CreateUser,
    IssueLinkCode,
    LinkChatIdentity,
    LinkCodeIssued,
    ListChatIdentities,
    ListUsers,
    RecallPrompt,
    RedeemLinkCode,
    RememberPrompt,
    SetUserActive,
    SetUserRole,
    ShowSettings,
    UpdateSettings,
    UserList,
)
from core.validation import clean_email, clean_name, clean_role, clean_timezone
from core.views import SettingsView, UserView

# --- users and chat accounts -------------------------------------------------------------------------------


@handles
async def create_user(cmd: CreateUser, ctx: Context) -> UserView:
    email = clean_email(cmd.email)
    if not email:
        raise InvalidInput("A user needs an email address.")
    tz = clean_timezone(cmd.timezone or ctx.settings.default_timezone)
    exists = (await ctx.session.execute(select(User.id).where(func.lower(User.email) == email))).first()
    if exists:
        raise Conflict(f"A user with the email {email} already exists.")
    user = User(name=clean_name(cmd.name), email=email, role=clean_role(cmd.role), timezone=tz)
    ctx.session.add(user)
    await ctx.session.flush()
    await ctx.session.refresh(user)
    return user_view(user)


@handles
async def list_users(cmd: ListUsers, ctx: Context) -> UserList:
    users = (await ctx.session.execute(select(User).order_by(User.name, User.id))).scalars().all()
    return UserList(tuple(user_view(u) for u in users))


async def _user_by_email(ctx: Context, email: str) -> User:
    """Any user, active or not, by their email."""
    user = (
        await ctx.session.execute(select(User).where(func.lower(User.email) == email.strip().lower()).with_for_update())
    ).scalar_one_or_none()
    if user is None:
        raise UnknownUser(f"There is no Pipedriven user with the email {email.strip()[:80]}.")
    return user


@handles
async def set_user_active(cmd: SetUserActive, ctx: Context) -> UserView:
    user = await _user_by_email(ctx, cmd.email)
    user.active = cmd.active
    await ctx.session.flush()
    return user_view(user)


@handles
async def set_user_role(cmd: SetUserRole, ctx: Context) -> UserView:
    user = await _user_by_email(ctx, cmd.email)
    user.role = clean_role(cmd.role)
    await ctx.session.flush()
    return user_view(user)


@handles
async def link_chat_identity(cmd: LinkChatIdentity, ctx: Context) -> UserView:
    email = (cmd.email or "").strip().lower()
    user = (
        await ctx.session.execute(select(User).where(func.lower(User.email) == email, User.active))
    ).scalar_one_or_none()
    if user is None:
        raise UnknownUser()
    # The platform's timezone (Slack's profile) only fills in a user who never chose one; a bad one is ignored.
    if cmd.timezone and user.timezone == ctx.settings.default_timezone:
        try:
            user.timezone = clean_timezone(cmd.timezone)
        except InvalidInput:
            pass
    stmt = pg_insert(ChatIdentity).values(
        user_id=user.id, platform=cmd.platform, external_user_id=cmd.external_user_id, dm_channel=cmd.dm_channel
    )
    await ctx.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ChatIdentity.platform, ChatIdentity.external_user_id],
            set_={"user_id": user.id, "dm_channel": func.coalesce(stmt.excluded.dm_channel, ChatIdentity.dm_channel)},
        )
    )
    return user_view(user)


@handles
async def list_chat_identities(cmd: ListChatIdentities, ctx: Context) -> tuple[ChatIdentityView, ...]:
    rows = (
        (
            await ctx.session.execute(
                select(ChatIdentity)
                .where(ChatIdentity.user_id == cmd.user_id)
                .order_by(ChatIdentity.platform, ChatIdentity.id)
            )
        )
        .scalars()
        .all()
    )
    return tuple(ChatIdentityView(r.user_id, r.platform, r.external_user_id, r.dm_channel) for r in rows)


# --- settings ----------------------------------------------------------------------------------------------


@handles
async def show_settings(cmd: ShowSettings, ctx: Context) -> SettingsView:
    return settings_view(ctx, await load_user(ctx, cmd.actor.user_id))


@handles
async def update_settings(cmd: UpdateSettings, ctx: Context) -> SettingsView:
    user = await load_user(ctx, cmd.actor.user_id)
    changed = []
    if cmd.timezone is not None:
        user.timezone = clean_timezone(cmd.timezone)
        changed.append(f"timezone {user.timezone}")
    if cmd.digest_time is not None:
        user.digest_time = cmd.digest_time.replace(second=0, microsecond=0)
        changed.append(f"digest at {user.digest_time:%H:%M}")
    if cmd.working_days is not None:
        days = sorted(set(cmd.working_days))
        if not days or any(d not in range(1, 8) for d in days):
            raise InvalidInput("Working days must name at least one day, Monday to Sunday.")
        user.working_days = days
        changed.append("working days " + ", ".join(_DAY_NAMES[d - 1] for d in days))
    if cmd.signature is not None:
        user.signature = clean_signature(cmd.signature)
        changed.append("signature" if user.signature else "signature cleared")
    await ctx.session.flush()
    message = ("Saved: " + "; ".join(changed) + ".") if changed else ""
    return settings_view(ctx, user, message)


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- link codes --------------------------------------------------------------------------------------------

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


@handles
async def issue_link_code(cmd: IssueLinkCode, ctx: Context) -> LinkCodeIssued:
    if cmd.platform not in LINKABLE_PLATFORMS:
        raise InvalidInput("Only a Telegram account is linked with a code: say `settings link telegram`.")
    user = await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    await ctx.session.execute(
        delete(ChatLinkCode).where(
            or_(
                and_(
                    ChatLinkCode.user_id == user.id,
                    ChatLinkCode.platform == cmd.platform,
                    ChatLinkCode.used_at.is_(None),
                ),
                ChatLinkCode.expires_at < now - KEEP_SPENT_CODES,
            )
        )
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + LINK_CODE_TTL
    ctx.session.add(
        ChatLinkCode(
            code_hash=_hash(code), user_id=user.id, platform=cmd.platform, created_at=now, expires_at=expires_at
        )
    )
    await ctx.session.flush()
    return LinkCodeIssued(cmd.platform, code, expires_at, _start_link(ctx, cmd.platform, code))


@handles
async def redeem_link_code(cmd: RedeemLinkCode, ctx: Context) -> ChatLinked:
    ask_again = "Ask for a new one with `settings link telegram` (or an admin's `pipedriven users link EMAIL`)."
    row = (
        await ctx.session.execute(
            select(ChatLinkCode)
            .where(ChatLinkCode.code_hash == _hash(cmd.code), ChatLinkCode.platform == cmd.platform)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise InvalidInput(f"That link code is not valid. {ask_again}")
    if row.used_at is not None:
        raise InvalidInput(f"That link code has already been used; a code works once. {ask_again}")
    now = ctx.clock.now()
    if row.expires_at <= now:
        raise InvalidInput(f"That link code has expired. {ask_again}")
    row.used_at = now
    email = (await ctx.session.execute(select(User.email).where(User.id == row.user_id))).scalar_one()
    user = await link_chat_identity(
        LinkChatIdentity(
            email=email, platform=cmd.platform, external_user_id=cmd.external_user_id, dm_channel=cmd.dm_channel
        ),
        ctx,
    )
    return ChatLinked(user, cmd.platform)


# --- prompts -----------------------------------------------------------------------------------------------

PROMPT_TTL = timedelta(days=2)


@handles
async def remember_prompt(cmd: RememberPrompt, ctx: Context) -> None:
    await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    await ctx.session.execute(delete(ChatPrompt).where(ChatPrompt.created_at < now - PROMPT_TTL))
    stmt = pg_insert(ChatPrompt).values(
        platform=cmd.actor.platform,
        chat_id=cmd.chat_id,
        message_id=cmd.message_id,
        user_id=cmd.actor.user_id,
        data=cmd.data,
        created_at=now,
    )
    await ctx.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ChatPrompt.platform, ChatPrompt.chat_id, ChatPrompt.message_id],
            set_={"user_id": stmt.excluded.user_id, "data": stmt.excluded.data, "created_at": now},
        )
    )


@handles
async def recall_prompt(cmd: RecallPrompt, ctx: Context) -> str | None:
    return (
        await ctx.session.execute(
            select(ChatPrompt.data).where(
                ChatPrompt.platform == cmd.actor.platform,
                ChatPrompt.chat_id == cmd.chat_id,
                ChatPrompt.message_id == cmd.message_id,
                ChatPrompt.user_id == cmd.actor.user_id,
                ChatPrompt.created_at >= ctx.clock.now() - PROMPT_TTL,
            )
        )
    ).scalar_one_or_none()

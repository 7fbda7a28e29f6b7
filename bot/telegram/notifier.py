"""Sending neutral replies to a Telegram chat, for the bot's handlers and for the scheduler (`Notifier`).

The bot's rate limiter paces every call and retries a 429 after its retry_after; what still fails is told
apart here: a 429 or a network fault may pass (TemporaryDeliveryError), a user who blocked the bot or a chat
that doesn't exist never will (PermanentDeliveryError).
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.notify import ChatTarget
from bot.replies import Attachment, Reply
from bot.telegram import render
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError

log = logging.getLogger(__name__)

PLATFORM = "telegram"
CAPTION_LIMIT = 1024


async def send_reply(bot: Bot, chat_id: int | str, reply: Reply, *, reply_to: int | None = None) -> list[Message]:
    """Send `reply` as one message, then its files (the stats chart as a photo); the message answers message
    `reply_to` when given."""
    shown = render.message(reply)
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    sent = [
        await bot.send_message(
            chat_id,
            shown.html,
            parse_mode=ParseMode.HTML,
            reply_markup=shown.keyboard,
            reply_parameters=quote,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    ]
    for attachment in reply.attachments:
        photo = await send_attachment(bot, chat_id, attachment)
        if photo is not None:
            sent.append(photo)
    return sent


async def send_attachment(bot: Bot, chat_id: int | str, attachment: Attachment) -> Message | None:
    """A reply's picture as a photo (sendPhoto, uploaded as multipart). The text it goes with has been sent:
    a picture Telegram refuses or doesn't take now (flood control, the network) is logged, and the reply stands
    without it, so that a retry of the whole never sends the text twice."""
    try:
        return await bot.send_photo(
            chat_id,
            InputFile(attachment.data, filename=attachment.filename),
            caption=attachment.title[:CAPTION_LIMIT] or None,
        )
    except TelegramError as exc:
        log.warning("Telegram did not take %s: %s", attachment.filename, exc.message)
        return None


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait (PTB 22 warns about reading it as an int; either form is fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramNotifier:
    """The scheduler's way to a user's Telegram chat (the morning digest, reminder nudges)."""

    platform = PLATFORM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, target: ChatTarget, reply: Reply) -> str | None:
        chat_id = target.dm_channel or target.external_user_id
        try:
            sent = await send_reply(self.bot, chat_id, reply)
        except RetryAfter as exc:
            raise TemporaryDeliveryError("Telegram flood control", retry_after=retry_seconds(exc)) from exc
        except Forbidden as exc:  # "bot was blocked by the user", "user is deactivated"
            raise PermanentDeliveryError(exc.message) from exc
        except BadRequest as exc:
            # "chat not found" and every other refusal of this message: sending it again changes nothing.
            raise PermanentDeliveryError(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise TemporaryDeliveryError(f"Telegram unreachable: {exc.message}") from exc
        return str(sent[0].message_id)

"""The Telegram bot: a python-telegram-bot Application whose handlers feed the shared conversation.

Handlers only move Telegram updates in and neutral replies out; every word and every action goes through
`bot.conversation.Conversation`, like Slack and the console. They are registered in one place (`register`) and
find what they share as `context.bot_data`, a `TelegramDeps` (PTB's ContextTypes). Only linked accounts are
served: anyone else gets a polite refusal and nothing more.

Exactly once: a message is keyed by its update_id and a tap by its callback query's id, which a redelivered
update carries again, so that a redelivery acts once (the core claims the key in the command's transaction)
while a second tap on the same button (a second call logged from the same row) acts again. A CSV
document is keyed by its file_unique_id: the same file is imported once, however often it comes.
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress

from telegram import Bot, BotCommand, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import codec
from bot.conversation import SOMETHING_WENT_WRONG, Conversation
from bot.grammar import USAGE, VERBS
from bot.replies import Reply
from bot.telegram import render
from bot.telegram.notifier import PLATFORM, send_reply
from bot.telegram.pacing import PacedRateLimiter
from core.errors import PipedrivenError
from core.service import Core
from core.settings import Settings
from core.shared_limits import shared
from core.views import UserView

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_UPDATES = 8  # updates handled at once; the core keeps concurrent twins from acting twice
RATE_LIMIT_RETRIES = 3  # a 429 is retried this often (after its retry_after) before the call fails
COMMAND_DESCRIPTION_LIMIT = 256

REFUSAL = (
    "Hello! This is Pipedriven's bot, and it only talks to linked Pipedriven users.\n"
    "To link this Telegram account, get a code with `settings link telegram` in Slack (or ask an admin "
    "to run `pipedriven users link YOUR_EMAIL`), then send /start CODE here."
)
TEXT_ONLY = "I only understand text messages, and CSV files of contacts to import. Say /help to see what I understand."
NOT_FETCHED = "I couldn't fetch that file from Telegram, so nothing was imported. Please send it again in a moment."


class TelegramDeps:
    """What every handler shares, as `context.bot_data`: PTB creates it empty, `build_application` fills it in."""

    conversation: Conversation


TelegramContext = CallbackContext[ExtBot[None], dict, dict, TelegramDeps]


def file_url(api_url: str) -> str:
    """The Bot API's file URL beside its method URL (https://api.telegram.org/bot → …/file/bot)."""
    return re.sub(r"/bot$", "/file/bot", api_url)


def build_application(settings: Settings, core: Core, *, rate_limit_retries: int = RATE_LIMIT_RETRIES) -> Application:
    """The Application for TELEGRAM_BOT_TOKEN at TELEGRAM_API_URL, with its handlers; nothing is called yet."""
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .rate_limiter(PacedRateLimiter(max_retries=rate_limit_retries, **shared(core.rate_store())))
        .concurrent_updates(CONCURRENT_UPDATES)
        .context_types(ContextTypes(bot_data=TelegramDeps))
        .build()
    )
    application.bot_data.conversation = Conversation(core, PLATFORM)
    register(application)
    return application


def register(application: Application) -> None:
    """Every handler of the bot, in one place. It serves private chats only: lists and notes are personal."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", on_start, filters=private))
    application.add_handler(MessageHandler(private & filters.TEXT, on_text))
    application.add_handler(MessageHandler(private & filters.Document.ALL, on_document))
    application.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_other))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)


def bot_commands() -> list[BotCommand]:
    """The command menu (setMyCommands): the grammar's verbs with their usage."""
    return [BotCommand(verb, USAGE[verb][:COMMAND_DESCRIPTION_LIMIT]) for verb in VERBS]


async def fetch_username(settings: Settings) -> str | None:
    """The bot's username from getMe, for t.me links; None if Telegram can't be asked."""
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings.telegram_api_url),
    )
    try:
        async with bot:
            return bot.username
    except TelegramError as exc:  # its message may quote the token: log the kind of failure only
        log.warning("could not ask Telegram for the bot's username (%s)", type(exc).__name__)
        return None


# --- handlers ----------------------------------------------------------------------------------------------


async def on_start(update: Update, context: TelegramContext) -> None:
    """`/start CODE` links this Telegram account; a bare /start greets a linked user or explains linking."""
    conversation = context.bot_data.conversation
    message = update.effective_message
    if context.args:
        try:
            welcome = await conversation.link_account(
                context.args[0],
                str(update.effective_user.id),
                str(message.chat_id),
                idempotency_key=_update_key(update),
            )
        except PipedrivenError as exc:
            await send_reply(context.bot, message.chat_id, Reply(exc.user_message), reply_to=message.message_id)
            return
        if welcome is not None:
            await send_reply(context.bot, message.chat_id, welcome)
        return
    user = await _identify(conversation, update)
    if user is None:
        await _refuse(context.bot, message.chat_id)
        return
    await _show(context, user, message, await conversation.handle_text(user, "help"))


async def on_text(update: Update, context: TelegramContext) -> None:
    """A typed message, slash commands included: the answer to a question the bot asked, or a command."""
    conversation = context.bot_data.conversation
    message = update.effective_message
    user = await _identify(conversation, update)
    if user is None:
        await _refuse(context.bot, message.chat_id)
        return
    key = _update_key(update)
    asked = message.reply_to_message
    # A /command typed in reply to a question is a change of mind, not the answer.
    if (
        asked is not None
        and asked.from_user is not None
        and asked.from_user.id == context.bot.id
        and not message.text.startswith("/")
    ):
        reply = await conversation.handle_reply(
            user, message.text, str(message.chat_id), str(asked.message_id), idempotency_key=key
        )
    else:
        reply = await conversation.handle_text(user, message.text, idempotency_key=key)
    await _show(context, user, message, reply)


async def on_document(update: Update, context: TelegramContext) -> None:
    """A file: a CSV is imported into the user's bank and answered with the report, anything else explained.
    The size Telegram announces is checked before anything is downloaded."""
    conversation = context.bot_data.conversation
    message = update.effective_message
    user = await _identify(conversation, update)
    if user is None:
        await _refuse(context.bot, message.chat_id)
        return
    document = message.document
    reply = conversation.refuse_file(document.file_name, document.mime_type, document.file_size)
    if reply is None:
        try:
            file = await context.bot.get_file(document.file_id)
            data = bytes(await file.download_as_bytearray())
        except NetworkError as exc:  # BadRequest too: a file the Bot API won't hand out (over its 20 MB)
            log.warning("could not fetch a document: %s", exc.message)
            reply = Reply(NOT_FETCHED)
        else:
            reply = await conversation.handle_file(
                user, data, document.file_name, idempotency_key=f"tg:file:{document.file_unique_id}"
            )
    # Shown even when the file was imported before: Telegram can't tell a resend from a redelivered update,
    # and a user who sends the same file again should hear that it is in already.
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def on_other(update: Update, context: TelegramContext) -> None:
    """Anything but text and files (a photo, a sticker): say what the bot reads."""
    conversation = context.bot_data.conversation
    chat_id = update.effective_message.chat_id
    if await _identify(conversation, update) is None:
        await _refuse(context.bot, chat_id)
    else:
        await send_reply(context.bot, chat_id, Reply(TEXT_ONLY))


async def on_button(update: Update, context: TelegramContext) -> None:
    """A tap on an inline button: answer the query at once, act in the core, then edit that message in place."""
    query = update.callback_query
    try:
        codec.decode(query.data or "")
    except codec.BadButton as exc:
        await _answer(query, render.callback_text(exc.user_message))
        return
    await _answer(query)
    conversation = context.bot_data.conversation
    message = query.message if isinstance(query.message, Message) else None
    chat_id = query.message.chat.id if query.message else query.from_user.id
    user = await _identify(conversation, update)
    if user is None:
        await _refuse(context.bot, chat_id)
        return
    reply = await conversation.handle_button(user, query.data, idempotency_key=f"tg:callback:{query.id}")
    if reply.replaces_contact_id is not None and message is not None and message.text:
        status = f"{reply.text.rstrip('.')} · {conversation.now_for(user):%H:%M}"
        edited = render.with_status(message.text_html, message.reply_markup, reply.replaces_contact_id, status)
        if edited is not None:
            try:
                await query.edit_message_text(edited, parse_mode=ParseMode.HTML, reply_markup=message.reply_markup)
                return
            except BadRequest as exc:  # too old to edit, or deleted meanwhile: say it in a new message
                log.info("could not edit the tapped message: %s", exc.message)
    await _show_in(context, user, chat_id, message.message_id if message else None, reply)


async def on_error(update: object, context: TelegramContext) -> None:
    """Log what a handler let escape, and tell the user in one line that nothing was saved."""
    log.error("handling a Telegram update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        error = context.error
        text = error.user_message if isinstance(error, PipedrivenError) else SOMETHING_WENT_WRONG
        with suppress(TelegramError):
            await send_reply(context.bot, update.effective_chat.id, Reply(text))


# --- helpers -----------------------------------------------------------------------------------------------


def _update_key(update: Update) -> str:
    return f"tg:update:{update.update_id}"


async def _identify(conversation: Conversation, update: Update) -> UserView | None:
    """The Pipedriven user behind this Telegram account, or None for an account nobody linked."""
    return await conversation.identify(str(update.effective_user.id))


async def _answer(query, text: str | None = None) -> None:
    """Stop the button's spinner. A redelivered update carries a query answered the first time, which Telegram
    refuses to answer again: the tap goes on (its idempotency key makes it act once)."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        log.info("callback query not answered: %s", exc.message)


async def _refuse(bot: Bot, chat_id: int) -> None:
    await send_reply(bot, chat_id, Reply(REFUSAL))


async def _show(context: TelegramContext, user: UserView, message: Message, reply: Reply) -> None:
    await _show_in(context, user, message.chat_id, message.message_id, reply)


async def _show_in(context: TelegramContext, user: UserView, chat_id: int, reply_to: int | None, reply: Reply) -> None:
    """Send `reply` in the chat; a question is sent as a reply prompt and remembered, so the answer finds it."""
    if reply.repeat:  # a redelivered update, already answered the first time: saying it again would only confuse
        return
    if reply.prompt is None:
        await send_reply(context.bot, chat_id, reply, reply_to=reply_to)
        return
    asked = await context.bot.send_message(
        chat_id,
        render.escape(reply.prompt.question),
        parse_mode=ParseMode.HTML,
        reply_markup=render.prompt_markup(reply.prompt),
    )
    await context.bot_data.conversation.remember_prompt(user, str(chat_id), str(asked.message_id), reply.prompt)

"""`pipedriven run` with one more button on each platform that does nothing: the floor a tap is measured beside.

    python -m bench.serve        (configured from the environment, exactly as `pipedriven run`)

The services are `bot.runner.build_services`' own; only a no-op listener is added to the same Bolt app (action
`bench-noop`: acknowledged, then the tapped message updated with its own blocks, no database) and to the same
python-telegram-bot Application (callback data `bench-noop`: the query answered, nothing else).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.bootstrap import configure_logging, migrate, open_core
from bot.runner import build_services, run_services
from core import db
from core.settings import Settings

NOOP = "bench-noop"


def add_noops(services: list) -> None:
    for service in services:
        if service.name.startswith("slack"):

            @service.bot.app.action(NOOP)
            async def slack_noop(ack, body: dict, client) -> None:
                await ack()
                message = body["message"]
                await client.chat_update(
                    channel=body["container"]["channel_id"],
                    ts=message["ts"],
                    text=message.get("text", ""),
                    blocks=message["blocks"],
                )
        elif service.name == "telegram":

            async def telegram_noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
                await update.callback_query.answer()
                raise ApplicationHandlerStop  # the real button handler (group 0) never sees it

            service.application.add_handler(CallbackQueryHandler(telegram_noop, pattern=f"^{NOOP}$"), group=-1)


def main() -> None:
    import asyncio

    settings = Settings()
    configure_logging(settings)
    with db.database_url(settings) as url:
        migrate(url)

        async def serve() -> None:
            async with open_core(settings, url) as core:
                services, _ = build_services(settings, core)
                add_noops(services)
                await run_services(services)

        asyncio.run(serve())


if __name__ == "__main__":
    main()

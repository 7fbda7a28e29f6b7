"""The core's one entry point: `Core.execute(command)` runs a command's handler in one transaction.

Adapters build a command, call `execute`, and render what comes back. Database failures are translated
here, so a caller only ever sees `core.errors` types.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import outbox, registry
from core.clock import Clock, SystemClock
from core.command import Audit
from core.context import Context, user_view
from core.db import libpq_url, session_factory
from core.errors import Busy, Conflict, DatabaseUnavailable, InvalidInput, PipedrivenError, UnknownUser
from core.models import ChatIdentity, OutboxMessage, ProcessedRequest, User
from core.privacy.handlers import record_audit
from core.settings import Settings
from core.shared_limits import PostgresStore
from core.views import AlreadyDone, UserView

log = logging.getLogger(__name__)

BUSY_PAUSE_SECONDS = 0.2

# The feature packages: importing each one's handlers registers them (core.registry).
FEATURES = (
    "users",
    "contacts",
    "outreach",
    "campaigns",
    "importing",
    "cadences",
    "feed",
    "stats",
    "analytics",
    "privacy",
    "sync",
    "inbound",
    "deliveries",
    "housekeeping",
    "learning",
    "rules",
)
for _feature in FEATURES:
    importlib.import_module(f"core.{_feature}.handlers")


class Core:
    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None, settings: Settings | None = None):
        self.engine = engine
        self.sessions: async_sessionmaker = session_factory(engine)
        self.clock = clock or SystemClock()
        self.settings = settings or Settings()
        self._rate_store: PostgresStore | None = None

    def rate_store(self) -> PostgresStore | None:
        """Where the platforms' rate limits are counted: this database, shared by every process on it
        (RATE_LIMITS=database), or None for each limiter's own memory (RATE_LIMITS=process)."""
        if self.settings.rate_limits != "database":
            return None
        if self._rate_store is None:
            self._rate_store = PostgresStore(libpq_url(self.engine.url.render_as_string(hide_password=False)))
        return self._rate_store

    async def close_rate_store(self) -> None:
        if self._rate_store is not None:
            await self._rate_store.close()

    async def execute(self, command: Any, *, idempotency_key: str | None = None) -> Any:
        """Run `command` in one transaction. With an idempotency key, a second delivery of the same request
        (a platform's retry) returns `AlreadyDone` and changes nothing. The command is written to the audit
        trail in the same transaction unless its class says otherwise (core.command.Audit). A command that finds
        what it needs busy is run again, in a new transaction, for up to `busy_wait_seconds`."""
        handler = registry.handler_for(command)
        deadline = time.monotonic() + self.settings.busy_wait_seconds
        while True:
            try:
                return await self._execute_once(handler, command, idempotency_key)
            except Busy:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(BUSY_PAUSE_SECONDS)

    async def _execute_once(self, handler: Any, command: Any, idempotency_key: str | None) -> Any:
        try:
            async with self.sessions() as session, session.begin():
                if idempotency_key is not None and not await self._claim(session, command, idempotency_key):
                    return AlreadyDone()
                ctx = Context(session, self.clock, self.settings)
                result = await handler(command, ctx)
                if command.audit is Audit.RECORDED:
                    await record_audit(ctx, command, result)
                return result
        except PipedrivenError:
            raise
        except IntegrityError as exc:
            log.info("integrity error in %s: %s", type(command).__name__, exc.orig.__class__.__name__)
            raise Conflict("That clashes with something saved at the same moment. Please try again.") from exc
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable during %s", type(command).__name__)
            raise DatabaseUnavailable() from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable() from exc
            # What the database refused is the input's fault (a NUL byte, say): one line, no traceback.
            log.warning(
                "the database refused %s: %s (SQLSTATE %s)",
                type(command).__name__,
                type(exc.orig).__name__,
                getattr(exc.orig, "sqlstate", None),
            )
            raise InvalidInput("That could not be saved. Please check what you typed.") from exc

    async def _claim(self, session, command: Any, key: str) -> bool:
        """Record the key in this transaction; a concurrent twin waits on it and then finds it taken."""
        actor = getattr(command, "actor", None)
        stmt = (
            pg_insert(ProcessedRequest)
            .values(
                key=key[:200],
                command=type(command).__name__,
                user_id=actor.user_id if actor else None,
                created_at=self.clock.now(),
            )
            .on_conflict_do_nothing()
            .returning(ProcessedRequest.key)
        )
        return (await session.execute(stmt)).first() is not None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads outside `execute`, ended by a COMMIT rather than a ROLLBACK: psycopg forgets every
        statement it has prepared on a connection at a rollback (and deallocates them, one more round trip), so
        a read ended by a rollback before each command (`identify` runs before every tap) would keep the
        commands' statements from ever being prepared."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable() from exc

    def pipedrive_record_lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """`async with core.pipedrive_record_lock("org:acme")`: one Pipedrive record (an organisation's name, a
        person's email) found or created by one worker at a time, across processes (core/outbox.py)."""
        return outbox.pipedrive_record_lock(self.engine, key)

    def outbox_listener(self) -> outbox.OutboxListener:
        """A listener woken by each row queued in the outbox (core/outbox.py)."""
        return outbox.OutboxListener(self.engine)

    async def ping(self) -> None:
        """Check that the database answers (for health checks); DatabaseUnavailable when it does not."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(select(1))
                await conn.commit()  # not a rollback: see `reading`
        except (DBAPIError, OSError) as exc:
            raise DatabaseUnavailable() from exc

    async def schema_revision(self) -> str | None:
        """The migration the database is at (None before the first); DatabaseUnavailable when it does not answer."""
        try:
            async with self.reading() as session:
                return (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
        except ProgrammingError:
            return None

    async def outbox_backlog(self) -> tuple[int, float]:
        """Pipedrive syncs waiting or in flight, and the age in seconds of the oldest (0 when none)."""
        async with self.reading() as session:
            oldest_age = func.extract("epoch", func.now() - func.min(OutboxMessage.created_at))
            count, age = (
                await session.execute(
                    select(func.count(), oldest_age).where(OutboxMessage.status.in_(("pending", "processing")))
                )
            ).one()
        return count, max(float(age or 0), 0.0)

    async def identify(self, platform: str, external_user_id: str) -> UserView:
        """The Pipedriven user behind a chat account, or UnknownUser."""
        async with self.reading() as session:
            user = (
                await session.execute(
                    select(User)
                    .join(ChatIdentity, ChatIdentity.user_id == User.id)
                    .where(
                        ChatIdentity.platform == platform,
                        ChatIdentity.external_user_id == external_user_id,
                        User.active,
                    )
                )
            ).scalar_one_or_none()
        if user is None:
            raise UnknownUser()
        return user_view(user)

    async def user_by_email(self, email: str) -> UserView:
        async with self.reading() as session:
            user = (
                await session.execute(select(User).where(func.lower(User.email) == email.strip().lower(), User.active))
            ).scalar_one_or_none()
        if user is None:
            raise UnknownUser(f"There is no Pipedriven user with the email {email.strip()[:80]}.")
        return user_view(user)

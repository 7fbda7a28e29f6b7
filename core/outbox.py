"""The Pipedrive outbox: a change queued for the sync worker in the caller's own transaction, the NOTIFY that wakes
the workers and the connection they LISTEN on, and the lock they share around one Pipedrive record.

What the worker does with a queued row is core.sync's; talking to Pipedrive is pipedrive/'s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core import db
from core.command import Actor
from core.context import Context
from core.errors import DatabaseUnavailable
from core.models import Activity, Contact, DomainEvent, OutboxMessage
from core.vocabulary import WARM_THRESHOLD

log = logging.getLogger(__name__)

PIPEDRIVE_SYNC = "pipedrive.sync"
DETAILS_CHANGED = "ContactDetailsChanged"  # an edit the person in Pipedrive gets: name, email, phone, organisation
NOTE_ADDED = "NoteAdded"  # a `note` on a contact in Pipedrive: a note on its person there
NOTES_EDITED = "NotesEdited"  # the contact's notes field: its Pipedrive note is created, replaced or deleted
ORGANISATION_CHANGED = "OrganisationDetailsChanged"  # sector or country: the organisation's industry and address
OUTBOX_CHANNEL = "pipedrive_outbox"  # NOTIFY channel: a new outbox row is picked up at once


async def queue_sync(ctx: Context, actor: Actor, contact: Contact, event: str, **payload) -> None:
    """Record the domain event and the Pipedrive outbox row, in the caller's transaction."""
    now = ctx.clock.now()
    ctx.session.add(
        DomainEvent(name=event, contact_id=contact.id, user_id=actor.user_id, payload=payload, occurred_at=now)
    )
    ctx.session.add(
        OutboxMessage(
            topic=PIPEDRIVE_SYNC,
            contact_id=contact.id,
            user_id=actor.user_id,
            payload={"event": event, **payload},
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    if "activity_id" in payload:
        await ctx.session.execute(
            update(Activity).where(Activity.id == payload["activity_id"]).values(sync_state="pending")
        )
    await notify_outbox(ctx.session)


async def notify_outbox(session: AsyncSession) -> None:
    """Wake the sync workers (LISTEN OUTBOX_CHANNEL) when this transaction commits; nothing if it rolls back."""
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})


async def syncs_to_pipedrive(ctx: Context, contact: Contact) -> bool:
    """Whether a new activity of this contact goes to Pipedrive: once it has a person there, or one is on its
    way (an unfinished sync would create it), every later activity is replicated."""
    if contact.pipedrive_person_id is not None:
        return True
    return (
        await ctx.session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.topic == PIPEDRIVE_SYNC,
                OutboxMessage.contact_id == contact.id,
                OutboxMessage.status.in_(("pending", "processing")),
            )
            .limit(1)
        )
    ).first() is not None


async def set_warmness(ctx: Context, actor: Actor, contact: Contact, warmness: int) -> bool:
    """Set warmness; crossing the warm threshold queues the Pipedrive sync. Returns whether it did."""
    was_warm = contact.warmness >= WARM_THRESHOLD
    contact.warmness = warmness
    if warmness >= WARM_THRESHOLD and not was_warm:
        await queue_sync(ctx, actor, contact, "ContactWarmed", warmness=warmness)
        return True
    return False


# The key space of the advisory locks on Pipedrive records (core.sync has the one on contacts).
_RECORD_LOCK_SPACE = 6_0002


@asynccontextmanager
async def pipedrive_record_lock(engine: AsyncEngine, key: str) -> AsyncIterator[None]:
    """Hold a lock on one Pipedrive record to be found or created (an organisation's name, a person's email)
    across workers and processes: two contacts of one organisation must not create it twice."""
    lock = (_RECORD_LOCK_SPACE, func.hashtext(key))
    try:
        async with engine.connect() as conn:
            # A session-level lock outlives the transaction: commit at once rather than sit idle in a transaction
            # through the Pipedrive calls, and end with a commit, not a rollback (see Core.reading).
            await conn.execute(select(func.pg_advisory_lock(*lock)))
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(select(func.pg_advisory_unlock(*lock)))
                await conn.commit()
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable() from exc


class OutboxListener:
    """A dedicated connection that LISTENs on the outbox channel; `wakes()` yields once per notification."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._url = db.libpq_url(engine.url.render_as_string(hide_password=False))
        self._conn: psycopg.AsyncConnection | None = None

    async def connect(self) -> None:
        await self.close()
        try:
            self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            await self._conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error as exc:
            await self.close()
            raise DatabaseUnavailable() from exc

    async def wakes(self) -> AsyncIterator[None]:
        if self._conn is None:
            await self.connect()
        conn = self._conn
        assert conn is not None, "connect() either sets the connection or raises"
        try:
            async for _ in conn.notifies():
                yield None
        except psycopg.Error as exc:
            await self.close()
            raise DatabaseUnavailable() from exc

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.close()
            except psycopg.Error:
                log.debug("closing the outbox listener failed", exc_info=True)

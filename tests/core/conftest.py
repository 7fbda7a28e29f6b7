"""Helpers for the core tests: read tables back, and do things at another moment of the fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.command import Actor, ContactRef
from core.outreach.commands import LogOutreach


@pytest.fixture
def db_rows(core):
    """`await db_rows(Model, *where)`: the rows of a table, read in a transaction of their own."""

    async def rows(model, *where):
        async with core.sessions() as session:
            return (await session.execute(select(model).where(*where).order_by(model.id))).scalars().all()

    return rows


@pytest.fixture
def log_at(core, clock):
    """`await log_at(user, contact, days_ago=41)`: log an outreach in the past, then come back to now."""

    async def log(user, contact, method: str = "email", *, days_ago: float = 0, at=None, **fields):
        now = clock.now()
        clock.set(at if at is not None else now - timedelta(days=days_ago))
        try:
            return await core.execute(LogOutreach(Actor(user.id), ContactRef(id=contact.id), method, **fields))
        finally:
            clock.set(now)

    return log

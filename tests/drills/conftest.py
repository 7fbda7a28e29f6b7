"""Drill fixtures: a core on real time, and counting helpers. Drills run alone with `pytest -m drill`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import db
from core.clock import SystemClock
from core.service import Core


@pytest.fixture
async def live_core(database_url, settings):
    """A core on the wall clock: for drills where real processes, backoffs and leases run in real time."""
    engine = db.create_engine(database_url, pool_size=5)
    yield Core(engine, clock=SystemClock(), settings=settings)
    await engine.dispose()


@pytest.fixture
def count(core):
    """`await count(Model, *where)`: how many rows, read in a transaction of its own."""

    async def rows(model, *where) -> int:
        async with core.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))

    return rows

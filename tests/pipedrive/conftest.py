"""Fixtures for the Pipedrive sync: a fake Pipedrive on 127.0.0.1 reached through PIPEDRIVE_BASE_URL, virtual
time shared by it and the worker (rate-limit waits and backoff cost no real time), and readers of our tables."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.settings import Settings
from fakes.pipedrive import FakePipedrive, TimeSource
from pipedrive.worker import SyncWorker

COMPANY_TOKEN = "company-token"
SECRET_KEY = "cGlwZWRyaXZlbiB0ZXN0czogbm90IGEgcmVhbCBrZXk="  # PIPEDRIVEN_SECRET_KEY: encrypts users' own tokens


@pytest.fixture
def vt():
    return TimeSource()


@pytest.fixture
def fake_options():
    """Override in a test module to start the fake differently (users, labels, limits...)."""
    return {}


@pytest.fixture
async def fake(vt, fake_options):
    server = FakePipedrive(clock=vt, **fake_options)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def pipedrive_settings():
    """Settings beyond the defaults, e.g. {"pipedrive_api_token": None}."""
    return {}


@pytest.fixture
def settings(database_url, fake, pipedrive_settings):
    values = {
        "pipedrive_api_token": COMPANY_TOKEN,
        "pipedrive_base_url": fake.url,
        # Long enough for a loaded machine running tests side by side; a fault of kind "timeout" waits this long.
        "pipedrive_timeout_seconds": 2.0,
        "PIPEDRIVEN_SECRET_KEY": SECRET_KEY,
        **pipedrive_settings,
    }
    return Settings(database_url=database_url, _env_file=None, **values)


@pytest.fixture
async def worker(core, vt):
    sync_worker = SyncWorker(core, clock=vt, sleep=vt.sleep, jitter=lambda: 0.5)
    yield sync_worker
    await sync_worker.aclose()


@pytest.fixture
async def ana(make):
    """A user who is also a Pipedrive user (same email) in the fake."""
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
def rows(core):
    """`await rows(Model, *where)`: a table's rows, read in a transaction of their own."""

    async def read(model, *where):
        async with core.sessions() as session:
            return (await session.execute(select(model).where(*where).order_by(model.id))).scalars().all()

    return read

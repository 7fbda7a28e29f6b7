"""Fault drill: Pipedrive unreachable for a while (nothing listens on its address), then back.

The sync service runs as in `pipedriven run` (LISTEN/NOTIFY, real time, backoff with jitter); users go on
flagging contacts warm, booking meetings and logging calls meanwhile. Once Pipedrive is back every queued sync
completes, and nothing is created twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.command import Actor, ContactRef
from core.contacts.commands import AddContact
from core.models import OutboxMessage
from core.outreach.commands import BookMeeting, FlagWarm, LogOutreach
from core.users.commands import CreateUser
from fakes.pipedrive import FakePipedrive
from pipedrive.worker import SyncService

pytestmark = pytest.mark.drill


@pytest.fixture
def settings(database_url, pipedrive):
    from core.settings import Settings

    return Settings(
        database_url=database_url,
        _env_file=None,
        pipedrive_api_token="company-token",
        pipedrive_base_url=pipedrive.url,
        pipedrive_retry_base_seconds=0.2,
        pipedrive_max_retries=20,
        pipedrive_poll_seconds=0.5,
        pipedrive_timeout_seconds=2,
    )


@pytest.fixture
async def pipedrive():
    fake = FakePipedrive()
    await fake.start()
    yield fake
    await fake.stop()


async def outbox(core) -> list[OutboxMessage]:
    async with core.sessions() as session:
        return (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()


async def test_syncs_queued_while_pipedrive_is_unreachable_all_complete_once_it_is_back(live_core, pipedrive):
    port = int(pipedrive.url.rsplit(":", 1)[1])
    await pipedrive.stop()  # Pipedrive's address now refuses connections
    ana = await live_core.execute(CreateUser("Ana Silva", "ana@example.com"))
    me = Actor(ana.id, "console")
    service = SyncService(live_core)
    await service.start()
    try:
        contacts = [
            (
                await live_core.execute(
                    AddContact(me, f"Lead {n}", email=f"lead{n}@firm{n % 3}.io", organisation=f"Firm {n % 3}")
                )
            ).contact
            for n in range(6)
        ]
        for contact in contacts:
            await live_core.execute(FlagWarm(me, ContactRef(id=contact.id)))
        await live_core.execute(
            BookMeeting(me, ContactRef(id=contacts[0].id), at=datetime.now(UTC) + timedelta(days=2))
        )
        await live_core.execute(LogOutreach(me, ContactRef(id=contacts[1].id), "call"))

        async def retried() -> bool:
            return sum(row.attempts for row in await outbox(live_core)) >= 16

        deadline = time.monotonic() + 20
        while not await retried():  # every sync has met the outage, most of them more than once
            assert time.monotonic() < deadline, "the syncs were not tried during the outage"
            await asyncio.sleep(0.05)
        rows = await outbox(live_core)
        assert {row.status for row in rows} <= {"pending", "processing"}  # waiting, none given up
        assert any(
            "reach" in (row.last_error or "").lower() or "connect" in (row.last_error or "").lower() for row in rows
        ), [row.last_error for row in rows]

        await pipedrive.start(port)  # back
        deadline = time.monotonic() + 60
        while {row.status for row in await outbox(live_core)} != {"done"}:
            assert time.monotonic() < deadline, [(r.status, r.last_error) for r in await outbox(live_core)]
            await asyncio.sleep(0.1)
    finally:
        await service.stop()
    assert len(await outbox(live_core)) == 8
    assert Counter(e["value"] for p in pipedrive.persons.values() for e in p["emails"]) == {
        contact.email: 1 for contact in contacts
    }
    assert sorted(o["name"] for o in pipedrive.organizations.values()) == ["Firm 0", "Firm 1", "Firm 2"]
    assert sorted(a["type"] for a in pipedrive.live_activities()) == ["call", "meeting"]

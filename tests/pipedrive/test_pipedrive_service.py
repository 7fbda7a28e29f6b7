"""`pipedriven run`'s Pipedrive part: woken by PostgreSQL notifications, and run with only a Pipedrive token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import aiohttp
import pytest

from bot.runner import NothingToRun, build_services, run_forever
from core.models import OutboxMessage
from core.settings import Settings
from fakes.processes import free_port
from pipedrive.worker import SyncService, SyncWorker
from tests.pipedrive.helpers import assert_clean, warm


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_poll_seconds": 60}])
async def test_a_new_sync_is_picked_up_at_once_not_at_the_next_poll(core, make, ana, fake, vt, rows):
    service = SyncService(core, worker=SyncWorker(core, clock=vt, sleep=vt.sleep))
    await service.start()
    try:
        await asyncio.wait_for(service.listening.wait(), 10)
        bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
        await warm(core, ana, bob)
        # The poll is a minute away: only the notification can bring the person within seconds.
        await fake.wait_until(lambda: len(fake.persons) == 1, timeout=10)
    finally:
        await service.stop()  # lets the sync in flight finish
    [row] = await rows(OutboxMessage)
    assert row.status == "done"
    assert_clean(fake, orgs=1, persons=1)


def test_run_has_the_sync_with_only_a_pipedrive_token(core):
    services, _ = build_services(core.settings, core)
    assert [service.name for service in services] == ["pipedrive sync", "pipedrive polling (every 5 min)"]


def test_polling_is_off_where_webhooks_reach_the_server_or_when_set_to_0(core):
    for update in ({"pipedrive_webhook_url": "https://x.example/pipedrive/webhook"}, {"pipedrive_poll_minutes": 0}):
        services, _ = build_services(core.settings.model_copy(update=update), core)
        assert [service.name for service in services] == ["pipedrive sync"]
    services, _ = build_services(core.settings.model_copy(update={"pipedrive_poll_minutes": 2}), core)
    assert "pipedrive polling (every 2 min)" in [service.name for service in services]


async def test_run_with_nothing_configured_says_what_to_set(core, database_url):
    bare = Settings(database_url=database_url, _env_file=None)
    assert build_services(bare, core) == ([], {})
    with pytest.raises(NothingToRun, match="PIPEDRIVE_API_TOKEN"):
        await run_forever(bare, core)


@pytest.mark.process
async def test_pipedriven_run_drains_the_outbox_with_only_a_pipedrive_token(
    core, make, ana, fake, wall_clock, rows, database_url, tmp_path
):
    await warm(core, ana, await make.contact(ana, "Bob Stone", email="bob@acme.com"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PIPEDRIVE_API_TOKEN": "company-token",
        "PIPEDRIVE_BASE_URL": fake.url,
        "PIPEDRIVEN_DATA_DIR": str(tmp_path),
        "HEALTH_PORT": str(health_port := free_port()),
        "HEALTH_LISTEN": "127.0.0.1",
        "LOG_FORMAT": "json",
    }
    for name in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "TEST_DATABASE_URL"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_until(lambda: len(fake.persons) == 1, timeout=30)
        async with aiohttp.ClientSession() as http:  # the process's own health server, on HEALTH_PORT
            async with http.get(f"http://127.0.0.1:{health_port}/readyz") as response:
                assert (response.status, await response.text()) == (200, "ready\n")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    logged = [json.loads(line) for line in stderr.decode().splitlines()]  # LOG_FORMAT=json: every line an object
    assert "pipedrive sync started" in [entry["message"] for entry in logged]
    assert "company-token" not in stderr.decode()
    [row] = await rows(OutboxMessage)
    assert row.status == "done"  # stopping let the sync in flight finish
    assert_clean(fake, orgs=0, persons=1)

"""`pipedriven run`'s health routes over real HTTP: /healthz, /readyz and /metrics on HEALTH_PORT."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.conversation import Conversation
from bot.runner import build_services, run_forever
from core import db
from core.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def running(core, database_url):
    """`pipedriven run` with only a Pipedrive token (no HTTP server of its own): the health routes on HEALTH_PORT."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        pipedrive_api_token="company-token",
        pipedrive_base_url="http://127.0.0.1:9",
        health_port=port,
        health_listen="127.0.0.1",
        _env_file=None,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(settings, core, stop))
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        yield http, url
    stop.set()
    await asyncio.wait_for(task, 10)


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus' text format (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def get(http, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def test_alive_and_ready_on_health_port_when_no_slack_server_runs(running):
    http, url = running
    assert await get(http, f"{url}/healthz") == (200, "ok\n")
    assert await get(http, f"{url}/readyz") == (200, "ready\n")


async def test_not_ready_when_the_database_is_behind_the_code_but_still_alive(running, database_url):
    http, url = running
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    status, text = await get(http, f"{url}/readyz")
    assert status == 503 and f"the database is at 0001, this code at {db.head_revision()}" in text
    assert await get(http, f"{url}/healthz") == (200, "ok\n")


async def test_not_ready_when_the_database_is_gone(running, core, database_url):
    http, url = running
    await core.engine.dispose()
    db.drop_database(database_url)
    assert await get(http, f"{url}/readyz") == (503, "database: not reachable\n")
    assert await get(http, f"{url}/healthz") == (200, "ok\n")


async def test_metrics_count_a_tap_and_its_latency_and_show_the_outbox(running, core, make):
    http, url = running
    ana = await make.user("Ana")
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    _, before = await get(http, f"{url}/metrics")
    reply = await Conversation(core, "console").handle_button(ana, f"warm:{bob.id}")
    assert "Bob Stone" in reply.text
    status, after = await get(http, f"{url}/metrics")
    assert status == 200
    assert sample(after, "pipedriven_taps_total", platform="console") == (
        sample(before, "pipedriven_taps_total", platform="console") + 1
    )
    assert sample(after, "pipedriven_tap_seconds_count", platform="console") == (
        sample(before, "pipedriven_tap_seconds_count", platform="console") + 1
    )
    # The warm flag queued a Pipedrive sync, which the unreachable Pipedrive leaves waiting.
    assert sample(after, "pipedriven_outbox_depth") >= 1
    assert sample(after, "pipedriven_outbox_oldest_age_seconds") >= 0


def test_slack_over_http_carries_the_health_routes_and_no_health_port(core, database_url):
    from bot.health import Health, HealthServer

    settings = Settings(database_url=database_url, slack_bot_token="xoxb-1", slack_signing_secret="s", _env_file=None)
    health = Health(core)
    services, _ = build_services(settings, core, health)
    [slack] = [s for s in services if s.name.startswith("slack")]
    paths = {route.resource.canonical for route in slack.web_app().router.routes()}
    assert {"/healthz", "/readyz", "/metrics"} <= paths
    assert not any(isinstance(s, HealthServer) for s in services)

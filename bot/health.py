"""Health, readiness and metrics over HTTP, for every mode of `pipedriven run`.

GET /healthz: 200 while the process serves HTTP (alive). GET /readyz: 200 when the database answers, its schema
is at the migrations this code knows, and every part of `pipedriven run` has started (a chat adapter: connected);
503 with what is not, one line each. GET /metrics: Prometheus' text format (core/metrics.py), the outbox gauges
read from the database at scrape time.

The routes ride on Slack's HTTP server when it runs; else `HealthServer` serves them on HEALTH_PORT.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from core import db, metrics
from core.errors import DatabaseUnavailable
from core.service import Core

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0


class Health:
    """The routes, and what readiness waits for: the services `pipedriven run` starts."""

    def __init__(self, core: Core, services: Iterable[object] = ()) -> None:
        self.core = core
        self.services = list(services)
        self.started: set[int] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    def service_started(self, service: object) -> None:
        self.started.add(id(service))

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        if problems:
            return web.Response(status=503, text="".join(f"{problem}\n" for problem in problems))
        return web.Response(text="ready\n")

    async def problems(self) -> list[str]:
        """What keeps this process from being ready, one line each; none when it is."""
        try:
            revision = await asyncio.wait_for(self.core.schema_revision(), CHECK_TIMEOUT)
        except (DatabaseUnavailable, TimeoutError):
            return ["database: not reachable"]
        problems = []
        head = db.head_revision()
        if revision != head:
            problems.append(f"migrations: the database is at {revision or 'no migration'}, this code at {head}")
        for service in self.services:
            name = getattr(service, "name", type(service).__name__)
            if id(service) not in self.started:
                problems.append(f"{name}: not started")
            elif not await _ready(service):
                problems.append(f"{name}: not connected")
        return problems

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            depth, oldest = await asyncio.wait_for(self.core.outbox_backlog(), CHECK_TIMEOUT)
            metrics.OUTBOX_DEPTH.set(depth)
            metrics.OUTBOX_OLDEST_SECONDS.set(oldest)
        except (DatabaseUnavailable, TimeoutError):
            log.warning("the outbox gauges could not be read: the database is not reachable")
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _ready(service: object) -> bool:
    """A service's own word on whether it is connected (`ready()`, plain or async); started is ready otherwise."""
    ready = getattr(service, "ready", None)
    if ready is None:
        return True
    answer = ready()
    return bool(await answer) if inspect.isawaitable(answer) else bool(answer)


class HealthServer:
    """The health routes on their own port (HEALTH_PORT), when no Slack HTTP server carries them."""

    def __init__(self, health: Health, port: int, *, host: str = "0.0.0.0") -> None:
        self.health = health
        self.port = port
        self.host = host
        self.name = f"health (port {port})"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        self.health.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests: any free port
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

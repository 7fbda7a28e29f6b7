"""Benchmark: Pipedrive's webhooks in a burst, from a fake Pipedrive to a real `pipedriven run` process.

    python -m bench.bench_webhooks [--events 1000] [--resent 100] [--connections 64]

Three processes, as in a deployment: the fake Pipedrive (its API and its webhook sender, `--sender`, a process
of its own), `pipedriven run` receiving the webhooks and applying them (`python -m bot.cli run`, configured from
its environment: Pipedrive's token and webhook credentials, nothing else), and this one, which sets the bank up
and reads it. 1,000 linked contacts; the fake sends 1,000 webhooks v2 at once (as many connections at a time as
--connections): a third persons renamed, a third deals won, a third activities marked done, each about another
contact, then sends --resent of them again (as Pipedrive's retries would). Each event is timed from the moment
the fake sends it to the moment its change is seen committed in the bank (this process reads every 5 ms).
With --replicas 2 two `pipedriven run` processes receive the burst behind Caddy round-robin, as the compose
file deploys them. Reports p50/p95/max, beside it event → stored,
events lost (sent but never applied) and applied
twice (a rename, a won deal or a touch counted more than once), and the processor time `pipedriven run` used
for the burst (what the load of other work on the machine changes least). With BENCH_PROFILE=FILE the
`pipedriven run` process runs under cProfile and leaves its statistics in FILE. Target: all applied, p95 ≤ 200 ms, 0 lost,
0 twice. `figures()` is what `python -m bench` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psutil
import psycopg

from bench.bench_taps import RoundRobinProxy
from bench.common import Figure, bench_database, figure, machine, percentile, repeated, summary
from core import db
from core.settings import Settings
from fakes.pipedrive import FakePipedrive
from fakes.processes import REPO, BotProcess, free_port, sql
from pipedrive.client import company_client
from pipedrive.setup import install_webhooks

TOKEN, USER, PASSWORD = "company-token", "pipedrive", "bench-hook-pass"
READ_EVERY = 0.005


# --- the fake Pipedrive, in a process of its own ------------------------------------------------------------


async def sender() -> None:
    """The fake Pipedrive serving its API and sending the burst; told what to do by JSON lines on stdin."""
    fake = FakePipedrive(tokens=(TOKEN,), burst_limit=10_000, search_limit=10_000)
    fake.retry_delays = (0.5, 1.0, 2.0)
    await fake.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    say({"url": fake.url})
    persons: list[dict] = []
    deals: dict[int, dict] = {}
    activities: dict[int, dict] = {}
    try:
        while line := await reader.readline():
            order = json.loads(line)
            if "setup" in order:
                events = order["setup"]
                persons = [fake.add_person(f"Person {n}", email=f"p{n}@lead.io") for n in range(events)]
                deals = {
                    n: fake.add_deal(f"Deal {n}", value=1000, person_id=persons[n]["id"]) for n in range(1, events, 3)
                }
                activities = {n: fake.add_activity_in_app(persons[n]["id"], "call") for n in range(2, events, 3)}
                say(
                    {
                        "persons": [[p["id"], p["name"], p["emails"][0]["value"]] for p in persons],
                        "deals": {n: d["id"] for n, d in deals.items()},
                        "activities": {n: a["id"] for n, a in activities.items()},
                    }
                )
            elif "burst" in order:
                sent_at = await burst_from_fake(fake, persons, deals, activities, **order["burst"])
                non_2xx = sum(1 for d in fake.deliveries if not 200 <= d[2] < 300)
                say({"sent_at": sent_at, "non_2xx": non_2xx})
    finally:
        await fake.stop()


async def burst_from_fake(
    fake: FakePipedrive, persons: list[dict], deals: dict, activities: dict, resent: int, connections: int
) -> dict[int, float]:
    """Every event sent, `connections` at a time, then `resent` of them again; when each was first sent."""
    events = len(persons)
    gate = asyncio.Semaphore(connections)
    sent_at: dict[int, float] = {}
    base = datetime.now(UTC)

    async def send(n: int) -> None:
        at = base + timedelta(milliseconds=n)
        async with gate:
            sent_at[n] = time.time()
            if n % 3 == 0:
                await fake.change_person(persons[n]["id"], name=f"Renamed {n}", at=at)
            elif n % 3 == 1:
                await fake.change_deal(deals[n]["id"], status="won", at=at)
            else:
                await fake.mark_activity_done(activities[n]["id"], at=at)

    async def send_again(n: int) -> None:
        """The same change delivered again (its identity unchanged), as a retry by Pipedrive is."""
        at = base + timedelta(milliseconds=n)
        entity, data = (
            ("person", persons[n]) if n % 3 == 0 else ("deal", deals[n]) if n % 3 == 1 else ("activity", activities[n])
        )
        async with gate:
            await fake.emit(entity, "change", data["id"], data=dict(data), previous={}, at=at)

    await asyncio.gather(*(send(n) for n in range(events)))
    await asyncio.gather(*(send_again(n) for n in range(0, events, max(1, events // max(1, resent)))))
    return sent_at


class Sender:
    """This process's handle on the fake Pipedrive's process."""

    async def __aenter__(self) -> Sender:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bench_webhooks",
            "--sender",
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        self.url = (await self.ask(None))["url"]
        return self

    async def ask(self, order: dict | None) -> dict:
        if order is not None:
            self.process.stdin.write(json.dumps(order).encode() + b"\n")
            await self.process.stdin.drain()
        return json.loads(await asyncio.wait_for(self.process.stdout.readline(), 300))

    async def __aexit__(self, *exc) -> None:
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# --- the burst, measured -------------------------------------------------------------------------------------


async def burst(url: str, events: int, resent: int, connections: int, replicas: int = 1) -> dict:
    async with Sender() as fake:
        made = await fake.ask({"setup": events})
        persons = made["persons"]
        deals = {int(n): i for n, i in made["deals"].items()}
        activities = {int(n): i for n, i in made["activities"].items()}
        sql(url, "INSERT INTO users (name, email) VALUES ('Bench', 'bench@example.com')")
        with psycopg.connect(db.libpq_url(url), autocommit=True) as conn, conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO contacts (owner_id, name, email, pipedrive_person_id) "
                "SELECT id, %s, %s, %s FROM users WHERE email = 'bench@example.com'",
                [(name, email, person_id) for person_id, name, email in persons],
            )
        ports = [free_port() for _ in range(replicas)]
        bots = [
            BotProcess(
                url,
                {
                    "PIPEDRIVE_API_TOKEN": TOKEN,
                    "PIPEDRIVE_BASE_URL": fake.url,
                    "PIPEDRIVE_WEBHOOK_USER": USER,
                    "PIPEDRIVE_WEBHOOK_PASSWORD": PASSWORD,
                    "PIPEDRIVE_WEBHOOK_PORT": str(port),
                    "PIPEDRIVE_WEBHOOK_LISTEN": "127.0.0.1",
                    "PIPEDRIVE_POLL_MINUTES": "0",
                },
            )
            for port in ports
        ]
        for bot in bots:
            bot.ready_line = "pipedrive webhooks"
        if os.environ.get("BENCH_PROFILE"):  # the receiving process run under cProfile, its stats written there
            bots[0].command[1:1] = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
        await asyncio.gather(*(bot.start() for bot in bots))
        proxy = RoundRobinProxy(ports) if replicas > 1 else None
        try:
            if proxy is not None:
                await proxy.__aenter__()
            address = f"127.0.0.1:{proxy.port if proxy else ports[0]}"
            settings = Settings(
                database_url=url,
                _env_file=None,
                pipedrive_api_token=TOKEN,
                pipedrive_base_url=fake.url,
                pipedrive_webhook_user=USER,
                pipedrive_webhook_password=PASSWORD,
            )
            client = company_client(settings)
            await install_webhooks(client, settings, f"http://{address}/pipedrive/webhook")
            await client.aclose()
            receiving = [psutil.Process(bot.process.pid) for bot in bots]
            sending = psutil.Process(fake.process.pid)
            with psycopg.connect(db.libpq_url(url)) as conn:  # the postmaster: its children are the server's processes
                server = psutil.Process(conn.execute("SELECT pg_backend_pid()").fetchone()[0]).parent()
            before = sum(cpu_seconds(r) for r in receiving), cpu_seconds(sending), cpu_seconds(server)
            b = await measured(url, fake, events, resent, connections, persons, deals, activities)
            b["receiver_cpu"] = sum(cpu_seconds(r) for r in receiving) - before[0]
            b["sender_cpu"] = cpu_seconds(sending) - before[1]
            b["database_cpu"] = cpu_seconds(server) - before[2]
            return b
        finally:
            if proxy is not None:
                await proxy.__aexit__(None, None, None)
            await asyncio.gather(*(bot.stop() for bot in bots))


def cpu_seconds(process: psutil.Process) -> float:
    """The processor time a process and its children alive now have used (user and system)."""
    total = 0.0
    for one in (process, *process.children(recursive=True)):
        try:
            times = one.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def measured(
    url: str,
    fake: Sender,
    events: int,
    resent: int,
    connections: int,
    persons: list,
    deals: dict[int, int],
    activities: dict[int, int],
) -> dict:
    seen_at: dict[int, float] = {}  # event row id → when its change was first seen committed
    rows: dict[int, tuple[str, int]] = {}
    watching = True

    async def watch() -> None:
        """When each event's change became visible in the bank (committed), to within a few milliseconds."""
        async with await psycopg.AsyncConnection.connect(db.libpq_url(url), autocommit=True) as conn:
            while watching:
                cursor = await conn.execute(
                    "SELECT id, entity, entity_id FROM pipedrive_events "
                    "WHERE status <> 'received' AND NOT (id = ANY(%s))",
                    (list(seen_at),),
                )
                now = time.time()
                for row_id, entity, entity_id in await cursor.fetchall():
                    seen_at[row_id] = now
                    rows[row_id] = (entity, entity_id)
                await asyncio.sleep(READ_EVERY)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    answer = await fake.ask({"burst": {"resent": resent, "connections": connections}})
    sent_at = {int(n): at for n, at in answer["sent_at"].items()}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        (waiting, stored), *_ = sql(
            url,
            "SELECT count(*) FILTER (WHERE status = 'received'), count(*) FROM pipedrive_events",
        )
        if stored >= events and not waiting:
            break
        await asyncio.sleep(0.05)
    total = time.perf_counter() - started
    await asyncio.sleep(2 * READ_EVERY)
    watching = False
    await watcher
    which = {("person", p[0]): n for n, p in enumerate(persons)}
    which |= {("deal", i): n for n, i in deals.items()}
    which |= {("activity", i): n for n, i in activities.items()}
    latencies = [(seen_at[i] - sent_at[which[key]]) * 1000 for i, key in rows.items() if key in which]
    stored_rows = sql(url, "SELECT entity, entity_id, status, received_at FROM pipedrive_events")
    received = [
        (at.timestamp() - sent_at[which[(entity, entity_id)]]) * 1000
        for entity, entity_id, _, at in stored_rows
        if (entity, entity_id) in which
    ]
    names = dict(sql(url, "SELECT pipedrive_person_id, name FROM contacts"))
    business = dict(sql(url, "SELECT pipedrive_person_id, past_business FROM contacts"))
    (touches,), *_ = sql(url, "SELECT count(*) FROM activities WHERE kind = 'pipedrive'")
    renamed = sum(1 for n in range(0, events, 3) if names[persons[n][0]] == f"Renamed {n}")
    won_right = sum(1 for n in deals if business[persons[n][0]] == Decimal("1000.00"))
    won_twice = sum(1 for n in deals if business[persons[n][0]] > Decimal("1000.00"))
    return {
        "events": events,
        "stored": len(stored_rows),
        "applied": sum(1 for r in stored_rows if r[2] == "applied"),
        "lost": events - (renamed + won_right + min(touches, len(activities))),
        "twice": won_twice + max(0, touches - len(activities)),
        "latencies": latencies,
        "received": received,
        "total": total,
        "non_2xx": answer["non_2xx"],
    }


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    events, resent = (300, 30) if quick else (1000, 100)

    def once(run: int) -> dict[str, float]:
        with bench_database(f"pipedriven_bench_webhooks_{run}") as url:
            b = asyncio.run(burst(url, events, resent, 64))
        return {
            "p50": percentile(b["latencies"], 50),
            "p95": percentile(b["latencies"], 95),
            "max": max(b["latencies"]),
            "stored_p95": percentile(b["received"], 95),
            "receiver_cpu": b["receiver_cpu"],
            "database_cpu": b["database_cpu"],
            "total": b["total"],
            "lost": b["lost"],
            "twice": b["twice"],
            "applied": b["applied"],
        }

    stats = repeated(runs, once)
    return [
        figure(stats, "p50", f"{events} webhooks in a burst (+{resent} sent again): event → bank updated, p50", "ms"),
        figure(stats, "p95", "  event → bank updated, p95", "ms", target="≤ 200 ms", limit=200),
        figure(stats, "max", "  event → bank updated, max", "ms"),
        figure(stats, "stored_p95", "  beside it: event → stored, p95", "ms"),
        figure(stats, "total", "  all applied after", "s"),
        figure(stats, "receiver_cpu", "  processor time of `pipedriven run` for the burst", "s"),
        figure(stats, "database_cpu", "  processor time of PostgreSQL for the burst", "s"),
        figure(stats, "lost", "  events lost", "", target="0", limit=0, worst=True),
        figure(stats, "twice", "  events applied twice", "", target="0", limit=0, worst=True),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--resent", type=int, default=100)
    parser.add_argument("--connections", type=int, default=64, help="webhooks in flight at a time")
    parser.add_argument("--replicas", type=int, default=1, help="`pipedriven run` processes (behind Caddy if 2+)")
    parser.add_argument("--sender", action="store_true", help="be the fake Pipedrive's process (used by the bench)")
    args = parser.parse_args()
    if args.sender:
        asyncio.run(sender())
        return
    print(f"Pipedrive webhooks in a burst, fake → `pipedriven run` ({machine()})")
    with bench_database("pipedriven_bench_webhooks") as url:
        b = asyncio.run(burst(url, args.events, args.resent, args.connections, args.replicas))
    print(f"  sent {b['events']} events (+{args.resent} again); stored {b['stored']}, applied {b['applied']}")
    print(f"  event → bank updated: {summary(b['latencies'])}")
    print(f"  event → stored: {summary(b['received'])}")
    print(f"  all applied after {b['total']:.2f} s; lost {b['lost']}; applied twice {b['twice']}")
    print(
        f"  processor time: `pipedriven run` {b['receiver_cpu']:.2f} s, the fake Pipedrive {b['sender_cpu']:.2f} s, "
        f"PostgreSQL {b['database_cpu']:.2f} s"
    )
    print(f"  deliveries answered non-2xx (then retried by the fake): {b['non_2xx']}")


if __name__ == "__main__":
    main()

"""Taps per second at saturation: one `pipedriven run` replica against two behind one round-robin proxy, sharing
one PostgreSQL server from the system's packages (fakes.postgres), each replica held to a CPU quota.

    python -m bench.bench_taps [--runs 3] [--seconds 15] [--warmup 5] [--clients 40] [--cores 0.4]

The deployment it stands for is docker-compose.yml's: replicas as containers with a CPU limit (`cpus:`) behind
Caddy. Here each replica (`python -m bot.cli run`, Slack in HTTP mode) runs in a CPU group of its own
(fakes.cpu_groups) with a quota of `cores` and a weight that gets it that much on this shared machine, and Caddy
(`caddy run`, round_robin as in the Caddyfile) listens on one port in front of them. PostgreSQL, Caddy and this
process share one more group, with a weight and no quota: the rest of the machine, before other work. So one
replica saturates at its quota and two have twice the CPU. Beside it, the same with no quota: the replicas take
what the machine's cores give, and the ratio says more about the machine than about the replicas.

The load generator is this process, one asyncio loop: `clients` clients, each with one tap in flight at all times
over a keep-alive connection (a signed block_actions request, “LinkedIn ✓” on a row of a user's digest, built
ahead from a template in which only the message's ts changes), tapping again when the bot's chat.update of that
message arrives at the fake Slack here (SlackEdge: answered without its Block Kit checks, which the tests make).
Each client taps as USERS_PER_CLIENT users in turn, never the same row twice. Offered load is well above what the
replicas serve. Measured: the taps completed (chat.update arrived) in `seconds` after `warmup`; the CPU each
process used in that window; how often each quota ran out; the replicas' own tap counters (/metrics); the
database's active backends sampled in pg_stat_activity (on CPU, or waiting: on a lock, for the client…). Each tap
must act once: the activities stored equal the taps acknowledged and the updates arrived, and the replicas'
counters add up to them. Without root (no CPU groups) only the figures without quotas are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import psutil
import psycopg
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bench.bench_process import activities, digests_of_tap_users, populate_tap_users, slack_button
from bench.common import Figure, figure, medians
from core import db
from fakes import cpu_groups
from fakes.limited import LimitedSlack, LimitedTelegram
from fakes.postgres import SystemPostgres
from fakes.processes import SLACK_BASE, BotProcess, free_port, sql
from fakes.slack import SIGNING_SECRET, fixture

SECONDS, WARMUP, CLIENTS, CORES, RUNS = 15.0, 5.0, 40, 0.4, 3
USERS_PER_CLIENT, ROWS = 10, 10  # each client taps as 10 users, on the 10 rows of each one's digest
TS = "1111111111.111111"  # stands for the tapped message's ts in a request template
REPLY_TIMEOUT = 60.0
SAMPLE_EVERY = 0.1  # seconds between two looks at pg_stat_activity


class SlackEdge(LimitedSlack):
    """The fake Slack, with chat.update only noted as arrived: no Block Kit checks, no history kept."""

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "chat.update":
            return await super()._api(request)
        args = await request.json()
        self.arrived(("update", args["channel"], args["ts"]))
        return web.json_response({"ok": True, "channel": args["channel"], "ts": args["ts"]})


class RoundRobinProxy:
    """Caddy on one local port in front of the replicas' Slack ports, round-robin (the Caddyfile's policy)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports, self.port = ports, free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pipedriven-caddy-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def __aenter__(self) -> RoundRobinProxy:
        caddy = shutil.which("caddy")
        if caddy is None:
            raise RuntimeError("no caddy on PATH (apt-get install caddy)")
        upstreams = " ".join(f"127.0.0.1:{port}" for port in self.ports)
        config = self.folder / "Caddyfile"
        config.write_text(
            "{\n\tadmin off\n\tauto_https off\n}\n"
            f"http://127.0.0.1:{self.port} {{\n\treverse_proxy {upstreams} {{\n\t\tlb_policy round_robin\n\t}}\n}}\n"
        )
        env = {**os.environ, "HOME": str(self.folder), "XDG_DATA_HOME": str(self.folder)}
        env["XDG_CONFIG_HOME"] = str(self.folder)
        self.process = subprocess.Popen(
            [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("caddy did not start")

    async def __aexit__(self, *exc: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def tap_templates(rendered: dict, edge: SlackEdge) -> dict[int, list[bytes]]:
    """Per user, a signed-to-be block_actions body for “LinkedIn ✓” on each row of the digest, with `TS` for the
    tapped message's ts (also the action's ts, which names the delivery)."""
    templates: dict[int, list[bytes]] = {}
    for user_id, page in rendered.items():
        text, blocks = page["slack"]
        channel = f"DU{SLACK_BASE + user_id}"
        message = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "ts": TS, "text": text, "blocks": blocks}
        if sum(1 for block in blocks if block.get("type") == "actions") < ROWS:
            raise RuntimeError(f"a tap user's digest has fewer than {ROWS} rows")
        templates[user_id] = []
        for row in range(ROWS):
            payload = {
                **fixture("block_actions.json"),
                "user": {"id": f"U{SLACK_BASE + user_id}", "team_id": "T0001", "username": "tap", "name": "tap"},
                "container": {"type": "message", "message_ts": TS, "channel_id": channel, "is_ephemeral": False},
                "channel": {"id": channel, "name": "directmessage"},
                "message": message,
                "response_url": f"{edge.url}/respond/{user_id}-{row}",
                "trigger_id": f"trigger-{TS}",
                "actions": [{**slack_button(blocks, row, "LinkedIn ✓"), "action_ts": TS}],
            }
            templates[user_id].append(urlencode({"payload": json.dumps(payload)}).encode())
    return templates


class Taps:
    """Users tapping as fast as the bot answers: one tap in flight each, the next when its chat.update came."""

    def __init__(self, edge: SlackEdge, templates: dict[int, list[bytes]], url: str, session: aiohttp.ClientSession):
        self.edge, self.templates, self.url, self.session = edge, templates, url, session
        self.serial = itertools.count(1)
        self.acknowledged = 0
        self.done_at: list[float] = []

    async def client(self, users: list[int], until: float) -> None:
        """Taps on each row of these users' digests in turn, never the same row twice (a second tap on a
        contact within a minute is a “logged it again” of its own)."""
        fresh = [(user, rows[row]) for row in range(ROWS) for user in users for rows in [self.templates[user]]]
        for user, template in fresh:
            if time.monotonic() >= until:
                return
            await self.tap(user, template)
        raise RuntimeError("a client tapped every row of its users' digests: give each client more users")

    async def tap(self, user_id: int, template: bytes) -> None:
        ts = f"{1800000000 + next(self.serial)}.000100"
        body = template.replace(TS.encode(), ts.encode())
        stamp = str(int(time.time()))
        signature = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + signature.hexdigest(),
        }
        key = ("update", f"DU{SLACK_BASE + user_id}", ts)
        arrival = self.edge.arrival(key)
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"a tap was answered {response.status}")
        self.acknowledged += 1
        await asyncio.wait_for(arrival, REPLY_TIMEOUT)
        self.edge.forget(key)
        self.done_at.append(time.monotonic())


def cpu_seconds(process: psutil.Process, with_children: bool = False) -> float:
    """CPU time used so far; with_children: also its children's, live (PostgreSQL's backends) and ended."""
    times = process.cpu_times()
    total = times.user + times.system
    if with_children:
        total += times.children_user + times.children_system
        for child in process.children(recursive=True):
            try:
                child_times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += child_times.user + child_times.system
    return total


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class WaitEvents(threading.Thread):
    """Samples what the database's backends are doing (pg_stat_activity) until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping = url, threading.Event()
        self.seen: Counter[str] = Counter()

    def run(self) -> None:
        with psycopg.connect(db.libpq_url(self.url), autocommit=True) as conn:
            while not self.stopping.wait(SAMPLE_EVERY):
                for state, kind, event in conn.execute(
                    """SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"""
                ):
                    if state == "active":
                        self.seen[f"{kind}:{event}" if kind else "on CPU"] += 1
                    else:
                        self.seen[state or "?"] += 1

    def share(self) -> dict[str, float]:
        """Each state's share of the samples of active backends (on CPU or waiting on something)."""
        active = {k: v for k, v in self.seen.items() if k == "on CPU" or ":" in k}
        total = sum(active.values()) or 1
        return {k: v / total for k, v in sorted(active.items(), key=lambda kv: -kv[1])}


async def slack_taps_counted(session: aiohttp.ClientSession, bot: BotProcess) -> float:
    """The replica's own count of Slack taps (pipedriven_taps_total on its /metrics)."""
    async with session.get(f"http://127.0.0.1:{bot.slack_port}/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pipedriven_taps_total" and sample.labels.get("platform") == "slack":
                return sample.value
    return 0.0


async def saturate(
    url: str,
    rendered: dict,
    postmaster: psutil.Process,
    replicas: int,
    cores: float,
    seconds: float,
    warmup: float,
    clients: int,
    reserve: bool,
) -> dict[str, float]:
    """One measurement: `replicas` replicas behind the proxy, saturated; with `reserve`, each in a CPU group of
    its own with a weight and a quota of `cores` (none if 0)."""
    edge, telegram = SlackEdge(), LimitedTelegram()
    await edge.start()
    await telegram.start()
    templates = tap_templates(rendered, edge)
    bots = [BotProcess.against(url, edge, telegram) for _ in range(replicas)]
    with ExitStack() as stack:
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            groups = [
                stack.enter_context(cpu_groups.CpuGroup(f"replica-{n}", cores=cores or None))
                for n in range(replicas)
                if reserve
            ]
            for group, bot in zip(groups, bots):
                group.add(bot.process.pid)
            connector = aiohttp.TCPConnector(limit=0)
            async with (
                RoundRobinProxy([bot.slack_port for bot in bots]) as proxy,
                aiohttp.ClientSession(connector=connector) as session,
            ):
                counted_before = [await slack_taps_counted(session, bot) for bot in bots]
                stored_before = await activities(url)
                taps = Taps(edge, templates, proxy.url, session)
                generator, served = psutil.Process(), [psutil.Process(bot.process.pid) for bot in bots]
                caddy = psutil.Process(proxy.process.pid)

                def clocks() -> dict:
                    return {
                        "generator": cpu_seconds(generator),
                        "replicas": [cpu_seconds(p) for p in served],
                        "postgres": cpu_seconds(postmaster, with_children=True),
                        "caddy": cpu_seconds(caddy),
                        "machine": machine_busy_seconds(),
                        "throttled": [group.stat() for group in groups],
                    }

                waits = WaitEvents(url)
                window: dict[str, dict] = {}

                async def observe(start: float) -> None:
                    await asyncio.sleep(start + warmup - time.monotonic())
                    window["before"] = clocks()
                    waits.start()
                    await asyncio.sleep(start + warmup + seconds - time.monotonic())
                    window["after"] = clocks()
                    waits.stopping.set()

                start = time.monotonic()
                until = start + warmup + seconds
                users = sorted(templates)
                await asyncio.gather(observe(start), *(taps.client(users[k::clients], until) for k in range(clients)))
                await asyncio.to_thread(waits.join)
                stored = await activities(url) - stored_before
                counted = [await slack_taps_counted(session, bot) - b for bot, b in zip(bots, counted_before)]
        finally:
            await asyncio.gather(*(bot.stop() for bot in bots))
            await edge.stop()
            await telegram.stop()
    if not stored == taps.acknowledged == len(taps.done_at) == sum(counted):
        raise RuntimeError(
            f"{taps.acknowledged} taps acknowledged, {len(taps.done_at)} updates arrived, {stored} activities "
            f"stored, replicas counted {counted}"
        )
    begin, end = start + warmup, until
    before, after = window["before"], window["after"]

    def busy(name: str) -> float:
        return (after[name] - before[name]) / seconds

    throttled = [
        (a["nr_throttled"] - b["nr_throttled"]) / max(1, a["nr_periods"] - b["nr_periods"])
        for a, b in zip(after["throttled"], before["throttled"])
    ]
    replica_cpu = [(a - b) / seconds for a, b in zip(after["replicas"], before["replicas"])]
    shares = waits.share()
    return {
        "taps_per_second": sum(begin <= t < end for t in taps.done_at) / seconds,
        "taps": float(taps.acknowledged),
        "stored": float(stored),
        "smallest_share": min(counted) / sum(counted),
        "per_replica": counted,  # type: ignore[dict-item]
        "replica_cpu": statistics.fmean(replica_cpu),
        "generator_cpu": busy("generator"),
        "postgres_cpu": busy("postgres"),
        "caddy_cpu": busy("caddy"),
        "machine_cpu": busy("machine"),
        "throttled": statistics.fmean(throttled) if throttled else 0.0,
        "db_on_cpu": shares.get("on CPU", 0.0),
        "db_lock_wait": sum(v for k, v in shares.items() if k.startswith(("Lock:", "LWLock:"))),
        "waits": shares,  # type: ignore[dict-item]
    }


CONFIGURATIONS = [("quota", 1), ("quota", 2), ("free", 1), ("free", 2)]


def run(
    runs: int = RUNS, seconds: float = SECONDS, warmup: float = WARMUP, clients: int = CLIENTS, cores: float = CORES
) -> dict[str, list[dict]]:
    """`runs` rounds of the four configurations (one and two replicas, with and without quotas), each on a fresh
    copy of one migrated database of `clients` users."""
    reserve = cpu_groups.available()
    if cores and not reserve:
        raise RuntimeError("CPU quotas need root and cgroup v1's cpu controller; --cores 0 measures without")
    results: dict[str, list[dict]] = {f"{kind}_{n}": [] for kind, n in CONFIGURATIONS}
    with SystemPostgres() as server, ExitStack() as stack:
        postmaster = psutil.Process(int((server.data / "postmaster.pid").read_text().split()[0]))
        if reserve:  # PostgreSQL, this process (the load generator) and what it starts: Caddy
            rest = stack.enter_context(cpu_groups.CpuGroup("rest"))
            for process in (postmaster, *postmaster.children(recursive=True), psutil.Process()):
                rest.add(process.pid)
        template = db.with_database(server.url(), "pipedriven_taps")
        db.ensure_database(template)
        db.upgrade(template)
        populate_tap_users(template, clients * USERS_PER_CLIENT)
        rendered = asyncio.run(digests_of_tap_users(template, clients * USERS_PER_CLIENT))
        sql(template, "VACUUM ANALYZE")
        for round_ in range(runs):
            for kind, replicas in CONFIGURATIONS:
                if kind == "quota" and not cores:
                    continue
                name = f"pipedriven_taps_{round_}_{kind}_{replicas}"
                sql(server.url(), f"CREATE DATABASE {name} TEMPLATE pipedriven_taps")
                url = db.with_database(server.url(), name)
                result = asyncio.run(
                    saturate(
                        url,
                        rendered,
                        postmaster,
                        replicas,
                        cores if kind == "quota" else 0,
                        seconds,
                        warmup,
                        clients,
                        reserve,
                    )
                )
                results[f"{kind}_{replicas}"].append(result)
                sql(server.url(), f"DROP DATABASE {name}")
                print(describe(f"{kind} {replicas}", result), flush=True)
    return results


def figures(quick: bool, runs: int = RUNS) -> list[Figure]:
    seconds, warmup = (5.0, 2.0) if quick else (SECONDS, WARMUP)
    cores = CORES if cpu_groups.available() else 0.0
    results = run(runs, seconds, warmup, CLIENTS, cores)
    rows = []
    for kind in ("quota", "free"):
        one, two = results[f"{kind}_1"], results[f"{kind}_2"]
        if not one:
            continue
        stats = medians(
            [
                {
                    "one": a["taps_per_second"],
                    "two": b["taps_per_second"],
                    "ratio": b["taps_per_second"] / a["taps_per_second"],
                    "share": b["smallest_share"],
                    "throttled_one": a["throttled"],
                    "throttled_two": b["throttled"],
                    "replica_one": a["replica_cpu"],
                    "replica_two": b["replica_cpu"],
                    "postgres_two": b["postgres_cpu"],
                    "lock_wait": max(a["db_lock_wait"], b["db_lock_wait"]),
                    "taps": a["taps"] + b["taps"],
                }
                for a, b in zip(one, two)
            ]
        )

        if kind == "quota":
            rows += [
                figure(stats, "one", f"Slack taps a second at saturation, one replica held to {cores:g} core", "/s"),
                figure(stats, "two", "  two replicas, each held so, behind Caddy round-robin, one database", "/s"),
                figure(
                    stats,
                    "ratio",
                    "  two against one",
                    "×",
                    target="≥ 1.8×",
                    at_least=1.8,
                    note=f"quota used up in {stats['throttled_one'][0]:.0%} / {stats['throttled_two'][0]:.0%} of "
                    f"periods (one / two); each tap stored once; the smaller replica's share "
                    f"{stats['share'][0]:.0%}; PostgreSQL {stats['postgres_two'][0]:.2f} core, backends waiting on "
                    f"a lock in {stats['lock_wait'][0]:.0%} of samples",
                ),
            ]
        else:
            rows += [
                figure(stats, "one", "  beside it: one replica, no quota (the machine's 2 cores shared)", "/s"),
                figure(stats, "two", "  beside it: two replicas, no quota", "/s"),
                figure(
                    stats,
                    "ratio",
                    "  beside it: two against one, no quota",
                    "×",
                    note=f"cores busy per replica: one {stats['replica_one'][0]:.2f}, two {stats['replica_two'][0]:.2f} "
                    "each: the machine, not a replica, is the limit",
                ),
            ]
    return rows


def describe(name: str, r: dict) -> str:
    waits = ", ".join(f"{k} {v:.0%}" for k, v in list(r["waits"].items())[:4])
    return (
        f"{name}: {r['taps_per_second']:.1f} taps/s; {r['taps']:.0f} acknowledged = {r['stored']:.0f} stored, "
        f"per replica {[int(c) for c in r['per_replica']]}; cores busy: each replica {r['replica_cpu']:.2f} "
        f"(quota ran out in {r['throttled']:.0%} of periods), postgres {r['postgres_cpu']:.2f}, caddy "
        f"{r['caddy_cpu']:.2f}, generator {r['generator_cpu']:.2f}, whole machine {r['machine_cpu']:.2f}; "
        f"active backends: {waits}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--warmup", type=float, default=WARMUP)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--cores", type=float, default=CORES, help="each replica's CPU quota; 0 for none")
    args = parser.parse_args()
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results = run(args.runs, args.seconds, args.warmup, args.clients, args.cores)
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for kind in ("quota", "free"):
        if not results[f"{kind}_1"]:
            continue
        one = [r["taps_per_second"] for r in results[f"{kind}_1"]]
        two = [r["taps_per_second"] for r in results[f"{kind}_2"]]
        ratios = [b / a for a, b in zip(one, two)]
        print(
            f"{kind}: one replica {statistics.median(one):.1f} taps/s, two {statistics.median(two):.1f} taps/s, "
            f"two against one {statistics.median(ratios):.2f}× (runs: {', '.join(f'{x:.2f}' for x in ratios)})"
        )


if __name__ == "__main__":
    main()

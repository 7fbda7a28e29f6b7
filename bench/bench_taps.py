"""Taps per second at saturation: one `pipedriven run` replica against two, on one PostgreSQL server from the
system's packages (fakes.postgres).

    python -m bench.bench_taps [--seconds 15] [--clients 40]

A load generator (this process, also the fake Slack) keeps `clients` Slack taps in flight at all times, one for
each of as many users, each tapping again as soon as the last tap's answer came: each a signed block_actions
request on a fresh digest message (“LinkedIn ✓” on a row), counted when the bot's
chat.update arrives. The taps go round-robin to the replicas, as a round-robin proxy in front of them would
(with no proxy's own cost in the figure). Each tap must act once: the activities stored equal the taps made.
One asyncio process serves on one core; the ratio says how much a second replica adds on this machine (every
process here, the generator and the database included, shares its cores).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

import aiohttp
import psutil

from bench.bench_process import TapLoad, activities, digests_of_tap_users, populate_tap_users
from bench.common import Figure
from fakes.limited import LimitedSlack, LimitedTelegram
from fakes.postgres import SystemPostgres
from fakes.processes import BotProcess

SECONDS, CLIENTS = 15.0, 60


class RoundRobin:
    """Stands in for one bot: each request's address is the next replica's."""

    def __init__(self, bots: list[BotProcess]) -> None:
        self._urls = itertools.cycle([bot.slack_url for bot in bots])

    @property
    def slack_url(self) -> str:
        return next(self._urls)


async def saturate(url: str, replicas: int, seconds: float, clients: int) -> dict[str, float]:
    slack, telegram = LimitedSlack(), LimitedTelegram()
    await slack.start()
    await telegram.start()
    rendered = await digests_of_tap_users(url, clients)
    bots = [BotProcess.against(url, slack, telegram, "bench.serve") for _ in range(replicas)]
    try:
        await asyncio.gather(*(bot.start() for bot in bots))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients * 2)) as session:
            load = TapLoad(RoundRobin(bots), slack, telegram, rendered, session, seed=0)  # type: ignore[arg-type]
            done = 0

            async def client(user: int) -> None:
                nonlocal done
                row = 0
                while time.monotonic() < end:
                    await load.slack_tap(user, row, noop=False, record=False)
                    done += 1
                    row += 1

            before = await activities(url)
            end = time.monotonic() + seconds
            generator, served = psutil.Process(), [psutil.Process(bot.process.pid) for bot in bots]
            cpu_before = [cpu(p) for p in (generator, *served)]
            await asyncio.gather(*(client(user) for user in rendered))
            busy = [(cpu(p) - b) / seconds for p, b in zip((generator, *served), cpu_before)]
            stored = await activities(url) - before
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))
        await slack.stop()
        await telegram.stop()
    if stored != load.real_taps:
        raise RuntimeError(f"{load.real_taps} taps but {stored} activities stored")
    return {
        "taps_per_second": done / seconds,
        "taps": load.real_taps,
        "stored": stored,
        "generator_cpu": busy[0],
        "replica_cpu": sum(busy[1:]) / replicas,
    }


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def run(seconds: float = SECONDS, clients: int = CLIENTS) -> dict:
    from core import db

    results = {}
    with SystemPostgres() as server:
        for replicas in (1, 2):
            url = db.with_database(server.url(), f"pipedriven_taps_{replicas}")
            db.ensure_database(url)
            db.upgrade(url)
            populate_tap_users(url, clients)
            results[replicas] = asyncio.run(saturate(url, replicas, seconds, clients))
    results["ratio"] = results[2]["taps_per_second"] / results[1]["taps_per_second"]
    return results


def figures(quick: bool, runs: int = 1) -> list[Figure]:
    r = run(5.0 if quick else SECONDS)
    return [
        Figure(
            f"Slack taps a second at saturation, one replica ({CLIENTS} taps in flight)", r[1]["taps_per_second"], "/s"
        ),
        Figure("  two replicas, round-robin, one database", r[2]["taps_per_second"], "/s"),
        Figure(
            "  two against one",
            r["ratio"],
            "×",
            note=f"each tap stored once; cores busy, one replica: {r[1]['replica_cpu']:.2f}, two: "
            f"{r[2]['replica_cpu']:.2f} each, load generator {r[2]['generator_cpu']:.2f}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    r = run(args.seconds, args.clients)
    for replicas in (1, 2):
        print(
            f"{replicas} replica(s): {r[replicas]['taps_per_second']:.1f} taps/s "
            f"({r[replicas]['taps']} taps, {r[replicas]['stored']} activities stored; cores busy: load generator "
            f"{r[replicas]['generator_cpu']:.2f}, each replica {r[replicas]['replica_cpu']:.2f})"
        )
    print(f"two against one: {r['ratio']:.2f}×")


if __name__ == "__main__":
    main()

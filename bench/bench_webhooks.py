"""Benchmark: Pipedrive's webhooks in a burst, from the local fake Pipedrive to a running receiver.

    python -m bench.bench_webhooks [--events 1000] [--resent 100] [--connections 64]

1,000 linked contacts; the fake sends 1,000 webhooks v2 at once (as many connections at a time as
--connections): a third persons renamed, a third deals won, a third activities marked done, each about
another contact, then sends --resent of them again (as Pipedrive's retries would). Each event is timed from the
moment the fake sends it to the moment the bank's change is seen committed (a reader polls every 5 ms). Reports p50/p95/max, events lost (sent but never applied) and applied twice (a
rename, a won deal or a touch counted more than once). Target: all applied, p95 ≤ 200 ms, 0 lost, 0 twice.
The fake, the receiver and its worker share one process and event loop on a shared machine: the figures include
that contention. `figures()` is what `python -m bench` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.common import Figure, bench_database, figure, machine, percentile, repeated, summary
from core import db
from core.models import Activity, Contact, PipedriveEvent, User
from core.service import Core
from core.settings import Settings
from fakes.pipedrive import FakePipedrive
from pipedrive.client import company_client
from pipedrive.setup import install_webhooks
from pipedrive.webhooks import WebhookService

TOKEN, USER, PASSWORD = "company-token", "pipedrive", "bench-hook-pass"


async def burst(url: str, events: int, resent: int, connections: int) -> dict:
    settings = Settings(
        database_url=url,
        _env_file=None,
        pipedrive_api_token=TOKEN,
        pipedrive_webhook_user=USER,
        pipedrive_webhook_password=PASSWORD,
        pipedrive_webhook_port=0,
        pipedrive_webhook_listen="127.0.0.1",
        pipedrive_poll_minutes=0,
    )
    fake = FakePipedrive(tokens=(TOKEN,), burst_limit=10_000, search_limit=10_000)
    fake.retry_delays = (0.5, 1.0, 2.0)
    await fake.start()
    settings = settings.model_copy(update={"pipedrive_base_url": fake.url})
    engine = db.create_engine(url)
    core = Core(engine, settings=settings)
    service = WebhookService(core, settings)
    try:
        await service.start()
        client = company_client(settings)
        await install_webhooks(client, settings, f"http://127.0.0.1:{service.port}/pipedrive/webhook")
        await client.aclose()
        persons = [fake.add_person(f"Person {n}", email=f"p{n}@lead.io") for n in range(events)]
        async with core.sessions() as s, s.begin():
            user = User(name="Bench", email="bench@example.com")
            s.add(user)
            await s.flush()
            s.add_all(
                Contact(owner_id=user.id, name=p["name"], email=p["emails"][0]["value"], pipedrive_person_id=p["id"])
                for p in persons
            )
        deals = {n: fake.add_deal(f"Deal {n}", value=1000, person_id=persons[n]["id"]) for n in range(1, events, 3)}
        activities = {n: fake.add_activity_in_app(persons[n]["id"], "call") for n in range(2, events, 3)}
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
            entity, entity_id = (
                ("person", persons[n]["id"])
                if n % 3 == 0
                else ("deal", deals[n]["id"])
                if n % 3 == 1
                else ("activity", activities[n]["id"])
            )
            data = fake.persons[entity_id] if n % 3 == 0 else (fake.deals if n % 3 == 1 else fake.activities)[entity_id]
            async with gate:
                await fake.emit(entity, "change", entity_id, data=dict(data), previous={}, at=at)

        seen_at: dict[tuple[str, int], float] = {}
        watching = True

        async def watch() -> None:
            """When each event's change became visible in the bank (committed), to within a few milliseconds."""
            while watching:
                async with core.reading() as s:
                    done = (
                        await s.execute(
                            select(PipedriveEvent.entity, PipedriveEvent.entity_id).where(
                                PipedriveEvent.status != "received"
                            )
                        )
                    ).all()
                now = time.time()
                for entity, entity_id in done:
                    seen_at.setdefault((entity, entity_id), now)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        started = time.perf_counter()
        await asyncio.gather(*(send(n) for n in range(events)))
        await asyncio.gather(*(send_again(n) for n in range(0, events, max(1, events // max(1, resent)))))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            async with core.reading() as s:
                waiting = await s.scalar(
                    select(func.count()).select_from(PipedriveEvent).where(PipedriveEvent.status == "received")
                )
                stored = await s.scalar(select(func.count()).select_from(PipedriveEvent))
            if stored >= events and not waiting:
                break
            await asyncio.sleep(0.05)
        total = time.perf_counter() - started
        watching = False
        await watcher
        async with core.reading() as s:
            rows = (await s.execute(select(PipedriveEvent))).scalars().all()
            contacts = (await s.execute(select(Contact).order_by(Contact.id))).scalars().all()
            touches = await s.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "pipedrive"))
        by_person = {c.pipedrive_person_id: c for c in contacts}
        which = {("person", p["id"]): n for n, p in enumerate(persons)}
        which |= {("deal", d["id"]): n for n, d in deals.items()}
        which |= {("activity", a["id"]): n for n, a in activities.items()}
        latencies = [
            (seen_at[(row.entity, row.entity_id)] - sent_at[which[(row.entity, row.entity_id)]]) * 1000
            for row in rows
            if row.status == "applied"
            and (row.entity, row.entity_id) in which
            and (row.entity, row.entity_id) in seen_at
        ]
        received = [
            (row.received_at.timestamp() - sent_at[which[(row.entity, row.entity_id)]]) * 1000
            for row in rows
            if (row.entity, row.entity_id) in which
        ]
        renamed = sum(1 for n in range(0, events, 3) if by_person[persons[n]["id"]].name == f"Renamed {n}")
        won_right = sum(1 for n in deals if by_person[persons[n]["id"]].past_business == Decimal("1000.00"))
        won_twice = sum(1 for n in deals if by_person[persons[n]["id"]].past_business > Decimal("1000.00"))
        expected = {"person": len(range(0, events, 3)), "deal": len(deals), "activity": len(activities)}
        applied = sum(1 for r in rows if r.status == "applied")
        return {
            "events": events,
            "stored": len(rows),
            "applied": applied,
            "lost": events - (renamed + won_right + min(touches, len(activities))),
            "twice": won_twice + max(0, touches - len(activities)),
            "latencies": latencies,
            "received": received,
            "total": total,
            "expected": sum(expected.values()),
            "non_2xx": sum(1 for d in fake.deliveries if not 200 <= d[2] < 300),
        }
    finally:
        await service.stop()
        await fake.stop()
        await engine.dispose()


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    events, resent = (300, 30) if quick else (1000, 100)

    def once(run: int) -> dict[str, float]:
        with bench_database(f"pipedriven_bench_webhooks_{run}") as url:
            b = asyncio.run(burst(url, events, resent, 64))
        return {
            "p50": percentile(b["latencies"], 50),
            "p95": percentile(b["latencies"], 95),
            "max": max(b["latencies"]),
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
        figure(stats, "total", "  all applied after", "s"),
        figure(stats, "lost", "  events lost", "", target="0", limit=0, worst=True),
        figure(stats, "twice", "  events applied twice", "", target="0", limit=0, worst=True),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--resent", type=int, default=100)
    parser.add_argument("--connections", type=int, default=64, help="webhooks in flight at a time")
    args = parser.parse_args()
    print(f"Pipedrive webhooks in a burst, fake → receiver ({machine()})")
    with bench_database("pipedriven_bench_webhooks") as url:
        b = asyncio.run(burst(url, args.events, args.resent, args.connections))
    print(f"  sent {b['events']} events (+{args.resent} again); stored {b['stored']}, applied {b['applied']}")
    print(f"  event → bank updated: {summary(b['latencies'])}")
    print(f"  event → stored (answered 200): {summary(b['received'])}")
    print(f"  all applied after {b['total']:.2f} s; lost {b['lost']}; applied twice {b['twice']}")
    print(f"  deliveries answered non-2xx (then retried by the fake): {b['non_2xx']}")


if __name__ == "__main__":
    main()

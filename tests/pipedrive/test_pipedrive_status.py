"""`pipedriven sync status` has an inbound part: the events received from Pipedrive by outcome, when the last
one came and since when the oldest not applied yet has been waiting."""

from __future__ import annotations

from datetime import datetime

from core.inbound.commands import ApplyPipedriveEvent, ReceivePipedriveEvent


async def receive(core, n: int, at: datetime) -> int:
    event_id = await core.execute(
        ReceivePipedriveEvent(f"person-{n}", "person", "change", 9000 + n, at, {"data": {"id": 9000 + n}})
    )
    assert event_id is not None
    return event_id


def test_with_nothing_received_the_inbound_part_says_so(cli, core):
    status = cli("sync", "status")
    assert status.returncode == 0, status.stderr
    assert "From Pipedrive: nothing received yet." in status.stdout


async def test_the_inbound_part_counts_outcomes_and_names_the_last_and_oldest_waiting(cli, core, clock):
    first = await receive(core, 1, clock.now())  # about nobody in the bank: ignored once applied
    await core.execute(ApplyPipedriveEvent(first))
    clock.advance(minutes=5)
    await receive(core, 2, clock.now())
    clock.advance(minutes=7)
    await receive(core, 3, clock.now())
    status = cli("sync", "status")
    assert status.returncode == 0, status.stderr
    assert "From Pipedrive: 0 applied · 1 ignored · 0 stale · 0 error · 2 waiting" in status.stdout
    assert "last received 24 Nov 09:12 · oldest waiting since 24 Nov 09:05" in status.stdout

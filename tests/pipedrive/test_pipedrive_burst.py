"""Many Pipedrive events at once: stored together, applied a batch at a time in a handful of statements, with
the same outcome as one by one."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

import aiohttp
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from core.inbound.commands import ReceivePipedriveEvent
from core.models import Activity, AuditEntry, Contact, PipedriveEvent
from core.sync.commands import RecordPipedriveIds
from pipedrive.webhooks import WebhookReceiver, WebhookService

USER, PASSWORD = "pipedrive", "hook-pass-burst"
PERSONS = 30


@pytest.fixture
def pipedrive_settings():
    return {
        "pipedrive_webhook_user": USER,
        "pipedrive_webhook_password": PASSWORD,
        "pipedrive_webhook_port": 0,
        "pipedrive_webhook_listen": "127.0.0.1",
    }


@pytest.fixture
async def linked(core, make, ana):
    """Contacts of Ana's, each linked to a person in Pipedrive (id 7000 + n)."""
    contacts = []
    for n in range(PERSONS):
        contact = await make.contact(ana, f"Person {n}", email=f"p{n}@lead.io")
        await core.execute(RecordPipedriveIds(contact.id, person_id=7000 + n))
        contacts.append(contact)
    return contacts


def webhook(entity: str, entity_id: int, at, data: dict, previous: dict) -> dict:
    meta = {"action": "change", "entity": entity, "entity_id": str(entity_id), "timestamp": at.isoformat()}
    return {"meta": meta, "data": {"id": entity_id, **data}, "previous": previous}


def burst(clock) -> list[dict]:
    """A third persons renamed, a third deals won, a third activities marked done."""
    at = clock.now() + timedelta(minutes=1)
    hooks = []
    for n in range(PERSONS):
        person = 7000 + n
        if n % 3 == 0:
            hooks.append(webhook("person", person, at, {"name": f"Renamed {n}"}, {"name": f"Person {n}"}))
        elif n % 3 == 1:
            won = {"status": "won", "value": 1000, "currency": "EUR", "person_id": person, "title": f"Deal {n}"}
            hooks.append(webhook("deal", 500 + n, at, won, {"status": "open"}))
        else:
            hooks.append(webhook("activity", 900 + n, at, {"done": True, "type": "call", "person_id": person}, {}))
    return hooks


async def test_a_burst_is_applied_in_a_handful_of_statements_with_every_rule_kept(core, settings, linked, clock):
    for hook in burst(clock):
        meta = hook["meta"]
        entity, entity_id = meta["entity"], int(meta["entity_id"])
        key = f"{entity}:{entity_id}:change:{meta['timestamp']}"
        await core.execute(ReceivePipedriveEvent(key, entity, "change", entity_id, clock.now(), hook))
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(core.engine.sync_engine, "before_cursor_execute", listener)
    try:
        applied = await WebhookReceiver(core, settings).apply_waiting()
    finally:
        sa_event.remove(core.engine.sync_engine, "before_cursor_execute", listener)
    assert applied == PERSONS
    # A batch is about fifteen statements however many events it holds: its reads, one UPDATE for all the contacts
    # it changed (whichever fields each changed) and one statement per table written. One event at a time took
    # about ten statements each; a contact's UPDATE of its own, whenever the next contact changed other fields,
    # made it about 55.
    assert len(statements) <= 40
    async with core.reading() as s:
        contacts = {c.pipedrive_person_id: c for c in (await s.scalars(select(Contact))).all()}
        touches = (await s.scalars(select(Activity).where(Activity.kind == "pipedrive"))).all()
        audits = (
            await s.scalars(AuditEntry.__table__.select().where(AuditEntry.command == "ApplyPipedriveEvent"))
        ).all()
    assert [contacts[7000 + n].name for n in range(0, PERSONS, 3)] == [f"Renamed {n}" for n in range(0, PERSONS, 3)]
    assert {contacts[7000 + n].past_business for n in range(1, PERSONS, 3)} == {Decimal("1000.00")}
    assert len(touches) == PERSONS // 3
    assert len(audits) == PERSONS


async def test_webhooks_arriving_at_once_are_each_stored_once_and_applied(core, settings, linked, clock, rows):
    service = WebhookService(core, settings)
    await service.start()
    url = f"http://127.0.0.1:{service.port}/pipedrive/webhook"
    hooks = burst(clock)
    try:
        async with aiohttp.ClientSession(
            headers={"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}
        ) as session:

            async def post(hook: dict) -> int:
                async with session.post(url, data=json.dumps(hook).encode()) as response:
                    return response.status

            statuses = await asyncio.gather(*(post(h) for h in hooks + hooks[:10]))  # ten sent twice
        assert statuses == [200] * (PERSONS + 10)
        for _ in range(250):
            events = await rows(PipedriveEvent)
            if len(events) >= PERSONS and all(e.status != "received" for e in events):
                break
            await asyncio.sleep(0.02)
    finally:
        await service.stop()
    assert len(events) == PERSONS
    assert {e.status for e in events} == {"applied"}
    assert [k.past_business for k in await rows(Contact, Contact.pipedrive_person_id == 7001)] == [Decimal("1000.00")]


async def test_one_event_the_database_refuses_is_an_error_and_the_rest_of_its_batch_is_applied(
    core, settings, linked, clock, rows
):
    at = clock.now() + timedelta(minutes=1)
    hooks = [webhook("person", 7000 + n, at, {"name": f"Renamed {n}"}, {"name": f"Person {n}"}) for n in range(4)]
    too_long = {"status": "won", "value": 10, "currency": "EUR", "person_id": 7010, "title": "x" * 400}
    hooks.insert(2, webhook("deal", 510, at, too_long, {"status": "open"}))
    for hook in hooks:
        meta = hook["meta"]
        key = f"{meta['entity']}:{meta['entity_id']}:change:{meta['timestamp']}"
        await core.execute(ReceivePipedriveEvent(key, meta["entity"], "change", int(meta["entity_id"]), at, hook))
    assert await WebhookReceiver(core, settings).apply_waiting() == 5
    events = await rows(PipedriveEvent)
    assert [(e.entity, e.status) for e in events] == [("person", "applied")] * 2 + [("deal", "error")] + [
        ("person", "applied")
    ] * 2
    names = {c.pipedrive_person_id: c.name for c in await rows(Contact)}
    assert [names[7000 + n] for n in range(4)] == [f"Renamed {n}" for n in range(4)]
    assert names[7010] == "Person 10"
    assert len(await rows(AuditEntry, AuditEntry.command == "ApplyPipedriveEvent")) == 4

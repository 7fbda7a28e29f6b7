"""A retried delivery acts once: Core.execute with an idempotency key."""

import asyncio

from sqlalchemy import func, select

from core.command import Actor, ContactRef
from core.models import Activity
from core.outreach.commands import LogOutreach
from core.views import ActionResult, AlreadyDone


async def activities(core, contact_id):
    async with core.sessions() as s:
        return (
            await s.execute(select(func.count()).select_from(Activity).where(Activity.contact_id == contact_id))
        ).scalar_one()


async def test_the_same_key_twice_logs_once(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    command = LogOutreach(Actor(ana.id, "slack"), ContactRef(id=bob.id), "email")
    assert isinstance(await core.execute(command, idempotency_key="slack:1.2:log"), ActionResult)
    again = await core.execute(command, idempotency_key="slack:1.2:log")
    assert isinstance(again, AlreadyDone) and "once" in again.message
    assert await activities(core, bob.id) == 1


async def test_concurrent_twins_log_once(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    command = LogOutreach(Actor(ana.id, "telegram"), ContactRef(id=bob.id), "call")
    results = await asyncio.gather(*(core.execute(command, idempotency_key="tg:update:77") for _ in range(4)))
    assert sum(isinstance(r, ActionResult) for r in results) == 1
    assert await activities(core, bob.id) == 1


async def test_a_failed_command_does_not_burn_its_key(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    bad = LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "telepathy")
    try:
        await core.execute(bad, idempotency_key="k1")
    except Exception as exc:
        assert "not an outreach method" in str(exc)
    good = LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "email")
    assert isinstance(await core.execute(good, idempotency_key="k1"), ActionResult)


async def test_different_keys_both_count(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    command = LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "email")
    await core.execute(command, idempotency_key="a")
    await core.execute(command, idempotency_key="b")
    assert await activities(core, bob.id) == 2

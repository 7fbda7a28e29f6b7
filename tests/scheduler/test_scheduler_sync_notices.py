"""A Pipedrive sync that only a person can fix (a refused token, a missing field) is told in the chat, once."""

import asyncio

from sqlalchemy import select

from bot.notify import ChatCourier
from core.models import OutboxMessage
from core.users.commands import LinkChatIdentity
from scheduler.dispatch import Dispatcher
from scheduler.ports import TemporaryDeliveryError

NOTICE = "Pipedrive refused the API token. Ask an admin to check it, then say `sync retry all`."


async def owe(core, user, *, rows: int = 1) -> list[int]:
    """The state the sync worker leaves after a failure it can't fix: failed outbox rows owing a notice."""
    async with core.sessions() as s, s.begin():
        outbox = [
            OutboxMessage(
                topic="pipedrive.sync",
                user_id=user.id,
                status="failed",
                attempts=1,
                payload={"event": "ContactWarmed"},
                user_notice=NOTICE,
            )
            for _ in range(rows)
        ]
        s.add_all(outbox)
        await s.flush()
        return [o.id for o in outbox]


async def notified(core, ids):
    async with core.sessions() as s:
        return [
            r
            for r in (
                await s.execute(select(OutboxMessage.user_notified_at).where(OutboxMessage.id.in_(ids)))
            ).scalars()
        ]


async def test_two_failed_syncs_make_one_message_and_only_once(core, reachable, dispatcher, slack):
    ana = await reachable("Ana", contacts=0)
    ids = await owe(core, ana, rows=2)
    await dispatcher.tick()
    [reply] = slack.to(ana)
    assert reply.text == f"⚠️ A Pipedrive sync needs you: {NOTICE}"
    assert all(await notified(core, ids))
    await dispatcher.tick()
    assert len(slack.to(ana)) == 1


async def test_two_schedulers_tell_it_once(core, reachable, slack, telegram):
    ana = await reachable("Ana", contacts=0)
    await owe(core, ana)
    first = Dispatcher(core, ChatCourier(core, {"slack": slack}), limits={})
    second = Dispatcher(core, ChatCourier(core, {"slack": slack}), limits={})
    await asyncio.gather(first.tick(), second.tick())
    assert len(slack.to(ana)) == 1


async def test_a_failed_send_hands_the_notice_back_for_the_next_tick(core, reachable, dispatcher, slack):
    ana = await reachable("Ana", contacts=0)
    ids = await owe(core, ana)
    slack.fail_next(ana.id, TemporaryDeliveryError("slack is down"))
    await dispatcher.tick()
    assert slack.to(ana) == [] and await notified(core, ids) == [None]
    await dispatcher.tick()
    assert len(slack.to(ana)) == 1


async def test_a_user_on_no_running_platform_is_told_once_they_link_one(core, make, dispatcher, telegram):
    ana = await make.user("Ana")
    ids = await owe(core, ana)
    await dispatcher.tick()
    assert await notified(core, ids) == [None]
    await core.execute(LinkChatIdentity(ana.email, "telegram", "tg-ana"))
    await dispatcher.tick()
    assert [r.text for r in telegram.to(ana)] == [f"⚠️ A Pipedrive sync needs you: {NOTICE}"]

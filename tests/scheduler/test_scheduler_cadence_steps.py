"""Cadence steps that fall due arrive as nudges with the step's message and the row's buttons, exactly once."""

import asyncio

from bot.notify import ChatCourier
from core.cadences.commands import StartCadence
from core.command import Actor, ContactRef
from core.outreach.commands import Snooze
from scheduler.dispatch import Dispatcher


async def start(core, user, contact, strategy="Warm intro"):
    return await core.execute(StartCadence(Actor(user.id), strategy, contact=ContactRef(id=contact.id)))


def steps(notifier, user):
    return [r for r in notifier.to(user) if r.text.startswith("⏭")]


async def test_a_step_falling_due_after_the_digest_is_nudged_once(core, reachable, dispatcher, slack, at, make):
    ana = await reachable("Ana", contacts=0)
    bob = await make.contact(ana, "Bob Stone")
    at("2026-11-24 08:30")
    await dispatcher.tick()  # the digest went out before the plan existed
    at("2026-11-24 10:00")
    await start(core, ana, bob)  # its first step is due at once
    await dispatcher.tick()
    [nudge] = steps(slack, ana)
    assert "step 1/3 of Warm intro" in nudge.sections[0].text and "Bob Stone" in nudge.sections[0].text
    assert nudge.sections[0].contact_id == bob.id and nudge.sections[0].buttons
    at("2026-11-24 10:30")
    await dispatcher.tick()
    assert len(steps(slack, ana)) == 1


async def test_the_morning_digest_leads_with_the_step_so_no_separate_nudge(
    core, reachable, dispatcher, slack, at, make
):
    ana = await reachable("Ana", contacts=0)
    bob = await make.contact(ana, "Bob Stone")
    at("2026-11-23 16:00")  # Monday: step 1 now, step 2 a few working days later
    await start(core, ana, bob)
    at("2026-11-24 08:30")
    await dispatcher.tick()
    [digest] = slack.digests(ana)
    assert "Bob Stone" in digest.sections[0].text and "Warm intro" in digest.sections[0].text
    assert steps(slack, ana) == []


async def test_no_step_nudge_outside_working_hours_then_it_comes(core, reachable, dispatcher, slack, at, make):
    ana = await reachable("Ana", contacts=0)
    bob = await make.contact(ana, "Bob Stone")
    at("2026-11-24 19:00")
    await start(core, ana, bob)
    await dispatcher.tick()
    assert steps(slack, ana) == []
    at("2026-11-25 08:00")  # before her digest time
    await dispatcher.tick()
    assert steps(slack, ana) == []
    at("2026-11-25 08:30")  # her digest leads with it
    await dispatcher.tick()
    assert "Warm intro" in slack.digests(ana)[0].sections[0].text and steps(slack, ana) == []


async def test_a_snoozed_contacts_step_waits(core, reachable, dispatcher, slack, at, make, clock):
    ana = await reachable("Ana", contacts=0)
    bob = await make.contact(ana, "Bob Stone")
    at("2026-11-24 10:00")
    await start(core, ana, bob)
    await core.execute(Snooze(Actor(ana.id), ContactRef(id=bob.id), clock.now().replace(hour=15)))
    await dispatcher.tick()
    assert steps(slack, ana) == []


async def test_two_schedulers_nudge_a_step_once(core, reachable, slack, at, make):
    ana = await reachable("Ana", contacts=0)
    bob = await make.contact(ana, "Bob Stone")
    at("2026-11-24 10:00")
    await start(core, ana, bob)
    first, second = (Dispatcher(core, ChatCourier(core, {"slack": slack}), limits={}) for _ in range(2))
    await asyncio.gather(first.tick(), second.tick())
    assert len(steps(slack, ana)) == 1

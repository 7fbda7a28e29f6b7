"""The morning list puts due cadence steps first, each with its reason and its message rendered ready to copy,
and the buttons to do the step or hold the plan; `due_steps` (ListDueSteps) gives the same steps for nudges."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot import codec
from bot.console import ConsoleChat
from core.cadences.commands import ListDueSteps, PauseCadence
from core.command import Actor, ContactRef
from core.feed.commands import TodaySuggestions
from core.outreach.commands import FlagWarm, SetFollowUp, Snooze

UTC = UTC


async def today(core, user):
    return (await core.execute(TodaySuggestions(Actor(user.id)))).items


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


@pytest.fixture
async def star(core, make, ana, clock):
    """A contact with everything the ranking likes, and a follow-up that fell due."""
    star = await make.contact(ana, "Star", warmness=5, past_business=Decimal("250000"))
    await core.execute(
        SetFollowUp(Actor(ana.id), ContactRef(id=star.id), clock.now() + timedelta(minutes=5), "send the deck")
    )
    return star


async def test_a_due_step_leads_the_list_with_its_message_rendered(core, ana, bob, star, clock, start):
    await start(ana, bob)
    clock.advance(minutes=10)
    first, second = await today(core, ana)
    assert (first.contact.name, second.contact.name) == ("Bob Stone", "Star")
    assert first.reason == "step 1/3 of Warm intro: LinkedIn due · never contacted"
    assert first.step.kind == "linkedin" and first.step.subject is None
    assert first.step.message == ("Hi Bob, I came across your work at Acme and would be glad to connect. Ana Silva")
    assert second.step is None and second.reason.startswith("follow-up due: send the deck")


async def test_the_next_step_comes_back_when_it_falls_due_and_then_says_how_late_it_is(
    core, ana, bob, clock, start, log
):
    await start(ana, bob)
    await log(ana, bob, "linkedin")  # Tuesday: the email falls due on Friday
    clock.set(datetime(2026, 11, 26, 9, tzinfo=UTC))
    assert [s.step for s in await today(core, ana)] == [None]
    clock.set(datetime(2026, 11, 27, 9, tzinfo=UTC))
    [row] = await today(core, ana)
    assert row.reason == "step 2/3 of Warm intro: email due · 3 days since last touch"
    assert row.step.subject == "Following up, Bob"
    assert "what is on your agenda at Acme this quarter" in row.step.message
    assert row.step.message.endswith("\n\nAna Silva")  # no signature set: the name
    clock.set(datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert (await today(core, ana))[0].reason.startswith("step 2/3 of Warm intro: email overdue by 3 days")


async def test_a_paused_plan_and_a_snoozed_contact_show_no_step(core, make, ana, bob, clock, start):
    carol = await make.contact(ana, "Carol")
    await start(ana, bob)
    await start(ana, carol)
    await core.execute(PauseCadence(Actor(ana.id), ContactRef(id=bob.id)))
    await core.execute(Snooze(Actor(ana.id), ContactRef(id=carol.id), clock.now() + timedelta(days=2)))
    assert [(s.contact.name, s.step) for s in await today(core, ana)] == [("Bob Stone", None)]
    assert (await core.execute(ListDueSteps(Actor(ana.id)))).items == ()


async def test_a_due_step_shows_despite_a_later_reminder(core, ana, bob, clock, start):
    await core.execute(SetFollowUp(Actor(ana.id), ContactRef(id=bob.id), clock.now() + timedelta(days=10)))
    assert await today(core, ana) == ()
    await start(ana, bob)
    assert [s.contact.name for s in await today(core, ana) if s.step] == ["Bob Stone"]


async def test_due_steps_are_the_query_for_nudges(core, make, ana, bob, clock, start, log):
    carol = await make.contact(ana, "Carol", organisation="Northwind")
    await start(ana, carol, "Cold email sequence")
    clock.advance(hours=1)
    await start(ana, bob)
    zoe = await make.user("Zoe")
    await start(zoe, await make.contact(zoe, "Theirs"))  # someone else's step is not Ana's
    steps = (await core.execute(ListDueSteps(Actor(ana.id)))).items
    assert [(s.contact.name, s.strategy, s.position, s.kind, s.subject) for s in steps] == [
        ("Carol", "Cold email sequence", 1, "email", "An idea for Northwind"),  # the longest waiting first
        ("Bob Stone", "Warm intro", 1, "linkedin", None),
    ]
    first_due = steps[1].due_at
    await log(ana, bob, "linkedin")
    clock.set(datetime(2026, 11, 27, 9, tzinfo=UTC))
    [_, later] = (await core.execute(ListDueSteps(Actor(ana.id)))).items
    # The next step falling due is a new nudge: step nudges are keyed by plan and due moment.
    assert later.position == 2 and later.plan_id == steps[1].plan_id and later.due_at != first_due


async def test_the_morning_digest_shows_the_step_and_its_buttons_and_pause_takes_it_off(
    core, ana, bob, star, clock, start
):
    await start(ana, bob)
    await core.execute(FlagWarm(Actor(ana.id), ContactRef(id=bob.id)))
    clock.advance(minutes=10)
    chat = ConsoleChat(core, ana)
    out = chat.display(await chat.conversation.digest(ana))
    assert out.index("1. Bob Stone (Acme)") < out.index("2. Star")
    assert (
        "1. Bob Stone (Acme)\n   step 1/3 of Warm intro: LinkedIn due · never contacted · warm\n"
        "   Hi Bob, I came across your work at Acme and would be glad to connect. Ana Silva\n"
        "   [1a] LinkedIn ✓  [1b] Email ✓  [1c] Call ✓  [1d] ⏸ Pause cadence  [1e] ⏹ Stop cadence  "
        "[1f] ⋯ more"
    ) in out
    assert "There is no row 5 in the last list" in await chat.send("5")  # a number is a row, never a button
    assert "Stop Bob Stone's cadence “Warm intro”?" in await chat.send("1e")  # and stopping asks first
    assert "⏸ “Warm intro” paused for Bob Stone at step 1/3." in await chat.send("1d")
    out = await chat.send("today")
    assert "1. Star" in out and "2. Bob Stone (Acme)\n   never contacted · warm\n" in out


async def test_an_email_step_shows_its_subject_ready_to_copy(core, ana, bob, start):
    await start(ana, bob, "Cold email sequence")
    out = await ConsoleChat(core, ana).send("today")
    assert "✉️ Subject: An idea for Acme\n   Hi Bob,\n   \n   I work with teams like yours" in out
    assert "[1a] Email ✓  [1b] LinkedIn ✓  [1c] Call ✓  [1d] ⏸ Pause cadence" in out


async def test_doing_the_step_from_its_button_advances_the_plan(core, ana, bob, start, plan_of):
    await start(ana, bob)
    chat = ConsoleChat(core, ana)
    await chat.send("cadence due")
    assert "LinkedIn logged for Bob Stone" in await chat.send("1a")
    assert (await plan_of(bob)).current_step == 2


def test_plan_buttons_fit_the_64_byte_limit():
    for verb in ("cpause", "cresume", "crestart", "cstop"):
        data = codec.encode(verb, 999_999_999_999)
        assert len(data.encode()) <= codec.MAX_BYTES
        assert codec.decode(data) == codec.ButtonData(verb, 999_999_999_999)

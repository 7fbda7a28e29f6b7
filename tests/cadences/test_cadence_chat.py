"""Cadences in the chat: the `cadence` grammar, a guided creation in the console, the plan's buttons on a
contact, outcomes typed after `log`, and the signature setting."""

from datetime import UTC, datetime

import pytest

from bot.console import ConsoleChat
from bot.grammar import GrammarError, parse
from core.cadences.commands import (
    AddStrategyStep,
    CreateStrategy,
    EditStrategyStep,
    GetCadenceStats,
    ListDueSteps,
    ListStrategies,
    PauseCadence,
    RemoveStrategyStep,
    RestartCadence,
    ResumeCadence,
    ShowStrategy,
    StartCadence,
    StopCadence,
)
from core.command import Actor, CampaignRef, ContactRef
from core.outreach.commands import LogOutreach
from core.users.commands import UpdateSettings

ME = Actor(7, "console")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def p(text):
    return parse(text, ME, NOW)


def contact(text):
    return ContactRef(text=text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cadence", ListStrategies(ME)),
        ("cadences list", ListStrategies(ME)),
        ("cadence show warm intro", ShowStrategy(ME, "warm intro")),
        ("cadence new Post demo", CreateStrategy(ME, "Post demo")),
        ("cadence new Post demo | after a demo", CreateStrategy(ME, "Post demo", "after a demo")),
        (
            "cadence step Post demo 2 email Thanks, {{contact.first_name}} | Hi {{contact.first_name}},\\nSee you",
            AddStrategyStep(
                ME, "Post demo", 2, "email", "Thanks, {{contact.first_name}}", "Hi {{contact.first_name}},\\nSee you"
            ),
        ),
        (
            "cadence step Post demo 3d call Ask about Q1",
            AddStrategyStep(ME, "Post demo", 3, "call", None, "Ask about Q1"),
        ),
        ("cadence step Post demo 0 li", AddStrategyStep(ME, "Post demo", 0, "linkedin")),
        ('cadence step "Top 5 call list" 1 call', AddStrategyStep(ME, "Top 5 call list", 1, "call")),
        (
            "cadence edit-step Post demo 2 4 referral Ask {{user.name}}",
            EditStrategyStep(ME, "Post demo", 2, 4, "referral", None, "Ask {{user.name}}"),
        ),
        ("cadence drop-step Post demo 2", RemoveStrategyStep(ME, "Post demo", 2)),
        ("cadence start Warm intro 3", StartCadence(ME, "Warm intro", contact=contact("3"))),
        ("cadence start warm ana", StartCadence(ME, "warm", contact=contact("ana"))),
        ("cadence start Warm intro ana@acme.com", StartCadence(ME, "Warm intro", contact=contact("ana@acme.com"))),
        ('cadence start "Warm intro" Ana Silva', StartCadence(ME, "Warm intro", contact=contact("Ana Silva"))),
        ("cadence start Warm intro for Ana Silva", StartCadence(ME, "Warm intro", contact=contact("Ana Silva"))),
        (
            "cadence start Warm intro campaign Fintech Q1",
            StartCadence(ME, "Warm intro", campaign=CampaignRef(name="Fintech Q1")),
        ),
        ("cadence start warm intro ana silva", StartCadence(ME, name_and_contact="warm intro ana silva")),
        ("cadence pause 3", PauseCadence(ME, contact("3"))),
        ("cadence resume Ana Silva", ResumeCadence(ME, contact("Ana Silva"))),
        ("cadence restart 3", RestartCadence(ME, contact("3"))),
        ("cadence stop ana@acme.com", StopCadence(ME, contact("ana@acme.com"))),
        ("cadence due", ListDueSteps(ME)),
        ("cadence stats", GetCadenceStats(ME)),
        (
            "log 3 call no answer, try again",
            LogOutreach(ME, contact("3"), "call", "no answer, try again", outcome="no_answer"),
        ),
        ("log 3 call voicemail", LogOutreach(ME, contact("3"), "call", "voicemail", outcome="no_answer")),
        (
            "log 3 email Replied: keen, call next week",
            LogOutreach(ME, contact("3"), "email", "Replied: keen, call next week", outcome="replied"),
        ),
        (
            "log 3 call not interested",
            LogOutreach(ME, contact("3"), "call", "not interested", outcome="not_interested"),
        ),
        (
            "log 3 email sent the deck, no answer yet",
            LogOutreach(ME, contact("3"), "email", "sent the deck, no answer yet"),
        ),
        ("settings signature Ana Silva\\nPartner", UpdateSettings(ME, signature="Ana Silva\\nPartner")),
        ("settings signature none", UpdateSettings(ME, signature="")),
    ],
)
def test_cadence_grammar(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("cadence dance", "I don't know “dance” after `cadence`. Say one of: `list`, `show`"),
        ("cadence show", "Which cadence?\nUsage: cadence show NAME"),
        ("cadence new", "What's the new cadence called?"),
        ("cadence step Post demo email hi", "I need the cadence's name, the delay in days and the kind"),
        ("cadence edit-step Post demo 2 email hi", "the step number, the delay in days and the kind"),
        ("cadence drop-step Post demo", "Which cadence, and which step number?"),
        ("cadence start", "Which cadence, and for whom?"),
        ("cadence pause", "Which contact?\nUsage: cadence pause|resume|restart|stop CONTACT"),
        ("cadence stats by user", "`cadence stats` takes nothing after it."),
    ],
)
def test_cadence_grammar_errors(text, problem):
    with pytest.raises(GrammarError) as error:
        p(text)
    assert problem in str(error.value)


@pytest.fixture
async def chat(core, ana):
    return ConsoleChat(core, ana)


async def test_a_cadence_is_created_step_by_step_in_the_chat_and_started(chat, make, ana, plan_of):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    out = await chat.send("cadence new Post demo | after a demo")
    assert "Cadence “Post demo” created. It has no steps yet." in out and "Add a step: cadence step" in out
    out = await chat.send(
        "cadence step Post demo 0 email Thanks, {{contact.first_name}} | "
        "Hi {{contact.first_name}},\\nGreat to see you.\\n{{user.signature}}"
    )
    assert "Step 1 added to “Post demo”." in out
    assert "1. Email, at the start\n   Subject: Thanks, {{contact.first_name}}\n   Hi {{contact.first_name}}," in out
    refused = await chat.send("cadence step Post demo 2 call {{ contact.__class__ }}")
    assert refused.startswith("The message names an unknown placeholder {{contact.__class__}}.")
    assert "Step 2 added" in await chat.send("cadence step Post demo 2 call Ask about the pilot")
    await chat.send("settings signature Ana Silva\\nAcme Consulting")
    assert "▶ “Post demo” started for Bob Stone: step 1/2 (email) due now." in await chat.send(
        "cadence start post demo bob stone"
    )
    out = await chat.send("cadence due")
    assert (
        "step 1/2 of Post demo: email due\n   ✉️ Subject: Thanks, Bob\n   Hi Bob,\n   Great to see you.\n"
        "   Ana Silva\n   Acme Consulting"
    ) in out
    assert "Email logged for Bob Stone" in await chat.send("log 1 email")
    assert (await plan_of(bob)).current_step == 2


async def test_an_unknown_cadence_or_an_unsplittable_start_is_explained(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    assert "There is no cadence “nope”" in await chat.send("cadence start nope bob")
    assert "No cadence's name starts “no such thing bob”" in await chat.send("cadence start no such thing bob")


async def test_the_contact_shows_its_cadence_and_the_buttons_for_its_state(chat, make, ana, start):
    bob = await make.contact(ana, "Bob Stone")
    await start(ana, bob)
    out = await chat.send("show bob")
    assert "Cadence: Warm intro, step 1/3 (linkedin) due Tue 24 Nov" in out
    assert "[4] ⏸ Pause cadence  [5] ⏹ Stop cadence  [6] ↺ Restart cadence" in out
    assert "⏸ “Warm intro” paused" in await chat.send("4")
    out = await chat.send("show bob")
    assert "Cadence: Warm intro, paused at step 1/3" in out and "[4] ▶ Resume cadence" in out
    assert "▶ “Warm intro” resumed for Bob Stone" in await chat.send("4")
    await chat.send("show bob")
    assert "Stop Bob Stone's cadence Warm intro (at step 1/3)?" in await chat.send("5")  # a stop asks first
    assert "⏹ “Warm intro” stopped for Bob Stone at step 1/3." in await chat.send("1")
    out = await chat.send("show bob")
    assert "Cadence: Warm intro, aborted (stopped)" in out and "[4] ↺ Restart cadence" in out
    assert "↺ “Warm intro” restarted for Bob Stone" in await chat.send("4")


async def test_the_more_menu_carries_the_plan_controls(chat, make, ana, start):
    bob = await make.contact(ana, "Bob Stone")
    await start(ana, bob)
    await chat.send("find bob")
    out = await chat.send("4")  # ⋯ more
    assert "⏸ Pause cadence" in out and "⏹ Stop cadence" in out and "↺ Restart cadence" in out


async def test_a_forged_plan_button_on_someone_elses_contact_is_refused(core, make, ana, start):
    zoe = await make.user("Zoe")
    theirs = await make.contact(zoe, "Theirs")
    await start(zoe, theirs)
    reply = await ConsoleChat(core, ana).conversation.handle_button(ana, f"cstop:{theirs.id}")
    assert "That contact is not in your bank." in reply.text


async def test_a_double_tap_on_pause_acts_once(core, make, ana, start):
    bob = await make.contact(ana, "Bob Stone")
    await start(ana, bob)
    conversation = ConsoleChat(core, ana).conversation
    first = await conversation.handle_button(ana, f"cpause:{bob.id}", idempotency_key="msg-1:cpause")
    again = await conversation.handle_button(ana, f"cpause:{bob.id}", idempotency_key="msg-1:cpause")
    assert "paused" in first.text and again.text == "Already done: that was recorded once."


async def test_a_no_answer_typed_in_the_chat_reschedules_the_call(chat, make, ana, clock, start, log, plan_of):
    bob = await make.contact(ana, "Bob Stone")
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    await log(ana, bob, "email")
    assert "Call logged for Bob Stone" in await chat.send("log bob call no answer, voicemail left")
    plan = await plan_of(bob)
    assert (plan.current_step, plan.step_due_at) == (3, datetime(2026, 11, 26, tzinfo=UTC))


async def test_cadence_stats_in_the_chat(chat, make, ana, start, log):
    bob = await make.contact(ana, "Bob Stone")
    await start(ana, bob)
    await log(ana, bob, "linkedin", "replied")
    out = await chat.send("cadence stats")
    assert "Strategy             Started  Replies  Requested  Booked  Active  Paused  Done" in out
    assert "Warm intro                 1        1          0       0       0       0     1" in out


GARBAGE = [
    "cadence step " + "x " * 5000,
    "cadence start " + '"' * 1000,
    "cadence new |||",
    "cadence new " + "n" * 500,
    "cadence drop-step Warm intro 99999999999999999999",
    "cadence edit-step Warm intro 0 1 email hi",
    "cadence step Warm intro 999 email hi",
    "cadence start Warm intro 🔥",
    "cadence show \x00",
    "cadence step x 1 email {{",
    "cadence pause " + "ana " * 3000,
    "cadence start warm campaign",
    "cadence start x for",
    "settings signature " + "s" * 2000,
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
async def test_any_cadence_input_gets_a_friendly_answer(chat, text):
    out = await chat.send(text)
    assert out and "Something went wrong" not in out and "Traceback" not in out and len(out) < 2000

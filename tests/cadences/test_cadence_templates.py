"""Strategies and their templates: the built-in ones, creating and editing one's own, rendering for a contact,
and templates refused when saved (an unknown placeholder, attempted code) with nothing written."""

import pytest
from sqlalchemy import func, select

from core.cadences.commands import (
    AddStrategyStep,
    CreateStrategy,
    EditStrategyStep,
    ListDueSteps,
    ListStrategies,
    RemoveStrategyStep,
    ShowStrategy,
)
from core.cadences.templates import MESSAGE_MAX, SUBJECT_MAX, clean_template, render
from core.command import Actor
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import StrategyStep
from core.users.commands import UpdateSettings


async def step_rows(core) -> int:
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(StrategyStep))).scalar_one()


@pytest.fixture
async def mine(core, ana):
    """Ana's own strategy, “Follow up”, with no steps yet."""
    await core.execute(CreateStrategy(Actor(ana.id), "Follow up", "after a first chat"))
    return "Follow up"


async def test_three_built_in_strategies_ship_with_valid_templates(core, ana):
    listed = (await core.execute(ListStrategies(Actor(ana.id)))).strategies
    assert [(s.name, s.built_in, [st.kind for st in s.steps]) for s in listed] == [
        ("Cold email sequence", True, ["email", "email", "call", "email"]),
        ("Event follow-up", True, ["email", "linkedin", "call"]),
        ("Warm intro", True, ["linkedin", "email", "call"]),
    ]
    for strategy in listed:
        for step in strategy.steps:
            assert (
                clean_template(step.subject_template, field="subject", max_length=SUBJECT_MAX) == step.subject_template
            )
            assert (
                clean_template(step.message_template, field="message", max_length=MESSAGE_MAX) == step.message_template
            )


async def test_a_new_strategy_gets_steps_in_order_and_shows_them(core, ana, mine):
    await core.execute(
        AddStrategyStep(
            Actor(ana.id),
            mine,
            0,
            "email",
            "Hello {{contact.first_name}}",
            "Hi {{contact.first_name}},\\n\\nGreat to talk.\\n{{user.signature}}",
        )
    )
    result = await core.execute(AddStrategyStep(Actor(ana.id), "follow u", 2, "call", None, "Ask about Q1"))
    assert result.message == "Step 2 added to “Follow up”."
    shown = await core.execute(ShowStrategy(Actor(ana.id), "FOLLOW UP"))
    assert (shown.name, shown.description, shown.built_in, shown.created_by) == (
        "Follow up",
        "after a first chat",
        False,
        "Ana Silva",
    )
    assert [(s.position, s.delay_days, s.kind, s.subject_template, s.message_template) for s in shown.steps] == [
        (
            1,
            0,
            "email",
            "Hello {{contact.first_name}}",
            "Hi {{contact.first_name}},\n\nGreat to talk.\n{{user.signature}}",
        ),
        (2, 2, "call", None, "Ask about Q1"),
    ]


async def test_a_name_is_taken_whatever_its_case(core, ana, mine):
    with pytest.raises(Conflict, match="A cadence called “Follow up” already exists"):
        await core.execute(CreateStrategy(Actor(ana.id), "FOLLOW UP"))
    with pytest.raises(Conflict, match="“Warm intro” already exists"):
        await core.execute(CreateStrategy(Actor(ana.id), "warm intro"))


@pytest.mark.parametrize(
    "message, refusal",
    [
        (
            "Hi {{ contact.phone }}",
            "names an unknown placeholder {{contact.phone}}. Use: {{contact.first_name}}, "
            "{{contact.name}}, {{company.name}}, {{user.name}}, {{user.signature}}.",
        ),
        ("Hi {{first_name}}", "unknown placeholder {{first_name}}"),
        ("{{ ''.__class__ }}", "code between {{ and }} is not allowed"),
        ("{{ contact.__dict__ }}", "unknown placeholder {{contact.__dict__}}"),
        ("{{ contact.name.__class__.__mro__ }}", "unknown placeholder {{contact.name.__class__.__mro__}}"),
        ("{% for i in range(100000000) %}spam{% endfor %}", "`{% for %}` blocks are not allowed"),
        ("{% set x = contact %}{{ x.name }}", "`{% assign %}` blocks are not allowed"),
        ("{{ contact.name() }}", "code between {{ and }} is not allowed"),
        ("{{ cycler.__init__.__globals__ }}", "unknown placeholder {{cycler.__init__.__globals__}}"),
        ("{{ contact['name'] }}", "code between {{ and }} is not allowed"),
        ("{{ contact.name | attr('__class__') }}", "the filter `attr`, which is not allowed"),
        (
            "{{ contact.name | default(contact.__class__) }}",
            "gives a filter something other than plain text or numbers",
        ),
        ("{{ 7 * 7 }}", "code between {{ and }} is not allowed"),
        ("Hi {{contact.first_name}", "doesn't read as a template: unexpected '}' (line 1)"),
        ("{{" + "(" * 2400 + "contact.name" + ")" * 2400 + "}}", "nests too deeply to be a template"),
        ("{{" * 2000, "nests too deeply to be a template"),
    ],
)
async def test_a_template_is_refused_when_saved_and_nothing_is_written(core, ana, mine, message, refusal):
    before = await step_rows(core)
    with pytest.raises(InvalidInput) as refused:
        await core.execute(AddStrategyStep(Actor(ana.id), mine, 1, "email", "Hello", message))
    assert refusal in str(refused.value)
    assert str(refused.value).startswith("The message ")
    assert await step_rows(core) == before


async def test_the_subject_is_checked_too(core, ana, mine):
    with pytest.raises(InvalidInput, match="The subject names an unknown placeholder {{company.revenue}}"):
        await core.execute(AddStrategyStep(Actor(ana.id), mine, 1, "email", "{{company.revenue}}", "Hi"))


def test_rendering_fills_the_placeholders_and_filters():
    text = (
        "Hi {{contact.first_name}} ({{ contact.name | upper }}) at "
        "{{ company.name | default('your team', true) }}. {{user.name}}\n{{user.signature}}"
    )
    assert (
        render(
            text,
            contact_name="Bob Stone",
            organisation="Acme",
            user_name="Ana Silva",
            signature="Ana — Acme Consulting",
        )
        == "Hi Bob (BOB STONE) at Acme. Ana Silva\nAna — Acme Consulting"
    )
    # No organisation: the default; no signature: the user's name.
    assert (
        render(text, contact_name="Bob Stone", organisation=None, user_name="Ana Silva", signature=None)
        == "Hi Bob (BOB STONE) at your team. Ana Silva\nAna Silva"
    )


def test_a_value_that_looks_like_a_template_is_shown_as_it_is():
    assert (
        render(
            "Hi {{contact.name}}", contact_name="{{ ''.__class__ }}", organisation=None, user_name="Ana", signature=None
        )
        == "Hi {{ ''.__class__ }}"
    )


async def test_the_users_signature_is_rendered_in_due_steps(core, make, ana, start):
    await core.execute(UpdateSettings(Actor(ana.id), signature="Ana Silva\\nPartner, Acme Consulting"))
    bob = await make.contact(ana, "Bob Stone", organisation="Northwind")
    await start(ana, bob, "Cold email sequence")
    [step] = (await core.execute(ListDueSteps(Actor(ana.id)))).items
    assert step.subject == "An idea for Northwind"
    assert step.message.startswith("Hi Bob,\n\n")
    assert step.message.endswith("\n\nAna Silva\nPartner, Acme Consulting")


async def test_built_in_strategies_cannot_be_changed(core, ana):
    with pytest.raises(NotAllowed, match="“Warm intro” is built in and can't be changed"):
        await core.execute(AddStrategyStep(Actor(ana.id), "Warm intro", 1, "call"))


async def test_only_the_creator_or_the_golden_ticket_team_change_a_strategy(core, make, ana, mine):
    zoe = await make.user("Zoe")
    gt = await make.user("Goldie", role="golden_ticket")
    with pytest.raises(NotAllowed, match="Only the creator of “Follow up”"):
        await core.execute(AddStrategyStep(Actor(zoe.id), mine, 1, "call"))
    await core.execute(AddStrategyStep(Actor(gt.id), mine, 1, "call"))
    assert len((await core.execute(ShowStrategy(Actor(zoe.id), mine))).steps) == 1


async def test_edit_replaces_a_step_and_remove_renumbers_the_rest(core, ana, mine):
    for kind in ("linkedin", "email", "call"):
        await core.execute(AddStrategyStep(Actor(ana.id), mine, 1, kind, None, f"{kind} text"))
    await core.execute(EditStrategyStep(Actor(ana.id), mine, 2, 4, "referral", None, "Ask {{user.name}}"))
    await core.execute(RemoveStrategyStep(Actor(ana.id), mine, 1))
    steps = (await core.execute(ShowStrategy(Actor(ana.id), mine))).steps
    assert [(s.position, s.delay_days, s.kind, s.message_template) for s in steps] == [
        (1, 4, "referral", "Ask {{user.name}}"),
        (2, 1, "call", "call text"),
    ]


async def test_a_step_cannot_be_removed_while_contacts_follow_the_strategy(core, make, ana, mine, start):
    await core.execute(AddStrategyStep(Actor(ana.id), mine, 0, "email"))
    await start(ana, await make.contact(ana, "Bob"), mine)
    with pytest.raises(Conflict, match="1 contact follows “Follow up”"):
        await core.execute(RemoveStrategyStep(Actor(ana.id), mine, 1))


@pytest.mark.parametrize(
    "delay, kind, message",
    [
        (-1, "email", "A step's delay is 0 to 365 days."),
        (400, "email", "A step's delay is 0 to 365 days."),
        (1, "pigeon", "“pigeon” is not an outreach method"),
    ],
)
async def test_a_bad_delay_or_kind_is_refused(core, ana, mine, delay, kind, message):
    with pytest.raises(InvalidInput, match=message):
        await core.execute(AddStrategyStep(Actor(ana.id), mine, delay, kind))


async def test_an_unknown_step_is_not_found(core, ana, mine):
    with pytest.raises(NotFound, match="“Follow up” has no step 3; it has 0."):
        await core.execute(EditStrategyStep(Actor(ana.id), mine, 3, 1, "email"))


async def test_a_name_fragment_that_matches_several_strategies_is_ambiguous(core, ana):
    await core.execute(CreateStrategy(Actor(ana.id), "Warm follow-up"))
    ambiguous = "“warm” matches several cadences: “Warm follow-up”, “Warm intro”"
    with pytest.raises(InvalidInput, match=ambiguous):
        await core.execute(ShowStrategy(Actor(ana.id), "warm"))

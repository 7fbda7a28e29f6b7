"""Erasure: the person leaves every table, the numbers of past activity stay, and only those allowed may do it."""

import pytest
from sqlalchemy import select

from bot.console import ConsoleChat
from bot.conversation import Conversation
from core.command import Actor, ContactRef
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Activity, ChatContext, Contact, Erasure
from core.privacy.commands import EraseContact, PreviewErasure


async def rows(core, model, *where):
    async with core.sessions() as s:
        return (await s.execute(select(model).where(*where))).scalars().all()


async def test_erasing_by_email_leaves_her_in_no_table_of_the_database(core, world, scan):
    before = scan()
    # She is really there to begin with: in contacts, notes, follow-ups, the outbox and its payloads.
    assert {table for table, _, _ in before} >= {"contacts", "activities", "follow_ups", "outbox"}

    result = await core.execute(
        EraseContact(Actor(world.gita.id), ContactRef(text="ZOE.QUARTERMAINE@orbit.example"), every_bank=True)
    )

    assert scan() == {}
    assert set(result.contact_ids) == {world.zoe_ana.id, world.zoe_ben.id}
    assert await rows(core, Contact, Contact.id.in_(result.contact_ids)) == []


async def test_erasure_keeps_every_stats_total(core, world, stats_totals):
    before = await stats_totals(world.gita)
    assert before[0][1].outreach == 3 and before[0][1].meetings_booked == 1  # not a vacuous comparison
    await core.execute(EraseContact(Actor(world.gita.id), ContactRef(text=world.zoe_ana.email), every_bank=True))
    assert await stats_totals(world.gita) == before


async def test_her_activities_stay_anonymous_and_the_bystander_is_untouched(core, world):
    bob_before = await rows(core, Activity, Activity.contact_id == world.bob.id)
    await core.execute(EraseContact(Actor(world.gita.id), ContactRef(id=world.zoe_ana.id), every_bank=True))
    anonymous = await rows(core, Activity, Activity.contact_id.is_(None))
    # Ana's email, note and meeting booked: kind, outcome, campaign, user and time kept, the words gone.
    assert sorted((a.kind, a.outcome, a.user_id) for a in anonymous) == [
        ("email", "none", world.ana.id),
        ("meeting", "meeting_booked", world.ana.id),
        ("note", "none", world.ana.id),
    ]
    assert {a.campaign_id for a in anonymous if a.kind != "note"} == {world.fintech.id}
    assert all(a.note is None and a.subject is None for a in anonymous)
    assert [(a.id, a.note) for a in await rows(core, Activity, Activity.contact_id == world.bob.id)] == [
        (a.id, a.note) for a in bob_before
    ]
    # Erasing by id takes only that row: Ben's Zoe stays in Ben's bank.
    assert [k.id for k in await rows(core, Contact, Contact.name == "Zoe Quartermaine")] == [world.zoe_ben.id]


async def test_the_erasure_is_recorded_with_ids_only_and_points_to_pipedrive(core, world):
    result = await core.execute(
        EraseContact(Actor(world.gita.id, "cli"), ContactRef(text=world.zoe_ana.email), every_bank=True)
    )
    [erasure] = await rows(core, Erasure)
    assert (erasure.erased_by, erasure.platform, sorted(erasure.contact_ids), sorted(erasure.pipedrive_person_ids)) == (
        world.gita.id,
        "cli",
        sorted([world.zoe_ana.id, world.zoe_ben.id]),
        [9001, 9002],
    )
    assert erasure.erased_at == core.clock.now()
    assert result.pipedrive_person_ids == (9001, 9002)
    assert "delete person 9001, 9002 in Pipedrive" in result.message
    assert "Quartermaine" not in result.message  # the reply names ids, not the person


async def test_a_contact_never_pushed_to_pipedrive_says_so(core, world):
    result = await core.execute(EraseContact(Actor(world.ana.id), ContactRef(id=world.bob.id)))
    assert "No Pipedrive person id was recorded" in result.message
    assert result.pipedrive_person_ids == ()


async def test_a_remembered_list_keeps_its_rows_but_the_erased_one_no_longer_resolves(core, world):
    chat = ConsoleChat(core, world.ana)
    await core.execute(EraseContact(Actor(world.gita.id), ContactRef(id=world.zoe_ana.id), every_bank=True))
    [context] = await rows(core, ChatContext, ChatContext.user_id == world.ana.id)
    assert context.last_contact_ids == [0]
    assert "That contact is not in your bank" in await chat.send("log 1 email")


async def test_a_consultant_forgets_their_own_contact_in_the_chat_after_confirming(core, world):
    chat = ConsoleChat(core, world.ana)
    preview = await chat.send("forget Zoë")
    assert "Erase Zoë Quartermaine (Orbit Logistics) from Pipedriven for good?" in preview
    assert "Pipedrive's copy (person 9001) must be erased there" in preview
    assert "[a] 🗑 Erase for good" in preview
    assert await rows(core, Contact, Contact.id == world.zoe_ana.id)  # asking erased nothing
    done = await chat.send("a")
    assert f"Erased contact {world.zoe_ana.id}" in done and "delete person 9001 in Pipedrive" in done
    assert await rows(core, Contact, Contact.id == world.zoe_ana.id) == []
    assert await rows(core, Contact, Contact.id == world.zoe_ben.id)  # Ben's bank is his own
    assert "That contact is not in your bank" in await chat.send("a")  # a second tap finds nothing to do


async def test_a_double_delivered_tap_erases_once(core, world):
    conversation = Conversation(core, "telegram")
    data = f"forget:{world.zoe_ana.id}"
    first = await conversation.handle_button(world.ana, data, idempotency_key="msg-7:forget")
    again = await conversation.handle_button(world.ana, data, idempotency_key="msg-7:forget")
    assert "Erased contact" in first.text and "Already done" in again.text
    assert len(await rows(core, Erasure)) == 1


async def test_a_consultant_cannot_forget_someone_elses_contact(core, world):
    reply = await Conversation(core, "slack").handle_button(world.ana, f"forget:{world.zoe_ben.id}")
    assert "That contact is not in your bank." in reply.text
    out = await ConsoleChat(core, world.ana).send("forget ZOE.Quartermaine@Orbit.example")
    assert world.zoe_ana.name in out  # her own Zoë, not Ben's
    assert await rows(core, Contact, Contact.id == world.zoe_ben.id) and await rows(core, Erasure) == []


@pytest.mark.parametrize("command", [EraseContact, PreviewErasure])
async def test_only_a_golden_ticket_user_may_act_across_banks(core, world, command):
    with pytest.raises(NotAllowed, match="Golden Ticket"):
        await core.execute(command(Actor(world.ana.id), ContactRef(text=world.zoe_ana.email), every_bank=True))
    assert len(await rows(core, Contact, Contact.id.in_([world.zoe_ana.id, world.zoe_ben.id]))) == 2


async def test_a_golden_ticket_user_in_the_chat_acts_on_their_own_bank_only(core, world):
    out = await ConsoleChat(core, world.gita).send(f"forget {world.zoe_ana.email}")
    assert "No contact in your bank matches" in out


@pytest.mark.parametrize(
    "ref, error",
    [
        (ContactRef(text="Zoë Quartermaine"), InvalidInput),  # across banks a name is too vague
        (ContactRef(text="nobody@orbit.example"), NotFound),
        (ContactRef(id=987654), NotFound),
    ],
)
async def test_naming_the_person_badly_erases_nothing(core, world, ref, error):
    with pytest.raises(error):
        await core.execute(EraseContact(Actor(world.gita.id), ref, every_bank=True))
    assert await rows(core, Erasure) == []


# --- the CLI ------------------------------------------------------------------------------------------------


async def test_cli_erase_shows_what_goes_and_waits_for_a_typed_confirmation(core, world, cli, scan, zoe):
    refused = cli("contacts", "erase", zoe["email"], "--by", "gita@example.com", stdin="y\n")
    assert refused.returncode == 1 and "nothing erased" in refused.stderr
    assert (
        f"contact {world.zoe_ana.id}: Zoë Quartermaine (Orbit Logistics) in Ana Silva's bank (Pipedrive person 9001)"
        in refused.stdout
    )
    assert f"contact {world.zoe_ben.id}: Zoe Quartermaine in Ben Okafor's bank" in refused.stdout
    assert await rows(core, Erasure) == []

    done = cli("contacts", "erase", zoe["email"], "--by", "gita@example.com", stdin="erase\n")
    assert done.returncode == 0, done.stderr
    assert "delete person 9001, 9002 in Pipedrive" in done.stdout
    assert scan() == {}


async def test_cli_erase_is_refused_to_a_consultant(core, world, cli, zoe):
    out = cli("contacts", "erase", zoe["email"], "--by", "ana@example.com", "--yes")
    assert out.returncode == 1 and "Only the Golden Ticket team can export or erase" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert len(await rows(core, Contact, Contact.id.in_([world.zoe_ana.id, world.zoe_ben.id]))) == 2

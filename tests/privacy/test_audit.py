"""The audit trail: every command that changes data, from every adapter, with who, where, what and which ids."""

import psycopg
import pytest
from sqlalchemy import select

from bot.console import ConsoleChat
from bot.conversation import Conversation
from core import db
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import NotFound, UnknownUser
from core.models import Activity, AuditEntry, Contact
from core.outreach.commands import LogOutreach
from core.privacy.commands import EraseContact, ListAudit
from core.users.commands import LinkChatIdentity, UpdateSettings


async def trail(core) -> list[AuditEntry]:
    async with core.sessions() as s:
        return list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def trail_ids(core) -> list[int]:
    return [entry.id for entry in await trail(core)]


def summary(entry: AuditEntry) -> tuple:
    return (
        entry.user_id,
        entry.platform,
        entry.command,
        entry.contact_ids,
        entry.activity_ids,
        entry.campaign_ids,
        entry.user_ids,
    )


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


async def test_the_console_records_who_did_what_to_which_ids(core, ana):
    chat = ConsoleChat(core, ana)
    before = len(await trail(core))
    assert "Added Bob Stone" in await chat.send("add Bob Stone, bob@acme.com, Acme, +44 20 7946 0958")
    assert "Email logged" in await chat.send("log bob email sent the secret deck")
    async with core.sessions() as s:
        bob = (await s.execute(select(Contact))).scalar_one()
        activity = (await s.execute(select(Activity))).scalar_one()
    added, logged = (await trail(core))[before:]
    assert summary(added) == (ana.id, "console", "AddContact", [bob.id], [], [], [])
    assert summary(logged) == (ana.id, "console", "LogOutreach", [bob.id], [activity.id], [], [])
    assert logged.occurred_at == core.clock.now()


@pytest.mark.parametrize("platform", ["slack", "telegram"])
async def test_each_chat_platform_is_recorded_under_its_name(core, make, ana, platform):
    bob = await make.contact(ana, "Bob Stone")
    conversation = Conversation(core, platform)
    assert "flagged warm" in (await conversation.handle_text(ana, "warm bob")).text
    assert "remind you" in (await conversation.handle_text(ana, "remind bob 3d call about the budget")).text
    warm, remind = (await trail(core))[-2:]
    assert summary(warm) == (ana.id, platform, "FlagWarm", [bob.id], [], [], [])
    assert summary(remind) == (ana.id, platform, "SetFollowUp", [bob.id], [], [], [])


async def test_reading_is_not_recorded(core, make, ana):
    await make.contact(ana, "Bob Stone")
    before = await trail_ids(core)
    chat = ConsoleChat(core, ana)
    for line in ("today", "find bob", "show bob", "stats", "campaigns", "settings", "help", "forget bob"):
        await chat.send(line)
    assert await trail_ids(core) == before


async def test_a_refused_or_failed_command_leaves_no_entry(core, make, ana):
    other = await make.user("Other")
    theirs = await make.contact(other, "Theirs")
    before = await trail_ids(core)
    with pytest.raises(NotFound):
        await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=theirs.id), "email"))
    # A NUL byte passes the grammar but PostgreSQL refuses it mid-transaction: the note and its entry both go.
    assert "could not be saved" in await ConsoleChat(core, other).send("note theirs hello\x00world")
    assert await trail_ids(core) == before


async def test_a_redelivered_command_is_recorded_once(core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    conversation = Conversation(core, "slack")
    for _ in range(2):
        await conversation.handle_button(ana, f"log:{bob.id}:call", idempotency_key="slack:msg-1:log")
    assert [e.command for e in await trail(core)].count("LogOutreach") == 1


async def test_campaign_settings_and_linking_commands_name_their_campaign_and_user(core, make, ana):
    gita = await make.user("Gita", role="golden_ticket")
    bob = await make.contact(ana, "Bob Stone")
    fintech = (await core.execute(CreateCampaign(Actor(gita.id, "slack"), "Fintech", status="live"))).campaign
    await core.execute(AddToCampaign(Actor(ana.id, "telegram"), CampaignRef(name="fintech"), (bob.id,)))
    await core.execute(UpdateSettings(Actor(ana.id, "console"), timezone="Europe/Paris"))
    await core.execute(LinkChatIdentity("ana@example.com", "slack", "U0ANA"))  # the Slack adapter, on first contact
    created, added, settings, linked = (await trail(core))[-4:]
    assert summary(created) == (gita.id, "slack", "CreateCampaign", [], [], [fintech.id], [])
    assert summary(added) == (ana.id, "telegram", "AddToCampaign", [bob.id], [], [fintech.id], [])
    assert summary(settings) == (ana.id, "console", "UpdateSettings", [], [], [], [ana.id])
    assert summary(linked) == (None, "slack", "LinkChatIdentity", [], [], [], [ana.id])


async def test_the_trail_holds_no_note_and_no_personal_field(core, ana, database_url):
    chat = ConsoleChat(core, ana)
    await chat.send("add Bob Stone, bob@acme.com, Acme, +44 20 7946 0958")
    await chat.send("log bob email sent the secret deck")
    await chat.send("note bob likes sailing")
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        for value in ("Bob", "bob@acme.com", "7946", "secret deck", "sailing", "Acme"):
            assert conn.execute(
                "SELECT count(*) FROM audit_log a WHERE a::text ILIKE %s", (f"%{value}%",)
            ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] >= 3


async def test_list_audit_filters_by_user_and_time(core, make, ana, clock):
    ben = await make.user("Ben", email="ben@example.com")
    bob = await make.contact(ana, "Bob Stone")
    clock.advance(days=1)
    since = clock.now()
    await core.execute(LogOutreach(Actor(ben.id), ContactRef(id=(await make.contact(ben, "Cy")).id), "call"))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "email"))
    mine = await core.execute(ListAudit(user_email="ANA@example.com", since=since))
    assert [(e.user_email, e.command, e.contact_ids) for e in mine.entries] == [
        ("ana@example.com", "LogOutreach", (bob.id,))
    ]
    everything = await core.execute(ListAudit())
    assert [e.command for e in everything.entries][:2] == ["CreateUser", "CreateUser"]  # oldest first
    assert [e.command for e in (await core.execute(ListAudit(limit=1))).entries] == ["LogOutreach"]
    with pytest.raises(UnknownUser):
        await core.execute(ListAudit(user_email="nobody@example.com"))


# --- append-only, in PostgreSQL itself ------------------------------------------------------------------


@pytest.mark.parametrize("table", ["audit_log", "erasures"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET platform = 'forged'", "DELETE FROM {t}", "TRUNCATE {t}"])
async def test_the_trail_and_the_erasures_cannot_be_changed_even_by_their_owner(
    core, make, ana, database_url, table, statement
):
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(EraseContact(Actor(ana.id), ContactRef(id=bob.id)))
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        before = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        assert before
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement.format(t=table))
        conn.rollback()
        assert conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() == before


# --- the CLI ------------------------------------------------------------------------------------------------


async def test_cli_commands_are_recorded_and_listed_by_pipedriven_audit(core, make, ana, cli):
    gita = await make.user("Gita", email="gita@example.com", role="golden_ticket")
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    assert cli("users", "add", "cy@example.com", "--name", "Cy").returncode == 0
    erased = cli("contacts", "erase", "bob@acme.com", "--by", "gita@example.com", "--yes")
    assert erased.returncode == 0, erased.stderr
    created, erase = (await trail(core))[-2:]
    cy = await core.user_by_email("cy@example.com")
    assert summary(created) == (None, "cli", "CreateUser", [], [], [], [cy.id])
    assert summary(erase) == (gita.id, "cli", "EraseContact", [bob.id], [], [], [])

    listed = cli("audit")
    assert listed.returncode == 0, listed.stderr
    # The CLI runs on the real clock and the test on a fixed one: find its lines by what they say.
    [add_line] = [line for line in listed.stdout.splitlines() if f"user {cy.id}" in line]
    [erase_line] = [line for line in listed.stdout.splitlines() if "EraseContact" in line]
    assert "(cli operator)" in add_line and " cli " in add_line and "CreateUser" in add_line
    assert "gita@example.com" in erase_line and f"contact {bob.id}" in erase_line
    assert "Bob" not in listed.stdout and "bob@acme.com" not in listed.stdout
    only_gita = cli("audit", "--user", "gita@example.com", "--since", "2000-01-01").stdout.splitlines()
    assert len(only_gita) == 1 and "EraseContact" in only_gita[0]
    bad = cli("audit", "--since", "last tuesday")
    assert bad.returncode == 1 and "--since takes a date" in bad.stderr

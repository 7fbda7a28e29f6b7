"""What users see of the sync: the warm reply, `sync` in the chat, `pipedriven sync` and own tokens on the CLI."""

from __future__ import annotations

import pytest

from bot.console import ConsoleChat
from core.errors import InvalidInput
from core.models import OutboxMessage
from core.sync.commands import SetPipedriveToken
from tests.pipedrive.conftest import SECRET_KEY

pytestmark = pytest.mark.parametrize("fake_options", [{"tokens": ("company-token", "ana-own-token")}])


@pytest.fixture
async def chat(core, ana):
    return ConsoleChat(core, ana)


async def test_sync_lists_waiting_done_and_failed_with_reasons(chat, core, make, ana, fake, worker, clock):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await make.contact(ana, "Cara Diaz", email="cara@x.io")
    assert "Pipedrive sync queued" in await chat.send("warm bob")
    await worker.drain()
    assert "Pipedrive sync queued" in await chat.send("meeting cara booked tomorrow 10:00")
    fake.fail("POST", "/api/v2/persons", "503")
    await worker.drain()
    out = await chat.send("sync")
    assert "Pipedrive sync: 1 waiting · 1 done · 0 failed" in out
    assert "⏳ #2 Cara Diaz — meeting booked: waiting, next try at 09:00:01" in out
    assert "(Pipedrive had an error (HTTP 503). (try 1 of 4))" in out
    assert f"✓ #1 Bob Stone — warm lead: in Pipedrive (person {next(iter(fake.persons))})" in out
    fake.activity_types = [t for t in fake.activity_types if t["key_string"] != "call"]
    await chat.send("log bob call")
    clock.advance(seconds=5)
    await worker.drain()
    out = await chat.send("sync")
    assert "✗ #3 Bob Stone — Call: failed — Pipedrive has no active activity type “call”" in out
    assert "Say `sync retry 3`." in out


async def test_sync_retry_in_the_chat_queues_a_failed_sync_again(chat, core, make, ana, fake, worker):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    fake.fail("GET", "/api/v2/persons/search", "503", times=4)
    await chat.send("warm bob")
    for _ in range(4):
        core.clock.advance(seconds=60)
        await worker.drain()
    assert "0 waiting · 0 done · 1 failed" in await chat.send("sync")
    assert "Queued 1 sync again: #1." in await chat.send("sync retry 1")
    await worker.drain()
    assert "0 waiting · 1 done · 0 failed" in await chat.send("sync")
    assert "Nothing to retry: #1 is already done." in await chat.send("sync retry #1")
    assert "isn't a sync number" in await chat.send("sync retry bob")


async def test_someone_else_s_sync_can_t_be_retried_nor_seen(core, make, ana, fake):
    other = await make.user("Other", email="other@example.com")
    theirs = await make.contact(other, "Their Lead", email="t@x.io")
    await ConsoleChat(core, other).send(f"warm {theirs.email}")
    chat = ConsoleChat(core, ana)
    assert "Their Lead" not in await chat.send("sync")
    # Theirs and one that doesn't exist get the same answer.
    assert await chat.send("sync retry 1") == "You have no sync #1. Say `sync` to see yours."
    assert await chat.send("sync retry 2") == "You have no sync #2. Say `sync` to see yours."


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_api_token": None}])
async def test_without_a_token_sync_says_pipedrive_is_not_configured(chat, core, make, ana, fake, worker, rows):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    assert "Pipedrive sync queued" in await chat.send("warm bob")
    assert await worker.drain() == 0
    out = await chat.send("sync")
    assert "Pipedrive is not configured yet, so syncs wait in the queue (nothing is lost)" in out
    assert "⏳ #1 Bob Stone — warm lead: waiting" in out
    # A token of her own (from the CLI) and the waiting sync goes, with her token.
    await core.execute(SetPipedriveToken("ana@example.com", "ana-own-token"))
    assert await worker.drain() == 1
    assert "Pipedrive is not configured" not in await chat.send("sync")
    assert len(fake.persons) == 1


@pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_api_token": "revoked-company-token"}])
async def test_a_user_s_own_token_takes_precedence_over_the_company_s(core, make, ana, fake, worker, rows):
    await core.execute(SetPipedriveToken("ana@example.com", "ana-own-token"))
    await ConsoleChat(core, ana).send("add Bob Stone, bob@acme.com")
    await ConsoleChat(core, ana).send("warm bob")
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert row.status == "done" and len(fake.persons) == 1
    with pytest.raises(InvalidInput):
        await core.execute(SetPipedriveToken("ana@example.com", "two words"))


async def test_the_cli_shows_and_retries_syncs_and_sets_a_user_s_token(
    cli, wall_clock, chat, core, make, ana, fake, worker, rows
):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await chat.send("warm bob")
    fake.fail("POST", "/api/v2/persons", "500", times=4)
    for _ in range(4):
        core.clock.advance(seconds=60)
        await worker.drain()
    status = cli("sync", "status")
    assert status.returncode == 0, status.stderr
    assert "0 waiting · 0 done · 1 failed" in status.stdout
    assert "✗ #1 Bob Stone — warm lead [ana@example.com]: failed — Gave up after 4 tries." in status.stdout
    retried = cli("sync", "retry", "--all")
    assert retried.returncode == 0 and "Queued 1 sync again: #1." in retried.stdout
    assert cli("sync", "retry").returncode == 1
    token = cli(
        "users",
        "pipedrive-token",
        "ana@example.com",
        stdin="ana-own-token\n",
        env={"PIPEDRIVEN_SECRET_KEY": SECRET_KEY},
    )
    assert token.returncode == 0 and "own API token" in token.stdout and "ana-own-token" not in token.stdout
    before = len(fake.seen)
    await worker.drain()
    assert [r.status for r in await rows(OutboxMessage)] == ["done"]
    assert {seen.token for seen in fake.seen[before:]} == {"ana-own-token"}

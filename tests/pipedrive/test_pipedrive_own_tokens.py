"""A user's own Pipedrive token: encrypted in the database, decrypted only on its way to Pipedrive, and a sync
that fails with a reason a person can act on when no key opens it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import update

from bot.console import ConsoleChat
from core.encryption import SecretKeyMissing
from core.models import OutboxMessage, User
from core.sync.commands import RotateSecrets, SetPipedriveToken
from tests.pipedrive.conftest import SECRET_KEY

OWN_TOKEN = "ana-own-token"

# The company token is one Pipedrive refuses: a sync that goes through went with Ana's own token.
pytestmark = [
    pytest.mark.parametrize("fake_options", [{"tokens": ("company-token", OWN_TOKEN)}]),
    pytest.mark.parametrize("pipedrive_settings", [{"pipedrive_api_token": "revoked-company-token"}]),
]


@pytest.fixture
async def chat(core, ana):
    return ConsoleChat(core, ana)


def _use_key(core, key: str | None) -> None:
    core.settings = core.settings.model_copy(update={"secret_key": SecretStr(key) if key else None})


async def _stored_token(rows, user) -> str | None:
    [row] = await rows(User, User.id == user.id)
    return row.pipedrive_api_token


async def _warm_bob(chat) -> None:
    await chat.send("add Bob Stone, bob@acme.com")
    assert "Pipedrive sync queued" in await chat.send("warm bob")


async def test_the_token_is_encrypted_in_the_database_and_pipedrive_gets_the_token(core, chat, ana, fake, worker, rows):
    await core.execute(SetPipedriveToken("ana@example.com", OWN_TOKEN))
    stored = await _stored_token(rows, ana)
    assert OWN_TOKEN not in stored
    assert Fernet(SECRET_KEY).decrypt(stored.encode()).decode() == OWN_TOKEN
    await _warm_bob(chat)
    await worker.drain()
    assert [r.status for r in await rows(OutboxMessage)] == ["done"] and len(fake.persons) == 1
    assert {seen.token for seen in fake.seen} == {OWN_TOKEN}


async def test_without_a_key_a_user_s_own_token_is_refused(core, ana, rows):
    _use_key(core, None)
    with pytest.raises(SecretKeyMissing, match=r"^Set PIPEDRIVEN_SECRET_KEY to store a user's own Pipedrive token"):
        await core.execute(SetPipedriveToken("ana@example.com", OWN_TOKEN))
    assert await _stored_token(rows, ana) is None


async def test_a_token_no_key_opens_fails_the_sync_with_a_reason_and_never_falls_back(
    core, chat, ana, fake, worker, rows
):
    await core.execute(SetPipedriveToken("ana@example.com", OWN_TOKEN))
    new_key = Fernet.generate_key().decode()
    _use_key(core, new_key)  # the key that encrypted it rotated away
    await _warm_bob(chat)
    assert await worker.drain() == 1
    [row] = await rows(OutboxMessage)
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error.startswith(
        "Your own Pipedrive token can't be read: A stored secret can't be decrypted "
        "with any key in PIPEDRIVEN_SECRET_KEY"
    )
    assert "pipedriven users pipedrive-token" in row.last_error and row.user_notice.endswith("`sync retry all`.")
    assert fake.seen == []  # not even with the company's token
    assert "Your own Pipedrive token can't be read" in await chat.send("sync")
    _use_key(core, f"{new_key},{SECRET_KEY}")  # the old key put back
    assert "Queued 1 sync again" in await chat.send("sync retry all")
    await worker.drain()
    assert [r.status for r in await rows(OutboxMessage)] == ["done"]


async def test_a_token_stored_in_plain_text_before_still_syncs_and_rotation_encrypts_it(
    core, chat, ana, fake, worker, rows
):
    async with core.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == ana.id).values(pipedrive_api_token=OWN_TOKEN))
    await _warm_bob(chat)
    await worker.drain()
    assert [r.status for r in await rows(OutboxMessage)] == ["done"]
    assert {seen.token for seen in fake.seen} == {OWN_TOKEN}
    rotated = await core.execute(RotateSecrets())
    assert (rotated.rotated, rotated.were_plain_text, rotated.unreadable_emails) == (1, 1, ())
    stored = await _stored_token(rows, ana)
    assert OWN_TOKEN not in stored and Fernet(SECRET_KEY).decrypt(stored.encode()).decode() == OWN_TOKEN


async def test_after_a_rotation_the_new_key_alone_opens_the_token(core, chat, ana, fake, worker, rows):
    await core.execute(SetPipedriveToken("ana@example.com", OWN_TOKEN))
    new_key = Fernet.generate_key().decode()
    _use_key(core, f"{new_key},{SECRET_KEY}")
    assert (await core.execute(RotateSecrets())).rotated == 1
    _use_key(core, new_key)
    await _warm_bob(chat)
    await worker.drain()
    assert [r.status for r in await rows(OutboxMessage)] == ["done"]
    assert {seen.token for seen in fake.seen} == {OWN_TOKEN}

"""Secrets at rest: Fernet under PIPEDRIVEN_SECRET_KEY, several keys while rotating."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core import encryption
from core.settings import Settings

TOKEN = "0123456789abcdef0123456789abcdef01234567"


def _with_key(key: str | None) -> Settings:
    return Settings(_env_file=None, PIPEDRIVEN_SECRET_KEY=key)


def test_a_secret_is_stored_encrypted_and_decrypts_to_itself():
    settings = _with_key(Fernet.generate_key().decode())
    stored = encryption.encrypt(settings, TOKEN)
    assert TOKEN not in stored and encryption.is_encrypted(stored)
    assert encryption.decrypt(settings, stored) == TOKEN
    assert len(encryption.encrypt(settings, "x" * 200)) > 200  # why the column is text


def test_the_first_key_encrypts_and_every_key_decrypts():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = encryption.encrypt(_with_key(old), TOKEN)
    both = _with_key(f"{new}, {old}")
    assert encryption.decrypt(both, stored) == TOKEN
    rotated = encryption.reencrypt(both, stored)
    assert encryption.decrypt(_with_key(new), rotated) == TOKEN
    with pytest.raises(encryption.SecretUnreadable):
        encryption.decrypt(_with_key(old), rotated)


def test_plain_text_from_before_encryption_is_read_as_it_is_and_encrypted_by_a_rotation():
    settings = _with_key(Fernet.generate_key().decode())
    assert not encryption.is_encrypted(TOKEN)
    assert encryption.decrypt(_with_key(None), TOKEN) == TOKEN
    sealed = encryption.reencrypt(settings, TOKEN)
    assert TOKEN not in sealed and encryption.decrypt(settings, sealed) == TOKEN


def test_a_missing_wrong_or_lost_key_is_a_clear_error_that_never_shows_the_key():
    with pytest.raises(
        encryption.SecretKeyMissing,
        match=r"^Set PIPEDRIVEN_SECRET_KEY to store a user's own "
        r"Pipedrive token \(`pipedriven secrets new-key`",
    ):
        encryption.encrypt(_with_key(None), TOKEN)
    with pytest.raises(encryption.SecretKeyInvalid) as invalid:
        encryption.encrypt(_with_key("not-a-fernet-key"), TOKEN)
    assert "not-a-fernet-key" not in str(invalid.value)
    stored = encryption.encrypt(_with_key(Fernet.generate_key().decode()), TOKEN)
    with pytest.raises(encryption.SecretUnreadable, match="can't be decrypted with any key"):
        encryption.decrypt(_with_key(Fernet.generate_key().decode()), stored)
    with pytest.raises(encryption.SecretKeyMissing, match="PIPEDRIVEN_SECRET_KEY is not set"):
        encryption.decrypt(_with_key(None), stored)

"""Secrets at rest (users' own Pipedrive tokens), encrypted with Fernet under the keys in PIPEDRIVEN_SECRET_KEY.

PIPEDRIVEN_SECRET_KEY holds one key, or several separated by commas: the first encrypts, every one decrypts
(MultiFernet). To change keys, put the new one first, keep the old one after it, run `pipedriven secrets
rotate`, then drop the old one. A value stored before encryption existed is plain text: it is still read as it
is, and `rotate` encrypts it.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import PipedrivenError
from core.settings import Settings

ROTATING_NEEDS_A_KEY = (
    "Set PIPEDRIVEN_SECRET_KEY to encrypt the stored secrets (`pipedriven secrets new-key` prints one)."
)
_FERNET_VERSION = 0x80
_SHORTEST_FERNET_TOKEN = 73  # version, timestamp, IV, one cipher block and the HMAC, in bytes


class SecretKeyProblem(PipedrivenError):
    """PIPEDRIVEN_SECRET_KEY is missing or wrong, or a stored secret can't be decrypted with it."""


class SecretKeyMissing(SecretKeyProblem):
    """Set PIPEDRIVEN_SECRET_KEY to store a user's own Pipedrive token (`pipedriven secrets new-key` prints one)."""


class SecretKeyInvalid(SecretKeyProblem):
    """PIPEDRIVEN_SECRET_KEY is not valid: give keys as `pipedriven secrets new-key` prints them, comma-separated."""


class SecretUnreadable(SecretKeyProblem):
    """A stored secret can't be decrypted with any key in PIPEDRIVEN_SECRET_KEY (was its key removed?)."""


def new_key() -> str:
    """A fresh random key for PIPEDRIVEN_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


def keys(settings: Settings, *, missing: str | None = None) -> MultiFernet:
    """The configured keys; SecretKeyMissing (with `missing` as its reason) or SecretKeyInvalid otherwise."""
    raw = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise SecretKeyMissing(missing)
    try:
        return MultiFernet([Fernet(part) for part in parts])
    except ValueError:
        raise SecretKeyInvalid() from None


def is_encrypted(stored: str) -> bool:
    """Whether a stored value is a Fernet token (else it is plain text stored before encryption)."""
    try:
        data = base64.urlsafe_b64decode(stored.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    return len(data) >= _SHORTEST_FERNET_TOKEN and data[0] == _FERNET_VERSION


def encrypt(settings: Settings, secret: str) -> str:
    return keys(settings).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(settings: Settings, stored: str) -> str:
    """The secret behind a stored value; plain text stored before encryption comes back as it is."""
    if not is_encrypted(stored):
        return stored
    fernet = keys(settings, missing="PIPEDRIVEN_SECRET_KEY is not set, so a stored secret can't be decrypted.")
    try:
        return fernet.decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable() from None


def reencrypt(settings: Settings, stored: str) -> str:
    """The value encrypted with the first key (plain text is encrypted); SecretUnreadable if no key opens it."""
    fernet = keys(settings, missing=ROTATING_NEEDS_A_KEY)
    if not is_encrypted(stored):
        return fernet.encrypt(stored.encode("utf-8")).decode("ascii")
    try:
        return fernet.rotate(stored.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable() from None

"""Settings never show a secret in a repr (a log line, a traceback), while every use gets the real value."""

from __future__ import annotations

from cryptography.fernet import Fernet

from core.settings import Settings


def test_the_settings_repr_shows_neither_the_database_url_nor_the_secret_key():
    key = Fernet.generate_key().decode()
    settings = Settings(
        database_url="postgresql://crm:hunter2@db.internal:5432/pipedriven_prod",
        _env_file=None,
        PIPEDRIVEN_SECRET_KEY=key,
        pipedrive_api_token="company-token",
    )
    for shown in (repr(settings), str(settings)):
        for secret in ("hunter2", "db.internal", "pipedriven_prod", key, "company-token"):
            assert secret not in shown
    assert settings.database_url.get_secret_value() == "postgresql://crm:hunter2@db.internal:5432/pipedriven_prod"
    assert Settings(database_url=" ", _env_file=None).database_url is None  # blank: the embedded server

"""Settings read from the environment (and a `.env` file) through pydantic-settings.

Secrets (tokens, signing secrets) are `SecretStr` so that they never show up in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("pipedriven", appauthor=False))


class Settings(BaseSettings):
    """Everything a deployment configures. Unset values fall back to a local, embedded set-up."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(default=None, description="postgresql://user:pass@host/db; unset = embedded")
    data_dir: Path = Field(default_factory=default_data_dir, alias="PIPEDRIVEN_DATA_DIR")
    default_timezone: str = "Europe/London"
    suggestions_limit: int = 10
    phone_region: str = "GB"
    log_level: str = "INFO"

    # CSV import: the largest file accepted from a chat upload (the CLI has no limit).
    import_max_upload_bytes: int = Field(default=5_000_000, gt=0)

    # Cadence rules: an email with no reply after this many days suggests a call; a call with no answer
    # suggests trying again after this many days (a planned call step falls due again then).
    cadence_no_reply_days: int = Field(default=5, ge=1, le=90)
    cadence_retry_days: int = Field(default=2, ge=1, le=90)

    # Chat platforms (used by the adapters).
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    # Checked on every webhook delivery (Telegram sends it back in a header); unset, one is derived from the token.
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_bot_username: str | None = None

    # Pipedrive.
    pipedrive_api_token: SecretStr | None = None
    pipedrive_base_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

"""Settings read from the environment (and a `.env` file) through pydantic-settings.

Secrets (tokens, signing secrets) are `SecretStr` so that they never show up in a repr or a log line.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("pipedriven", appauthor=False))


class Settings(BaseSettings):
    """Everything a deployment configures. Unset values fall back to a local, embedded set-up."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # postgresql://user:pass@host/db; unset = embedded. A secret: its password must not show in a repr.
    database_url: SecretStr | None = None
    data_dir: Path = Field(default_factory=default_data_dir, alias="PIPEDRIVEN_DATA_DIR")
    default_timezone: str = "Europe/London"
    suggestions_limit: int = 10
    phone_region: str = "GB"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for log shippers
    # /healthz, /readyz and /metrics when no Slack HTTP server carries them (0: not served).
    health_port: int = Field(default=8080, ge=0, le=65535)
    health_listen: str = "0.0.0.0"
    # A command that finds what it needs busy (an erasure while that person's sync is in flight) is run again
    # for this long before the user is asked to try later.
    busy_wait_seconds: float = Field(default=20.0, ge=0)

    # CSV import: the largest file accepted from a chat upload (the CLI has no limit).
    import_max_upload_bytes: int = Field(default=5_000_000, gt=0)

    # The scheduler (digests and nudges).
    digest_grace_minutes: int = Field(default=120, ge=0, description="a digest missed by less is still sent")
    workday_end: time = time(18, 0)  # nudges wait for working hours: digest time until then, local
    scheduler_tick_seconds: float = Field(default=30, gt=0)
    delivery_lease_seconds: int = Field(default=300, gt=0, description="a claim left unsent this long is retaken")
    # The rules from outcomes count in days: each process looks for rule nudges this often, not every tick.
    rule_sweep_minutes: float = Field(default=15, ge=0)

    # `pipedriven run` on SIGTERM: how long the taps, sends and syncs in flight may take to finish.
    shutdown_grace_seconds: float = Field(default=20, ge=0)

    # Cadence rules: an email with no reply after this many days suggests a call; a call with no answer
    # suggests trying again after this many days (a planned call step falls due again then).
    cadence_no_reply_days: int = Field(default=5, ge=1, le=90)
    cadence_retry_days: int = Field(default=2, ge=1, le=90)
    # Rules from outcomes, for every contact (core.rules): a meeting requested but not booked after this many
    # days, a warm contact untouched this long, are nudged. These and the two above are the defaults of the
    # team's own day counts (`rules set NAME DAYS`).
    meeting_not_booked_days: int = Field(default=3, ge=1, le=365)
    warm_untouched_days: int = Field(default=14, ge=1, le=365)

    # Where the platforms' rate limits are counted: "database" (table rate_buckets), one budget shared by every
    # process on the database; "process", each process on its own (faster; right only when one process runs).
    rate_limits: Literal["database", "process"] = "database"

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

    # Encrypts users' own Pipedrive tokens at rest (core/encryption.py): one Fernet key, or several comma-separated
    # while rotating (the first encrypts, every one decrypts).
    secret_key: SecretStr | None = Field(default=None, alias="PIPEDRIVEN_SECRET_KEY")

    # Pipedrive.
    pipedrive_api_token: SecretStr | None = None
    pipedrive_base_url: str | None = None
    # --- Pipedrive sync ---
    pipedrive_max_retries: int = Field(default=3, ge=0, le=20, description="retries before a sync is failed")
    pipedrive_retry_base_seconds: float = Field(default=2.0, gt=0, description="first backoff; doubles per retry")
    pipedrive_campaign_source_field: str = "Campaign source"  # a person field's display name in Pipedrive
    pipedrive_warm_label: str = "Warm lead"  # a person label option, matched case-insensitively
    pipedrive_burst_limit: int = Field(default=20, ge=2, description="requests per 2 s until Pipedrive says")
    pipedrive_search_limit: int = Field(default=10, ge=2, description="searches per 2 s")
    pipedrive_timeout_seconds: float = Field(default=10.0, gt=0)
    pipedrive_cache_seconds: float = Field(default=600.0, ge=0, description="expiry of cached Pipedrive lookups")
    pipedrive_poll_seconds: float = Field(default=5.0, gt=0, description="outbox poll when no notification comes")
    pipedrive_concurrency: int = Field(default=4, ge=1, le=32, description="syncs in flight per process")
    # A claim outlives any healthy sync (timeouts and rate-limit waits included); a dead process's claim is
    # taken over by another once it runs out.
    pipedrive_lease_seconds: float = Field(default=300.0, gt=0)
    # --- Pipedrive webhooks (changes flowing back) ---
    # The public HTTPS address Pipedrive posts to (ending in /pipedrive/webhook), behind the same proxy as Slack.
    pipedrive_webhook_url: str | None = None
    # HTTP basic auth Pipedrive sends with each webhook; the receiver is off until both are set.
    pipedrive_webhook_user: str | None = None
    pipedrive_webhook_password: SecretStr | None = None
    # Where the receiver listens when Slack does not run over HTTP (else it shares Slack's PORT).
    pipedrive_webhook_port: int = Field(default=3001, ge=0, le=65535)  # 0: any free port
    pipedrive_webhook_listen: str = "0.0.0.0"
    # Where webhooks can't reach the server: pull what changed every this many minutes (0: never). Unset: every
    # 5 minutes when a company token is set and PIPEDRIVE_WEBHOOK_URL is not, else never.
    pipedrive_poll_minutes: int | None = Field(default=None, ge=0, le=1440)

    @property
    def pipedrive_url(self) -> str:
        """Where the Pipedrive API lives: the company domain if given; api.pipedrive.com takes any API token."""
        return (self.pipedrive_base_url or "https://api.pipedrive.com").rstrip("/")

    @property
    def pipedrive_polling_minutes(self) -> int:
        """How often the polling fallback pulls Pipedrive's changes; 0 when it is off."""
        if self.pipedrive_api_token is None:
            return 0
        if self.pipedrive_poll_minutes is not None:
            return self.pipedrive_poll_minutes
        return 0 if self.pipedrive_webhook_url else 5

    @property
    def pipedrive_webhooks_on(self) -> bool:
        """Whether the webhook receiver has credentials to check (it never runs open)."""
        return bool(self.pipedrive_webhook_user and self.pipedrive_webhook_password)

    @field_validator("database_url", "secret_key", "pipedrive_webhook_password", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

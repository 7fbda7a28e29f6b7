"""The id of the request being handled (a tap, a chat command, a webhook), for every log line it causes."""

from __future__ import annotations

import secrets
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id(kind: str) -> str:
    """A fresh id for this task and what it awaits, e.g. `tap-3f9c1a2b7d4e`."""
    request_id = f"{kind}-{secrets.token_hex(6)}"
    current_request_id.set(request_id)
    return request_id

"""What users typed, shown back to them: shortened, so that an answer quoting it stays small."""

from __future__ import annotations

ECHO_LIMIT = 100  # characters of the user's own text an answer repeats


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as it is when it fits in `limit` characters, else cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quoted(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` shortened, in quotation marks: “like this”."""
    return f"“{shorten(text, limit)}”"

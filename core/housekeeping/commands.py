"""Housekeeping: trimming the bookkeeping tables that grow with every tap and every message."""

from __future__ import annotations

from dataclasses import dataclass

from core.command import Bookkeeping


@dataclass(frozen=True)
class PruneHistory(Bookkeeping):
    """Housekeeping: forget idempotency keys, finished deliveries and interaction drafts too old to matter."""


@dataclass(frozen=True)
class PrunedHistory:
    """What a housekeeping run removed."""

    requests: int
    deliveries: int
    drafts: int = 0
    folded: int = 0  # changes of activities folded into the stats rollups

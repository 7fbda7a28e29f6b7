"""What every command is: the `Command` base and its audit class, and the references commands carry.

A command is an order given to the core: a frozen dataclass, named as an order, run by its one handler in one
transaction (`core.service.Core.execute`). Most name their `actor` (who asks, and from which platform); the
handler checks that this user may do it, whatever adapter built the command. Every command is written to the
audit trail (core.privacy) unless its class says otherwise: a `Query` changes no data, and `Bookkeeping` is a
worker's or the scheduler's record of its own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar


class Audit(Enum):
    """Whether `Core.execute` writes a command to the audit trail."""

    RECORDED = "recorded"  # it may change data: one row in the audit trail per command run
    READ_ONLY = "read-only"  # it changes no data (remembering the list just shown is chat state, not data)
    BOOKKEEPING = "bookkeeping"  # a worker's or the scheduler's own bookkeeping, which their own tables record


class Command:
    """The base of every command: written to the audit trail unless its class says otherwise."""

    audit: ClassVar[Audit] = Audit.RECORDED


class Query(Command):
    """A command that changes no data, so leaves no row in the audit trail."""

    audit = Audit.READ_ONLY


class Bookkeeping(Command):
    """The scheduler's and the sync worker's bookkeeping: not in the audit trail, since their own tables record it
    (an entry per beat, per message sent and per sync attempt would bury the trail)."""

    audit = Audit.BOOKKEEPING


@dataclass(frozen=True)
class Actor:
    user_id: int
    platform: str = "cli"


@dataclass(frozen=True)
class ContactRef:
    """A contact as a user named it: an id (from a button), a row of the last list, an email or a name fragment."""

    id: int | None = None
    text: str | None = None

    @classmethod
    def of(cls, value: int | str) -> ContactRef:
        return cls(id=value) if isinstance(value, int) else cls(text=value.strip())

    def __str__(self) -> str:
        return self.text if self.text is not None else f"#{self.id}"


@dataclass(frozen=True)
class CampaignRef:
    id: int | None = None
    name: str | None = None

    @classmethod
    def of(cls, value: int | str) -> CampaignRef:
        return cls(id=value) if isinstance(value, int) else cls(name=value.strip())

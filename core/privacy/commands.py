"""Privacy: a person's data exported and erased on request, and the audit trail.

`every_bank=False` (chat): the contact is one of the actor's own, named as anywhere in the chat.
`every_bank=True` (CLI, Golden Ticket only): the person is a contact id, or an email matched in every bank.
An export changes nothing but discloses personal data, so it is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, Command, ContactRef, Query
from core.views import ContactView


@dataclass(frozen=True)
class ExportContact(Command):
    """Everything Pipedriven holds about one person, for a data-subject request."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class PreviewErasure(Query):
    """What erasing this person would remove, to show before asking for a confirmation."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class EraseContact(Command):
    """Remove a person from every table; their past activities stay in the numbers, anonymous."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class ListAudit(Query):
    """The audit trail, oldest first, the latest `limit` entries (of one user, since a moment)."""

    user_email: str | None = None
    since: datetime | None = None
    limit: int = 500


@dataclass(frozen=True)
class ExportSection:
    """The rows of one table that hold or point to the person, column by column."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class ContactExport:
    """Everything held about one person: the contact rows of every bank searched, and what refers to them."""

    subject: str
    generated_at: datetime
    contact_ids: tuple[int, ...]
    pipedrive_person_ids: tuple[int, ...]
    sections: tuple[ExportSection, ...]


@dataclass(frozen=True)
class ErasurePreview:
    """What an erasure would remove; nothing has been changed yet."""

    contacts: tuple[ContactView, ...]
    activities: int
    follow_ups: int
    campaign_memberships: int
    sync_messages: int


@dataclass(frozen=True)
class ErasureResult:
    """An erasure done. The message names ids only: the person's data is gone, and stays out of replies."""

    message: str
    erasure_id: int
    contact_ids: tuple[int, ...]
    pipedrive_person_ids: tuple[int, ...]
    activities_anonymised: int


@dataclass(frozen=True)
class AuditEntryView:
    id: int
    occurred_at: datetime
    user_id: int | None
    user_email: str | None
    platform: str
    command: str
    contact_ids: tuple[int, ...] = ()
    activity_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class AuditList:
    entries: tuple[AuditEntryView, ...]

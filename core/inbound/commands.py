"""Changes from Pipedrive: its webhooks stored once each, then applied to the contacts linked to their person or
organisation (the receiver and the worker are pipedrive/webhooks.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from core.command import Bookkeeping, Query

INBOUND_STATUSES = ("received", "applied", "ignored", "stale", "error")


@dataclass(frozen=True)
class ReceivePipedriveEvent(Bookkeeping):
    """Store one webhook from Pipedrive unless an event with the same identity (`key`) is stored already."""

    key: str
    entity: str
    action: str
    entity_id: int
    occurred_at: datetime
    payload: dict = field(repr=False)


@dataclass(frozen=True)
class ReceivePipedriveEvents(Bookkeeping):
    """Store several webhooks in one transaction (those that arrived together), each once by its identity."""

    events: tuple[ReceivePipedriveEvent, ...]


@dataclass(frozen=True)
class WaitingPipedriveEvents(Query):
    """The received events not yet applied, oldest first."""

    limit: int = 100


@dataclass(frozen=True)
class WaitingEvent:
    id: int
    entity: str
    action: str

    @property
    def may_name_organisations(self) -> bool:
        """Whether it may link an organisation the bank can't name (see PipedriveEventsToApply)."""
        return (self.entity, self.action) == ("person", "change")


@dataclass(frozen=True)
class PipedriveEventsToApply(Query):
    """What the worker needs before applying events: per person event, what it must name (see ToName)."""

    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class ToName:
    """The organisations a person event links that no contact can name yet, and the Pipedrive user it makes
    the person's owner."""

    org_ids: tuple[int, ...] = ()
    owner_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ApplyPipedriveEvent(Bookkeeping):
    """Apply one received event to the contacts linked to its person or organisation, and record the outcome.

    `org_names` maps Pipedrive organisation ids to their names, fetched by the worker where the bank has none.
    The event's row records it; an entry goes to the audit trail only for the contacts it changed.
    """

    platform: ClassVar[str] = "pipedrive"
    event_id: int
    org_names: dict[int, str] = field(default_factory=dict)
    user_names: dict[int, str] = field(default_factory=dict)  # the company's Pipedrive users: a person's owner
    warm_label_id: int | None = None  # the id of the person label that means warm (PIPEDRIVE_WARM_LABEL), if any


@dataclass(frozen=True)
class ApplyPipedriveEvents(Bookkeeping):
    """Apply several received events in one transaction, each as ApplyPipedriveEvent would (in a savepoint of its
    own, with its own audit entry): one commit for the lot. Their outcomes, in order (None: not waiting)."""

    events: tuple[ApplyPipedriveEvent, ...]


@dataclass(frozen=True)
class PipedriveEventApplied:
    status: str  # one of INBOUND_STATUSES
    outcome: str
    contact_ids: tuple[int, ...] = ()
    merged_into: int | None = None  # the surviving person the contacts were relinked to


@dataclass(frozen=True)
class KeptLocalEdit:
    """The audit trail's record of a Pipedrive change refused because the contact was edited here later."""

    platform: ClassVar[str] = "pipedrive"
    contact_ids: tuple[int, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ClaimPipedriveNotes(Bookkeeping):
    """Take (and mark as told) up to `limit` chat messages owed about changes from Pipedrive (a deal won)."""

    limit: int = 100


@dataclass(frozen=True)
class ReleasePipedriveNotes(Bookkeeping):
    """Hand back claimed messages that could not be delivered, for a later tick."""

    note_ids: tuple[int, ...]


@dataclass(frozen=True)
class PipedriveNoteView:
    id: int
    user_id: int
    text: str


@dataclass(frozen=True)
class PipedrivePollMarks(Query):
    """How far the polling fallback has read each Pipedrive list: entity → the latest update time seen."""


@dataclass(frozen=True)
class RecordPipedrivePollMark(Bookkeeping):
    """Move a list's high-water mark forward (never back: another process may have read further)."""

    entity: str
    updated_since: datetime

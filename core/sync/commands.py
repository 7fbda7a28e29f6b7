"""The Pipedrive sync: what users see and do of it, and the orders the sync worker (pipedrive/) gives the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from core.command import Actor, Bookkeeping, Command, Query
from core.vocabulary import WARM_THRESHOLD

if TYPE_CHECKING:
    from pydantic import SecretStr


@dataclass(frozen=True)
class ListSyncs(Query):
    """A user's Pipedrive syncs: queued, done and failed, with reasons. No actor: everyone's (the CLI)."""

    actor: Actor | None = None
    limit: int = 15


@dataclass(frozen=True)
class RetrySyncs(Command):
    """Queue failed syncs again (by id, or every failed one); the actor may only retry their own."""

    actor: Actor | None = None
    ids: tuple[int, ...] = ()
    all_failed: bool = False


@dataclass(frozen=True)
class SetPipedriveToken(Command):
    """Give a user their own Pipedrive API token (None clears it: the company token applies again)."""

    email: str
    token: str | None = field(repr=False)


@dataclass(frozen=True)
class RotateSecrets(Command):
    """Re-encrypt every stored secret with the first key of PIPEDRIVEN_SECRET_KEY (plain text ones too)."""


@dataclass(frozen=True)
class ClaimSync(Bookkeeping):
    """The sync worker takes the next due outbox row (FOR UPDATE SKIP LOCKED), one per contact at a time."""

    lease_seconds: float = 300.0


@dataclass(frozen=True)
class NextSyncDue(Query):
    """When the earliest waiting sync falls due (None: nothing waits), so the worker sleeps until then."""


@dataclass(frozen=True)
class RecordPipedriveIds(Command):
    """What was found or created in Pipedrive for a contact, saved at once so a crash or retry resumes there."""

    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    contact_id: int
    org_id: int | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class KnownPipedriveIds(Query):
    """Pipedrive ids another contact already has for this organisation name or this email (any case)."""

    organisation: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RecordPipedriveOwner(Command):
    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    user_id: int
    pipedrive_user_id: int


@dataclass(frozen=True)
class RecordPipedriveActivity(Command):
    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    activity_id: int
    pipedrive_activity_id: int


@dataclass(frozen=True)
class RecordPipedriveNote(Command):
    """The Pipedrive note a `note` (activity_id) or a contact's notes (contact_id) became; None: it was deleted."""

    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    pipedrive_note_id: int | None
    activity_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class FinishSync(Bookkeeping):
    """The end of one attempt: done, retry after a delay, or failed (with the sentence owed to the user, if any).

    `attempt` is the claim's attempt number: a worker whose claim ran out and was taken over changes nothing.
    """

    outbox_id: int
    attempt: int
    outcome: str  # "done", "retry" or "failed"
    reason: str | None = None  # why it failed or waits; for one done, what was left out
    retry_in_seconds: float = 0.0
    user_notice: str | None = None


@dataclass(frozen=True)
class ListSyncNotices(Query):
    """Failures a person must fix that the acting user has not been told about yet (for the notifiers)."""


@dataclass(frozen=True)
class ClaimSyncNotices(Bookkeeping):
    """Take (and mark as told) up to `limit` owed notices, for a scheduler about to send them."""

    limit: int = 100


@dataclass(frozen=True)
class ReleaseSyncNotices(Bookkeeping):
    """Hand back claimed notices that could not be delivered, for a later tick."""

    outbox_ids: tuple[int, ...]


@dataclass(frozen=True)
class MarkSyncNoticesSent(Bookkeeping):
    outbox_ids: tuple[int, ...]


@dataclass(frozen=True)
class SyncItemView:
    """One outbox row of the Pipedrive sync, as `sync` lists it."""

    id: int
    event: str
    status: str  # pending, processing, done, failed
    attempts: int
    contact_id: int | None
    contact_name: str | None
    user_email: str | None
    activity_kind: str | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None
    pipedrive_person_id: int | None = None
    pipedrive_activity_id: int | None = None


@dataclass(frozen=True)
class InboundEventView:
    """One event received from Pipedrive, as `sync` lists it."""

    id: int
    entity: str
    action: str
    entity_id: int
    status: str
    outcome: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class SyncList:
    items: tuple[SyncItemView, ...]
    configured: bool  # a Pipedrive token applies (the user's own or the company's)
    counts: dict[str, int] = field(default_factory=dict)  # by status, over all of the listed scope
    max_retries: int = 3
    # Events received from Pipedrive: counts by status, and the latest (everyone's, or those about the actor's
    # contacts).
    inbound: dict[str, int] = field(default_factory=dict)
    inbound_items: tuple[InboundEventView, ...] = ()
    inbound_last_received_at: datetime | None = None
    inbound_oldest_waiting_at: datetime | None = None  # the oldest event received and not applied yet


@dataclass(frozen=True)
class SyncRetried:
    message: str
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SecretsRotated:
    """What `RotateSecrets` did: how many it re-encrypted, how many of those were plain text, and the users
    whose stored token no key could decrypt (left as it was)."""

    rotated: int
    were_plain_text: int
    unreadable_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncContact:
    id: int
    name: str
    email: str | None
    phone: str | None
    organisation: str | None
    warmness: int
    pipedrive_person_id: int | None
    pipedrive_org_id: int | None
    campaign: str | None = None  # the campaign the contact came through, for the campaign source field
    notes: str | None = None
    pipedrive_note_id: int | None = None  # the Pipedrive note `notes` became
    sector: str | None = None
    country: str | None = None  # an ISO 3166-1 alpha-2 code

    @property
    def is_warm(self) -> bool:
        """Warm enough for Pipedrive's warm label."""
        return self.warmness >= WARM_THRESHOLD


@dataclass(frozen=True)
class SyncActivity:
    id: int
    kind: str
    outcome: str
    subject: str | None
    note: str | None
    occurred_at: datetime
    due_at: datetime | None
    pipedrive_activity_id: int | None


@dataclass(frozen=True)
class SyncNote:
    """A `note` on the contact not in Pipedrive yet."""

    activity_id: int
    text: str


@dataclass(frozen=True)
class SyncUser:
    id: int
    name: str
    email: str
    pipedrive_user_id: int | None


@dataclass(frozen=True)
class KnownIds:
    org_id: int | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class SyncTask:
    """A claimed outbox row with everything the worker needs; the user's own token rides as a SecretStr."""

    outbox_id: int
    attempt: int
    event: str
    user: SyncUser | None
    contact: SyncContact | None
    activity: SyncActivity | None
    user_token: SecretStr | None = field(default=None, repr=False)
    # Why the user's own token could not be read (the key that encrypted it is gone): the sync fails with it.
    token_problem: str | None = None
    # Pipedrive activities already linked to this contact's other activities: never mistaken for this one's.
    linked_activity_ids: frozenset[int] = frozenset()
    # A Pipedrive activity to delete: its outreach was undone here after it had been replicated.
    undone_activity_id: int | None = None
    # The contact's `note`s not in Pipedrive yet (oldest first), and the Pipedrive notes already linked to it.
    notes: tuple[SyncNote, ...] = ()
    linked_note_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SyncNotice:
    """One message owed to a user about a sync failure only a person can fix (several rows, one message)."""

    user_id: int
    text: str
    outbox_ids: tuple[int, ...]

"""What commands return: plain frozen dataclasses. ORM rows never leave the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from core.views import ContactView, FollowUpView, UserView
from core.users.commands import ChatIdentityView

if TYPE_CHECKING:
    from pydantic import SecretStr


# --- campaigns: the view, and CSV import reports (issue 7) ------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """A row of the file that was not imported, by its spreadsheet row number (the header is row 1)."""

    row: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    owner: str
    mode: str
    encoding: str
    delimiter: str
    mapping: tuple[tuple[str, str], ...]  # (column header, field) pairs, in the file's order
    unknown_columns: tuple[str, ...]  # the first columns left out (at most importing.REPORTED_COLUMNS)
    rows: int  # data rows read, blank ones included
    imported: int
    updated: int
    unchanged: int
    skipped: int  # already in the bank, left as they were (skip mode)
    blank: int
    duplicates: tuple[ImportIssue, ...]  # the same person again further down the file
    rejected: tuple[ImportIssue, ...]
    campaigns: tuple[str, ...] = ()
    added_to_campaigns: int = 0
    warnings: tuple[str, ...] = ()
    sync_queued: int = 0
    more_unknown_columns: int = 0  # columns left out beyond those named in `unknown_columns`
    # What the import wrote, for the audit trail: contacts created or changed, campaigns joined.
    contact_ids: tuple[int, ...] = field(default=(), repr=False)
    campaign_ids: tuple[int, ...] = ()


# --- the user's home (core/home.py) ---------------------------------------------------------------------


# --- linking chat accounts by code ----------------------------------------------------------------------


# --- privacy (core/privacy.py) --------------------------------------------------------------------------

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


# --- digests and nudges (core/deliveries.py) ------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryClaim:
    """A digest or nudge this process has claimed and must now send (or record as failed)."""

    id: int
    kind: str  # digest | nudge | step
    user: UserView
    target: ChatIdentityView
    due_at: datetime
    follow_up: FollowUpView | None = None  # a nudge's follow-up, and its contact
    contact: ContactView | None = None
    step: "DueStep | None" = None  # a step nudge's cadence step, rendered


@dataclass(frozen=True)
class DueDeliveries:
    claims: tuple[DeliveryClaim, ...]
    more: bool = False  # the limit was reached: more may be due right now


@dataclass(frozen=True)
class DeliveryProblem:
    user_id: int
    platform: str
    external_user_id: str
    error: str
    failed_at: datetime


# --- Pipedrive sync (issue 6) ---------------------------------------------------------------------------

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
class SyncList:
    items: tuple[SyncItemView, ...]
    configured: bool  # a Pipedrive token applies (the user's own or the company's)
    counts: dict[str, int] = field(default_factory=dict)  # by status, over all of the listed scope
    max_retries: int = 3


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


@dataclass(frozen=True)
class SyncNotice:
    """One message owed to a user about a sync failure only a person can fix (several rows, one message)."""

    user_id: int
    text: str
    outbox_ids: tuple[int, ...]
# --- cadences -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepView:
    position: int
    delay_days: int
    kind: str
    subject_template: str | None = None
    message_template: str | None = None


@dataclass(frozen=True)
class StrategyView:
    id: int
    name: str
    steps: tuple[StepView, ...]
    description: str | None = None
    built_in: bool = False
    created_by: str | None = None
    open_plans: int = 0


@dataclass(frozen=True)
class StrategyList:
    strategies: tuple[StrategyView, ...]


@dataclass(frozen=True)
class StrategyResult:
    """A strategy created or changed, with the sentence to tell the user."""

    message: str
    strategy: StrategyView


@dataclass(frozen=True)
class PlanView:
    id: int
    contact_id: int
    strategy: str
    status: str
    current_step: int
    step_count: int
    step_kind: str | None = None
    step_due_at: datetime | None = None
    end_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("not_started", "in_progress", "paused")


@dataclass(frozen=True)
class DueStep:
    """A cadence step that has fallen due for one contact, its subject and message rendered for that contact."""

    plan_id: int
    contact: ContactView
    strategy: str
    position: int
    step_count: int
    kind: str
    due_at: datetime
    reason: str  # “step 2/3 of Warm intro: email due”
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class DueSteps:
    items: tuple[DueStep, ...]


@dataclass(frozen=True)
class StepStall:
    """Open plans waiting at one step: how many, and how many of those fell due more than a day ago."""

    position: int
    kind: str
    waiting: int
    overdue: int


@dataclass(frozen=True)
class StrategyStatsRow:
    strategy: str
    contacts_started: int
    replies: int
    meetings_requested: int
    meetings_booked: int
    active: int
    paused: int
    completed: int
    stalls: tuple[StepStall, ...] = ()


@dataclass(frozen=True)
class CadenceStats:
    rows: tuple[StrategyStatsRow, ...]


@dataclass(frozen=True)
class PrunedHistory:
    """What a housekeeping run removed."""

    requests: int
    deliveries: int

"""What commands return: plain frozen dataclasses. ORM rows never leave the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import SecretStr


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    role: str
    timezone: str
    digest_time: time
    working_days: tuple[int, ...]
    active: bool = True
    digest_paused_until: date | None = None
    signature: str | None = None
    digest_platform: str | None = None  # None: every linked platform

    @property
    def is_golden_ticket(self) -> bool:
        return self.role == "golden_ticket"


@dataclass(frozen=True)
class ContactView:
    id: int
    owner_id: int
    name: str
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    warmness: int = 0
    last_contacted_at: datetime | None = None
    past_business: Decimal = Decimal(0)
    notes: str | None = None
    pipedrive_person_id: int | None = None

    @classmethod
    def of(cls, source) -> "ContactView":
        """The view of a contact row: an ORM `Contact`, or a SQL row carrying the contacts table's columns."""
        return cls(id=source.id, owner_id=source.owner_id, name=source.name, email=source.email,
                   phone=source.phone, organisation=source.organisation, title=source.title,
                   linkedin_url=source.linkedin_url, warmness=source.warmness,
                   last_contacted_at=source.last_contacted_at, past_business=source.past_business,
                   notes=source.notes, pipedrive_person_id=source.pipedrive_person_id)

    @property
    def is_warm(self) -> bool:
        from core.models import WARM_THRESHOLD

        return self.warmness >= WARM_THRESHOLD

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


@dataclass(frozen=True)
class ActionResult:
    """The outcome of a change to one contact, with the sentence to tell the user."""

    message: str
    contact: ContactView | None = None
    sync_queued: bool = False
    activity_id: int | None = None
    # The activity may be taken back for a short while (core/undo.py) by the user who logged it.
    undoable: bool = False


@dataclass(frozen=True)
class ContactList:
    contacts: tuple[ContactView, ...]
    query: str = ""


@dataclass(frozen=True)
class ContactDetail:
    contact: ContactView
    recent_activities: tuple["ActivityView", ...]
    open_follow_ups: tuple["FollowUpView", ...]
    campaigns: tuple[str, ...]
    plan: "PlanView | None" = None  # the contact's open cadence plan, else its latest one


@dataclass(frozen=True)
class ActivityView:
    id: int
    kind: str
    outcome: str
    occurred_at: datetime
    note: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class FollowUpView:
    id: int
    contact_id: int
    due_at: datetime
    note: str | None
    snoozed: bool


@dataclass(frozen=True)
class Suggestion:
    rank: int
    contact: ContactView
    score: float
    reasons: tuple[str, ...]
    follow_up_due: bool = False
    step: "DueStep | None" = None  # a due cadence step, with its message rendered ready to copy

    @property
    def reason(self) -> str:
        return " · ".join(self.reasons)


@dataclass(frozen=True)
class Suggestions:
    items: tuple[Suggestion, ...]
    filters: str = ""


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    status: str
    description: str | None = None
    sector: str | None = None
    theme: str | None = None
    geography: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    contact_count: int = 0


@dataclass(frozen=True)
class CampaignList:
    campaigns: tuple[CampaignView, ...]


@dataclass(frozen=True)
class CampaignResult:
    message: str
    campaign: CampaignView
    warnings: tuple[str, ...] = ()
    contact_ids: tuple[int, ...] = ()  # the contacts it added, for the audit trail


@dataclass(frozen=True)
class StatsRow:
    key: str
    outreach: int
    meetings_requested: int
    meetings_booked: int

    @property
    def conversion(self) -> float | None:
        """Meetings booked per outreach, or None when there was no outreach."""
        return self.meetings_booked / self.outreach if self.outreach else None


@dataclass(frozen=True)
class StatsReport:
    group_by: str | None
    period: str
    since: datetime | None
    until: datetime | None
    rows: tuple[StatsRow, ...]
    total: StatsRow
    campaign: str | None = None


@dataclass(frozen=True)
class SettingsView:
    user: UserView
    message: str = ""


@dataclass(frozen=True)
class UserList:
    users: tuple[UserView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ChatIdentityView:
    user_id: int
    platform: str
    external_user_id: str
    dm_channel: str | None = None


@dataclass(frozen=True)
class AlreadyDone:
    """The same request (a platform's retry, a file shared again) arrived again: it was acted on once, before."""

    message: str = "Already done: that was recorded once."


# --- campaigns: the view, and CSV import reports (issue 7) ------------------------------------------------

@dataclass(frozen=True)
class CampaignMember:
    """One contact of a campaign as the campaign view shows it."""

    contact_id: int
    name: str
    organisation: str | None
    owner: str
    planned_method: str | None
    status: str
    last_outreach_at: datetime | None
    last_method: str | None
    meetings_requested: int
    meetings_booked: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


@dataclass(frozen=True)
class CampaignDetail:
    """A campaign and its members. A consultant sees only the members from their own bank; `others` counts
    the rest. Meetings are those recorded under this campaign, so they agree with `stats campaign NAME`."""

    campaign: CampaignView
    members: tuple[CampaignMember, ...]
    others: int = 0


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

@dataclass(frozen=True)
class DueFollowUp:
    follow_up: FollowUpView
    contact: ContactView


@dataclass(frozen=True)
class HomeView:
    """One user's overview: today's suggestions, the follow-ups due by the end of their day, their month."""

    suggestions: Suggestions
    follow_ups: tuple[DueFollowUp, ...]
    month: StatsReport


# --- linking chat accounts by code ----------------------------------------------------------------------

@dataclass(frozen=True)
class LinkCodeIssued:
    """A fresh one-time link code (shown once; only its hash is stored)."""

    platform: str
    code: str
    expires_at: datetime
    start_link: str | None = None  # e.g. https://t.me/<bot>?start=CODE, when the bot's username is known


@dataclass(frozen=True)
class ChatLinked:
    user: UserView
    platform: str


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

    @property
    def is_warm(self) -> bool:
        """Warm enough for Pipedrive's warm label."""
        from core.models import WARM_THRESHOLD

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

"""Commands: orders given to the core, one frozen dataclass each, handled in one transaction each.

Every command names its `actor` (who asks, and from which platform); the handler checks that this user may
do it, whatever adapter built the command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar
from core.command import Actor, CampaignRef, ContactRef


# --- users and identities -------------------------------------------------------------------------------


# --- contacts -------------------------------------------------------------------------------------------


# --- outreach -------------------------------------------------------------------------------------------


# --- campaigns ------------------------------------------------------------------------------------------


# --- the feed and numbers -------------------------------------------------------------------------------


# --- campaigns: the view, adding one contact, and CSV import (issue 7) -----------------------------------


@dataclass(frozen=True)
class ImportContacts:
    """Import a CSV of contacts into a bank (the actor's own, or `owner_id`'s for the Golden Ticket team).

    `source` is a file path, bytes or a binary stream; it is read once, streamed. `mode` is "update" (existing
    contacts take the file's non-empty cells) or "skip" (existing contacts are left as they are). `progress`
    is called with (bytes read, total bytes) as the file is read.
    """

    actor: Actor
    source: object = field(repr=False)
    owner_id: int | None = None
    mode: str = "update"
    phone_region: str | None = None
    campaign: CampaignRef | None = None
    progress: Callable[[int, int], None] | None = field(default=None, repr=False, compare=False)


# --- undo (core/undo.py) --------------------------------------------------------------------------------


# --- the user's home (core/home.py) ---------------------------------------------------------------------


# --- linking chat accounts by code, and questions asked in a chat ---------------------------------------


# --- privacy (core/privacy.py) --------------------------------------------------------------------------
# `every_bank=False` (chat): the contact is one of the actor's own, named as anywhere in the chat.
# `every_bank=True` (CLI, Golden Ticket only): the person is a contact id, or an email matched in every bank.

@dataclass(frozen=True)
class ExportContact:
    """Everything Pipedriven holds about one person, for a data-subject request."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class PreviewErasure:
    """What erasing this person would remove, to show before asking for a confirmation."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class EraseContact:
    """Remove a person from every table; their past activities stay in the numbers, anonymous."""

    actor: Actor
    contact: ContactRef
    every_bank: bool = False


@dataclass(frozen=True)
class ListAudit:
    """The audit trail, oldest first, the latest `limit` entries (of one user, since a moment)."""

    user_email: str | None = None
    since: datetime | None = None
    limit: int = 500


# --- digests and nudges: settings and the scheduler's claims (core/deliveries.py) -----------------------

@dataclass(frozen=True)
class PauseDigests:
    """No digest and no nudge before `until`, the first day back (a holiday)."""

    actor: Actor
    until: date


@dataclass(frozen=True)
class ResumeDigests:
    actor: Actor


@dataclass(frozen=True)
class ChooseDigestPlatform:
    """Send digests and nudges to one linked platform only, or (platform None) to every linked one."""

    actor: Actor
    platform: str | None


@dataclass(frozen=True)
class PruneHistory:
    """Housekeeping: forget idempotency keys and finished deliveries too old to matter (core/housekeeping.py)."""


@dataclass(frozen=True)
class ClaimDueDeliveries:
    """Claim (for this process, named by `token`) up to `limit` digests and nudges due now on `platforms`."""

    platforms: tuple[str, ...]
    token: str
    limit: int = 100


@dataclass(frozen=True)
class RecordDelivered:
    """A claimed delivery went out (or, `empty`, was a digest with nothing to suggest, so nothing went)."""

    delivery_id: int
    token: str
    message_id: str | None = None
    empty: bool = False


@dataclass(frozen=True)
class RecordDeliveryFailure:
    """A claimed delivery could not be sent: tried again later unless `permanent` (or out of attempts)."""

    delivery_id: int
    token: str
    error: str
    permanent: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class ListDeliveryProblems:
    """Chat accounts whose last delivery failed for good (the user blocked the bot, the account is gone)."""


# --- Pipedrive sync (issue 6) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ListSyncs:
    """A user's Pipedrive syncs: queued, done and failed, with reasons. No actor: everyone's (the CLI)."""

    actor: Actor | None = None
    limit: int = 15


@dataclass(frozen=True)
class RetrySyncs:
    """Queue failed syncs again (by id, or every failed one); the actor may only retry their own."""

    actor: Actor | None = None
    ids: tuple[int, ...] = ()
    all_failed: bool = False


@dataclass(frozen=True)
class SetPipedriveToken:
    """Give a user their own Pipedrive API token (None clears it: the company token applies again)."""

    email: str
    token: str | None = field(repr=False)


@dataclass(frozen=True)
class RotateSecrets:
    """Re-encrypt every stored secret with the first key of PIPEDRIVEN_SECRET_KEY (plain text ones too)."""


@dataclass(frozen=True)
class ClaimSync:
    """The sync worker takes the next due outbox row (FOR UPDATE SKIP LOCKED), one per contact at a time."""

    lease_seconds: float = 300.0


@dataclass(frozen=True)
class NextSyncDue:
    """When the earliest waiting sync falls due (None: nothing waits), so the worker sleeps until then."""


@dataclass(frozen=True)
class RecordPipedriveIds:
    """What was found or created in Pipedrive for a contact, saved at once so a crash or retry resumes there."""

    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    contact_id: int
    org_id: int | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class KnownPipedriveIds:
    """Pipedrive ids another contact already has for this organisation name or this email (any case)."""

    organisation: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RecordPipedriveOwner:
    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    user_id: int
    pipedrive_user_id: int


@dataclass(frozen=True)
class RecordPipedriveActivity:
    platform: ClassVar[str] = "pipedrive"  # who acts, for the audit trail: the sync worker
    activity_id: int
    pipedrive_activity_id: int


@dataclass(frozen=True)
class FinishSync:
    """The end of one attempt: done, retry after a delay, or failed (with the sentence owed to the user, if any).

    `attempt` is the claim's attempt number: a worker whose claim ran out and was taken over changes nothing.
    """

    outbox_id: int
    attempt: int
    outcome: str  # "done", "retry" or "failed"
    reason: str | None = None
    retry_in_seconds: float = 0.0
    user_notice: str | None = None


@dataclass(frozen=True)
class ListSyncNotices:
    """Failures a person must fix that the acting user has not been told about yet (for the notifiers)."""


@dataclass(frozen=True)
class ClaimSyncNotices:
    """Take (and mark as told) up to `limit` owed notices, for a scheduler about to send them."""

    limit: int = 100


@dataclass(frozen=True)
class ReleaseSyncNotices:
    """Hand back claimed notices that could not be delivered, for a later tick."""

    outbox_ids: tuple[int, ...]


@dataclass(frozen=True)
class MarkSyncNoticesSent:
    outbox_ids: tuple[int, ...]


# --- cadences -------------------------------------------------------------------------------------------
# Strategies are shared by the team: anyone may list, show and start one; its creator (or the Golden Ticket
# team) may change it; built-in ones can't be changed. A strategy is named by (part of) its name.

@dataclass(frozen=True)
class ListStrategies:
    actor: Actor


@dataclass(frozen=True)
class ShowStrategy:
    actor: Actor
    strategy: str


@dataclass(frozen=True)
class CreateStrategy:
    actor: Actor
    name: str
    description: str | None = None


@dataclass(frozen=True)
class AddStrategyStep:
    """Append a step: `delay_days` working days after the previous step (or the start), do `kind`."""

    actor: Actor
    strategy: str
    delay_days: int
    kind: str
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class EditStrategyStep:
    """Replace step `position` (its delay, kind and templates); plans already running use the new text."""

    actor: Actor
    strategy: str
    position: int
    delay_days: int
    kind: str
    subject: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RemoveStrategyStep:
    actor: Actor
    strategy: str
    position: int


@dataclass(frozen=True)
class StartCadence:
    """Start a strategy for one contact, or for every contact of the actor's in a campaign.

    `name_and_contact` is a strategy's name run on into a contact's, as typed (“warm intro bob stone”) when
    the words alone don't show where one ends: the core splits it after the longest name of a strategy.
    """

    actor: Actor
    strategy: str = ""
    contact: ContactRef | None = None
    campaign: CampaignRef | None = None
    name_and_contact: str | None = None


@dataclass(frozen=True)
class PauseCadence:
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ResumeCadence:
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class RestartCadence:
    """Start the contact's latest plan again from step 1 (the old plan ends, as history)."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class StopCadence:
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ListDueSteps:
    """The actor's cadence steps that have fallen due, rendered; the scheduler's nudges use it too."""

    actor: Actor


@dataclass(frozen=True)
class GetCadenceStats:
    """By strategy, team-wide like GetStats: contacts started, replies, meetings, and where plans stall."""

    actor: Actor

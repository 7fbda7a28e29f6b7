"""Digests and nudges: a user's delivery settings, and the scheduler's claims on what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.cadences.commands import DueStep
from core.command import Actor, Bookkeeping, Command, Query
from core.users.commands import ChatIdentityView
from core.views import ContactView, FollowUpView, UserView


@dataclass(frozen=True)
class PauseDigests(Command):
    """No digest and no nudge before `until`, the first day back (a holiday)."""

    actor: Actor
    until: date


@dataclass(frozen=True)
class ResumeDigests(Command):
    actor: Actor


@dataclass(frozen=True)
class ChooseDigestPlatform(Command):
    """Send digests and nudges to one linked platform only, or (platform None) to every linked one."""

    actor: Actor
    platform: str | None


@dataclass(frozen=True)
class ClaimDueDeliveries(Bookkeeping):
    """Claim (for this process, named by `token`) up to `limit` digests and nudges due now on `platforms`."""

    platforms: tuple[str, ...]
    token: str
    limit: int = 100
    rules: bool = True  # the rules from outcomes looked at too (a sweep the scheduler runs less often)


@dataclass(frozen=True)
class RecordDelivered(Bookkeeping):
    """A claimed delivery went out (or, `empty`, was a digest with nothing to suggest, so nothing went)."""

    delivery_id: int
    token: str
    message_id: str | None = None
    empty: bool = False


@dataclass(frozen=True)
class RecordDeliveryFailure(Bookkeeping):
    """A claimed delivery could not be sent: tried again later unless `permanent` (or out of attempts)."""

    delivery_id: int
    token: str
    error: str
    permanent: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class ReleaseDeliveryClaims(Bookkeeping):
    """A stopping process hands back its claims still unsent, for any process to take at once."""

    token: str


@dataclass(frozen=True)
class ListDeliveryProblems(Query):
    """Chat accounts whose last delivery failed for good (the user blocked the bot, the account is gone)."""


@dataclass(frozen=True)
class RuleNudge:
    """A rule from outcomes that fired for a contact (core.rules.outcomes): which, why, and the method to try."""

    rule: str
    reason: str
    method: str | None = None


@dataclass(frozen=True)
class DeliveryClaim:
    """A digest or nudge this process has claimed and must now send (or record as failed)."""

    id: int
    kind: str  # digest | nudge | step | rule
    user: UserView
    target: ChatIdentityView
    due_at: datetime
    follow_up: FollowUpView | None = None  # a nudge's follow-up, and its contact
    contact: ContactView | None = None
    step: DueStep | None = None  # a step nudge's cadence step, rendered
    rule: RuleNudge | None = None  # a rule's nudge: its reason


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

"""Results several features share: users, contacts, campaigns and follow-ups as plain frozen views, the outcome of
a change to one contact, and the answer to a request already done. ORM rows never leave the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from core.countries import country_name
from core.vocabulary import WARM_THRESHOLD


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
    past_business_currency: str | None = None  # a code such as EUR; None: not said
    sector: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2: `country_name` is how it is shown

    @classmethod
    def of(cls, source) -> ContactView:
        """The view of a contact row: an ORM `Contact`, or a SQL row carrying the contacts table's columns."""
        return cls(
            id=source.id,
            owner_id=source.owner_id,
            name=source.name,
            email=source.email,
            phone=source.phone,
            organisation=source.organisation,
            title=source.title,
            linkedin_url=source.linkedin_url,
            warmness=source.warmness,
            last_contacted_at=source.last_contacted_at,
            past_business=source.past_business,
            notes=source.notes,
            pipedrive_person_id=source.pipedrive_person_id,
            past_business_currency=getattr(source, "past_business_currency", None),
            sector=getattr(source, "sector", None),
            country=getattr(source, "country", None),
        )

    @property
    def is_warm(self) -> bool:
        return self.warmness >= WARM_THRESHOLD

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name

    @property
    def country_name(self) -> str | None:
        return country_name(self.country) if self.country else None


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
class FollowUpView:
    id: int
    contact_id: int
    due_at: datetime
    note: str | None
    snoozed: bool


@dataclass(frozen=True)
class SettingsView:
    user: UserView
    message: str = ""


@dataclass(frozen=True)
class ActionResult:
    """The outcome of a change to one contact, with the sentence to tell the user."""

    message: str
    contact: ContactView | None = None
    sync_queued: bool = False
    activity_id: int | None = None
    # The activity may be taken back for a short while (core.outreach) by the user who logged it.
    undoable: bool = False
    # A contact edit (core.contacts) its author may take back: the event that keeps the values it replaced.
    edit_id: int | None = None
    # The same method was logged for the same contact by the same user this many seconds before (a double tap?).
    logged_again_after: int | None = None
    # A contact just removed from the bank (core.contacts): the answer offers to put it back.
    restorable: bool = False


@dataclass(frozen=True)
class AlreadyDone:
    """The same request (a platform's retry, a file shared again) arrived again: it was acted on once, before."""

    message: str = "Already done: that was recorded once."


@dataclass(frozen=True)
class Collision:
    """One of the bank's contacts (by the name it has there) whose email is in the banks of `owners`."""

    name: str
    owners: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """“Ana Lima is also in Carl's bank.”"""
        return f"{self.name} is also in {_banks(self.owners)}."


def _banks(owners: tuple[str, ...]) -> str:
    if len(owners) == 1:
        return f"{owners[0]}'s bank"
    return ", ".join(f"{o}'s" for o in owners[:-1]) + f" and {owners[-1]}'s banks"

"""Contacts in a user's own bank: adding, editing, finding and showing one; removing one (restorable) and merging
two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.cadences.commands import PlanView
from core.command import Actor, Command, ContactRef, Query
from core.views import ContactView, FollowUpView


@dataclass(frozen=True)
class AddContact(Command):
    actor: Actor
    name: str
    email: str | None = None
    organisation: str | None = None
    phone: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    notes: str | None = None
    warmness: int = 0
    past_business: Decimal | None = None


@dataclass(frozen=True)
class UpdateContact(Command):
    """Change the given fields; a field left as None is kept as it is."""

    actor: Actor
    contact: ContactRef
    name: str | None = None
    email: str | None = None
    organisation: str | None = None
    phone: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    notes: str | None = None
    warmness: int | None = None
    past_business: Decimal | None = None


# The fields `edit` changes, by every word people use for them.
EDITABLE_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "company": "organisation",
    "title": "title",
    "linkedin": "linkedin_url",
    "sector": "sector",
    "industry": "sector",
    "country": "country",
    "warmness": "warmness",
    "past business": "past_business",
    "past_business": "past_business",
    "notes": "notes",
}
EDITABLE_FIELD_LIST = (
    "name, email, phone, organisation (org, company), title, linkedin, sector (industry), country, warmness, "
    "past business, notes"
)


# What an edit's value may be to empty an optional field (`edit ana phone -`); an empty value does too.
CLEARING_VALUES = frozenset({"-", "none"})


@dataclass(frozen=True)
class EditContact(Command):
    """Set a field of a contact to what the user typed (`past business` `12k EUR`), and with `more_fields` others
    in the same edit (a form's changes): one audited edit, whose undo puts them all back."""

    actor: Actor
    contact: ContactRef
    field: str
    value: str
    more_fields: tuple[tuple[str, str], ...] = ()  # further (field, value) pairs

    @property
    def changes(self) -> tuple[tuple[str, str], ...]:
        return ((self.field, self.value), *self.more_fields)


@dataclass(frozen=True)
class UndoContactEdit(Command):
    """Put back the values a contact had before one `EditContact`."""

    actor: Actor
    contact: ContactRef
    edit_id: int


@dataclass(frozen=True)
class ArchiveContact(Command):
    """Remove a contact from the user's bank: out of every list, its history kept; `RestoreContact` undoes it."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class RestoreContact(Command):
    """Put a removed contact back in the bank, as it was."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class PreviewRemoval(Query):
    """What removing a contact would do: the question the chat asks before `ArchiveContact`."""

    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ListRemoved(Query):
    """The contacts removed from the user's bank (those whose name, email or organisation has `text`), the latest
    first."""

    actor: Actor
    text: str = ""
    limit: int = 20


@dataclass(frozen=True)
class PreviewMerge(Query):
    """What merging `other` into `keep` would do: the question the chat asks before `MergeContacts`."""

    actor: Actor
    keep: ContactRef
    other: ContactRef


@dataclass(frozen=True)
class MergeContacts(Command):
    """Merge `other` into `keep` (both of the user's bank): its history, follow-ups, plans and campaigns move to
    `keep`, empty fields of `keep` are filled from it, and `other` leaves the bank."""

    actor: Actor
    keep: ContactRef
    other: ContactRef


@dataclass(frozen=True)
class RemovalPreview:
    contact: ContactView
    open_follow_ups: int = 0
    cadence: str | None = None  # the strategy of the contact's open plan, which waits while it is removed


@dataclass(frozen=True)
class RemovedContact:
    contact: ContactView
    removed_at: datetime


@dataclass(frozen=True)
class RemovedList:
    contacts: tuple[RemovedContact, ...]
    more: int = 0
    query: str = ""


@dataclass(frozen=True)
class MergePreview:
    keep: ContactView
    other: ContactView
    notes: tuple[str, ...] = ()  # what the merge can't join and how it settles it


@dataclass(frozen=True)
class MergeResult:
    message: str
    contact: ContactView  # the survivor, as merged
    contact_ids: tuple[int, int]  # the survivor and the contact merged into it (for the audit trail)


@dataclass(frozen=True)
class FindContacts(Query):
    actor: Actor
    text: str
    limit: int = 10


@dataclass(frozen=True)
class FindInEveryBank(Query):
    """`find everyone TEXT`, for the Golden Ticket team: contacts of every bank, each with its owner."""

    actor: Actor
    text: str
    limit: int = 10


@dataclass(frozen=True)
class TeamMatch:
    contact: ContactView
    owner: str  # the display name of the user whose bank holds it


@dataclass(frozen=True)
class TeamContactList:
    matches: tuple[TeamMatch, ...]
    query: str = ""


@dataclass(frozen=True)
class ShowContact(Query):
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class ContactList:
    contacts: tuple[ContactView, ...]
    query: str = ""


@dataclass(frozen=True)
class ContactDetail:
    contact: ContactView
    recent_activities: tuple[ActivityView, ...]
    open_follow_ups: tuple[FollowUpView, ...]
    campaigns: tuple[str, ...]
    plan: PlanView | None = None  # the contact's open cadence plan, else its latest one
    pipedrive_change: str | None = None  # the last change that came from Pipedrive ("name changed")
    pipedrive_changed_at: datetime | None = None
    pipedrive_deleted_at: datetime | None = None  # its person was deleted in Pipedrive (now unlinked)
    pipedrive_owner: str | None = None  # who owns its person in Pipedrive, by name
    deals: tuple[DealView, ...] = ()  # its deals won or lost in Pipedrive, latest first
    won_by_currency: tuple[tuple[str, Decimal], ...] = ()  # the sum of its won deals, per currency
    removed_at: datetime | None = None  # when it was removed from the bank (`show` still finds it)


@dataclass(frozen=True)
class DealView:
    """A Pipedrive deal with the contact, as its history shows it."""

    title: str | None
    status: str  # won or lost
    value: Decimal
    currency: str | None
    at: datetime
    lost_reason: str | None = None


@dataclass(frozen=True)
class ActivityView:
    id: int
    kind: str
    outcome: str
    occurred_at: datetime
    note: str | None = None
    due_at: datetime | None = None
    channel: str | None = None

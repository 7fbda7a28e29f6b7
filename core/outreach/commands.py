"""Outreach on one contact: logging a touch, a note, a warm flag, meetings, follow-ups, snoozes, taking back an
outreach logged by mistake, and an interaction told in a line (previewed as a draft, written once confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.command import Actor, CampaignRef, Command, ContactRef, Query
from core.views import ContactView


@dataclass(frozen=True)
class LogOutreach(Command):
    actor: Actor
    contact: ContactRef
    method: str
    note: str | None = None
    outcome: str = "none"
    campaign: CampaignRef | None = None


@dataclass(frozen=True)
class AddNote(Command):
    actor: Actor
    contact: ContactRef
    text: str


@dataclass(frozen=True)
class FlagWarm(Command):
    actor: Actor
    contact: ContactRef
    warmness: int = 4


@dataclass(frozen=True)
class RequestMeeting(Command):
    actor: Actor
    contact: ContactRef
    note: str | None = None


@dataclass(frozen=True)
class BookMeeting(Command):
    actor: Actor
    contact: ContactRef
    at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetFollowUp(Command):
    actor: Actor
    contact: ContactRef
    due_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Snooze(Command):
    actor: Actor
    contact: ContactRef
    until: datetime


@dataclass(frozen=True)
class CompleteFollowUp(Command):
    actor: Actor
    contact: ContactRef


@dataclass(frozen=True)
class UndoOutreach(Command):
    """Take back an outreach just logged by mistake: only its own logger may, and only for a short while."""

    actor: Actor
    contact: ContactRef
    activity_id: int


@dataclass(frozen=True)
class RecordInteraction(Command):
    """What happened with a contact, written whole or not at all: the outreach (`method` is an outreach method,
    or `meeting` for a meeting or conversation held), and with it a follow-up, a warm flag and a meeting
    requested or booked. The answer offers the outreach's undo, as logging does."""

    actor: Actor
    contact: ContactRef
    method: str
    note: str | None = None
    outcome: str = "none"
    follow_up_at: datetime | None = None
    warm: bool = False
    meeting: str | None = None  # "requested" or "booked"
    meeting_at: datetime | None = None


# --- interaction drafts: a line read as an interaction, previewed until the user confirms it ---------------


@dataclass(frozen=True)
class InteractionFields:
    """What a line said happened, as read (any field may be missing: the preview shows it as such)."""

    contact_name: str | None = None
    organisation: str | None = None
    method: str | None = None
    outcome: str | None = None
    follow_up: date | None = None
    warm: bool = False
    meeting: str | None = None  # "requested" or "booked"
    meeting_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class InteractionDraft:
    """A draft as the preview shows it: the contact it is about once known, else the contacts that match."""

    id: int
    text: str
    fields: InteractionFields
    contact: ContactView | None = None
    candidates: tuple[ContactView, ...] = ()


@dataclass(frozen=True)
class SaveInteractionDraft(Command):
    """Keep a line read as an interaction, its contact looked up in the user's bank; with `draft_id`, the
    line corrected replaces that draft."""

    actor: Actor
    text: str
    fields: InteractionFields
    draft_id: int | None = None


@dataclass(frozen=True)
class ChooseDraftContact(Command):
    """The contact a draft is about, picked among the matches (None: none of them)."""

    actor: Actor
    draft_id: int
    contact_id: int | None


@dataclass(frozen=True)
class SetDraftMethod(Command):
    """The method a draft's line didn't say, picked from the preview's buttons."""

    actor: Actor
    draft_id: int
    method: str


@dataclass(frozen=True)
class ShowInteractionDraft(Query):
    actor: Actor
    draft_id: int


@dataclass(frozen=True)
class ConfirmInteraction(Command):
    """Write a draft as its preview showed it (a RecordInteraction) and drop it, in one transaction."""

    actor: Actor
    draft_id: int


@dataclass(frozen=True)
class DiscardInteractionDraft(Command):
    actor: Actor
    draft_id: int

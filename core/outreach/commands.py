"""Outreach on one contact: logging a touch, a note, a warm flag, meetings, follow-ups, snoozes, and taking back an
outreach logged by mistake (or finding the user's last action that `undo` may take back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.command import Actor, CampaignRef, Command, ContactRef, Query


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


# How far back `undo` looks for the user's last outreach or contact edit.
UNDO_LOOKBACK = timedelta(minutes=10)


@dataclass(frozen=True)
class FindLastUndoable(Query):
    """The user's most recent action `undo` may take back, within UNDO_LOOKBACK: an outreach they logged or a
    contact edit they made (and haven't undone). Answers an `Undoable`, or None."""

    actor: Actor


@dataclass(frozen=True)
class Undoable:
    kind: str  # "outreach" (undone by UndoOutreach) or "edit" (by UndoContactEdit)
    contact_id: int
    id: int  # the activity's, or the edit's

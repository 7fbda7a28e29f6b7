"""Outreach on one contact: logging a touch, a note, a warm flag, meetings, follow-ups, snoozes, and taking back an
outreach logged by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.command import Actor, CampaignRef, Command, ContactRef


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

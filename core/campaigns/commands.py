"""Campaigns: creating and editing them, listing them, a campaign's view, and adding contacts to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.command import Actor, CampaignRef, Command, ContactRef, Query
from core.views import CampaignView


@dataclass(frozen=True)
class CreateCampaign(Command):
    actor: Actor
    name: str
    description: str | None = None
    sector: str | None = None
    theme: str | None = None
    geography: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: str = "draft"


@dataclass(frozen=True)
class UpdateCampaign(Command):
    actor: Actor
    campaign: CampaignRef
    name: str | None = None
    description: str | None = None
    sector: str | None = None
    theme: str | None = None
    geography: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: str | None = None


@dataclass(frozen=True)
class AddToCampaign(Command):
    actor: Actor
    campaign: CampaignRef
    contact_ids: tuple[int, ...]
    method: str | None = None


@dataclass(frozen=True)
class ListCampaigns(Query):
    actor: Actor


@dataclass(frozen=True)
class ShowCampaign(Query):
    """A campaign's contacts with who owns each, their last outreach, status and meetings."""

    actor: Actor
    campaign: CampaignRef


@dataclass(frozen=True)
class AddContactToCampaign(Command):
    """Add one contact, named as in chat (row, email, name; an id from any bank for the Golden Ticket team)."""

    actor: Actor
    campaign: CampaignRef
    contact: ContactRef
    method: str | None = None


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

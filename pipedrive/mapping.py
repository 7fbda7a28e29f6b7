"""Pure mapping from our contacts and activities to Pipedrive v2 payloads. No I/O, no clock.

v2 is strict: ids are integers, booleans are true/false, dates are YYYY-MM-DD and times HH:MM in UTC, and a
key left out is better than a null. The activity type mapping is the seeds' (LinkedIn and referral become
tasks, a conference a meeting); a campaign email counts as an email. Notes are not Pipedrive activities.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from core.countries import country_name
from core.sync.commands import SyncActivity, SyncContact
from pipedrive.client import ActivityRecord, Person

ACTIVITY_TYPES = {
    "call": "call",
    "email": "email",
    "campaign_email": "email",
    "meeting": "meeting",
    "linkedin": "task",
    "referral": "task",
    "conference": "meeting",
}

_SUBJECTS = {
    "call": "Call with {name}",
    "email": "Email to {name}",
    "campaign_email": "Campaign email to {name}",
    "linkedin": "LinkedIn message to {name}",
    "referral": "Referral: {name}",
    "conference": "Met {name} at a conference",
    "meeting_booked": "Meeting with {name}",
    "meeting_requested": "Meeting requested with {name}",
}


def activity_type(kind: str) -> str | None:
    """The Pipedrive activity type key for one of our activity kinds; None for what is not replicated."""
    return ACTIVITY_TYPES.get(kind)


def organization_payload(contact: SyncContact, *, owner_id: int | None, industry: dict) -> dict:
    """A new organization: its name, owner, address (the contact's country) and industry (a custom field)."""
    return _present({"name": contact.organisation, "owner_id": owner_id, **organization_details(contact, industry)})


def organization_details(contact: SyncContact, industry: dict) -> dict:
    """The address and industry we know of a contact's organisation (nothing we don't know is sent)."""
    country = country_name(contact.country) if contact.country else None
    return _present(
        {
            "address": {"value": country, "country": country} if country else None,
            "custom_fields": industry or None,
        }
    )


def organization_gaps(details: dict, existing: dict) -> dict:
    """Of `details` (organization_details), only what the organization in Pipedrive has empty: its address when it
    has none, each custom field (the industry) when it has no value; never a value Pipedrive holds."""
    gaps: dict = {}
    address = existing.get("address")
    held_address = any(_filled(v) for v in address.values()) if isinstance(address, dict) else _filled(address)
    if "address" in details and not held_address:
        gaps["address"] = details["address"]
    held = existing.get("custom_fields") if isinstance(existing.get("custom_fields"), dict) else {}
    if empty := {k: v for k, v in (details.get("custom_fields") or {}).items() if not _filled(held.get(k))}:
        gaps["custom_fields"] = empty
    return gaps


def _filled(value) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip())


def person_payload(
    contact: SyncContact,
    *,
    owner_id: int | None,
    org_id: int | None,
    label_id: int | None,
    campaign_field_key: str | None,
) -> dict:
    payload = {
        **person_details(contact, org_id=org_id),
        "owner_id": owner_id,
        "label_ids": [label_id] if label_id is not None else None,
        "custom_fields": ({campaign_field_key: contact.campaign} if campaign_field_key and contact.campaign else None),
    }
    return _present(payload)


def person_details(contact: SyncContact, *, org_id: int | None) -> dict:
    """A contact's edited details for its person in Pipedrive: they replace what it had (a v2 PATCH)."""
    return _present(
        {
            "name": contact.name,
            "org_id": org_id,
            "emails": [{"value": contact.email, "primary": True, "label": "work"}] if contact.email else None,
            "phones": [{"value": contact.phone, "primary": True, "label": "work"}] if contact.phone else None,
        }
    )


def person_update(person: Person, *, org_id: int | None, label_id: int | None) -> dict:
    """What to add to a person found in Pipedrive: our label, and our organisation if it has none. Their own
    labels stay (v2 replaces `label_ids` as a whole)."""
    update: dict = {}
    if label_id is not None and label_id not in person.label_ids:
        update["label_ids"] = [*person.label_ids, label_id]
    if org_id is not None and person.org_id is None:
        update["org_id"] = org_id
    return update


def activity_payload(
    activity: SyncActivity,
    contact: SyncContact,
    *,
    type_key: str,
    person_id: int,
    org_id: int | None,
    owner_id: int | None,
) -> dict:
    due_date, due_time, done = _due(activity)
    return _present(
        {
            "subject": activity.subject or _subject(activity, contact.name),
            "type": type_key,
            "owner_id": owner_id,
            "org_id": org_id,
            "due_date": due_date,
            "due_time": due_time,
            "done": done,
            "note": _note(activity),
            "participants": [{"person_id": person_id, "primary": True}],
        }
    )


def note_content(text: str) -> str:
    """A note of ours as Pipedrive's HTML note content: escaped, one line per line."""
    return "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))


def same_activity(record: ActivityRecord, payload: dict) -> bool:
    """Whether an activity found in Pipedrive is the one `payload` would create (after a lost response)."""
    return (
        record.subject == payload["subject"]
        and record.type == payload["type"]
        and record.due_date == payload.get("due_date")
        and (record.due_time or "")[:5] == (payload.get("due_time") or "")
        and (record.note or "") == (payload.get("note") or "")
    )


def _due(activity: SyncActivity) -> tuple[str | None, str | None, bool]:
    """Due date, time (UTC) and done: a booked meeting is due when it is; a requested one is a to-do from
    the day it was asked; an outreach happened when it was logged."""
    if activity.outcome == "meeting_booked":
        at = _utc(activity.due_at) if activity.due_at else None
        return (f"{at:%Y-%m-%d}", f"{at:%H:%M}", False) if at else (None, None, False)
    at = _utc(activity.occurred_at)
    if activity.outcome == "meeting_requested":
        return f"{at:%Y-%m-%d}", None, False
    return f"{at:%Y-%m-%d}", f"{at:%H:%M}", True


def _subject(activity: SyncActivity, name: str) -> str:
    key = activity.outcome if activity.kind == "meeting" else activity.kind
    return _SUBJECTS.get(key, "{name}").format(name=name)[:255]


def _note(activity: SyncActivity) -> str | None:
    parts = []
    if activity.kind != "meeting" and activity.outcome not in ("none", ""):
        parts.append(f"Outcome: {activity.outcome.replace('_', ' ')}")
    if activity.note:
        parts.append(activity.note)
    return "\n".join(parts) or None


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _present(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if value is not None}

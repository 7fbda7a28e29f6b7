"""The sync of one claimed outbox row: organisation, person, then activity, each found before it is created.

Every id is stored in our database the moment Pipedrive gives it, so a retry or a worker taking over after a
crash starts from there, and another contact of the same organisation (or with the same email) reuses it.
Finding-or-creating one organisation or person holds a lock in PostgreSQL, so two workers syncing two
contacts of one organisation create it once. When an answer was lost after Pipedrive acted, the search finds what was created:
organisations by exact name, persons by email (else by name within the organisation, else by name among the
owner's persons without one), activities among the person's by subject, type, due date and note, leaving
out those already linked to our other activities. Hence no duplicates, however often a sync is retried.
A contact edited here once it is in Pipedrive gets its person's name, email, phone and organisation replaced;
an organisation gets the contact's country as its address and its sector as its industry (a custom field named
"Industry", when the company has one) when it is created and when they are edited; one Pipedrive already had
gets them when a contact is first linked to it, where it has none (what it holds is never replaced then). Each `note` becomes a note on
the person, sent once (a contact linked later takes its notes along on its first sync), and the contact's notes
field is one more note, replaced when it is edited and deleted when it is emptied.
An outreach undone here is deleted in Pipedrive too, even when the undo came while it was being sent; so is a
person created for a contact erased while it was being sent (an erasure waits for a sync in flight, but a worker
may outlive its lease).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.outbox import DETAILS_CHANGED, NOTES_EDITED, ORGANISATION_CHANGED
from core.service import Core
from core.sync.commands import (
    KnownPipedriveIds,
    RecordPipedriveActivity,
    RecordPipedriveIds,
    RecordPipedriveNote,
    RecordPipedriveOwner,
    SyncActivity,
    SyncContact,
    SyncTask,
)
from pipedrive import mapping
from pipedrive.client import PipedriveClient
from pipedrive.lookups import CompanyLookups, missing_field_note


@dataclass
class Company:
    """What one API token reaches: its client (with its throttle) and its cached lookups."""

    client: PipedriveClient
    lookups: CompanyLookups


async def sync_task(core: Core, company: Company, task: SyncTask) -> str | None:
    """Sync one task; what was left out and why (for `sync status`), else None."""
    if task.undone_activity_id is not None:
        await company.client.delete_activity(task.undone_activity_id)
        return None
    contact = task.contact
    if contact is None:  # erased since: nothing of it may go to Pipedrive
        return None
    left_out: str | None = None
    settings = core.settings
    owner_id = await _owner_id(core, company, task)
    org_id, org_is_new = contact.pipedrive_org_id, False
    org_linked_now = False  # to an organisation Pipedrive had: what it lacks of ours is filled in
    if org_id is None and contact.organisation:
        async with core.pipedrive_record_lock(f"org:{contact.organisation.strip().lower()}"):
            org_id = (await core.execute(KnownPipedriveIds(organisation=contact.organisation))).org_id
            if org_id is None:
                org_id, org_is_new = await _organisation(company, contact, owner_id)
            if not await core.execute(RecordPipedriveIds(contact.id, org_id=org_id)):
                return None  # erased meanwhile: nothing more of it goes to Pipedrive
            org_linked_now = not org_is_new
    person_id = contact.pipedrive_person_id
    if person_id is None:
        label_id = await company.lookups.label_id(settings.pipedrive_warm_label) if contact.is_warm else None
        field_key = (
            await company.lookups.text_field_key(settings.pipedrive_campaign_source_field) if contact.campaign else None
        )
        if contact.campaign and field_key is None:
            left_out = missing_field_note(settings.pipedrive_campaign_source_field)
        key = contact.email or f"{contact.name}@{org_id}"
        async with core.pipedrive_record_lock(f"person:{key.strip().lower()}"):
            known = (await core.execute(KnownPipedriveIds(email=contact.email))).person_id if contact.email else None
            person_id, created = await _person(
                company,
                contact,
                known=known,
                owner_id=owner_id,
                org_id=org_id,
                org_is_new=org_is_new,
                label_id=label_id,
                field_key=field_key,
            )
            if not await core.execute(RecordPipedriveIds(contact.id, person_id=person_id)):
                if created:  # erased while it was being sent: no copy of it may stay in Pipedrive
                    await company.client.delete_person(person_id)
                return None
    elif task.event == DETAILS_CHANGED:
        await company.client.update_person(person_id, mapping.person_details(contact, org_id=org_id))
    if org_linked_now and org_id is not None:
        await _fill_organisation(company, contact, org_id)
    elif task.event == ORGANISATION_CHANGED and org_id is not None and not org_is_new:
        details = mapping.organization_details(contact, await _industry(company, contact))
        if details:
            await company.client.update_organization(org_id, details)
    if not await _notes(core, company, task, contact, person_id):
        return None  # erased meanwhile
    activity = task.activity
    if activity is not None and activity.pipedrive_activity_id is None:
        activity_id = await _activity(
            company, task, activity, contact, person_id=person_id, org_id=org_id, owner_id=owner_id
        )
        if activity_id is not None and not await core.execute(RecordPipedriveActivity(activity.id, activity_id)):
            await company.client.delete_activity(activity_id)  # undone here while it was being sent
    return left_out


async def _owner_id(core: Core, company: Company, task: SyncTask) -> int | None:
    """The acting user's Pipedrive user id: stored on the user once found (users/find costs 40 tokens)."""
    if task.user is None:
        return None
    if task.user.pipedrive_user_id is not None:
        return task.user.pipedrive_user_id
    owner_id = await company.lookups.owner_id(task.user.email)
    if owner_id is not None:
        await core.execute(RecordPipedriveOwner(task.user.id, owner_id))
    return owner_id


async def _organisation(company: Company, contact: SyncContact, owner_id: int | None) -> tuple[int, bool]:
    """The organisation's id, and whether it was created just now."""
    wanted = contact.organisation.strip().lower()
    found = [
        o.id
        for o in await company.client.search_organizations(contact.organisation)
        if o.name.strip().lower() == wanted
    ]
    if found:
        return min(found), False
    payload = mapping.organization_payload(contact, owner_id=owner_id, industry=await _industry(company, contact))
    return await company.client.create_organization(payload), True


async def _fill_organisation(company: Company, contact: SyncContact, org_id: int) -> None:
    """Give an organisation Pipedrive already had the contact's country and industry where it has none."""
    details = mapping.organization_details(contact, await _industry(company, contact))
    if not details or (existing := await company.client.organization_data(org_id)) is None:
        return
    if gaps := mapping.organization_gaps(details, existing):
        await company.client.update_organization(org_id, gaps)


async def _industry(company: Company, contact: SyncContact) -> dict:
    return await company.lookups.industry(contact.sector) if contact.sector else {}


async def _notes(core: Core, company: Company, task: SyncTask, contact: SyncContact, person_id: int) -> bool:
    """The contact's notes field and its `note`s on the person in Pipedrive; False when the contact is gone."""
    client = company.client
    linked = set(task.linked_note_ids)
    existing: dict[str, list[int]] | None = None

    async def find_or_create(content: str) -> int:
        nonlocal existing
        if existing is None:  # an answer lost after Pipedrive acted left the note there: find it
            existing = {}
            for note in await client.person_notes(person_id):
                if note.id not in linked:
                    existing.setdefault(note.content, []).append(note.id)
        if found := existing.get(content):
            note_id = min(found)
            found.remove(note_id)
        else:
            note_id = await client.create_note(person_id, content)
        linked.add(note_id)
        return note_id

    note_id = contact.pipedrive_note_id
    if note_id is not None and task.event == NOTES_EDITED:
        if not contact.notes:
            await client.delete_note(note_id)
            if not await core.execute(RecordPipedriveNote(None, contact_id=contact.id)):
                return False
        elif not await client.update_note(note_id, mapping.note_content(contact.notes)):
            note_id = None  # deleted in Pipedrive: it is written again
    if note_id is None and contact.notes:
        note_id = await find_or_create(mapping.note_content(contact.notes))
        if not await core.execute(RecordPipedriveNote(note_id, contact_id=contact.id)):
            await client.delete_note(note_id)
            return False
    for note in task.notes:
        note_id = await find_or_create(mapping.note_content(note.text))
        if not await core.execute(RecordPipedriveNote(note_id, activity_id=note.activity_id)):
            await client.delete_note(note_id)  # erased while it was being sent
    return True


async def _person(
    company: Company,
    contact: SyncContact,
    *,
    known: int | None,
    owner_id: int | None,
    org_id: int | None,
    org_is_new: bool,
    label_id: int | None,
    field_key: str | None,
) -> tuple[int, bool]:
    """The person's id, and whether it was created just now."""
    client = company.client
    existing = known or await _find_person(client, contact, owner_id=owner_id, org_id=org_id, org_is_new=org_is_new)
    if existing is None:
        return await client.create_person(
            mapping.person_payload(
                contact, owner_id=owner_id, org_id=org_id, label_id=label_id, campaign_field_key=field_key
            )
        ), True
    update = mapping.person_update(await client.get_person(existing), org_id=org_id, label_id=label_id)
    if update:
        await client.update_person(existing, update)
    return existing, False


async def _find_person(
    client: PipedriveClient, contact: SyncContact, *, owner_id: int | None, org_id: int | None, org_is_new: bool
) -> int | None:
    if contact.email:
        email = contact.email.lower()
        found = [
            p.id
            for p in await client.search_persons(contact.email, field="email")
            if email in (e.lower() for e in p.emails)
        ]
        if found:
            return min(found)
    name = contact.name.strip().lower()
    if org_is_new:  # an organisation created a moment ago has nobody in it: spare the search
        return None
    if org_id is not None:
        found = [
            p.id
            for p in await client.search_persons(contact.name, field="name", organization_id=org_id)
            if p.name.strip().lower() == name and p.organization_id == org_id
        ]
        return min(found) if found else None
    if contact.email:
        return None
    # No email and no organisation: only the same name among this owner's persons without one can be it.
    found = [
        p.id
        for p in await client.search_persons(contact.name, field="name")
        if p.name.strip().lower() == name and p.organization_id is None and p.owner_id == owner_id
    ]
    return min(found) if found else None


async def _activity(
    company: Company,
    task: SyncTask,
    activity: SyncActivity,
    contact: SyncContact,
    *,
    person_id: int,
    org_id: int | None,
    owner_id: int | None,
) -> int | None:
    type_key = mapping.activity_type(activity.kind)
    if type_key is None:
        return None
    payload = mapping.activity_payload(
        activity,
        contact,
        type_key=await company.lookups.activity_type(type_key),
        person_id=person_id,
        org_id=org_id,
        owner_id=owner_id,
    )
    found = [
        r.id
        for r in await company.client.person_activities(person_id)
        if r.id not in task.linked_activity_ids and mapping.same_activity(r, payload)
    ]
    if found:
        return min(found)
    return await company.client.create_activity(payload)

"""Assertions and steps shared by the Pipedrive sync tests."""

from __future__ import annotations

from core.command import Actor, ContactRef
from core.outreach.commands import FlagWarm

V1_PATHS = {
    "/api/v1/users",
    "/api/v1/users/find",
    "/api/v1/activityTypes",
    "/api/v1/personFields",
    "/api/v1/organizationFields",
    "/api/v1/notes",
}


def assert_clean(fake, *, orgs: int, persons: int, activities: int = 0) -> None:
    """What Pipedrive holds: exactly these many of each, and never a deal."""
    assert (len(fake.organizations), len(fake.persons), len(fake.live_activities())) == (orgs, persons, activities)
    assert fake.deal_calls == 0
    assert all(
        s.path.startswith("/api/v2/")
        or s.path in V1_PATHS
        or s.path.startswith(("/api/v1/personFields/", "/api/v1/notes/"))
        for s in fake.seen
    )


async def warm(core, user, contact):
    return await core.execute(FlagWarm(me(user), ref(contact)))


def me(user) -> Actor:
    return Actor(user.id, "console")


def ref(contact) -> ContactRef:
    return ContactRef(id=contact.id)


async def renamed_in_pipedrive(core, contact, new_name: str, at) -> None:
    """Link the contact to a person in Pipedrive and let Pipedrive's webhook rename that person at `at`, through
    the commands the webhook receiver and its worker give the core."""
    from core.inbound.commands import ApplyPipedriveEvent, ReceivePipedriveEvent
    from core.sync.commands import RecordPipedriveIds

    person_id = 7000 + contact.id
    await core.execute(RecordPipedriveIds(contact.id, person_id=person_id))
    payload = {
        "meta": {"action": "change", "entity": "person", "entity_id": str(person_id), "timestamp": at.isoformat()},
        "data": {"id": person_id, "name": new_name},
        "previous": {"name": contact.name},
    }
    event_id = await core.execute(
        ReceivePipedriveEvent(f"person:{person_id}:change:{at.isoformat()}", "person", "change", person_id, at, payload)
    )
    result = await core.execute(ApplyPipedriveEvent(event_id))
    assert result.status == "applied", result

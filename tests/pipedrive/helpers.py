"""Assertions and steps shared by the Pipedrive sync tests."""

from __future__ import annotations

from core.command import Actor, ContactRef
from core.outreach.commands import FlagWarm

V1_PATHS = {"/api/v1/users/find", "/api/v1/activityTypes", "/api/v1/personFields"}


def assert_clean(fake, *, orgs: int, persons: int, activities: int = 0) -> None:
    """What Pipedrive holds: exactly these many of each, and never a deal."""
    assert (len(fake.organizations), len(fake.persons), len(fake.live_activities())) == (orgs, persons, activities)
    assert fake.deal_calls == 0
    assert all(
        s.path.startswith("/api/v2/") or s.path in V1_PATHS or s.path.startswith("/api/v1/personFields/")
        for s in fake.seen
    )


async def warm(core, user, contact):
    return await core.execute(FlagWarm(me(user), ref(contact)))


def me(user) -> Actor:
    return Actor(user.id, "console")


def ref(contact) -> ContactRef:
    return ContactRef(id=contact.id)

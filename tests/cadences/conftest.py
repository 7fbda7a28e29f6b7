"""Helpers for the cadence tests: a user, starting strategies, logging at the fixed clock, reading plans back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cadences.commands import StartCadence
from core.command import Actor, ContactRef
from core.models import ContactPlan
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
def start(core):
    """`await start(ana, bob)`: start a strategy (Warm intro unless told) for a contact."""

    async def run(user, contact, strategy: str = "Warm intro"):
        return await core.execute(StartCadence(Actor(user.id), strategy, contact=ContactRef(id=contact.id)))

    return run


@pytest.fixture
def log(core):
    """`await log(ana, bob, "email")`, or with an outcome: `await log(ana, bob, "call", "no_answer")`."""

    async def run(user, contact, method: str, outcome: str = "none"):
        return await core.execute(LogOutreach(Actor(user.id), ContactRef(id=contact.id), method, outcome=outcome))

    return run


@pytest.fixture
def meeting(core):
    async def run(user, contact, booked: bool):
        ref = ContactRef(id=contact.id)
        command = BookMeeting(Actor(user.id), ref) if booked else RequestMeeting(Actor(user.id), ref)
        return await core.execute(command)

    return run


@pytest.fixture
def plans_of(core):
    """`await plans_of(bob)`: the contact's plans, oldest first, read in a transaction of their own."""

    async def read(contact):
        async with core.sessions() as session:
            return (
                (
                    await session.execute(
                        select(ContactPlan).where(ContactPlan.contact_id == contact.id).order_by(ContactPlan.id)
                    )
                )
                .scalars()
                .all()
            )

    return read


@pytest.fixture
def plan_of(plans_of):
    """`await plan_of(bob)`: the contact's latest plan."""

    async def read(contact):
        found = await plans_of(contact)
        return found[-1] if found else None

    return read

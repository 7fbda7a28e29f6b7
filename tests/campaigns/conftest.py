"""Fixtures for the campaign, import and stats tests: users of both roles, campaigns, and CSV files to import."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Contact


@pytest.fixture
async def ana(make):
    return await make.user("Ana", email="ana@example.com")


@pytest.fixture
async def zoe(make):
    return await make.user("Zoe", email="zoe@example.com")


@pytest.fixture
def bank(core):
    """`await bank(user)`: the user's contacts as plain tuples, sorted, to compare before and after."""

    async def contacts(user):
        async with core.sessions() as session:
            rows = (
                (await session.execute(select(Contact).where(Contact.owner_id == user.id).order_by(Contact.id)))
                .scalars()
                .all()
            )
        return [
            (k.id, k.name, k.email, k.phone, k.organisation, k.title, k.linkedin_url, k.notes, k.warmness, k.updated_at)
            for k in rows
        ]

    return contacts

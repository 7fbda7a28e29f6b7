"""A small world around one person, Zoë Quartermaine, held in two banks, and a scan of the whole database.

Ana's bank: Zoë (Pipedrive person 9001), in campaign Fintech; an email with a note, a note, flagged warm,
            a meeting booked, a follow-up with a note; Bob Stone (a bystander) with a call.
Ben's bank: Zoe, the same email in other capitals (Pipedrive person 9002); a meeting requested with a note.
The Pipedrive sync (not part of this module) has recorded a person payload and an error that name her.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import update

from core import db
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import FindContacts
from core.models import Contact, OutboxMessage
from core.outreach.commands import AddNote, BookMeeting, FlagWarm, LogOutreach, RequestMeeting, SetFollowUp
from core.stats.commands import GetStats

ZOE = {
    "name": "Zoë Quartermaine",
    "email": "zoe.quartermaine@orbit.example",
    "phone": "+44 20 7946 0123",
    "organisation": "Orbit Logistics",
    "title": "COO",
    "linkedin_url": "https://www.linkedin.com/in/zoe-quartermaine",
    "notes": "Met at the Quokka Summit",
}
ZOE_PHONE_STORED = "+442079460123"
# Everything that identifies her or was written about her: none of it may survive an erasure anywhere.
PERSONAL_VALUES = (
    "Quartermaine",
    "Zoë",
    "Zoe",
    "zoe.quartermaine@orbit.example",
    ZOE_PHONE_STORED,
    "2079460123",
    "linkedin.com/in/zoe-quartermaine",
    "Quokka",
)
STATS_GROUPS = (None, "user", "method", "campaign")


@dataclass
class World:
    ana: object
    ben: object
    gita: object
    zoe_ana: object
    zoe_ben: object
    bob: object
    fintech: object


@pytest.fixture
async def world(core, make, clock) -> World:
    ana = await make.user("Ana Silva", email="ana@example.com")
    ben = await make.user("Ben Okafor", email="ben@example.com")
    gita = await make.user("Gita Patel", email="gita@example.com", role="golden_ticket")
    fintech = (await core.execute(CreateCampaign(Actor(gita.id), "Fintech", status="live"))).campaign
    zoe_ana = await make.contact(ana, **ZOE)
    zoe_ben = await make.contact(
        ben, "Zoe Quartermaine", email="ZOE.Quartermaine@Orbit.example", phone="+44 20 7946 0123"
    )
    bob = await make.contact(ana, "Bob Stone", email="bob@stone.example", phone="+44 20 7946 0999")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=fintech.id), (zoe_ana.id, bob.id)))

    now = clock.now()
    za, zb = ContactRef(id=zoe_ana.id), ContactRef(id=zoe_ben.id)
    clock.set(now - timedelta(days=10))
    await core.execute(LogOutreach(Actor(ana.id), za, "email", note="sent the Quokka deck to Zoë Quartermaine"))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "call"))
    await core.execute(LogOutreach(Actor(ben.id), zb, "linkedin"))
    clock.set(now - timedelta(days=5))
    await core.execute(AddNote(Actor(ana.id), za, "Zoë prefers calls on +44 20 7946 0123"))
    await core.execute(FlagWarm(Actor(ana.id), za))
    await core.execute(RequestMeeting(Actor(ben.id), zb, note="zoe.quartermaine@orbit.example replied"))
    clock.set(now - timedelta(days=2))
    await core.execute(BookMeeting(Actor(ana.id), za, at=now + timedelta(days=3), note="coffee with Zoë"))
    clock.set(now)
    await core.execute(SetFollowUp(Actor(ana.id), za, now + timedelta(days=7), note="send Zoë the proposal"))
    await core.execute(FindContacts(Actor(ana.id, "console"), "quartermaine"))  # her row in Ana's last list

    # What the Pipedrive sync records once it has pushed her: the person ids, a sent payload, an error.
    async with core.sessions() as s, s.begin():
        await s.execute(update(Contact).where(Contact.id == zoe_ana.id).values(pipedrive_person_id=9001))
        await s.execute(update(Contact).where(Contact.id == zoe_ben.id).values(pipedrive_person_id=9002))
        s.add(
            OutboxMessage(
                topic="pipedrive.sync",
                contact_id=zoe_ana.id,
                user_id=ana.id,
                status="done",
                payload={"person": {"name": ZOE["name"], "email": [ZOE["email"]]}},
                last_error="409: a person named Zoë Quartermaine already exists",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return World(ana, ben, gita, zoe_ana, zoe_ben, bob, fintech)


@pytest.fixture
def zoe() -> dict:
    """What the world was told about her, and her phone as it is stored (E.164)."""
    return {**ZOE, "stored_phone": ZOE_PHONE_STORED}


@pytest.fixture
def scan(database_url):
    """`scan()`: where in the database anything identifying her still is (see `scan_database`)."""
    return lambda: scan_database(database_url, PERSONAL_VALUES)


@pytest.fixture
def stats_totals(core):
    """Every stats grouping over all time, as the Golden Ticket user sees them."""

    async def totals(gita):
        reports = [await core.execute(GetStats(Actor(gita.id), group_by=group)) for group in STATS_GROUPS]
        return [(report.rows, report.total) for report in reports]

    return totals


def scan_database(database_url: str, values: tuple[str, ...]) -> dict[tuple[str, str, str], int]:
    """Every (table, column, value) where a text, varchar, json or array column of any table holds the value
    (case-insensitively), with the number of rows: the database as a whole, found via information_schema."""
    found = {}
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        columns = conn.execute("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
              JOIN information_schema.tables t USING (table_schema, table_name)
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'ARRAY')
        """).fetchall()
        assert len(columns) > 20  # the scan really covers the schema
        for table, column in columns:
            for value in values:
                n = conn.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', (f"%{value}%",)
                ).fetchone()[0]
                if n:
                    found[(table, column, value)] = n
    return found

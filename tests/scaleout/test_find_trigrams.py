"""On a server with pg_trgm (Debian's PostgreSQL), the contact search migration adds the trigram index for in-word
fragments, and `find` reads fragments the same as without it."""

from __future__ import annotations

import psycopg

from core import db
from core.command import Actor
from core.contacts.commands import FindContacts
from core.service import Core
from core.users.commands import CreateUser


async def test_fragments_have_a_trigram_index_where_the_server_has_pg_trgm(system_database_url, clock):
    with psycopg.connect(db.libpq_url(system_database_url)) as conn:
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts'")}
    assert {"ix_contacts_search_words", "ix_contacts_search_trigrams"} <= indexes
    engine = db.create_engine(system_database_url, pool_size=2)
    try:
        core = Core(engine, clock=clock)
        ana = await core.execute(CreateUser(name="Ana", email="ana@example.com", role="consultant", timezone="UTC"))
        with psycopg.connect(db.libpq_url(system_database_url), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO contacts (owner_id, name, organisation) VALUES (%s, 'José Álvarez', 'Société Générale'),"
                " (%s, 'Bob Stone', 'Initech')",
                (ana.id, ana.id),
            )
        found = await core.execute(FindContacts(Actor(ana.id), "LVAR"))
        assert [k.name for k in found.contacts] == ["José Álvarez"]
    finally:
        await engine.dispose()

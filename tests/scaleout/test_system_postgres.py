"""The oldest PostgreSQL server installed from the system's packages (the minimum version the README claims) runs
our migrations and the core's commands."""

from __future__ import annotations

from core import db
from core.clock import SystemClock
from core.command import Actor
from core.contacts.commands import AddContact
from core.service import Core
from core.settings import Settings
from core.users.commands import CreateUser


async def test_the_migrations_and_a_command_run_on_the_oldest_supported_server(system_postgres, system_database_url):
    assert system_postgres.version <= 15
    engine = db.create_engine(system_database_url, pool_size=2)
    core = Core(engine, clock=SystemClock(), settings=Settings(database_url=system_database_url, _env_file=None))
    try:
        user = await core.execute(CreateUser(name="Ana", email="ana@example.com", role="consultant"))
        added = await core.execute(AddContact(actor=Actor(user.id), name="Bo Diaz", email="bo@example.com"))
        assert added.contact.name == "Bo Diaz"
    finally:
        await engine.dispose()

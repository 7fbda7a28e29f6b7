"""The way a chat event reaches the core (identify the sender, then run the command) keeps the command's
statements prepared on the connection: psycopg forgets them all at a rollback, so reads must end with a commit."""

from sqlalchemy import text

from core import db
from core.command import Actor
from core.feed.commands import TodaySuggestions
from core.service import Core
from core.users.commands import LinkChatIdentity


async def test_identify_between_commands_keeps_the_ranking_prepared(database_url, clock, settings, make):
    engine = db.create_engine(database_url, pool_size=1, max_overflow=0)  # one connection: every call shares it
    core = Core(engine, clock=clock, settings=settings)
    try:
        ana = await make.user("Ana", email="ana@example.com")
        await make.contact(ana, "Bob")
        await core.execute(LinkChatIdentity("ana@example.com", "slack", "U1"))
        for _ in range(8):  # psycopg prepares a statement at its fifth run on a connection
            await core.identify("slack", "U1")
            await core.execute(TodaySuggestions(Actor(ana.id, "slack")))
            await core.ping()
        async with core.reading() as session:
            prepared = (
                await session.execute(
                    text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%walk AS MATERIALIZED%'")
                )
            ).scalar_one()
        assert prepared == 1
    finally:
        await engine.dispose()


async def test_a_column_added_to_contacts_under_a_running_process_breaks_nothing(
    database_url, clock, settings, make, core
):
    engine = db.create_engine(database_url, pool_size=1, max_overflow=0)
    running = Core(engine, clock=clock, settings=settings)
    try:
        ana = await make.user("Ana")
        await make.contact(ana, "Bob")
        for _ in range(6):  # prepared by now
            await running.execute(TodaySuggestions(Actor(ana.id, "slack")))
        async with core.reading() as session:  # a migration, from another process
            await session.execute(text("ALTER TABLE contacts ADD COLUMN nickname text"))
        [row] = (await running.execute(TodaySuggestions(Actor(ana.id, "slack")))).items
        assert row.contact.name == "Bob"
    finally:
        await engine.dispose()

"""Alembic environment: runs migrations over a synchronous psycopg 3 connection.

Several processes may start at once on one database: each takes a PostgreSQL advisory lock on
MIGRATION_LOCK_KEY (held by the migration connection) before looking at the schema, so the first migrates
and the others wait, then find the head applied. A database already at a revision this code does not know
(migrated by a newer Pipedriven) is left alone: SchemaTooNew.
"""

from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy import engine_from_config, pool

from core.db import MIGRATION_LOCK_KEY
from core.errors import SchemaTooNew
from core.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
    connection.commit()  # the lock is the session's: it outlasts the transactions below
    try:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        _refuse_newer_schema()
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
        connection.commit()


def _refuse_newer_schema() -> None:
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    for head in context.get_context().get_current_heads():
        if head not in known:
            raise SchemaTooNew(head, script.get_current_head())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

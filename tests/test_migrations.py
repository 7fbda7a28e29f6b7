"""The Alembic migrations build exactly the schema that core.models describes."""

from __future__ import annotations

import itertools
import os
import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from core import db
from core.models import Base

_counter = itertools.count()


@pytest.fixture
def empty_url(pg_server_url):
    """A throwaway empty database on the test server."""
    url = db.with_database(pg_server_url, f"pipedriven_migrations_{os.getpid()}_{next(_counter)}")
    db.ensure_database(url)
    yield url
    db.drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(db.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    engine = create_engine(db.sqlalchemy_url(url))
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # Alembic can't compare expression indexes (lower(email)); `test_expression_indexes_exist` does.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_head_builds_every_table_from_an_empty_database(empty_url):
    db.upgrade(empty_url)
    assert _tables(empty_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert db.current_revision(empty_url) is not None


def test_downgrade_to_base_and_upgrade_again(empty_url):
    db.upgrade(empty_url)
    head = db.current_revision(empty_url)
    command.downgrade(db.alembic_config(empty_url), "base")
    assert _tables(empty_url) == {"alembic_version"}
    assert db.current_revision(empty_url) is None
    db.upgrade(empty_url)
    assert db.current_revision(empty_url) == head
    assert _tables(empty_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_the_migrations_match_the_models(database_url):
    assert _diff(database_url) == []


def test_expression_indexes_exist(database_url):
    expected = {
        ix.name
        for table in Base.metadata.tables.values()
        for ix in table.indexes
        if any(not hasattr(e, "name") for e in ix.expressions)
    }
    engine = create_engine(db.sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            names = {ix["name"] for table in Base.metadata.tables for ix in inspect(conn).get_indexes(table)}
    finally:
        engine.dispose()
    assert expected == {
        "uq_users_email_lower",
        "uq_campaigns_name_lower",
        "uq_contacts_owner_id_email",
        "uq_strategies_name_lower",
        "ix_contacts_search_words",
        "ix_contacts_search_fields",
        "ix_contacts_search_word_trigrams",
        "ix_contacts_listed",
        "ix_contacts_rank_ceiling",
        "ix_contacts_owner_id_recent",
        "ix_users_digest_moment",
    }
    assert expected <= names

"""A PostgreSQL server from the system's packages (the oldest installed: the minimum version we claim), started
in a temporary directory for the session, with our migrations run on a fresh database."""

from __future__ import annotations

import pytest

from core import db
from fakes.postgres import SystemPostgres, installed_versions


@pytest.fixture(scope="session")
def system_postgres():
    if not installed_versions():
        pytest.skip("no PostgreSQL server installed (.ci/run installs Debian's `postgresql`)")
    with SystemPostgres() as server:
        yield server


@pytest.fixture
def system_database_url(system_postgres, request):
    """A fresh database on that server, migrated to head."""
    url = db.with_database(system_postgres.url(), f"scaleout_{abs(hash(request.node.nodeid)) % 10**8}")
    db.drop_database(url)
    db.ensure_database(url)
    db.upgrade(url)
    yield url
    db.drop_database(url)

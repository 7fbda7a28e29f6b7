"""Upgrading with several processes: they migrate one at a time, and one older than the database refuses."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from core import db

pytestmark = pytest.mark.process

REPO = Path(__file__).resolve().parents[1]
_counter = itertools.count()


@pytest.fixture
def empty_url(pg_server_url):
    url = db.with_database(pg_server_url, f"pipedriven_upgrades_{os.getpid()}_{next(_counter)}")
    db.ensure_database(url)
    yield url
    db.drop_database(url)


def pipedriven(url: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "PIPEDRIVE_"))}
    env.pop("TEST_DATABASE_URL", None)
    env.update(
        DATABASE_URL=url,
        PIPEDRIVEN_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db.alembic_config("postgresql://x@localhost/x")).get_current_head()


def test_three_processes_upgrading_a_fresh_database_at_once_all_succeed_and_migrate_once(empty_url, tmp_path):
    processes = [pipedriven(empty_url, tmp_path, "db", "upgrade") for _ in range(3)]
    results = [(p.wait(120), *p.communicate()) for p in processes]
    for code, out, err in results:
        assert code == 0, err
        assert err == ""  # no "relation already exists", no trace
        assert out.strip() == f"Database is at revision {head()}."
    with psycopg.connect(db.libpq_url(empty_url)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]


def test_an_upgrade_waits_while_another_process_holds_the_migration_lock(empty_url, tmp_path):
    with psycopg.connect(db.libpq_url(empty_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.MIGRATION_LOCK_KEY,))
        waiting = pipedriven(empty_url, tmp_path, "db", "upgrade")
        time.sleep(3)
        assert waiting.poll() is None, waiting.communicate()
        assert db.current_revision(empty_url) is None  # nothing migrated behind the holder's back
        holder.execute("SELECT pg_advisory_unlock(%s)", (db.MIGRATION_LOCK_KEY,))
        assert waiting.wait(60) == 0, waiting.communicate()
    assert db.current_revision(empty_url) == head()


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade"), ("users", "list")])
def test_a_process_older_than_the_database_refuses_to_start_in_one_line(database_url, tmp_path, command):
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    process = pipedriven(database_url, tmp_path, *command)
    code = process.wait(60)
    out, err = process.communicate()
    assert code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1:] == [
        f"pipedriven: The database is at migration 9999_from_the_future, newer than this Pipedriven (knows up to "
        f"{head()}): upgrade Pipedriven before starting it."
    ]
    assert db.current_revision(database_url) == "9999_from_the_future"  # left as it was

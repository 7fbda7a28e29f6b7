"""With DATABASE_URL unset, Pipedriven runs its own PostgreSQL: kept between runs, shared by processes."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core.db import libpq_url, redact, sqlalchemy_url, with_database

pytestmark = pytest.mark.process


@pytest.fixture
def env():
    # Not pytest's tmp_path: its parents are private to root, and the server runs as another system user.
    data = Path(tempfile.mkdtemp(prefix="pipedriven-embedded-")) / "data"
    env = {**os.environ, "PIPEDRIVEN_DATA_DIR": str(data)}
    for key in ("DATABASE_URL", "TEST_DATABASE_URL"):
        env.pop(key, None)
    return env


def pipedriven(env, *args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_two_processes_share_one_embedded_server_and_data_survives(env):
    assert pipedriven(env, "users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--as", "ana@example.com"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        holder.stdin.write("add Bob Stone, bob@acme.com\n")
        holder.stdin.flush()
        assert "Added Bob Stone" in holder.stdout.readline()
        # A second process while the first is up: it attaches to the same server and sees the same data.
        other = pipedriven(env, "console", "--as", "ana@example.com", stdin="find bob\n")
        assert other.returncode == 0, other.stderr
        assert "Bob Stone" in other.stdout
        holder.stdin.write("find bob\n")
        holder.stdin.flush()
        assert "1 match" in holder.stdout.readline()  # the first process still works after the second left
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    pgdata = Path(env["PIPEDRIVEN_DATA_DIR"]) / "pgdata"
    assert not (pgdata / "postmaster.pid").exists(), "the last process to exit stops the server"
    again = pipedriven(env, "users", "list")
    assert "ana@example.com" in again.stdout


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u:p@db.example.com:5432/app", "postgresql+psycopg://u:p@db.example.com:5432/app"),
        (
            "postgresql://u:p@db.example.com/app?sslmode=require",
            "postgresql+psycopg://u:p@db.example.com/app?sslmode=require",
        ),
        ("postgresql+psycopg2://u@h/app", "postgresql+psycopg://u@h/app"),
    ],
)
def test_database_urls_as_hosts_hand_them_out(given, expected):
    assert sqlalchemy_url(given) == expected
    assert libpq_url(given).startswith("postgresql://")


def test_urls_are_redacted_for_logs_and_retargeted():
    url = "postgresql://user:s3cret@h/app"
    assert "s3cret" not in redact(url)
    assert with_database(url, "other").endswith("@h/other")


def test_a_url_that_is_not_postgres_is_refused():
    with pytest.raises(ValueError, match="postgresql://"):
        sqlalchemy_url("mysql://u@h/db")


def test_pipedriven_demo_on_a_fresh_machine_shows_the_digest_and_opens_the_console(env):
    first = pipedriven(env, "demo", stdin="today\n1a\nstats by method\n")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "Created the demo database: 4 users, 3 campaigns (2 live), ~500 contacts" in out
    assert "Good morning Ana! Who to contact today:" in out
    assert "1. " in out and "[1a] LinkedIn ✓" in out
    assert "LinkedIn logged for" in out  # “1a” pressed the first button of row 1 of the list `today` showed
    assert "Stats — this month" in out and "total" in out
    again = pipedriven(env, "demo", stdin="")
    assert "Created the demo database" not in again.stdout  # kept between runs
    assert "Good morning Ana!" in again.stdout
    # The demo lives in a database of its own: the main one has no users.
    assert "No users yet" in pipedriven(env, "users", "list").stdout

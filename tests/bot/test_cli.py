"""The `pipedriven` command as a user runs it: a real process, a real database, exit codes and output."""

import socket

import pytest


def test_users_add_and_list(cli):
    added = cli("users", "add", "ana@example.com", "--name", "Ana Silva", "--timezone", "Europe/Lisbon")
    assert added.returncode == 0, added.stderr
    assert "Added Ana Silva <ana@example.com>" in added.stdout
    listed = cli("users", "list")
    assert "Ana Silva" in listed.stdout and "Europe/Lisbon" in listed.stdout


@pytest.mark.parametrize("args, message", [
    (("users", "add", "not-an-email", "--name", "X"), "not a valid email"),
    (("users", "add", "b@example.com", "--timezone", "Mars/Olympus"), "not a timezone"),
    (("users", "add", "b@example.com", "--role", "king"), "role must be one of"),
    (("console", "--as", "nobody@example.com"), "no Pipedriven user with the email"),
])
def test_bad_input_is_one_line_and_non_zero(cli, args, message):
    result = cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_duplicate_user_is_refused(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    again = cli("users", "add", "ANA@example.com", "--name", "Ana again")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_console_scripted_from_stdin(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    out = cli("console", "--as", "ana@example.com",
              stdin="add Bob Stone, bob@acme.com, Acme\ntoday\n1\nstats\n")
    assert out.returncode == 0, out.stderr
    assert "Added Bob Stone (Acme)" in out.stdout
    assert "1. Bob Stone (Acme)" in out.stdout
    assert "✓ LinkedIn logged for Bob Stone" in out.stdout
    assert "Outreach" in out.stdout


def test_stats_cli_prints_a_table(cli):
    out = cli("stats", "by", "method")
    assert out.returncode == 0, out.stderr
    assert "Outreach" in out.stdout and "total" in out.stdout


def test_users_link_prints_a_one_time_code(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    out = cli("users", "link", "ana@example.com")
    assert out.returncode == 0, out.stderr
    assert "Your Telegram link code: " in out.stdout and "Send `/start " in out.stdout  # no bot configured: no link
    unknown = cli("users", "link", "nobody@example.com")
    assert unknown.returncode == 1 and "no Pipedriven user with the email" in unknown.stderr


@pytest.mark.parametrize("args", [("users", "list"), ("db", "upgrade"), ("stats",), ("run",)])
def test_a_database_that_is_down_is_one_line_and_non_zero_not_a_traceback(cli, args):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = cli(*args, DATABASE_URL=f"postgresql://pd:s3cret-pw@127.0.0.1:{port}/pipedriven")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "s3cret-pw" not in out.stderr + out.stdout
    warning, told = out.stderr.strip().splitlines()
    assert warning.endswith("WARNING pipedriven: stopped: the database is not reachable")
    assert told.startswith(f"pipedriven: The database at postgresql+psycopg://pd:***@127.0.0.1:{port}/pipedriven "
                           "is not reachable: ")

"""The `pipedriven` command as a user runs it: a real process, a real database, exit codes and output."""

import socket

import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken

from core import db


def test_users_add_and_list(cli):
    added = cli("users", "add", "ana@example.com", "--name", "Ana Silva", "--timezone", "Europe/Lisbon")
    assert added.returncode == 0, added.stderr
    assert "Added Ana Silva <ana@example.com>" in added.stdout
    listed = cli("users", "list")
    assert "Ana Silva" in listed.stdout and "Europe/Lisbon" in listed.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("users", "add", "not-an-email", "--name", "X"), "not a valid email"),
        (("users", "add", "b@example.com", "--timezone", "Mars/Olympus"), "not a timezone"),
        (("users", "add", "b@example.com", "--role", "king"), "role must be one of"),
        (("console", "--as", "nobody@example.com"), "no Pipedriven user with the email"),
    ],
)
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
    out = cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\ntoday\n1\nstats\n")
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
    out = cli(*args, env={"DATABASE_URL": f"postgresql://pd:s3cret-pw@127.0.0.1:{port}/pipedriven"})
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "s3cret-pw" not in out.stderr + out.stdout
    warning, told = out.stderr.strip().splitlines()
    assert warning.endswith("WARNING pipedriven: stopped: the database is not reachable")
    assert told.startswith(
        f"pipedriven: The database at postgresql+psycopg://pd:***@127.0.0.1:{port}/pipedriven is not reachable: "
    )


def _stored_tokens(database_url) -> dict[str, str]:
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        return dict(
            conn.execute(
                "SELECT email, pipedrive_api_token FROM users WHERE pipedrive_api_token IS NOT NULL"
            ).fetchall()
        )


def test_a_user_s_pipedrive_token_is_refused_without_a_secret_key(cli, database_url):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    out = cli("users", "pipedrive-token", "ana@example.com", stdin="ana-own-token\n")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == (
        "pipedriven: Set PIPEDRIVEN_SECRET_KEY to store a user's own Pipedrive token "
        "(`pipedriven secrets new-key` prints one).\n"
    )
    assert _stored_tokens(database_url) == {}


def test_secrets_new_key_prints_a_key_the_token_is_stored_with(cli, database_url):
    key = cli("secrets", "new-key").stdout.strip()
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    out = cli(
        "users", "pipedrive-token", "ana@example.com", stdin="ana-own-token\n", env={"PIPEDRIVEN_SECRET_KEY": key}
    )
    assert out.returncode == 0, out.stderr
    assert "ana-own-token" not in out.stdout + out.stderr and key not in out.stdout + out.stderr
    stored = _stored_tokens(database_url)["ana@example.com"]
    assert "ana-own-token" not in stored and Fernet(key).decrypt(stored.encode()) == b"ana-own-token"


def test_secrets_rotate_re_encrypts_every_token_so_that_the_new_key_alone_decrypts(cli, database_url):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    for email in ("ana@example.com", "bo@example.com"):
        assert cli("users", "add", email).returncode == 0
    assert (
        cli(
            "users", "pipedrive-token", "ana@example.com", stdin="ana-own-token\n", env={"PIPEDRIVEN_SECRET_KEY": old}
        ).returncode
        == 0
    )
    with psycopg.connect(db.libpq_url(database_url)) as conn:  # stored before tokens were encrypted
        conn.execute("UPDATE users SET pipedrive_api_token = 'bo-own-token' WHERE email = 'bo@example.com'")
    out = cli("secrets", "rotate", env={"PIPEDRIVEN_SECRET_KEY": f"{new},{old}"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "Encrypted 2 stored secret(s) with the first key of PIPEDRIVEN_SECRET_KEY (1 of them in plain text).\n"
    )
    stored = _stored_tokens(database_url)
    assert Fernet(new).decrypt(stored["ana@example.com"].encode()) == b"ana-own-token"
    assert Fernet(new).decrypt(stored["bo@example.com"].encode()) == b"bo-own-token"
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(stored["ana@example.com"].encode())


def test_secrets_rotate_without_a_key_or_with_a_lost_one_says_so_in_one_line(cli, database_url):
    lost = Fernet.generate_key().decode()
    assert cli("users", "add", "ana@example.com").returncode == 0
    assert (
        cli(
            "users", "pipedrive-token", "ana@example.com", stdin="ana-own-token\n", env={"PIPEDRIVEN_SECRET_KEY": lost}
        ).returncode
        == 0
    )
    before = _stored_tokens(database_url)
    unset = cli("secrets", "rotate")
    assert unset.returncode == 1
    assert unset.stderr == (
        "pipedriven: Set PIPEDRIVEN_SECRET_KEY to encrypt the stored secrets "
        "(`pipedriven secrets new-key` prints one).\n"
    )
    wrong = cli("secrets", "rotate", env={"PIPEDRIVEN_SECRET_KEY": Fernet.generate_key().decode()})
    assert wrong.returncode == 1 and "Encrypted 0 stored secret(s)" in wrong.stdout
    assert len(wrong.stderr.splitlines()) == 1 and "Traceback" not in wrong.stderr
    assert "decrypts the stored token of ana@example.com" in wrong.stderr
    invalid = cli("secrets", "rotate", env={"PIPEDRIVEN_SECRET_KEY": "not-a-key"})
    assert invalid.returncode == 1 and invalid.stderr.startswith("pipedriven: PIPEDRIVEN_SECRET_KEY is not valid")
    assert "not-a-key" not in invalid.stderr and len(invalid.stderr.splitlines()) == 1
    assert _stored_tokens(database_url) == before


def test_contacts_edit_corrects_a_contact_of_ones_own_bank(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    assert cli("users", "add", "zoe@example.com", "--name", "Zoe").returncode == 0
    assert cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\n").returncode == 0
    out = cli("contacts", "edit", "bob@acme.com", "past-business", "12k", "EUR", "--as", "ana@example.com")
    assert out.returncode == 0, out.stderr
    assert "Bob Stone: past business is now 12,000.00 EUR." in out.stdout
    renamed = cli("contacts", "edit", "Bob", "name", "Robert Stone", "--as", "ana@example.com")
    assert "Robert Stone: name is now Robert Stone." in renamed.stdout
    bad = cli("contacts", "edit", "Robert", "phone", "call me", "--as", "ana@example.com")
    assert bad.returncode == 1 and bad.stderr.strip() == "pipedriven: “call me” is not a phone number I can read."
    other = cli("contacts", "edit", "Robert", "name", "Hijacked", "--as", "zoe@example.com")
    assert other.returncode == 1 and len(other.stderr.strip().splitlines()) == 1
    unknown = cli("contacts", "edit", "Robert", "colour", "red", "--as", "ana@example.com")
    assert unknown.returncode == 1 and "The fields: name, email, phone" in unknown.stderr

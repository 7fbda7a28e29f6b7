"""The `pipedriven` command as a user runs it: a real process, a real database, exit codes and output."""

import socket

import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken
from PIL import Image

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
    out = cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\ntoday\n1a\nstats\n")
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
        "Encrypted 2 stored secrets with the first key of PIPEDRIVEN_SECRET_KEY (1 of them in plain text).\n"
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
    assert wrong.returncode == 1 and "Encrypted 0 stored secrets" in wrong.stdout
    assert len(wrong.stderr.splitlines()) == 1 and "Traceback" not in wrong.stderr
    assert "decrypts the stored token of ana@example.com" in wrong.stderr
    invalid = cli("secrets", "rotate", env={"PIPEDRIVEN_SECRET_KEY": "not-a-key"})
    assert invalid.returncode == 1 and invalid.stderr.startswith("pipedriven: PIPEDRIVEN_SECRET_KEY is not valid")
    assert "not-a-key" not in invalid.stderr and len(invalid.stderr.splitlines()) == 1
    assert _stored_tokens(database_url) == before


def test_version_prints_the_installed_version(cli):
    from importlib.metadata import version

    out = cli("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"pipedriven {version('pipedriven')}"


def test_a_bare_pipedriven_prints_the_help(cli):
    out = cli()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: pipedriven")
    assert "users" in out.stdout and "stats" in out.stdout and "--version" in out.stdout
    assert out.stderr == ""


def test_every_option_and_subcommand_has_help():
    import argparse

    from bot.cli import build_parser

    def missing(parser: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in parser._actions:
            name = "/".join(action.option_strings) or action.dest
            if not action.help:
                found.append(f"{path} {name}")
            if isinstance(action, argparse._SubParsersAction):
                found += [f"{path} {choice.dest}" for choice in action._choices_actions if not choice.help]
                for word, child in action.choices.items():
                    found += missing(child, f"{path} {word}")
        return found

    assert missing(build_parser(), "pipedriven") == []


def test_chart_says_where_it_wrote_and_refuses_other_formats(cli, tmp_path):
    png = cli("stats", "--chart", "funnel.png")
    assert png.returncode == 0, png.stderr
    assert f"Chart written to {tmp_path / 'funnel.png'}" in png.stdout
    assert (tmp_path / "funnel.png").read_bytes().startswith(b"\x89PNG")
    svg = cli("stats", "--chart", "funnel.SVG")
    assert svg.returncode == 0, svg.stderr
    assert f"Chart written to {tmp_path / 'funnel.SVG'}" in svg.stdout
    assert b"<svg" in (tmp_path / "funnel.SVG").read_bytes()
    for name in ("funnel.pdf", "funnel"):
        refused = cli("stats", "--chart", name)
        assert refused.returncode == 1
        assert refused.stderr.strip() == f"pipedriven: --chart writes .png or .svg files, not {name}"
        assert not (tmp_path / name).exists()


def test_users_deactivate_activate_and_role(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana Silva").returncode == 0
    out = cli("users", "deactivate", "ana@example.com")
    assert out.returncode == 0, out.stderr
    assert "Deactivated Ana Silva <ana@example.com>" in out.stdout
    assert "(inactive)" in cli("users", "list").stdout
    refused = cli("console", "--as", "ana@example.com", stdin="today\n")
    assert refused.returncode == 1 and "no Pipedriven user with the email" in refused.stderr
    out = cli("users", "activate", "ana@example.com")
    assert out.returncode == 0 and "Ana Silva <ana@example.com> is active again" in out.stdout
    assert "(inactive)" not in cli("users", "list").stdout
    assert cli("console", "--as", "ana@example.com", stdin="today\n").returncode == 0
    out = cli("users", "role", "ana@example.com", "golden_ticket")
    assert out.returncode == 0 and "Ana Silva <ana@example.com> is now golden_ticket." in out.stdout
    assert "golden_ticket" in cli("users", "list").stdout
    audit = cli("audit").stdout
    assert "SetUserActive" in audit and "SetUserRole" in audit
    bad = cli("users", "role", "ana@example.com", "king")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    unknown = cli("users", "deactivate", "nobody@example.com")
    assert unknown.returncode == 1 and "no Pipedriven user with the email nobody@example.com" in unknown.stderr


def test_cli_messages_name_cli_commands_not_chat_words(cli):
    assert cli("users", "add", "gt@example.com", "--name", "Goldie", "--role", "golden_ticket").returncode == 0
    campaign = cli("campaigns", "show", "Nope", "--as", "gt@example.com")
    assert campaign.returncode == 1
    assert "Run `pipedriven campaigns` to see them." in campaign.stderr and "Say" not in campaign.stderr
    cadence = cli("cadences", "show", "Nope")
    assert cadence.returncode == 1 and "Run `pipedriven cadences list` to see them." in cadence.stderr
    sync = cli("sync", "retry", "999")
    assert sync.returncode == 1 and "Run `pipedriven sync status` to see yours." in sync.stderr
    chat = cli("console", "--as", "gt@example.com", stdin="campaign show Nope\n")
    assert "Say `campaigns` to see them." in chat.stdout  # the chat keeps its own words


def test_remind_on_a_day_the_calendar_lacks_in_the_console(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    out = cli("console", "--as", "ana@example.com", stdin="add John Smith\nremind john 31/02\n")
    assert out.returncode == 0, out.stderr
    assert "31/02 is not a date." in out.stdout


def test_an_empty_database_points_to_the_demo(cli):
    listed = cli("users", "list")
    assert listed.returncode == 0, listed.stderr
    assert "No users yet" in listed.stdout and "`pipedriven demo`" in listed.stdout
    stats = cli("stats")
    assert stats.returncode == 0, stats.stderr
    assert "No users yet" in stats.stderr and "`pipedriven demo`" in stats.stderr
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    assert "No users yet" not in cli("stats").stderr


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


def test_contacts_edit_sets_the_sector_and_the_country(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    assert cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com\n").returncode == 0
    sector = cli("contacts", "edit", "bob@acme.com", "industry", "Green", "energy", "--as", "ana@example.com")
    assert sector.stdout.strip() == "Bob Stone: sector is now Green energy."
    country = cli("contacts", "edit", "bob@acme.com", "country", "United", "Kingdom", "--as", "ana@example.com")
    assert country.stdout.strip() == "Bob Stone: country is now United Kingdom."
    bad = cli("contacts", "edit", "bob@acme.com", "country", "Narnia", "--as", "ana@example.com")
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "pipedriven: I don't know the country “Narnia”: say its name (Portugal) or its two-letter code (PT)."
    )


def test_contacts_edit_clears_a_field_with_a_dash(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    assert (
        cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, +44 7700 900123\n").returncode
        == 0
    )
    out = cli("contacts", "edit", "bob@acme.com", "phone", "-", "--as", "ana@example.com")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Bob Stone: phone cleared."
    name = cli("contacts", "edit", "bob@acme.com", "name", "none", "--as", "ana@example.com")
    assert name.returncode == 1 and name.stderr.strip() == "pipedriven: The name can't be empty."


def test_contacts_remove_restore_and_merge_act_on_ones_own_bank(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana").returncode == 0
    assert cli("users", "add", "zoe@example.com", "--name", "Zoe").returncode == 0
    added = cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\nadd Robert Stone\n")
    assert added.returncode == 0, added.stderr
    removed = cli("contacts", "remove", "bob@acme.com", "--as", "ana@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "Removed Bob Stone (Acme) from your bank" in removed.stdout
    again = cli("contacts", "remove", "bob@acme.com", "--as", "ana@example.com")
    assert again.returncode == 1
    assert "Run `pipedriven contacts restore bob@acme.com`" in again.stderr and "Traceback" not in again.stderr
    restored = cli("contacts", "restore", "bob@acme.com", "--as", "ana@example.com")
    assert restored.returncode == 0 and "Bob Stone (Acme) is back in your bank." in restored.stdout
    theirs = cli("contacts", "merge", "bob@acme.com", "Robert", "--as", "zoe@example.com", "--yes")
    assert theirs.returncode == 1 and len(theirs.stderr.strip().splitlines()) == 1
    declined = cli("contacts", "merge", "bob@acme.com", "Robert", "--as", "ana@example.com", stdin="no\n")
    assert declined.returncode == 1 and "Merge Robert Stone into Bob Stone (Acme)?" in declined.stdout
    assert "nothing merged." in declined.stderr
    merged = cli("contacts", "merge", "bob@acme.com", "Robert", "--as", "ana@example.com", stdin="merge\n")
    assert merged.returncode == 0, merged.stderr
    assert "Merged Robert Stone into Bob Stone (Acme)." in merged.stdout
    gone = cli("contacts", "restore", "Robert", "--as", "ana@example.com")
    assert gone.returncode == 1 and "No contact in your bank matches" in gone.stderr


def test_stats_heatmap_prints_its_lines_and_draws_into_chart(cli, tmp_path):
    drawn = cli("stats", "heatmap", "campaign", "--chart", "heatmap.png")
    assert drawn.returncode == 0, drawn.stderr
    assert "Outreach by campaign × week — last 12 weeks: no data yet." in drawn.stdout
    assert f"Chart written to {tmp_path / 'heatmap.png'}" in drawn.stdout
    with Image.open(tmp_path / "heatmap.png") as image:  # the picture that says so
        assert image.format == "PNG" and image.size == (640, 320)
    refused = cli("stats", "heatmap", "method", "--csv", "out.csv")
    assert refused.returncode == 1 and not (tmp_path / "out.csv").exists()
    assert (
        refused.stderr.splitlines()[-1]
        == "pipedriven: --csv exports the stats table; a heatmap is drawn with --chart FILE"
    )

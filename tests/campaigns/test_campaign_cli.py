"""`pipedriven import`, `pipedriven campaigns` and `pipedriven stats --csv/--chart` as a user runs them: a
real process, a real database, exit codes and output."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from csvfiles import csv_bytes

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import FindContacts
from core.outreach.commands import BookMeeting, LogOutreach


@pytest.fixture
async def users(make):
    """Goldie (gt@example.com, Golden Ticket) and Ana Silva (ana@example.com, consultant)."""
    return (
        await make.user("Goldie", role="golden_ticket", email="gt@example.com"),
        await make.user("Ana Silva", email="ana@example.com"),
    )


def one_line_failure(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


async def test_import_prints_the_report_and_exits_0_even_with_rejected_rows(cli, users, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Full Name", "E-mail", "Company", "Twitter"],
                ["aNA SOUSA", "ana.s@acme.com", "Acme", "@ana"],
                ["Bo Chen", "not an email", "", ""],
                ["Cy", "cy@example.com", "", ""],
                ["Cy Again", "CY@example.com", "", ""],
            ],
            delimiter=";",
        )
    )
    result = cli("import", str(path), "--user", "ana@example.com")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        "Imported into Ana Silva's bank: 2 new, 0 updated, 0 unchanged, 1 duplicate in the file, 1 rejected."
    ) in out
    assert "Read 4 rows as UTF-8, semicolon-separated." in out
    assert "Columns: Full Name → name, E-mail → email, Company → organisation." in out
    assert "Columns not imported: Twitter." in out
    assert "row 3: rejected: “not an email” is not a valid email address." in out
    assert "row 5: skipped: the same person as row 4" in out
    again = cli("import", str(path), "--user", "ana@example.com", "--skip")
    assert "0 new, 0 updated, 2 skipped (already in the bank)" in again.stdout


async def test_import_of_a_utf8_file_with_a_bad_byte_keeps_accents_and_names_the_row(cli, users, core, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes("Name,Email\r\nJosé Müller,jose@muller.de\r\n".encode() + b"Ren\xe9,rene@acme.com\r\n")
    result = cli("import", str(path), "--user", "ana@example.com")
    assert result.returncode == 0, result.stderr
    assert "1 new, 0 updated" in result.stdout and "Read 2 rows as UTF-8, comma-separated." in result.stdout
    assert (
        "row 3: rejected: undecodable bytes in Name: they are not valid UTF-8, so the row was skipped rather "
        "than stored garbled"
    ) in result.stdout
    [jose] = (await core.execute(FindContacts(Actor(users[1].id), "jose@muller.de"))).contacts
    assert jose.name == "José Müller"


@pytest.mark.parametrize(
    "args, message",
    [
        (("import", "missing.csv", "--user", "ana@example.com"), "There is no file missing.csv."),
        (("import", "ok.csv", "--user", "nobody@example.com"), "There is no Pipedriven user with the email"),
        (("import", "ok.csv", "--user", "ana@example.com", "--campaign", "Nope"), "There is no campaign “Nope”"),
    ],
)
async def test_import_fails_in_one_line_when_it_cannot_start(cli, users, tmp_path, args, message):
    (tmp_path / "ok.csv").write_bytes(csv_bytes([["Name"], ["Ana"]]))
    one_line_failure(cli(*args), message)


async def test_campaigns_from_the_command_line(cli, users, core, make, tmp_path):
    gt, ana = users
    new = cli(
        "campaigns",
        "new",
        "Fintech Q4",
        "sector",
        "fintech",
        "geo",
        "UK",
        "from",
        "2026-12-01",
        "to",
        "2026-12-31",
        "--as",
        "gt@example.com",
    )
    assert new.returncode == 0, new.stderr
    assert "Campaign “Fintech Q4” created (draft)." in new.stdout
    assert "saved (live)" in cli("campaigns", "live", "Fintech Q4", "--as", "gt@example.com").stdout
    await make.contact(ana, "Bo Chen", email="bo@chen.io", organisation="Chen Ltd")
    added = cli("campaigns", "add", "Fintech Q4", "bo@chen.io", "linkedin", "--as", "ana@example.com")
    assert "Added Bo Chen to “Fintech Q4” (1 in all)." in added.stdout
    show = cli("campaigns", "show", "Fintech Q4", "--as", "gt@example.com")
    assert "Fintech Q4 [live] · fintech · UK · 1 Dec 2026 – 31 Dec 2026" in show.stdout
    assert "Bo Chen (Chen Ltd)  Ana" in show.stdout and "LinkedIn" in show.stdout and "planned" in show.stdout
    assert "• Fintech Q4 [live] — 1 contact" in cli("campaigns").stdout
    one_line_failure(
        cli("campaigns", "new", "Mine", "--as", "ana@example.com"), "Only the Golden Ticket team can create campaigns."
    )
    one_line_failure(cli("campaigns", "new", "Mine"), "--as EMAIL")


async def test_stats_csv_export_is_safe_to_open_in_a_spreadsheet(cli, users, core, make, campaign, tmp_path):
    gt, ana = users
    await campaign('=HYPERLINK("http://x")')
    bob = await make.contact(ana, "Bob Stone")
    actor, ref = Actor(ana.id), ContactRef(id=bob.id)
    await core.execute(AddToCampaign(actor, CampaignRef.of('=HYPERLINK("http://x")'), (bob.id,)))
    for command in (LogOutreach(actor, ref, "email"), LogOutreach(actor, ref, "call"), BookMeeting(actor, ref)):
        await core.execute(command)
    exported = cli("stats", "by", "campaign", "all", "time", "--csv")
    assert exported.returncode == 0, exported.stderr
    assert list(csv.reader(io.StringIO(exported.stdout))) == [
        ["group", "key", "outreach", "meetings_requested", "meetings_booked", "conversion", "period", "campaign"],
        ["campaign", '\'=HYPERLINK("http://x")', "2", "0", "1", "0.5000", "all time", ""],
        ["total", "total", "2", "0", "1", "0.5000", "all time", ""],
    ]
    to_file = cli("stats", "by", "method", "all", "time", "--csv", "stats.csv", "--chart", "funnel.png")
    assert to_file.returncode == 0, to_file.stderr
    assert (tmp_path / "stats.csv").read_bytes().startswith(b"\xef\xbb\xbfgroup,key")
    assert (tmp_path / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_import_names_the_people_in_a_colleagues_bank_on_request(cli, users, make, tmp_path):
    carl = await make.user("Carl", email="carl@example.com")
    await make.contact(carl, "Carl's Cy", email="cy@example.com", phone="+447946095800")
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes([["Name", "Email"], ["Bo", "bo@example.com"], ["Cy Young", "CY@example.com"]]))
    plain = cli("import", str(path), "--user", "ana@example.com")
    assert "👥 1 contact is also in a colleague's bank (--show-collisions names them)." in plain.stdout
    assert "Cy Young is also" not in plain.stdout
    named = cli("import", str(path), "--user", "ana@example.com", "--show-collisions")
    assert "👥 1 contact is also in a colleague's bank:\n  Cy Young is also in Carl's bank.\n" in named.stdout
    assert "Carl's Cy" not in named.stdout and "7946" not in named.stdout


async def test_import_progress_counts_rows_and_is_full_only_once_saved(cli, users, tmp_path):
    rows = 1234
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes([["Name", "Email"]] + [[f"Person {n}", f"p{n}@example.com"] for n in range(rows)]))
    result = cli("import", str(path), "--user", "ana@example.com", "--progress")
    assert result.returncode == 0, result.stderr
    frames = [frame.strip() for frame in result.stderr.replace("\n", "\r").split("\r") if frame.strip()]
    assert frames and all(" rows" in frame for frame in frames)
    full = [i for i, frame in enumerate(frames) if f"{rows}/{rows}" in frame]
    # The bar moved on in batches of rows, and reached the file's count only in its last frames, once saved.
    assert any(f"500/{rows}" in frame for frame in frames) and any(f"1000/{rows}" in frame for frame in frames)
    assert full and all(frames[i].startswith("saved") for i in full) and full[-1] == len(frames) - 1
    assert f"{rows} new" in result.stdout

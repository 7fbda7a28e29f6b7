"""Export: everything held about a person, from every bank, as JSON and CSV, and as text in the chat."""

import csv
import io
import json
import stat

import pytest
from sqlalchemy import select

from bot.console import ConsoleChat
from bot.render import CHAT_EXPORT_LIMIT
from core.command import Actor, ContactRef
from core.contacts.commands import EditContact
from core.csvwriter import safe_cell
from core.errors import NotAllowed, NotFound
from core.models import AuditEntry
from core.outreach.commands import AddNote
from core.privacy.commands import ExportContact
from core.privacy.handlers import CSV_HEADER, export_csv, export_json

EMAIL = "zoe.quartermaine@orbit.example"  # as tests/privacy/conftest.py's world gives it


HER = ContactRef(text=EMAIL)


async def export_of(core, world, ref=HER):
    return await core.execute(ExportContact(Actor(world.gita.id), ref, every_bank=True))


def expected_contacts(world, zoe):
    """Her two contact rows as the test built them (emails are stored lower-cased, phones in E.164)."""
    return [
        {
            "id": world.zoe_ana.id,
            "owner_name": "Ana Silva",
            "name": zoe["name"],
            "email": EMAIL,
            "phone": zoe["stored_phone"],
            "organisation": "Orbit Logistics",
            "title": "COO",
            "linkedin_url": zoe["linkedin_url"],
            "notes": zoe["notes"],
            "warmness": 4,
            "past_business": "0.00",
            "pipedrive_person_id": 9001,
        },
        {
            "id": world.zoe_ben.id,
            "owner_name": "Ben Okafor",
            "name": "Zoe Quartermaine",
            "email": EMAIL,
            "phone": zoe["stored_phone"],
            "organisation": None,
            "title": None,
            "linkedin_url": None,
            "notes": None,
            "warmness": 0,
            "past_business": "0.00",
            "pipedrive_person_id": 9002,
        },
    ]


def expected_activities(world):
    """(contact, user, kind, outcome, note, campaign) of everything logged about her, oldest first."""
    a, b = world.zoe_ana.id, world.zoe_ben.id
    return [
        (a, world.ana.id, "email", "none", "sent the Quokka deck to Zoë Quartermaine", "Fintech"),
        (b, world.ben.id, "linkedin", "none", None, None),
        (a, world.ana.id, "note", "none", "Zoë prefers calls on +44 20 7946 0123", None),
        (b, world.ben.id, "meeting", "meeting_requested", "zoe.quartermaine@orbit.example replied", None),
        (a, world.ana.id, "meeting", "meeting_booked", "coffee with Zoë", "Fintech"),
    ]


def project(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


async def test_json_export_holds_every_table_about_her_from_both_banks(core, world, zoe):
    assert zoe["email"] == EMAIL
    doc = json.loads(export_json(await export_of(core, world)))
    tables = doc["tables"]
    assert doc["subject"] == EMAIL and doc["contact_ids"] == [world.zoe_ana.id, world.zoe_ben.id]
    assert doc["pipedrive_person_ids"] == [9001, 9002]
    assert [
        {k: row[k] for k in expected} for row, expected in zip(tables["contacts"], expected_contacts(world, zoe))
    ] == expected_contacts(world, zoe)
    activities = sorted(tables["activities"], key=lambda r: (r["occurred_at"], r["id"]))
    assert project(
        activities, "contact_id", "user_id", "kind", "outcome", "note", "campaign_name"
    ) == expected_activities(world)
    assert project(tables["follow_ups"], "contact_id", "note", "status") == [
        (world.zoe_ana.id, "send Zoë the proposal", "open")
    ]
    assert project(tables["campaign_contacts"], "contact_id", "campaign_name", "status", "outreach_method") == [
        (world.zoe_ana.id, "Fintech", "meeting_booked", "email")
    ]
    assert project(tables["domain_events"], "contact_id", "name") == [
        (world.zoe_ana.id, "ContactWarmed"),
        (world.zoe_ben.id, "MeetingRequested"),
        (world.zoe_ana.id, "MeetingBooked"),
    ]
    # The sync history: three queued by her events, and what the sync sent and heard back.
    assert [row["payload"].get("event") for row in tables["outbox"]] == [
        "ContactWarmed",
        "MeetingRequested",
        "MeetingBooked",
        None,
    ]
    assert tables["outbox"][-1]["payload"]["person"]["email"] == [EMAIL]
    assert tables["outbox"][-1]["last_error"].startswith("409")
    # Who did what to her: every change made to either of her rows.
    assert sorted(project(tables["audit_log"], "command")) == sorted(
        [
            ("AddContact",),
            ("AddContact",),
            ("AddToCampaign",),
            ("LogOutreach",),
            ("LogOutreach",),
            ("AddNote",),
            ("FlagWarm",),
            ("RequestMeeting",),
            ("BookMeeting",),
            ("SetFollowUp",),
        ]
    )
    assert activities[0]["occurred_at"] == "2026-11-14T09:00:00+00:00"


async def test_the_export_leaves_out_everyone_else(core, world):
    document = export_json(await export_of(core, world))
    assert "Bob Stone" not in document and "bob@stone.example" not in document
    one = json.loads(export_json(await export_of(core, world, ContactRef(id=world.zoe_ben.id))))
    assert one["contact_ids"] == [world.zoe_ben.id]  # an id is that one row, not every row with her email
    assert {row["contact_id"] for row in one["tables"]["activities"]} == {world.zoe_ben.id}


async def test_csv_export_has_every_value_of_the_json_one_field_by_field(core, world, zoe):
    export = await export_of(core, world)
    reader = csv.reader(io.StringIO(export_csv(export)))
    assert tuple(next(reader)) == CSV_HEADER
    cells = {}
    for table, row_id, field, value in reader:
        cells[(table, row_id, field)] = value
    assert cells[("export", "", "subject")] == EMAIL
    assert cells[("export", "", "pipedrive_person_ids")] == "[9001, 9002]"
    assert cells[("contacts", str(world.zoe_ana.id), "phone")] == "'" + zoe["stored_phone"]  # +44… is text
    assert cells[("contacts", str(world.zoe_ben.id), "organisation")] == ""
    assert cells[("contacts", str(world.zoe_ana.id), "pipedrive_person_id")] == "9001"
    notes = {v for (table, _, field), v in cells.items() if table == "activities" and field == "note" and v}
    assert notes == {note for *_, note, _ in expected_activities(world) if note}
    # Every value of the JSON export is in the CSV (text made safe to open), and nothing else.
    doc = json.loads(export_json(export))
    from_json = {
        (table, str(row["id"]), field): safe_cell(value)
        if isinstance(value, str)
        else ("" if value is None else json.dumps(value, ensure_ascii=False))
        for table, rows in doc["tables"].items()
        for row in rows
        for field, value in row.items()
    }
    assert {k: v for k, v in cells.items() if k[0] != "export"} == from_json


async def test_a_consultant_exports_their_own_contact_as_text_in_the_chat(core, world, zoe):
    out = await ConsoleChat(core, world.ana).send("export zoë")
    assert f"Everything Pipedriven holds about contact {world.zoe_ana.id}" in out
    for value in (
        EMAIL,
        "phone: +44 20 7946 0123",
        zoe["linkedin_url"],
        "sent the Quokka deck",
        "send Zoë the proposal",
        "pipedrive person id: 9001",
        "Campaign memberships (1)",
        "Pipedrive sync history (3)",
    ):
        assert value in out
    assert "Ben Okafor" not in out and "coffee with Zoë" in out


async def test_a_long_chat_export_is_cut_to_fit_a_message_and_points_to_the_full_file(core, world):
    for n in range(40):
        await core.execute(AddNote(Actor(world.ana.id), ContactRef(id=world.zoe_ana.id), f"note number {n} " * 5))
    out = await ConsoleChat(core, world.ana).send(f"export {EMAIL}")
    head, _, tail = out.rpartition("\n")
    assert len(head) <= CHAT_EXPORT_LIMIT + 100
    assert "more lines" in tail and f"pipedriven contacts export {world.zoe_ana.id}" in tail


async def test_exporting_is_refused_beyond_ones_own_bank(core, world):
    with pytest.raises(NotFound, match="That contact is not in your bank."):
        await core.execute(ExportContact(Actor(world.ana.id), ContactRef(id=world.zoe_ben.id)))
    with pytest.raises(NotAllowed, match="Golden Ticket"):
        await core.execute(ExportContact(Actor(world.ben.id), ContactRef(text=EMAIL), every_bank=True))


async def test_an_export_is_itself_in_the_audit_trail(core, world):
    await export_of(core, world)
    async with core.sessions() as s:
        entry = (await s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))).scalar_one()
    assert (entry.command, entry.user_id, entry.platform, sorted(entry.contact_ids)) == (
        "ExportContact",
        world.gita.id,
        "cli",
        sorted([world.zoe_ana.id, world.zoe_ben.id]),
    )


# --- the CLI ------------------------------------------------------------------------------------------------


async def test_cli_export_writes_a_private_csv_file_and_json_to_stdout(core, world, cli, tmp_path):
    expected = _cells(export_csv(await export_of(core, world)))
    out = cli("contacts", "export", EMAIL, "--by", "gita@example.com", "--format", "csv", "--out", "zoe.csv")
    assert out.returncode == 0, out.stderr
    path = tmp_path / "zoe.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The same rows as the core's export, but for when it was made (the CLI runs on the real clock) and the
    # audit trail, which now also records the export just made in the test.
    assert _cells(path.read_text(encoding="utf-8")) == expected
    assert f"Exported contacts {world.zoe_ana.id}, {world.zoe_ben.id}" in out.stderr
    assert "person 9001, 9002" in out.stderr
    as_json = cli("contacts", "export", str(world.zoe_ben.id), "--by", "gita@example.com")
    assert json.loads(as_json.stdout)["tables"]["contacts"][0]["name"] == "Zoe Quartermaine"


async def test_cli_csv_export_never_lets_a_spreadsheet_run_a_cell_as_a_formula(world, make, cli):
    mallory = await make.contact(
        world.ana,
        '=HYPERLINK("http://x","y")',
        organisation="-2+3",
        title="@SUM(A1)",
        notes="+SUM(A1)",
        email="mallory@evil.example",
    )
    out = cli("contacts", "export", "mallory@evil.example", "--by", "gita@example.com", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    contact = {
        field: value for table, row_id, field, value in rows if table == "contacts" and row_id == str(mallory.id)
    }
    assert (contact["name"], contact["organisation"], contact["title"], contact["notes"]) == (
        '\'=HYPERLINK("http://x","y")',
        "'-2+3",
        "'@SUM(A1)",
        "'+SUM(A1)",
    )
    assert contact["warmness"] == "0" and contact["id"] == str(mallory.id)  # numbers stay numbers
    # No cell of the file, whatever its table, opens as a formula.
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def _cells(document: str) -> dict:
    rows = list(csv.reader(io.StringIO(document)))[1:]
    return {
        (table, row_id, field): value
        for table, row_id, field, value in rows
        if table != "audit_log" and field != "generated_at"
    }


@pytest.mark.parametrize(
    "by, message", [("ana@example.com", "Only the Golden Ticket team"), ("nobody@example.com", "no Pipedriven user")]
)
async def test_cli_export_is_refused_to_anyone_but_a_golden_ticket_user(world, cli, by, message):
    out = cli("contacts", "export", EMAIL, "--by", by)
    assert out.returncode == 1 and message in out.stderr and out.stdout == ""
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


async def test_the_export_holds_her_sector_and_country(core, world):
    await core.execute(
        EditContact(
            Actor(world.ana.id),
            ContactRef(id=world.zoe_ana.id),
            "sector",
            "Logistics",
            more_fields=(("country", "United Kingdom"),),
        )
    )
    export = await export_of(core, world)
    [ana_row, ben_row] = json.loads(export_json(export))["tables"]["contacts"]
    assert (ana_row["sector"], ana_row["country"]) == ("Logistics", "GB")
    assert (ben_row["sector"], ben_row["country"]) == (None, None)
    cells = list(csv.reader(io.StringIO(export_csv(export))))
    assert ["contacts", str(world.zoe_ana.id), "sector", "Logistics"] in cells
    assert ["contacts", str(world.zoe_ana.id), "country", "GB"] in cells

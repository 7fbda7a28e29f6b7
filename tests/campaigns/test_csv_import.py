"""CSV import into a bank, with real awkward files built here: encodings, delimiters, quoting, bad rows,
duplicates, re-imports, campaigns, big files and a crash half-way."""

from __future__ import annotations

import io

import pytest
from csvfiles import csv_bytes
from sqlalchemy import func, select

from bot.render import import_summary
from core.command import Actor, CampaignRef
from core.contacts.commands import AddContact
from core.errors import InvalidInput, NotAllowed, NotFound
from core.importing import handlers
from core.importing.commands import ImportContacts, ImportIssue, ImportUnreadable, UploadTooLarge
from core.importing.handlers import BATCH_ROWS
from core.importing.reader import ContactFile, surname_first, tidy_name
from core.importing.uploads import import_upload
from core.models import CampaignContact, Contact, OutboxMessage
from core.views import AlreadyDone, Collision

HEADER = ["Name", "Email", "Company", "Phone"]


async def run_import(core, user, data, **options):
    return await core.execute(ImportContacts(Actor(user.id), data, **options))


async def count(core, model, *where):
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_headers_are_recognised_by_meaning_in_any_order_and_case(core, ana, bank):
    data = csv_bytes(
        [
            [
                "Job Title",
                "E-MAIL",
                "twitter",
                "full name",
                "Organisation",
                "LinkedIn URL",
                "Mobile",
                "NOTES",
                "Warmness",
                "",
            ],
            [
                "CFO",
                "ana@acme.com",
                "@ana",
                "Ana Silva",
                "Acme",
                "https://linkedin.com/in/ana",
                "07946 095800",
                "met at the fintech dinner",
                "3",
                "stray",
            ],
        ]
    )
    report = await run_import(core, ana, data)
    assert report.mapping == (
        ("Job Title", "title"),
        ("E-MAIL", "email"),
        ("full name", "name"),
        ("Organisation", "organisation"),
        ("LinkedIn URL", "linkedin_url"),
        ("Mobile", "phone"),
        ("NOTES", "notes"),
        ("Warmness", "warmness"),
    )
    assert report.unknown_columns == ("twitter", "column 10 (no header)")
    [(_, name, email, phone, org, title, linkedin, notes, warmness, _)] = await bank(ana)
    assert (name, email, phone, org, title, linkedin, notes, warmness) == (
        "Ana Silva",
        "ana@acme.com",
        "+447946095800",
        "Acme",
        "CFO",
        "https://linkedin.com/in/ana",
        "met at the fintech dinner",
        3,
    )


async def test_first_and_last_name_columns_make_the_name(core, ana, bank):
    report = await run_import(
        core, ana, csv_bytes([["First Name", "Surname", "Email"], ["Bo", "Chen", "bo@chen.io"], ["", "Madonna", ""]])
    )
    assert report.imported == 2
    assert [k[1] for k in await bank(ana)] == ["Bo Chen", "Madonna"]


async def test_a_file_without_a_name_column_is_refused_with_the_headers_it_has(core, ana):
    with pytest.raises(ImportUnreadable, match="I can't find a name column .* The headers I see: Email, Phone."):
        await run_import(core, ana, csv_bytes([["Email", "Phone"], ["a@b.com", "1"]]))


async def test_excel_european_export_utf8_bom_semicolons_and_sep_line(core, ana, bank):
    body = csv_bytes([["Nom", "x"]])  # not used; the file below is Excel's own shape
    data = ('\ufeffsep=;\r\nName;Email;Company\r\nJosé Müller;jose@muller.de;"Müller; Söhne GmbH"\r\n').encode("utf-8")
    report = await run_import(core, ana, data)
    assert body and (report.encoding, report.delimiter, report.imported) == ("UTF-8 (with BOM)", "semicolon", 1)
    [k] = await bank(ana)
    assert (k[1], k[4]) == ("José Müller", "Müller; Söhne GmbH")


async def test_utf16_tab_separated_unicode_text_from_excel(core, ana, bank):
    rows = [
        ["Name", "Email", "Company"],
        ["Zoë Łukasiewicz", "zoe@example.pl", "Kraków Ltd"],
        ["李小龙", "lee@example.hk", "功夫"],
    ]
    report = await run_import(core, ana, csv_bytes(rows, delimiter="\t", encoding="utf-16"))
    assert (report.encoding, report.delimiter, report.imported) == ("UTF-16", "tab", 2)
    assert [(k[1], k[4]) for k in await bank(ana)] == [("Zoë Łukasiewicz", "Kraków Ltd"), ("李小龙", "功夫")]


async def test_utf16_without_a_bom_is_recognised(core, ana, bank):
    report = await run_import(
        core, ana, csv_bytes([["Name", "Email"], ["Zoë", "zoe@example.com"]], encoding="utf-16-le")
    )
    assert (report.encoding, report.imported) == ("UTF-16", 1)
    assert (await bank(ana))[0][1] == "Zoë"


async def test_windows_1252_is_read_when_the_file_is_not_utf8(core, ana, bank):
    data = csv_bytes([["Name", "Company", "Notes"], ["François Dupré", "Crème & Co", "budget 5k €"]], encoding="cp1252")
    report = await run_import(core, ana, data)
    assert report.encoding == "Windows-1252"
    [k] = await bank(ana)
    assert (k[1], k[4], k[7]) == ("François Dupré", "Crème & Co", "budget 5k €")


@pytest.mark.parametrize(
    "encoding, name, company, shown",
    [
        ("cp1252", "José Peña", "Niño S.A.", "Windows-1252"),
        ("cp1252", "Jürgen Müller", "Söhne & Straße GmbH", "Windows-1252"),
        ("latin-1", "Hélène Noël", "Château Ltd", "Windows-1252"),
        ("cp1252", "Café Owner", "Acme", "Windows-1252"),  # a single accented letter in the whole file
        ("cp1251", "Ольга Смирнова", "Рога и копыта", "Windows-1251"),
    ],
)
async def test_files_in_a_windows_code_page_or_latin_1_read_right_whatever_their_accents(
    core, ana, bank, encoding, name, company, shown
):
    report = await run_import(core, ana, csv_bytes([["Name", "Company"], [name, company]], encoding=encoding))
    assert (report.encoding, report.imported, report.rejected) == (shown, 1, ())
    assert [(k[1], k[4]) for k in await bank(ana)] == [(name, company)]


async def test_a_windows_1252_file_with_a_byte_1252_lacks_is_still_1252_and_that_row_is_skipped(core, ana, bank):
    data = csv_bytes([["Name", "Company"], ["François Dupré", "Crème & Co"]], encoding="cp1252") + b"Bo\x81,Acme\r\n"
    report = await run_import(core, ana, data)
    assert (report.encoding, report.imported) == ("Windows-1252", 1)
    assert [(k[1], k[4]) for k in await bank(ana)] == [("François Dupré", "Crème & Co")]
    assert report.rejected == (
        ImportIssue(
            3,
            "undecodable bytes in Name: they are not valid Windows-1252, so the "
            "row was skipped rather than stored garbled",
        ),
    )


async def test_a_utf8_file_with_one_bad_byte_is_read_as_utf8_and_only_that_row_is_skipped(core, ana, bank):
    data = (
        csv_bytes([["Name", "Email", "Company", "Shoe size"], ["José", "jose@acme.com", "Acme", ""]])
        + b"Ren\xe9 Dupont,rene@acme.com,Acme,\r\n"  # one byte of Windows-1252 in a UTF-8 file
        + b"Bo Chen,bo@chen.io,Chen Ltd,4\xbd\r\n"
    )  # a bad byte in a column not imported spoils nothing
    report = await run_import(core, ana, data)
    assert (report.encoding, report.imported) == ("UTF-8", 2)
    assert [(k[1], k[2]) for k in await bank(ana)] == [("José", "jose@acme.com"), ("Bo Chen", "bo@chen.io")]
    assert report.rejected == (
        ImportIssue(
            3, "undecodable bytes in Name: they are not valid UTF-8, so the row was skipped rather than stored garbled"
        ),
    )


async def test_quoted_fields_with_commas_and_newlines_and_spreadsheet_row_numbers(core, ana, bank):
    data = csv_bytes(
        [
            ["Name", "Email", "Company", "Notes"],
            ["Ana Silva", "ana@acme.com", "Acme, Inc.", ""],
            ["Bo Chen", "bo@chen.io", "Chen\nLtd", "Line one, then\r\nline two"],
            ["Cy Twombly", "not-an-email", "", ""],
        ]
    )
    report = await run_import(core, ana, data)
    assert report.imported == 2
    # Row 4 in a spreadsheet, although the quoted newlines make it the sixth line of the file.
    assert report.rejected == (ImportIssue(4, "“not-an-email” is not a valid email address."),)
    # A note keeps its lines; a one-line field like the company has its newline folded into a space.
    assert [(k[4], k[7]) for k in await bank(ana)] == [("Acme, Inc.", None), ("Chen Ltd", "Line one, then\r\nline two")]


async def test_a_row_without_a_name_or_with_a_bad_email_is_skipped_with_the_reason(core, ana, bank):
    data = csv_bytes(
        [
            ["Name", "Email", "Phone", "Warmness", "Method"],
            ["Good One", "one@example.com", "+44 20 7946 0958", "4", ""],
            ["", "noname@example.com", "", "", ""],
            ["Bad Email", "bad@@example", "", "", ""],
            ["x" * 201, "", "", "", ""],
            ["Good Two", "", "", "hot", "LinkedIn"],
        ]
    )
    report = await run_import(core, ana, data)
    assert report.imported == 2
    assert [(issue.row, issue.reason) for issue in report.rejected] == [
        (3, "no name"),
        (4, "“bad@@example” is not a valid email address."),
        (5, "The name is too long (201 characters, at most 200)."),
    ]
    assert [(k[1], k[3], k[8]) for k in await bank(ana)] == [("Good One", "+442079460958", 4), ("Good Two", None, 5)]


async def test_a_bad_optional_cell_is_left_out_with_a_warning_and_the_row_imported(core, ana, bank):
    data = csv_bytes(
        [
            ["Name", "Email", "Phone", "Warmness", "Method", "LinkedIn", "Past business", "Title"],
            ["Bad Phone", "phone@example.com", "call me maybe", "2", "", "", "", ""],
            ["Too Warm", "", "", "9", "", "", "", ""],
            ["Bad Method", "", "", "", "pigeon", "", "", ""],
            ["Bad Link", "", "", "", "", "twitter.com/bad", "", ""],
            ["Bad Money", "", "", "", "", "", "lots", ""],
            ["Two Bad", "", "020 7946 0958", "warmish", "", "", "12k EUR", "x" * 201],
        ]
    )
    report = await run_import(core, ana, data)
    assert (report.imported, report.rejected, report.imported_with_warnings) == (6, (), 6)
    assert [(issue.row, issue.reason) for issue in report.cell_warnings] == [
        (2, "phone “call me maybe” is not a phone number I can read; imported without it"),
        (3, "warmness 9 is not 0-5; imported without it"),
        (
            4,
            "method “pigeon” is not an outreach method (linkedin, email, call, campaign_email, referral, conference);"
            " imported without it",
        ),
        (5, "LinkedIn “twitter.com/bad” is not a LinkedIn address; imported without it"),
        (6, "past business “lots” is not an amount; imported without it"),
        (7, "warmness warmish is not 0-5; imported without it"),
        (7, "the title is too long (201 characters, at most 200); imported without it"),
    ]
    assert [(k[1], k[2], k[3], k[5], k[6], k[8]) for k in await bank(ana)] == [
        ("Bad Phone", "phone@example.com", None, None, None, 2),
        ("Too Warm", None, None, None, None, 0),
        ("Bad Method", None, None, None, None, 0),
        ("Bad Link", None, None, None, None, 0),
        ("Bad Money", None, None, None, None, 0),
        ("Two Bad", None, "+442079460958", None, None, 0),
    ]
    async with core.sessions() as session:
        two_bad = (await session.execute(select(Contact).where(Contact.name == "Two Bad"))).scalar_one()
    assert (two_bad.past_business, two_bad.past_business_currency) == (12000, "EUR")
    summary, rows = import_summary(report)
    assert "Imported into Ana's bank: 6 new, 0 updated, 0 unchanged, 0 duplicates in the file, 0 rejected, " in summary
    assert "6 imported with warnings." in summary
    assert "row 3: warmness 9 is not 0-5; imported without it" in rows.splitlines()


async def test_warnings_are_not_given_for_rows_that_were_not_imported(core, ana, bank):
    await run_import(core, ana, csv_bytes([["Name", "Email"], ["Ana", "ana@acme.com"]]))
    data = csv_bytes(
        [
            ["Name", "Email", "Warmness"],
            ["Ana", "ana@acme.com", "9"],
            ["Bo", "bo@chen.io", ""],
            ["Bo", "bo@chen.io", "7"],
        ]
    )
    report = await run_import(core, ana, data, mode="skip")
    assert (report.imported, report.skipped, len(report.duplicates), report.cell_warnings) == (1, 1, 1, ())


async def test_empty_rows_and_trailing_delimiters_are_ignored(core, ana):
    data = b"\r\n;;\r\nName;Email;;\r\n;;;\r\nAna;ana@acme.com;;\r\n\r\n;;;\r\nBo;;;\r\n"
    report = await run_import(core, ana, data)
    assert (report.imported, report.blank, report.rejected, report.unknown_columns) == (2, 3, (), ())
    assert report.delimiter == "semicolon"


async def test_excel_text_cells_keep_their_leading_zeros(core, ana, bank):
    await run_import(core, ana, b'Name,Phone,Company\r\nAna,="07946 095800",="007 Ltd"\r\n')
    [k] = await bank(ana)
    assert (k[3], k[4]) == ("+447946095800", "007 Ltd")


@pytest.mark.parametrize(
    "raw, tidy",
    [
        ("aNA SILVA", "Ana Silva"),
        ("  ana   silva ", "Ana Silva"),
        ("JAN VAN DER BERG", "Jan van der Berg"),
        ("van der Berg", "van der Berg"),
        ("VAN DER BERG", "Van der Berg"),
        ("mcdonald", "McDonald"),
        ("Ana McDonald", "Ana McDonald"),
        ("o'brien-SMITH", "O'Brien-Smith"),
        ("Ana da Silva", "Ana da Silva"),
        ("AJ Smith", "AJ Smith"),
        ("Anne-Marie DeVito", "Anne-Marie DeVito"),
        ("ZOË ŁUKASIEWICZ", "Zoë Łukasiewicz"),
        ("李小龙", "李小龙"),
    ],
)
def test_names_are_trimmed_and_their_case_fixed_when_typed_wrongly(raw, tidy):
    assert tidy_name(raw) == tidy


@pytest.mark.parametrize(
    "raw, name",
    [
        ("Lima, Ana", "Ana Lima"),
        ("Lima, Ana Maria", "Ana Maria Lima"),
        ("da Silva, Ana", "Ana da Silva"),
        ("O'Brien-Smith, Zoë", "Zoë O'Brien-Smith"),
        ("Smith, Jr.", "Smith, Jr."),
        ("Smith, Jr", "Smith, Jr"),
        ("Acme, Inc.", "Acme, Inc."),
        ("Lima, Ana, PhD", "Lima, Ana, PhD"),
        ("Lima,", "Lima,"),
        ("Agent 007, James", "Agent 007, James"),
    ],
)
def test_a_name_written_surname_first_is_turned_around(raw, name):
    assert surname_first(raw) == name


async def test_surname_first_names_in_a_name_column_are_imported_turned_around(core, ana, bank):
    data = csv_bytes([["Name", "Email"], ["Lima, Ana", "ana@lima.pt"], ["SOUSA, BO", ""], ["Smith, Jr.", ""]])
    await run_import(core, ana, data)
    assert [k[1] for k in await bank(ana)] == ["Ana Lima", "Bo Sousa", "Smith, Jr."]
    both = csv_bytes([["Name", "First name", "Email"], ["Chen, Cy", "Cy", "cy@chen.io"]])
    await run_import(core, ana, both)
    assert (await bank(ana))[-1][1] == "Chen, Cy"


async def test_phones_become_e164_with_the_default_region_or_the_one_asked_for(core, ana, bank):
    data = csv_bytes(
        [["Name", "Phone"], ["Uk", "020 7946 0958"], ["Intl", "+33 1 42 68 53 00"], ["Excel", "447946095800"]]
    )
    await run_import(core, ana, data)
    assert [k[3] for k in await bank(ana)] == ["+442079460958", "+33142685300", "+447946095800"]
    zoe_data = csv_bytes([["Name", "Phone"], ["Paris", "01 42 68 53 00"]])
    await run_import(core, ana, zoe_data, phone_region="FR")
    assert (await bank(ana))[-1][3] == "+33142685300"


async def test_an_unknown_phone_region_is_refused_before_reading(core, ana):
    with pytest.raises(InvalidInput, match="“ZZ” is not a country code I know for phone numbers"):
        await run_import(core, ana, csv_bytes([["Name"], ["Ana"]]), phone_region="zz")


async def test_duplicates_inside_the_file_keep_the_first_row(core, ana, bank):
    data = csv_bytes(
        [
            HEADER,
            ["Ana Silva", "ana@acme.com", "Acme", ""],
            ["Ana S.", "ANA@Acme.com", "Acme", ""],
            ["Bo Chen", "", "Chen Ltd", ""],
            ["bo chen", "", "CHEN LTD", "020 7946 0958"],
            ["Bo Chen", "", "Other Co", ""],
        ]
    )
    report = await run_import(core, ana, data)
    assert report.imported == 3
    assert report.duplicates == (ImportIssue(3, "the same person as row 2"), ImportIssue(5, "the same person as row 4"))
    assert [(k[1], k[4]) for k in await bank(ana)] == [
        ("Ana Silva", "Acme"),
        ("Bo Chen", "Chen Ltd"),
        ("Bo Chen", "Other Co"),
    ]


async def test_existing_contacts_are_updated_and_empty_cells_never_erase(core, ana, bank):
    await core.execute(
        AddContact(
            Actor(ana.id),
            "Ana Silva",
            email="ana@acme.com",
            phone="020 7946 0958",
            title="CFO",
            notes="prefers mornings",
        )
    )
    await core.execute(AddContact(Actor(ana.id), "Bo Chen", organisation="Chen Ltd"))
    data = csv_bytes(
        [
            ["Name", "Email", "Company", "Phone", "Title", "Notes"],
            ["Ana Silva", "ANA@acme.com", "Acme", "", "", "met at dinner"],
            ["BO CHEN", "bo@chen.io", "chen ltd", "", "CEO", ""],
        ]
    )
    report = await run_import(core, ana, data)
    assert (report.imported, report.updated, report.unchanged) == (0, 2, 0)
    assert [k[1:9] for k in await bank(ana)] == [
        ("Ana Silva", "ana@acme.com", "+442079460958", "Acme", "CFO", None, "prefers mornings\nmet at dinner", 0),
        ("Bo Chen", "bo@chen.io", None, "chen ltd", "CEO", None, None, 0),
    ]


async def test_skip_mode_leaves_existing_contacts_as_they_are(core, ana, bank):
    await core.execute(AddContact(Actor(ana.id), "Ana Silva", email="ana@acme.com"))
    before = await bank(ana)
    data = csv_bytes([HEADER, ["Ana Silva", "ana@acme.com", "Acme", ""], ["Bo Chen", "bo@chen.io", "", ""]])
    report = await run_import(core, ana, data, mode="skip")
    assert (report.imported, report.updated, report.skipped) == (1, 0, 1)
    assert (await bank(ana))[0] == before[0]


async def test_the_same_file_twice_changes_nothing_the_second_time(core, ana, bank, clock):
    await core.execute(AddContact(Actor(ana.id), "Bo Chen", organisation="Chen Ltd", notes="old friend"))
    data = csv_bytes(
        [
            ["Name", "Email", "Company", "Phone", "Notes", "Warmness"],
            ["ana silva", "ana@acme.com", "Acme", "020 7946 0958", "line one\nline two", "4"],
            ["Bo Chen", "", "Chen Ltd", "", "new note", ""],
            ["Bo Chen", "bo2@chen.io", "Chen Ltd", "", "", ""],
            ["Cy", "cy@example.com", "", "", "", ""],
            ["Cy again", "CY@example.com", "", "", "", ""],
            ["Bad", "nope", "", "", "", ""],
        ]
    )
    first = await run_import(core, ana, data)
    # Row 3 is row 4's person (same name and company, row 4 has the email), which updates the bank's Bo.
    assert (first.imported, first.updated, first.unchanged) == (2, 1, 0)
    assert first.duplicates == (ImportIssue(3, "the same person as row 4"), ImportIssue(6, "the same person as row 5"))
    after_first = await bank(ana)
    outbox = await count(core, OutboxMessage)
    clock.advance(hours=1)
    second = await run_import(core, ana, data)
    assert (second.imported, second.updated, second.unchanged, second.sync_queued) == (0, 0, 3, 0)
    assert second.rejected == first.rejected and second.duplicates == first.duplicates
    assert await bank(ana) == after_first  # not even updated_at moved
    assert await count(core, OutboxMessage) == outbox


async def test_the_bank_is_matched_by_email_else_by_name_and_organisation(core, ana, zoe, bank):
    await core.execute(AddContact(Actor(ana.id), "Ana Silva", organisation="Acme"))
    await core.execute(AddContact(Actor(zoe.id), "Bo Chen", email="bo@chen.io"))  # another bank: not a match
    data = csv_bytes([HEADER, ["Ana Silva", "ana@acme.com", "ACME", ""], ["Bo Chen", "bo@chen.io", "", ""]])
    report = await run_import(core, ana, data)
    assert (report.imported, report.updated) == (1, 1)
    assert [(k[1], k[2]) for k in await bank(ana)] == [("Ana Silva", "ana@acme.com"), ("Bo Chen", "bo@chen.io")]
    assert [(k[1], k[2]) for k in await bank(zoe)] == [("Bo Chen", "bo@chen.io")]


async def test_contacts_made_warm_by_an_import_queue_their_pipedrive_sync(core, ana):
    await core.execute(AddContact(Actor(ana.id), "Ana Silva", email="ana@acme.com", warmness=2))
    data = csv_bytes(
        [
            ["Name", "Email", "Warmness"],
            ["Ana Silva", "ana@acme.com", "5"],
            ["Bo Chen", "bo@chen.io", "4"],
            ["Cy", "cy@example.com", "1"],
        ]
    )
    report = await run_import(core, ana, data)
    assert report.sync_queued == 2
    assert await count(core, OutboxMessage) == 2


async def test_import_into_a_campaign_with_planned_methods_and_per_row_campaigns(core, ana, zoe, gt, campaign):
    fintech, health = await campaign("Fintech"), await campaign("Health")
    await campaign("Old", status="closed")
    await core.execute(AddContact(Actor(zoe.id), "Zoe's Bo", email="bo@chen.io"))
    data = csv_bytes(
        [
            ["Name", "Email", "Campaign", "Method"],
            ["Ana Silva", "ana@acme.com", "", "linkedin"],
            ["Bo Chen", "bo@chen.io", "health", "Campaign email"],
            ["Cy", "cy@example.com", "Nope", ""],
            ["Di", "di@example.com", "Old", ""],
        ]
    )
    report = await run_import(core, ana, data, campaign=CampaignRef.of("Fintech"))
    assert report.imported == 2 and report.added_to_campaigns == 2
    assert report.campaigns == ("Fintech", "Health")
    assert [(issue.row, issue.reason) for issue in report.rejected] == [
        (4, "there is no campaign “Nope”"),
        (5, "campaign “Old” is closed"),
    ]
    assert report.warnings == ()
    assert report.collisions == (Collision("Bo Chen", ("Zoe",)),)
    async with core.sessions() as session:
        members = (
            await session.execute(
                select(
                    CampaignContact.campaign_id, Contact.name, CampaignContact.outreach_method, CampaignContact.added_by
                )
                .join(Contact)
                .order_by(Contact.name)
            )
        ).all()
    assert members == [(fintech.id, "Ana Silva", "linkedin", ana.id), (health.id, "Bo Chen", "campaign_email", ana.id)]
    again = await run_import(core, ana, data, campaign=CampaignRef.of("Fintech"))
    assert again.added_to_campaigns == 0


async def test_a_big_campaign_import_warns_past_thirty(core, ana, campaign):
    await campaign("Big")
    data = csv_bytes([["Name", "Email"]] + [[f"Person {n}", f"p{n}@example.com"] for n in range(31)])
    report = await run_import(core, ana, data, campaign=CampaignRef.of("Big"))
    assert report.warnings == ("“Big” now has 31 contacts; campaigns work best with 10-30.",)


async def test_an_unknown_or_closed_campaign_stops_the_import_before_it_starts(core, ana, campaign):
    await campaign("Old", status="closed")
    data = csv_bytes([HEADER, ["Ana", "", "", ""]])
    with pytest.raises(NotFound, match="There is no campaign “Nope”"):
        await run_import(core, ana, data, campaign=CampaignRef.of("Nope"))
    with pytest.raises(InvalidInput, match="Campaign “Old” is closed."):
        await run_import(core, ana, data, campaign=CampaignRef.of("Old"))
    assert await count(core, Contact) == 0


async def test_only_the_golden_ticket_team_imports_into_someone_elses_bank(core, ana, zoe, gt, bank):
    data = csv_bytes([HEADER, ["Bo Chen", "bo@chen.io", "", ""]])
    with pytest.raises(NotAllowed, match="Only the Golden Ticket team can import into someone else's bank."):
        await core.execute(ImportContacts(Actor(ana.id), data, owner_id=zoe.id))
    report = await core.execute(ImportContacts(Actor(gt.id), data, owner_id=zoe.id))
    assert (report.owner, report.imported) == ("Zoe", 1)
    assert [k[1] for k in await bank(zoe)] == ["Bo Chen"] and await bank(gt) == []


async def test_a_crash_half_way_leaves_nothing_written(core, ana, bank):
    data = csv_bytes([HEADER] + [[f"Person {n}", f"p{n}@example.com", "", ""] for n in range(5000)])

    def crash(done, total):
        if done < total:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        await core.execute(ImportContacts(Actor(ana.id), data, progress=crash))
    assert await bank(ana) == []
    report = await run_import(core, ana, data)  # running it again is how to resume
    assert report.imported == 5000


async def test_broken_quoting_rejects_only_the_rows_it_spoils(core, ana, bank):
    data = (
        b'Name,Email\r\nAna,ana@acme.com\r\n"Bo" Chen,bo@chen.io\r\nCy,cy@example.com\r\n'
        b'"Di,di@example.com\r\nEd,ed@example.com\r\n'
    )
    report = await run_import(core, ana, data)
    assert [k[1] for k in await bank(ana)] == ["Ana", "Cy"]
    assert [(issue.row, issue.reason) for issue in report.rejected] == [
        (3, "this row is not valid CSV (',' expected after '\"')"),
        (5, "a quote opened on this row is never closed, so the rest of the file ran into it"),
    ]


@pytest.mark.parametrize(
    "source, message",
    [
        ("/no/such/file.csv", "There is no file /no/such/file.csv."),
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00", "That is an Excel workbook, not a CSV."),
        (b"\r\n\r\n", "The file has no header row."),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_with_a_reason(core, ana, source, message):
    with pytest.raises(ImportUnreadable, match=message.replace(".", r"\.")):
        await run_import(core, ana, source)


async def test_a_path_and_a_stream_that_cannot_seek_are_read_too(core, ana, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes([HEADER, ["Ana", "ana@acme.com", "", ""]]))
    assert (await run_import(core, ana, str(path))).imported == 1

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.data.read(min(len(buffer), 7))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    report = await run_import(core, ana, Pipe(csv_bytes([HEADER, ["Bo", "bo@chen.io", "", ""]])))
    assert report.imported == 1


def big_file(rows: int) -> bytes:
    lines = [["Name", "Email", "Company", "Phone", "Title", "Notes", "Warmness"]]
    for n in range(rows):
        lines.append(
            [
                f"person {n} lastname",
                f"person{n}@example-{n % 97}.com",
                f"Company {n % 500}",
                f"020 7946 {n % 10000:04d}",
                "Head of Things",
                f"note {n}, with a comma",
                str(n % 4),
            ]
        )
    return csv_bytes(lines)


@pytest.mark.parametrize("megabytes", [1, 4])
async def test_large_files_stream_in_batches_and_all_arrive(core, ana, megabytes):
    rows = megabytes * 1_000_000 // 110
    data = big_file(rows)
    assert len(data) >= megabytes * 950_000
    seen = []
    report = await core.execute(ImportContacts(Actor(ana.id), data, progress=lambda done, total: seen.append(done)))
    assert (report.imported, report.rejected, report.duplicates) == (rows, (), ())
    assert await count(core, Contact, Contact.owner_id == ana.id) == rows
    # Progress came in rows, batch by batch while writing, not once at the end.
    assert len(seen) >= rows // 500 and seen == sorted(seen) and seen[-1] == rows
    async with core.sessions() as session:
        last = (
            await session.execute(
                select(Contact).where(Contact.email == f"person{rows - 1}@example-{(rows - 1) % 97}.com")
            )
        ).scalar_one()
    assert (last.name, last.phone) == (f"Person {rows - 1} Lastname", f"+44207946{(rows - 1) % 10000:04d}")


async def test_a_chat_upload_is_refused_over_the_size_limit_and_acted_on_once(core, ana, settings, bank):
    core.settings = settings.model_copy(update={"import_max_upload_bytes": 1000})
    with pytest.raises(UploadTooLarge, match="That file is 2 kB; files shared in chat can be up to 1 kB."):
        await import_upload(core, Actor(ana.id, "slack"), b"x" * 2000)
    with pytest.raises(ImportUnreadable, match="That is a spreadsheet, not a CSV."):
        await import_upload(core, Actor(ana.id, "slack"), b"x", filename="contacts.xlsx")
    data = csv_bytes([HEADER, ["Ana", "ana@acme.com", "", ""]])
    report = await import_upload(core, Actor(ana.id, "slack"), data, filename="c.csv", idempotency_key="F123")
    assert report.imported == 1
    assert isinstance(await import_upload(core, Actor(ana.id, "slack"), data, idempotency_key="F123"), AlreadyDone)
    assert len(await bank(ana)) == 1


async def test_the_audit_trail_names_the_contacts_an_import_wrote_and_no_more(core, ana, campaign):
    from core.models import AuditEntry

    fintech = await campaign("Fintech")
    await core.execute(AddContact(Actor(ana.id), "Ana Silva", email="ana@acme.com"))
    data = csv_bytes([HEADER, ["Ana Silva", "ana@acme.com", "Acme", ""], ["Bo Chen", "bo@chen.io", "", ""]])
    await run_import(core, ana, data, campaign=CampaignRef.of("Fintech"))
    await run_import(core, ana, data, campaign=CampaignRef.of("Fintech"))
    async with core.sessions() as session:
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.command == "ImportContacts").order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
        ids = (await session.execute(select(Contact.id).order_by(Contact.id))).scalars().all()
    assert [(e.user_id, e.platform, e.contact_ids, e.campaign_ids) for e in entries] == [
        (ana.id, "cli", ids, [fintech.id]),  # Ana updated, Bo created
        (ana.id, "cli", [], [fintech.id]),  # the second time nothing changed
    ]


async def test_the_audit_trail_of_a_big_import_names_every_contact_it_wrote(core, ana):
    from core.models import AuditEntry
    from core.privacy.handlers import BIG_ID_LIST

    rows = BIG_ID_LIST + 5
    await run_import(core, ana, csv_bytes([HEADER] + [[f"P {n}", f"p{n}@example.com", "", ""] for n in range(rows)]))
    async with core.sessions() as session:
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.command == "ImportContacts"))).scalar_one()
        ids = (await session.execute(select(Contact.id).order_by(Contact.id))).scalars().all()
    assert len(ids) == rows and entry.contact_ids == ids


async def test_a_stream_handed_in_is_read_but_left_open_for_its_owner(core, ana):
    stream = io.BytesIO(csv_bytes([HEADER, ["Ana", "ana@acme.com", "", ""]]))
    assert (await run_import(core, ana, stream)).imported == 1
    assert not stream.closed


async def test_sector_and_country_columns_are_read_and_a_country_i_dont_know_is_left_out(core, ana):
    await core.execute(AddContact(Actor(ana.id), "Ana Silva", email="ana@acme.com"))
    data = csv_bytes(
        [
            ["Name", "Email", "Industry", "Country"],
            ["Ana Silva", "ana@acme.com", "Fintech", "Portugal"],
            ["Bo Chen", "bo@chen.io", "Retail", "de"],
            ["Cy Dorn", "cy@dorn.io", "", "Deutschland"],
            ["Di Eng", "di@eng.io", "Energy", "Atlantis"],
        ]
    )
    report = await run_import(core, ana, data)
    assert ("Industry", "sector") in report.mapping and ("Country", "country") in report.mapping
    assert (report.imported, report.updated, report.rejected) == (3, 1, ())
    assert [(issue.row, issue.reason) for issue in report.cell_warnings] == [
        (5, "country “Atlantis” is not a country I know; imported without it")
    ]
    async with core.sessions() as session:
        stored = (
            await session.execute(select(Contact.name, Contact.sector, Contact.country).order_by(Contact.id))
        ).all()
    assert [tuple(k) for k in stored] == [
        ("Ana Silva", "Fintech", "PT"),
        ("Bo Chen", "Retail", "DE"),
        ("Cy Dorn", None, "DE"),
        ("Di Eng", "Energy", None),
    ]

    again = csv_bytes([["Name", "Email", "Sector", "Country"], ["Ana Silva", "ana@acme.com", "", ""]])
    report = await run_import(core, ana, again)
    assert (report.updated, report.unchanged) == (0, 1)  # empty cells never erase


async def test_the_report_counts_the_people_also_in_a_colleagues_bank_and_names_a_few(core, ana, zoe, make):
    carl = await make.user("Carl")
    await make.contact(zoe, "Zoe's Bo", email="bo@chen.io", notes="private to Zoe")
    for n in range(6):
        await make.contact(carl, f"Carl's {n}", email=f"p{n}@example.com")
    await make.contact(carl, "Carl's Bo", email="BO@chen.io")
    rows = [["Name", "Email"], ["Bo Chen", "bo@chen.io"], ["Cy", "cy@example.com"]]
    rows += [[f"Person {n}", f"p{n}@example.com"] for n in range(6)]
    report = await run_import(core, ana, csv_bytes(rows))
    assert report.collisions[0] == Collision("Bo Chen", ("Carl", "Zoe"))
    assert [c.name for c in report.collisions] == ["Bo Chen", *(f"Person {n}" for n in range(6))]
    summary, _ = import_summary(report, more="`pipedriven import … --show-collisions` lists them all")
    lines = summary.splitlines()
    start = lines.index("👥 7 contacts are also in a colleague's bank:")
    assert lines[start + 1 :] == [
        "  Bo Chen is also in Carl's and Zoe's banks.",
        "  Person 0 is also in Carl's bank.",
        "  Person 1 is also in Carl's bank.",
        "  Person 2 is also in Carl's bank.",
        "  Person 3 is also in Carl's bank.",
        "  … and 2 more: `pipedriven import … --show-collisions` lists them all.",
    ]
    assert "private" not in summary and "Zoe's Bo" not in summary and "Carl's 0" not in summary
    one = await run_import(core, zoe, csv_bytes([["Name", "Email"], ["Cy", "cy@example.com"]]))
    assert import_summary(one)[0].splitlines()[-2:] == [
        "👥 1 contact is also in a colleague's bank:",
        "  Cy is also in Ana's bank.",
    ]


def test_the_rows_of_a_file_are_counted_on_opening_for_a_progress_bar():
    data = b'sep=;\r\n\r\nName;Notes\r\nAna;"two\r\nlines"\r\n\r\nBo;x\r\n'
    file = ContactFile(data, phone_region="GB", count_rows=True)
    try:
        assert file.total_rows == 3  # Ana, the blank row, Bo: as many as the rows read
        assert len(list(file.rows())) == 2 and file.rows_read == 3
    finally:
        file.close()


def batches_file() -> bytes:
    """Three batches and more of rows, with two-line notes, so that file lines and spreadsheet rows part ways;
    row 1,203 (in the third batch) has a bad email and row 1,204 a phone that isn't one."""
    rows = [["Name", "Email", "Phone", "Notes"]]
    for n in range(2, BATCH_ROWS * 3 + 2):
        email = "bad@@example.com" if n == 1203 else f"p{n}@example.com"
        phone = "call me" if n == 1204 else ""
        rows.append([f"Person {n}", email, phone, "first line\nsecond line" if n % 7 == 0 else ""])
    return csv_bytes(rows)


async def test_rows_are_numbered_as_the_spreadsheet_does_across_batches(core, ana):
    report = await run_import(core, ana, batches_file())
    assert report.rows == BATCH_ROWS * 3
    assert report.imported == BATCH_ROWS * 3 - 1
    assert report.rejected == (ImportIssue(1203, "“bad@@example.com” is not a valid email address."),)
    assert report.cell_warnings == (
        ImportIssue(1204, "phone “call me” is not a phone number I can read; imported without it"),
    )
    async with core.sessions() as session:
        last = (await session.execute(select(Contact).where(Contact.email == "p1501@example.com"))).scalar_one()
    assert last.name == "Person 1501"


async def test_an_import_stopped_in_its_third_batch_leaves_nothing_written(core, ana, bank):
    calls = []

    def stop_in_the_third_batch(done, total):
        calls.append(done)
        if done >= BATCH_ROWS * 3:
            raise RuntimeError("stopped")

    await run_import(core, ana, csv_bytes([HEADER, ["Ana", "ana@acme.com", "", ""]]))
    before = await bank(ana)
    with pytest.raises(RuntimeError, match="stopped"):
        await core.execute(ImportContacts(Actor(ana.id), batches_file(), progress=stop_in_the_third_batch))
    assert calls == [0, BATCH_ROWS, BATCH_ROWS * 2, BATCH_ROWS * 3]
    assert await bank(ana) == before
    assert await count(core, Contact) == 1
    report = await run_import(core, ana, batches_file())
    assert report.imported == BATCH_ROWS * 3 - 1


def mixed_file() -> bytes:
    """People across several chunks: an email repeated further down, a row without an email before the row with
    its email, and a bank contact that two rows match."""
    return csv_bytes(
        [
            HEADER,
            ["Ana Silva", "ana@acme.com", "Acme", ""],  # 2
            ["Bo Chen", "", "Chen Ltd", ""],  # 3: row 6's person
            ["Cy Diaz", "cy@diaz.io", "", ""],  # 4: the bank's Cy
            ["Di Ng", "di@ng.io", "", ""],  # 5
            ["Bo Chen", "bo@chen.io", "Chen Ltd", "020 7946 0958"],  # 6
            ["Ana S.", "ANA@acme.com", "", ""],  # 7: row 2's person
            ["Ed Wu", "", "", ""],  # 8
            ["Cy Diaz", "cy2@diaz.io", "", ""],  # 9: the bank's Cy was taken by row 4
            ["Fay Ho", "fay@ho.io", "", ""],  # 10
        ]
    )


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 10_000])
async def test_a_file_written_in_chunks_reads_as_one(core, ana, bank, monkeypatch, chunk_rows):
    await core.execute(AddContact(Actor(ana.id), "Cy Diaz"))
    monkeypatch.setattr(handlers, "CHUNK_ROWS", chunk_rows)
    report = await run_import(core, ana, mixed_file())
    assert (report.imported, report.updated, report.unchanged) == (6, 1, 0)
    assert report.duplicates == (ImportIssue(3, "the same person as row 6"), ImportIssue(7, "the same person as row 2"))
    assert [(k[1], k[2], k[3]) for k in await bank(ana)] == [
        ("Cy Diaz", "cy@diaz.io", None),
        ("Ana Silva", "ana@acme.com", None),
        ("Di Ng", "di@ng.io", None),
        ("Bo Chen", "bo@chen.io", "+442079460958"),
        ("Ed Wu", None, None),
        ("Cy Diaz", "cy2@diaz.io", None),
        ("Fay Ho", "fay@ho.io", None),
    ]
    before = await bank(ana)
    again = await run_import(core, ana, mixed_file())
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 7)
    assert again.duplicates == report.duplicates
    assert await bank(ana) == before


async def test_a_row_without_an_email_and_a_later_row_by_email_both_matching_one_contact(core, ana, bank):
    await core.execute(AddContact(Actor(ana.id), "Bo Chen", email="bo@chen.io", organisation="Chen Ltd"))
    data = csv_bytes([HEADER, ["Bo Chen", "", "Chen Ltd", ""], ["Robert Chen", "bo@chen.io", "", "020 7946 0958"]])
    report = await run_import(core, ana, data)
    # The email says who row 3 is; row 2, by name alone, finds its contact taken and is a new one.
    assert (report.imported, report.updated) == (1, 1)
    assert [(k[1], k[2], k[3]) for k in await bank(ana)] == [
        ("Robert Chen", "bo@chen.io", "+442079460958"),
        ("Bo Chen", None, None),
    ]


async def test_an_import_stopped_while_a_chunk_is_written_leaves_nothing_written(core, ana, bank, monkeypatch):
    monkeypatch.setattr(handlers, "CHUNK_ROWS", 100)
    await run_import(core, ana, csv_bytes([HEADER, ["Ana", "ana@acme.com", "", ""]]))
    before = await bank(ana)

    def stop_in_the_third_batch(done, total):
        if done >= BATCH_ROWS * 3:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        await core.execute(ImportContacts(Actor(ana.id), batches_file(), progress=stop_in_the_third_batch))
    assert await bank(ana) == before
    report = await run_import(core, ana, batches_file())
    assert report.imported == BATCH_ROWS * 3 - 1

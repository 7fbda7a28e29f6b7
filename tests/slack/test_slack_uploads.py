"""Files in Slack: a CSV shared in the bot's DM is imported and answered with the report; the stats chart is
uploaded beside its table. Driven through the real Bolt app with signed events; the fake Slack serves the shared
files and takes the bot's uploads."""

import asyncio
import io
import logging

import pytest
from PIL import Image

from core.command import Actor
from core.contacts.commands import FindContacts

ANA, DM = "U0ANA", "DU0ANA"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
CONTACTS = (
    b'Full name,Email,Company\r\nana lima,ana@lima.io,Lima Ltd\r\n"Bo Chen",bo@chen.io,"Chen & Co"\r\n'
    b"Cy,not-an-email,\r\n"
)


@pytest.fixture
async def ana(make, fake):
    fake.add_user(ANA, "ana@example.com")
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def elsewhere():
    """An HTTPS address on another host than Slack's (a plain TCP listener): what reaches it is recorded."""
    received: list[bytes] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await asyncio.wait_for(reader.read(4096), 5))
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", received
    server.close()
    await server.wait_closed()


async def bank(core, user) -> list[str]:
    """The names of the user's contacts that have an email (every contact of these files has one)."""
    found = await core.execute(FindContacts(Actor(user.id), "@", limit=50))
    return sorted(c.name for c in found.contacts)


def posted_texts(fake) -> list[str]:
    return [m["text"] for m in fake.called("chat.postMessage")]


async def test_a_csv_shared_in_the_dm_is_imported_and_the_report_posted_there(slack, fake, core, ana):
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS)
    assert (await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF1")).status == 200
    assert await bank(core, ana) == ["Ana Lima", "Bo Chen"]
    [chen] = (await core.execute(FindContacts(Actor(ana.id), "bo@chen.io"))).contacts
    assert chen.organisation == "Chen & Co"
    [report] = fake.called("chat.postMessage")
    assert report["channel"] == DM
    assert report["text"].startswith("Imported into Ana Silva's bank: 2 new, 0 updated, 0 unchanged")
    shown = "\n".join(b["text"]["text"] for b in report["blocks"] if b["type"] == "section")
    assert "Full name → name, Email → email, Company → organisation" in shown
    assert "row 4: rejected: “not-an-email” is not a valid email address." in shown
    assert fake.called("files.info") == [{"file": file_id}]
    assert fake.called("download") == [{"file": file_id, "authorized": True}]


async def test_a_utf8_csv_with_a_bad_byte_keeps_its_accents_and_names_the_row_it_skipped(slack, fake, core, ana):
    data = "Full name,Email\r\nJosé Müller,jose@muller.de\r\n".encode() + b"Ren\xe9,rene@acme.com\r\n"
    file_id = fake.add_file(ANA, "contacts.csv", data)
    assert (await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF9")).status == 200
    assert await bank(core, ana) == ["José Müller"]
    [report] = fake.called("chat.postMessage")
    shown = "\n".join(b["text"]["text"] for b in report["blocks"] if b["type"] == "section")
    assert "Read 2 rows as UTF-8" in shown
    assert "row 3: rejected: undecodable bytes in Full name: they are not valid UTF-8" in shown


async def test_a_csv_with_300000_unnamed_columns_is_reported_in_one_message(slack, fake, core, ana):
    wide = b"Name,Email\r\nBo Chen,bo@chen.io" + b",x" * 300_000 + b"\r\n"
    await slack.event(fake.file_share_event(ANA, fake.add_file(ANA, "wide.csv", wide)), event_id="EvF12")
    [report] = fake.called("chat.postMessage")
    assert report["text"].startswith("Imported into Ana Silva's bank: 1 new")
    sections = [b["text"]["text"] for b in report["blocks"] if b["type"] == "section"]
    assert len(report["blocks"]) <= 50 and all(len(text) <= 3000 for text in sections)
    assert "column 22 (no header) … and 299,980 more." in "\n".join(sections)
    assert await bank(core, ana) == ["Bo Chen"]


async def test_a_retried_event_imports_once_and_answers_once(slack, fake, core, ana):
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS)
    event = fake.file_share_event(ANA, file_id)
    await slack.event(event, event_id="EvF2")
    await slack.event(event, event_id="EvF2", headers=RETRY)
    assert await bank(core, ana) == ["Ana Lima", "Bo Chen"]
    [report] = posted_texts(fake)
    assert report.startswith("Imported into Ana Silva's bank: 2 new")
    # The same file shared again (a new event, not a retry) is not imported twice, and the user is told.
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF3")
    assert posted_texts(fake)[1].startswith("I imported that file already")
    assert await bank(core, ana) == ["Ana Lima", "Bo Chen"]


async def test_a_file_over_the_limit_is_refused_without_being_downloaded(slack, fake, core, ana):
    limit = core.settings.import_max_upload_bytes
    big = CONTACTS + b"Dee Dunn,dee@dunn.io,Dunn\r\n" * (limit // 27 + 1)
    assert len(big) > limit
    file_id = fake.add_file(ANA, "everyone.csv", big)
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF4")
    [refusal] = posted_texts(fake)
    assert refusal.startswith("That file is 5.0 MB; files shared in chat can be up to 5.0 MB.")
    assert fake.called("download") == []
    assert await bank(core, ana) == []


async def test_a_file_bigger_than_announced_is_cut_off_and_nothing_imported(slack, fake, core, ana):
    core.settings = core.settings.model_copy(update={"import_max_upload_bytes": 1000})
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS * 40, size=500)  # Slack said 500 bytes; it is 4 kB
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF5")
    [refusal] = posted_texts(fake)
    assert "files shared in chat can be up to 1 kB" in refusal
    assert await bank(core, ana) == []


async def test_a_file_that_is_not_a_csv_is_explained_and_not_downloaded(slack, fake, core, ana):
    file_id = fake.add_file(ANA, "deck.pdf", b"%PDF-1.7 ...", mimetype="application/pdf", filetype="pdf")
    await slack.event(fake.file_share_event(ANA, file_id, text="here is the deck"), event_id="EvF6")
    [answer] = posted_texts(fake)
    assert answer.startswith("I can import contacts from a CSV file, and “deck.pdf” isn't one.")
    assert fake.called("download") == []
    assert await bank(core, ana) == []


async def test_a_csv_in_several_files_is_imported_and_the_others_explained(slack, fake, core, ana):
    csv_id = fake.add_file(ANA, "Contacts Export.CSV", CONTACTS, mimetype="application/vnd.ms-excel")
    png_id = fake.add_file(ANA, "photo.png", PNG_SIGNATURE, mimetype="image/png", filetype="png")
    await slack.event(fake.file_share_event(ANA, csv_id, png_id), event_id="EvF7")
    first, second = posted_texts(fake)
    assert first.startswith("Imported into Ana Silva's bank: 2 new")
    assert second.startswith("I can import contacts from a CSV file, and “photo.png” isn't one.")


async def test_a_file_slack_wont_hand_over_is_reported_and_nothing_imported(slack, fake, core, ana, caplog):
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS)
    fake.files[file_id]["url_private_download"] = fake.files[file_id]["url_private"] = (
        f"{fake.url}/files-pri/T0001-FGONE/contacts.csv"  # answered with Slack's sign-in page
    )
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF8")
    assert posted_texts(fake) == [
        "I couldn't fetch that file from Slack, so nothing was imported. Please share it again in a moment."
    ]
    assert "does the app have files:read?" in caplog.text
    assert await bank(core, ana) == []


async def test_the_bot_token_never_goes_to_a_host_other_than_slacks(slack, fake, core, ana, elsewhere, caplog):
    host, received = elsewhere
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS)
    fake.files[file_id]["url_private_download"] = fake.files[file_id]["url_private"] = f"{host}/contacts.csv"
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF10")
    assert received == []  # not even a connection
    assert posted_texts(fake) == [
        "I couldn't fetch that file from Slack, so nothing was imported. Please share it again in a moment."
    ]
    assert "not sending the bot token to 127.0.0.1" in caplog.text
    assert await bank(core, ana) == []


async def test_a_remote_file_is_refused_clearly_before_any_download(slack, fake, core, ana, elsewhere):
    host, received = elsewhere
    file_id = fake.add_file(ANA, "contacts.csv", CONTACTS, external_url=f"{host}/drive/contacts.csv")
    await slack.event(fake.file_share_event(ANA, file_id), event_id="EvF11")
    assert posted_texts(fake) == [
        "“contacts.csv” is stored outside Slack (shared as a link to another service), "
        "so I can't read it and nothing was imported. Download it as a CSV file and "
        "share that file here."
    ]
    assert received == [] and fake.called("download") == []
    assert await bank(core, ana) == []


async def test_an_unknown_user_sharing_a_file_is_told_how_to_be_added(slack, fake, core):
    fake.add_user("U0NEW", "new.person@example.com")
    file_id = fake.add_file("U0NEW", "contacts.csv", CONTACTS)
    await slack.event(fake.file_share_event("U0NEW", file_id), event_id="EvF9")
    [answer] = posted_texts(fake)
    assert "pipedriven users add new.person@example.com" in answer
    assert fake.called("files.info") == [] and fake.called("download") == []


async def stats_with_numbers(slack, make, ana, channel: str) -> None:
    await make.contact(ana, "Bob Stone")
    await make.contact(ana, "Cara Diaz")
    for words in ("log bob call", "log cara email", "meeting cara requested"):
        await slack.command(ANA, words, channel=DM)
    await slack.command(ANA, "stats by method", channel=channel)


async def test_stats_in_the_dm_upload_the_chart_after_the_table(slack, fake, make, ana):
    await stats_with_numbers(slack, make, ana, DM)
    [chart] = fake.shared_uploads
    assert chart["channel"] == DM and chart["data"].startswith(PNG_SIGNATURE)
    assert chart["length"] == len(chart["data"])
    with Image.open(io.BytesIO(chart["data"])) as image:  # a real picture, not a stub
        assert image.format == "PNG" and image.width > 400 and image.height > 300
    assert chart["filename"] == "pipedriven-stats.png"
    assert chart["title"] == chart["alt_txt"] == "Funnel by method, this month (November 2026)"
    table = fake.called("chat.postMessage")[-1]
    assert table["text"].startswith("Stats — this month")
    methods = [c.method for c in fake.calls]
    assert methods[-4:] == ["chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


async def test_stats_in_a_channel_are_private_and_the_chart_goes_to_the_dm(slack, fake, make, ana):
    await stats_with_numbers(slack, make, ana, "C2147483705")
    assert fake.responses[-1]["text"].startswith("Stats — this month")  # ephemeral, in the channel
    [chart] = fake.shared_uploads
    assert chart["channel"] == DM and chart["data"].startswith(PNG_SIGNATURE)


async def test_stats_with_nothing_to_draw_upload_no_chart(slack, fake, ana):
    await slack.command(ANA, "stats", channel=DM)
    assert fake.called("chat.postMessage")[-1]["text"].startswith("Stats — this month")
    assert fake.called("files.getUploadURLExternal") == []


async def test_a_refused_chart_upload_leaves_the_table_standing(slack, fake, make, ana, caplog):
    fake.fail("files.getUploadURLExternal", error="missing_scope")
    with caplog.at_level(logging.WARNING):
        await stats_with_numbers(slack, make, ana, DM)
    assert fake.called("chat.postMessage")[-1]["text"].startswith("Stats — this month")
    assert fake.shared_uploads == []
    assert "could not upload pipedriven-stats.png: missing_scope" in caplog.text

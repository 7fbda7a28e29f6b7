"""Files in Telegram: a CSV document is imported and answered with the report; the stats chart comes as a photo
after its table. The real bot long-polls the fake Bot API server, which serves documents at its file base."""

import io

from PIL import Image
from telegram_harness import ANA_TG, STRANGER_TG, texts

from bot.conversation import ALREADY_IMPORTED
from bot.telegram.app import NOT_FETCHED, REFUSAL
from core.command import Actor
from core.contacts.commands import FindContacts
from fakes.telegram import PNG_SIGNATURE

CONTACTS = (
    "Full name;Email;Company\r\nana lima;ana@lima.io;Lima Ltd\r\nBo Chen;bo@chen.io;Chen & Co\r\nCy;not-an-email;\r\n"
).encode("utf-8-sig")


async def bank(core, user) -> list[str]:
    """The names of the user's contacts that have an email (every contact of these files has one)."""
    found = await core.execute(FindContacts(Actor(user.id), "@", limit=50))
    return sorted(c.name for c in found.contacts)


def methods(calls) -> list[str]:
    return [c.method for c in calls]


async def test_a_csv_document_is_imported_and_answered_with_the_report(bot, telegram, linked, core, ana):
    update = telegram.document_update(linked, "contacts.csv", CONTACTS)
    calls = await bot.deliver(update)
    assert methods(calls) == ["getFile", "download", "sendMessage"]
    assert calls[1].params["file_path"] == "documents/file_1.csv"
    assert await bank(core, ana) == ["Ana Lima", "Bo Chen"]
    [chen] = (await core.execute(FindContacts(Actor(ana.id), "bo@chen.io"))).contacts
    assert chen.organisation == "Chen & Co"
    [report] = texts(calls)
    assert report.startswith("Imported into Ana Silva's bank: 2 new, 0 updated, 0 unchanged")
    assert "Read 3 rows as UTF-8 (with BOM), semicolon-separated" in report
    assert "row 4: rejected: “not-an-email” is not a valid email address." in report
    answered = calls[2].params["reply_parameters"]["message_id"]
    assert answered == update["message"]["message_id"]


async def test_a_utf8_document_with_a_bad_byte_keeps_its_accents_and_names_the_row_it_skipped(
    bot, telegram, linked, core, ana
):
    data = "Full name;Email\r\nJosé Müller;jose@muller.de\r\n".encode() + b"Ren\xe9;rene@acme.com\r\n"
    calls = await bot.deliver(telegram.document_update(linked, "contacts.csv", data))
    assert await bank(core, ana) == ["José Müller"]
    [report] = texts(calls)
    assert "Read 2 rows as UTF-8, semicolon-separated" in report
    assert "row 3: rejected: undecodable bytes in Full name: they are not valid UTF-8" in report


async def test_a_csv_with_300000_unnamed_columns_is_reported_in_one_message(bot, telegram, linked, core, ana):
    wide = b"Name,Email\r\nBo Chen,bo@chen.io" + b",x" * 300_000 + b"\r\n"
    calls = await bot.deliver(telegram.document_update(linked, "wide.csv", wide))
    assert methods(calls) == ["getFile", "download", "sendMessage"] and telegram.refused() == []
    [report] = texts(calls)
    assert len(report) <= 4096 and report.startswith("Imported into Ana Silva's bank: 1 new")
    assert (
        "Columns not imported: column 3 (no header), column 4 (no header), " in report
        and "column 22 (no header) … and 299,980 more." in report
    )
    assert await bank(core, ana) == ["Bo Chen"]


async def test_a_redelivered_document_imports_once_and_a_resent_file_is_said_to_be_in(bot, telegram, linked, core, ana):
    update = telegram.document_update(linked, "contacts.csv", CONTACTS)
    await bot.deliver(update)
    await bot.restart()  # the process died before confirming the update: Telegram hands it out again
    again = await bot.deliver(update, again=True)
    assert texts(again) == [ALREADY_IMPORTED]
    resent = await bot.deliver(telegram.document_update(linked, "contacts (1).csv", CONTACTS, unique_id="AgAD0001"))
    assert texts(resent) == [ALREADY_IMPORTED]
    assert await bank(core, ana) == ["Ana Lima", "Bo Chen"]
    assert len([t for t in texts(telegram.calls) if t.startswith("Imported into")]) == 1


async def test_a_document_over_the_limit_is_refused_without_being_downloaded(bot, telegram, linked, core, ana):
    limit = core.settings.import_max_upload_bytes
    calls = await bot.deliver(telegram.document_update(linked, "everyone.csv", CONTACTS, file_size=limit + 1))
    assert methods(calls) == ["sendMessage"]  # no getFile, no download
    [refusal] = texts(calls)
    assert refusal.startswith("That file is 5.0 MB; files shared in chat can be up to 5.0 MB.")
    assert telegram.downloads() == []
    assert await bank(core, ana) == []


async def test_a_document_that_is_not_a_csv_is_explained_and_not_downloaded(bot, telegram, linked, core, ana):
    calls = await bot.deliver(telegram.document_update(linked, "deck.pdf", b"%PDF-1.7", mime_type="application/pdf"))
    assert methods(calls) == ["sendMessage"]
    [answer] = texts(calls)
    assert answer.startswith("I can import contacts from a CSV file, and “deck.pdf” isn't one.")
    assert await bank(core, ana) == []


async def test_a_csv_sent_from_windows_as_an_excel_type_is_still_a_csv(bot, telegram, linked, core, ana):
    calls = await bot.deliver(
        telegram.document_update(linked, "Contacts.CSV", CONTACTS, mime_type="application/vnd.ms-excel")
    )
    assert texts(calls)[0].startswith("Imported into Ana Silva's bank: 2 new")


async def test_a_file_the_bot_api_wont_hand_out_is_reported(bot, telegram, linked, core, ana):
    core.settings = core.settings.model_copy(update={"import_max_upload_bytes": 50_000_000})
    calls = await bot.deliver(telegram.document_update(linked, "huge.csv", CONTACTS, file_size=25_000_000))
    assert methods(calls) == ["getFile", "sendMessage"]  # getFile refused: over the Bot API's 20 MB
    assert texts(calls) == [NOT_FETCHED]
    assert await bank(core, ana) == []


async def test_a_document_from_an_unlinked_account_is_refused_unread(bot, telegram, make):
    stranger = telegram.user(STRANGER_TG, "Eve")
    calls = await bot.deliver(telegram.document_update(stranger, "contacts.csv", CONTACTS))
    assert texts(calls) == [REFUSAL] and methods(calls) == ["sendMessage"]


async def test_stats_send_the_chart_as_a_photo_after_the_table(bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone")
    await make.contact(ana, "Cara Diaz")
    for words in ("/log bob call", "/log cara email", "/meeting cara requested"):
        await bot.say(linked, words)
    calls = await bot.say(linked, "/stats by method")
    assert methods(calls) == ["sendMessage", "sendPhoto"]
    assert texts(calls)[0].startswith("Stats — this month")
    [photo] = telegram.photos
    assert photo["chat_id"] == ANA_TG and photo["data"].startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(photo["data"])) as image:  # a real picture, not a stub
        assert image.format == "PNG" and image.width > 400 and image.height > 300
    assert photo["filename"] == "pipedriven-stats.png"
    assert photo["caption"] == "Funnel by method, this month (November 2026)"
    assert "photo" in bot.last(ANA_TG)


async def test_stats_with_nothing_to_draw_send_no_photo(bot, telegram, linked):
    calls = await bot.say(linked, "/stats")
    assert methods(calls) == ["sendMessage"] and telegram.photos == []


async def test_the_stats_heatmap_comes_as_a_photo_after_its_lines(bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/log bob call")
    calls = await bot.say(linked, "/stats heatmap method")
    assert methods(calls) == ["sendMessage", "sendPhoto"]
    assert texts(calls)[0].startswith("Outreach by method × weekday — last 12 weeks.")
    [photo] = telegram.photos
    with Image.open(io.BytesIO(photo["data"])) as image:
        assert image.format == "PNG" and image.size == (750, 250)  # seven weekdays by one method, at 100 dpi
    assert photo["filename"] == "pipedriven-heatmap.png"
    assert photo["caption"] == "Outreach by method × weekday — last 12 weeks"

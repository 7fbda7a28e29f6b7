"""The Telegram bot end to end: the real Application long-polling a local Bot API server, over the real core.

Each test delivers updates as Telegram would and asserts what the server received and what the database holds.
"""

import pytest
from sqlalchemy import func, select
from telegram_harness import ANA_TG, STRANGER_TG, texts

from bot.telegram.app import REFUSAL, TEXT_ONLY
from core.cadences.commands import StartCadence
from core.command import Actor, ContactRef
from core.models import Activity, Contact, ContactPlan, FollowUp, OutboxMessage

NASTY = "<b>_*[x](y)"


async def count(core, model, **where) -> int:
    async with core.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return (await session.execute(query)).scalar_one()


def methods(calls) -> list[str]:
    return [c.method for c in calls]


async def test_start_registers_the_command_menu_and_polls(bot, telegram):
    names = {c["command"] for c in telegram.commands}
    assert {
        "today",
        "find",
        "log",
        "note",
        "warm",
        "meeting",
        "remind",
        "snooze",
        "stats",
        "campaigns",
        "settings",
        "help",
    } <= names
    assert methods(telegram.calls)[:3] == ["getMe", "setMyCommands", "deleteWebhook"]  # polling: no webhook


async def test_an_unlinked_chat_gets_a_polite_refusal_and_nothing_else(bot, telegram, make):
    owner = await make.user("Owner")
    await make.contact(owner, "Secret Contact")
    stranger = telegram.user(STRANGER_TG, "Eve")
    for text in ("/today", "/find secret", "hello", "/start"):
        calls = await bot.say(stranger, text)
        assert texts(calls) == [REFUSAL]
        assert methods(calls) == ["sendMessage"]


async def test_today_lists_rows_with_their_buttons(bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone", organisation="Acme", warmness=4)
    [sent] = texts(await bot.say(linked, "/today"))
    assert "Who to contact today:" in sent and "1. Bob Stone (Acme)" in sent
    message = bot.last(ANA_TG)
    assert [b["text"] for b in telegram.buttons(message)] == ["LinkedIn ✓", "Email ✓", "Call ✓", "⋯"]


async def test_a_tap_answers_at_once_logs_and_edits_the_row_in_place(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    calls = await bot.tap(linked, listing, "Email ✓", row=1)
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert calls[0].params.get("text") is None  # the spinner stops before any work
    edited = telegram.message(ANA_TG, listing["message_id"])
    rows = edited["text"].split("\n\n")
    assert rows[1].startswith("1. ") and "logged" not in rows[1]
    assert rows[2].endswith("\n✓ Email logged for Cara Diaz · 09:00")
    assert edited["reply_markup"] == listing["reply_markup"]  # the buttons stay for the next tap
    assert await count(core, Activity, contact_id=cara.id, kind="email") == 1
    assert await count(core, Activity, contact_id=bob.id) == 0


async def test_a_second_tap_on_the_same_button_logs_a_second_outreach(bot, telegram, linked, make, ana, core, clock):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    for _ in range(2):  # two calls to Bob today, both logged from the same row
        calls = await bot.tap(linked, telegram.message(ANA_TG, listing["message_id"]), "Call ✓")
        assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
        clock.advance(minutes=5)
    assert await count(core, Activity, contact_id=bob.id, kind="call") == 2
    assert telegram.message(ANA_TG, listing["message_id"])["text"].count("✓ Call logged for Bob Stone") == 2


async def test_the_same_tap_again_within_a_minute_is_logged_and_says_so_with_an_undo(
    bot, telegram, linked, make, ana, core, clock
):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    await bot.tap(linked, telegram.message(ANA_TG, listing["message_id"]), "Call ✓")
    clock.advance(seconds=20)
    calls = await bot.tap(linked, telegram.message(ANA_TG, listing["message_id"]), "Call ✓")
    assert texts(calls) == ["⚠️ You logged Call for Bob Stone 20 seconds ago; logged it again. Undo?"]
    warning = bot.last(ANA_TG)
    assert [b["text"] for b in telegram.buttons(warning)] == ["↩ Undo"]
    assert await count(core, Activity, contact_id=bob.id, kind="call") == 2
    await bot.tap(linked, warning, "↩ Undo")
    assert await count(core, Activity, contact_id=bob.id, kind="call") == 1


async def test_undo_typed_takes_back_the_last_tap(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    await bot.tap(linked, bot.last(ANA_TG), "Call ✓")
    assert texts(await bot.say(linked, "/undo")) == ["↩ Undone: Call for Bob Stone."]
    assert await count(core, Activity, contact_id=bob.id) == 0
    assert texts(await bot.say(linked, "undo"))[0].startswith("Nothing to undo")


async def test_stop_cadence_asks_first_and_only_the_confirmation_stops_it(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ContactRef(id=bob.id)))
    await bot.say(linked, "/show bob")
    card = bot.last(ANA_TG)
    calls = await bot.tap(linked, card, "⏹ Stop cadence")
    [question] = texts(calls)
    assert question.startswith("Stop Bob Stone's cadence “Warm intro”? This can't be undone")
    asked = bot.last(ANA_TG)
    assert [b["text"] for b in telegram.buttons(asked)] == ["⏹ Stop it", "Keep"]
    assert await plan_status(core, bob) != "aborted"
    assert texts(await bot.tap(linked, asked, "Keep")) == ["Kept: Bob Stone's cadence goes on."]
    assert await plan_status(core, bob) != "aborted"
    await bot.tap(linked, asked, "⏹ Stop it")
    assert await plan_status(core, bob) == "aborted"
    assert "“Warm intro” stopped for Bob Stone" in telegram.message(ANA_TG, asked["message_id"])["text"]


async def plan_status(core, contact) -> str:
    async with core.sessions() as session:
        return (
            await session.execute(select(ContactPlan.status).where(ContactPlan.contact_id == contact.id))
        ).scalar_one()


async def test_the_same_tap_delivered_twice_logs_once(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    update = telegram.tap_update(linked, listing, telegram.button(listing, "LinkedIn"))
    await bot.deliver(update)
    # The process died before confirming the update, so Telegram hands the same update out again.
    await bot.restart()
    calls = await bot.deliver(update, again=True)
    assert "editMessageText" not in methods(calls) and "sendMessage" not in methods(calls)
    assert await count(core, Activity, contact_id=bob.id, kind="linkedin") == 1
    assert bot.last(ANA_TG)["text"].count("LinkedIn logged") == 1


async def test_the_more_menu_actions(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    await bot.tap(linked, bot.last(ANA_TG), "⋯")
    menu = bot.last(ANA_TG)
    assert menu["text"] == "More for Bob Stone:"
    steps = [
        ("Flag warm", "🔥 Bob Stone flagged warm (4/5). Pipedrive sync queued"),
        ("Meeting requested", "📨 Meeting requested with Bob Stone. Pipedrive sync queued"),
        ("Remind in 3 days", "⏰ I'll remind you about Bob Stone on Fri 27 Nov 09:00"),
        ("Snooze 1 week", "💤 Bob Stone snoozed until Tue 1 Dec 09:00"),
        ("Follow-up done", "✓ Follow-up with Bob Stone done"),
        ("Referral ✓", "✓ Referral logged for Bob Stone"),
    ]
    for label, status in steps:
        calls = await bot.tap(linked, menu, label)
        assert methods(calls) == ["answerCallbackQuery", "editMessageText"], label
        assert telegram.message(ANA_TG, menu["message_id"])["text"].endswith(f"{status} · 09:00")
    async with core.sessions() as session:
        warmness = (await session.execute(select(Contact.warmness).where(Contact.id == bob.id))).scalar_one()
        statuses = (await session.execute(select(FollowUp.status).where(FollowUp.contact_id == bob.id))).scalars()
    assert warmness == 4
    assert sorted(statuses) == ["done"]
    assert await count(core, Activity, contact_id=bob.id, outcome="meeting_requested") == 1
    assert await count(core, Activity, contact_id=bob.id, kind="referral") == 1
    # warmed, meeting requested, and the referral: a contact on its way to Pipedrive has its outreach replicated
    assert await count(core, OutboxMessage, contact_id=bob.id) == 3


async def test_a_note_is_asked_for_and_the_reply_to_the_prompt_adds_it(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    await bot.tap(linked, bot.last(ANA_TG), "⋯")
    calls = await bot.tap(linked, bot.last(ANA_TG), "Add note")
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert ask.params["reply_markup"]["force_reply"] is True
    prompt = bot.last(ANA_TG)
    assert prompt["text"] == "Type the note for Bob Stone:"
    note = "met at the <fintech> & dinner, *really* [good](x)"
    calls = await bot.say(linked, note, reply_to=prompt)
    assert texts(calls) == ["📝 Note added to Bob Stone."]
    async with core.sessions() as session:
        notes = (
            (await session.execute(select(Activity.note).where(Activity.contact_id == bob.id, Activity.kind == "note")))
            .scalars()
            .all()
        )
    assert notes == [note]


async def test_a_prompt_outlives_a_restart_and_a_date_by_reply_books_the_meeting(
    bot, telegram, linked, make, ana, core
):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/show bob")
    await bot.tap(linked, bot.last(ANA_TG), "⋯")
    await bot.tap(linked, bot.last(ANA_TG), "Meeting booked")
    prompt = bot.last(ANA_TG)
    assert prompt["text"].startswith("When is the meeting with Bob Stone?")
    await bot.restart()  # another process (or this one restarted) gets the answer
    calls = await bot.say(linked, "tomorrow 10:00", reply_to=prompt)
    assert texts(calls) == ["📅 Meeting booked with Bob Stone for Wed 25 Nov 10:00. Pipedrive sync queued."]
    assert await count(core, Activity, contact_id=bob.id, outcome="meeting_booked") == 1


async def test_a_reply_to_a_prompt_that_is_not_a_date_says_so_and_the_prompt_still_works(
    bot, telegram, linked, make, ana, core
):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    await bot.tap(linked, bot.last(ANA_TG), "⋯")
    await bot.tap(linked, bot.last(ANA_TG), "Snooze until")
    prompt = bot.last(ANA_TG)
    [answer] = texts(await bot.say(linked, "whenever", reply_to=prompt))
    assert "Traceback" not in answer and await count(core, FollowUp, contact_id=bob.id) == 0
    assert texts(await bot.say(linked, "next monday", reply_to=prompt)) == [
        "💤 Bob Stone snoozed until Mon 30 Nov 09:00."
    ]


async def test_an_update_handed_out_again_logs_once(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    update = telegram.message_update(linked, "/log bob email sent the deck")
    assert texts(await bot.deliver(update)) == ["✓ Email logged for Bob Stone."]
    # The process died before confirming the update, so Telegram hands the same update_id out again.
    await bot.restart()
    assert await bot.deliver(update, again=True) == []
    assert await count(core, Activity, contact_id=bob.id, kind="email") == 1


async def test_forged_callback_data_for_someone_elses_contact_is_refused(bot, telegram, linked, make, ana, core):
    await make.contact(ana, "Bob Stone")
    other = await make.user("Other")
    theirs = await make.contact(other, "Their Contact")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    calls = await bot.deliver(telegram.tap_update(linked, listing, f"log:{theirs.id}:email"))
    assert methods(calls) == ["answerCallbackQuery", "sendMessage"]
    assert texts(calls) == ["That contact is not in your bank."]
    assert "Their Contact" not in texts(calls)[0]
    assert telegram.message(ANA_TG, listing["message_id"]) == listing  # untouched
    assert await count(core, Activity, contact_id=theirs.id) == 0


async def test_garbage_callback_data_gets_a_short_answer_and_nothing_else(bot, telegram, linked, make, ana, core):
    await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    for data in ("drop table contacts", "log:abc:email", "log:1:" + "x" * 60, "show:", ":::"):
        calls = await bot.deliver(telegram.tap_update(linked, listing, data))
        assert methods(calls) == ["answerCallbackQuery"], data
        assert calls[0].params["text"] == "That button is no longer valid. Say `today` for a fresh list."
    assert await count(core, Activity) == 0


async def test_a_tap_from_an_unlinked_account_is_refused(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    stranger = telegram.user(STRANGER_TG, "Eve")
    calls = await bot.deliver(telegram.tap_update(stranger, bot.last(ANA_TG), f"log:{bob.id}:call"))
    assert methods(calls) == ["answerCallbackQuery", "sendMessage"]
    assert texts(calls) == [REFUSAL]
    assert await count(core, Activity) == 0


async def test_names_and_notes_render_as_typed(bot, telegram, linked, make, ana, core):
    await make.contact(ana, NASTY, organisation="Fish & <Chips>")
    await bot.say(linked, "/today")
    listing = bot.last(ANA_TG)
    assert f"1. {NASTY} (Fish & <Chips>)" in listing["text"]
    assert [e["type"] for e in listing["entities"]] == ["bold"]  # the header, nothing from the name
    await bot.tap(linked, listing, "Call ✓")
    edited = telegram.message(ANA_TG, listing["message_id"])
    assert f"✓ Call logged for {NASTY} · 09:00" in edited["text"]
    assert [e["type"] for e in edited["entities"]] == ["bold"]
    [found] = texts(await bot.say(linked, "/find <b>"))
    assert f"{NASTY} (Fish & <Chips>)" in found
    assert telegram.refused() == []


async def test_stats_come_as_a_monospace_table(bot, telegram, linked, make, ana):
    await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/log bob call")
    await bot.say(linked, "/stats by method")
    table, chart = telegram.messages(ANA_TG)[-2:]
    assert "photo" in chart  # the chart follows the table (tests/telegram/test_telegram_uploads.py)
    assert "call" in table["text"] and "Outreach" in table["text"]
    assert "pre" in [e["type"] for e in table["entities"]]


async def test_a_long_list_is_one_message_within_telegrams_limits(bot, telegram, linked, make, ana):
    for i in range(25):
        await make.contact(ana, f"Contact {i:02d} " + "x" * 150, organisation="Org " + "y" * 150)
    calls = await bot.say(linked, "/today limit 25")
    [listing] = [c.result for c in calls if c.method == "sendMessage"]
    assert telegram.refused() == [] and len(listing["text"]) <= 4096
    shown = len(listing["reply_markup"]["inline_keyboard"])
    assert 5 < shown < 25 and listing["text"].endswith(f"\n\n… and {25 - shown} more.")
    assert f"{shown}. Contact" in listing["text"] and f"{shown + 1}. Contact" not in listing["text"]


async def test_bot_commands_in_the_grammar_work_with_the_bot_name(bot, linked, make, ana):
    await make.contact(ana, "Bob Stone")
    assert texts(await bot.say(linked, "/log@PipedrivenTestBot bob linkedin")) == ["✓ LinkedIn logged for Bob Stone."]
    [hint] = texts(await bot.say(linked, "/lgo bob"))
    assert "Did you mean `log`?" in hint


async def test_a_sticker_or_a_photo_is_answered_with_what_the_bot_reads(bot, telegram, linked):
    update = telegram.message_update(linked, "placeholder")
    message = update["message"]
    del message["text"]
    message["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    assert texts(await bot.deliver(update)) == [TEXT_ONLY]


async def test_a_command_typed_in_reply_to_a_question_is_a_command(bot, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone")
    await bot.say(linked, "/today")
    await bot.tap(linked, bot.last(ANA_TG), "⋯")
    await bot.tap(linked, bot.last(ANA_TG), "Add note")
    [listing] = texts(await bot.say(linked, "/today", reply_to=bot.last(ANA_TG)))
    assert "1. Bob Stone" in listing
    assert await count(core, Activity, contact_id=bob.id, kind="note") == 0


async def test_the_server_refuses_what_telegram_refuses(bot, telegram, linked):
    """The fake must refuse raw HTML, overlong text and data, or the tests above would prove nothing."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.constants import ParseMode
    from telegram.error import BadRequest

    telegram.open_chat(linked)
    send = bot.service.application.bot.send_message
    with pytest.raises(BadRequest, match="an't parse entities"):
        await send(ANA_TG, NASTY, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="too long"):
        await send(ANA_TG, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await send(
            ANA_TG, "hi", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
        )


async def test_remove_asks_first_and_its_undo_puts_the_contact_back(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    [question] = texts(await bot.say(linked, "/remove bob"))
    assert question.startswith("Remove Bob Stone (Acme) from your bank?")
    assert await count(core, Contact, id=bob.id, archived_at=None) == 1
    await bot.tap(linked, bot.last(ANA_TG), "🗃 Remove")
    answer = bot.last(ANA_TG)
    assert "Removed Bob Stone (Acme) from your bank" in answer["text"]
    assert await count(core, Contact, id=bob.id, archived_at=None) == 0
    await bot.tap(linked, answer, "↩ Undo")
    assert "↩ Bob Stone (Acme) is back in your bank · 09:00" in bot.last(ANA_TG)["text"]
    assert await count(core, Contact, id=bob.id, archived_at=None) == 1

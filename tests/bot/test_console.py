"""The console chat end to end: typed lines in, printed replies out, over the real core and database."""

import pytest
from sqlalchemy import func, select

from bot.console import ConsoleChat
from core.models import Activity, Contact, OutboxMessage


@pytest.fixture
async def ana(make):
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def chat(core, ana):
    return ConsoleChat(core, ana)


async def count(core, model, **where):
    async with core.sessions() as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return (await s.execute(query)).scalar_one()


async def test_today_numbers_the_rows_and_letters_their_buttons(chat, make, ana):
    await make.contact(ana, "Bob Stone", organisation="Acme", warmness=4)
    await make.contact(ana, "Cara Diaz")
    out = await chat.send("today")
    assert "1. Bob Stone (Acme)" in out and "2. Cara Diaz" in out
    assert "never contacted · warm" in out
    assert "[1a] LinkedIn ✓  [1b] Email ✓  [1c] Call ✓  [1d] ⋯ more" in out
    assert "[2a] LinkedIn ✓  [2b] Email ✓" in out


async def test_typing_a_buttons_label_presses_it(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    await chat.send("today")
    out = await chat.send("1B")
    assert "✓ Email logged for Bob Stone" in out
    assert await count(core, Activity, contact_id=bob.id, kind="email") == 1


async def test_a_bare_number_shows_that_rows_card_and_presses_no_button(chat, core, make, ana):
    await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await chat.send("today")
    out = await chat.send("2")
    assert out.startswith("Cara Diaz\nCara Diaz\n") and "[a] LinkedIn ✓" in out
    assert await count(core, Activity) == 0
    assert "There is no row 5 in the last list (it has 2)" in await chat.send("5")
    assert "✓ Call logged for Cara Diaz" in await chat.send("c")  # the card's own buttons
    assert await count(core, Activity, contact_id=cara.id, kind="call") == 1


async def test_a_bare_number_before_any_list_says_what_to_type(chat, core, make, ana):
    await make.contact(ana, "Bob Stone")
    assert "A number names a row of a list" in await chat.send("1")
    assert await count(core, Activity) == 0


async def test_the_lists_buttons_stay_usable_after_a_tap_and_its_undo(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    cara = await make.contact(ana, "Cara Diaz")
    await chat.send("today")
    assert "[a] ↩ Undo" in await chat.send("1a")
    assert "✓ LinkedIn logged for Cara Diaz" in await chat.send("2a")
    assert "↩ Undone: LinkedIn for Cara Diaz." in await chat.send("a")
    assert await count(core, Activity, contact_id=bob.id) == 1
    assert await count(core, Activity, contact_id=cara.id) == 0


async def test_log_by_row_number_then_the_contact_leaves_todays_list(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    await make.contact(ana, "Cara Diaz")
    await chat.send("today")
    assert "LinkedIn logged for" in await chat.send("log 1 linkedin great chat")
    out = await chat.send("today")
    assert out.count("1. ") == 1 and "2. " not in out


async def test_note_button_asks_for_the_text_and_the_next_line_answers(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    assert "[1d] ⋯ more" in await chat.send("today")
    assert "More for Bob Stone" in await chat.send("1d")
    out = await chat.send("d")  # in the “more” menu: warm, requested, booked, note
    assert "Type the note for Bob Stone" in out
    assert "Note added to Bob Stone" in await chat.send("met at the fintech dinner")
    assert await count(core, Activity, contact_id=bob.id, kind="note") == 1


async def test_warm_by_name_queues_the_pipedrive_sync(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    out = await chat.send("warm bob")
    assert "flagged warm" in out and "sync queued" in out
    assert await count(core, OutboxMessage, contact_id=bob.id) == 1


async def test_ambiguous_name_offers_the_matches_as_buttons(chat, make, ana):
    await make.contact(ana, "Ana Lopez")
    await make.contact(ana, "Ana Moreau")
    out = await chat.send("log ana email")
    assert "matches 2 contacts" in out
    assert "Ana Lopez" in out and "Ana Moreau" in out and "[1a] Pick" in out and "[2a] Pick" in out
    assert "Ana Moreau" in await chat.send("2a")


async def test_a_typo_gets_the_closest_command_not_a_trace(chat):
    out = await chat.send("lgo 1 email")
    assert "log" in out and "Traceback" not in out


async def test_someone_elses_contact_is_refused(chat, make):
    other = await make.user("Other")
    theirs = await make.contact(other, "Their Contact", email="t@x.com")
    out = await chat.send("log t@x.com email")
    assert "No contact in your bank matches" in out
    assert theirs.name not in out


async def test_remind_then_the_contact_drops_out_until_due(chat, core, make, ana, clock):
    await make.contact(ana, "Bob Stone")
    assert "remind you about Bob Stone" in await chat.send("remind bob 3d send the deck")
    assert "Nothing to suggest" in await chat.send("today")
    clock.advance(days=3, hours=1)
    assert "follow-up due: send the deck" in await chat.send("today")


async def test_meeting_booked_with_date_and_stats(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    await chat.send("log bob call")
    assert "Meeting booked with Bob Stone" in await chat.send("meeting bob booked tomorrow 10:00")
    out = await chat.send("stats by method")
    assert "call" in out and "Booked" in out


async def test_a_label_not_on_screen_is_explained(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    await chat.send("today")
    assert "There is no button [1z] on screen" in await chat.send("1z")


async def test_buttons_that_have_passed_stay_checked_for_ownership(core, make, ana):
    from bot.conversation import Conversation

    other = await make.user("Other")
    theirs = await make.contact(other, "Theirs")
    reply = await Conversation(core, "console").handle_button(ana, f"log:{theirs.id}:email")
    assert "That contact is not in your bank." == reply.text
    assert await count(core, Activity, contact_id=theirs.id) == 0


async def test_forged_or_malformed_button_data_is_refused(core, ana):
    from bot.conversation import Conversation

    conv = Conversation(core, "console")
    for data in ("", "x" * 200, "log:abc:email", "drop:1", "log:99999:email", "log:1:telepathy"):
        reply = await conv.handle_button(ana, data)
        assert reply.text and "Traceback" not in reply.text


async def test_a_nul_byte_is_refused_in_one_line_and_logged_as_a_warning_without_a_traceback(chat, make, ana, caplog):
    await make.contact(ana, "Bob Stone")
    assert await chat.send("note bob hello\x00world") == "That could not be saved. Please check what you typed."
    assert [r.levelname for r in caplog.records if r.name.startswith(("core", "bot"))] == ["WARNING"]
    assert all(r.exc_info is None and r.levelno < 40 for r in caplog.records)


async def contacts_of(core, owner):
    async with core.sessions() as s:
        rows = await s.execute(select(Contact).where(Contact.owner_id == owner.id).order_by(Contact.id))
        return [(c.name, c.organisation, c.email, c.phone, c.linkedin_url) for c in rows.scalars()]


@pytest.mark.parametrize(
    "text, saved",
    [
        (
            "add Dana Tap dana.tap@tapco.example Tapco",
            ("Dana Tap", "Tapco", "dana.tap@tapco.example", None, None),
        ),
        (
            'add Dana Tap dana.tap@tapco.example "Tap & Co"',
            ("Dana Tap", "Tap & Co", "dana.tap@tapco.example", None, None),
        ),
        ("add Dana Tap at Tapco", ("Dana Tap", "Tapco", None, None, None)),
        ("add Dana Tap from Tapco", ("Dana Tap", "Tapco", None, None, None)),
        (
            "add Dana +44 20 7946 0958 Tap linkedin.com/in/danatap at Tapco",
            ("Dana Tap", "Tapco", None, "+442079460958", "linkedin.com/in/danatap"),
        ),
        (
            "add Dana Tap, dana.tap@tapco.example, Tapco, +44 20 7946 0958",
            ("Dana Tap", "Tapco", "dana.tap@tapco.example", "+442079460958", None),
        ),
    ],
)
async def test_add_in_the_words_people_use(chat, core, ana, text, saved):
    out = await chat.send(text)
    assert f"Added Dana Tap ({saved[1]})" in out
    assert await contacts_of(core, ana) == [saved]


async def test_add_asks_before_folding_an_organisation_into_a_name(chat, core, ana):
    out = await chat.send("add Dana Tap Tapco Ltd")
    assert "Is “Tapco Ltd” the organisation?" in out
    assert "[a] Dana Tap · Tapco Ltd" in out and "[b] Dana Tap Tapco Ltd · no organisation" in out
    assert "[c] Dana · Tap Tapco Ltd" in out
    assert await contacts_of(core, ana) == []
    assert "Added Dana Tap (Tapco Ltd)" in await chat.send("a")
    assert await contacts_of(core, ana) == [("Dana Tap", "Tapco Ltd", None, None, None)]


async def test_add_choice_without_organisation_keeps_the_whole_name(chat, core, ana):
    await chat.send("add Dana Tap Tapco Ltd")
    assert "Added Dana Tap Tapco Ltd to your bank" in await chat.send("b")
    assert await contacts_of(core, ana) == [("Dana Tap Tapco Ltd", None, None, None, None)]


async def test_edit_answers_with_an_undo_button_that_puts_the_value_back(chat, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    out = await chat.send('edit "Bob Stone" org Globex Corp')
    assert "Bob Stone: organisation is now Globex Corp." in out and "[a] ↩ Undo" in out
    assert "↩ Undone: Bob Stone's organisation is Acme again." in await chat.send("a")
    shown = await chat.send("show bob")
    assert "Acme" in shown and "Globex" not in shown


async def test_edit_with_a_bad_value_answers_one_line_and_changes_nothing(chat, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    out = await chat.send("edit bob email not-an-email")
    assert out == "“not-an-email” is not a valid email address."
    assert "bob@acme.com" in await chat.send("show bob")


async def test_undo_takes_back_the_last_log_and_then_says_nothing_is_left(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    await chat.send("log bob call")
    assert await chat.send("undo") == "↩ Undone: Call for Bob Stone."
    assert await count(core, Activity, contact_id=bob.id) == 0
    assert "Nothing to undo" in await chat.send("undo")


async def test_undo_takes_back_the_last_edit(chat, make, ana, clock):
    await make.contact(ana, "Bob Stone", organisation="Acme")
    await chat.send("log bob email")
    clock.advance(seconds=5)
    await chat.send("edit bob org Globex")
    clock.advance(minutes=3)
    assert await chat.send("undo") == "↩ Undone: Bob Stone's organisation is Acme again."
    assert "Too late to undo" in await chat.send("undo")  # then the log, three minutes old


async def test_logging_the_same_again_within_a_minute_warns_and_offers_undo(chat, core, make, ana, clock):
    bob = await make.contact(ana, "Bob Stone")
    await chat.send("today")
    assert await chat.send("1a") == "✓ LinkedIn logged for Bob Stone.\n[a] ↩ Undo"
    clock.advance(seconds=20)
    out = await chat.send("1a")
    assert out == "⚠️ You logged LinkedIn for Bob Stone 20 seconds ago; logged it again. Undo?\n[a] ↩ Undo"
    assert await count(core, Activity, contact_id=bob.id, kind="linkedin") == 2
    assert "↩ Undone: LinkedIn for Bob Stone." in await chat.send("a")
    assert await count(core, Activity, contact_id=bob.id, kind="linkedin") == 1


async def test_help_in_the_console_explains_rows_and_labels(chat):
    out = await chat.send("help")
    assert "• `undo` — take back your last logged outreach" in out
    assert out.endswith("buttons have labels in brackets: type `1a` or `a` to press one. `quit` leaves.")


async def test_a_redelivered_undo_takes_back_one_action_only(core, make, ana, clock):
    from bot.conversation import Conversation

    bob = await make.contact(ana, "Bob Stone")
    conversation = Conversation(core, "console")
    await conversation.handle_text(ana, "log bob email")
    clock.advance(seconds=5)
    await conversation.handle_text(ana, "log bob call")
    first = await conversation.handle_text(ana, "undo", idempotency_key="delivery-7")
    again = await conversation.handle_text(ana, "undo", idempotency_key="delivery-7")
    assert first.text == "↩ Undone: Call for Bob Stone." and again.repeat
    assert await count(core, Activity, contact_id=bob.id) == 1


async def test_show_gives_past_business_with_its_currency(chat, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await chat.send("edit bob past business 12k EUR")
    assert "past business 12,000 EUR" in await chat.send("show bob")


async def test_edit_clears_an_optional_field_with_a_dash(chat, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com", phone="07700 900123")
    assert "Bob Stone: phone cleared." in await chat.send("edit bob phone -")
    assert "+447700900123" not in await chat.send("show bob")
    assert await chat.send("edit bob name none") == "The name can't be empty."


def label_of(out: str, label: str) -> str:
    """The label the console printed before a button's text (`1a`, `c`)."""
    import re

    return re.search(r"\[(\d*[a-z]+)\] " + re.escape(label), out)[1]


async def test_the_edit_button_asks_which_field_then_the_value(chat, core, make, ana):
    bob = await make.contact(ana, "Ana Lima", email="ana@x.example")
    shown = await chat.send("show ana lima")
    fields = await chat.send(label_of(shown, "✏️ Edit…"))
    assert fields.startswith("Which field of Ana Lima?")
    assert all(f"] {label}" in fields for label in ("Name", "Email", "Phone", "Warmness", "Past business", "Notes"))
    asked = await chat.send(label_of(fields, "Email"))
    assert asked.startswith("New email for Ana Lima (now ana@x.example)?")
    done = await chat.send("ana@lima.example")
    assert "Ana Lima: email is now ana@lima.example." in done and "↩ Undo" in done
    assert (await count(core, Contact, id=bob.id, email="ana@lima.example")) == 1
    assert "email is ana@x.example again" in await chat.send(label_of(done, "↩ Undo"))


async def test_edit_without_a_field_or_a_value_asks_for_them(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone", warmness=1)
    assert (await chat.send("edit bob")).startswith("Which field of Bob Stone?")
    asked = await chat.send("edit bob warmness")
    assert asked.startswith("New warmness for Bob Stone (now 1)? 0 to 5, or cold/warm/hot.")
    assert "Bob Stone: warmness is now 4. Pipedrive sync queued." in await chat.send("warm")
    assert await count(core, Contact, id=bob.id, warmness=4) == 1
    await chat.send("edit bob phone")
    assert await chat.send("") == "Cancelled."


async def test_a_bad_answer_to_the_edit_question_changes_nothing(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await chat.send("edit bob email")
    assert await chat.send("not an email") == "“not an email” is not a valid email address."
    assert await count(core, Contact, id=bob.id, email="bob@acme.com") == 1


async def test_the_more_menu_has_the_edit_button(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    await chat.send("today")
    more = await chat.send("1d")
    assert "Which field of Bob Stone?" in await chat.send(label_of(more, "✏️ Edit…"))


async def test_sector_and_country_are_typed_shown_by_name_and_asked_for(chat, core, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    assert "Bob Stone: sector is now Fintech." in await chat.send("edit bob sector Fintech")
    assert "Bob Stone: country is now Portugal." in await chat.send("edit bob country portugal")
    shown = await chat.send("show bob")
    assert "Sector: Fintech · Country: Portugal" in shown
    asked = await chat.send("edit bob country")
    assert asked.startswith("New country for Bob Stone (now Portugal)? Its name or two-letter code (Portugal, PT)")
    assert await chat.send("Narnia") == (
        "I don't know the country “Narnia”: say its name (Portugal) or its two-letter code (PT)."
    )
    assert await count(core, Contact, email="bob@acme.com", country="PT") == 1
    fields = await chat.send("edit bob")
    assert "] Sector" in fields and "] Country" in fields
    assert "Bob Stone: country cleared." in await chat.send("edit bob country -")
    assert "Country" not in await chat.send("show bob")


# --- an interaction typed in words: preview, then one confirming tap ---------------------------------------


@pytest.fixture
async def bank(make, ana):
    """Contacts the issue's examples name."""
    return {
        name.split()[0].lower(): await make.contact(ana, name, **fields)
        for name, fields in (
            ("Ana Lopez", {}),
            ("Bob Stone", {"organisation": "Acme"}),
            ("Carla Gomez", {}),
            ("Sofia Rossi", {}),
        )
    }


async def test_coffee_with_ana_is_previewed_then_written_on_confirm(chat, core, bank):
    preview = await chat.send("coffee with Ana, follow up in 3 weeks")
    assert "nothing is saved until you confirm" in preview
    for line in ("Contact: Ana Lopez", "Method: Meeting", "Reminder: Tue 15 Dec 2026", "Warm: no", "Meeting: —"):
        assert line in preview
    assert "[a] ✓ Confirm" in preview and "[b] ✎ Edit" in preview and "[c] ✗ Cancel" in preview
    assert await count(core, Activity) == 0  # nothing before the tap
    assert "✓ Meeting logged for Ana Lopez · ⏰ reminder Tue 15 Dec 09:00." in await chat.send("a")
    card = await chat.send("show ana")
    assert "⏰ Follow-up Tue 15 Dec 2026 09:00" in card and "Tue 24 Nov 2026 09:00 Meeting" in card
    assert await count(core, Activity, contact_id=bank["ana"].id) == 1


async def test_a_call_with_no_answer_and_a_day_to_try_again(chat, core, bank):
    preview = await chat.send("called Bob at Acme, no answer, try again Tuesday")
    for line in ("Contact: Bob Stone (Acme)", "Method: Call", "Outcome: no answer", "Reminder: Tue 1 Dec 2026"):
        assert line in preview
    assert "Call logged for Bob Stone (no answer)" in await chat.send("a")
    card = await chat.send("show bob")
    assert "Call (no answer)" in card and "⏰ Follow-up Tue 1 Dec 2026 09:00" in card


async def test_met_warm_with_a_meeting_booked(chat, core, bank):
    preview = await chat.send("met Carla Gomez at WebSummit, warm, meeting booked Thu 10:00")
    for line in ("Contact: Carla Gomez", "Warm: yes", "Meeting: booked Thu 26 Nov 2026 10:00"):
        assert line in preview
    done = await chat.send("a")
    assert "🔥 flagged warm" in done and "📅 meeting booked for Thu 26 Nov 10:00" in done
    card = await chat.send("show carla")
    assert "Warmness 4/5 (warm)" in card and "Meeting (meeting booked)" in card
    assert await count(core, OutboxMessage, contact_id=bank["carla"].id) == 2  # warm, meeting


async def test_an_email_about_an_event(chat, core, bank):
    preview = await chat.send("emailed Sofia about the Fintech Q4 event")
    assert "Contact: Sofia Rossi" in preview and "Method: Email" in preview and "Fintech Q4 event" in preview
    assert "✓ Email logged for Sofia Rossi." in await chat.send("a")
    assert "Email: " in await chat.send("show sofia")


async def test_cancel_writes_nothing_and_a_second_confirm_writes_nothing_more(chat, core, bank):
    await chat.send("called Bob, no answer")
    assert "Cancelled: nothing was written." in await chat.send("c")
    assert await count(core, Activity) == 0
    await chat.send("called Bob, no answer")
    chat_buttons = dict(chat.buttons)
    await chat.send("a")
    chat.buttons = chat_buttons  # the same preview's Confirm, pressed again
    assert "no longer there" in await chat.send("a")
    assert await count(core, Activity) == 1


async def test_several_anas_are_offered_as_buttons_then_none_of_these(chat, core, make, ana, bank):
    moreau = await make.contact(ana, "Ana Moreau")
    preview = await chat.send("coffee with Ana")
    assert "Contact: ? (“Ana” matches 2 contacts: pick one)" in preview
    assert "1. Ana Lopez" in preview and "2. Ana Moreau" in preview and "None of these" in preview
    assert "Confirm" not in preview
    assert "[1a] Pick" in preview and "[2a] Pick" in preview and "[a] None of these" in preview
    picked = await chat.send("2a")
    assert "Contact: Ana Moreau" in picked and "[a] ✓ Confirm" in picked
    assert "Meeting logged for Ana Moreau" in await chat.send("a")
    assert await count(core, Activity, contact_id=moreau.id) == 1
    await chat.send("coffee with Ana")
    none = await chat.send("a")
    assert "no contact named “Ana” in your bank" in none and "Confirm" not in none


async def test_an_unknown_contact_is_said_and_can_be_added_from_the_preview(chat, core, bank):
    preview = await chat.send("coffee with Zed")
    assert "Contact: ? (no contact named “Zed” in your bank)" in preview and "Confirm" not in preview
    assert await count(core, Contact) == len(bank)
    added = await chat.send("a")  # ➕ Add Zed
    assert "Contact: Zed" in added and "[a] ✓ Confirm" in added
    assert await count(core, Activity) == 0
    assert "Meeting logged for Zed" in await chat.send("a")


async def test_a_missing_method_shows_as_a_question_mark_and_a_button_fills_it(chat, core, bank):
    preview = await chat.send("Bob, went well")
    assert "Method: ?" in preview and "Confirm" not in preview and "[a] Call" in preview
    fixed = await chat.send("a")
    assert "Method: Call" in fixed and "[a] ✓ Confirm" in fixed
    assert "Call logged for Bob Stone" in await chat.send("a")


async def test_edit_asks_for_the_line_again_and_previews_the_correction(chat, core, bank):
    await chat.send("emailed Sofia about the Fintech Q4 event")
    asked = await chat.send("b")  # ✎ Edit
    assert "Type the line again, corrected (it was “emailed Sofia about the Fintech Q4 event”)" in asked
    corrected = await chat.send("called Sofia, no answer")
    assert "Method: Call" in corrected and "Outcome: no answer" in corrected
    assert "Call logged for Sofia Rossi (no answer)" in await chat.send("a")
    assert await count(core, Activity) == 1


async def test_a_line_that_is_no_interaction_keeps_the_old_answer(chat, bank):
    assert "I don't know “hello”." in await chat.send("hello there")


async def test_log_with_a_follow_up_in_its_note_sets_the_reminder(chat, bank):
    assert "⏰ reminder Tue 15 Dec 09:00" in await chat.send("log bob call no answer, follow up in 3 weeks")
    assert "⏰ Follow-up Tue 15 Dec 2026 09:00" in await chat.send("show bob")


async def test_forged_preview_buttons_are_refused_and_write_nothing(core, make, ana, bank):
    from bot.conversation import Conversation

    eve = await make.user("Eve", email="eve@example.com")
    conv = Conversation(core, "console")
    await conv.handle_text(ana, "called Bob, no answer")  # draft 1, Ana's
    answers = [
        (await conv.handle_button(eve, data)).text
        for data in ("iok:0:1", "ino:0:1", f"ipick:{bank['bob'].id}:1", "imethod:0:1:call", "iadd:0:1", "iedit:0:1")
    ]
    assert all("no longer there" in text for text in answers), answers
    for data in ("iok:0:abc", "iok:0:", "imethod:0:1:telepathy", f"ipick:{bank['ana'].id + 999}:1"):
        reply = await conv.handle_button(ana, data)
        assert reply.text and "Traceback" not in reply.text
    assert await count(core, Activity) == 0


async def test_remove_asks_first_then_the_answer_has_an_undo_that_puts_the_contact_back(chat, core, make, ana):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    await make.contact(ana, "Cara Diaz")
    out = await chat.send("remove bob")
    assert out.startswith("Remove Bob Stone (Acme) from your bank?") and "[a] 🗃 Remove" in out
    assert await count(core, Contact, id=bob.id, archived_at=None) == 1  # nothing removed until the tap
    out = await chat.send("a")
    assert "Removed Bob Stone (Acme) from your bank: out of your lists, history kept." in out
    assert "[a] ↩ Undo" in out
    assert await count(core, Contact, id=bob.id, archived_at=None) == 0
    assert "↩ Bob Stone (Acme) is back in your bank." in await chat.send("a")
    assert "Bob Stone" in await chat.send("today")


async def test_show_of_a_removed_contact_says_when_with_a_restore_button(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    await chat.send("remove bob")
    await chat.send("a")
    out = await chat.send("show bob")
    assert "🗃 Removed from your bank on Tue 24 Nov 2026." in out
    assert "[a] ↩ Restore" in out and "LinkedIn ✓" not in out
    assert "Did you mean" not in await chat.send("log bob email")
    assert "Bob Stone is back in your bank." in await chat.send("a")


async def test_acting_on_or_adding_again_a_removed_contact_offers_restore(chat, make, ana):
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await chat.send("remove bob@acme.com")
    await chat.send("a")
    out = await chat.send("log bob email")
    assert "Bob Stone was removed from your bank on Tue 24 Nov." in out and "[a] ↩ Restore" in out
    out = await chat.send("add Robert Stone bob@acme.com")
    assert "has the email bob@acme.com and was removed from your bank" in out and "[a] ↩ Restore" in out
    out = await chat.send("removed")
    assert "Removed from your bank (1):" in out and "1. Bob Stone" in out and "[a] ↩ Restore" in out
    assert "Bob Stone is back in your bank." in await chat.send("restore 1")


async def test_merge_asks_first_then_joins_the_two_contacts(chat, core, make, ana):
    keep = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    other = await make.contact(ana, "Robert Stone", phone="+447700900123")
    await chat.send("log robert call")
    out = await chat.send("merge robert into bob@acme.com")
    assert out.startswith("Merge Robert Stone into Bob Stone?") and "[a] 🔀 Merge" in out
    assert await count(core, Contact, id=other.id) == 1  # nothing merged until the tap
    out = await chat.send("a")
    assert out.startswith("Merged Robert Stone into Bob Stone (1 activity moved).")
    assert await count(core, Contact, id=other.id) == 0
    assert await count(core, Activity, contact_id=keep.id, kind="call") == 1
    assert "+44 7700 900123" in await chat.send("show bob")


async def test_the_old_row_of_a_merged_contact_says_where_it_went(chat, make, ana):
    await make.contact(ana, "Bob Stone", warmness=1)
    await make.contact(ana, "Robert Stone", warmness=5)
    await chat.send("today")  # 1. Robert Stone (warmer), 2. Bob Stone
    await chat.send("merge 1 into 2")
    await chat.send("a")
    assert await chat.send("show 1") == "That contact was merged into Bob Stone."


async def test_merge_without_into_is_one_clear_line(chat, make, ana):
    await make.contact(ana, "Bob Stone")
    out = await chat.send("merge bob")
    assert out.startswith("Which contact into which? `merge 4 into 2` keeps 2.") and "Traceback" not in out

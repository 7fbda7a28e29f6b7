"""Neutral replies as Telegram HTML and keyboards, checked by the fake server's own parser (tdlib's rules)."""

from datetime import UTC, datetime

from bot import codec
from bot import render as neutral
from bot.replies import Prompt, Reply, Section
from bot.telegram import render
from core.feed.commands import Suggestion, Suggestions
from core.views import ContactView
from fakes.telegram import parse_html, utf16_len

NASTY = "<b>_*[x](y) & </i> &amp; 🔥"


def contact(contact_id: int, name: str = "Bob Stone", **fields) -> ContactView:
    return ContactView(id=contact_id, owner_id=1, name=name, **fields)


def today(*contacts: ContactView, reason: str = "never contacted") -> Reply:
    items = tuple(Suggestion(rank=i, contact=k, score=1.0, reasons=(reason,)) for i, k in enumerate(contacts, 1))
    return neutral.suggestions(Suggestions(items))


def visible(page: render.Message) -> str:
    return parse_html(page.html)[0]


def test_user_text_shows_exactly_as_typed():
    page = render.message(today(contact(1, NASTY, organisation="<Acme & Co>")))
    text, entities = parse_html(page.html)
    assert f"1. {NASTY} (<Acme & Co>)" in text
    assert [e["type"] for e in entities] == ["bold"]  # only the header's own emphasis


def test_a_row_gets_quick_buttons_and_more_with_ids_only():
    page = render.message(today(contact(7)))
    [row] = page.keyboard.inline_keyboard
    assert [b.text for b in row] == ["LinkedIn ✓", "Email ✓", "Call ✓", "⋯"]
    assert [b.callback_data for b in row] == ["log:7:linkedin", "log:7:email", "log:7:call", "more:7"]


def test_rows_of_a_list_are_numbered_on_their_buttons():
    page = render.message(today(contact(7), contact(8, "Cara Diaz")))
    assert [row[0].text for row in page.keyboard.inline_keyboard] == ["1 · LinkedIn ✓", "2 · LinkedIn ✓"]


def test_the_more_menu_goes_two_buttons_a_row():
    page = render.message(neutral.more_menu(contact(7)))
    rows = page.keyboard.inline_keyboard
    assert all(len(row) <= 2 for row in rows)
    labels = [b.text for row in rows for b in row]
    assert {
        "🔥 Flag warm",
        "📨 Meeting requested",
        "📅 Meeting booked…",
        "📝 Add note…",
        "⏰ Remind in 3 days",
        "💤 Snooze 1 week",
    } <= set(labels)
    assert all(codec.decode(b.callback_data).contact_id == 7 for row in rows for b in row)


def within_limits(page: render.Message) -> str:
    """The message's visible text, once checked against Telegram's limits."""
    text, _ = parse_html(page.html)
    assert utf16_len(text) <= render.TEXT_LIMIT and utf16_len(page.html) <= render.MESSAGE_BUDGET
    assert page.keyboard is None or sum(len(row) for row in page.keyboard.inline_keyboard) <= render.BUTTON_LIMIT
    return text


def test_a_long_list_is_one_message_of_the_rows_that_fit_and_a_count_of_the_rest():
    page = render.message(today(*(contact(i, f"Contact {i}") for i in range(1, 51))))
    text = within_limits(page)
    assert len(page.keyboard.inline_keyboard) == 25  # 100 buttons, four a row
    assert "25. Contact 25" in text and "26. Contact 26" not in text
    assert text.endswith("\n\n… and 25 more.")


def test_a_huge_text_is_one_message_cut_at_a_line_end():
    lines = [f"line {i}: " + "<&>" * 40 for i in range(400)]
    text = within_limits(render.message(Reply("\n".join(lines))))
    shown = text.removesuffix("\n…").split("\n")
    assert text.endswith("\n…") and len(shown) >= 5 and shown == lines[: len(shown)]


def test_one_enormous_line_is_cut_too():
    line = "🔥&" * 5000
    text = within_limits(render.message(Reply(line)))
    assert text.endswith("…") and line.startswith(text.removesuffix("…")) and len(text) > 900


def test_a_contact_card_too_long_is_cut_and_keeps_its_buttons():
    card = Section("Bob Stone\nNotes: " + "<b>R&D</b> " * 1000, buttons=neutral.quick_buttons(7), contact_id=7)
    page = render.message(Reply("Bob Stone", (card,)))
    text = within_limits(page)
    assert text.startswith("Bob Stone\n\nBob Stone\nNotes: <b>R&D</b>") and text.endswith("…") and len(text) > 1000
    assert [b.text for b in page.keyboard.inline_keyboard[0]] == ["LinkedIn ✓", "Email ✓", "Call ✓"]


def test_a_table_is_monospace():
    page = render.message(Reply("Stats", (Section("a  1\n<b> 2", monospace=True),)))
    text, entities = parse_html(page.html)
    assert "<b> 2" in text
    assert {"type": "pre", "offset": utf16_len("Stats\n\n"), "length": utf16_len("a  1\n<b> 2")} in entities


def test_status_goes_under_the_tapped_row():
    page = render.message(today(contact(7), contact(8, "Cara <Diaz>"), contact(9, "Dan")))
    edited = render.with_status(page.html, page.keyboard, 8, "✓ Email logged for Cara <Diaz> · 09:14")
    blocks = parse_html(edited)[0].split("\n\n")
    assert blocks[2] == "2. Cara <Diaz>\nnever contacted\n✓ Email logged for Cara <Diaz> · 09:14"
    assert blocks[1] == "1. Bob Stone\nnever contacted" and blocks[3] == "3. Dan\nnever contacted"


def test_status_goes_under_the_tapped_row_of_a_list_cut_short():
    page = render.message(today(*(contact(i, f"Contact {i}") for i in range(1, 41))))
    edited = render.with_status(page.html, page.keyboard, 25, "✓ Call logged for Contact 25")
    blocks = parse_html(edited)[0].split("\n\n")
    assert blocks[-2:] == ["25. Contact 25\nnever contacted\n✓ Call logged for Contact 25", "… and 15 more."]


def test_status_of_a_one_contact_message_goes_at_the_end():
    page = render.message(neutral.more_menu(contact(7)))
    edited = render.with_status(page.html, page.keyboard, 7, "🔥 Bob Stone flagged warm (4/5)")
    assert parse_html(edited)[0] == "More for Bob Stone:\n🔥 Bob Stone flagged warm (4/5)"


def test_status_that_would_overflow_the_message_is_refused():
    big = "x" * (render.TEXT_LIMIT - 10)
    assert render.with_status(big, None, 1, "✓ LinkedIn logged for Bob Stone") is None


def test_callback_answer_text_stays_within_200():
    assert len(render.callback_text("x" * 500)) == render.CALLBACK_TEXT_LIMIT
    assert render.callback_text("short") == "short"


def test_prompt_opens_a_reply_with_a_hint():
    markup = render.prompt_markup(Prompt("When?", codec.encode("mbook", 3)))
    assert markup.force_reply and markup.selective and "tomorrow" in markup.input_field_placeholder
    assert render.prompt_markup(Prompt("Note?", codec.encode("note", 3))).input_field_placeholder == "Your note"


def test_link_code_reply_names_the_code_and_the_link():
    from core.users.commands import LinkCodeIssued
    from core.views import UserView

    user = UserView(1, "Ana", "ana@example.com", "consultant", "Europe/London", datetime.min.time(), (1,))
    issued = LinkCodeIssued(
        "telegram",
        "ABCDEFGHJK",
        datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        "https://t.me/PipedrivenBot?start=ABCDEFGHJK",
    )
    text = neutral.result(issued, user).text
    assert "ABCDEFGHJK" in text and "https://t.me/PipedrivenBot?start=ABCDEFGHJK" in text and "09:30" in text

"""Neutral replies as Telegram HTML and keyboards, checked by the fake server's own parser (tdlib's rules)."""

from datetime import datetime, timezone


from bot import codec, render as neutral
from bot.replies import Prompt, Reply, Section
from bot.telegram import render
from core.results import ContactView, Suggestion, Suggestions

from fake_telegram import parse_html, utf16_len

NASTY = "<b>_*[x](y) & </i> &amp; 🔥"


def contact(contact_id: int, name: str = "Bob Stone", **fields) -> ContactView:
    return ContactView(id=contact_id, owner_id=1, name=name, **fields)


def today(*contacts: ContactView, reason: str = "never contacted") -> Reply:
    items = tuple(Suggestion(rank=i, contact=k, score=1.0, reasons=(reason,)) for i, k in enumerate(contacts, 1))
    return neutral.suggestions(Suggestions(items))


def visible(page: render.Page) -> str:
    return parse_html(page.html)[0]


def test_user_text_shows_exactly_as_typed():
    [page] = render.pages(today(contact(1, NASTY, organisation="<Acme & Co>")))
    text, entities = parse_html(page.html)
    assert f"1. {NASTY} (<Acme & Co>)" in text
    assert [e["type"] for e in entities] == ["bold"]  # only the header's own emphasis


def test_a_row_gets_quick_buttons_and_more_with_ids_only():
    [page] = render.pages(today(contact(7)))
    [row] = page.keyboard.inline_keyboard
    assert [b.text for b in row] == ["LinkedIn ✓", "Email ✓", "Call ✓", "⋯"]
    assert [b.callback_data for b in row] == ["log:7:linkedin", "log:7:email", "log:7:call", "more:7"]


def test_rows_of_a_list_are_numbered_on_their_buttons():
    [page] = render.pages(today(contact(7), contact(8, "Cara Diaz")))
    assert [row[0].text for row in page.keyboard.inline_keyboard] == ["1 · LinkedIn ✓", "2 · LinkedIn ✓"]


def test_the_more_menu_goes_two_buttons_a_row():
    [page] = render.pages(neutral.more_menu(contact(7)))
    rows = page.keyboard.inline_keyboard
    assert all(len(row) <= 2 for row in rows)
    labels = [b.text for row in rows for b in row]
    assert {"🔥 Flag warm", "📨 Meeting requested", "📅 Meeting booked…", "📝 Add note…", "⏰ Remind in 3 days",
            "💤 Snooze 1 week"} <= set(labels)
    assert all(codec.decode(b.callback_data).contact_id == 7 for row in rows for b in row)


def test_a_long_list_is_cut_into_pages_of_at_most_ten_rows():
    pages = render.pages(today(*(contact(i, f"Contact {i}") for i in range(1, 26))))
    assert [len(p.keyboard.inline_keyboard) for p in pages] == [10, 10, 5]
    assert "1. Contact 1" in visible(pages[0]) and "25. Contact 25" in visible(pages[2])


def test_a_huge_text_is_cut_at_line_ends_and_every_page_parses_within_the_limit():
    lines = [f"line {i}: " + "<&>" * 40 for i in range(400)]
    pages = render.pages(Reply("\n".join(lines)))
    assert len(pages) > 1
    for page in pages:
        text, _ = parse_html(page.html)
        assert utf16_len(text) <= render.TEXT_LIMIT
    assert "\n".join(visible(p) for p in pages) == "\n".join(lines)


def test_one_enormous_line_is_cut_too():
    line = "🔥&" * 5000
    pages = render.pages(Reply(line))
    assert "".join(visible(p) for p in pages) == line
    assert all(utf16_len(p.html) <= render.PAGE_BUDGET for p in pages)


def test_a_table_is_monospace():
    [page] = render.pages(Reply("Stats", (Section("a  1\n<b> 2", monospace=True),)))
    text, entities = parse_html(page.html)
    assert "<b> 2" in text
    assert {"type": "pre", "offset": utf16_len("Stats\n\n"), "length": utf16_len("a  1\n<b> 2")} in entities


def test_status_goes_under_the_tapped_row():
    [page] = render.pages(today(contact(7), contact(8, "Cara <Diaz>"), contact(9, "Dan")))
    edited = render.with_status(page.html, page.keyboard, 8, "✓ Email logged for Cara <Diaz> · 09:14")
    blocks = parse_html(edited)[0].split("\n\n")
    assert blocks[2] == "2. Cara <Diaz>\nnever contacted\n✓ Email logged for Cara <Diaz> · 09:14"
    assert blocks[1] == "1. Bob Stone\nnever contacted" and blocks[3] == "3. Dan\nnever contacted"


def test_status_of_a_one_contact_message_goes_at_the_end():
    [page] = render.pages(neutral.more_menu(contact(7)))
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
    from core.results import LinkCodeIssued, UserView

    user = UserView(1, "Ana", "ana@example.com", "consultant", "Europe/London", datetime.min.time(), (1,))
    issued = LinkCodeIssued("telegram", "ABCDEFGHJK", datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc),
                            "https://t.me/PipedrivenBot?start=ABCDEFGHJK")
    text = neutral.result(issued, user).text
    assert "ABCDEFGHJK" in text and "https://t.me/PipedrivenBot?start=ABCDEFGHJK" in text and "09:30" in text

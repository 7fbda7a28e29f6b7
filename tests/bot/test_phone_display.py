"""Phones are kept in E.164 and shown in international format with spaces wherever a person reads one."""

from __future__ import annotations

from bot.console import ConsoleChat
from core.validation import display_phone


def test_a_stored_phone_reads_in_international_format():
    assert display_phone("+442079460958") == "+44 20 7946 0958"
    assert display_phone("+33142685300") == "+33 1 42 68 53 00"
    assert display_phone("+14155550100") == "+1 415-555-0100"
    assert display_phone(None) is None


async def test_show_find_edit_and_export_show_the_phone_with_spaces(core, make):
    ana = await make.user("Ana")
    await make.contact(ana, "Bob Stone", email="bob@acme.com", phone="020 7946 0958")
    chat = ConsoleChat(core, ana)
    for said in ("show bob", "find bob", "export bob"):
        out = await chat.send(said)
        assert "+44 20 7946 0958" in out and "+442079460958" not in out, (said, out)
    edited = await chat.send("edit bob phone 07700 900123")
    assert "+44 7700 900123" in edited

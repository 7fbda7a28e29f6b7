"""Logs carry no notes, emails or phone numbers: not at info level, not with SQL logging on, not in a trace."""

import logging

import pytest

from bot.console import ConsoleChat
from bot.conversation import Conversation

NAME, EMAIL, PHONE = "Zoë Quartermaine", "zoe.q@orbit.example", "+44 20 7946 0123"
OTHER_EMAIL, OTHER_PHONE = "yann@quokka.example", "+44 20 7946 0999"
NOTES = (
    "sent the Quokka deck",
    "prefers mornings at Wombat HQ",
    "coffee at the Numbat",
    "proposal for Dingo",
    "bananas in pyjamas",
)
# Her phone as stored (E.164) and as typed; every way an email or a note could reach a log line.
PERSONAL = (NAME, EMAIL, PHONE, "+442079460123", "7946 0123", OTHER_EMAIL, OTHER_PHONE, "+442079460999") + NOTES


@pytest.fixture
def everything_logged(caplog):
    """Every record at INFO and above, SQL statements included, as a handler would write it (with traces)."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # a deployment that turns SQL logging on
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return lambda: [formatter.format(record) for record in caplog.records]


async def test_a_day_of_chat_leaves_nothing_personal_in_the_logs(core, make, everything_logged):
    ana = await make.user("Ana Silva", email="ana@example.com")
    console = ConsoleChat(core, ana)
    for line, expected in (
        (f"add {NAME}, {EMAIL}, Orbit Logistics, {PHONE}", "Added"),
        (f"log {EMAIL} email {NOTES[0]}", "Email logged"),
        (f"note quartermaine: {NOTES[1]}", "Note added"),
        ("warm quartermaine", "flagged warm"),
        (f"meeting quartermaine booked tomorrow 10:00 {NOTES[2]}", "Meeting booked"),
        (f"remind quartermaine 3d {NOTES[3]}", "remind you"),
        (f"find {EMAIL}", "1 match"),
        ("show quartermaine", "Warmness"),
        ("stats", "Stats"),
        ("export quartermaine", "Everything Pipedriven holds"),
        # PostgreSQL refuses a NUL byte: the error path, logged with its trace.
        (f"note quartermaine {NOTES[4]}\x00", "could not be saved"),
        ("forget quartermaine", "for good?"),
        ("a", "Erased"),
    ):
        assert expected in await console.send(line)
    slack, telegram = Conversation(core, "slack"), Conversation(core, "telegram")
    await slack.handle_text(ana, f"add Yann Quokkason, {OTHER_EMAIL}, {OTHER_PHONE}")
    await telegram.handle_text(ana, f"log yann call {NOTES[0]}")
    await telegram.handle_button(ana, "log:99999:email")

    lines = everything_logged()
    assert any(line.startswith("WARNING core.service the database refused AddNote") for line in lines)
    assert any("INSERT INTO contacts" in line for line in lines)  # SQL logging was really on
    leaks = [(value, line[:200]) for line in lines for value in PERSONAL if value.lower() in line.lower()]
    assert leaks == []

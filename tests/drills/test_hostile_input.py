"""Fault drill: malformed and hostile input at every entry point (the console conversation, Slack over HTTP, the
Telegram webhook, a CSV shared in chat). Forged signatures and secrets, forged callback data, oversized payloads,
broken CSV, and injection strings in names and notes. Each gets a clear refusal (or, for text that is only
text, is kept exactly as typed and shown escaped), and nothing is stored half-way."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.console import ConsoleChat
from core.importing.reader import tidy_name
from core.models import Activity, Contact, User
from tests.drills.conftest import ANA_DM, ANA_SLACK

pytestmark = pytest.mark.drill

# Text that is only text: stored exactly as typed, never run as SQL, HTML, a template or a formula.
INJECTIONS = [
    "'; DROP TABLE contacts; --",
    "<script>alert('x')</script>",
    "{{7*7}} ${7*7}",
    "=cmd|' /C calc'!A0",
    "مرحبا Ana 👩‍💼🚀 עברית",
    "Robert'); DELETE FROM users; -- &amp; <b>",
]
# Text no field may hold: refused with a reason.
REFUSED = {"\x00": "null byte", "x" * 100_000: "100 KB"}


async def contacts(core) -> list[Contact]:
    async with core.sessions() as session:
        return (await session.execute(select(Contact).order_by(Contact.id))).scalars().all()


async def table_counts(core) -> tuple[int, int, int]:
    async with core.sessions() as session:
        return tuple([len((await session.execute(select(model.id))).all()) for model in (User, Contact, Activity)])


async def test_console_keeps_injection_strings_as_typed_and_refuses_what_no_field_holds(core, ana, bob):
    chat = ConsoleChat(core, ana)
    for text in INJECTIONS:
        said = await chat.send(f'add "{text}"')
        assert "Added" in said or "added" in said, said
        said = await chat.send(f"note bob {text}")
        assert "Note added" in said, said
    names = [c.name for c in await contacts(core)]
    assert names == ["Bob Stone", *INJECTIONS]
    async with core.sessions() as session:
        notes = (
            (await session.execute(select(Activity.note).where(Activity.kind == "note").order_by(Activity.id)))
            .scalars()
            .all()
        )
    assert notes == INJECTIONS
    before = await table_counts(core)
    for text, what in REFUSED.items():
        for line in (f"add Eve {text} Smith", f"note bob {text}"):
            said = await chat.send(line)
            # PostgreSQL refuses a null character: the database's refusal comes back as a plain sentence.
            assert ("too long" in said) if what == "100 KB" else ("could not be saved" in said), (what, said[:200])
    assert await table_counts(core) == before


def as_slack_sends(text: str) -> str:
    """Slack escapes &, < and > in what users type (its own markup uses them)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def test_slack_keeps_injection_strings_as_typed_and_shows_them_escaped(slack_app, core, bob):
    for text in INJECTIONS:
        sent = await slack_app.client.command(ANA_SLACK, f'add "{as_slack_sends(text)}"')
        assert sent.status == 200
    shown = " ".join(json.dumps(r) for r in slack_app.fake.responses)
    assert "<script>" not in shown and "&lt;script&gt;" in shown  # Slack's own escaping: shown, never markup
    assert [c.name for c in await contacts(core)] == ["Bob Stone", *INJECTIONS]


async def test_telegram_keeps_injection_strings_as_typed_and_shows_them_as_typed(telegram_app, core, bob):
    fake = telegram_app.fake
    mark = len(fake.calls)
    for text in INJECTIONS:
        assert await telegram_app.post(fake.message_update(telegram_app.user, f'/add "{text}"')) == 200
    answers = [c.result["text"] for c in fake.calls[mark:] if c.method == "sendMessage" and c.status == 200]
    assert len(answers) == len(INJECTIONS) and fake.refused() == []  # valid HTML every time
    for text, answer in zip(INJECTIONS, answers):
        assert text in answer  # what Telegram shows, once its HTML is read
    assert [c.name for c in await contacts(core)] == ["Bob Stone", *INJECTIONS]


async def test_slack_answers_find_with_100_kb_of_text_in_one_short_message(slack_app):
    assert (await slack_app.client.command(ANA_SLACK, "find " + "x" * 100_000)).status == 200
    [answer] = slack_app.fake.responses
    sections = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
    assert len(answer["blocks"]) <= 50 and all(len(text) <= 3000 for text in sections)
    assert sections == [f"No contact in your bank matches “{'x' * 99}…”."]  # the input, shortened


async def test_telegram_answers_find_with_100_kb_of_text_in_one_short_message(telegram_app):
    fake = telegram_app.fake
    mark = len(fake.calls)
    assert await telegram_app.post(fake.message_update(telegram_app.user, "/find " + "x" * 100_000)) == 200
    [answer] = fake.sent("sendMessage", since=mark)
    assert answer["text"] == f"No contact in your bank matches “{'x' * 99}…”."


async def test_slack_refuses_forged_signatures_stale_requests_and_oversized_bodies(slack_app, core):
    client = slack_app.client
    payload = client.tap_payload(ANA_SLACK, ANA_DM, slack_app.digest_ts, "LinkedIn ✓", contact="Bob Stone")
    before = await table_counts(core)
    assert (await client.interact(payload, secret="not-the-signing-secret")).status == 401
    assert (await client.interact(payload, timestamp=1_600_000_000)).status == 401
    body = urlencode({"payload": json.dumps(payload)})
    assert (
        await client.send(body, "application/x-www-form-urlencoded", headers={"X-Slack-Signature": "v0=" + "0" * 64})
    ).status == 401
    assert (
        await client.send(body, "application/x-www-form-urlencoded", headers={"X-Slack-Signature": ""})
    ).status == 401
    huge = urlencode({"payload": json.dumps({**payload, "padding": "x" * 3_000_000})})
    assert (await client.send(huge, "application/x-www-form-urlencoded")).status in (400, 413)
    # Signed, so only Slack could send it: Bolt can't read it and answers 500; nothing happens.
    assert (await client.send("payload=%7Bnot json", "application/x-www-form-urlencoded")).status >= 400
    assert await table_counts(core) == before
    assert slack_app.fake.called("chat.update") == []
    assert (await client.tap(ANA_SLACK, ANA_DM, slack_app.digest_ts, "LinkedIn ✓", contact="Bob Stone")).status == 200
    assert await table_counts(core) != before  # and the app still works


@pytest.mark.parametrize(
    "forged",
    [
        "log:999999:linkedin",
        "log:abc:linkedin",
        "log:1:'; DROP TABLE contacts; --",
        "undo:1",
        "warm:-1",
        "x" * 300,
        "",
        "%00",
    ],
)
async def test_slack_refuses_forged_button_values_clearly(slack_app, core, make, forged):
    zoe = await make.user("Zoe", email="zoe@example.com")
    her_contact = await make.contact(zoe, "Zoe's lead")
    value = forged.replace("999999", str(her_contact.id))
    before = await table_counts(core)
    sent = await slack_app.client.tap(
        ANA_SLACK, ANA_DM, slack_app.digest_ts, "LinkedIn ✓", contact="Bob Stone", value=value
    )
    assert sent.status == 200
    assert await table_counts(core) == before
    [told] = slack_app.fake.called("chat.postMessage")[1:]  # one clear line in Ana's DM, nothing updated
    assert "went wrong" not in told["text"] and told["text"]
    assert slack_app.fake.called("chat.update") == []


async def test_telegram_refuses_a_wrong_secret_forged_callbacks_broken_json_and_oversized_text(
    telegram_app, core, make
):
    fake = telegram_app.fake
    zoe = await make.user("Zoe", email="zoe@example.com")
    her_contact = await make.contact(zoe, "Zoe's lead")
    before = await table_counts(core)
    tap = fake.tap_update(telegram_app.user, telegram_app.digest, fake.button(telegram_app.digest, "LinkedIn"))
    assert await telegram_app.post(tap, secret="forged") == 403
    assert await telegram_app.post(tap, secret="") == 403
    # With the secret, so only Telegram could send it: python-telegram-bot can't read it (500); nothing happens.
    assert await telegram_app.post(None, raw=b'{"update_id": 1, "message": {broken') >= 400
    mark = len(fake.calls)
    for data in (f"log:{her_contact.id}:linkedin", "log:abc:linkedin", "'; DROP TABLE contacts; --", "\x00"):
        assert await telegram_app.post(fake.tap_update(telegram_app.user, telegram_app.digest, data)) == 200
    assert await telegram_app.post(fake.message_update(telegram_app.user, "/add " + "x" * 100_000)) == 200
    assert await telegram_app.post(fake.message_update(telegram_app.user, "/note bob a\x00b")) == 200
    assert await table_counts(core) == before
    answers = [
        c.params.get("text") or ""
        for c in fake.calls[mark:]
        if c.method in ("answerCallbackQuery", "sendMessage") and c.status == 200
    ]
    assert len([a for a in answers if a]) >= 4 and not any("went wrong" in a for a in answers), answers
    assert fake.sent("editMessageText", since=mark) == []


BROKEN_CSV = {  # the file, what the answer says, and the contacts it adds (all of them or none: one transaction)
    "empty": (b"", "The file is empty", []),
    "binary": (bytes(range(256)) * 40, "can't find a name column", []),
    "no name column": (b"Email,Phone\nbob@x.io,123\n", "can't find a name column", []),
    "unterminated quote": (b'Name,Email\n"Bob Stone,bob@x.io\nCara,cara@x.io\n', "1 rejected", []),
    "null bytes": (b"Name,Email\nBo\x00b,bob@x.io\n", "1 new", ["Bob"]),
    "one huge cell": (b"Name,Notes\nBob," + b"y" * 2_000_000 + b"\n", "1 rejected", []),
}


@pytest.mark.parametrize("name", list(BROKEN_CSV))
async def test_a_broken_csv_shared_in_chat_gets_a_reason_and_nothing_half_written(core, ana, bob, name):
    data, says, added = BROKEN_CSV[name]
    reply = await ConsoleChat(core, ana).conversation.handle_file(ana, data, filename=f"{name}.csv")
    assert says in reply.text, reply.text
    assert [c.name for c in await contacts(core)] == ["Bob Stone", *added]


async def test_injection_strings_in_a_csv_are_imported_as_typed(core, ana):
    rows = "\n".join(f'"{text.replace(chr(34), chr(34) * 2)}",{n}@inject.io' for n, text in enumerate(INJECTIONS))
    reply = await ConsoleChat(core, ana).conversation.handle_file(ana, f"Name,Email\n{rows}\n".encode(), "x.csv")
    assert "6" in reply.text, reply.text
    # Names have their case tidied on import (“aNA SILVA” → “Ana Silva”); nothing else changes.
    assert sorted(c.name for c in await contacts(core)) == sorted(tidy_name(text) for text in INJECTIONS)

"""Linking a Telegram account with a one-time code: from the CLI or from chat, `/start CODE`, expiry, reuse."""

import asyncio
import os
import re
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from telegram_harness import STRANGER_TG, texts

from bot.telegram.app import REFUSAL
from core.clock import FixedClock
from core.command import Actor
from core.models import ChatLinkCode
from core.users.commands import IssueLinkCode

TABLET_TG = 333_333
WELCOME = (
    "✓ This Telegram account is now linked to Ana Silva (ana@example.com). "
    "Say `today` to see who to get in touch with, or `help`."
)


@pytest.fixture
def clock():
    # The CLI in a subprocess issues codes by the wall clock, so the bot's clock starts there too.
    return FixedClock(datetime.now(UTC))


async def issue(core, user) -> str:
    return (await core.execute(IssueLinkCode(Actor(user.id, "cli"), "telegram"))).code


@pytest.mark.process
async def test_a_code_from_the_cli_links_the_chat_that_sends_start_code(
    bot, telegram, ana, ana_tg, database_url, tmp_path, make
):
    await make.contact(ana, "Bob Stone")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PIPEDRIVEN_DATA_DIR": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.api_url,
    }
    env.pop("TELEGRAM_BOT_USERNAME", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "users",
        "link",
        "ana@example.com",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    link = re.search(r"https://t\.me/PipedrivenTestBot\?start=([A-Z0-9]{10})", out.decode())
    assert link, out.decode()  # the bot's username came from getMe
    assert texts(await bot.say(ana_tg, "/today")) == [REFUSAL]  # not linked yet
    assert texts(await bot.say(ana_tg, f"/start {link[1]}")) == [WELCOME]
    assert "1. Bob Stone" in texts(await bot.say(ana_tg, "/today"))[0]


async def test_settings_link_telegram_in_chat_gives_a_code_for_another_device(bot, telegram, linked, make, ana, core):
    await make.contact(ana, "Bob Stone")
    [sent] = texts(await bot.say(linked, "/settings link telegram"))
    code = re.search(r"link code: ([A-Z0-9]{10})", sent)[1]
    assert f"https://t.me/PipedrivenTestBot?start={code}" in sent
    async with core.sessions() as session:
        stored = (await session.execute(select(ChatLinkCode))).scalars().all()
    assert [row.code_hash != code and len(row.code_hash) == 64 for row in stored] == [True]  # kept hashed only
    tablet = telegram.user(TABLET_TG, "Ana")
    assert texts(await bot.say(tablet, f"/start {code}")) == [WELCOME]
    assert "1. Bob Stone" in texts(await bot.say(tablet, "/today"))[0]


async def test_an_expired_code_links_nothing(bot, telegram, ana, core, clock):
    code = await issue(core, ana)
    clock.advance(minutes=31)
    stranger = telegram.user(STRANGER_TG, "Eve")
    [said] = texts(await bot.say(stranger, f"/start {code}"))
    assert said.startswith("That link code has expired.")
    assert texts(await bot.say(stranger, "/today")) == [REFUSAL]


async def test_a_code_works_once(bot, telegram, ana, ana_tg, core):
    code = await issue(core, ana)
    spelt_loosely = f"{code[:5].lower()}-{code[5:]}"
    assert texts(await bot.say(ana_tg, f"/start {spelt_loosely}")) == [WELCOME]
    stranger = telegram.user(STRANGER_TG, "Eve")
    [said] = texts(await bot.say(stranger, f"/start {code}"))
    assert said.startswith("That link code has already been used; a code works once.")
    assert texts(await bot.say(stranger, "/today")) == [REFUSAL]


async def test_a_wrong_code_and_a_superseded_one_are_not_valid(bot, telegram, ana, ana_tg, core):
    first = await issue(core, ana)
    second = await issue(core, ana)  # a new code cancels the unused one
    for code in ("NOTACODE42", first):
        [said] = texts(await bot.say(ana_tg, f"/start {code}"))
        assert said.startswith("That link code is not valid."), code
    assert texts(await bot.say(ana_tg, f"/start {second}")) == [WELCOME]


async def test_a_repeated_start_update_links_once_and_says_so_once(bot, telegram, ana, ana_tg, core):
    update = telegram.message_update(ana_tg, f"/start {await issue(core, ana)}")
    assert texts(await bot.deliver(update)) == [WELCOME]
    await bot.restart()
    assert await bot.deliver(update, again=True) == []  # not “already used”: it was this very message


async def test_start_alone_greets_a_linked_user_with_the_help(bot, linked):
    [said] = texts(await bot.say(linked, "/start"))
    assert said.startswith("Here is what I understand")

"""One-time link codes and remembered chat prompts, in the core."""

import pytest

from core.command import Actor
from core.errors import InvalidInput
from core.users.commands import IssueLinkCode, RecallPrompt, RedeemLinkCode, RememberPrompt
from core.users.handlers import PROMPT_TTL


async def test_only_telegram_links_with_a_code(core, make):
    ana = await make.user("Ana")
    with pytest.raises(InvalidInput, match="settings link telegram"):
        await core.execute(IssueLinkCode(Actor(ana.id, "slack"), "slack"))


async def test_a_code_links_the_account_to_its_user_and_then_identifies_it(core, make):
    ana = await make.user("Ana")
    code = (await core.execute(IssueLinkCode(Actor(ana.id, "cli")))).code
    linked = await core.execute(RedeemLinkCode(code, "telegram", "111", "111"))
    assert linked.user.id == ana.id
    assert (await core.identify("telegram", "111")).id == ana.id


async def test_a_code_for_telegram_is_not_one_for_another_platform(core, make):
    ana = await make.user("Ana")
    code = (await core.execute(IssueLinkCode(Actor(ana.id, "cli")))).code
    with pytest.raises(InvalidInput, match="not valid"):
        await core.execute(RedeemLinkCode(code, "slack", "U1"))


async def test_a_prompt_is_answered_by_the_user_asked_and_goes_stale(core, make, clock):
    ana, bob = await make.user("Ana"), await make.user("Bob")
    await core.execute(RememberPrompt(Actor(ana.id, "telegram"), "111", "42", "note:7"))
    assert await core.execute(RecallPrompt(Actor(ana.id, "telegram"), "111", "42")) == "note:7"
    assert await core.execute(RecallPrompt(Actor(bob.id, "telegram"), "111", "42")) is None
    assert await core.execute(RecallPrompt(Actor(ana.id, "slack"), "111", "42")) is None
    clock.advance(seconds=PROMPT_TTL.total_seconds() + 1)
    assert await core.execute(RecallPrompt(Actor(ana.id, "telegram"), "111", "42")) is None

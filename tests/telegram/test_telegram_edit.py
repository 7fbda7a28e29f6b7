"""Editing a contact in Telegram: the card's Edit button asks which field, then the value in reply to a prompt."""

from sqlalchemy import select
from telegram_harness import ANA_TG, texts

from core.models import Contact


async def stored(core, contact_id: int) -> Contact:
    async with core.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.id == contact_id))).scalar_one()


async def test_the_edit_button_asks_the_field_and_the_reply_to_the_prompt_is_the_value(
    bot, telegram, linked, make, ana, core
):
    lima = await make.contact(ana, "Ana Lima", email="ana@x.example")
    await bot.say(linked, "/show ana lima")
    await bot.tap(linked, bot.last(ANA_TG), "Edit")
    fields = bot.last(ANA_TG)
    assert fields["text"] == "Which field of Ana Lima?"
    calls = await bot.tap(linked, fields, "Email")
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert ask.params["reply_markup"]["force_reply"] is True
    prompt = bot.last(ANA_TG)
    assert prompt["text"].startswith("New email for Ana Lima (now ana@x.example)?")
    [done] = texts(await bot.say(linked, "ana@lima.example", reply_to=prompt))
    assert done == "Ana Lima: email is now ana@lima.example."
    assert (await stored(core, lima.id)).email == "ana@lima.example"
    await bot.tap(linked, bot.last(ANA_TG), "Undo")
    assert (await stored(core, lima.id)).email == "ana@x.example"


async def test_edit_with_a_field_and_no_value_asks_and_a_bad_reply_changes_nothing(
    bot, telegram, linked, make, ana, core
):
    bob = await make.contact(ana, "Bob Stone", phone="07700 900123")
    await bot.say(linked, "/edit bob phone")
    prompt = bot.last(ANA_TG)
    assert prompt["text"].startswith("New phone for Bob Stone (now +447700900123)? - empties it.")
    [refused] = texts(await bot.say(linked, "call me", reply_to=prompt))
    assert refused == "“call me” is not a phone number I can read."
    assert (await stored(core, bob.id)).phone == "+447700900123"
    [cleared] = texts(await bot.say(linked, "-", reply_to=prompt))
    assert cleared == "Bob Stone: phone cleared."
    assert (await stored(core, bob.id)).phone is None


async def test_the_card_names_the_last_change_from_pipedrive_and_when(bot, telegram, linked, make, ana, core, clock):
    from datetime import timedelta

    from tests.pipedrive.helpers import renamed_in_pipedrive

    lima = await make.contact(ana, "Ana Lima", email="ana@x.example")
    await renamed_in_pipedrive(core, lima, "Ana Lima-Costa", clock.now() + timedelta(minutes=5))
    await bot.say(linked, "/show lima-costa")
    card = bot.last(ANA_TG)
    assert card["text"].startswith("Ana Lima-Costa")
    assert "From Pipedrive: name changed, Tue 24 Nov 2026 09:05." in card["text"]

"""An interaction typed to the Telegram bot: a preview with buttons, written once on the confirming tap, and
corrected by replying to the bot's question."""

from sqlalchemy import func, select
from telegram_harness import ANA_TG, texts

from core.models import Activity, FollowUp


async def count(core, model, **where) -> int:
    async with core.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return (await session.execute(query)).scalar_one()


async def test_a_line_is_previewed_and_a_redelivered_confirm_writes_once(bot, telegram, linked, make, ana, core):
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    [preview] = texts(await bot.say(linked, "called Bob at Acme, no answer, try again Tuesday"))
    for line in ("Contact: Bob Stone (Acme)", "Method: Call", "Outcome: no answer", "Reminder: Tue 1 Dec 2026"):
        assert line in preview
    assert await count(core, Activity) == 0
    update = telegram.tap_update(linked, bot.last(ANA_TG), telegram.button(bot.last(ANA_TG), "Confirm"))
    await bot.deliver(update)
    await bot.restart()  # the process died before confirming the update: Telegram hands it out again
    await bot.deliver(update, again=True)
    assert await count(core, Activity, contact_id=bob.id, kind="call", outcome="no_answer") == 1
    assert await count(core, FollowUp, contact_id=bob.id) == 1
    assert "Call logged for Bob Stone (no answer)" in bot.last(ANA_TG)["text"]


async def test_edit_asks_for_the_line_and_the_reply_previews_the_correction(bot, telegram, linked, make, ana, core):
    await make.contact(ana, "Sofia Rossi")
    await bot.say(linked, "emailed Sofia about the Fintech Q4 event")
    calls = await bot.tap(linked, bot.last(ANA_TG), "Edit")
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert ask.params["reply_markup"]["force_reply"] is True
    assert "Type the line again, corrected" in bot.last(ANA_TG)["text"]
    [corrected] = texts(await bot.say(linked, "called Sofia, no answer", reply_to=bot.last(ANA_TG)))
    assert "Method: Call" in corrected and "Outcome: no answer" in corrected
    await bot.tap(linked, bot.last(ANA_TG), "Confirm")
    assert await count(core, Activity, kind="call") == 1 and await count(core, Activity) == 1

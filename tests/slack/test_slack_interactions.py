"""An interaction typed in the bot's DM: a preview with buttons, written once on the confirming tap."""

from sqlalchemy import select

from core.models import Activity, FollowUp

ANA, DM = "U0ANA", "DU0ANA"


async def rows(core, model):
    async with core.sessions() as s:
        return (await s.execute(select(model).order_by(model.id))).scalars().all()


def message_text(message):
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


async def test_a_dm_line_is_previewed_and_one_confirming_tap_writes_it_once(slack, fake, core, make):
    fake.add_user(ANA, "ana@example.com", tz="Europe/Paris")
    ana = await make.user("Ana Silva", email="ana@example.com")
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    event = {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": ANA,
        "text": "called Bob at Acme, no answer, try again Tuesday",
        "ts": "1700000001.000100",
        "event_ts": "1700000001.000100",
    }
    await slack.event(event, event_id="Ev1")
    [(channel, ts)] = list(fake.messages)
    shown = message_text(fake.messages[(channel, ts)])
    for line in ("Contact: Bob Stone (Acme)", "Method: Call", "Outcome: no answer", "Reminder: Tue 1 Dec 2026"):
        assert line in shown
    assert await rows(core, Activity) == []  # nothing before the tap

    tap = slack.tap_payload(ANA, DM, ts, "✓ Confirm")
    await slack.interact(tap)
    await slack.interact(tap, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    [call] = await rows(core, Activity)
    assert (call.contact_id, call.kind, call.outcome) == (bob.id, "call", "no_answer")
    [follow_up] = await rows(core, FollowUp)
    assert follow_up.contact_id == bob.id

    confirmed = fake.called("chat.postMessage")[1]
    assert "Call logged for Bob Stone (no answer)" in confirmed["text"]
    assert "↩ Undo" in str(confirmed["blocks"])  # the outreach can be taken back, as a logged one can

    await slack.interact(slack.tap_payload(ANA, DM, ts, "✓ Confirm"))  # a second tap on the same preview
    assert len(await rows(core, Activity)) == 1
    assert "no longer there" in fake.called("chat.postMessage")[-1]["text"]
    assert len(fake.called("chat.postMessage")) == 3  # the preview, the confirmation once, the second tap's answer


async def test_edit_opens_a_modal_with_the_line_and_its_submission_previews_the_correction(slack, fake, core, make):
    fake.add_user(ANA, "ana@example.com", tz="Europe/Paris")
    ana = await make.user("Ana Silva", email="ana@example.com")
    await make.contact(ana, "Sofia Rossi")
    await slack.command(ANA, "emailed Sofia about the Fintech Q4 event", channel=DM)
    [(channel, ts)] = list(fake.messages)
    await slack.tap(ANA, channel, ts, "✎ Edit")
    [modal] = fake.modals
    assert modal["callback_id"] == "pd-line"
    assert modal["blocks"][0]["element"]["initial_value"] == "emailed Sofia about the Fintech Q4 event"
    value = {"line": {"text": {"type": "plain_text_input", "value": "called Sofia, no answer"}}}
    assert (await slack.submit(ANA, modal, value)).status == 200
    corrected = fake.called("chat.postMessage")[-1]
    assert "Method: Call" in str(corrected["blocks"]) and "Outcome: no answer" in str(corrected["blocks"])
    [_, (_, second)] = list(fake.messages)
    await slack.tap(ANA, channel, second, "✓ Confirm")
    async with core.sessions() as s:
        assert [a.kind for a in (await s.execute(select(Activity))).scalars()] == ["call"]

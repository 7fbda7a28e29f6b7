"""`/outreach WORDS` and DM messages through the real Bolt app, over HTTP, with signed requests."""

import asyncio
import time

import pytest
from sqlalchemy import func, select

from core.models import Activity, ChatIdentity, Contact

ANA = "U0ANA"


@pytest.fixture
async def ana(make, fake):
    fake.add_user(ANA, "ana@example.com", tz="Europe/Paris")
    return await make.user("Ana Silva", email="ana@example.com")


async def count(core, model, *where):
    async with core.sessions() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_today_in_a_channel_answers_ephemerally_with_interactive_rows(slack, fake, make, ana):
    await make.contact(ana, "Bob Stone", organisation="Acme & Sons", warmness=4)
    sent = await slack.command(ANA, "today")
    assert sent.status == 200 and sent.body == ""  # the ack: empty, at once
    [answer] = fake.responses
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    texts = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
    assert "*1. Bob Stone (Acme &amp; Sons)*\nnever contacted · warm" in texts
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"] if e["type"] == "button"]
    assert labels == ["LinkedIn ✓", "Email ✓", "Call ✓"]
    [overflow] = [e for e in actions["elements"] if e["type"] == "overflow"]
    assert [o["text"]["text"] for o in overflow["options"]] == [
        "🔥 Flag warm",
        "📨 Meeting requested",
        "📅 Meeting booked…",
        "📝 Add note…",
        "⏰ Remind / snooze…",
    ]
    assert fake.called("chat.postMessage") == []  # nothing shown to the channel


async def test_in_the_bots_dm_the_answer_is_a_message_there(slack, fake, make, ana):
    await make.contact(ana, "Bob Stone")
    await slack.command(ANA, "today", channel="D" + ANA)
    [posted] = fake.called("chat.postMessage")
    assert posted["channel"] == "D" + ANA and "Bob Stone" in str(posted["blocks"])
    assert fake.responses == []


async def test_first_contact_links_by_profile_email_and_takes_the_slack_timezone(slack, fake, core, ana):
    await slack.command(ANA, "settings")
    assert "(Europe/Paris)" in fake.responses[-1]["text"]
    await slack.command(ANA, "settings")
    assert len(fake.called("users.info")) == 1  # linked once, then known by the Slack id
    assert await count(core, ChatIdentity, ChatIdentity.external_user_id == ANA) == 1


async def test_an_unknown_user_is_told_how_to_be_added(slack, fake, core):
    fake.add_user("U0NEW", "new.person@example.com")
    await slack.command("U0NEW", "today")
    [answer] = fake.responses
    assert "pipedriven users add new.person@example.com" in answer["text"]
    assert await count(core, ChatIdentity) == 0


async def test_a_profile_without_email_is_told_too(slack, fake):
    fake.add_user("U0HID", None)
    await slack.command("U0HID", "today")
    assert "can't see an email address on your Slack profile" in fake.responses[0]["text"]


async def test_slack_wrapped_emails_and_links_are_read_as_typed(slack, fake, core, ana):
    await slack.command(
        ANA,
        "add Bo Chen, <mailto:bo@chen.io|bo@chen.io>, <http://linkedin.com/in/bochen|"
        "linkedin.com/in/bochen>, R&amp;D &lt;Labs&gt;",
    )
    assert "Added Bo Chen (R&amp;D &lt;Labs&gt;)" in fake.responses[0]["text"]
    async with core.sessions() as s:
        bo = (await s.execute(select(Contact))).scalar_one()
    assert (bo.email, bo.linkedin_url, bo.organisation) == ("bo@chen.io", "linkedin.com/in/bochen", "R&D <Labs>")


async def test_a_redelivered_command_acts_once(slack, fake, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    for _ in range(2):
        await slack.command(ANA, "log bob email", trigger_id="trigger-same")
    assert await count(core, Activity, Activity.contact_id == bob.id) == 1
    assert len(fake.responses) == 1 and "✓ Email logged for Bob Stone" in fake.responses[0]["text"]


async def test_a_bad_signature_is_refused(slack, fake, core, make, ana):
    await make.contact(ana, "Bob Stone")
    sent = await slack.command(ANA, "log bob email", secret="not-the-signing-secret")
    assert sent.status == 401
    assert await count(core, Activity) == 0 and fake.responses == [] and fake.calls == []


async def test_a_stale_timestamp_is_refused(slack, fake, core, make, ana):
    await make.contact(ana, "Bob Stone")
    sent = await slack.command(ANA, "log bob email", timestamp=int(time.time()) - 10 * 60)
    assert sent.status == 401
    assert await count(core, Activity) == 0 and fake.responses == []


async def test_bad_grammar_gets_a_private_hint_not_a_trace(slack, fake, ana):
    await slack.command(ANA, "lgo 1 email")
    [answer] = fake.responses
    assert "Did you mean `log`?" in answer["text"] and "Traceback" not in str(answer)


async def test_a_dm_message_runs_the_grammar_and_a_retried_event_acts_once(slack, fake, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    event = {
        "type": "message",
        "channel": "D" + ANA,
        "channel_type": "im",
        "user": ANA,
        "text": "log bob call",
        "ts": "1700000001.000100",
        "event_ts": "1700000001.000100",
    }
    assert (await slack.event(event, event_id="Ev1")).status == 200
    assert (
        await slack.event(
            event, event_id="Ev1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
    ).status == 200
    assert await count(core, Activity, Activity.contact_id == bob.id) == 1
    [posted] = fake.called("chat.postMessage")
    assert posted["channel"] == "D" + ANA and "✓ Call logged for Bob Stone" in posted["text"]


async def test_the_bots_own_and_edited_messages_are_ignored(slack, fake, ana):
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D" + ANA,
        "channel_type": "im",
        "message": {"text": "today"},
        "ts": "1700000002.000100",
    }
    assert (await slack.event(edited, event_id="Ev2")).status == 200
    assert fake.called("chat.postMessage") == []


async def test_socket_mode_takes_the_same_command_over_the_websocket(core, fake, bot, slack_settings, make, ana):
    from pydantic import SecretStr

    from bot.slack.service import SlackService
    from fakes.slack import APP_TOKEN, fixture

    bob = await make.contact(ana, "Bob Stone")
    settings = slack_settings.model_copy(update={"slack_app_token": SecretStr(APP_TOKEN), "slack_signing_secret": None})
    service = SlackService(core, settings, bot=bot)
    assert service.name == "slack (Socket Mode)"
    await service.start()
    try:
        await asyncio.wait_for(fake.socket_open.wait(), 10)
        assert await service.ready()  # /readyz counts Slack in once its socket is connected
        command = {
            **fixture("slash_command.json"),
            "user_id": ANA,
            "text": "log bob linkedin",
            "response_url": fake.response_url(),
        }
        await fake.socket.send_json(
            {"envelope_id": "env-1", "type": "slash_commands", "payload": command, "accepts_response_payload": True}
        )
        ack = await asyncio.wait_for(fake.socket_acks.get(), 10)
        assert ack["envelope_id"] == "env-1"
        await bot.in_flight.wait_idle(10)
    finally:
        await service.stop()
    assert not await service.ready()
    assert await count(core, Activity, Activity.contact_id == bob.id) == 1
    assert "✓ LinkedIn logged for Bob Stone" in fake.responses[0]["text"]

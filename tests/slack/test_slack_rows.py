"""The morning DM and its rows: one-tap logging in place, undo, second taps and Slack's retries, the overflow menu
and its modals, forged buttons, ephemeral rows and the App Home."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.notify import ChatTarget
from core.models import Activity, Contact, FollowUp, OutboxMessage

ANA, DM = "U0ANA", "DU0ANA"


@pytest.fixture
async def ana(make, fake):
    fake.add_user(ANA, "ana@example.com", tz="Europe/Paris")
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def contacts(make, ana):
    return [await make.contact(ana, name, organisation="Acme") for name in ("Bob Stone", "Cara Diaz")]


@pytest.fixture
async def digest(core, fake, service, ana, contacts):
    """The morning digest, posted through the notifier as the scheduler does; returns its ts."""
    reply = await Conversation(core, "slack").digest(ana)
    return await service.notifier.send(ChatTarget(ana.id, "slack", ANA), reply)


async def rows(core, model, *where):
    async with core.sessions() as s:
        return (await s.execute(select(model).where(*where).order_by(model.id))).scalars().all()


def texts(blocks):
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def buttons(blocks, contact):
    """The button labels of the row that mentions `contact`."""
    out, in_row = [], False
    for b in blocks:
        if b["type"] == "section":
            in_row = contact in b["text"]["text"]
        elif b["type"] == "actions" and in_row:
            out += [e["text"]["text"] for e in b["elements"] if e["type"] == "button"]
    return out


async def test_the_digest_is_a_dm_with_a_header_and_a_row_per_suggestion(fake, digest):
    message = fake.messages[(DM, digest)]
    assert texts(message["blocks"])[0] == "☀️ Good morning Ana! Who to contact today:"
    assert "*1. Bob Stone (Acme)*\nnever contacted" in texts(message["blocks"])
    assert buttons(message["blocks"], "Cara Diaz") == ["LinkedIn ✓", "Email ✓", "Call ✓"]


async def test_a_tap_logs_and_updates_that_row_in_place_with_undo(slack, fake, core, digest, contacts):
    bob = contacts[0]
    sent = await slack.tap(ANA, DM, digest, "LinkedIn ✓", contact="Bob Stone")
    assert sent.status == 200
    [activity] = await rows(core, Activity)
    assert (activity.contact_id, activity.kind) == (bob.id, "linkedin")
    [update] = fake.called("chat.update")
    assert (update["channel"], update["ts"]) == (DM, digest)
    blocks = fake.messages[(DM, digest)]["blocks"]
    # 09:00 UTC is 10:00 in Paris, the timezone Ana's Slack profile gave her.
    assert "✓ LinkedIn logged for Bob Stone · 10:00" in texts(blocks)
    assert buttons(blocks, "LinkedIn logged for Bob") == ["↩ Undo"]
    assert buttons(blocks, "Cara Diaz") == ["LinkedIn ✓", "Email ✓", "Call ✓"]  # the other rows stay
    assert fake.called("chat.postMessage")[1:] == []  # no new message


async def test_a_second_tap_on_the_same_button_logs_a_second_outreach(slack, fake, core, digest, clock):
    before = dict(fake.messages[(DM, digest)])  # both taps come from the message as it was (a client not updated)
    await slack.tap(ANA, DM, digest, "Email ✓", contact="Bob Stone")
    fake.messages[(DM, digest)] = before
    clock.advance(minutes=5)
    await slack.tap(ANA, DM, digest, "Email ✓", contact="Bob Stone")
    assert [a.kind for a in await rows(core, Activity)] == ["email", "email"]
    assert len(fake.called("chat.update")) == 2


async def test_slacks_retry_of_a_tap_logs_once_and_answers_once(slack, fake, core, digest):
    payload = slack.tap_payload(ANA, DM, digest, "Email ✓", contact="Bob Stone")
    await slack.interact(payload)
    await slack.interact(payload, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert len(await rows(core, Activity)) == 1
    assert len(fake.called("chat.update")) == 1 and len(fake.called("chat.postMessage")) == 1


async def test_undo_within_the_minute_takes_it_back_and_the_row_gets_its_buttons_again(
    slack, fake, core, clock, digest, contacts
):
    await slack.tap(ANA, DM, digest, "Call ✓", contact="Bob Stone")
    clock.advance(seconds=30)
    await slack.tap(ANA, DM, digest, "↩ Undo", contact="Bob Stone")
    assert await rows(core, Activity) == []
    [bob] = await rows(core, Contact, Contact.id == contacts[0].id)
    assert bob.last_contacted_at is None
    blocks = fake.messages[(DM, digest)]["blocks"]
    assert "↩ Undone: Call for Bob Stone · 10:00" in texts(blocks)
    assert buttons(blocks, "Undone: Call for Bob") == ["LinkedIn ✓", "Email ✓", "Call ✓"]
    # The buttons are new ones: a tap on them is a new outreach, not a repeat of the undone one.
    await slack.tap(ANA, DM, digest, "Call ✓", contact="Undone: Call for Bob")
    assert [a.kind for a in await rows(core, Activity)] == ["call"]


async def test_undo_after_a_minute_is_refused(slack, fake, core, clock, digest):
    await slack.tap(ANA, DM, digest, "Call ✓", contact="Bob Stone")
    clock.advance(minutes=2)
    await slack.tap(ANA, DM, digest, "↩ Undo", contact="Bob Stone")
    assert len(await rows(core, Activity)) == 1
    assert "Too late to undo" in fake.called("chat.postMessage")[-1]["text"]


async def test_overflow_flag_warm_and_meeting_requested_queue_the_sync_and_update_the_row(
    slack, fake, core, digest, contacts
):
    await slack.tap(ANA, DM, digest, "🔥 Flag warm", contact="Bob Stone")
    await slack.tap(ANA, DM, digest, "📨 Meeting requested", contact="Cara Diaz")
    [bob, cara] = await rows(core, Contact)
    assert bob.warmness == 4
    assert [o.payload["event"] for o in await rows(core, OutboxMessage)] == ["ContactWarmed", "MeetingRequested"]
    blocks = fake.messages[(DM, digest)]["blocks"]
    assert "🔥 Bob Stone flagged warm (4/5). Pipedrive sync queued · 10:00" in texts(blocks)
    # Flagging warm is no outreach: the row keeps its buttons.
    assert buttons(blocks, "Bob Stone flagged warm") == ["LinkedIn ✓", "Email ✓", "Call ✓"]
    assert any(t.startswith("📨 Meeting requested with Cara Diaz") for t in texts(blocks))


async def test_add_note_opens_a_modal_and_its_submission_updates_the_row(slack, fake, core, digest, contacts):
    await slack.tap(ANA, DM, digest, "📝 Add note…", contact="Cara Diaz")
    [opened] = fake.called("views.open")
    modal = fake.modals[0]
    assert modal["callback_id"] == "pd-note" and opened["trigger_id"].startswith("trigger-")
    assert modal["blocks"][0]["label"]["text"] == "Type the note for Cara Diaz:"
    assert await rows(core, Activity) == []  # nothing until it is submitted
    sent = await slack.submit(
        ANA, modal, {"note": {"text": {"type": "plain_text_input", "value": "Met at <the> fintech dinner & drinks"}}}
    )
    assert sent.status == 200
    [note] = await rows(core, Activity)
    assert (note.contact_id, note.kind, note.note) == (contacts[1].id, "note", "Met at <the> fintech dinner & drinks")
    assert "📝 Note added to Cara Diaz · 10:00" in texts(fake.messages[(DM, digest)]["blocks"])


async def test_an_empty_note_is_answered_inside_the_modal(slack, fake, core, digest):
    await slack.tap(ANA, DM, digest, "📝 Add note…", contact="Bob Stone")
    sent = await slack.submit(ANA, fake.modals[0], {"note": {"text": {"type": "plain_text_input", "value": "  "}}})
    assert '"response_action": "errors"' in sent.body and "Write the note first" in sent.body
    assert await rows(core, Activity) == []


async def test_meeting_booked_takes_a_date_and_time_in_the_users_timezone(slack, fake, core, digest):
    await slack.tap(ANA, DM, digest, "📅 Meeting booked…", contact="Bob Stone")
    modal = fake.modals[0]
    assert modal["callback_id"] == "pd-meeting"
    assert [b["element"]["type"] for b in modal["blocks"] if b["type"] == "input"] == ["datepicker", "timepicker"]
    await slack.submit(
        ANA,
        modal,
        {
            "date": {"date": {"type": "datepicker", "selected_date": "2026-12-02"}},
            "time": {"time": {"type": "timepicker", "selected_time": "14:30"}},
        },
    )
    [meeting] = await rows(core, Activity)
    assert (meeting.outcome, meeting.due_at) == ("meeting_booked", datetime(2026, 12, 2, 13, 30, tzinfo=UTC))
    assert [o.payload["event"] for o in await rows(core, OutboxMessage)] == ["MeetingBooked"]
    assert any(
        "📅 Meeting booked with Bob Stone for Wed 2 Dec 14:30" in t
        for t in texts(fake.messages[(DM, digest)]["blocks"])
    )


async def test_remind_or_snooze_offers_presets_and_a_date(slack, fake, core, digest, contacts):
    await slack.tap(ANA, DM, digest, "⏰ Remind / snooze…", contact="Bob Stone")
    await slack.submit(
        ANA,
        fake.modals[0],
        {
            "choice": {"choice": {"type": "radio_buttons", "selected_option": {"value": "snooze:1w"}}},
            "date": {"date": {"type": "datepicker", "selected_date": None}},
        },
    )
    await slack.tap(ANA, DM, digest, "⏰ Remind / snooze…", contact="Cara Diaz")
    await slack.submit(
        ANA,
        fake.modals[1],
        {
            "choice": {"choice": {"type": "radio_buttons", "selected_option": {"value": "remind:date"}}},
            "date": {"date": {"type": "datepicker", "selected_date": "2026-12-01"}},
        },
    )
    snoozed, reminder = await rows(core, FollowUp)
    # A week on, at the start of Ana's working morning (09:00 in Paris).
    assert (snoozed.contact_id, snoozed.snoozed, snoozed.due_at) == (
        contacts[0].id,
        True,
        datetime(2026, 12, 1, 8, tzinfo=UTC),
    )
    # Midnight of 1 December in Paris.
    assert (reminder.contact_id, reminder.due_at) == (contacts[1].id, datetime(2026, 11, 30, 23, tzinfo=UTC))


async def test_a_date_choice_without_a_date_is_answered_inside_the_modal(slack, fake, core, digest):
    await slack.tap(ANA, DM, digest, "⏰ Remind / snooze…", contact="Bob Stone")
    sent = await slack.submit(
        ANA,
        fake.modals[0],
        {"choice": {"choice": {"type": "radio_buttons", "selected_option": {"value": "snooze:date"}}}},
    )
    assert "Pick the date for this choice" in sent.body
    assert await rows(core, FollowUp) == []


async def test_a_forged_button_for_someone_elses_contact_is_refused(slack, fake, core, make, digest):
    other = await make.user("Other")
    theirs = await make.contact(other, "Their Contact")
    await slack.tap(ANA, DM, digest, "Email ✓", contact="Bob Stone", value=f"log:{theirs.id}:email")
    await slack.tap(ANA, DM, digest, "📝 Add note…", contact="Bob Stone", value=f"note:{theirs.id}")
    assert await rows(core, Activity) == [] and fake.called("views.open") == []
    told = [m["text"] for m in fake.called("chat.postMessage")[1:]]
    assert told == ["That contact is not in your bank."] * 2
    assert fake.called("chat.update") == []


async def test_malformed_button_data_is_refused_without_a_trace(slack, fake, core, digest):
    await slack.tap(ANA, DM, digest, "Email ✓", contact="Bob Stone", value="log:../../etc:email")
    assert await rows(core, Activity) == []
    assert "That button is no longer valid" in fake.called("chat.postMessage")[-1]["text"]


async def test_a_tap_by_an_unknown_slack_user_is_refused(slack, fake, core, digest):
    fake.add_user("U0EVE", "eve@example.com")
    await slack.tap("U0EVE", DM, digest, "Email ✓", contact="Bob Stone")
    assert await rows(core, Activity) == []
    assert "pipedriven users add eve@example.com" in fake.called("chat.postMessage")[-1]["text"]


async def test_a_tap_on_an_ephemeral_row_answers_with_a_new_private_line(slack, fake, core, ana, contacts):
    await slack.command(ANA, "today")
    listed = fake.responses[0]["blocks"]
    await slack.tap_ephemeral(ANA, listed, "Email ✓", contact="Cara Diaz")
    [activity] = await rows(core, Activity)
    assert activity.contact_id == contacts[1].id
    answer = fake.responses[1]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert texts(answer["blocks"]) == ["✓ Email logged for Cara Diaz · 10:00"]
    assert buttons(answer["blocks"], "") == ["↩ Undo"]


async def test_a_second_tap_on_an_ephemeral_row_logs_a_second_outreach(slack, fake, core, ana, contacts, clock):
    await slack.command(ANA, "today")
    listed = fake.responses[0]["blocks"]  # an ephemeral row keeps its buttons: Slack can't update it
    await slack.tap_ephemeral(ANA, listed, "Call ✓", contact="Cara Diaz")
    clock.advance(minutes=5)
    await slack.tap_ephemeral(ANA, listed, "Call ✓", contact="Cara Diaz")
    assert [(a.contact_id, a.kind) for a in await rows(core, Activity)] == [(contacts[1].id, "call")] * 2
    assert [texts(r["blocks"]) for r in fake.responses[1:]] == [
        ["✓ Call logged for Cara Diaz · 10:00"],
        ["✓ Call logged for Cara Diaz · 10:05"],
    ]


async def test_app_home_shows_today_follow_ups_and_own_numbers_and_its_rows_work(
    slack, fake, core, make, ana, contacts
):
    other = await make.user("Other")
    await make.contact(other, "Not Anas")
    home_opened = {
        "type": "app_home_opened",
        "user": ANA,
        "channel": DM,
        "tab": "home",
        "event_ts": "1700000003.000100",
    }
    await slack.event(home_opened, event_id="EvHome1")
    home = fake.homes[ANA]
    assert home["type"] == "home"
    shown = "\n".join(texts(home["blocks"]))
    assert "Who to contact today" in shown and "*1. Bob Stone (Acme)*" in shown and "Not Anas" not in shown
    assert "Follow-ups due today" in shown and "Your numbers this month" in shown and "```" in shown
    await slack.tap_home(ANA, "LinkedIn ✓", contact="Cara Diaz")
    [activity] = await rows(core, Activity)
    assert activity.contact_id == contacts[1].id
    updated = fake.homes[ANA]
    assert "✓ LinkedIn logged for Cara Diaz · 10:00" in texts(updated["blocks"])
    assert buttons(updated["blocks"], "LinkedIn logged for Cara") == ["↩ Undo"]
    # Reopening the home shows the month's numbers with that outreach.
    await slack.event(home_opened, event_id="EvHome2")
    table = next(t for t in texts(fake.homes[ANA]["blocks"]) if t.startswith("```"))
    assert "total" in table and " 1 " in table


async def test_app_home_of_an_unknown_user_says_how_to_be_added(slack, fake):
    fake.add_user("U0EVE", "eve@example.com")
    await slack.event(
        {"type": "app_home_opened", "user": "U0EVE", "channel": "DU0EVE", "tab": "home"}, event_id="EvHome3"
    )
    assert "pipedriven users add eve@example.com" in str(fake.homes["U0EVE"]["blocks"])

"""Logging outreach, notes, warmth, meetings and follow-ups on a contact."""

from datetime import UTC, datetime, timedelta

import pytest

from core.campaigns.commands import AddToCampaign, UpdateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import ShowContact, UpdateContact
from core.errors import InvalidInput, NotFound
from core.models import Activity, CampaignContact, DomainEvent, FollowUp, OutboxMessage
from core.outreach.commands import (
    AddNote,
    BookMeeting,
    CompleteFollowUp,
    FlagWarm,
    LogOutreach,
    RequestMeeting,
    SetFollowUp,
    Snooze,
)


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")


def ref(contact):
    return ContactRef(id=contact.id)


# --- log outreach ---------------------------------------------------------------------------------------


async def test_logging_outreach_records_the_touch(core, ana, bob, clock, db_rows):
    result = await core.execute(LogOutreach(Actor(ana.id), ref(bob), "Email", note="sent the deck"))
    assert result.message == "✓ Email logged for Bob Stone."
    assert result.contact.last_contacted_at == clock.now()
    [activity] = await db_rows(Activity)
    assert (activity.id, activity.kind, activity.channel, activity.note, activity.user_id, activity.occurred_at) == (
        result.activity_id,
        "email",
        "email",
        "sent the deck",
        ana.id,
        clock.now(),
    )


async def test_outreach_counts_towards_the_live_campaign_the_contact_is_in(core, ana, bob, campaign, clock, db_rows):
    live = await campaign("Fintech", status="live")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=live.id), (bob.id,)))
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "linkedin"))
    [activity] = await db_rows(Activity)
    assert activity.campaign_id == live.id
    [membership] = await db_rows(CampaignContact)
    assert (membership.last_outreach_at, membership.outreach_method, membership.status) == (
        clock.now(),
        "linkedin",
        "contacted",
    )


async def test_outreach_does_not_count_towards_a_draft_or_closed_campaign(core, ana, bob, gt, campaign, db_rows):
    draft = await campaign("Draft one", status="draft")
    ended = await campaign("Ended one", status="live")
    for camp in (draft, ended):
        await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef(id=ended.id), status="closed"))
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "call"))
    [activity] = await db_rows(Activity)
    assert activity.campaign_id is None
    assert [m.last_outreach_at for m in await db_rows(CampaignContact)] == [None, None]


async def test_outreach_may_name_its_campaign(core, ana, bob, campaign, db_rows):
    await campaign("Fintech Q4", status="live")
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "email", campaign=CampaignRef.of("fintech")))
    [activity] = await db_rows(Activity)
    assert activity.campaign_id is not None


async def test_outreach_naming_an_unknown_campaign_writes_nothing(core, ana, bob, db_rows):
    with pytest.raises(NotFound, match="There is no campaign “Nope”"):
        await core.execute(LogOutreach(Actor(ana.id), ref(bob), "email", campaign=CampaignRef.of("Nope")))
    assert await db_rows(Activity) == []


async def test_outreach_settles_follow_ups_that_had_fallen_due(core, ana, bob, clock, db_rows):
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=1), "chase"))
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=10), "later"))
    clock.advance(days=2)
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "call"))
    assert [(f.note, f.status) for f in await db_rows(FollowUp)] == [("chase", "done"), ("later", "open")]


async def test_an_unknown_method_is_refused_and_writes_nothing(core, ana, bob, db_rows):
    with pytest.raises(InvalidInput, match="“pigeon” is not an outreach method. Use one of: linkedin, email"):
        await core.execute(LogOutreach(Actor(ana.id), ref(bob), "pigeon"))
    assert await db_rows(Activity) == []
    shown = await core.execute(ShowContact(Actor(ana.id), ref(bob)))
    assert shown.contact.last_contacted_at is None


async def test_an_unknown_outcome_is_refused_as_invalid_input(core, ana, bob, db_rows):
    with pytest.raises(InvalidInput, match="“great” is not an outcome"):
        await core.execute(LogOutreach(Actor(ana.id), ref(bob), "call", outcome="great"))
    assert await db_rows(Activity) == []


# --- notes ----------------------------------------------------------------------------------------------


async def test_a_note_is_kept_but_is_not_a_touch(core, ana, bob, db_rows):
    result = await core.execute(AddNote(Actor(ana.id), ref(bob), "  met at the fintech dinner "))
    assert result.message == "📝 Note added to Bob Stone."
    assert result.contact.last_contacted_at is None
    [activity] = await db_rows(Activity)
    assert (activity.kind, activity.channel, activity.note) == ("note", None, "met at the fintech dinner")


async def test_an_empty_note_is_refused(core, ana, bob, db_rows):
    with pytest.raises(InvalidInput, match="The note is empty"):
        await core.execute(AddNote(Actor(ana.id), ref(bob), "   "))
    assert await db_rows(Activity) == []


# --- warmth ---------------------------------------------------------------------------------------------


async def test_flagging_warm_queues_one_event_and_one_sync(core, ana, bob, db_rows):
    result = await core.execute(FlagWarm(Actor(ana.id), ref(bob)))
    assert result.message == "🔥 Bob Stone flagged warm (4/5). Pipedrive sync queued."
    assert result.sync_queued and result.contact.warmness == 4
    [event] = await db_rows(DomainEvent)
    [outbox] = await db_rows(OutboxMessage)
    assert (event.name, event.contact_id, event.payload) == ("ContactWarmed", bob.id, {"warmness": 4})
    assert (outbox.topic, outbox.contact_id, outbox.status, outbox.payload) == (
        "pipedrive.sync",
        bob.id,
        "pending",
        {"event": "ContactWarmed", "warmness": 4},
    )


async def test_flagging_an_already_warm_contact_writes_nothing_new(core, ana, bob, db_rows):
    await core.execute(FlagWarm(Actor(ana.id), ref(bob), warmness=5))
    again = await core.execute(FlagWarm(Actor(ana.id), ref(bob), warmness=4))
    assert again.message == "Bob Stone is already warm (5/5)."
    assert not again.sync_queued
    assert (len(await db_rows(DomainEvent)), len(await db_rows(OutboxMessage))) == (1, 1)


async def test_warming_further_above_the_threshold_queues_no_second_sync(core, ana, bob, db_rows):
    await core.execute(FlagWarm(Actor(ana.id), ref(bob), warmness=4))
    result = await core.execute(FlagWarm(Actor(ana.id), ref(bob), warmness=5))
    assert result.message == "🔥 Bob Stone flagged warm (5/5)."
    assert (len(await db_rows(DomainEvent)), len(await db_rows(OutboxMessage))) == (1, 1)


async def test_warming_through_update_contact_queues_the_sync_too(core, ana, bob, db_rows):
    result = await core.execute(UpdateContact(Actor(ana.id), ref(bob), warmness=4))
    assert result.sync_queued
    assert [e.name for e in await db_rows(DomainEvent)] == ["ContactWarmed"]


@pytest.mark.parametrize("level, message", [(9, "Warmness goes from 0 to 5"), (2, "Warm means a warmness of 4")])
async def test_a_bad_warmness_is_refused_and_writes_nothing(core, ana, bob, db_rows, level, message):
    with pytest.raises(InvalidInput, match=message):
        await core.execute(FlagWarm(Actor(ana.id), ref(bob), warmness=level))
    assert (await db_rows(DomainEvent), await db_rows(OutboxMessage)) == ([], [])
    assert (await core.execute(ShowContact(Actor(ana.id), ref(bob)))).contact.warmness == 0


# --- meetings -------------------------------------------------------------------------------------------


async def test_requesting_a_meeting_counts_under_the_last_outreach_method(core, ana, bob, clock, db_rows):
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "linkedin"))
    clock.advance(hours=1)
    await core.execute(AddNote(Actor(ana.id), ref(bob), "keen"))
    result = await core.execute(RequestMeeting(Actor(ana.id), ref(bob), note="asked for a coffee"))
    assert result.message == "📨 Meeting requested with Bob Stone. Pipedrive sync queued."
    assert result.sync_queued
    meeting = (await db_rows(Activity, Activity.id == result.activity_id))[0]
    assert (meeting.kind, meeting.outcome, meeting.channel) == ("meeting", "meeting_requested", "linkedin")
    [outbox] = await db_rows(OutboxMessage)
    assert outbox.payload == {"event": "MeetingRequested", "activity_id": result.activity_id}
    assert [e.name for e in await db_rows(DomainEvent)] == ["MeetingRequested"]


async def test_booking_a_meeting_warms_the_contact_and_queues_the_sync(core, ana, bob, db_rows):
    await core.execute(LogOutreach(Actor(ana.id), ref(bob), "call"))
    at = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    result = await core.execute(BookMeeting(Actor(ana.id), ref(bob), at=at))
    assert result.message == "📅 Meeting booked with Bob Stone for Tue 1 Dec 14:30. Pipedrive sync queued."
    assert result.contact.warmness == 4
    meeting = (await db_rows(Activity, Activity.id == result.activity_id))[0]
    assert (meeting.outcome, meeting.channel, meeting.due_at) == ("meeting_booked", "call", at)
    [outbox] = await db_rows(OutboxMessage)
    assert outbox.payload == {"event": "MeetingBooked", "activity_id": result.activity_id}


async def test_booking_a_meeting_keeps_a_higher_warmness(core, ana, make):
    hot = await make.contact(ana, "Hot", warmness=5)
    result = await core.execute(BookMeeting(Actor(ana.id), ref(hot)))
    assert result.contact.warmness == 5
    assert result.message == "📅 Meeting booked with Hot. Pipedrive sync queued."


async def test_a_meeting_time_is_told_in_the_users_timezone(core, make):
    kiri = await make.user("Kiri", timezone="Pacific/Auckland")
    bob = await make.contact(kiri, "Bob")
    result = await core.execute(BookMeeting(Actor(kiri.id), ref(bob), at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC)))
    assert "for Wed 2 Dec 09:00" in result.message


# --- follow-ups and snoozes -----------------------------------------------------------------------------


async def test_setting_a_follow_up_says_when_in_local_time(core, ana, bob, clock, db_rows):
    due = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    result = await core.execute(SetFollowUp(Actor(ana.id), ref(bob), due, note="send pricing"))
    assert result.message == "⏰ I'll remind you about Bob Stone on Tue 1 Dec."
    [fu] = await db_rows(FollowUp)
    assert (fu.due_at, fu.note, fu.status, fu.snoozed) == (due, "send pricing", "open", False)


async def test_a_follow_up_in_the_past_is_refused(core, ana, bob, clock, db_rows):
    with pytest.raises(InvalidInput, match="That moment has passed"):
        await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() - timedelta(minutes=1)))
    assert await db_rows(FollowUp) == []


async def test_snoozing_moves_the_open_follow_ups(core, ana, bob, clock, db_rows):
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=1), "chase"))
    until = clock.now() + timedelta(days=7)
    result = await core.execute(Snooze(Actor(ana.id), ref(bob), until))
    assert result.message == "💤 Bob Stone snoozed until Tue 1 Dec 09:00."
    [fu] = await db_rows(FollowUp)
    assert (fu.note, fu.due_at, fu.snoozed, fu.status) == ("chase", until, True, "open")


async def test_snoozing_without_a_follow_up_creates_a_snoozed_one(core, ana, bob, clock, db_rows):
    until = clock.now() + timedelta(days=3)
    await core.execute(Snooze(Actor(ana.id), ref(bob), until))
    [fu] = await db_rows(FollowUp)
    assert (fu.due_at, fu.snoozed, fu.status, fu.user_id) == (until, True, "open", ana.id)


async def test_snoozing_into_the_past_is_refused(core, ana, bob, clock, db_rows):
    with pytest.raises(InvalidInput, match="snooze until a time in the future"):
        await core.execute(Snooze(Actor(ana.id), ref(bob), clock.now()))
    assert await db_rows(FollowUp) == []


async def test_completing_a_follow_up_closes_it(core, ana, bob, clock, db_rows):
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=1)))
    clock.advance(days=2)
    result = await core.execute(CompleteFollowUp(Actor(ana.id), ref(bob)))
    assert result.message == "✓ Follow-up with Bob Stone done."
    [fu] = await db_rows(FollowUp)
    assert (fu.status, fu.completed_at) == ("done", clock.now())
    again = await core.execute(CompleteFollowUp(Actor(ana.id), ref(bob)))
    assert again.message == "Bob Stone has no open follow-up."


async def test_a_time_without_timezone_is_bad_input_not_a_crash(core, make):
    from datetime import datetime

    from core.command import Actor, ContactRef
    from core.errors import InvalidInput
    from core.outreach.commands import SetFollowUp, Snooze

    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    for command in (
        SetFollowUp(Actor(ana.id), ContactRef(id=bob.id), datetime(2030, 1, 1, 9, 0)),
        Snooze(Actor(ana.id), ContactRef(id=bob.id), datetime(2030, 1, 1, 9, 0)),
    ):
        with pytest.raises(InvalidInput, match="no timezone"):
            await core.execute(command)

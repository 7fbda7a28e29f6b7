"""Undo of an outreach logged by mistake: the logger's own, within a minute, and everything put back."""

from datetime import timedelta

import pytest

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Activity, CampaignContact, Contact, FollowUp
from core.outreach.commands import AddNote, LogOutreach, RequestMeeting, SetFollowUp, UndoOutreach


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone")


def ref(contact):
    return ContactRef(id=contact.id)


async def log(core, user, contact, method="linkedin"):
    return await core.execute(LogOutreach(Actor(user.id, "slack"), ref(contact), method))


async def test_undo_deletes_the_activity_and_restores_the_last_touch(core, ana, bob, clock, db_rows):
    await log(core, ana, bob, "email")
    earlier = clock.now()
    clock.advance(days=2)
    logged = await log(core, ana, bob)
    assert logged.undoable
    clock.advance(seconds=40)
    result = await core.execute(UndoOutreach(Actor(ana.id, "slack"), ref(bob), logged.activity_id))
    assert result.message == "↩ Undone: LinkedIn for Bob Stone."
    assert [a.kind for a in await db_rows(Activity)] == ["email"]
    [contact] = await db_rows(Contact)
    assert contact.last_contacted_at == earlier


async def test_undo_keeps_a_last_touch_that_came_from_outside_any_activity(core, ana, make, clock, db_rows):
    carl = await make.contact(ana, "Carl")
    imported = clock.now() - timedelta(days=30)
    async with core.sessions() as s, s.begin():  # as an import would leave it: a date without an activity
        (await s.get(Contact, carl.id)).last_contacted_at = imported
    logged = await log(core, ana, carl)
    await core.execute(UndoOutreach(Actor(ana.id), ref(carl), logged.activity_id))
    [contact] = await db_rows(Contact)
    assert contact.last_contacted_at == imported


async def test_undo_keeps_a_later_touch_logged_within_the_minute(core, ana, bob, clock, db_rows):
    wrong = await log(core, ana, bob, "call")
    clock.advance(seconds=20)
    await log(core, ana, bob, "email")
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), wrong.activity_id))
    [contact] = await db_rows(Contact)
    assert contact.last_contacted_at == clock.now()


async def test_undo_reopens_the_follow_ups_the_touch_had_settled(core, ana, bob, clock, db_rows):
    await core.execute(SetFollowUp(Actor(ana.id), ref(bob), clock.now() + timedelta(days=1), "send the deck"))
    clock.advance(days=1, hours=1)
    logged = await log(core, ana, bob)
    assert [f.status for f in await db_rows(FollowUp)] == ["done"]
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    [follow_up] = await db_rows(FollowUp)
    assert (follow_up.status, follow_up.completed_at) == ("open", None)


async def test_undo_puts_the_campaign_row_back(core, ana, bob, campaign, db_rows):
    live = await campaign("Fintech", status="live")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=live.id), (bob.id,)))
    logged = await log(core, ana, bob)
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    [row] = await db_rows(CampaignContact)
    assert (row.status, row.last_outreach_at) == ("planned", None)


async def test_undo_after_a_minute_is_refused_and_changes_nothing(core, ana, bob, clock, db_rows):
    logged = await log(core, ana, bob)
    clock.advance(seconds=61)
    with pytest.raises(InvalidInput, match="Too late to undo"):
        await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    assert len(await db_rows(Activity)) == 1


async def test_only_the_logger_may_undo(core, make, ana, bob, db_rows):
    logged = await log(core, ana, bob)
    other = await make.user("Other")
    with pytest.raises(NotFound, match="That contact is not in your bank."):
        await core.execute(UndoOutreach(Actor(other.id), ref(bob), logged.activity_id))
    # Even on a contact of their own, another user's activity id is refused.
    own = await make.contact(other, "Own")
    with pytest.raises(NotFound):
        await core.execute(UndoOutreach(Actor(other.id), ref(own), logged.activity_id))
    # A contact handed to a colleague keeps its history: the colleague can't take back Ana's outreach.
    await _give(core, bob, other)
    with pytest.raises(NotAllowed, match="Only the person who logged"):
        await core.execute(UndoOutreach(Actor(other.id), ref(bob), logged.activity_id))
    assert len(await db_rows(Activity)) == 1


async def _give(core, contact, user):
    async with core.sessions() as s, s.begin():
        (await s.get(Contact, contact.id)).owner_id = user.id


async def test_meetings_and_notes_are_not_undone(core, ana, bob, db_rows):
    meeting = await core.execute(RequestMeeting(Actor(ana.id), ref(bob)))
    note = await core.execute(AddNote(Actor(ana.id), ref(bob), "prefers mornings"))
    assert not meeting.undoable and not note.undoable
    for done in (meeting, note):
        with pytest.raises(InvalidInput, match="Only a logged outreach"):
            await core.execute(UndoOutreach(Actor(ana.id), ref(bob), done.activity_id))
    assert len(await db_rows(Activity)) == 2


async def test_undoing_twice_finds_nothing_the_second_time(core, ana, bob):
    logged = await log(core, ana, bob)
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    with pytest.raises(NotFound, match="nothing to undo"):
        await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))

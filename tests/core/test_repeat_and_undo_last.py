"""The same outreach logged twice within a minute is logged and said so; `undo` finds the user's last undoable
action (an outreach or a contact edit) within ten minutes."""

import pytest

from core.command import Actor, ContactRef
from core.contacts.commands import EditContact, UndoContactEdit
from core.models import Activity
from core.outreach.commands import AddNote, FindLastUndoable, LogOutreach, RequestMeeting, Undoable, UndoOutreach
from core.views import AlreadyDone


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


def ref(contact):
    return ContactRef(id=contact.id)


async def log(core, user, contact, method="linkedin", key=None):
    return await core.execute(LogOutreach(Actor(user.id, "slack"), ref(contact), method), idempotency_key=key)


async def last_undoable(core, user):
    return await core.execute(FindLastUndoable(Actor(user.id, "slack")))


async def test_the_same_method_again_after_30_seconds_is_logged_with_a_warning(core, ana, bob, clock, db_rows):
    await log(core, ana, bob)
    clock.advance(seconds=30)
    again = await log(core, ana, bob)
    assert again.message == "⚠️ You logged LinkedIn for Bob Stone 30 seconds ago; logged it again. Undo?"
    assert again.logged_again_after == 30 and again.undoable
    assert [a.kind for a in await db_rows(Activity)] == ["linkedin", "linkedin"]


async def test_the_same_method_after_90_seconds_is_an_ordinary_log(core, ana, bob, clock):
    await log(core, ana, bob)
    clock.advance(seconds=90)
    again = await log(core, ana, bob)
    assert again.message == "✓ LinkedIn logged for Bob Stone." and again.logged_again_after is None


async def test_another_method_or_another_contact_is_no_repeat(core, make, ana, bob, clock):
    cara = await make.contact(ana, "Cara Diaz")
    await log(core, ana, bob)
    clock.advance(seconds=10)
    assert (await log(core, ana, bob, "email")).logged_again_after is None
    assert (await log(core, ana, cara)).logged_again_after is None


async def test_a_redelivery_with_the_same_key_stays_a_silent_no_op(core, ana, bob, clock, db_rows):
    await log(core, ana, bob, key="tg:callback:1")
    clock.advance(seconds=5)
    assert isinstance(await log(core, ana, bob, key="tg:callback:1"), AlreadyDone)
    assert (await log(core, ana, bob, key="tg:callback:2")).logged_again_after == 5
    assert len(await db_rows(Activity)) == 2


async def test_undo_finds_the_last_outreach_and_then_the_one_before(core, ana, bob, clock):
    first = await log(core, ana, bob, "email")
    clock.advance(seconds=10)
    second = await log(core, ana, bob, "call")
    assert await last_undoable(core, ana) == Undoable("outreach", bob.id, second.activity_id)
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), second.activity_id))
    assert await last_undoable(core, ana) == Undoable("outreach", bob.id, first.activity_id)


async def test_a_later_edit_comes_before_an_outreach_and_an_undone_edit_is_skipped(core, ana, bob, clock):
    logged = await log(core, ana, bob)
    clock.advance(seconds=5)
    edit = await core.execute(EditContact(Actor(ana.id), ref(bob), "org", "Globex"))
    assert await last_undoable(core, ana) == Undoable("edit", bob.id, edit.edit_id)
    await core.execute(UndoContactEdit(Actor(ana.id), ref(bob), edit.edit_id))
    assert await last_undoable(core, ana) == Undoable("outreach", bob.id, logged.activity_id)


async def test_nothing_older_than_ten_minutes_nor_notes_meetings_or_someone_elses(core, make, ana, bob, clock):
    await log(core, ana, bob)
    clock.advance(minutes=11)
    await core.execute(AddNote(Actor(ana.id), ref(bob), "prefers mornings"))
    await core.execute(RequestMeeting(Actor(ana.id), ref(bob)))
    zoe = await make.user("Zoe")
    await log(core, zoe, await make.contact(zoe, "Zed"))
    assert await last_undoable(core, ana) is None

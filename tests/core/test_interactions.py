"""An interaction told in one line: previewed as a draft, written whole (outreach, follow-up, warm flag, meeting)
or not at all on confirmation."""

from datetime import date, timedelta

import pytest

from core.command import Actor, ContactRef
from core.contacts.commands import ShowContact
from core.errors import InvalidInput, NotFound
from core.housekeeping.commands import PruneHistory
from core.models import Activity, FollowUp, InteractionDraft, OutboxMessage
from core.outreach.commands import (
    ChooseDraftContact,
    ConfirmInteraction,
    DiscardInteractionDraft,
    InteractionFields,
    RecordInteraction,
    SaveInteractionDraft,
    SetDraftMethod,
    UndoOutreach,
)


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


def ref(contact):
    return ContactRef(id=contact.id)


async def test_an_interaction_writes_the_outreach_reminder_warm_flag_and_meeting(core, ana, bob, clock, db_rows):
    meeting_at = clock.now() + timedelta(days=2, hours=1)
    result = await core.execute(
        RecordInteraction(
            Actor(ana.id),
            ref(bob),
            "call",
            note="no answer, try again",
            outcome="no_answer",
            follow_up_at=clock.now() + timedelta(days=21),
            warm=True,
            meeting="booked",
            meeting_at=meeting_at,
        )
    )
    assert result.message.startswith("✓ Call logged for Bob Stone (no answer) · ⏰ reminder")
    assert "🔥 flagged warm" in result.message and "📅 meeting booked for" in result.message
    assert result.undoable and result.activity_id
    call, meeting = await db_rows(Activity)
    assert (call.id, call.kind, call.outcome, call.note) == (
        result.activity_id,
        "call",
        "no_answer",
        "no answer, try again",
    )
    assert (meeting.kind, meeting.outcome, meeting.due_at) == ("meeting", "meeting_booked", meeting_at)
    [follow_up] = await db_rows(FollowUp)
    assert follow_up.due_at == clock.now() + timedelta(days=21)
    detail = await core.execute(ShowContact(Actor(ana.id), ref(bob)))
    assert detail.contact.is_warm
    assert {m.payload["event"] for m in await db_rows(OutboxMessage)} == {"ContactWarmed", "MeetingBooked"}


async def test_a_reminder_refused_leaves_nothing_of_the_outreach(core, ana, bob, clock, db_rows):
    with pytest.raises(InvalidInput, match="passed"):
        await core.execute(
            RecordInteraction(
                Actor(ana.id),
                ref(bob),
                "email",
                note="sent the deck",
                warm=True,
                follow_up_at=clock.now() - timedelta(hours=1),
            )
        )
    assert await db_rows(Activity) == [] and await db_rows(FollowUp) == [] and await db_rows(OutboxMessage) == []
    detail = await core.execute(ShowContact(Actor(ana.id), ref(bob)))
    assert detail.contact.last_contacted_at is None and not detail.contact.is_warm


async def test_another_users_contact_is_refused(core, make, bob, db_rows):
    eve = await make.user("Eve")
    with pytest.raises(NotFound, match="not in your bank"):
        await core.execute(RecordInteraction(Actor(eve.id), ref(bob), "call", warm=True))
    assert await db_rows(Activity) == []


async def test_a_meeting_held_is_recorded_and_its_undo_takes_it_back(core, ana, bob, db_rows):
    result = await core.execute(RecordInteraction(Actor(ana.id), ref(bob), "meeting", note="coffee"))
    assert result.message.startswith("✓ Meeting logged for Bob Stone")
    [held] = await db_rows(Activity)
    assert (held.kind, held.outcome) == ("meeting", "none")
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), result.activity_id))
    assert await db_rows(Activity) == []


async def test_the_same_delivery_twice_records_once(core, ana, bob, db_rows):
    command = RecordInteraction(Actor(ana.id), ref(bob), "call")
    await core.execute(command, idempotency_key="tg:callback:1")
    await core.execute(command, idempotency_key="tg:callback:1")
    assert len(await db_rows(Activity)) == 1


# --- drafts ------------------------------------------------------------------------------------------------


def fields(**values):
    return InteractionFields(**{"contact_name": "Bob", "method": "call", "note": "no answer", **values})


async def test_a_draft_finds_its_contact_and_confirming_writes_it_once(core, ana, bob, clock, db_rows):
    tuesday = (clock.now() + timedelta(days=7)).date()
    draft = await core.execute(
        SaveInteractionDraft(Actor(ana.id), "called Bob, no answer", fields(outcome="no_answer", follow_up=tuesday))
    )
    assert draft.contact.id == bob.id and draft.candidates == ()
    assert await db_rows(Activity) == []  # nothing written before the confirmation
    result = await core.execute(ConfirmInteraction(Actor(ana.id), draft.id), idempotency_key="k1")
    assert "Call logged for Bob Stone (no answer)" in result.message
    [follow_up] = await db_rows(FollowUp)
    assert follow_up.due_at.date() == tuesday and follow_up.due_at.hour == 9  # 09:00 London, UTC in November
    with pytest.raises(NotFound, match="no longer there"):
        await core.execute(ConfirmInteraction(Actor(ana.id), draft.id), idempotency_key="k2")
    assert len(await db_rows(Activity)) == 1


async def test_a_name_matches_words_not_letters_and_the_organisation_narrows(core, make, ana, bob):
    await make.contact(ana, "Diana Prince")
    await make.contact(ana, "Bob Marley", organisation="Wailers")
    both = await core.execute(SaveInteractionDraft(Actor(ana.id), "called bob", fields()))
    assert both.contact is None and [k.name for k in both.candidates] == ["Bob Marley", "Bob Stone"]
    acme = await core.execute(SaveInteractionDraft(Actor(ana.id), "called bob at acme", fields(organisation="Acme")))
    assert acme.contact.id == bob.id
    nobody = await core.execute(SaveInteractionDraft(Actor(ana.id), "called ana", fields(contact_name="Ana")))
    assert nobody.contact is None and nobody.candidates == ()
    bob_mail = await make.contact(ana, "Robert Stone", email="bob@stone.example")
    by_email = await core.execute(SaveInteractionDraft(Actor(ana.id), "x", fields(contact_name="BOB@stone.example")))
    assert by_email.contact.id == bob_mail.id


async def test_choosing_a_contact_checks_it_is_the_users_own(core, make, ana, bob):
    await make.contact(ana, "Bob Marley")
    eve = await make.user("Eve")
    hers = await make.contact(eve, "Bob Eve")
    draft = await core.execute(SaveInteractionDraft(Actor(ana.id), "called bob", fields()))
    with pytest.raises(NotFound, match="not in your bank"):
        await core.execute(ChooseDraftContact(Actor(ana.id), draft.id, hers.id))
    chosen = await core.execute(ChooseDraftContact(Actor(ana.id), draft.id, bob.id))
    assert chosen.contact.id == bob.id and chosen.candidates == ()


async def test_a_draft_without_a_method_or_contact_cannot_be_confirmed_until_fixed(core, ana, bob, db_rows):
    draft = await core.execute(SaveInteractionDraft(Actor(ana.id), "Bob, went well", fields(method=None)))
    assert draft.fields.method is None
    with pytest.raises(InvalidInput, match="How did it happen"):
        await core.execute(ConfirmInteraction(Actor(ana.id), draft.id))
    await core.execute(SetDraftMethod(Actor(ana.id), draft.id, "email"))
    await core.execute(ConfirmInteraction(Actor(ana.id), draft.id))
    [activity] = await db_rows(Activity)
    assert activity.kind == "email"


async def test_another_users_draft_is_not_theirs_to_confirm_or_cancel(core, make, ana, bob, db_rows):
    eve = await make.user("Eve")
    draft = await core.execute(SaveInteractionDraft(Actor(ana.id), "called Bob", fields()))
    for command in (ConfirmInteraction(Actor(eve.id), draft.id), DiscardInteractionDraft(Actor(eve.id), draft.id)):
        with pytest.raises(NotFound, match="no longer there"):
            await core.execute(command)
    assert await db_rows(Activity) == [] and len(await db_rows(InteractionDraft)) == 1


async def test_cancel_writes_nothing_and_old_drafts_are_pruned(core, ana, bob, clock, db_rows):
    draft = await core.execute(SaveInteractionDraft(Actor(ana.id), "called Bob", fields()))
    assert "nothing was written" in await core.execute(DiscardInteractionDraft(Actor(ana.id), draft.id))
    assert await db_rows(InteractionDraft) == [] and await db_rows(Activity) == []
    stale = await core.execute(SaveInteractionDraft(Actor(ana.id), "called Bob", fields(follow_up=date(2030, 1, 1))))
    clock.advance(days=1, minutes=1)
    with pytest.raises(NotFound, match="no longer there"):
        await core.execute(ConfirmInteraction(Actor(ana.id), stale.id))
    assert (await core.execute(PruneHistory())).drafts == 1
    assert await db_rows(InteractionDraft) == []

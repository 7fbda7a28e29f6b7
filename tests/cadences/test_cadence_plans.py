"""Plans: starting a strategy for a contact or a campaign, advancing on logged activities, outreach outside the
plan, pause, resume, restart and stop; and who may act on which contact."""

from datetime import UTC, datetime, timedelta

import pytest

from core.cadences.commands import (
    CreateStrategy,
    GetCadenceStats,
    PauseCadence,
    RestartCadence,
    ResumeCadence,
    StartCadence,
    StopCadence,
)
from core.campaigns.commands import AddToCampaign, CreateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import ShowContact
from core.errors import Conflict, InvalidInput, NotFound
from core.outreach.commands import AddNote, UndoOutreach
from core.privacy.commands import EraseContact, ExportContact

UTC = UTC


def ref(contact) -> ContactRef:
    return ContactRef(id=contact.id)


@pytest.fixture
async def bob(make, ana):
    return await make.contact(ana, "Bob Stone", organisation="Acme")


async def test_logging_each_step_in_turn_completes_the_plan(core, ana, bob, start, log, plan_of):
    await start(ana, bob)
    for method in ("linkedin", "email"):
        await log(ana, bob, method)
    assert (await plan_of(bob)).current_step == 3
    await log(ana, bob, "call")
    plan = await plan_of(bob)
    assert (plan.status, plan.end_reason, plan.step_due_at, plan.current_step) == ("completed", "finished", None, 3)


async def test_an_outreach_outside_the_plan_changes_nothing(core, ana, bob, start, log, plan_of, clock):
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    before = await plan_of(bob)
    clock.advance(hours=1)
    for method in ("call", "referral", "linkedin"):  # the step due is an email
        await log(ana, bob, method)
    await core.execute(AddNote(Actor(ana.id), ref(bob), "liked my post"))
    after = await plan_of(bob)
    assert (after.status, after.current_step, after.step_due_at) == ("in_progress", 2, before.step_due_at)
    await log(ana, bob, "email")
    assert (await plan_of(bob)).current_step == 3


async def test_a_contact_follows_one_open_plan_at_a_time(core, ana, bob, start):
    await start(ana, bob)
    with pytest.raises(Conflict, match="Bob Stone already follows “Warm intro” \\(not started\\)"):
        await start(ana, bob, "Cold email sequence")


async def test_pause_holds_the_plan_and_resume_keeps_the_wait_that_was_left(core, ana, bob, start, log, plan_of, clock):
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    due = (await plan_of(bob)).step_due_at  # Friday
    result = await core.execute(PauseCadence(Actor(ana.id), ref(bob)))
    assert result.message == "⏸ “Warm intro” paused for Bob Stone at step 2/3."
    clock.advance(days=2)
    await log(ana, bob, "email")  # a paused plan ignores what is logged
    plan = await plan_of(bob)
    assert (plan.status, plan.current_step) == ("paused", 2)
    result = await core.execute(ResumeCadence(Actor(ana.id), ref(bob)))
    plan = await plan_of(bob)
    assert (plan.status, plan.current_step, plan.step_due_at) == ("in_progress", 2, due + timedelta(days=2))
    assert result.message == "▶ “Warm intro” resumed for Bob Stone: step 2/3 (email) due Sun 29 Nov."


async def test_pausing_twice_or_resuming_a_running_plan_says_so(core, ana, bob, start):
    await start(ana, bob)
    assert "isn't paused" in (await core.execute(ResumeCadence(Actor(ana.id), ref(bob)))).message
    await core.execute(PauseCadence(Actor(ana.id), ref(bob)))
    assert "already paused" in (await core.execute(PauseCadence(Actor(ana.id), ref(bob)))).message


async def test_restart_ends_the_plan_as_history_and_starts_again_at_step_1(core, ana, bob, start, log, plans_of, clock):
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    clock.advance(days=1)
    result = await core.execute(RestartCadence(Actor(ana.id), ref(bob)))
    assert result.message == "↺ “Warm intro” restarted for Bob Stone: step 1/3 (LinkedIn) due now."
    old, new = await plans_of(bob)
    assert (old.status, old.end_reason, old.current_step) == ("aborted", "restarted", 2)
    assert (new.status, new.current_step, new.started_at, new.step_due_at) == (
        "not_started",
        1,
        clock.now(),
        clock.now(),
    )


async def test_a_finished_plan_can_be_restarted(core, ana, bob, start, log, plans_of):
    await start(ana, bob, "Warm intro")
    for method in ("linkedin", "email", "call"):
        await log(ana, bob, method)
    await core.execute(RestartCadence(Actor(ana.id), ref(bob)))
    assert [p.status for p in await plans_of(bob)] == ["completed", "not_started"]


async def test_stop_aborts_the_plan_and_leaves_the_contact_free_for_another(core, ana, bob, start, plans_of):
    await start(ana, bob)
    result = await core.execute(StopCadence(Actor(ana.id), ref(bob)))
    assert result.message == "⏹ “Warm intro” stopped for Bob Stone at step 1/3."
    await start(ana, bob, "Cold email sequence")
    assert [(p.status, p.end_reason) for p in await plans_of(bob)] == [("aborted", "stopped"), ("not_started", None)]


async def test_controls_on_a_contact_without_a_plan_say_so(core, ana, bob):
    for command in (PauseCadence, ResumeCadence, StopCadence, RestartCadence):
        with pytest.raises(NotFound, match="Bob Stone isn't following a cadence"):
            await core.execute(command(Actor(ana.id), ref(bob)))


async def test_nobody_acts_on_a_contact_in_someone_elses_bank(core, make, ana, bob, start, plans_of):
    zoe = await make.user("Zoe")
    with pytest.raises(NotFound, match="That contact is not in your bank."):
        await start(zoe, bob)
    await start(ana, bob)
    for command in (PauseCadence, ResumeCadence, StopCadence, RestartCadence):
        with pytest.raises(NotFound, match="That contact is not in your bank."):
            await core.execute(command(Actor(zoe.id), ref(bob)))
    assert [p.status for p in await plans_of(bob)] == ["not_started"]


async def test_the_contact_shows_its_plan(core, ana, bob, start, log):
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    plan = (await core.execute(ShowContact(Actor(ana.id), ref(bob)))).plan
    assert (plan.strategy, plan.status, plan.current_step, plan.step_count, plan.step_kind) == (
        "Warm intro",
        "in_progress",
        2,
        3,
        "email",
    )
    assert plan.step_due_at == datetime(2026, 11, 27, tzinfo=UTC)


async def test_a_campaign_start_covers_your_contacts_and_skips_those_already_following(
    core, make, ana, bob, start, plans_of
):
    gt = await make.user("Goldie", role="golden_ticket")
    zoe = await make.user("Zoe")
    camp = (await core.execute(CreateCampaign(Actor(gt.id), "Fintech", status="live"))).campaign
    carol, dave = await make.contact(ana, "Carol"), await make.contact(ana, "Dave")
    theirs = await make.contact(zoe, "Theirs")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id, carol.id, dave.id)))
    await core.execute(AddToCampaign(Actor(zoe.id), CampaignRef(id=camp.id), (theirs.id,)))
    await start(ana, dave, "Cold email sequence")

    result = await core.execute(StartCadence(Actor(ana.id), "warm intro", campaign=CampaignRef.of("fintech")))
    assert result.message == (
        "▶ “Warm intro” started for 2 contacts of “Fintech”. "
        "1 already follow a cadence. "
        "1 in other people's banks were left to them."
    )
    for contact in (bob, carol):
        [plan] = await plans_of(contact)
        assert (plan.status, plan.current_step) == ("not_started", 1)
        assert (await core.execute(ShowContact(Actor(ana.id), ref(contact)))).plan.strategy == "Warm intro"
    assert (await core.execute(ShowContact(Actor(ana.id), ref(dave)))).plan.strategy == "Cold email sequence"
    assert await plans_of(theirs) == []


async def test_starting_needs_steps_and_one_target(core, ana, bob):
    await core.execute(CreateStrategy(Actor(ana.id), "Empty"))
    with pytest.raises(InvalidInput, match="“Empty” has no steps yet"):
        await core.execute(StartCadence(Actor(ana.id), "Empty", contact=ref(bob)))
    with pytest.raises(InvalidInput, match="one contact or for a campaign"):
        await core.execute(StartCadence(Actor(ana.id), "Warm intro"))
    with pytest.raises(NotFound, match="There is no cadence “Nope”"):
        await core.execute(StartCadence(Actor(ana.id), "Nope", contact=ref(bob)))


async def test_undoing_the_outreach_that_did_a_step_puts_the_plan_back(core, ana, bob, start, log, plan_of, clock):
    await start(ana, bob)
    await log(ana, bob, "linkedin")
    before = await plan_of(bob)
    clock.advance(days=1)
    logged = await log(ana, bob, "email")  # the wrong row, say
    assert (await plan_of(bob)).current_step == 3
    clock.advance(seconds=20)
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    after = await plan_of(bob)
    assert (after.status, after.current_step, after.step_due_at) == ("in_progress", 2, before.step_due_at)


async def test_undoing_a_reply_reopens_the_plan(core, ana, bob, start, log, plan_of):
    await start(ana, bob)
    logged = await log(ana, bob, "email", "replied")
    assert (await plan_of(bob)).status == "completed"
    await core.execute(UndoOutreach(Actor(ana.id), ref(bob), logged.activity_id))
    plan = await plan_of(bob)
    assert (plan.status, plan.end_reason, plan.ended_at, plan.current_step) == ("not_started", None, None, 1)


async def test_a_contacts_plans_are_exported_and_erased_with_it(core, ana, bob, start, plans_of):
    await start(ana, bob)
    export = await core.execute(ExportContact(Actor(ana.id), ref(bob)))
    [plans] = [section for section in export.sections if section.name == "contact_plans"]
    assert len(plans.rows) == 1
    await core.execute(EraseContact(Actor(ana.id), ref(bob)))
    assert await plans_of(bob) == []
    assert sum(r.contacts_started for r in (await core.execute(GetCadenceStats(Actor(ana.id)))).rows) == 0

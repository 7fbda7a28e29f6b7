"""The rules: an email with no reply in N days suggests a call, a call with no answer suggests trying again in M
days (N and M are settings), a reply or a booked meeting ends the plan as completed; and stats by strategy."""

from datetime import UTC, datetime

import pytest

from core.cadences.commands import (
    AddStrategyStep,
    CreateStrategy,
    GetCadenceStats,
    PauseCadence,
    RestartCadence,
    StepStall,
    StrategyStatsRow,
)
from core.command import Actor, ContactRef
from core.feed.commands import TodaySuggestions
from core.outreach.commands import LogOutreach
from core.service import Core
from core.settings import Settings

UTC = UTC


async def feed(core, user) -> dict[str, str]:
    return {s.contact.name: s.reason for s in (await core.execute(TodaySuggestions(Actor(user.id)))).items}


@pytest.fixture
async def slow(core, ana):
    """A strategy whose second step is far off, so that only the rules speak in between."""
    await core.execute(CreateStrategy(Actor(ana.id), "Slow"))
    await core.execute(AddStrategyStep(Actor(ana.id), "Slow", 0, "email"))
    await core.execute(AddStrategyStep(Actor(ana.id), "Slow", 30, "linkedin"))
    return "Slow"


async def test_an_email_with_no_reply_for_n_days_suggests_a_call(core, make, ana, clock, slow, start, log):
    bob = await make.contact(ana, "Bob")
    loner = await make.contact(ana, "Loner")  # not following a cadence: the rule speaks for every contact
    await start(ana, bob, slow)
    await log(ana, bob, "email")
    await log(ana, loner, "email")
    clock.advance(days=4)
    assert await feed(core, ana) == {"Bob": "4 days since last touch", "Loner": "4 days since last touch"}
    clock.advance(days=1)
    assert await feed(core, ana) == {
        "Bob": "5 days since last touch · no reply to your email in 5 days: try a call",
        "Loner": "5 days since last touch · no reply to your email in 5 days: try a call",
    }


async def test_n_is_a_setting(core, make, ana, clock, slow, start, log, database_url):
    bob = await make.contact(ana, "Bob")
    await start(ana, bob, slow)
    await log(ana, bob, "email")
    clock.advance(days=3)
    eager = Core(
        core.engine, clock=clock, settings=Settings(database_url=database_url, _env_file=None, cadence_no_reply_days=3)
    )
    assert await feed(eager, ana) == {"Bob": "3 days since last touch · no reply to your email in 3 days: try a call"}
    assert await feed(core, ana) == {"Bob": "3 days since last touch"}


async def test_a_reply_ends_the_plan_as_completed_and_silences_the_rule(
    core, make, ana, clock, slow, start, log, plan_of
):
    bob = await make.contact(ana, "Bob")
    await start(ana, bob, slow)
    await log(ana, bob, "email")
    clock.advance(days=1)
    await log(ana, bob, "email", "replied")
    plan = await plan_of(bob)
    assert (plan.status, plan.end_reason, plan.step_due_at) == ("completed", "replied", None)
    clock.advance(days=10)
    assert await feed(core, ana) == {"Bob": "10 days since last touch"}


async def test_a_call_with_no_answer_on_a_call_step_falls_due_again_in_m_working_days(
    core, make, ana, clock, start, log, plan_of
):
    bob = await make.contact(ana, "Bob")
    await start(ana, bob)  # Warm intro: LinkedIn, email +3, call +4
    await log(ana, bob, "linkedin")
    await log(ana, bob, "email")
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))  # Thursday: the call
    await log(ana, bob, "call", "no_answer")
    plan = await plan_of(bob)
    assert (plan.status, plan.current_step, plan.step_due_at) == (
        "in_progress",
        3,
        datetime(2026, 12, 7, tzinfo=UTC),
    )  # 2 working days: Monday
    clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))  # Saturday: two days on, the rule speaks; the step waits
    assert await feed(core, ana) == {"Bob": "2 days since last touch · no answer 2 days ago: try the call again"}
    clock.set(datetime(2026, 12, 7, 9, tzinfo=UTC))
    assert (await feed(core, ana))["Bob"] == (
        "step 3/3 of Warm intro: call due · 4 days since last touch · no answer 4 days ago: try the call again"
    )
    await log(ana, bob, "call")
    assert (await plan_of(bob)).end_reason == "finished"


async def test_m_is_a_setting(core, make, ana, clock, start, log, plan_of, database_url):
    retry_later = Core(
        core.engine, clock=clock, settings=Settings(database_url=database_url, _env_file=None, cadence_retry_days=5)
    )
    bob = await make.contact(ana, "Bob")
    await start(ana, bob, "Cold email sequence")
    await log(ana, bob, "email")
    await log(ana, bob, "email")
    await retry_later.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "call", outcome="no_answer"))
    assert (await plan_of(bob)).step_due_at == datetime(2026, 12, 1, tzinfo=UTC)  # Tue + 5 working days


async def test_a_booked_meeting_completes_the_plan_even_when_paused(core, make, ana, start, meeting, plan_of):
    bob = await make.contact(ana, "Bob")
    await start(ana, bob)
    await core.execute(PauseCadence(Actor(ana.id), ContactRef(id=bob.id)))
    await meeting(ana, bob, booked=True)
    plan = await plan_of(bob)
    assert (plan.status, plan.end_reason, plan.paused_at) == ("completed", "meeting_booked", None)


async def test_a_meeting_requested_does_not_end_the_plan_but_not_interested_aborts_it(
    core, make, ana, start, log, meeting, plan_of
):
    bob = await make.contact(ana, "Bob")
    await start(ana, bob)
    await meeting(ana, bob, booked=False)
    assert (await plan_of(bob)).status == "not_started"
    await log(ana, bob, "call", "not_interested")
    plan = await plan_of(bob)
    assert (plan.status, plan.end_reason) == ("aborted", "not_interested")


async def test_stats_by_strategy_count_contacts_outcomes_and_where_plans_stall(
    core, make, ana, clock, start, log, meeting
):
    bob, carol, dave, eve = [await make.contact(ana, name) for name in ("Bob", "Carol", "Dave", "Eve")]
    for contact in (bob, carol, dave):
        await start(ana, contact, "Warm intro")
    await start(ana, eve, "Cold email sequence")
    await log(ana, bob, "linkedin")
    await log(ana, bob, "email", "replied")  # Bob replies: completed
    await log(ana, carol, "linkedin")
    await meeting(ana, carol, booked=False)  # Carol asks for a meeting, her plan carries on at step 2
    await log(ana, eve, "email")
    await meeting(ana, eve, booked=True)  # Eve books one: completed
    clock.advance(days=3)  # Friday: Dave's first step, due Tuesday, is overdue
    await core.execute(RestartCadence(Actor(ana.id), ContactRef(id=bob.id)))  # Bob counts once

    rows = (await core.execute(GetCadenceStats(Actor(ana.id)))).rows
    assert rows == (
        StrategyStatsRow(
            "Warm intro",
            contacts_started=3,
            replies=1,
            meetings_requested=1,
            meetings_booked=0,
            active=3,
            paused=0,
            completed=1,
            stalls=(StepStall(1, "linkedin", waiting=2, overdue=1), StepStall(2, "email", waiting=1, overdue=0)),
        ),
        StrategyStatsRow(
            "Cold email sequence",
            contacts_started=1,
            replies=0,
            meetings_requested=0,
            meetings_booked=1,
            active=0,
            paused=0,
            completed=1,
        ),
        StrategyStatsRow("Event follow-up", 0, 0, 0, 0, 0, 0, 0),
    )


async def test_outcomes_before_a_plan_started_do_not_count_for_it(core, make, ana, clock, start, meeting):
    bob = await make.contact(ana, "Bob")
    await meeting(ana, bob, booked=True)
    clock.advance(hours=1)
    await start(ana, bob)
    [warm] = [r for r in (await core.execute(GetCadenceStats(Actor(ana.id)))).rows if r.strategy == "Warm intro"]
    assert (warm.contacts_started, warm.meetings_booked) == (1, 0)


async def test_the_rules_look_only_at_touches_since_the_plan_started(core, make, ana, clock, start, log):
    bob = await make.contact(ana, "Bob")
    await log(ana, bob, "email")  # before the cadence: not its email
    clock.advance(days=6)
    await start(ana, bob, "Warm intro")
    clock.advance(hours=1)
    assert await feed(core, ana) == {"Bob": "step 1/3 of Warm intro: LinkedIn due · 6 days since last touch"}

"""When cadence steps fall due: delays in working days from the previous step, weekends skipped for a
Monday-to-Friday user, at the start of the user's local day; with the injected clock."""

from datetime import UTC, datetime

import pytest

from core.cadences.plans import due_after
from core.command import Actor
from core.users.commands import UpdateSettings

UTC = UTC
WEEKDAYS = (1, 2, 3, 4, 5)
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    "start, delay, days, due",
    [
        (at(24, 9), 3, WEEKDAYS, at(27)),  # Tue + 3 working days = Fri, from midnight
        (at(26, 15), 3, WEEKDAYS, at(1, month=12)),  # Thu + 3 skips the weekend: Tue
        (at(27, 17), 1, WEEKDAYS, at(30)),  # Fri + 1 = Mon
        (at(28, 10), 1, WEEKDAYS, at(30)),  # from a Saturday, the next working day is Monday
        (at(26, 15), 3, EVERY_DAY, at(29)),  # someone who works every day: Sun
        (at(26, 15), 1, (7, 1, 2, 3, 4), at(29)),  # a Sunday-to-Thursday week: Thu + 1 = Sun
        (at(24, 9, 30), 0, WEEKDAYS, at(24, 9, 30)),  # no delay: due at once
    ],
)
def test_a_delay_counts_working_days_and_falls_due_at_the_start_of_the_day(start, delay, days, due):
    assert due_after(start, delay, "Europe/London", days) == due


def test_the_day_starts_in_the_users_timezone():
    # 23:30 UTC on Tuesday is already Wednesday in Paris: one working day later is Thursday 00:00 Paris.
    assert due_after(at(24, 23, 30), 1, "Europe/Paris", WEEKDAYS) == at(25, 23)


async def test_steps_fall_due_after_their_delays_from_the_previous_step(core, make, ana, clock, start, log, plan_of):
    bob = await make.contact(ana, "Bob Stone")
    result = await start(ana, bob)  # Warm intro: LinkedIn now, email +3, call +4
    assert "step 1/3 (LinkedIn) due now" in result.message
    plan = await plan_of(bob)
    assert (plan.status, plan.current_step, plan.step_due_at) == ("not_started", 1, clock.now())

    await log(ana, bob, "linkedin")  # Tuesday
    plan = await plan_of(bob)
    assert (plan.status, plan.current_step, plan.step_due_at) == ("in_progress", 2, at(27))

    clock.set(at(26, 16))  # the email goes out a day early, on Thursday: the call is 4 working days later
    await log(ana, bob, "email")
    plan = await plan_of(bob)
    assert (plan.current_step, plan.step_due_at) == (3, at(2, month=12))


async def test_a_weekday_user_skips_the_weekend_and_an_every_day_user_does_not(core, make, clock, start, plan_of):
    clock.set(at(27, 10))  # a Friday
    weekday = await make.user("Wendy")
    daily = await make.user("Dan")
    await core.execute(UpdateSettings(Actor(daily.id), working_days=EVERY_DAY))
    due = {}
    for user in (weekday, daily):
        bob = await make.contact(user, "Bob")
        await start(user, bob, "Event follow-up")  # an email 1 working day after the start
        due[user.name] = (await plan_of(bob)).step_due_at
    assert due == {"Wendy": at(30), "Dan": at(28)}

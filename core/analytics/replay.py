"""A cadence plan's history, replayed: which steps were done, when each fell due, and after which step the
first meeting came.

A plan row keeps only where it stands now, so its past is read again from what the plan saw: the contact's
activities while the plan ran and the pauses and resumes in the audit trail, put through the rules of
core.cadences.plans (an activity of the current step's kind does the step; a call with no answer is an attempt, and the
step is still to do; a reply, a booked meeting or “not interested” ends the plan; a paused plan ignores the rest;
a resume moves the due moment on by the pause). Steps are the strategy's as they are now. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.cadences.plans import due_after

MEETINGS = ("meeting_requested", "meeting_booked")
ENDING = ("replied", "meeting_booked", "not_interested")
PAUSE, RESUME = "PauseCadence", "ResumeCadence"


@dataclass(frozen=True)
class Event:
    """An activity (its kind and outcome) or a pause or resume (kind PAUSE or RESUME), at a moment."""

    at: datetime
    kind: str
    outcome: str | None = None


@dataclass(frozen=True)
class StepDone:
    position: int
    first_attempt: datetime
    due_at: datetime
    on_time: bool


@dataclass
class Replayed:
    position: int = 1  # the step the plan was at when the replay ended (past the last: finished)
    done: list[StepDone] = field(default_factory=list)
    meeting_after: int | None = None  # the last step done when the first meeting came (0: before step 1)
    ended: bool = False


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def replay(
    steps: Sequence[tuple[int, str]],
    started_at: datetime,
    events: Iterable[Event],
    *,
    zone: str,
    working_days: Iterable[int],
) -> Replayed:
    """Replay one plan: `steps` are (delay_days, kind) in order, `events` in the order they happened."""
    days = tuple(working_days)
    out = Replayed()
    if not steps:
        return out
    first_due, first_attempt = due_after(started_at, steps[0][0], zone, days), None
    paused_since: datetime | None = None

    def do_step(at: datetime) -> None:
        attempt = first_attempt or at
        on_time = local_day(attempt, zone) <= local_day(first_due, zone)
        out.done.append(StepDone(out.position, attempt, first_due, on_time))

    for event in events:
        if event.kind == PAUSE:
            paused_since = paused_since or event.at
            continue
        if event.kind == RESUME:
            if paused_since is not None:
                first_due += event.at - paused_since
                paused_since = None
            continue
        if event.kind == "note":
            continue
        on_step = paused_since is None and event.kind == steps[out.position - 1][1]
        if event.outcome in MEETINGS and out.meeting_after is None:
            out.meeting_after = out.position if on_step else out.position - 1
        if event.outcome in ENDING:
            if on_step:
                do_step(event.at)
            out.ended = True
            return out
        if not on_step:
            continue
        if event.kind == "call" and event.outcome == "no_answer":
            first_attempt = first_attempt or event.at  # tried: on time or not, the step falls due again later
            continue
        do_step(event.at)
        out.position += 1
        if out.position > len(steps):
            out.ended = True
            return out
        first_due, first_attempt = due_after(event.at, steps[out.position - 1][0], zone, days), None
    return out

"""Rules from outcomes: what a contact's last touches say to do next, for every contact in a bank.

| rule               | fires when (calendar days in the user's timezone)                     | says                  |
|--------------------|-----------------------------------------------------------------------|-----------------------|
| meeting_not_booked | the last meeting news is a meeting requested, N days ago, none booked | nudge them            |
| no_reply           | the last touch was an email, LinkedIn message or campaign email with  | try the method most   |
|                    | no outcome, N days ago                                                | likely to work next   |
| retry              | the last touch was a call with no answer, N days ago                  | try the call again    |
| warm_untouched     | a warm contact (warmness 4+) untouched for N days (never: since added)| nudge them            |

One rule speaks per contact, the first that fires in that order. For a contact following a cadence, only its
touches since the plan started count. The method to try after no reply is the learned one (core.learning) when
the team's history says why, else the fixed one: an email or campaign email → a call, a LinkedIn message → an
email. Each N is the team's (`rules set NAME DAYS`, core.rules.handlers), defaulting to the settings.

Today's list leaves out contacts no rule may fire on by a flag kept per contact (contacts.rule_may_fire, the SQL
function contact_rule_may_fire of migration 0028, core.feed.ranking): a new rule, or a rule on other touches,
needs its condition there too (tests/core/test_ranking_walk.py fails otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import ACTIVE_PLAN_STATUSES
from core.validation import METHOD_LABELS
from core.vocabulary import WARM_THRESHOLD

# The team's day counts, each with the setting it defaults to and what it means.
RULES = {
    "no_reply_days": "no reply to an email or LinkedIn message after this many days: try the next method",
    "retry_days": "a call with no answer: try again after this many days",
    "meeting_not_booked_days": "a meeting requested but not booked after this many days: nudge",
    "warm_untouched_days": "a warm contact untouched for this many days: nudge",
}
SETTING_OF = {
    "no_reply_days": "cadence_no_reply_days",
    "retry_days": "cadence_retry_days",
    "meeting_not_booked_days": "meeting_not_booked_days",
    "warm_untouched_days": "warm_untouched_days",
}
MAX_DAYS = 365
NO_REPLY_KINDS = ("email", "linkedin", "campaign_email")
FIXED_NEXT = {"email": "call", "campaign_email": "call", "linkedin": "email"}
_ACTIVE_PLAN = ", ".join(f"'{s}'" for s in ACTIVE_PLAN_STATUSES)
_NO_REPLY = ", ".join(f"'{k}'" for k in NO_REPLY_KINDS)


@dataclass(frozen=True)
class OutcomeRules:
    """The team's day counts for each rule."""

    no_reply_days: int
    retry_days: int
    meeting_not_booked_days: int
    warm_untouched_days: int

    def params(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in RULES}


def ctes(contacts: str, touched: str = "true") -> str:
    """CTEs `last_touch` (each contact's last touch: kind, outcome, when) and `meeting_news` (its last meeting
    news, when a meeting requested is the last), for the contacts `k` meeting the SQL condition `contacts` still
    in the bank (and, for `last_touch`, the condition `touched`); a contact following a cadence counts only its
    touches since the plan started."""
    return f"""last_touch AS MATERIALIZED (
    -- One index probe per contact (LATERAL … LIMIT 1), whatever the size of the bank or of its history.
    SELECT k.id AS contact_id, a.kind, a.outcome, a.occurred_at
      FROM contacts k
     CROSS JOIN LATERAL (SELECT a.kind, a.outcome, a.occurred_at FROM activities a
                          WHERE a.contact_id = k.id AND a.occurred_at = k.last_contacted_at
                          ORDER BY a.id DESC LIMIT 1) a
     WHERE {contacts} AND k.archived_at IS NULL AND {touched}
       AND NOT EXISTS (SELECT 1 FROM contact_plans p
                        WHERE p.contact_id = k.id AND p.status IN ({_ACTIVE_PLAN}) AND p.started_at > a.occurred_at)
), meeting_news AS MATERIALIZED (
    SELECT * FROM (
        SELECT DISTINCT ON (a.contact_id) a.contact_id, a.outcome, a.occurred_at AS requested_at
          FROM contacts k
          JOIN activities a ON a.contact_id = k.id
         WHERE {contacts} AND k.archived_at IS NULL
           AND a.outcome IN ('meeting_requested', 'meeting_booked', 'not_interested')
         ORDER BY a.contact_id, a.occurred_at DESC, a.id DESC
    ) last WHERE last.outcome = 'meeting_requested'
)"""


def rule_sql(today: str, tz: str) -> str:
    """Select-list over a row with warmness, created_at, days_since, last_kind, last_outcome and requested_at:
    the rule that fires (or NULL) and the days it counts; the day counts are the parameters named in RULES."""
    meeting_days = f"CAST({today} AS date) - CAST(timezone(CAST({tz} AS text), requested_at) AS date)"
    untouched = f"coalesce(days_since, CAST({today} AS date) - CAST(timezone(CAST({tz} AS text), created_at) AS date))"
    return f"""CASE WHEN {meeting_days} >= :meeting_not_booked_days THEN 'meeting_not_booked'
                WHEN last_kind IN ({_NO_REPLY}) AND last_outcome = 'none' AND days_since >= :no_reply_days
                     THEN 'no_reply'
                WHEN last_kind = 'call' AND last_outcome = 'no_answer' AND days_since >= :retry_days THEN 'retry'
                WHEN warmness >= {WARM_THRESHOLD} AND {untouched} >= :warm_untouched_days THEN 'warm_untouched'
           END AS rule,
           CASE WHEN {meeting_days} >= :meeting_not_booked_days THEN {meeting_days} ELSE {untouched} END AS rule_days"""


# Over a row with `rule`, `rule_days`, requested_at, last_contacted_at and created_at: the moment the rule counts
# from (a rule nudges once per such moment), and how many days ago it started to fire.
COUNTED_FROM_SQL = (
    "CASE WHEN rule = 'meeting_not_booked' THEN requested_at ELSE coalesce(last_contacted_at, created_at) END"
)
FIRED_DAYS_AGO_SQL = (
    "rule_days - CASE rule "
    + " ".join(
        f"WHEN '{r}' THEN :{n}"
        for r, n in (
            ("meeting_not_booked", "meeting_not_booked_days"),
            ("no_reply", "no_reply_days"),
            ("retry", "retry_days"),
            ("warm_untouched", "warm_untouched_days"),
        )
    )
    + " END"
)


def next_method(last_kind: str | None, learned: str | None) -> str:
    """After no reply: the learned method when there is one other than the one that went unanswered, else the
    fixed one."""
    if learned is not None and learned != last_kind:
        return learned
    return FIXED_NEXT.get(last_kind or "", "call")


def _a(method: str) -> str:
    label = METHOD_LABELS.get(method, method)
    if method == "linkedin":
        return label
    label = label.lower()
    return f"an {label}" if label[0] in "aeiou" else f"a {label}"


def _ago(days: int) -> str:
    return "yesterday" if days == 1 else f"{days} days ago"


def _touch(kind: str) -> str:
    return {"linkedin": "LinkedIn message", "campaign_email": "campaign email"}.get(kind, kind)


def reason(rule: str | None, days: int, last_kind: str | None, method: str | None) -> str | None:
    """The rule's reason, in words (None when no rule fires)."""
    if rule == "meeting_not_booked":
        return f"meeting requested {_ago(days)}, not booked yet: nudge them"
    if rule == "no_reply":
        return f"no reply to your {_touch(last_kind or 'email')} in {days} days: try {_a(method or 'call')}"
    if rule == "retry":
        return f"no answer {_ago(days)}: try the call again"
    if rule == "warm_untouched":
        return f"warm and untouched for {days} days: nudge them"
    return None

"""“Who to contact today”: the one ranking of a user's bank, in one SQL query.

The score of a contact is the sum of:

| part              | points                                                            |
|-------------------|-------------------------------------------------------------------|
| due cadence step  | 250 (more than all the other parts together: planned steps lead)  |
| due follow-up     | 100 (a reminder or a snooze that has fallen due comes first)      |
| outcome rule      | 50 when a rule from outcomes fires (core.rules.outcomes, for every contact): a meeting  |
|                   | requested but not booked, no reply (try the method likeliest to work next), a call with |
|                   | no answer (try again), a warm contact untouched; each after the team's N days           |
| time since touch  | 40 × min(days since last contact, 90) / 90; never contacted = 40  |
| warmness          | 6 per point of warmness (0-5)                                     |
| past business     | 15 × min(ln(1 + amount) / ln(1 + 100,000), 1)                     |
| live campaign     | 15 when the contact is in a live campaign                         |
| learned           | 25 per doubling of the team's meeting rate by the contact's best  |
|                   | method (core.learning), within -50..75, × min(days since touch,   |
|                   | 14) / 14 (a chance is an outreach's once the last one's window    |
|                   | has closed; never contacted: in full); 0 without a fit            |

Contacts touched today (in the user's timezone), and contacts whose only open follow-ups lie in the future
(set a reminder for later, or snoozed), drop out; a due cadence step keeps a contact with a later reminder in
(not a snoozed one). A due step's row carries the step, its message rendered ready to copy (core.cadences.plans).
Ties go to the longest untouched, then the oldest contact.
Every suggestion carries the human reasons behind its score, and the method most likely to lead to a meeting
(the row's first button) with why, once the team's history has been learned (`pipedriven learn`, nightly).

Without a fit the statement is the fixed ranking's alone (`rates.has_fit` picks it); with one, the learned CTEs
join the current fit's few rows per segment (core.learning.rates).

Only the contacts that can reach the top rows are scored. A contact's `rank_ceiling` (core.models, kept by
PostgreSQL and triggers) is the most its parts that don't depend on the day can give it: warmness, past business,
a campaign (any), and a rule's 50 when its last touch or meeting news is one a rule fires on (or it is warm). A
contact due nothing today (no follow-up, no cadence step) scores at most its ceiling + STALE_POINTS + the learned
points' cap (core.learning.rates.points_cap_sql). So the statement walks the bank down ix_contacts_rank_ceiling,
scores the walk's contacts and those due something exactly, and stops once its last row beats the next unread
ceiling plus those allowances; else it walks further (WALKS), and past the last walk scores the bank whole. Both
statements are built from the one template below, and tests/core/test_ranking_walk.py holds them equal.

Cost (bench/bench_today.py): the walk's candidates are probed by primary key (their last touch, meeting news,
live campaign each one probe), and the CTEs are MATERIALIZED so PostgreSQL plans them one by one. The walk's
statement keeps a generic plan once prepared (planning it cost more than running it); for the whole bank's, a
generic plan was measured slower than planning it each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadences import plans
from core.feed.commands import Suggestion
from core.learning import model, rates
from core.learning.reasons import why
from core.models import ACTIVE_PLAN_STATUSES
from core.rules import outcomes
from core.rules.outcomes import OutcomeRules
from core.views import ContactView
from core.vocabulary import WARM_THRESHOLD

STALE_CAP_DAYS = 90
DUE_POINTS, STALE_POINTS, WARMNESS_POINTS, PAST_BUSINESS_POINTS, CAMPAIGN_POINTS = 100, 40, 6, 15, 15
STEP_POINTS, RULE_POINTS = 250, 50
PAST_BUSINESS_CAP = 100_000
DEFAULT_RULES = OutcomeRules(no_reply_days=5, retry_days=2, meeting_not_booked_days=3, warm_untouched_days=14)
_ACTIVE_PLAN = ", ".join(f"'{s}'" for s in ACTIVE_PLAN_STATUSES)


# The learned part (core.learning), in the statement only once a fit exists: without one, the ranking is the fixed
# one, statement and cost alike.
def _learned_ctes(among: str) -> str:
    return f"""{rates.FIT_CTES}, plan_steps AS MATERIALIZED (
    SELECT contact_id, current_step FROM contact_plans WHERE user_id = :uid{among} AND status IN ({_ACTIVE_PLAN})
),"""


_LEARNED_SCORING = f"""segmented AS MATERIALIZED (
    -- Each contact's segments, its best method's chance of a meeting from the current fit, and the points that is
    -- worth.
    SELECT ruled.*, {rates.segments_sql("ruled", "live_campaign.campaign_id", "plan_steps.current_step")}
      FROM ruled
     CROSS JOIN live_campaigns
      LEFT JOIN plan_steps ON plan_steps.contact_id = ruled.id
      LEFT JOIN LATERAL (SELECT cc.campaign_id FROM campaign_contacts cc
                          WHERE cc.contact_id = ruled.id AND cc.campaign_id = ANY(live_campaigns.ids)
                            AND EXISTS (SELECT 1 FROM lifts WHERE lifts.dimension = 'campaign')
                          ORDER BY cc.added_at DESC, cc.id DESC LIMIT 1) live_campaign ON true
), chanced AS MATERIALIZED (
    SELECT segmented.*, fit.team_rate,
           {", ".join(f"{rates.logit_sql(m)} AS x_{m}" for m in model.SUGGESTIBLE)}
      FROM segmented
      LEFT JOIN fit ON true
      {rates.chance_joins("segmented")}
), learned AS (
    SELECT chanced.*, {rates.best_sql()} FROM chanced
),"""
# The learned chance is an outreach's: it counts in full once the last one's window has closed.
_LEARNED_POINTS = f"""
         + learned_points * (CASE WHEN days_since IS NULL THEN 1
                                  ELSE least(days_since, {rates.MEETING_WINDOW_DAYS}) / {rates.MEETING_WINDOW_DAYS}.0 END)"""
_LEARNED_COLUMNS = (
    f"""top.best_method, top.best_chance, top.team_rate, {rates.rates_of_row_sql("top")} AS learned_rates"""
)
_FIXED_COLUMNS = "NULL AS best_method, NULL AS best_chance, NULL AS team_rate, NULL AS learned_rates"


# The bounded statement reads, besides the contacts whose follow-up or cadence step is due, only the first :walk of
# the bank in descending order of rank_ceiling (core.models: the date-free parts at most), none below :floor. Every
# contact it leaves unread, due nothing, scores at most its ceiling plus `allowance` (what the day can add,
# STALE_POINTS, and the learned points' cap): at most `unread_ceiling`, the next one's ceiling plus the allowance,
# NULL when the walk read every contact down to the floor. A walk down to a floor that would read more than :walk
# contacts scores none of them (the caller scores the bank whole instead).
_WALK = f"""walk AS MATERIALIZED (
    SELECT k.id, k.rank_ceiling FROM contacts k
     WHERE k.owner_id = :uid AND k.archived_at IS NULL
       AND (k.last_contacted_at IS NULL OR k.last_contacted_at < :day_start)
       AND (NOT :warm_only OR k.warmness >= {WARM_THRESHOLD})
       AND (CAST(:stale_days AS int) IS NULL OR k.last_contacted_at IS NULL
            OR CAST(:today AS date) - CAST(timezone(CAST(:tz AS text), k.last_contacted_at) AS date) >= :stale_days)
       AND (CAST(:campaign_id AS int) IS NULL OR EXISTS (
            SELECT 1 FROM campaign_contacts cc WHERE cc.contact_id = k.id AND cc.campaign_id = :campaign_id))
       AND (CAST(:floor AS float8) IS NULL OR k.rank_ceiling >= :floor)
     ORDER BY k.rank_ceiling DESC, k.id
     LIMIT :walk + 1
), walk_scored AS MATERIALIZED (
    SELECT CAST(:floor AS float8) IS NULL OR count(*) <= :walk AS scored FROM walk
), candidates AS MATERIALIZED (
    SELECT id FROM (SELECT id FROM walk ORDER BY rank_ceiling DESC, id LIMIT :walk) read
     WHERE (SELECT scored FROM walk_scored)
    UNION
    SELECT contact_id FROM follow_ups
     WHERE user_id = :uid AND status = 'open' AND due_at <= :now AND (SELECT scored FROM walk_scored)
    UNION
    SELECT contact_id FROM contact_plans
     WHERE user_id = :uid AND status IN ({_ACTIVE_PLAN}) AND step_due_at <= :now AND (SELECT scored FROM walk_scored)
),"""


def _query(learned: bool, bounded: bool = False) -> str:
    """The ranking statement: of the whole bank, or `bounded` (of the candidates of _WALK)."""
    # The candidates by their primary key, one probe each: the planner would otherwise read the bank's index whole to
    # hash-join the few.
    bank = "k.id = ANY (ARRAY(SELECT id FROM candidates)) AND k.owner_id = :uid" if bounded else "k.owner_id = :uid"
    among = " AND contact_id = ANY (ARRAY(SELECT id FROM candidates))" if bounded else ""
    cap = f"(SELECT cap FROM ({rates.points_cap_sql()}) learned_cap)" if learned else "0"
    listed = f"""SELECT top.has_due, top.due_note, top.due_from_snooze, top.days_since, top.score, top.rule, top.rule_days,
       top.last_kind,
       {_LEARNED_COLUMNS if learned else _FIXED_COLUMNS},
       -- The live campaigns' names only for the rows shown (scoring needs only whether there is one).
       (SELECT array_agg(c.name ORDER BY c.id) FROM campaign_contacts cc JOIN campaigns c ON c.id = cc.campaign_id
         WHERE cc.contact_id = top.id AND c.status = 'live') AS campaign_names,
       step.*, {plans.CONTACT_COLUMNS}
  FROM top JOIN contacts k ON k.id = top.id
  LEFT JOIN step ON step.contact_id = top.id
 ORDER BY top.score DESC, k.last_contacted_at ASC NULLS FIRST, k.id ASC"""
    if bounded:
        listed = f"""listed AS (
{listed}
)
SELECT listed.*, unread.next + unread.allowance AS unread_ceiling, unread.allowance
  FROM (SELECT (SELECT rank_ceiling FROM walk ORDER BY rank_ceiling DESC, id OFFSET :walk LIMIT 1) AS next,
               {STALE_POINTS} + coalesce({cap}, 0) AS allowance) unread
  LEFT JOIN listed ON true
 ORDER BY listed.score DESC, listed.last_contacted_at ASC NULLS FIRST, listed.id ASC"""
    return f"""
WITH {_WALK if bounded else ""} fu AS MATERIALIZED (
    SELECT contact_id,
           bool_or(due_at <= :now) AS has_due,
           bool_or(due_at > :now) AS has_future,
           (array_agg(note ORDER BY due_at) FILTER (WHERE due_at <= :now))[1] AS due_note,
           bool_and(snoozed) FILTER (WHERE due_at <= :now) AS due_from_snooze
      FROM follow_ups
     WHERE user_id = :uid AND status = 'open'{among}
     GROUP BY contact_id
), step AS ({plans.DUE_STEPS_SQL}
), {outcomes.ctes(bank)}, live_campaigns AS MATERIALIZED (
    SELECT coalesce(array_agg(id), '{{}}') AS ids FROM campaigns WHERE status = 'live'
), {_learned_ctes(among) if learned else ""} touched AS MATERIALIZED (
    SELECT k.id, k.warmness, k.last_contacted_at, k.past_business, k.sector, k.country,
           coalesce(fu.has_due, false) AS has_due, fu.due_note, fu.due_from_snooze,
           coalesce(fu.has_future, false) AS has_future,
           live.contact_id IS NOT NULL AS in_live_campaign,
           step.plan_id IS NOT NULL AS step_due,
           -- Calendar days in the user's timezone: a touch late yesterday is “1 day”, not “0 days”.
           CAST(:today AS date) - CAST(timezone(CAST(:tz AS text), k.last_contacted_at) AS date) AS days_since,
           last_touch.kind AS last_kind, last_touch.outcome AS last_outcome, k.created_at,
           meeting_news.requested_at
      FROM contacts k
      LEFT JOIN fu ON fu.contact_id = k.id
      LEFT JOIN step ON step.contact_id = k.id
      LEFT JOIN last_touch ON last_touch.contact_id = k.id
      LEFT JOIN meeting_news ON meeting_news.contact_id = k.id
      -- In a live campaign? One index probe per contact (LATERAL … LIMIT 1 keeps it so): the planner would
      -- otherwise hash every live campaign's members, whatever the size of this bank.
      CROSS JOIN live_campaigns
      LEFT JOIN LATERAL (SELECT cc.contact_id FROM campaign_contacts cc
                          WHERE cc.contact_id = k.id AND cc.campaign_id = ANY(live_campaigns.ids) LIMIT 1) live ON true
     WHERE {bank} AND k.archived_at IS NULL  -- removed contacts are out of the index, and the list
       AND (k.last_contacted_at IS NULL OR k.last_contacted_at < :day_start)
), ruled AS (
    SELECT touched.*, {outcomes.rule_sql(":today", ":tz")}
      FROM touched
), {_LEARNED_SCORING if learned else ""} scored AS (
    SELECT {"learned" if learned else "ruled"}.*,
           (CASE WHEN step_due THEN {STEP_POINTS} ELSE 0 END)
         + (CASE WHEN rule IS NOT NULL THEN {RULE_POINTS} ELSE 0 END)
         + (CASE WHEN has_due THEN {DUE_POINTS} ELSE 0 END)
         + {STALE_POINTS} * least(coalesce(date_part('epoch', :now - last_contacted_at) / 86400,
                                           {STALE_CAP_DAYS}), {STALE_CAP_DAYS}) / {STALE_CAP_DAYS}
         + {WARMNESS_POINTS} * warmness
         + (CASE WHEN past_business > 0 THEN {PAST_BUSINESS_POINTS}
                      * least(ln(1 + CAST(past_business AS float8)) / ln(1 + {PAST_BUSINESS_CAP}), 1) ELSE 0 END)
         + (CASE WHEN in_live_campaign THEN {CAMPAIGN_POINTS} ELSE 0 END){_LEARNED_POINTS if learned else ""}
           AS score
      FROM {"learned" if learned else "ruled"}
), top AS (
    -- Sort narrow rows; fetch the full contact only for the few that make the list.
    SELECT * FROM scored
     WHERE NOT (has_future AND NOT has_due AND NOT step_due)
       AND (NOT :warm_only OR warmness >= {WARM_THRESHOLD})
       AND (CAST(:stale_days AS int) IS NULL OR days_since IS NULL OR days_since >= :stale_days)
       AND (CAST(:campaign_id AS int) IS NULL OR EXISTS (
            SELECT 1 FROM campaign_contacts cc WHERE cc.contact_id = scored.id AND cc.campaign_id = :campaign_id))
     ORDER BY score DESC, last_contacted_at ASC NULLS FIRST, id ASC
     LIMIT :limit
){"," if bounded else ""}
{listed}
"""


_QUERIES = {learned: _query(learned) for learned in (False, True)}
_BOUNDED = {learned: _query(learned, bounded=True) for learned in (False, True)}


def local_day_start(now: datetime, tz: str) -> datetime:
    """The instant today began in the user's timezone."""
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _money(amount: Decimal) -> str:
    if amount >= 1000:
        return f"{amount / 1000:,.0f}k"
    return f"{amount:,.0f}"


def learned_reason(row) -> str | None:
    """Why the learned rates moved this row and chose its first method, in words (None without a fit)."""
    if row.best_method is None:
        return None
    return why(row.best_method, row.team_rate, row.best_chance, rates.rates_by_segment(row.learned_rates))


def reasons_for(row, step_reason: str | None = None) -> tuple[str, ...]:
    reasons: list[str] = [step_reason] if step_reason else []
    if row.has_due:
        if row.due_from_snooze:
            reasons.append("snooze ended")
        else:
            reasons.append(f"follow-up due: {row.due_note}" if row.due_note else "follow-up due")
    if row.days_since is None:
        reasons.append("never contacted")
    elif row.days_since == 1:
        reasons.append("1 day since last touch")
    else:
        reasons.append(f"{row.days_since} days since last touch")
    if row.warmness >= WARM_THRESHOLD:
        reasons.append("warm")
    elif row.warmness > 0:
        reasons.append(f"warmness {row.warmness}/5")
    if row.past_business and row.past_business > 0:
        reasons.append(f"past business {_money(row.past_business)}")
    for name in row.campaign_names or ():
        reasons.append(f"live campaign {name}")
    rule = outcomes.reason(row.rule, row.rule_days, row.last_kind, rule_method(row))
    if rule:
        reasons.append(rule)
    return tuple(reasons)


def rule_method(row) -> str | None:
    """The method a no-reply rule says to try next (core.rules.outcomes), else None."""
    if row.rule != "no_reply":
        return None
    return outcomes.next_method(row.last_kind, row.best_method if learned_reason(row) else None)


# How far the walk by rank_ceiling reads at first (for a list of 10; at least three times the list), and at most
# down to the floor the first walk sets; past that, the whole bank is scored. On the account-scale data set a first
# walk of 32 decides every user's list of 10 (fixed ranking).
WALKS = (32, 512)
# Scores are sums of floats: an unread contact is ruled out only when below the last row by more than this.
_ROUNDING = 1e-6


async def walked(session: AsyncSession, learned: bool, params: dict, walks: Sequence[int]) -> Sequence[Row] | None:
    """The ranking's rows read from the candidates of the first walk that can tell them (its contacts and those due
    something today), or None when none could.

    After the first walk, its last row's score less the allowance is a floor: a contact whose ceiling is below it
    can't reach the list, so the next walk reads every contact down to it, or scores none when they are more than
    it may read.

    The first walk's plan is the same for every bank and day (index probes from a few candidates): once the driver
    has prepared it, PostgreSQL keeps the generic plan rather than planning it again for each call."""
    limit, floor = params["limit"], None
    await session.execute(text("SET LOCAL plan_cache_mode TO force_generic_plan"))
    try:
        for walk in walks:
            walk = max(walk, 3 * limit)
            rows = (await session.execute(text(_BOUNDED[learned]), {**params, "walk": walk, "floor": floor})).all()
            meta = rows[0]
            listed = [row for row in rows if row.id is not None]
            if meta.unread_ceiling is None or (
                len(listed) == limit and listed[-1].score > meta.unread_ceiling + _ROUNDING
            ):
                return listed
            if len(listed) < limit:
                return None
            if floor is None:
                await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))
            floor = listed[-1].score - meta.allowance - 2 * _ROUNDING
        return None
    finally:
        await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))


def parameters(
    user_id: int,
    tz: str,
    now: datetime,
    limit: int,
    warm_only: bool = False,
    stale_days: int | None = None,
    campaign_id: int | None = None,
    rules: OutcomeRules = DEFAULT_RULES,
) -> dict:
    """The ranking statements' parameters (but the walk's length)."""
    day_start = local_day_start(now, tz)
    return {
        "uid": user_id,
        "now": now,
        "day_start": day_start,
        "today": day_start.date(),
        "tz": tz,
        "limit": limit,
        "warm_only": warm_only,
        "stale_days": stale_days,
        "campaign_id": campaign_id,
        **rules.params(),
    }


async def suggest(
    session: AsyncSession,
    *,
    user_id: int,
    tz: str,
    now: datetime,
    limit: int,
    warm_only: bool = False,
    stale_days: int | None = None,
    campaign_id: int | None = None,
    rules: OutcomeRules = DEFAULT_RULES,
    walks: Sequence[int] = WALKS,
) -> list[Suggestion]:
    """The first `limit` rows of the bank's ranking: scored on the contacts a walk of `walks` can't rule out, or
    on every contact (no walks, or none could tell): the same rows either way."""
    params = parameters(user_id, tz, now, limit, warm_only, stale_days, campaign_id, rules)
    fitted = await rates.has_fit(session)
    rows = await walked(session, fitted, params, walks)
    if rows is None:
        rows = (await session.execute(text(_QUERIES[fitted]), params)).all()
    suggestions = []
    for rank, row in enumerate(rows, start=1):
        step = plans.due_step_of(row, now) if row.plan_id is not None else None
        learned = learned_reason(row)
        suggestions.append(
            Suggestion(
                rank=rank,
                contact=ContactView.of(row),
                score=round(float(row.score), 2),
                reasons=reasons_for(row, step.reason if step else None) + ((learned,) if learned else ()),
                follow_up_due=row.has_due,
                step=step,
                method=row.best_method if learned else None,
            )
        )
    return suggestions

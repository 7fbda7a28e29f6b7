"""The method rates in the database: the fit over the team's history, and the SQL that reads them back.

An outreach counts as leading to a meeting when a meeting was requested or booked with the same contact within
MEETING_WINDOW_DAYS and before the next outreach to them (the last touch gets the credit), or when the outreach
itself was logged with a meeting as its outcome. Only outreach whose window has closed (the window has passed,
or a next outreach came) is counted, so recent outreach is neither a success nor a failure yet.

A contact's segments are read the same way for the fit and for the ranking: sector (folded case), country,
the live campaign the outreach counted toward, warmness band (cold 0-1, lukewarm 2-3, warm 4-5) and cadence
step (the step of the contact's plan; `none` off a cadence). Sector, country and warmness are the contact's
as they are now, not as they were at the outreach.

Reading the rates back: `advise(session, contact_id)` answers "which method is most likely to work next for this
contact, and why" (the `AdviseMethod` query checks the contact is the user's); a query over many contacts joins
FIT_CTES and uses `segments_sql`, `chance_joins`, `logit_sql` and `best_sql`, as the ranking does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.countries import country_name
from core.learning import model
from core.learning.commands import MethodFitView
from core.models import ACTIVE_PLAN_STATUSES, MethodFit, MethodRate
from core.vocabulary import OUTREACH_METHODS, WARM_THRESHOLD

MEETING_WINDOW_DAYS = 14
MIN_SEGMENT_CONTACTS = 3  # a segment seen on fewer contacts keeps no rate of its own
MEETINGS = "('meeting_requested', 'meeting_booked')"
_METHODS = ", ".join(f"'{m}'" for m in OUTREACH_METHODS)
_SUGGESTIBLE = ", ".join(f"'{m}'" for m in model.SUGGESTIBLE)
_ACTIVE_PLAN = ", ".join(f"'{s}'" for s in ACTIVE_PLAN_STATUSES)


def sector_sql(k: str) -> str:
    return f"nullif(lower(btrim({k}.sector)), '')"


def warmness_sql(k: str) -> str:
    return (
        f"CASE WHEN {k}.warmness >= {WARM_THRESHOLD} THEN 'warm' WHEN {k}.warmness >= 2 THEN 'lukewarm' ELSE 'cold' END"
    )


def step_sql(step: str) -> str:
    return f"CASE WHEN {step} IS NULL THEN 'none' WHEN {step} >= 4 THEN '4+' ELSE CAST({step} AS text) END"


_FIT_QUERY = f"""
WITH o AS MATERIALIZED (
    SELECT a.id, a.contact_id, a.user_id, a.kind AS method, a.occurred_at, a.campaign_id, a.outcome,
           lead(a.occurred_at) OVER (PARTITION BY a.contact_id ORDER BY a.occurred_at, a.id) AS next_at
      FROM activities a
     WHERE a.kind IN ({_METHODS}) AND a.contact_id IS NOT NULL AND a.occurred_at <= :now
), planned AS MATERIALIZED (
    -- The plan each outreach fell in (the latest started then, not yet ended), joined in bulk.
    SELECT DISTINCT ON (o.id) o.id, p.id AS plan_id
      FROM o JOIN contact_plans p ON p.contact_id = o.contact_id AND p.started_at <= o.occurred_at
                                 AND (p.ended_at IS NULL OR p.ended_at >= o.occurred_at)
     ORDER BY o.id, p.started_at DESC
), stepped AS MATERIALIZED (
    -- Which of its plan's touches each outreach was: its cadence step.
    SELECT o.*, CASE WHEN planned.plan_id IS NOT NULL THEN
               row_number() OVER (PARTITION BY o.contact_id, planned.plan_id ORDER BY o.occurred_at, o.id) END AS step
      FROM o LEFT JOIN planned ON planned.id = o.id
), judged AS MATERIALIZED (
    SELECT o.*, k.sector, {sector_sql("k")} AS sector_key, k.country, {warmness_sql("k")} AS band, c.name AS campaign,
           {step_sql("o.step")} AS step_key,
           o.outcome IN {MEETINGS} OR EXISTS (
               SELECT 1 FROM activities m
                WHERE m.contact_id = o.contact_id AND m.kind = 'meeting' AND m.outcome IN {MEETINGS}
                  AND m.occurred_at >= o.occurred_at AND m.occurred_at <= :now
                  AND m.occurred_at < least(coalesce(o.next_at, 'infinity'), o.occurred_at + :window)) AS met
      FROM stepped o
      JOIN contacts k ON k.id = o.contact_id
      LEFT JOIN campaigns c ON c.id = o.campaign_id
     WHERE least(coalesce(o.next_at, 'infinity'), o.occurred_at + :window) <= :now
)
SELECT 'team' AS dimension, '' AS value, '' AS method, '' AS label, count(*) AS outreach,
       count(*) FILTER (WHERE met) AS meetings, count(DISTINCT contact_id) AS contacts,
       count(DISTINCT user_id) AS users, min(occurred_at) AS data_from
  FROM judged
UNION ALL
SELECT s.dimension, s.value, j.method, mode() WITHIN GROUP (ORDER BY s.label), count(*),
       count(*) FILTER (WHERE j.met), count(DISTINCT j.contact_id), 0, NULL
  FROM judged j
 CROSS JOIN LATERAL (VALUES ('{model.ALL}', '', ''),
                            ('sector', j.sector_key, btrim(j.sector)),
                            ('country', j.country, j.country),
                            ('campaign', CAST(j.campaign_id AS text), j.campaign),
                            ('warmness', j.band, j.band),
                            ('step', j.step_key, j.step_key)) s(dimension, value, label)
 WHERE s.value IS NOT NULL
 GROUP BY s.dimension, s.value, j.method
"""


async def refit(session: AsyncSession, *, now: datetime, kind: str) -> MethodFitView:
    """Fit the rates on the whole team's history up to `now` and store them as the current fit (the rates of
    earlier fits are dropped; the fits themselves stay, as the record of what was learned when)."""
    rows = (await session.execute(text(_FIT_QUERY), {"now": now, "window": timedelta(days=MEETING_WINDOW_DAYS)})).all()
    team = next(r for r in rows if r.dimension == "team")
    counts = [
        model.Count(r.dimension, r.value, r.method, r.outreach, r.meetings, r.contacts, _label(r.dimension, r.label))
        for r in rows
        if r.dimension == model.ALL or (r.dimension != "team" and r.contacts >= MIN_SEGMENT_CONTACTS)
    ]
    rates = model.fit(counts, team.outreach, team.meetings)
    fit = MethodFit(
        fitted_at=now,
        kind=kind,
        window_days=MEETING_WINDOW_DAYS,
        prior_strength=model.PRIOR_STRENGTH,
        data_from=team.data_from,
        data_until=now,
        outreach=team.outreach,
        meetings=team.meetings,
        contacts=team.contacts,
        users=team.users,
        team_rate=model.team_rate(team.outreach, team.meetings),
    )
    session.add(fit)
    await session.flush()
    await session.execute(delete(MethodRate).where(MethodRate.fit_id != fit.id))
    if rates:
        await session.execute(
            insert(MethodRate),
            [
                {
                    "fit_id": fit.id,
                    "dimension": r.dimension,
                    "value": r.value[:200],
                    "label": r.label[:200],
                    "method": r.method,
                    "outreach": r.outreach,
                    "meetings": r.meetings,
                    "contacts": r.contacts,
                    "rate": r.rate,
                    "low": r.low,
                    "high": r.high,
                    "lift": r.lift,
                }
                for r in rates
            ],
        )
    return summary_of(fit, len(rates))


def _label(dimension: str, label: str | None) -> str:
    if dimension == "country" and label:
        return country_name(label)
    return label or ""


def summary_of(fit: MethodFit, rates: int) -> MethodFitView:
    return MethodFitView(
        fit.id,
        fit.fitted_at,
        fit.kind,
        fit.window_days,
        fit.data_from,
        fit.data_until,
        fit.outreach,
        fit.meetings,
        fit.contacts,
        fit.users,
        fit.team_rate,
        rates,
    )


async def latest_fit(session: AsyncSession) -> MethodFit | None:
    return (await session.execute(select(MethodFit).order_by(MethodFit.id.desc()).limit(1))).scalar_one_or_none()


async def has_fit(session: AsyncSession) -> bool:
    """Whether anything was ever learned (else the ranking is the fixed one, statement and all)."""
    return bool((await session.execute(text("SELECT EXISTS (SELECT 1 FROM method_fits)"))).scalar_one())


async def current_rates(session: AsyncSession, fit_id: int) -> Sequence[MethodRate]:
    return (await session.execute(select(MethodRate).where(MethodRate.fit_id == fit_id))).scalars().all()


# --- reading the rates back, for a ranking or one contact -------------------------------------------------------

# The current fit and its lifts, one row per segment with a column per suggestible method.
FIT_CTES = f"""fit AS MATERIALIZED (
    SELECT id, ln(team_rate / (1 - team_rate)) AS team_logit, team_rate FROM method_fits ORDER BY id DESC LIMIT 1
), lifts AS MATERIALIZED (
    SELECT r.dimension, r.value,
           {", ".join(f"coalesce(max(r.lift) FILTER (WHERE r.method = '{m}'), 0) AS {m}" for m in model.SUGGESTIBLE)}
      FROM method_rates r JOIN fit ON fit.id = r.fit_id
     WHERE r.method IN ({_SUGGESTIBLE})
     GROUP BY r.dimension, r.value
)"""


def segments_sql(k: str, campaign_id: str, step: str) -> str:
    """The select-list of a contact's segment keys, from contact alias `k`, its live campaign id and plan step."""
    return (
        f"{sector_sql(k)} AS sector_key, {k}.country AS country_key, CAST({campaign_id} AS text) AS campaign_key, "
        f"{warmness_sql(k)} AS band_key, {step_sql(step)} AS step_key"
    )


_SEGMENT_KEYS = (
    ("sector", "sector_key"),
    ("country", "country_key"),
    ("campaign", "campaign_key"),
    ("warmness", "band_key"),
    ("step", "step_key"),
)


def chance_joins(row: str) -> str:
    """LEFT JOINs of the lifts of the segments of `row` (which has the segment keys), aliased l_<dimension>."""
    joins = [f"LEFT JOIN lifts l_{model.ALL} ON l_{model.ALL}.dimension = '{model.ALL}'"]
    joins += [
        f"LEFT JOIN lifts l_{d} ON l_{d}.dimension = '{d}' AND l_{d}.value = {row}.{key}" for d, key in _SEGMENT_KEYS
    ]
    return "\n".join(joins)


def logit_sql(method: str) -> str:
    parts = [f"coalesce(l_{d}.{method}, 0)" for d in (model.ALL, *(d for d, _ in _SEGMENT_KEYS))]
    return f"fit.team_logit + {' + '.join(parts)}"


def best_sql() -> str:
    """Select-list over columns x_<method> (each method's log-odds): the best method (ties in button order), its
    chance and the ranking points it is worth; NULLs without a fit."""
    best = f"greatest({', '.join(f'x_{m}' for m in model.SUGGESTIBLE)})"
    pick = " ".join(f"WHEN x_{m} = {best} THEN '{m}'" for m in model.SUGGESTIBLE)
    chance = f"1 / (1 + exp(-{best}))"
    points = (
        f"greatest(least({model.POINTS_PER_DOUBLING} * ln({chance} / team_rate) / ln(2), {model.MAX_POINTS}), "
        f"{model.MIN_POINTS})"
    )
    # greatest() and least() skip NULLs: without a fit, the points must be 0, not the bound.
    return (
        f"CASE {pick} END AS best_method, {chance} AS best_chance, "
        f"CASE WHEN {best} IS NULL THEN 0 ELSE {points} END AS learned_points"
    )


def points_cap_sql() -> str:
    """A statement over FIT_CTES: the most learned points any contact can get from the current fit (0 at least,
    no row without a fit): the team's log-odds, the method's own lift and each dimension's highest lift for it (or
    none, 0), for the best method."""
    dimensions = (model.ALL, *(d for d, _ in _SEGMENT_KEYS))
    highest = ", ".join(
        f"max({m}) FILTER (WHERE dimension = '{d}') AS {d}_{m}" for m in model.SUGGESTIBLE for d in dimensions
    )
    xs = [
        f"fit.team_logit + coalesce(l.{model.ALL}_{m}, 0) + "
        + " + ".join(f"greatest(coalesce(l.{d}_{m}, 0), 0)" for d, _ in _SEGMENT_KEYS)
        for m in model.SUGGESTIBLE
    ]
    points = f"{model.POINTS_PER_DOUBLING} * ln(1 / (1 + exp(-greatest({', '.join(xs)}))) / fit.team_rate) / ln(2)"
    return f"SELECT greatest(least({points}, {model.MAX_POINTS}), 0) AS cap FROM fit CROSS JOIN (SELECT {highest} FROM lifts) l"


def rates_of_row_sql(row: str) -> str:
    """A scalar subquery: the current rates of the suggestible methods in `row`'s segments, as JSON
    [[dimension, label, method, rate], …] (NULL without a fit)."""
    keys = ", ".join([f"('{model.ALL}', '')"] + [f"('{d}', {row}.{key})" for d, key in _SEGMENT_KEYS])
    return f"""(SELECT jsonb_agg(jsonb_build_array(r.dimension, r.label, r.method, r.rate))
                  FROM method_rates r JOIN fit ON fit.id = r.fit_id
                 WHERE r.method IN ({_SUGGESTIBLE}) AND (r.dimension, r.value) IN ({keys}))"""


def rates_by_segment(raw: list | None) -> dict[tuple[str, str], dict[str, float]]:
    by: dict[tuple[str, str], dict[str, float]] = {}
    for dimension, label, method, rate in raw or ():
        by.setdefault((dimension, label), {})[method] = rate
    return by


_ADVICE_QUERY = f"""
WITH {FIT_CTES},
live_campaigns AS MATERIALIZED (
    SELECT coalesce(array_agg(id), '{{}}') AS ids FROM campaigns WHERE status = 'live'
), seg AS (
    SELECT k.id, {segments_sql("k", "live.campaign_id", "plan.current_step")}
      FROM contacts k
     CROSS JOIN live_campaigns
      LEFT JOIN LATERAL (SELECT cc.campaign_id FROM campaign_contacts cc
                          WHERE cc.contact_id = k.id AND cc.campaign_id = ANY(live_campaigns.ids)
                          ORDER BY cc.added_at DESC, cc.id DESC LIMIT 1) live ON true
      LEFT JOIN contact_plans plan ON plan.contact_id = k.id AND plan.status IN ({_ACTIVE_PLAN})
     WHERE k.id = :contact_id
), x AS (
    SELECT seg.*, fit.team_rate, {", ".join(f"{logit_sql(m)} AS x_{m}" for m in model.SUGGESTIBLE)}
      FROM seg CROSS JOIN fit
      {chance_joins("seg")}
)
SELECT x.team_rate, {best_sql()}, {rates_of_row_sql("x")} AS learned_rates FROM x
"""


@dataclass(frozen=True)
class Advice:
    """The method most likely to lead to a meeting with a contact, its chance, and why (None without a fit)."""

    method: str
    chance: float | None
    team_rate: float | None
    reason: str | None


async def advise(session: AsyncSession, contact_id: int) -> Advice:
    """The method most likely to work next for this contact, with its reason; without a fit, or when the rates
    can't say why, the buttons' usual first method, no chance and no reason. The caller checks the contact is the
    user's."""
    from core.learning.reasons import why

    row = (await session.execute(text(_ADVICE_QUERY), {"contact_id": contact_id})).one_or_none()
    if row is None or row.best_method is None:
        return Advice(model.SUGGESTIBLE[0], None, None, None)
    reason = why(row.best_method, row.team_rate, row.best_chance, rates_by_segment(row.learned_rates))
    if reason is None:  # nothing the rates can say aloud: the usual first method
        return Advice(model.SUGGESTIBLE[0], None, row.team_rate, None)
    return Advice(row.best_method, row.best_chance, row.team_rate, reason)

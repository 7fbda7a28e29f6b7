"""The method rates: a Beta-Binomial estimate of P(an outreach leads to a meeting) per method and segment.

Pure arithmetic on counts (numpy, no database), so the fit, the benchmark and the tests share it.

- The team's rate p0 is meetings / outreach over everyone's history (pooled: a rate says nothing of a contact).
- A method's rate is its own count shrunk toward p0 with a Beta prior worth PRIOR_STRENGTH outreaches:
  (meetings + S·p0) / (outreach + S). A handful of outreaches moves it little; hundreds speak for themselves.
- A method's rate in a segment (a sector, a country, a campaign, a warmness band, a cadence step) is its count
  there shrunk the same way toward the method's own rate.
- For one contact, the segments it belongs to add up on the log-odds scale (each segment's `lift` is its
  log-odds above the method's rate): chance = σ(logit p0 + lift(method) + Σ lift(method, segment)).
- The interval is the 90% equal-tailed interval of the posterior Beta (quantiles of seeded draws).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

PRIOR_STRENGTH = 20.0  # the prior is worth this many outreaches at the parent's rate
INTERVAL = 0.90
DRAWS = 4000
ALL = "all"  # the dimension of a method's own rate, over every segment
DIMENSIONS = ("sector", "country", "campaign", "warmness", "step")
# What a row can suggest doing next, in today's order of the row's buttons (ties keep this order).
SUGGESTIBLE = ("linkedin", "email", "call")
# Ranking points: this many per doubling of the team's rate, within these bounds.
POINTS_PER_DOUBLING = 25.0
MIN_POINTS, MAX_POINTS = -50.0, 75.0


@dataclass(frozen=True)
class Count:
    """Outreach in one cell (method × segment), the meetings that followed, and how many contacts they touched."""

    dimension: str
    value: str
    method: str
    outreach: int
    meetings: int
    contacts: int = 0
    label: str = ""


@dataclass(frozen=True)
class Rate:
    dimension: str
    value: str
    label: str
    method: str
    outreach: int
    meetings: int
    contacts: int
    rate: float
    low: float
    high: float
    lift: float  # log-odds above the parent's rate: the team's (dimension `all`) or the method's


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def team_rate(outreach: int, meetings: int) -> float:
    """The team's rate, kept off 0 and 1 (half a meeting and half a miss of prior) so that log-odds exist."""
    return (meetings + 0.5) / (outreach + 1)


def shrunk(meetings: int, outreach: int, parent: float, strength: float = PRIOR_STRENGTH) -> tuple[float, float]:
    """The posterior Beta(α, β) of a count under a prior at `parent` worth `strength` outreaches."""
    return meetings + strength * parent, outreach - meetings + strength * (1 - parent)


def intervals(alphas: np.ndarray, betas: np.ndarray, level: float = INTERVAL) -> tuple[np.ndarray, np.ndarray]:
    """The equal-tailed `level` intervals of Beta(α, β) for each pair, from seeded draws (no scipy needed)."""
    if len(alphas) == 0:
        return np.empty(0), np.empty(0)
    draws = np.random.default_rng(0).beta(alphas[:, None], betas[:, None], size=(len(alphas), DRAWS))
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=1)
    return low, high


def fit(
    counts: Iterable[Count], total_outreach: int, total_meetings: int, strength: float = PRIOR_STRENGTH
) -> list[Rate]:
    """Every cell's shrunk rate, interval and lift; cells of dimension ALL are the methods' own counts."""
    cells = list(counts)
    p0 = team_rate(total_outreach, total_meetings)
    method_rate: dict[str, float] = {}
    alphas, betas, rates, lifts = [], [], [], []
    for c in sorted(cells, key=lambda c: c.dimension != ALL):  # the methods' own rates first: they are parents
        parent = p0 if c.dimension == ALL else method_rate.get(c.method, p0)
        a, b = shrunk(c.meetings, c.outreach, parent, strength)
        rate = a / (a + b)
        if c.dimension == ALL:
            method_rate[c.method] = rate
        alphas.append(a)
        betas.append(b)
        rates.append(rate)
        lifts.append(logit(rate) - logit(parent))
    ordered = sorted(cells, key=lambda c: c.dimension != ALL)
    low, high = intervals(np.array(alphas), np.array(betas))
    return [
        Rate(c.dimension, c.value, c.label or c.value, c.method, c.outreach, c.meetings, c.contacts, r, lo, hi, lift)
        for c, r, lo, hi, lift in zip(ordered, rates, low.tolist(), high.tolist(), lifts, strict=True)
    ]


def chances(
    p0: float, lifts: Mapping[tuple[str, str], Mapping[str, float]], segments: Mapping[str, str]
) -> dict[str, float]:
    """Each suggestible method's chance of a meeting for a contact in `segments` (dimension → value).
    `lifts` maps (dimension, value) → method → lift, as stored."""
    keys = [(ALL, "")] + [(d, v) for d, v in segments.items() if v is not None]
    return {m: sigmoid(logit(p0) + sum(lifts.get(k, {}).get(m, 0.0) for k in keys)) for m in SUGGESTIBLE}


def best(chance: Mapping[str, float]) -> str:
    """The method most likely to work; a tie keeps the buttons' usual order."""
    return max(SUGGESTIBLE, key=lambda m: (chance.get(m, 0.0), -SUGGESTIBLE.index(m)))


def points(chance: float, p0: float) -> float:
    """Ranking points for a contact whose best method has this chance: POINTS_PER_DOUBLING per doubling of the
    team's rate, bounded; 0 at the team's rate (and so on a cold start)."""
    return min(max(POINTS_PER_DOUBLING * math.log2(chance / p0), MIN_POINTS), MAX_POINTS)

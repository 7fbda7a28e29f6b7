"""The words of a learned rate: which segment, and why a method comes first for a contact."""

from __future__ import annotations

from collections.abc import Mapping

from core.learning.model import ALL, SUGGESTIBLE
from core.validation import METHOD_LABELS

NOTABLE_RATIO = 1.2  # below this, two methods' rates are not worth comparing aloud


def segment_phrase(dimension: str, label: str) -> str:
    """“for Fintech contacts”, “for contacts in Germany”, “in campaign Spring”, “at cadence step 2”."""
    if dimension == "sector":
        return f"for {label} contacts"
    if dimension == "country":
        return f"for contacts in {label}"
    if dimension == "campaign":
        return f"in campaign {label}"
    if dimension == "warmness":
        return f"for {label} contacts"
    if dimension == "step":
        return "for contacts on no cadence" if label == "none" else f"at cadence step {label}"
    return "across the team"


def segment_name(dimension: str, label: str) -> str:
    """A segment as a table row names it: “sector Fintech”, “step 2”, “all”."""
    return "all" if dimension == ALL else f"{dimension} {label}"


def times(ratio: float) -> str:
    return f"{ratio:.1f}×".replace(".0×", "×") if ratio < 2 else f"{ratio:.0f}×"


def method_name(method: str, start: bool = False) -> str:
    label = METHOD_LABELS.get(method, method)
    return label if start or label == "LinkedIn" else label.lower()


def why(best: str, team: float, chance: float, rates: Mapping[tuple[str, str], Mapping[str, float]]) -> str | None:
    """The reason a row gives for its learned points and its first button, from the rates of the contact's
    segments ((dimension, label) → method → rate): the segment where `best` stands out most against the
    runner-up, or, when the contact's chances are below the team's, the segment that says so."""
    if chance < team:
        low = min(((by_method[best], key) for key, by_method in rates.items() if best in by_method), default=None)
        if low is None:
            return None
        lowest, (dimension, label) = low
        return (
            f"{method_name(best, start=True)} led to a meeting for {lowest:.0%} of outreach "
            f"{segment_phrase(dimension, label)}, below the team's {team:.0%}"
        )
    if not any(best in by_method for by_method in rates.values()):
        return _untried(best, team, rates)
    found = []
    for (dimension, label), by_method in rates.items():
        others = [(by_method[m], m) for m in SUGGESTIBLE if m != best and m in by_method]
        if best in by_method and others:
            runner, other = max(others)
            found.append((by_method[best] / runner, dimension != ALL, dimension, label, other))
    if not found:
        return None
    ratio, _, dimension, label, other = max(found)
    if ratio < NOTABLE_RATIO:
        return None
    return (
        f"{method_name(best, start=True)} led to a meeting {times(ratio)} more often than {method_name(other)} "
        f"{segment_phrase(dimension, label)}"
    )


def _untried(best: str, team: float, rates: Mapping[tuple[str, str], Mapping[str, float]]) -> str | None:
    """`best` has no outreach yet here: it leads because the methods tried fall short of the team's rate."""
    low = min(
        ((rate, method, key) for key, by_method in rates.items() for method, rate in by_method.items()),
        default=None,
    )
    if low is None or low[0] * NOTABLE_RATIO > team:
        return None
    rate, method, (dimension, label) = low
    return (
        f"{method_name(method, start=True)} led to a meeting for {rate:.0%} of outreach "
        f"{segment_phrase(dimension, label)}, below the team's {team:.0%}: {method_name(best)} is untried there"
    )

"""Counts in replies agree with their nouns."""

from __future__ import annotations

import pytest

from core.wording import plural


@pytest.mark.parametrize(
    "count, noun, said",
    [
        (0, "duplicate", "0 duplicates"),
        (1, "duplicate", "1 duplicate"),
        (2, "duplicate", "2 duplicates"),
        (1, "row", "1 row"),
        (3, "blank row", "3 blank rows"),
        (2, "match", "2 matches"),
        (2, "sync", "2 syncs"),
        (2, "activity", "2 activities"),
        (2, "follow-up", "2 follow-ups"),
        (2, "person", "2 people"),
    ],
)
def test_one_is_singular_and_every_other_count_plural(count, noun, said):
    assert plural(count, noun, "people" if noun == "person" else None) == said

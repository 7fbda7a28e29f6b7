"""Counting words in replies: “1 duplicate”, “2 duplicates”."""

from __future__ import annotations

import re


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`count` and its noun, singular for exactly one: plural(1, "row") is “1 row”, plural(3, "row") “3 rows”.

    The last word of a phrase takes the plural (“warm contact” → “warm contacts”): an s, es after s, x, ch
    and sh, ies for a y after a consonant; `nouns` names any other plural.
    """
    if count == 1:
        return f"1 {noun}"
    return f"{count} {nouns or _plural_of(noun)}"


def _plural_of(noun: str) -> str:
    if re.search(r"(s|x|ch|sh)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"

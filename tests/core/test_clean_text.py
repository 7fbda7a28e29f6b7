"""A typed or imported text is tidied the same way everywhere: its whitespace, of any kind, as single spaces."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.validation import clean_text


def test_every_kind_of_whitespace_becomes_one_space_and_none_is_left_at_the_ends():
    typed = "\u00a0 Ana\t\tda\nSilva\u2003\u3000Lima \u001c\r\n"
    assert clean_text(typed, field="name", max_length=200) == "Ana da Silva Lima"


def test_a_text_of_whitespace_alone_is_empty():
    assert clean_text(" \u2028\t", field="title", max_length=200) is None
    with pytest.raises(InvalidInput, match="The name can't be empty."):
        clean_text("\u00a0\u3000", field="name", max_length=200, required=True)

"""A country as people type it: read into its ISO code, or refused; never a guess between two countries."""

import pytest

from core.countries import country_code, country_name
from core.errors import InvalidInput


@pytest.mark.parametrize(
    "typed, code",
    [
        ("France", "FR"),
        ("fr", "FR"),
        ("FRA", "FR"),
        ("Deutschland", "DE"),
        ("espana", "ES"),
        ("Pays-Bas", "NL"),
        ("Schweiz", "CH"),
        ("UK", "GB"),
        ("USA", "US"),
        ("South Korea", "KR"),
        ("Ivory Coast", "CI"),
        ("côte d'ivoire", "CI"),
        ("Portgual", "PT"),
        ("  the Netherlands ", "NL"),
    ],
)
def test_names_codes_and_one_typo_are_read(typed, code):
    assert country_code(typed) == code


@pytest.mark.parametrize("typed", ["Atlantis", "Korea", "Austrlia", "zz", "", "Nigeri"])
def test_a_country_not_known_for_sure_is_refused_in_one_line(typed):
    with pytest.raises(InvalidInput, match="I don't know the country") as refused:
        country_code(typed)
    assert "\n" not in str(refused.value)


def test_a_code_is_shown_by_the_english_name_people_use():
    assert [country_name(c) for c in ("PT", "GB", "KR", "TW")] == [
        "Portugal",
        "United Kingdom",
        "South Korea",
        "Taiwan",
    ]

"""Countries: a contact's country is kept as its ISO 3166-1 alpha-2 code and shown by its English name.

People type it as they say it: a name in English, French, German, Spanish, Portuguese, Italian or Dutch, with or
without accents (`Deutschland`, `espana`), a two- or three-letter code (`fr`, `PRT`), a usual short name (`UK`,
`Russia`, `Ivory Coast`), or a name one typo off (`Portgual`). Anything else is refused, never guessed.
"""

from __future__ import annotations

import difflib
import gettext
import re
import unicodedata
from functools import cache

import pycountry

from core.echo import quoted
from core.errors import InvalidInput

LANGUAGES = ("fr", "de", "es", "pt", "it", "nl")
# Names people use that the standard doesn't give.
_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "america": "US",
    "u s": "US",
    "u s a": "US",
    "holland": "NL",
    "russia": "RU",
    "turkey": "TR",
    "ivory coast": "CI",
    "czech republic": "CZ",
    "south korea": "KR",
    "north korea": "KP",
    "vatican": "VA",
    "laos": "LA",
    "syria": "SY",
    "macedonia": "MK",
    "moldova": "MD",
    "tanzania": "TZ",
    "palestine": "PS",
    "dr congo": "CD",
    "drc": "CD",
}
# How sure a name one typo off must be to be taken (difflib's ratio), and the shortest such name.
TYPO_CUTOFF = 0.85
TYPO_MIN_LENGTH = 5


def _key(text: str) -> str:
    """`Côte d'Ivoire` → `cote d ivoire`: no accents, no case, punctuation as spaces, no leading `the`."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", plain.casefold()).split()
    return " ".join(words[1:] if words[:1] == ["the"] and len(words) > 1 else words)


@cache
def _codes_by_key() -> dict[str, str]:
    """Every way of writing a country this module reads, to its code; a key two countries share is left out."""
    english: list[tuple[str, str]] = []  # (code, English name)
    ranked: list[list[tuple[str, str]]] = [[], [], [], []]  # codes and aliases; English; other languages; short
    for country in pycountry.countries:
        code = country.alpha_2
        names = {country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)}
        ranked[0] += [(country.alpha_2, code), (country.alpha_3, code)]
        for name in filter(None, names):
            english.append((code, name))
            ranked[1].append((name, code))
            if ", " in name:  # `Korea, Republic of`: `Republic of Korea`, and `Korea` if no other country is
                before, after = name.split(", ", 1)
                ranked[1].append((f"{after} {before}", code))
                ranked[3].append((before, code))
    ranked[0] += [(alias, code) for alias, code in _ALIASES.items()]
    for language in LANGUAGES:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
        ranked[2] += [(translation.gettext(name), code) for code, name in english]
    found: dict[str, str] = {}
    for level in ranked:
        codes: dict[str, set[str]] = {}
        for text, code in level:
            if (key := _key(text)) and key not in found:
                codes.setdefault(key, set()).add(code)
        found.update({key: next(iter(c)) for key, c in codes.items() if len(c) == 1})
    return found


def country_code(text: str) -> str:
    """The alpha-2 code of a country as typed (`Portugal`, `pt`, `Deutschland`); InvalidInput otherwise."""
    key = _key(text)
    codes = _codes_by_key()
    if code := codes.get(key):
        return code
    if len(key) >= TYPO_MIN_LENGTH:
        close = difflib.get_close_matches(key, [k for k in codes if len(k) >= TYPO_MIN_LENGTH], 3, TYPO_CUTOFF)
        if close and len({codes[k] for k in close}) == 1:
            return codes[close[0]]
    raise InvalidInput(
        f"I don't know the country {quoted(text.strip(), 40)}: say its name (Portugal) or its two-letter code (PT)."
    )


def country_name(code: str) -> str:
    """The English name people use for the country of an alpha-2 code (`KR` → `South Korea`)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name

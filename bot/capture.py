"""Free text read as an interaction: who, how, what came of it, when to follow up, offline.

`read_interaction("coffee with Ana, follow up in 3 weeks", now)` gives contact Ana, method meeting and a reminder
21 days on. English, French, German, Spanish and Portuguese; dates and times are dateparser's, the words for
methods, outcomes, warmth and meetings are the small tables below. Nothing is written: this only reads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from dateparser.search import search_dates

from core.vocabulary import ACTIVITY_KINDS, OUTCOMES

LANGUAGES = ["en", "fr", "de", "es", "pt"]

# Words are matched accent-folded and lower-cased, as whole words; each string is one language's, "|" between.
METHOD_WORDS: dict[str, tuple[str, ...]] = {
    "call": (
        "call|called|calling|rang|phoned|phone call|voicemail",
        "appele|appel|telephone|coup de fil",
        "angerufen|anruf|telefoniert|telefonat",
        "llame|llamada|llamar|telefonee",
        "liguei|ligacao|ligar|telefonei|chamada",
    ),
    "email": (
        "email|emailed|e-mail|e-mailed|mailed|mail|emails",
        "courriel|mail envoye",
        "gemailt|e-mail geschickt|mail geschickt",
        "correo|escribi",
        "emailei|mandei email",
    ),
    "linkedin": ("linkedin|inmail|li message",),
    "meeting": (
        "coffee|lunch|dinner|breakfast|drinks|met|meeting with|spoke|talked|chatted",
        "cafe|dejeuner|diner|rencontre|rencontree|vu|vue",
        "kaffee|mittagessen|getroffen|treffen mit|gesprochen",
        "almuerzo|comida|cena|reunion con|conoci|hable",
        "almoco|jantar|conheci|encontrei|falei",
    ),
    "referral": ("referred|referral|intro|introduced", "recommande", "empfohlen", "recomendado", "indicacao"),
    "conference": ("conference|booth|conf", "salon", "konferenz|messe", "congreso|feria", "feira"),
}
OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "no_answer": (
        "no answer|no reply|no response|didn't pick up|did not pick up|left a voicemail",
        "pas de reponse|sans reponse|repondeur",
        "keine antwort|nicht erreicht|mailbox",
        "sin respuesta|no contesto|buzon",
        "sem resposta|nao atendeu|caixa postal",
    ),
    "replied": ("replied|got back to me|answered", "a repondu", "hat geantwortet", "respondio", "respondeu"),
    "not_interested": (
        "not interested",
        "pas interesse|pas interessee",
        "kein interesse|nicht interessiert",
        "no le interesa|no interesado|no interesada",
        "sem interesse|nao tem interesse|nao interessado|nao interessada",
    ),
}
WARM_WORDS = (
    "warm|interested|keen|hot|promising",
    "chaud|chaude|interesse|interessee|motive|motivee",
    "interessiert|heiss",
    "interesado|interesada|caliente",
    "interessado|interessada|quente",
)
MEETING_WORDS: dict[str, tuple[str, ...]] = {
    "booked": (
        "meeting booked|booked a meeting|meeting set|meeting scheduled|demo booked|booked",
        "rdv pris|rendez-vous pris|rdv fixe|reunion calee|rdv cale",
        "termin vereinbart|termin steht|termin gebucht",
        "reunion agendada|reunion cerrada|cita agendada",
        "reuniao marcada|reuniao agendada|marcamos reuniao",
    ),
    "requested": (
        "wants a meeting|asked for a meeting|meeting requested|wants to meet",
        "veut un rdv|demande un rdv|veut un rendez-vous",
        "mochte einen termin|will einen termin|termin angefragt",
        "quiere una reunion|pidio una reunion",
        "quer uma reuniao|pediu uma reuniao",
    ),
}
ABOUT_WORDS = ("about|re|regarding", "au sujet de|a propos de|sur", "uber|wegen", "sobre|acerca de", "sobre")
EVENT_WORDS = (
    "summit|conference|conf|expo|fair|forum|meetup|congress|festival|event|week|days",
    "salon",
    "messe",
    "feria|congreso",
    "feira",
)

assert set(METHOD_WORDS) <= set(ACTIVITY_KINDS) and set(OUTCOME_WORDS) <= set(OUTCOMES)


@dataclass(frozen=True)
class InteractionReading:
    contact: str | None  # the words naming the person, as written
    organisation: str | None  # "Acme" in "called Bob at Acme"; an event goes to the note instead
    method: str | None  # an outreach method, or "meeting" (a coffee, a lunch, met) from core.vocabulary's kinds
    outcome: str | None  # one of core.vocabulary's OUTCOMES when said
    follow_up: date | None  # the reminder day
    warm: bool
    meeting: str | None  # "requested" | "booked"
    meeting_at: datetime | None  # aware, in the zone of `now`, when a meeting day or time was said
    note: str  # what remains worth keeping; the whole line when nothing better


def fold(text: str) -> str:
    """Lower-cased without accents, one character for one, so positions match the text's."""
    return "".join(unicodedata.normalize("NFKD", c)[0].lower()[0] for c in unicodedata.normalize("NFC", text))


def _table(languages: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern matching any of the languages' words, the longest first."""
    words = {word for language in languages for word in language.split("|")}
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


_METHODS = {method: _table(words) for method, words in METHOD_WORDS.items()}
_OUTCOMES = {outcome: _table(words) for outcome, words in OUTCOME_WORDS.items()}
_WARM = _table(WARM_WORDS)
_MEETINGS = {kind: _table(words) for kind, words in MEETING_WORDS.items()}
_ABOUT = _table(ABOUT_WORDS)
_NAME_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*")


def read_interaction(text: str, now: datetime) -> InteractionReading | None:
    """None when the line does not look like an interaction at all (no person and no method)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    folded = fold(text)
    method = _first(_METHODS, folded)
    outcome = _first(_OUTCOMES, folded)
    meeting = _first(_MEETINGS, folded)
    warm = bool(_WARM.search(folded)) and outcome != "not_interested"
    contact = _contact(text, folded)
    if contact is None and method is None:
        return None
    follow_up, meeting_at = _dates(text, now, meeting is not None)
    if meeting == "booked" and outcome is None:
        outcome = "meeting_booked"
    elif meeting == "requested" and outcome is None:
        outcome = "meeting_requested"
    return InteractionReading(
        contact=contact,
        organisation=None,
        method=method,
        outcome=outcome,
        follow_up=follow_up,
        warm=warm,
        meeting=meeting,
        meeting_at=meeting_at,
        note=_note(text, folded),
    )


def _first(tables: dict[str, re.Pattern[str]], folded: str) -> str | None:
    found = [(m.start(), key) for key, pattern in tables.items() if (m := pattern.search(folded))]
    return min(found)[1] if found else None


def _contact(text: str, folded: str) -> str | None:
    for match in _NAME_TOKEN.finditer(text):
        word = match.group()
        if word[0].isupper() and not any(p.fullmatch(fold(word)) for p in (*_METHODS.values(), _WARM)):
            return word
    return None


def _dates(text: str, now: datetime, meeting: bool) -> tuple[date | None, datetime | None]:
    base = now.replace(tzinfo=None)
    found = search_dates(
        text,
        languages=LANGUAGES,
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "RETURN_AS_TIMEZONE_AWARE": False},
    )
    for _, when in found or []:
        if when.date() < base.date():
            continue
        if meeting:
            return None, when.replace(tzinfo=now.tzinfo)
        return when.date(), None
    return None, None


def _note(text: str, folded: str) -> str:
    about = _ABOUT.search(folded)
    if about:
        rest = re.split(r"[,;.!?]", text[about.end() :], maxsplit=1)[0].strip()
        if rest:
            return rest
    return text

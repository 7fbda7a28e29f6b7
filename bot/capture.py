"""Free text read as an interaction: who, how, what came of it, when to follow up, offline.

`read_interaction("coffee with Ana, follow up in 3 weeks", now)` gives contact Ana, method meeting and a reminder
21 days on. English, French, German, Spanish and Portuguese: dates and times are dateparser's (offline, its
language data loaded once); the words for methods, outcomes, warmth, meetings and the little words around names
are the tables below, matched accent-folded and lower-cased, a misspelt word (one letter off) read as the word it
is closest to. Nothing is written: this only reads.

How a line is read: it is cut into clauses (at commas, full stops, dashes), the table phrases are found (the
longest first), the person is the first run of capitalised words that is no table word (or, with no capitalised
name in the line, the word right after a method: "called bob"), an organisation is a capitalised run after
at / from / chez / bei / von / de / da, unless it is an event (WebSummit, "the Fintech Summit": that goes to the
note). The first method said wins, except that talking and writing give way to a channel said later ("spoke with
Ahmad on the phone" is a call). A day with a time of day in a clause about a meeting is the meeting's time; any
other coming day is the reminder, unless it is past or says when something was done ("met Ana on Monday").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from dateparser.search import search_dates

from core.vocabulary import ACTIVITY_KINDS, OUTCOMES

LANGUAGES = ["en", "fr", "de", "es", "pt"]
MAX_READ = 1000  # characters of a line read (a chat line is shorter; a pasted page is not read whole)
_DATE_SETTINGS = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}

# (kind, value) → phrases, one string per language (en, fr, de, es, pt) with "|" between phrases; folded spelling.
PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("method", "call"): (
        "call|called|calling|calld|rang|phoned|phone|phone call|ring|video call",
        "appele|appelee|appel|coup de fil|telephone|au telephone",
        "angerufen|anruf|anrufen|telefoniert|telefonat|am telefon",
        "llame|llamada|llamar|telefonee|telefono|por telefono",
        "liguei|ligacao|ligar|telefonei|chamada|telefone|por telefone",
    ),
    ("method", "email"): (
        "email|emailed|emails|e-mail|e-mailed|mailed|mail",
        "courriel|emaile|mail envoye",
        "gemailt",
        "correo|correo electronico",
        "emailei",
    ),
    ("method", "linkedin"): ("linkedin|inmail|li message|li msg", "", "", "", ""),
    ("method", "meeting"): (
        "coffee|lunch|dinner|breakfast|drinks|met|met with|meeting with|zoom|teams call|google meet",
        "cafe|dejeuner|dej|diner|rencontre|rencontree|rdv avec|rendez-vous avec|visio",
        "kaffee|mittagessen|essen|getroffen|treffen|treffen mit",
        "almuerzo|comida|cena|desayuno|reunion con|conoci",
        "almoco|jantar|conheci|encontrei|reuniao com",
    ),
    ("method", "referral"): (
        "referred|referral|intro|introduced",
        "recommande|recommandee",
        "empfohlen",
        "recomendado|recomendada",
        "indicacao|indicado|indicada",
    ),
    ("talk", "meeting"): (
        "spoke|talked|chatted|had a chat",
        "parle|discute",
        "gesprochen",
        "hable|hablamos",
        "falei|falamos|conversei",
    ),
    ("talk", "email"): (
        "wrote|sent",
        "ecrit|envoye",
        "geschrieben|geschickt",
        "escribi|mande",
        "escrevi|mandei|enviei",
    ),
    ("talk", ""): ("pinged|messaged|texted|dmed|dm'd", "contacte|contactee", "kontaktiert", "contacte", "contactei"),
    ("talk", "conference"): (
        "conference|conf|booth",
        "conference|salon",
        "konferenz|messe",
        "congreso|feria",
        "congresso|feira",
    ),
    ("outcome", "no_answer"): (
        "no answer|no reply|no response|didn't pick up|did not pick up|voicemail|left a voicemail|left a message",
        "pas de reponse|sans reponse|repondeur|laisse un message",
        "keine antwort|nicht erreicht|mailbox",
        "sin respuesta|no contesto|buzon|buzon de voz|deje mensaje",
        "sem resposta|nao atendeu|caixa postal|deixei recado",
    ),
    ("outcome", "replied"): (
        "replied|got back to me|answered",
        "a repondu|repondu",
        "hat geantwortet|geantwortet",
        "respondio|contesto",
        "respondeu",
    ),
    ("outcome", "not_interested"): (
        "not interested|no interest",
        "pas interesse|pas interessee|pas interesses",
        "kein interesse|nicht interessiert",
        "no le interesa|no interesado|no interesada",
        "sem interesse|nao tem interesse|nao interessado|nao interessada",
    ),
    ("warm", ""): (
        "warm|interested|keen|hot|promising|very interested",
        "chaud|chaude|interesse|interessee|motive|motivee",
        "interessiert|heiss|heiß|interesse",
        "interesado|interesada|caliente",
        "interessado|interessada|quente",
    ),
    ("meeting", "booked"): (
        "meeting booked|booked a meeting|booked|meeting set|meeting scheduled|demo booked",
        "rdv pris|rendez-vous pris|rdv fixe|rdv cale|reunion calee",
        "termin vereinbart|termin steht|termin gebucht",
        "reunion agendada|reunion cerrada|cita agendada",
        "reuniao marcada|reuniao agendada",
    ),
    ("meeting", "requested"): (
        "meeting requested|wants a meeting|asked for a meeting|wants to meet|want to meet",
        "veut un rdv|veut un rendez-vous|demande un rdv|rdv a caler",
        "mochte einen termin|will einen termin|termin angefragt",
        "quiere una reunion|pidio una reunion",
        "quer uma reuniao|pediu uma reuniao",
    ),
    ("meeting_word", ""): ("meeting|demo", "rdv|rendez-vous|reunion", "termin|treffen", "reunion|cita", "reuniao"),
    ("follow", ""): (
        "follow up|follow-up|followup|try again|try|call back|ping|remind|check in|chase|send",
        "relancer|relance|rappeler|reessayer|recontacter",
        "nachfassen|nochmal|melden|erneut",
        "seguimiento|volver a llamar|otra vez|reenviar|intentar",
        "acompanhar|de novo|reenviar|tentar|retomar",
    ),
    ("about", ""): (
        "about|re|regarding|on",
        "au sujet de|a propos de|a propos du|sur|du",
        "uber|wegen",
        "sobre",
        "sobre",
    ),
    ("with", ""): ("with|w|to|and", "avec|a", "mit|an", "con|a", "com|para|pro|a|o"),
    ("at", ""): ("at|from|of", "chez|de|au|a|d", "bei|von|auf", "de|en", "da|do|de|na|no|em|num|numa"),
    ("greeting", ""): (
        "hello|hi|hey|thanks|thank you|thx|ok|okay|good morning|good evening|good night|yes|lol|cheers|bye",
        "bonjour|salut|merci|bonsoir|bonne nuit|a bientot",
        "hallo|danke|guten morgen|gute nacht|tschuss|bis bald",
        "hola|gracias|buenos dias|buenas noches|adios",
        "ola|obrigado|obrigada|bom dia|boa noite|tchau",
    ),
    ("past", ""): ("yesterday|last week|earlier", "hier", "gestern", "ayer", "ontem"),
}
# Small words that say nothing by themselves (never a name, never left over for the note).
STOPWORDS = (
    "a|an|the|he|she|him|her|they|them|his|their|our|we|i|me|my|is|was|has|had|have|it|it's|he's|she's|she'll|"
    "he'll|very|again|yet|also|just|quick|said|for|in|by|via|up|back|lead|what|how|can|you|do|does|this|that|"
    "there|will|would|asked|wants|want|then|today|now|right|next|mr|mrs|ms|dr|msg|message|dm|"
    "le|la|les|l|un|une|il|elle|est|tres|pour|moment|avec|des|"
    "der|die|das|dem|den|ein|eine|einen|einem|einer|er|sie|sehr|hat|ist|uber|"
    "el|los|las|un|una|ella|muy|le|por|mensaje|"
    "o|os|as|um|uma|ele|ela|muito|mensagem|nachricht|herr|herrn|frau|sr|sra|mme"
)
# Events a person is met at: not their organisation. A capitalised run holding one of these words is an event.
EVENT_WORDS = (
    "summit|websummit|conference|conf|expo|fair|forum|meetup|congress|festival|event|week|days|party|booth|"
    "salon|messe|konferenz|feria|congreso|feira|congresso|evento|evenement|"
    "saastr|slush|vivatech|ces|mwc|collision|dreamforce|sxsw|disrupt"
)
HONORIFICS = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Mme|Sr|Sra|Herrn?|Frau)\b\.?\s+")
# Rewrites for the date parser's sake: clock times to HH:MM, phrases it does not read to ones it does.
_CLOCK = re.compile(r"^(\d{1,2})h(\d{2})?$")
_DATE_PHRASES = {
    "pasado manana": "in 2 days",
    "depois de amanha": "in 2 days",
    "day after tomorrow": "in 2 days",
    "la semaine prochaine": "next week",
    "semaine prochaine": "next week",
    "la semana que viene": "next week",
    "semana que viene": "next week",
    "semana que vem": "next week",
}
_DATE_SHORT = {"wks": "weeks", "wk": "week", "tmrw": "tomorrow", "tmw": "tomorrow", "tmr": "tomorrow"}
_DATE_WORDS = set(
    (
        "today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|"
        "thur|thurs|fri|sat|sun|week|weeks|day|days|month|months|fortnight|january|february|march|april|may|june|"
        "july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
        "aujourd'hui|demain|apres-demain|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|semaine|semaines|"
        "jour|jours|mois|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
        "heute|morgen|ubermorgen|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|woche|wochen|tag|"
        "tage|tagen|monat|monate|monaten|januar|februar|marz|juni|juli|oktober|dezember|nachste|nachsten|"
        "hoy|manana|lunes|martes|miercoles|jueves|viernes|sabado|domingo|semana|semanas|dia|dias|mes|meses|"
        "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|proxima|"
        "proximo|hoje|amanha|segunda|terca|quarta|quinta|sexta|segunda-feira|terca-feira|quarta-feira|"
        "quinta-feira|sexta-feira|janeiro|fevereiro|marco|maio|junho|julho|setembro|outubro|novembro|dezembro|"
        "mes|meses"
    ).split("|")
)
# Verbs that tell what was done: a day in their clause says when it happened, not when to follow up.
_DONE = set(
    (
        "called|calld|rang|phoned|emailed|e-mailed|mailed|met|spoke|talked|chatted|wrote|sent|pinged|messaged|texted|"
        "appele|appelee|telephone|emaile|rencontre|rencontree|parle|discute|ecrit|envoye|contacte|contactee|"
        "angerufen|telefoniert|gemailt|getroffen|gesprochen|geschrieben|geschickt|kontaktiert|"
        "llame|telefonee|conoci|hable|hablamos|escribi|mande|"
        "liguei|telefonei|emailei|conheci|encontrei|falei|falamos|conversei|escrevi|mandei|enviei|contactei"
    ).split("|")
)
# Weekdays shortened, read as days only beside a time of day ("Do 10:00"): alone they are other words.
_DAY_ABBREVIATIONS = set(
    "mo|di|mi|do|fr|sa|so|lun|mar|mer|jeu|ven|sam|dim|mie|jue|vie|sab|dom|seg|ter|qua|qui|sex".split("|")
)
_WEEKDAYS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

assert {value for kind, value in PHRASES if kind == "method"} <= set(ACTIVITY_KINDS)
assert {value for kind, value in PHRASES if kind == "outcome"} <= set(OUTCOMES)


@dataclass(frozen=True)
class InteractionReading:
    contact: str | None  # the words naming the person, as written
    organisation: str | None  # "Acme" in "called Bob at Acme"; an event goes to the note instead
    method: str | None  # an OUTREACH_METHOD, or "meeting" (a coffee, a lunch, met): an ACTIVITY_KIND, not an outreach
    outcome: str | None  # one of core.vocabulary's OUTCOMES when said (a meeting booked or requested is one)
    follow_up: date | None  # the reminder day
    warm: bool
    meeting: str | None  # "requested" | "booked"
    meeting_at: datetime | None  # aware, in `now`'s zone, when its time of day was said (a day alone is follow_up)
    note: str  # what remains worth keeping; the whole line when nothing better


def fold(text: str) -> str:
    """Lower-cased without accents, one character for one."""
    return "".join(unicodedata.normalize("NFKD", c)[0].lower()[0] for c in text).replace("’", "'")


def _phrases() -> dict[tuple[str, ...], tuple[str, str]]:
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for meaning, languages in PHRASES.items():
        for language in languages:
            for phrase in filter(None, language.split("|")):
                table.setdefault(tuple(phrase.replace("-", " - ").split()), meaning)
    return table


_TABLE = _phrases()
_LONGEST = max(len(words) for words in _TABLE)
_STOP = set(STOPWORDS.split("|"))
_EVENTS = set(EVENT_WORDS.split("|"))
_KNOWN = {word for words in _TABLE for word in words} | _STOP | _DATE_WORDS
# Words a misspelling is put right to: the table's and the dates' words of four letters or more.
_TARGETS = sorted(w for w in ({w for words in _TABLE for w in words} | _DATE_WORDS) - _STOP if len(w) >= 4)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} | {word}


_NEAR: dict[str, list[str]] = {}
for _target in _TARGETS:
    for _key in _deletions(_target):
        _NEAR.setdefault(_key, []).append(_target)

_TOKEN = re.compile(r"\d{1,2}:\d{2}|[^\W_]+(?:['’-][^\W_]+)*")
_BREAK = re.compile(r"[,;!?()\[\]]|\.(?:\s|$)|\s[-–—]\s|:\s|\s[-–—]$")


@dataclass
class _Token:
    text: str  # as written
    word: str  # folded, put right when misspelt
    start: int
    end: int
    clause: int
    meaning: tuple[str, str] | None = None
    role: str = ""  # contact, organisation, event, date

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() and not (len(self.text) > 1 and self.text.isupper())

    @property
    def known(self) -> bool:
        return self.word in _KNOWN


@dataclass
class _Line:
    text: str
    tokens: list[_Token]
    hits: list[tuple[int, int, tuple[str, str]]] = field(default_factory=list)  # token span [i, j), meaning

    def first(self, kind: str) -> tuple[int, str] | None:
        return next(((i, value) for i, _, (k, value) in self.hits if k == kind), None)

    def kinds_in(self, clause: int) -> set[str]:
        return {k for i, _, (k, _) in self.hits if self.tokens[i].clause == clause}


def read_interaction(text: str, now: datetime) -> InteractionReading | None:
    """None when the line does not look like an interaction at all (no person and no method)."""
    written = " ".join(unicodedata.normalize("NFC", text).split())
    line = _tokenise(HONORIFICS.sub("", written[:MAX_READ]))
    _find_phrases(line)
    contact = _contact(line)
    method = _method(line)
    if contact is None and method is None:
        return None
    organisation = _organisation(line)
    outcome = line.first("outcome")
    meeting = line.first("meeting")
    warm = line.first("warm") is not None
    follow_up, meeting_at, time_said_for_meeting = _dates(line, now, meeting is not None)
    meeting_kind = meeting[1] if meeting else ("booked" if time_said_for_meeting else None)
    outcome_value = outcome[1] if outcome else (f"meeting_{meeting_kind}" if meeting_kind else None)
    return InteractionReading(
        contact=contact,
        organisation=organisation,
        method=method,
        outcome=outcome_value,
        follow_up=follow_up,
        warm=warm and outcome_value != "not_interested",
        meeting=meeting_kind,
        meeting_at=meeting_at,
        note=_note(line) or written,
    )


def _tokenise(text: str) -> _Line:
    breaks = [m.start() for m in _BREAK.finditer(text)]
    tokens = []
    for match in _TOKEN.finditer(text):
        folded = fold(match.group())
        clause = sum(1 for b in breaks if b < match.start())
        tokens.append(_Token(match.group(), _put_right(folded, match.group()), match.start(), match.end(), clause))
    return _Line(text, tokens)


def _put_right(folded: str, written: str) -> str:
    """A word one letter off a table or date word (a letter missing, extra, wrong or two swapped) is that word."""
    if folded in _KNOWN or len(folded) < 5 or written[:1].isupper():
        return folded
    candidates = {target for key in _deletions(folded) for target in _NEAR.get(key, ())}
    candidates = {c for c in candidates if abs(len(c) - len(folded)) <= 1 and _one_off(c, folded)}
    return min(candidates, key=lambda c: ((c,) not in _TABLE, abs(len(c) - len(folded)), c)) if candidates else folded


def _one_off(a: str, b: str) -> bool:
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]])
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _find_phrases(line: _Line) -> None:
    """The table's phrases in the line, the longest first at each place, never across a clause."""
    tokens, i = line.tokens, 0
    while i < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
            span = tokens[i : i + size]
            if span[-1].clause != span[0].clause:
                continue
            words = tuple(w for t in span for w in t.word.replace("-", " - ").split())
            meaning = _TABLE.get(words)
            if meaning:
                line.hits.append((i, i + size, meaning))
                for t in span:
                    t.meaning = meaning
                i += size
                break
        else:
            i += 1


def _name_like(token: _Token, after_anchor: bool = False) -> bool:
    """Capitalised and no table word; right after a method or "with", a small word too ("with Ella", "emailed Ola")."""
    if not token.capitalised or token.word.isdigit():
        return False
    small = len(token.word) <= 4 and (
        token.word in _STOP or (token.meaning is not None and token.meaning[0] in ("with", "at", "greeting"))
    )
    return (token.meaning is None and token.word not in _STOP) or (after_anchor and small)


def _contact(line: _Line) -> str | None:
    tokens = line.tokens
    anchors = {j for _, j, (kind, _) in line.hits if kind in ("method", "talk", "with", "follow")}
    methods = {j for _, j, (kind, _) in line.hits if kind in ("method", "talk")}
    for i, token in enumerate(tokens):
        after_anchor = i > 0 and (i in anchors or (i - 1 in anchors and tokens[i - 1].word in _STOP))
        after_at = i > 0 and tokens[i - 1].meaning is not None and tokens[i - 1].meaning[0] == "at"
        if token.role or (after_at and (i - 1 not in methods or token.word in _EVENTS)):
            continue
        date_word = token.word in _DATE_WORDS and token.meaning is None
        if _name_like(token, after_anchor or (after_at and i - 1 in methods)) and (not date_word or after_anchor):
            run = [token]
            for nxt in tokens[i + 1 : i + 3]:
                if nxt.clause != token.clause or not _name_like(nxt) or nxt.word in _DATE_WORDS:
                    break
                if nxt.start - run[-1].end > 1:
                    break
                run.append(nxt)
            for t in run:
                t.role = "contact"
            return line.text[run[0].start : run[-1].end]
    if not any(_name_like(t) and t.word not in _DATE_WORDS for t in tokens):
        for i, token in enumerate(tokens):
            if (i in methods or (i - 1 in methods and tokens[i - 1].word in _STOP)) and not token.known:
                if token.meaning is None and token.word.isalpha() and i > 0:
                    token.role = "contact"
                    return token.text
    return None


def _method(line: _Line) -> str | None:
    """The first channel said; talking, writing or an event only when no channel is ("spoke with Ahmad on the phone")."""
    strong = line.first("method")
    talk = next((value for _, _, (kind, value) in line.hits if kind == "talk" and value), None)
    return strong[1] if strong else talk


def _organisation(line: _Line) -> str | None:
    tokens = line.tokens
    for i, token in enumerate(tokens[:-1]):
        if token.meaning != ("at", ""):
            continue
        j = i + 1
        while (
            j < len(tokens)
            and tokens[j].word in _STOP
            and tokens[j].text.islower()
            and tokens[j].clause == token.clause
        ):
            j += 1
        run = []
        for t in tokens[j : j + 3]:
            if t.clause != token.clause or t.role or not any(c.isupper() for c in t.text):
                break
            if t.meaning and t.meaning[0] not in ("talk",) and t.word not in _EVENTS:
                break
            run.append(t)
        if not run:
            if j < len(tokens) and tokens[j].word in _EVENTS and tokens[j].clause == token.clause:
                tokens[j].role = "event"
            continue
        after = tokens.index(run[-1]) + 1
        following = [t for t in tokens[after : after + 1] if t.word in _EVENTS and t.clause == token.clause]
        event = bool(following) or any(t.word in _EVENTS or "summit" in t.word or "conf" in t.word for t in run)
        for t in run + following:
            t.role = "event" if event else "organisation"
        if not event:
            return line.text[run[0].start : run[-1].end]
    for i, token in enumerate(tokens[:-1]):
        if (
            token.role == "contact"
            and i + 1 < len(tokens)
            and line.text[token.end : tokens[i + 1].start].strip() == "("
        ):
            nxt = tokens[i + 1]
            if nxt.text[:1].isupper() and nxt.meaning is None:
                nxt.role = "organisation"
                return nxt.text
    return None


def _date_text(line: _Line) -> tuple[str, list[tuple[int, int]]]:
    """The line for the date parser (times as HH:MM, misspellings put right) and where each token is in it."""
    tokens, pieces, spans, cursor = line.tokens, [], [], 0
    for n, token in enumerate(tokens):
        gap = line.text[tokens[n - 1].end : token.start] if n else ""
        word = token.word if token.word != fold(token.text) else token.text.lower()
        nxt = tokens[n + 1].word if n + 1 < len(tokens) else ""
        prev = tokens[n - 1].word if n else ""
        if clock := _CLOCK.match(token.word):
            word = f"{clock.group(1)}:{clock.group(2) or '00'}"
        elif token.word.isdigit() and int(token.word) < 24 and (nxt == "uhr" or prev in ("las", "um", "at", "as")):
            word = f"{token.word}:00" if ":" not in token.text else word
        elif token.word in ("uhr", "las") or (token.word in ("um", "at", "as", "a") and _is_clock(nxt)):
            word = ""
        elif re.fullmatch(r"\d{1,2}(?:er|st|nd|rd|th|º|o)", token.word):
            word = re.sub(r"\D", "", token.word)
        elif token.word == "a" and nxt == "las":
            word = ""
        elif token.word in ("prochain", "prochaine") and prev in _WEEKDAYS:
            word = ""
        elif token.word in _DATE_SHORT:
            word = _DATE_SHORT[token.word]
        piece = gap + word if word else ""
        spans.append((cursor + len(gap), cursor + len(piece)))
        pieces.append(piece)
        cursor += len(piece)
    text = "".join(pieces)
    folded = fold(text)
    for phrase, plain in _DATE_PHRASES.items():
        if found := re.search(rf"\b{phrase}\b", folded):
            text = text[: found.start()] + plain.ljust(len(phrase)) + text[found.end() :]
            folded = fold(text)
    return text, spans


def _is_clock(word: str) -> bool:
    return bool(_CLOCK.match(word) or re.fullmatch(r"\d{1,2}:\d{2}", word)) or (word.isdigit() and int(word) < 24)


def _dates(line: _Line, now: datetime, meeting_said: bool) -> tuple[date | None, datetime | None, bool]:
    """The reminder day, the meeting's time, and whether a time of day was said in a clause about a meeting."""
    text, spans = _date_text(line)
    base = now.replace(tzinfo=None)
    found = search_dates(text, languages=LANGUAGES, settings={**_DATE_SETTINGS, "RELATIVE_BASE": base}) or []
    follow_ups: list[tuple[bool, int, date]] = []
    meeting_at, cursor = None, 0
    for said, when in found:
        at = text.find(said, cursor)
        if at < 0:
            continue
        cursor = at + len(said)
        inside = [t for t, (s, e) in zip(line.tokens, spans) if s < cursor and e > at and e > s]
        words = {fold(w) for w in re.findall(r"[^\W_]+(?:-[^\W_]+)*", fold(said))}
        clock = ":" in said or bool(re.search(r"\d\s?(?:am|pm)\b", said.lower()))
        named = any(
            t.capitalised and t.word not in _DATE_WORDS and not (clock and t.word in _DAY_ABBREVIATIONS) for t in inside
        )
        if not inside or named or any(t.role == "contact" for t in inside) or not (words & _DATE_WORDS or clock):
            continue
        for t in inside:
            t.role = t.role or "date"
        if any(t.meaning == ("past", "") for t in inside) or when.date() < base.date():
            continue
        clause = inside[0].clause
        kinds = line.kinds_in(clause)
        if when.date() == base.date() and "follow" not in kinds:
            continue
        done = any(t.clause == clause and t.word in _DONE and t.meaning for t in line.tokens)
        if done and not kinds & {"follow", "meeting", "meeting_word"}:
            continue
        about_meeting = "meeting" in kinds or "meeting_word" in kinds
        if clock and meeting_at is None and (about_meeting or (meeting_said and "follow" not in kinds)):
            meeting_at = when.replace(tzinfo=now.tzinfo)
        else:
            follow_ups.append(("follow" not in kinds, inside[0].start, when.date()))
    booked_by_time = meeting_at is not None and not meeting_said
    return (min(follow_ups)[2] if follow_ups else None), meeting_at, booked_by_time


def _note(line: _Line) -> str:
    """What the line says beyond who, how, when and the outcome: an event, what it was about, words left over."""
    parts: list[str] = []
    tokens = line.tokens
    first_event = next((n for n, t in enumerate(tokens) if t.role == "event"), None)
    if first_event is not None:
        last = first_event
        while last + 1 < len(tokens) and tokens[last + 1].role == "event":
            last += 1
        parts.append(line.text[tokens[first_event].start : tokens[last].end])
    for clause in sorted({t.clause for t in tokens}):
        inside = [t for t in tokens if t.clause == clause]
        about = next((n for n, t in enumerate(inside) if t.meaning == ("about", "")), None)
        rest = inside[about + 1 :] if about is not None else []
        before = inside[:about] if about is not None else inside
        left_over = [t for t in before if _unexplained(t)]
        if about is not None and rest and not left_over:
            parts.append(line.text[rest[0].start : rest[-1].end])
        elif left_over or (about is not None and any(_unexplained(t) for t in rest)):
            parts.append(line.text[inside[0].start : inside[-1].end])
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _unexplained(token: _Token) -> bool:
    return not token.role and token.meaning is None and token.word not in _STOP and token.word not in _DATE_WORDS

"""The one chat grammar: what a user types in Slack, Telegram or the console, read into a core command.

`parse("log 3 email sent the deck", actor, now)` gives `LogOutreach(actor, ContactRef(text="3"), "email",
"sent the deck")`. Adapters only move text in and results out; every word of the grammar lives here, so the
three surfaces understand exactly the same sentences. Bad input raises GrammarError, whose message is fit
to show the user as it is (it is an InvalidInput, like the core's own errors).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import available_timezones

from bot.when import WEEKDAYS, WHEN_FORMS, WhenError, parse_period, parse_time, parse_when, split_when
from core.analytics.commands import GetStrategyAnalytics
from core.cadences.commands import (
    AddStrategyStep,
    CreateStrategy,
    EditStrategyStep,
    GetCadenceStats,
    ListDueSteps,
    ListStrategies,
    PauseCadence,
    RemoveStrategyStep,
    RestartCadence,
    ResumeCadence,
    ShowStrategy,
    StartCadence,
    StopCadence,
)
from core.campaigns.commands import AddContactToCampaign, CreateCampaign, ListCampaigns, ShowCampaign, UpdateCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import (
    EDITABLE_FIELD_LIST,
    EDITABLE_FIELDS,
    AddContact,
    EditContact,
    FindContacts,
    FindInEveryBank,
    ListRemoved,
    PreviewMerge,
    PreviewRemoval,
    RestoreContact,
    ShowContact,
)
from core.deliveries.commands import ChooseDigestPlatform, PauseDigests, ResumeDigests
from core.echo import quoted
from core.errors import InvalidInput
from core.feed.commands import TodaySuggestions
from core.learning.commands import RATE_DIMENSIONS, ShowMethodRates
from core.outreach.commands import (
    AddNote,
    BookMeeting,
    CompleteFollowUp,
    FindLastUndoable,
    FlagWarm,
    LogOutreach,
    RecordInteraction,
    RequestMeeting,
    SetFollowUp,
    Snooze,
)
from core.privacy.commands import ExportContact, PreviewErasure
from core.rules.commands import SetOutcomeRule, ShowOutcomeRules
from core.stats.commands import GetHeatmap, GetStats
from core.sync.commands import ListSyncs, RetrySyncs
from core.users.commands import IssueLinkCode, ShowSettings, UpdateSettings
from core.validation import OUTREACH_METHODS, clean_timezone


@dataclass(frozen=True)
class Help:
    """Show the help: everything (topic None) or one verb's usage."""

    topic: str | None = None


@dataclass(frozen=True)
class AskEdit:
    """`edit CONTACT [FIELD]` without a value: the conversation asks for the field, then for the value."""

    contact: ContactRef
    field: str | None = None  # a column of EDITABLE_FIELDS' values


class GrammarError(InvalidInput):
    """I didn't understand that. Say `help` for everything I understand."""


class UnknownVerb(GrammarError):
    """The message doesn't start with a verb of the grammar (it may be an interaction told in words, see
    bot.capture). `suggestion`: the verb the first word looks like a typo of, if any."""

    def __init__(self, message: str, suggestion: str | None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True)
class _Verb:
    name: str
    syntax: str
    summary: str
    examples: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    takes_when: bool = False
    details: tuple[str, ...] = ()  # more usage lines, for a verb with sub-commands

    @property
    def usage(self) -> str:
        return f"{self.syntax} — {self.summary}"


_METHOD_LIST = ", ".join(OUTREACH_METHODS)
# `cadence SUB …`: each sub-command has its own usage, shown when it is misused and by `help cadence`.
CADENCE_USAGE = {
    "list": "cadence list — the cadences and their steps",
    "show": "cadence show NAME — a cadence's steps and message templates",
    "new": "cadence new NAME [| description] — create a cadence, then add its steps one by one",
    "step": "cadence step NAME DAYS KIND [subject |] message — add a step, DAYS working days after the previous "
    "one (or the start); `\\n` starts a new line",
    "edit-step": "cadence edit-step NAME N DAYS KIND [subject |] message — replace step N",
    "drop-step": "cadence drop-step NAME N — remove step N",
    "start": "cadence start NAME CONTACT | cadence start NAME campaign CAMPAIGN — start a cadence "
    '(quote a NAME of several words before a name: cadence start "Warm intro" Ana Silva)',
    "pause": "cadence pause|resume|restart|stop CONTACT — hold, go on with, start over or end a contact's cadence",
    "due": "cadence due — your steps due now, messages ready to copy",
    "stats": "cadence stats — by cadence: contacts started, replies, meetings, and where plans wait",
}
_GRAMMAR = (
    _Verb(
        "today",
        "today [campaign NAME] [warm] [stale N] [limit N]",
        "who to get in touch with next",
        ("today", "today campaign Fintech warm limit 5"),
        aliases=("list", "next"),
    ),
    _Verb(
        "add",
        "add NAME [email] [ORG] | add NAME at ORG | add NAME[, email][, organisation][, phone]",
        "add a contact",
        ("add Ana Silva ana@acme.com Acme", "add Bo Chen at Chen Ltd +44 20 7946 0958"),
    ),
    _Verb(
        "find",
        "find TEXT | find everyone TEXT",
        "search your contacts by name, email or organisation (everyone's: the Golden Ticket team)",
        ("find acme", "find ana"),
        aliases=("search",),
    ),
    _Verb(
        "show", "show CONTACT", "a contact's details and history", ("show 3", "show ana@acme.com"), aliases=("contact",)
    ),
    _Verb(
        "edit",
        "edit CONTACT FIELD VALUE",
        f"correct a contact's details ({EDITABLE_FIELD_LIST}); the answer has an Undo",
        ("edit 3 email ana@acme.com", 'edit "Ana Silva" org Acme Corp'),
        details=(
            "edit CONTACT warmness 0-5|cold|warm|hot — warm and hot flag the contact warm, as warm does",
            "edit CONTACT past business AMOUNT [CURRENCY] — e.g. 12000, 12k EUR, 1.5m USD",
            "edit CONTACT country NAME|CODE — e.g. Portugal, PT, Deutschland",
            "edit CONTACT FIELD - (or none) — empties an optional field",
            "edit CONTACT [FIELD] — without a value: asks which field, then the new value",
        ),
    ),
    _Verb(
        "remove",
        "remove CONTACT",
        "take a contact out of your bank: out of every list, its history kept (asks first; the answer has an Undo)",
        ("remove 3", "remove ana@acme.com"),
        aliases=("archive",),
    ),
    _Verb(
        "removed",
        "removed [TEXT]",
        "the contacts you removed from your bank (or those matching TEXT), each with a Restore button",
        ("removed", "removed acme"),
        aliases=("archived",),
    ),
    _Verb(
        "restore",
        "restore CONTACT",
        "put a removed contact back in your bank, as it was",
        ("restore 2", "restore ana@acme.com"),
        aliases=("unarchive",),
    ),
    _Verb(
        "merge",
        "merge CONTACT into CONTACT",
        "join two contacts of your bank into the second one: history, notes, reminders, cadence and campaigns "
        "(asks first)",
        ("merge 4 into 2", 'merge "Bob S" into bob@acme.com'),
        details=(
            "merge OTHER into KEEP — KEEP keeps its details, its empty ones filled from OTHER's; OTHER then leaves "
            "your bank. Pipedrive ids are kept; nothing is deleted in Pipedrive.",
        ),
    ),
    _Verb(
        "log",
        "log CONTACT METHOD [note]",
        f"log an outreach ({_METHOD_LIST})",
        ("log 3 linkedin", "log Ana Silva email sent the deck"),
        details=(
            "A note that starts with replied, no answer (or voicemail) or not interested records that "
            "outcome too: `log 3 call no answer`.",
            "A note that ends with follow up (or try again, remind me) and a WHEN sets that reminder too: "
            "`log ana call no answer, follow up in 3 weeks`.",
        ),
    ),
    _Verb(
        "note",
        "note CONTACT TEXT",
        "add a note (write `Ana Silva: text` for a name of several words)",
        ("note 3 prefers mornings", "note Ana Silva: met at the Fintech dinner"),
    ),
    _Verb("warm", "warm CONTACT [4|5]", "flag a contact as warm", ("warm 3", "warm ana 5")),
    _Verb(
        "meeting",
        "meeting CONTACT requested|booked [DATE] [note]",
        "record a meeting asked for or booked",
        ("meeting 3 requested", "meeting ana booked tomorrow 14:30 coffee at Acme"),
        takes_when=True,
    ),
    _Verb(
        "remind",
        "remind CONTACT WHEN [note]",
        "set a follow-up",
        ("remind 3 in 2 weeks", "remind ana next monday 9am send the proposal"),
        aliases=("followup", "follow-up"),
        takes_when=True,
    ),
    _Verb(
        "snooze",
        "snooze CONTACT WHEN",
        "keep a contact out of `today` until then",
        ("snooze 3 1m", "snooze ana 2026-12-01"),
        takes_when=True,
    ),
    _Verb("done", "done CONTACT", "close a contact's open follow-ups", ("done 3", "done ana@acme.com")),
    _Verb(
        "undo",
        "undo",
        "take back your last logged outreach (for a minute after logging it) or contact edit (for ten minutes)",
        ("undo",),
    ),
    _Verb(
        "stats",
        "stats [campaign NAME] [by user|method|campaign] "
        "[since DATE|this week|this month|last month|last 30d|all time]",
        "outreach and meeting numbers (this month unless you say otherwise); "
        "`stats heatmap campaign|method|user` draws them per week or weekday; `stats cadences` shows how each "
        "cadence converts; `stats methods` shows which method leads to a meeting, for whom",
        ("stats campaign Fintech by method last month", "stats heatmap campaign"),
        details=(
            "stats methods [sector|country|campaign|warmness|step] — the learned chance that each method leads to "
            "a meeting (overall, or per segment), with its 90% interval: what orders your list and its first "
            "button",
            "stats heatmap campaign|method|user [since DATE] — a picture of outreach per campaign or user × week "
            "(the last 12 weeks) or per method × weekday, shaded by meetings per outreach; by user, a consultant "
            "sees their own row",
            "stats cadences — each cadence's plans, meetings, the step where plans stall and the steps done on "
            "time, with a chart; `stats cadence NAME` the same step by step",
        ),
    ),
    _Verb("campaigns", "campaigns", "list the campaigns", ("campaigns",)),
    _Verb(
        "rules",
        "rules [set NAME DAYS|default]",
        "the team's rules from outcomes: after how many days no reply, a meeting not booked or a warm contact "
        "untouched show in `today` and nudge you (changing them is for the Golden Ticket team)",
        ("rules", "rules set meeting_not_booked_days 5"),
    ),
    _Verb(
        "campaign",
        "campaign new|edit|live|close|show|add NAME …",
        "run a campaign (creating and editing is for the Golden Ticket team)",
        (
            "campaign new Fintech sector fintech geo UK from 2026-12-01 to 2026-12-31",
            "campaign add Fintech ana@acme.com linkedin",
        ),
        details=(
            "campaign new NAME [sector X] [theme Y] [geo Z] [from DATE] [to DATE] [description TEXT]",
            "campaign edit NAME name|sector|theme|geo|from|to|description VALUE",
            "campaign live NAME · campaign close NAME",
            "campaign show NAME — its contacts, owners, last outreach, status and meetings",
            'campaign add NAME CONTACT [METHOD] — NAME is one word or "quoted"; '
            "the Golden Ticket team may add any bank's contact as #ID",
        ),
    ),
    _Verb(
        "cadence",
        "cadence [list|show|new|step|start|pause|resume|restart|stop|due|stats] …",
        "cadences: sequences of steps (with messages ready to copy) that contacts follow",
        (
            "cadence start Warm intro 3",
            "cadence step Post-demo 2 email Thanks, {{contact.first_name}} | Hi {{contact.first_name}},\\n"
            "Good to see you.\\n{{user.signature}}",
        ),
        aliases=("cadences",),
        details=tuple(CADENCE_USAGE.values()),
    ),
    _Verb(
        "settings",
        "settings [time HH:MM | timezone ZONE | days DAYS | pause until DATE | resume "
        "| platform slack|telegram|all | signature TEXT | link telegram]",
        "see or change your digest time, timezone and working days; pause digests and nudges (holidays) "
        "until the day you are back; choose where they arrive; sign cadence messages; or get a code to link "
        "Telegram",
        ("settings pause until 2027-01-04", "settings link telegram"),
        takes_when=True,
    ),
    _Verb(
        "export",
        "export CONTACT",
        "everything Pipedriven holds about one of your contacts",
        ("export 3", "export ana@acme.com"),
    ),
    _Verb(
        "forget",
        "forget CONTACT",
        "erase one of your contacts from Pipedriven for good (asks first)",
        ("forget 3", "forget ana@acme.com"),
        aliases=("erase",),
    ),
    _Verb(
        "sync",
        "sync [retry ID|all]",
        "your Pipedrive syncs (waiting, done, failed and why); retry failed ones",
        ("sync", "sync retry 12"),
        aliases=("pipedrive",),
    ),
    _Verb(
        "help",
        "help [VERB]",
        "everything I understand, or more on one verb",
        ("help", "help log"),
        aliases=("?", "start"),
    ),
)

VERBS: tuple[str, ...] = tuple(verb.name for verb in _GRAMMAR)
USAGE: dict[str, str] = {verb.name: verb.usage for verb in _GRAMMAR}
_BY_NAME = {verb.name: verb for verb in _GRAMMAR}
# Every word that starts a command, to its canonical verb.
_VERB_WORDS = {word: verb.name for verb in _GRAMMAR for word in (verb.name, *verb.aliases)}

METHOD_ALIASES = {
    **{method: method for method in OUTREACH_METHODS},
    "li": "linkedin",
    "inmail": "linkedin",
    "mail": "email",
    "e-mail": "email",
    "phone": "call",
    "rang": "call",
    "called": "call",
    "campaign-email": "campaign_email",
    "campaign": "campaign_email",
    "mailshot": "campaign_email",
    "ref": "referral",
    "intro": "referral",
    "event": "conference",
    "conf": "conference",
}
_MEETING_STATES = {
    "requested": "requested",
    "request": "requested",
    "req": "requested",
    "booked": "booked",
    "book": "booked",
}
_GROUPS = {
    "user": "user",
    "users": "user",
    "method": "method",
    "methods": "method",
    "campaign": "campaign",
    "campaigns": "campaign",
}
_TODAY_KEYWORDS = {"campaign", "warm", "stale", "limit"}
_PERIOD_STARTS = {"since", "this", "last", "all"}
_STATS_KEYWORDS = {"campaign", "by"} | _PERIOD_STARTS
_DAY_SETS = {
    "weekdays": (1, 2, 3, 4, 5),
    "workdays": (1, 2, 3, 4, 5),
    "weekends": (6, 7),
    "everyday": (1, 2, 3, 4, 5, 6, 7),
    "daily": (1, 2, 3, 4, 5, 6, 7),
    "all": (1, 2, 3, 4, 5, 6, 7),
}

_INTRO = "Here is what I understand (a leading / or `outreach` is fine too):"
_FOOTER = (
    "CONTACT is a row number from your last list, an email or part of a name; put a name of several "
    'words in "quotes" when it could be misread.\n'
    "In Slack and Telegram, send me a CSV file to add many contacts at once (in Slack, share it in our "
    "DM), and `stats` comes with a chart.\n"
    "Or just say what happened (`called Bob, no answer, try again Tuesday`): I show what I read and save it when "
    "you confirm."
)


def parse(text: str, actor: Actor, now: datetime) -> object:
    """Read one chat message into a core command (or Help). `now` is aware, in the user's timezone."""
    source, words = _tokenize(text)
    if words and words[0].keyword == "outreach":
        words = words[1:]
    if not words:
        return Help(None)
    verb = _VERB_WORDS.get(words[0].keyword)
    if verb is None:
        raise UnknownVerb(_unknown(words[0], "I don't know"), _guess_verb(words[0]))
    args = _Args(verb, words[1:], source)
    try:
        return _PARSERS[verb](args, actor, now)
    except WhenError as error:  # a day the calendar lacks (31/02), wherever a date goes
        raise args.fail(str(error)) from None


def help_text(topic: str | None = None) -> str:
    """The full help, or one verb's usage with examples when `topic` names a verb (or an alias of one)."""
    verb = _BY_NAME.get(_VERB_WORDS.get((topic or "").strip().lower().lstrip("/"), ""))
    if verb is None:
        return "\n".join([_INTRO, *(f"• `{v.syntax}` — {v.summary}" for v in _GRAMMAR), _FOOTER])
    lines = [f"`{verb.syntax}` — {verb.summary}"]
    for line in verb.details:
        syntax, _, about = line.partition(" — ")
        lines.append(f"  `{syntax}`" + (f" — {about}" if about else ""))
    if verb.aliases:
        lines.append("Also: " + ", ".join(f"`{alias}`" for alias in verb.aliases))
    if verb.takes_when:
        lines.append(f"WHEN and DATE: {WHEN_FORMS}.")
    lines.append("For example:")
    lines.extend(f"• `{example}`" for example in verb.examples)
    return "\n".join(lines)


# --- words -----------------------------------------------------------------------------------------------


class _Word(str):
    """A word of the message. A quoted word is always literal text, never a keyword."""

    quoted: bool
    start: int  # offset in the message, so notes keep the user's exact wording (and quotes)

    def __new__(cls, text: str, start: int, quoted: bool) -> _Word:
        word = super().__new__(cls, text)
        word.start, word.quoted = start, quoted
        return word

    @property
    def keyword(self) -> str:
        return "" if self.quoted else self.lower()


# "Ana Silva", “Ana Silva” (phones and Slack turn straight quotes curly) or a plain run of non-spaces.
# An unclosed quote runs to the end of the message.
_TOKEN = re.compile(r"[\"“”]([^\"“”]*)[\"“”]?|(\S+)")
# Telegram sends /log@PipedrivenBot in groups; Slack and the console send /outreach or /log.
_SLASH = re.compile(r"^/+([^\s@]*)(?:@\S*)?")


def _tokenize(text: str) -> tuple[str, list[_Word]]:
    source = _SLASH.sub(r"\1", " ".join((text or "").split()))
    words = []
    for m in _TOKEN.finditer(source):
        if m[2] is not None:
            words.append(_Word(m[2], m.start(), quoted=False))
        elif m[1].strip():
            words.append(_Word(m[1].strip(), m.start(), quoted=True))
    return source, words


@dataclass(frozen=True)
class _Args:
    """The words after the verb, and the message they came from."""

    verb: str
    words: list[_Word]
    source: str

    def tail(self, index: int) -> str | None:
        """The user's own text from word `index` to the end, or None if there is none."""
        return self.source[self.words[index].start :].strip() if index < len(self.words) else None

    def contact(self, words: list[_Word]) -> ContactRef:
        if not words:
            raise self.fail("Which contact?")
        return ContactRef(text=" ".join(words))

    def phrase(self, start: int, stop: set[str]) -> tuple[str, int]:
        """The words from `start` up to the next keyword in `stop`, and where they ended."""
        end = start
        while end < len(self.words) and self.words[end].keyword not in stop:
            end += 1
        return " ".join(self.words[start:end]), end

    def number(self, index: int) -> int:
        """The count after a keyword such as `stale 30` or `limit 5` (`30d` is fine too)."""
        keyword = self.words[index - 1].keyword
        if index < len(self.words) and (m := re.fullmatch(r"(\d{1,4})d?", self.words[index].keyword)):
            return int(m[1])
        raise self.fail(f"`{keyword}` takes a number, like `{keyword} 30`.")

    def fail(self, problem: str) -> GrammarError:
        return GrammarError(f"{problem}\nUsage: {USAGE[self.verb]}")


def _quote(text: str, limit: int = 30) -> str:
    """The user's words, “quoted” and cut short: an error message must stay readable whatever was pasted."""
    return quoted(text, limit)


def _guess_verb(word: str) -> str | None:
    """The verb or alias closest to a word that is none, if one is close."""
    guesses = difflib.get_close_matches(word.lower()[:30], _VERB_WORDS, n=1)
    return guesses[0] if guesses else None


def _unknown(word: str, lead: str) -> str:
    """`I don't know “lgo”. Did you mean `log`? …`, suggesting the closest verb or alias."""
    guess = _guess_verb(word)
    hint = f" Did you mean `{guess}`?" if guess else ""
    return f"{lead} {_quote(word)}.{hint} Say `help` for everything I understand."


def _find_after_contact(a: _Args, table: dict[str, str], missing: str) -> int:
    """Index of the first keyword of `table` after the contact (its first word always belongs to the contact,
    so `log call email` logs an email to a contact called Call)."""
    found = next((i for i in range(1, len(a.words)) if _bare(a.words[i]) in table), None)
    if found is not None:
        return found
    if not a.words or a.words[0].keyword in table:
        raise a.fail("Which contact?")
    raise a.fail(missing + _close_word(a.words[1:], table))


def _bare(word: _Word) -> str:
    """A keyword without the punctuation that may follow it: `log ana call, no answer`."""
    return word.keyword.rstrip(",;:.")


def _close_word(words: list[_Word], table: dict[str, str]) -> str:
    """` Did you mean …?` for the first word that looks like a misspelt key of `table`, else ''."""
    for word in words:
        if guesses := difflib.get_close_matches(word.keyword[:30], table, n=1, cutoff=0.75):
            return f" {_quote(word)} isn't one — did you mean `{guesses[0]}`?"
    return ""


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC)


# --- verbs -----------------------------------------------------------------------------------------------


def _today(a: _Args, actor: Actor, now: datetime) -> TodaySuggestions:
    campaign, warm_only, stale_days, limit = None, False, None, None
    i = 0
    while i < len(a.words):
        keyword = a.words[i].keyword
        if keyword == "campaign":
            name, i = a.phrase(i + 1, _TODAY_KEYWORDS)
            if not name:
                raise a.fail("Which campaign?")
            campaign = CampaignRef(name=name)
        elif keyword == "warm":
            warm_only, i = True, i + 1
        elif keyword == "stale":
            stale_days, i = a.number(i + 1), i + 2
        elif keyword == "limit":
            limit, i = a.number(i + 1), i + 2
        else:
            raise a.fail(f"I don't understand {_quote(a.words[i])} here.")
    return TodaySuggestions(actor, campaign=campaign, warm_only=warm_only, stale_days=stale_days, limit=limit)


_PHONE = re.compile(r"[\d+()\-.\s]+")


def _shape(field: str) -> str | None:
    """Which AddContact field a piece of text is, by its look alone: linkedin_url, email, phone or None."""
    if "linkedin.com" in field.lower():
        return "linkedin_url"
    if "@" in field:
        return "email"
    if _PHONE.fullmatch(field) and sum(c.isdigit() for c in field) >= 6:
        return "phone"
    return None


def _pull_shapes(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split words into the name and the (field, value) pairs they hold."""
    name, found, i = [], [], 0
    while i < len(words):
        end = next((j for j in range(i, len(words)) if not _PHONE.fullmatch(words[j])), len(words))
        run = " ".join(words[i:end])
        if _shape(run) == "phone":  # `+44 20 7946 0958` is one phone over several words
            found.append(("phone", run))
            i = end
            continue
        if shape := _shape(words[i]):
            found.append((shape, words[i]))
        else:
            name.append(words[i])
        i += 1
    return name, found


def _comma_fields(parts: list[str]) -> list[tuple[str, str]]:
    """Fields after commas, told apart by shape; plain ones are the organisation, then the title, then notes."""
    plain = iter(("organisation", "title"))
    return [(_shape(part) or next(plain, "notes"), part) for part in parts if part]


def _add(a: _Args, actor: Actor, now: datetime) -> AddContact:
    if any("," in word for word in a.words if not word.quoted):
        return _add_with_commas(a, actor)
    return _add_in_words(a, actor)


def _add_with_commas(a: _Args, actor: Actor) -> AddContact:
    """`add NAME[, email][, org][, phone]`: after the first comma, fields are told apart by shape."""
    first, *others = [part.strip() for part in (a.tail(0) or "").split(",")]
    name_words, pairs = _pull_shapes(first.split())
    fields: dict[str, str] = {}
    for field, value in pairs + _comma_fields(others):
        if field == "notes" and field in fields:
            value = f"{fields[field]}, {value}"
        elif field in fields:
            both = f"{_quote(fields[field], 60)} and {_quote(value, 60)}"
            raise a.fail(f"That gives two of {field.replace('_', ' ')}: {both}.")
        fields[field] = value
    return _contact(a, actor, " ".join(name_words), fields)


# `add Dana Tap at Tapco`: the words after one of these are the organisation.
_ORGANISATION_WORDS = frozenset({"at", "from"})
# Without an email, `at` or a comma, a name of more words than this may hold an organisation: ask.
_MOST_NAME_WORDS = 3


def _add_in_words(a: _Args, actor: Actor) -> AddContact:
    """`add NAME [email] [ORG]`, `add NAME at|from ORG`; a phone or LinkedIn URL anywhere."""
    before, after, fields = _shaped_words(a)
    name, organisation = before, after
    if "email" not in fields:
        words = before + after
        at = next((i for i, word in enumerate(words) if i and word.keyword in _ORGANISATION_WORDS), None)
        if at is not None:
            name, organisation = words[:at], words[at + 1 :]
            if not organisation:
                raise a.fail(f"Which organisation, after {_quote(words[at])}?")
        elif len(words) > _MOST_NAME_WORDS:
            raise UnclearOrganisation(words, fields)
        else:
            name, organisation = words, []
    elif not name:  # `add ana@acme.com Ana Silva`
        name, organisation = organisation, []
    if organisation:
        fields["organisation"] = " ".join(organisation)
    return _contact(a, actor, " ".join(name), fields)


def _shaped_words(a: _Args) -> tuple[list[_Word], list[_Word], dict[str, str]]:
    """The plain words before and after the email, and the email, phone and LinkedIn URL found by their look
    (a phone may run over several words: `+44 20 7946 0958`)."""
    words, fields, before, after, i = a.words, {}, [], [], 0
    while i < len(words):
        end = next((j for j in range(i, len(words)) if words[j].quoted or not _PHONE.fullmatch(words[j])), len(words))
        run, shape = " ".join(words[i:end]), None
        if _shape(run) == "phone":
            shape, i = "phone", end
        elif not words[i].quoted and (shape := _shape(words[i])):
            run, i = str(words[i]), i + 1
        else:
            (after if "email" in fields else before).append(words[i])
            i += 1
            continue
        if shape in fields:
            both = f"{_quote(fields[shape], 60)} and {_quote(run, 60)}"
            raise a.fail(f"That gives two of {shape.replace('_', ' ')}: {both}.")
        fields[shape] = run
    return before, after, fields


class UnclearOrganisation(GrammarError):
    """`add` words that may or may not end with an organisation: nothing is saved, the user picks.

    `choices` are (label, sentence) pairs: each sentence is a complete `add` (without the verb) that reads one
    way only, such as `Dana Tap at Tapco Ltd` or `"Dana Tap Tapco Ltd"`."""

    def __init__(self, words: list[_Word], fields: dict[str, str]) -> None:
        name, guess = " ".join(words[:2]), " ".join(words[2:])
        example = f"add {name} at {guess}" if len(name + guess) <= 80 else "add NAME at ORGANISATION"
        super().__init__(
            f"Is {_quote(guess, 60)} the organisation? I saved nothing yet: pick one, or say which part is which "
            f"with `at` (`{example}`), commas, or quotes around a name of more than three words."
        )
        extra = "".join(f" {value}" for value in fields.values())
        choices: dict[str, str] = {}
        for cut in (2, len(words), 1, len(words) - 1):
            name, organisation = _spoken(words[:cut]), _spoken(words[cut:])
            if organisation:
                choices[f"{' '.join(words[:cut])} · {' '.join(words[cut:])}"] = f"{name} at {organisation}{extra}"
            else:
                choices[f"{' '.join(words)} · no organisation"] = f'"{" ".join(words)}"{extra}'
        retyped = not any(mark in word for word in words for mark in '"“”')
        self.choices = tuple(choices.items()) if retyped else ()


def _spoken(words: list[_Word]) -> str:
    """Words as the user would type them again, quoted ones in quotes."""
    return " ".join(f'"{word}"' if word.quoted else word for word in words)


def _contact(a: _Args, actor: Actor, name: str, fields: dict[str, str]) -> AddContact:
    name = name.strip('"“” ')
    if not name:
        raise a.fail("What's the contact's name?")
    return AddContact(actor, name, **fields)


def _find_contacts(a: _Args, actor: Actor, now: datetime) -> FindContacts | FindInEveryBank:
    """`find TEXT` in the user's bank; `find everyone TEXT` in every bank (the Golden Ticket team)."""
    if not a.words:
        raise a.fail("What should I look for?")
    if a.words[0].keyword == "everyone" and not a.words[0].quoted:
        if len(a.words) == 1:
            raise a.fail("What should I look for in everyone's contacts? Try `find everyone acme`.")
        return FindInEveryBank(actor, " ".join(a.words[1:]))
    return FindContacts(actor, " ".join(a.words))


def _show(a: _Args, actor: Actor, now: datetime) -> ShowContact:
    return ShowContact(actor, a.contact(a.words))


def _edit(a: _Args, actor: Actor, now: datetime) -> EditContact | AskEdit:
    """`edit CONTACT FIELD VALUE`: the field is the first field word after the contact's first word. Without a
    value (`edit 3 email`), or a field (`edit 3`, `edit "Ana Silva"`), the conversation asks for them."""
    words = a.words
    for i in range(1, len(words)):
        size = 2 if words[i].keyword == "past" and i + 1 < len(words) and words[i + 1].keyword == "business" else 1
        field = " ".join(w.keyword for w in words[i : i + size])
        if field in EDITABLE_FIELDS:
            break
    else:
        if not words:
            raise a.fail("Which contact, which field and what value?")
        close = _close_word(words[1:], EDITABLE_FIELDS)
        # A name of up to three words (`edit Ana Silva`); a row number or an email is one word.
        if len(words) == 1 or (len(words) <= 3 and not close and not words[0].isdigit() and "@" not in words[0]):
            return AskEdit(a.contact(words))
        raise a.fail(f"Which field? One of: {EDITABLE_FIELD_LIST}." + close)
    rest = words[i + size :]
    if not rest:
        return AskEdit(a.contact(words[:i]), EDITABLE_FIELDS[field])
    value = str(rest[0]) if len(rest) == 1 and rest[0].quoted else a.tail(i + size)
    return EditContact(actor, a.contact(words[:i]), field, value or "")


# A note opening with one of these also records the outcome (the note keeps the words).
_OUTCOME_PHRASES = {
    "replied": "replied",
    "no answer": "no_answer",
    "no-answer": "no_answer",
    "noanswer": "no_answer",
    "voicemail": "no_answer",
    "not interested": "not_interested",
    "not-interested": "not_interested",
}


def _outcome(words: list[_Word]) -> str:
    opening = [w.keyword.strip(",.;:!") for w in words[:2] if not w.quoted]
    for size in (2, 1):
        if len(opening) >= size and (found := _OUTCOME_PHRASES.get(" ".join(opening[:size]))):
            return found
    return "none"


# `log ana call no answer, follow up in 3 weeks`: a note ending with one of these and a WHEN sets a reminder too.
_FOLLOW_UP = re.compile(
    r"(?:^|[,;.]?\s+)(?:follow[- ]?up|remind me|try again|call back|chase)(?:\s+(?:on|in|again))?\s+", re.IGNORECASE
)


def _log(a: _Args, actor: Actor, now: datetime) -> LogOutreach | RecordInteraction:
    i = _find_after_contact(a, METHOD_ALIASES, f"How did you reach them? Say one of: {_METHOD_LIST}.")
    contact, method, note = a.contact(a.words[:i]), METHOD_ALIASES[_bare(a.words[i])], a.tail(i + 1)
    outcome = _outcome(a.words[i + 1 :])
    follow_up = _follow_up(note, now)
    if follow_up is None:
        return LogOutreach(actor, contact, method, note, outcome=outcome)
    due_at, note = follow_up
    return RecordInteraction(actor, contact, method, note, outcome=outcome, follow_up_at=_utc(due_at))


def _follow_up(note: str | None, now: datetime) -> tuple[datetime, str | None] | None:
    """The reminder a note ends with (`…, follow up in 3 weeks`) and the note without it; None if it has none."""
    for found in reversed(list(_FOLLOW_UP.finditer(note or ""))):
        words = note[found.end() :].split()
        when = split_when(words, now, max_tokens=len(words))
        if when is not None and when[1] == len(words):
            return when[0], note[: found.start()].strip(" ,;.") or None
    return None


# `note Ana Silva: met at dinner`: a colon ends the name, if it comes within the first few words
# (`note 3 call back at 10:30` and `note ana met them re: pricing` must not split there).
_NAME_COLON = re.compile(r"((?:\S+ ){0,2}[^\s:]+): ")


def _note(a: _Args, actor: Actor, now: datetime) -> AddNote:
    if not a.words:
        raise a.fail("Which contact, and what's the note?")
    first = a.words[0]
    colon = _NAME_COLON.match(a.tail(0) + " ")
    # A row number, an email or a quoted name is the whole contact; only a bare name may run on to a colon.
    if colon and not first.quoted and not first.rstrip(":").isdigit() and "@" not in first:
        name, text = colon[1], a.tail(0)[colon.end() :]
    else:
        name, text = first.rstrip(":"), (a.tail(1) or "").lstrip(":")  # `note 3: text` is fine too
    if not text.strip():
        raise a.fail("What's the note?")
    return AddNote(actor, ContactRef(text=name.strip('"“”')), text.strip())


def _warm(a: _Args, actor: Actor, now: datetime) -> FlagWarm:
    words = a.words
    # `warm ana 5` sets the level, but `warm 5` is row 5.
    if len(words) > 1 and words[-1].keyword in ("4", "5"):
        return FlagWarm(actor, a.contact(words[:-1]), int(words[-1]))
    return FlagWarm(actor, a.contact(words))


def _meeting(a: _Args, actor: Actor, now: datetime) -> RequestMeeting | BookMeeting:
    i = _find_after_contact(a, _MEETING_STATES, "Was the meeting requested or booked?")
    ref = a.contact(a.words[:i])
    if _MEETING_STATES[_bare(a.words[i])] == "requested":
        return RequestMeeting(actor, ref, note=a.tail(i + 1))
    found = split_when(a.words[i + 1 :], now)
    at, used = found if found else (None, 0)
    return BookMeeting(actor, ref, at=_utc(at) if at else None, note=a.tail(i + 1 + used))


def _contact_and_when(a: _Args, now: datetime) -> tuple[ContactRef, datetime, int]:
    """The contact, then the WHEN at the earliest word it can start (in UTC), and the index after it."""
    for i in range(1, len(a.words)):
        if a.words[i].quoted:
            continue
        found = split_when(a.words[i:], now)
        if found:
            return a.contact(a.words[:i]), _utc(found[0]), i + found[1]
    raise a.fail(f"Who, and when? WHEN can be {WHEN_FORMS}.")


def _remind(a: _Args, actor: Actor, now: datetime) -> SetFollowUp:
    ref, due_at, end = _contact_and_when(a, now)
    return SetFollowUp(actor, ref, due_at, a.tail(end))


def _snooze(a: _Args, actor: Actor, now: datetime) -> Snooze:
    ref, until, end = _contact_and_when(a, now)
    if end < len(a.words):
        raise a.fail(f"I can't read {_quote(a.tail(end), 60)} after the date.")
    return Snooze(actor, ref, until)


def _done(a: _Args, actor: Actor, now: datetime) -> CompleteFollowUp:
    return CompleteFollowUp(actor, a.contact(a.words))


def _undo(a: _Args, actor: Actor, now: datetime) -> FindLastUndoable:
    """Which action to take back is the core's to find; the conversation then undoes it."""
    if a.words:
        raise a.fail("`undo` takes back your last action: it takes nothing after it.")
    return FindLastUndoable(actor)


def _stats(a: _Args, actor: Actor, now: datetime) -> GetStats | GetHeatmap | GetStrategyAnalytics | ShowMethodRates:
    if a.words and a.words[0].keyword == "heatmap":
        return _heatmap(a, actor, now)
    if a.words and a.words[0].keyword in ("cadences", "cadence", "strategies", "strategy"):
        return GetStrategyAnalytics(actor, _words_text(a.words[1:]) or None)
    if a.words and a.words[0].keyword in ("methods", "method") and len(a.words) <= 2:
        return _method_rates(a, actor)
    campaign, group_by, period = None, None, "this month"
    i = 0
    while i < len(a.words):
        keyword = a.words[i].keyword
        if keyword == "campaign":
            name, i = a.phrase(i + 1, _STATS_KEYWORDS)
            if not name:
                raise a.fail("Which campaign?")
            campaign = CampaignRef(name=name)
        elif keyword == "by":
            group_by = _GROUPS.get(a.words[i + 1].keyword) if i + 1 < len(a.words) else None
            if group_by is None:
                raise a.fail("Group by user, method or campaign.")
            i += 2
        elif keyword in _PERIOD_STARTS:
            period, i = a.phrase(i, {"campaign", "by"})
        else:
            raise a.fail(f"I don't understand {_quote(a.words[i])} here.")
    try:
        since, until, label = parse_period(period, now)
    except WhenError as error:
        raise a.fail(str(error)) from None
    return GetStats(actor, campaign, group_by, since and _utc(since), until and _utc(until), label)


def _method_rates(a: _Args, actor: Actor) -> ShowMethodRates:
    if len(a.words) == 1:
        return ShowMethodRates(actor)
    dimension = _RATE_DIMENSIONS.get(a.words[1].keyword)
    if dimension is None:
        raise a.fail(f"Method rates are by {', '.join(RATE_DIMENSIONS[:-1])} or {RATE_DIMENSIONS[-1]}.")
    return ShowMethodRates(actor, dimension)


_RATE_DIMENSIONS = {d: d for d in RATE_DIMENSIONS} | {
    "sectors": "sector",
    "countries": "country",
    "campaigns": "campaign",
    "warm": "warmness",
    "steps": "step",
}


def _heatmap(a: _Args, actor: Actor, now: datetime) -> GetHeatmap:
    axis = _GROUPS.get(a.words[1].keyword) if len(a.words) > 1 else None
    if axis is None:
        raise a.fail("Which heatmap? `stats heatmap campaign`, `stats heatmap method` or `stats heatmap user`.")
    if len(a.words) == 2:
        return GetHeatmap(actor, axis)
    if a.words[2].keyword != "since" or len(a.words) == 3:
        raise a.fail("A heatmap shows the last 12 weeks, or from a day on: `since 2026-10-01`.")
    try:
        since, _, _ = parse_period(" ".join(w.keyword for w in a.words[2:]), now)
    except WhenError as error:
        raise a.fail(str(error)) from None
    return GetHeatmap(actor, axis, since and _utc(since))


def _export(a: _Args, actor: Actor, now: datetime) -> ExportContact:
    return ExportContact(actor, a.contact(a.words))


def _forget(a: _Args, actor: Actor, now: datetime) -> PreviewErasure:
    """Only a preview: the erasure itself is the tap on its confirmation button."""
    return PreviewErasure(actor, a.contact(a.words))


def _remove(a: _Args, actor: Actor, now: datetime) -> PreviewRemoval:
    """Only the question: the removal itself is the tap on its confirmation button."""
    return PreviewRemoval(actor, a.contact(a.words))


def _removed(a: _Args, actor: Actor, now: datetime) -> ListRemoved:
    return ListRemoved(actor, " ".join(a.words))


def _restore(a: _Args, actor: Actor, now: datetime) -> RestoreContact:
    return RestoreContact(actor, a.contact(a.words))


def _merge(a: _Args, actor: Actor, now: datetime) -> PreviewMerge:
    """`merge OTHER into KEEP`: only the question; the merge is the tap on its confirmation button."""
    split = next((i for i in range(1, len(a.words)) if a.words[i].keyword == "into"), None)
    if split is None or split + 1 >= len(a.words):
        raise a.fail("Which contact into which? `merge 4 into 2` keeps 2.")
    return PreviewMerge(actor, keep=a.contact(a.words[split + 1 :]), other=a.contact(a.words[:split]))


def _campaigns(a: _Args, actor: Actor, now: datetime) -> ListCampaigns:
    if a.words:
        raise a.fail("`campaigns` takes nothing after it.")
    return ListCampaigns(actor)


def _rules(a: _Args, actor: Actor, now: datetime) -> ShowOutcomeRules | SetOutcomeRule:
    if not a.words:
        return ShowOutcomeRules(actor)
    if a.words[0].keyword != "set" or len(a.words) != 3:
        raise a.fail("Say `rules` to see them, or `rules set NAME DAYS` (`default` puts one back).")
    value = a.words[2].keyword.removesuffix("d")
    if a.words[2].keyword in ("default", "reset"):
        return SetOutcomeRule(actor, a.words[1].keyword, None)
    if not value.isdigit():
        raise a.fail("A rule takes a number of days, like `rules set meeting_not_booked_days 5`.")
    return SetOutcomeRule(actor, a.words[1].keyword, int(value))


# `campaign new NAME sector X geo Y from DATE`: each keyword takes the words up to the next keyword.
_CAMPAIGN_FIELDS = {
    "sector": "sector",
    "theme": "theme",
    "geo": "geography",
    "geography": "geography",
    "from": "start_date",
    "starts": "start_date",
    "to": "end_date",
    "until": "end_date",
    "ends": "end_date",
    "description": "description",
    "about": "description",
}
_CAMPAIGN_EDIT_FIELDS = {**_CAMPAIGN_FIELDS, "name": "name"}
_CAMPAIGN_STATES = {"live": "live", "launch": "live", "close": "closed", "closed": "closed", "draft": "draft"}


def _campaign(a: _Args, actor: Actor, now: datetime):
    if not a.words or a.words[0].keyword in ("list", "ls"):
        return _campaigns(_Args("campaigns", a.words[1:], a.source), actor, now)
    action, rest = a.words[0].keyword, _Args(a.verb, a.words[1:], a.source)
    if action in ("new", "create"):
        name, fields = _campaign_fields(rest, _CAMPAIGN_FIELDS, now)
        return CreateCampaign(actor, name, **fields)
    if action == "edit":
        name, fields = _campaign_fields(rest, _CAMPAIGN_EDIT_FIELDS, now)
        if not fields:
            raise a.fail("What should change? e.g. `campaign edit Fintech geo UK`.")
        return UpdateCampaign(actor, CampaignRef(name=name), **fields)
    if action in _CAMPAIGN_STATES:
        return UpdateCampaign(actor, CampaignRef(name=_campaign_name(rest)), status=_CAMPAIGN_STATES[action])
    if action in ("show", "view"):
        return ShowCampaign(actor, CampaignRef(name=_campaign_name(rest)))
    if action == "add":
        return _campaign_add(rest, actor)
    raise a.fail(f"I don't know {_quote(a.words[0])} for a campaign: say new, edit, live, close, show or add.")


def _campaign_name(a: _Args) -> str:
    if not a.words:
        raise a.fail("Which campaign?")
    return " ".join(a.words)


def _campaign_fields(a: _Args, keywords: dict[str, str], now: datetime) -> tuple[str, dict]:
    """The campaign's name (the words before the first keyword) and the fields the keywords give."""
    name, i = a.phrase(0, set(keywords))
    if not name:
        raise a.fail("Which campaign?")
    fields: dict = {}
    while i < len(a.words):
        field = keywords[a.words[i].keyword]
        if field == "description":  # free text: everything after it, keywords and all
            value, end = a.tail(i + 1) or "", len(a.words)
        else:
            value, end = a.phrase(i + 1, set(keywords))
        if not value:
            raise a.fail(f"`{a.words[i].keyword}` needs a value.")
        fields[field] = _campaign_date(a, value, now) if field.endswith("_date") else value
        i = end
    return name, fields


def _campaign_date(a: _Args, value: str, now: datetime):
    try:
        return parse_when(value, now).date()
    except WhenError:
        raise a.fail(
            f'I can\'t read {_quote(value)} as a date (a campaign name with `to` or `from` in it goes in "quotes").'
        ) from None


def _campaign_add(a: _Args, actor: Actor) -> AddContactToCampaign:
    """`campaign add NAME CONTACT [METHOD]`: the name is the first word (or quoted words)."""
    if len(a.words) < 2:
        raise a.fail("Which campaign, and which contact?")
    words = a.words[1:]
    method = None
    if len(words) > 1 and words[-1].keyword in METHOD_ALIASES:
        method, words = METHOD_ALIASES[words[-1].keyword], words[:-1]
    contact = " ".join(words)
    ref = ContactRef(id=int(contact[1:])) if re.fullmatch(r"#\d{1,12}", contact) else ContactRef(text=contact)
    return AddContactToCampaign(actor, CampaignRef(name=str(a.words[0])), ref, method)


def _settings(a: _Args, actor: Actor, now: datetime) -> object:
    if not a.words:
        return ShowSettings(actor)
    keyword = a.words[0].keyword
    if keyword == "link":
        if len(a.words) != 2:
            raise a.fail("Link which account? Say `settings link telegram`.")
        return IssueLinkCode(actor, a.words[1].keyword)
    if keyword in _DELIVERY_SETTINGS:
        return _DELIVERY_SETTINGS[keyword](a, actor, now)
    setting = _SETTINGS.get(keyword)
    # `settings digest at 9:15`, `settings timezone to Europe/Paris`
    value = re.sub(r"^(?:(?:time|at|to) )+", "", " ".join(a.words[1:]) + " ").strip()
    if setting is None or not value:
        raise a.fail(
            "Change your digest `time`, `timezone` or working `days`. "
            "Or `pause until DATE`, `resume`, `platform slack|telegram|all`. "
            "`settings link telegram` gives you a code to link Telegram; "
            "`settings signature TEXT` signs your cadence messages."
        )
    return UpdateSettings(actor, **setting(a, value))


def _signature(a: _Args, value: str) -> dict:
    """The user's own words (`\\n` for a new line); `none` clears it."""
    text = a.tail(1) or ""
    return {"signature": "" if text.lower() in ("none", "off", "clear", "-") else text}


def _pause(a: _Args, actor: Actor, now: datetime) -> PauseDigests:
    """`settings pause until 2027-01-04` (or `pause 2w`): DATE is the first day back."""
    words = a.words[1:]
    if words and words[0].keyword == "until":
        words = words[1:]
    if not words:
        raise a.fail("Pause until when? Give the day you are back, like `settings pause until 2027-01-04`.")
    try:
        return PauseDigests(actor, parse_when(" ".join(words), now).date())
    except WhenError as error:
        raise a.fail(str(error)) from None


def _resume(a: _Args, actor: Actor, now: datetime) -> ResumeDigests:
    if len(a.words) > 1:
        raise a.fail("`settings resume` takes nothing after it.")
    return ResumeDigests(actor)


_PLATFORM_CHOICES = {"slack": "slack", "telegram": "telegram", "all": None, "both": None, "every": None}


def _platform(a: _Args, actor: Actor, now: datetime) -> ChooseDigestPlatform:
    if len(a.words) != 2 or a.words[1].keyword not in _PLATFORM_CHOICES:
        raise a.fail("Choose where digests and nudges arrive: `settings platform slack`, `telegram` or `all`.")
    return ChooseDigestPlatform(actor, _PLATFORM_CHOICES[a.words[1].keyword])


_DELIVERY_SETTINGS = {"pause": _pause, "resume": _resume, "unpause": _resume, "platform": _platform}


def _digest_time(a: _Args, value: str) -> dict:
    at = parse_time(value)
    if at is None:
        raise a.fail(f"{_quote(value)} isn't a time; try 09:15 or 9am.")
    return {"digest_time": at}


@functools.cache
def _zone_names() -> dict[str, str]:
    """Zones by lower-cased name and by city (`paris`, `new_york`), leaving out cities two zones share."""
    zones = {zone.lower(): zone for zone in available_timezones()}
    cities: dict[str, str | None] = {}
    for zone in available_timezones():
        city = zone.rsplit("/", 1)[-1].lower()
        cities[city] = None if city in cities else zone
    return {**{city: zone for city, zone in cities.items() if zone}, **zones}


def _timezone(a: _Args, value: str) -> dict:
    zone = _zone_names().get(value.lower().replace(" ", "_"))
    if zone is None and len(value) > 64:  # ZoneInfo meets a long name with an OSError, not a friendly one
        raise a.fail("That is not a timezone I know. Try one like Europe/London.")
    try:
        return {"timezone": clean_timezone(zone or value)}
    except InvalidInput as error:
        raise a.fail(str(error)) from None


def _working_days(a: _Args, value: str) -> dict:
    """`mon-fri`, `mon,tue,thu`, `mon tue thu`, `weekdays`, `everyday` as ISO weekdays (1 = Monday)."""
    spec = re.sub(r"\s*[-–]\s*", "-", value.lower().replace("every day", "everyday"))  # `mon – fri`
    if spec in _DAY_SETS:
        return {"working_days": _DAY_SETS[spec]}
    days: set[int] = set()
    for part in filter(None, re.split(r"[,\s]+", spec)):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise a.fail(f"{_quote(part)} isn't a day; try `mon-fri`, `mon,tue,thu` or `weekdays`.")
        start, span = WEEKDAYS[first], (WEEKDAYS[last] - WEEKDAYS[first]) % 7 if last else 0
        days.update((start + step) % 7 + 1 for step in range(span + 1))  # fri-mon wraps over the weekend
    return {"working_days": tuple(sorted(days))}


_SETTINGS = {
    "time": _digest_time,
    "digest": _digest_time,
    "timezone": _timezone,
    "tz": _timezone,
    "days": _working_days,
    "signature": _signature,
    "sig": _signature,
}


def _sync(a: _Args, actor: Actor, now: datetime) -> ListSyncs | RetrySyncs:
    if not a.words:
        return ListSyncs(actor)
    if a.words[0].keyword != "retry":
        raise a.fail(f"I don't understand {_quote(a.words[0])} here.")
    numbers = a.words[1:]
    if len(numbers) == 1 and numbers[0].keyword == "all":
        return RetrySyncs(actor, all_failed=True)
    ids = []
    for word in numbers:
        if not (m := re.fullmatch(r"#?(\d{1,12})", word)):
            raise a.fail(f"{_quote(word)} isn't a sync number; `sync` lists them.")
        ids.append(int(m[1]))
    if not ids:
        raise a.fail("Which sync? Give its number from `sync`, or `all`.")
    return RetrySyncs(actor, ids=tuple(ids))


def _help(a: _Args, actor: Actor, now: datetime) -> Help:
    if not a.words:
        return Help(None)
    topic = _VERB_WORDS.get(a.words[0].keyword.lstrip("/"))
    if topic is None:
        raise a.fail(_unknown(a.words[0], "I have no help on"))
    return Help(topic)


# --- cadence ---------------------------------------------------------------------------------------------

_CADENCE_ALIASES = {
    "ls": "list",
    "create": "new",
    "add-step": "step",
    "edit": "edit-step",
    "drop": "drop-step",
    "remove-step": "drop-step",
    "resume": "pause",
    "restart": "pause",
    "stop": "pause",
}
_DAYS = re.compile(r"\+?(\d{1,3})d?")
_PLAN_COMMANDS = {"pause": PauseCadence, "resume": ResumeCadence, "restart": RestartCadence, "stop": StopCadence}


def _cadence_fail(sub: str, problem: str) -> GrammarError:
    return GrammarError(f"{problem}\nUsage: {CADENCE_USAGE[sub]}")


def _words_text(words: list[_Word]) -> str:
    return " ".join(words).strip()


def _cadence(a: _Args, actor: Actor, now: datetime) -> object:
    if not a.words:
        return ListStrategies(actor)
    word = a.words[0].keyword
    usage = _CADENCE_ALIASES.get(word, word)  # the CADENCE_USAGE entry that covers this sub-command
    if usage not in CADENCE_USAGE:
        subs = ", ".join(
            f"`{sub}`"
            for sub in (
                "list",
                "show",
                "new",
                "step",
                "edit-step",
                "drop-step",
                "start",
                "pause",
                "resume",
                "restart",
                "stop",
                "due",
                "stats",
            )
        )
        raise GrammarError(f"I don't know {_quote(a.words[0])} after `cadence`. Say one of: {subs}.")
    rest = _Args(a.verb, a.words[1:], a.source)
    if usage in ("list", "due", "stats"):
        if rest.words:
            raise _cadence_fail(usage, f"`cadence {usage}` takes nothing after it.")
        return {"list": ListStrategies, "due": ListDueSteps, "stats": GetCadenceStats}[usage](actor)
    if usage == "show":
        if not rest.words:
            raise _cadence_fail(usage, "Which cadence?")
        return ShowStrategy(actor, _words_text(rest.words))
    if usage == "new":
        name, _, description = (rest.tail(0) or "").partition("|")
        if not name.strip().strip('"“”'):
            raise _cadence_fail(usage, "What's the new cadence called?")
        return CreateStrategy(actor, name.strip().strip('"“”'), description.strip() or None)
    if usage == "pause":
        if not rest.words:
            raise _cadence_fail(usage, "Which contact?")
        return _PLAN_COMMANDS[word](actor, ContactRef(text=_words_text(rest.words)))
    if usage == "start":
        return _cadence_start(rest, actor)
    if usage == "drop-step":
        if len(rest.words) < 2 or not rest.words[-1].isdigit():
            raise _cadence_fail(usage, "Which cadence, and which step number?")
        return RemoveStrategyStep(actor, _words_text(rest.words[:-1]), int(rest.words[-1]))
    return _cadence_step(rest, actor, usage)


def _cadence_step(a: _Args, actor: Actor, usage: str) -> AddStrategyStep | EditStrategyStep:
    """`NAME [N] DAYS KIND [subject |] message`: the name runs up to the numbers followed by a method."""
    numbers = 2 if usage == "edit-step" else 1
    head = next(
        (
            i
            for i in range(1, len(a.words) - numbers)
            if all(not w.quoted and _DAYS.fullmatch(w) for w in a.words[i : i + numbers])
            and a.words[i + numbers].keyword in METHOD_ALIASES
        ),
        None,
    )
    if head is None:
        raise _cadence_fail(
            usage,
            "I need the cadence's name, "
            + ("the step number, " if numbers == 2 else "")
            + f"the delay in days and the kind ({_METHOD_LIST}).",
        )
    name = _words_text(a.words[:head])
    *position, days = (int(_DAYS.fullmatch(w)[1]) for w in a.words[head : head + numbers])
    kind = METHOD_ALIASES[a.words[head + numbers].keyword]
    text = a.tail(head + numbers + 1) or ""
    subject, bar, message = text.partition("|")
    subject, message = (subject.strip(), message.strip()) if bar else (None, text.strip())
    if usage == "edit-step":
        return EditStrategyStep(actor, name, position[0], days, kind, subject or None, message or None)
    return AddStrategyStep(actor, name, days, kind, subject or None, message or None)


def _cadence_start(a: _Args, actor: Actor) -> StartCadence:
    """`NAME campaign CAMPAIGN`, `NAME for CONTACT`, `"NAME" CONTACT`, `NAME CONTACT` when the contact is one
    row number, email or quoted name, or both are one word each; otherwise the core splits the words after the
    longest cadence name they start with."""
    words = a.words
    split = next((i for i in range(1, len(words)) if words[i].keyword in ("campaign", "for")), None)
    if split is not None and split + 1 < len(words):
        name, target = words[:split], words[split + 1 :]
        if words[split].keyword == "campaign":
            return StartCadence(actor, _words_text(name), campaign=CampaignRef(name=_words_text(target)))
    elif len(words) >= 2 and words[0].quoted:
        name, target = words[:1], words[1:]
    elif len(words) >= 2 and (words[-1].isdigit() or "@" in words[-1] or words[-1].quoted or len(words) == 2):
        name, target = words[:-1], words[-1:]
    elif len(words) > 2:
        return StartCadence(actor, name_and_contact=_words_text(words))
    else:
        raise _cadence_fail("start", "Which cadence, and for whom?")
    return StartCadence(actor, _words_text(name), contact=ContactRef(text=_words_text(target)))


_PARSERS = {
    "today": _today,
    "add": _add,
    "find": _find_contacts,
    "show": _show,
    "edit": _edit,
    "remove": _remove,
    "removed": _removed,
    "restore": _restore,
    "merge": _merge,
    "log": _log,
    "note": _note,
    "warm": _warm,
    "meeting": _meeting,
    "remind": _remind,
    "snooze": _snooze,
    "done": _done,
    "undo": _undo,
    "stats": _stats,
    "campaigns": _campaigns,
    "rules": _rules,
    "campaign": _campaign,
    "cadence": _cadence,
    "settings": _settings,
    "help": _help,
    "export": _export,
    "forget": _forget,
    "sync": _sync,
}

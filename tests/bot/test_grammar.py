"""The chat grammar: text in, exact core commands out. Pure unit tests, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import USAGE, VERBS, GrammarError, Help, UnclearOrganisation, help_text, parse
from core.campaigns.commands import ListCampaigns
from core.command import Actor, CampaignRef, Command, ContactRef
from core.contacts.commands import AddContact, FindContacts, ShowContact
from core.errors import InvalidInput
from core.feed.commands import TodaySuggestions
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
from core.stats.commands import GetStats
from core.users.commands import IssueLinkCode, ShowSettings, UpdateSettings

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)  # a Tuesday
ME = Actor(7, "slack")


def p(text: str, now: datetime = NOW):
    return parse(text, ME, now)


def ref(text: str) -> ContactRef:
    return ContactRef(text=text)


def utc(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def error_of(text: str) -> str:
    with pytest.raises(GrammarError) as caught:
        p(text)
    return str(caught.value)


# --- prefixes, case, whitespace, quotes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "log 3 email",
        "/log 3 email",
        "/outreach log 3 email",
        "outreach log 3 email",
        "LOG 3 EMAIL",
        "  log \t 3\n email  ",
        "/log@PipedrivenBot 3 email",
        "Outreach Log 3 Email",
    ],
)
def test_prefixes_case_and_whitespace(text):
    assert p(text) == LogOutreach(ME, ref("3"), "email")


@pytest.mark.parametrize("text", ["", "   ", "/", "/outreach", "outreach", "\n\t"])
def test_nothing_said_is_help(text):
    assert p(text) == Help(None)


@pytest.mark.parametrize(
    "text", ['show "Ana Silva"', "show “Ana Silva”", "show ”Ana Silva”", 'show "Ana   Silva']
)  # an unclosed quote runs to the end
def test_quoted_names(text):
    assert p(text) == ShowContact(ME, ref("Ana Silva"))


def test_a_quoted_word_is_never_a_keyword():
    assert p('log "Call Centre Ltd" call') == LogOutreach(ME, ref("Call Centre Ltd"), "call")
    assert p('log "email" li') == LogOutreach(ME, ref("email"), "linkedin")
    assert p('today campaign "Warm leads" warm') == TodaySuggestions(ME, CampaignRef(name="Warm leads"), warm_only=True)


def test_empty_quotes_are_nothing():
    assert "Which contact?" in error_of('show ""')


# --- unknown verbs ------------------------------------------------------------------------------------------


def test_a_typo_suggests_the_closest_verb():
    assert error_of("lgo 3 email") == (
        "I don't know “lgo”. Did you mean `log`? Say `help` for everything I understand."
    )


@pytest.mark.parametrize(
    "typo, suggestion",
    [
        ("remnd", "remind"),
        ("snoze", "snooze"),
        ("stat", "stats"),
        ("setings", "settings"),
        ("meting", "meeting"),
        ("campain", "campaign"),
        ("serch", "search"),
        ("tody", "today"),
        ("halp", "help"),
    ],
)
def test_typos(typo, suggestion):
    assert f"Did you mean `{suggestion}`?" in error_of(f"{typo} 3")


def test_unknown_word_without_a_close_verb():
    assert error_of("xyzzy") == "I don't know “xyzzy”. Say `help` for everything I understand."


# --- today --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["today", "list", "next", "TODAY"])
def test_today_and_aliases(verb):
    assert p(verb) == TodaySuggestions(ME)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today warm", TodaySuggestions(ME, warm_only=True)),
        ("today stale 30", TodaySuggestions(ME, stale_days=30)),
        ("today stale 30d", TodaySuggestions(ME, stale_days=30)),
        ("today limit 5", TodaySuggestions(ME, limit=5)),
        ("today campaign Fintech", TodaySuggestions(ME, CampaignRef(name="Fintech"))),
        (
            "today campaign Fintech Q4 warm stale 30 limit 5",
            TodaySuggestions(ME, CampaignRef(name="Fintech Q4"), warm_only=True, stale_days=30, limit=5),
        ),
        ("next limit 3 campaign Green Energy", TodaySuggestions(ME, CampaignRef(name="Green Energy"), limit=3)),
        ("list Warm Limit 2", TodaySuggestions(ME, warm_only=True, limit=2)),
    ],
)
def test_today_filters(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("today campaign", "Which campaign?"),
        ("today campaign warm", "Which campaign?"),
        ("today stale", "`stale` takes a number"),
        ("today limit many", "`limit` takes a number"),
        ("today limit 99999", "`limit` takes a number"),
        ("today hello", "I don't understand “hello” here."),
    ],
)
def test_today_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["today"] in message


# --- add ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("add Ana Silva", AddContact(ME, "Ana Silva")),
        ("add Ana Silva, ana@acme.com", AddContact(ME, "Ana Silva", email="ana@acme.com")),
        ("add Ana Silva, ana@acme.com, Acme", AddContact(ME, "Ana Silva", email="ana@acme.com", organisation="Acme")),
        (
            "add Ana Silva, ana@acme.com, Acme, +44 20 7946 0958",
            AddContact(ME, "Ana Silva", email="ana@acme.com", organisation="Acme", phone="+44 20 7946 0958"),
        ),
        # after the name, fields are told apart by shape, in any order
        (
            "add Ana Silva, +44 (0)20 7946-0958, Acme Ltd, ana@acme.com",
            AddContact(ME, "Ana Silva", email="ana@acme.com", organisation="Acme Ltd", phone="+44 (0)20 7946-0958"),
        ),
        (
            "add Ana Silva, Acme, Head of Sales, https://www.linkedin.com/in/anasilva",
            AddContact(
                ME,
                "Ana Silva",
                organisation="Acme",
                title="Head of Sales",
                linkedin_url="https://www.linkedin.com/in/anasilva",
            ),
        ),
        (
            "add Ana Silva, Acme, CTO, met at Web Summit, Lisbon",
            AddContact(ME, "Ana Silva", organisation="Acme", title="CTO", notes="met at Web Summit, Lisbon"),
        ),
        ("add Ana Silva,, Acme,", AddContact(ME, "Ana Silva", organisation="Acme")),
        ("add Ana Silva, 12345", AddContact(ME, "Ana Silva", organisation="12345")),  # too few digits for a phone
        # without commas, email, phone and LinkedIn shaped words are pulled out of the name
        ("add Bo Chen bo@chen.io", AddContact(ME, "Bo Chen", email="bo@chen.io")),
        (
            "add Bo Chen bo@chen.io +44 20 7946 0958 linkedin.com/in/bochen",
            AddContact(
                ME, "Bo Chen", email="bo@chen.io", phone="+44 20 7946 0958", linkedin_url="linkedin.com/in/bochen"
            ),
        ),
        ("add Bo +447700900123 Chen", AddContact(ME, "Bo Chen", phone="+447700900123")),
        ("add Louis 14", AddContact(ME, "Louis 14")),
        ("add Bo Chen bo@chen.io, Chen Ltd", AddContact(ME, "Bo Chen", email="bo@chen.io", organisation="Chen Ltd")),
        ('add "Ana Silva", Acme', AddContact(ME, "Ana Silva", organisation="Acme")),
        ("add <b>_*[x](y)", AddContact(ME, "<b>_*[x](y)")),
        ("add O'Brien-Smith, Acme & Co.", AddContact(ME, "O'Brien-Smith", organisation="Acme & Co.")),
    ],
)
def test_add(text, expected):
    assert p(text) == expected


TAPCO = "dana.tap@tapco.example"


@pytest.mark.parametrize(
    "text, expected",
    [
        # words before the email are the name, a word or a quoted phrase after it the organisation
        (f"add Dana Tap {TAPCO} Tapco", AddContact(ME, "Dana Tap", email=TAPCO, organisation="Tapco")),
        (f'add Dana Tap {TAPCO} "Tap & Co"', AddContact(ME, "Dana Tap", email=TAPCO, organisation="Tap & Co")),
        (f"add Dana Tap {TAPCO} Tapco Ltd", AddContact(ME, "Dana Tap", email=TAPCO, organisation="Tapco Ltd")),
        (f"add {TAPCO} Dana Tap", AddContact(ME, "Dana Tap", email=TAPCO)),
        # `at` or `from` after a name without an email
        ("add Dana Tap at Tapco", AddContact(ME, "Dana Tap", organisation="Tapco")),
        ("add Dana Tap from Tap and Co Ltd", AddContact(ME, "Dana Tap", organisation="Tap and Co Ltd")),
        ('add Dana Tap at "Tap & Co"', AddContact(ME, "Dana Tap", organisation="Tap & Co")),
        # a phone or a LinkedIn URL anywhere in the line is taken out of the name
        (
            f"add Dana +44 20 7946 0958 Tap {TAPCO} Tapco",
            AddContact(ME, "Dana Tap", email=TAPCO, organisation="Tapco", phone="+44 20 7946 0958"),
        ),
        (
            "add Dana Tap linkedin.com/in/danatap at Tapco 07700 900123",
            AddContact(
                ME, "Dana Tap", organisation="Tapco", phone="07700 900123", linkedin_url="linkedin.com/in/danatap"
            ),
        ),
        # up to three words without an email or `at` are a name; a quoted name is whole
        ("add Dana Tap Tapco", AddContact(ME, "Dana Tap Tapco")),
        ('add "Maria de la Cruz"', AddContact(ME, "Maria de la Cruz")),
        ("add At Tapco", AddContact(ME, "At Tapco")),
    ],
)
def test_add_in_natural_order(text, expected):
    assert p(text) == expected


def test_add_asks_which_words_are_the_organisation_and_each_choice_reads_one_way():
    with pytest.raises(UnclearOrganisation) as caught:
        p("add Dana Tap Tapco Ltd +447700900123")
    assert str(caught.value).startswith("Is “Tapco Ltd” the organisation?")
    assert "add Dana Tap at Tapco Ltd" in str(caught.value)
    labels = [label for label, _ in caught.value.choices]
    assert labels == [
        "Dana Tap · Tapco Ltd",
        "Dana Tap Tapco Ltd · no organisation",
        "Dana · Tap Tapco Ltd",
        "Dana Tap Tapco · Ltd",
    ]
    assert [p(f"add {words}") for _, words in caught.value.choices] == [
        AddContact(ME, "Dana Tap", organisation="Tapco Ltd", phone="+447700900123"),
        AddContact(ME, "Dana Tap Tapco Ltd", phone="+447700900123"),
        AddContact(ME, "Dana", organisation="Tap Tapco Ltd", phone="+447700900123"),
        AddContact(ME, "Dana Tap Tapco", organisation="Ltd", phone="+447700900123"),
    ]


def test_add_choices_keep_a_quoted_organisation_whole():
    with pytest.raises(UnclearOrganisation) as caught:
        p('add Dana Tap "Tap, Co & Partners" Ltd')
    assert p(f"add {caught.value.choices[0][1]}") == AddContact(ME, "Dana Tap", organisation="Tap, Co & Partners Ltd")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("add", "What's the contact's name?"),
        ("add , ana@acme.com", "What's the contact's name?"),
        ("add ana@acme.com", "What's the contact's name?"),
        ('add ""', "What's the contact's name?"),
        ("add Ana, ana@a.com, ana@b.com", "two of email"),
        ("add Ana +447700900123, 07700 900456", "two of phone"),
        ("add Dana Tap at", "Which organisation"),
    ],
)
def test_add_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["add"] in message


# --- find and show ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("find acme", FindContacts(ME, "acme")),
        ("search Ana Silva", FindContacts(ME, "Ana Silva")),
        ('find "ana silva"', FindContacts(ME, "ana silva")),
        ("find ana@acme.com", FindContacts(ME, "ana@acme.com")),
    ],
)
def test_find(text, expected):
    assert p(text) == expected


def test_find_needs_text():
    assert "What should I look for?" in error_of("find")
    assert USAGE["find"] in error_of("search")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("show 3", ShowContact(ME, ref("3"))),
        ("contact ana@acme.com", ShowContact(ME, ref("ana@acme.com"))),
        ("show Ana Silva", ShowContact(ME, ref("Ana Silva"))),
    ],
)
def test_show(text, expected):
    assert p(text) == expected


def test_show_needs_a_contact():
    assert error_of("show") == f"Which contact?\nUsage: {USAGE['show']}"


# --- log ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias, method",
    [
        ("linkedin", "linkedin"),
        ("li", "linkedin"),
        ("inmail", "linkedin"),
        ("LinkedIn", "linkedin"),
        ("email", "email"),
        ("mail", "email"),
        ("e-mail", "email"),
        ("call", "call"),
        ("phone", "call"),
        ("rang", "call"),
        ("called", "call"),
        ("campaign_email", "campaign_email"),
        ("campaign-email", "campaign_email"),
        ("campaign", "campaign_email"),
        ("mailshot", "campaign_email"),
        ("referral", "referral"),
        ("ref", "referral"),
        ("intro", "referral"),
        ("conference", "conference"),
        ("event", "conference"),
        ("conf", "conference"),
    ],
)
def test_log_method_aliases(alias, method):
    assert p(f"log 3 {alias}") == LogOutreach(ME, ref("3"), method)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("log 3 email sent the deck", LogOutreach(ME, ref("3"), "email", "sent the deck")),
        (
            "log Ana Silva li asked about Q1 budget",
            LogOutreach(ME, ref("Ana Silva"), "linkedin", "asked about Q1 budget"),
        ),
        # a note opening with an outcome records it too, and keeps the words
        (
            "log ana@acme.com call no answer, try again",
            LogOutreach(ME, ref("ana@acme.com"), "call", "no answer, try again", outcome="no_answer"),
        ),
        # the note is kept as typed: its case, quotes and later method words
        ('log 3 email Said "call me" in Jan', LogOutreach(ME, ref("3"), "email", 'Said "call me" in Jan')),
        # the contact's first word is always the contact, even when it is a method word
        ("log call email", LogOutreach(ME, ref("call"), "email")),
        ("log Ref Jones conf", LogOutreach(ME, ref("Ref Jones"), "conference")),
        ('log "Ana Silva" email', LogOutreach(ME, ref("Ana Silva"), "email")),
    ],
)
def test_log(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("log", "Which contact?"),
        ("log email", "Which contact?"),
        ("log 3", "How did you reach them? Say one of: linkedin, email, call, campaign_email, referral, conference."),
        ("log Ana Silva", "How did you reach them?"),
        ("log 3 pigeon", "How did you reach them?"),
    ],
)
def test_log_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["log"] in message


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "log ana call no answer, follow up in 3 weeks",
            RecordInteraction(
                ME, ref("ana"), "call", "no answer", outcome="no_answer", follow_up_at=utc(2026, 12, 15, 9)
            ),
        ),
        (
            "log ana call, follow up in 3 weeks",
            RecordInteraction(ME, ref("ana"), "call", follow_up_at=utc(2026, 12, 15, 9)),
        ),
        (
            "log 3 email sent the deck. Try again next monday 14:30",
            RecordInteraction(ME, ref("3"), "email", "sent the deck", follow_up_at=utc(2026, 11, 30, 14, 30)),
        ),
        # words after the date are no reminder: the note stays as typed
        (
            "log ana email about the follow up in 3 weeks meeting",
            LogOutreach(ME, ref("ana"), "email", "about the follow up in 3 weeks meeting"),
        ),
    ],
)
def test_log_with_a_follow_up_at_the_end_of_its_note_sets_the_reminder(text, expected):
    assert p(text) == expected


def test_log_suggests_a_misspelt_method():
    assert "“emial” isn't one — did you mean `email`?" in error_of("log 3 emial")
    assert "did you mean `linkedin`?" in error_of("log Ana linkdin")


# --- note ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("note 3 prefers mornings", AddNote(ME, ref("3"), "prefers mornings")),
        ("note ana prefers mornings", AddNote(ME, ref("ana"), "prefers mornings")),
        ("note ana@acme.com: prefers mornings", AddNote(ME, ref("ana@acme.com"), "prefers mornings")),
        ("note ana@acme.com prefers mornings", AddNote(ME, ref("ana@acme.com"), "prefers mornings")),
        ("note ana: prefers mornings", AddNote(ME, ref("ana"), "prefers mornings")),
        ("note Ana Silva: met at dinner", AddNote(ME, ref("Ana Silva"), "met at dinner")),
        ("note Ana de Silva: met at dinner", AddNote(ME, ref("Ana de Silva"), "met at dinner")),
        ('note "Ana Silva" met at dinner', AddNote(ME, ref("Ana Silva"), "met at dinner")),
        ('note "Ana Silva": met at dinner', AddNote(ME, ref("Ana Silva"), "met at dinner")),
        ("note 3: prefers mornings", AddNote(ME, ref("3"), "prefers mornings")),
        # colons later on belong to the note
        ("note 3 call back at 10:30", AddNote(ME, ref("3"), "call back at 10:30")),
        ("note 3 re: pricing", AddNote(ME, ref("3"), "re: pricing")),
        ("note ana met them twice re: pricing", AddNote(ME, ref("ana"), "met them twice re: pricing")),
        ("note ana ratio 3:1", AddNote(ME, ref("ana"), "ratio 3:1")),
    ],
)
def test_note(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("note", "Which contact, and what's the note?"),
        ("note 3", "What's the note?"),
        ("note Ana Silva:", "What's the note?"),
        ('note "Ana Silva"', "What's the note?"),
    ],
)
def test_note_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["note"] in message


# --- warm ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("warm 3", FlagWarm(ME, ref("3"))),
        ("warm 5", FlagWarm(ME, ref("5"))),  # a lone number is a row, not a level
        ("warm ana 5", FlagWarm(ME, ref("ana"), 5)),
        ("warm 3 4", FlagWarm(ME, ref("3"), 4)),
        ("warm Ana Silva 5", FlagWarm(ME, ref("Ana Silva"), 5)),
        ("warm ana 3", FlagWarm(ME, ref("ana 3"))),  # only 4 and 5 are warm levels
        ('warm ana "5"', FlagWarm(ME, ref("ana 5"))),
    ],
)
def test_warm(text, expected):
    assert p(text) == expected


def test_warm_needs_a_contact():
    assert error_of("warm") == f"Which contact?\nUsage: {USAGE['warm']}"


# --- meeting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["requested", "request", "req", "REQ"])
def test_meeting_requested(word):
    assert p(f"meeting 3 {word}") == RequestMeeting(ME, ref("3"))


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "meeting Ana Silva requested for early January",
            RequestMeeting(ME, ref("Ana Silva"), note="for early January"),
        ),
        ("meeting 3 booked", BookMeeting(ME, ref("3"))),
        ("meeting 3 book", BookMeeting(ME, ref("3"))),
        ("meeting 3 booked 2026-12-01 14:30", BookMeeting(ME, ref("3"), at=utc(2026, 12, 1, 14, 30))),
        (
            "meeting ana booked tomorrow 10:00 coffee at Acme",
            BookMeeting(ME, ref("ana"), at=utc(2026, 11, 25, 10, 0), note="coffee at Acme"),
        ),
        ("meeting ana booked next thursday", BookMeeting(ME, ref("ana"), at=utc(2026, 11, 26, 9, 0))),
        ("meeting ana booked lunch with the team", BookMeeting(ME, ref("ana"), note="lunch with the team")),
        ("meeting booked booked", BookMeeting(ME, ref("booked"))),
    ],
)
def test_meetings(text, expected):
    assert p(text) == expected


def test_booked_meeting_time_is_utc_across_dst():
    command = p("meeting 3 booked tomorrow 09:00", datetime(2026, 3, 28, 10, 0, tzinfo=LONDON))
    assert command == BookMeeting(ME, ref("3"), at=utc(2026, 3, 29, 8, 0))
    assert command.at.tzinfo is UTC


@pytest.mark.parametrize(
    "text, problem",
    [
        ("meeting", "Which contact?"),
        ("meeting ana", "Was the meeting requested or booked?"),
        ("meeting booked", "Which contact?"),
        ("meeting ana bookd", "“bookd” isn't one — did you mean `booked`?"),
    ],
)
def test_meeting_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["meeting"] in message


# --- remind and snooze --------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["remind", "followup", "follow-up", "Remind"])
def test_remind_and_aliases(verb):
    assert p(f"{verb} 3 tomorrow") == SetFollowUp(ME, ref("3"), utc(2026, 11, 25, 9, 0))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("remind 3 in 2 weeks", SetFollowUp(ME, ref("3"), utc(2026, 12, 8, 9, 0))),
        (
            "remind ana next monday 9am send the proposal",
            SetFollowUp(ME, ref("ana"), utc(2026, 11, 30, 9, 0), "send the proposal"),
        ),
        ("remind Ana Silva 3d", SetFollowUp(ME, ref("Ana Silva"), utc(2026, 11, 27, 9, 0))),
        (
            "remind Ana Silva 1 dec 14:30 Call About Budget",
            SetFollowUp(ME, ref("Ana Silva"), utc(2026, 12, 1, 14, 30), "Call About Budget"),
        ),
        ("remind 3 14:30", SetFollowUp(ME, ref("3"), utc(2026, 11, 24, 14, 30))),
        ("remind 12 2026-12-01", SetFollowUp(ME, ref("12"), utc(2026, 12, 1, 9, 0))),
        ("remind 3 1m", SetFollowUp(ME, ref("3"), utc(2026, 12, 24, 9, 0))),
        ('remind "Monday Club" friday', SetFollowUp(ME, ref("Monday Club"), utc(2026, 11, 27, 9, 0))),
        ("remind ana@acme.com tomorrow at 2pm", SetFollowUp(ME, ref("ana@acme.com"), utc(2026, 11, 25, 14, 0))),
    ],
)
def test_remind(text, expected):
    assert p(text) == expected


def test_remind_across_dst_keeps_local_time():
    command = p("remind 3 tomorrow 09:00", datetime(2026, 3, 28, 10, 0, tzinfo=LONDON))
    assert command.due_at == utc(2026, 3, 29, 8, 0)


@pytest.mark.parametrize("text", ["remind", "remind 3", "remind tomorrow", "remind ana soon", "remind 3 3"])
def test_remind_errors(text):
    message = error_of(text)
    assert "Who, and when?" in message and "tomorrow" in message
    assert USAGE["remind"] in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("snooze 3 1m", Snooze(ME, ref("3"), utc(2026, 12, 24, 9, 0))),
        ("snooze ana 2026-12-01", Snooze(ME, ref("ana"), utc(2026, 12, 1, 9, 0))),
        ("snooze Ana Silva next mon 8:00", Snooze(ME, ref("Ana Silva"), utc(2026, 11, 30, 8, 0))),
    ],
)
def test_snooze(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("snooze", "Who, and when?"),
        ("snooze 3", "Who, and when?"),
        ("snooze 3 2w because busy", "I can't read “because busy” after the date."),
    ],
)
def test_snooze_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["snooze"] in message


# --- done ---------------------------------------------------------------------------------------------------


def test_done():
    assert p("done 3") == CompleteFollowUp(ME, ref("3"))
    assert p("done Ana Silva") == CompleteFollowUp(ME, ref("Ana Silva"))
    assert error_of("done") == f"Which contact?\nUsage: {USAGE['done']}"


def test_undo_finds_the_last_action_and_takes_nothing_after_it():
    assert p("undo") == p("/undo") == FindLastUndoable(ME)
    assert error_of("undo 3") == (
        f"`undo` takes back your last action: it takes nothing after it.\nUsage: {USAGE['undo']}"
    )


# --- stats --------------------------------------------------------------------------------------------------

THIS_MONTH = dict(since=utc(2026, 11, 1), until=None, period_label="this month (November 2026)")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("stats", GetStats(ME, **THIS_MONTH)),
        ("stats this month", GetStats(ME, **THIS_MONTH)),
        ("stats by method", GetStats(ME, group_by="method", **THIS_MONTH)),
        ("stats by users", GetStats(ME, group_by="user", **THIS_MONTH)),
        ("stats by campaign", GetStats(ME, group_by="campaign", **THIS_MONTH)),
        ("stats campaign Fintech", GetStats(ME, CampaignRef(name="Fintech"), **THIS_MONTH)),
        (
            "stats campaign Fintech by method last month",
            GetStats(
                ME,
                CampaignRef(name="Fintech"),
                "method",
                utc(2026, 9, 30, 23),
                utc(2026, 11, 1),
                "last month (October 2026)",
            ),
        ),
        (
            "stats last month by user campaign Green Energy",
            GetStats(
                ME,
                CampaignRef(name="Green Energy"),
                "user",
                utc(2026, 9, 30, 23),
                utc(2026, 11, 1),
                "last month (October 2026)",
            ),
        ),
        ("stats this week", GetStats(ME, since=utc(2026, 11, 23), period_label="this week (from Mon 23 Nov 2026)")),
        ("stats last 30d", GetStats(ME, since=utc(2026, 10, 24, 23), period_label="last 30 days (since 25 Oct 2026)")),
        (
            "stats last 7 days by method",
            GetStats(ME, group_by="method", since=utc(2026, 11, 17), period_label="last 7 days (since 17 Nov 2026)"),
        ),
        (
            "stats since 2026-11-01 by user",
            GetStats(ME, group_by="user", since=utc(2026, 11, 1), period_label="since 1 Nov 2026"),
        ),
        ("stats since 1 oct", GetStats(ME, since=utc(2026, 9, 30, 23), period_label="since 1 Oct 2026")),
        ("stats all time", GetStats(ME, period_label="all time")),
        ("stats all", GetStats(ME, period_label="all time")),
        ('stats campaign "All Stars" all', GetStats(ME, CampaignRef(name="All Stars"), period_label="all time")),
    ],
)
def test_stats(text, expected):
    assert p(text) == expected


def test_stats_bounds_are_utc():
    command = p("stats last month")
    assert command.since.tzinfo is UTC and command.until.tzinfo is UTC


@pytest.mark.parametrize(
    "text, problem",
    [
        ("stats by", "Group by user, method or campaign."),
        ("stats by colour", "Group by user, method or campaign."),
        ("stats campaign", "Which campaign?"),
        ("stats campaign by method", "Which campaign?"),
        ("stats since", "as a period"),
        ("stats since never", "as a period"),
        ("stats last decade", "as a period"),
        ("stats yesterday", "I don't understand “yesterday” here."),
    ],
)
def test_stats_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["stats"] in message


# --- campaigns and settings ---------------------------------------------------------------------------------


def test_campaigns():
    assert p("campaigns") == ListCampaigns(ME)
    assert USAGE["campaigns"] in error_of("campaigns new Fintech")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("settings", ShowSettings(ME)),
        ("settings time 09:15", UpdateSettings(ME, digest_time=time(9, 15))),
        ("settings digest 9:15", UpdateSettings(ME, digest_time=time(9, 15))),
        ("settings digest at 8am", UpdateSettings(ME, digest_time=time(8, 0))),
        ("settings digest time 7:45", UpdateSettings(ME, digest_time=time(7, 45))),
        ("settings timezone Europe/Paris", UpdateSettings(ME, timezone="Europe/Paris")),
        ("settings tz Europe/Paris", UpdateSettings(ME, timezone="Europe/Paris")),
        ("settings tz europe/paris", UpdateSettings(ME, timezone="Europe/Paris")),
        ("settings tz paris", UpdateSettings(ME, timezone="Europe/Paris")),
        ("settings tz New York", UpdateSettings(ME, timezone="America/New_York")),
        ("settings tz UTC", UpdateSettings(ME, timezone="UTC")),
        ("settings days mon-fri", UpdateSettings(ME, working_days=(1, 2, 3, 4, 5))),
        ("settings days mon,tue,thu", UpdateSettings(ME, working_days=(1, 2, 4))),
        ("settings days mon, tue, thu", UpdateSettings(ME, working_days=(1, 2, 4))),
        ("settings days Mon Tue Thu", UpdateSettings(ME, working_days=(1, 2, 4))),
        ("settings days tuesday-thursday", UpdateSettings(ME, working_days=(2, 3, 4))),
        ("settings days Mon – Fri", UpdateSettings(ME, working_days=(1, 2, 3, 4, 5))),
        ("settings days fri-mon", UpdateSettings(ME, working_days=(1, 5, 6, 7))),
        ("settings days weekdays", UpdateSettings(ME, working_days=(1, 2, 3, 4, 5))),
        ("settings days everyday", UpdateSettings(ME, working_days=(1, 2, 3, 4, 5, 6, 7))),
        ("settings days every day", UpdateSettings(ME, working_days=(1, 2, 3, 4, 5, 6, 7))),
        ("settings days sun", UpdateSettings(ME, working_days=(7,))),
        ("settings link telegram", IssueLinkCode(ME, "telegram")),
        ("/settings link Telegram", IssueLinkCode(ME, "telegram")),
    ],
)
def test_settings(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("settings colour blue", "Change your digest `time`, `timezone` or working `days`."),
        ("settings time", "Change your digest `time`"),
        ("settings time soon", "“soon” isn't a time"),
        ("settings time 25:00", "“25:00” isn't a time"),
        ("settings timezone Mars/Olympus", "“Mars/Olympus” is not a timezone I know"),
        ("settings tz ../../etc/passwd", "is not a timezone I know"),
        ("settings tz " + "x" * 10_000, "not a timezone I know"),
        ("settings days someday", "“someday” isn't a day"),
        ("settings days mon-funday", "“mon-funday” isn't a day"),
        ("settings link", "Link which account? Say `settings link telegram`."),
        ("settings link telegram now", "Link which account?"),
    ],
)
def test_settings_errors(text, problem):
    message = error_of(text)
    assert problem in message
    assert USAGE["settings"] in message


# --- help ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("help", Help(None)),
        ("?", Help(None)),
        ("/start", Help(None)),
        ("HELP", Help(None)),
        ("help log", Help("log")),
        ("? log", Help("log")),
        ("help /remind", Help("remind")),
        ("help followup", Help("remind")),
        ("help list", Help("today")),
        ("help search", Help("find")),
    ],
)
def test_help(text, expected):
    assert p(text) == expected


def test_help_on_an_unknown_verb_suggests_one():
    message = error_of("help lgo")
    assert "I have no help on “lgo”. Did you mean `log`?" in message
    assert USAGE["help"] in message


def test_help_text_lists_every_verb_in_order():
    text = help_text(None)
    lines = text.splitlines()
    assert len(lines) == len(VERBS) + 4  # an intro, one line per verb, notes on CONTACT, files and free text
    for line, verb in zip(lines[1:], VERBS):
        assert line.startswith(f"• `{verb}")
    assert "send me a CSV file" in lines[-2]
    assert "just say what happened" in lines[-1]
    assert help_text("nonsense") == text


@pytest.mark.parametrize("topic", VERBS)
def test_help_text_for_each_verb_has_its_usage_and_examples(topic):
    text = help_text(topic)
    syntax, summary = USAGE[topic].split(" — ", 1)
    assert text.startswith(f"`{syntax}` — {summary}")
    assert text.count("\n• `") >= 1


@pytest.mark.parametrize("topic", [v for v in VERBS if v not in ("campaigns", "undo")])
def test_help_examples_parse_to_commands(topic):
    examples = [line[3:-1] for line in help_text(topic).splitlines() if line.startswith("• `")]
    assert len(examples) == 2
    for example in examples:
        p(example)  # raises GrammarError if the help teaches something the grammar doesn't take


def test_help_text_accepts_aliases_and_mentions_when_forms():
    assert help_text("followup") == help_text("remind")
    assert "next fri" in help_text("snooze")
    assert "`followup`" in help_text("remind")


def test_usage_and_verbs():
    assert VERBS == (
        "today",
        "add",
        "find",
        "show",
        "edit",
        "remove",
        "removed",
        "restore",
        "merge",
        "log",
        "note",
        "warm",
        "meeting",
        "remind",
        "snooze",
        "done",
        "undo",
        "stats",
        "campaigns",
        "rules",
        "campaign",
        "cadence",
        "settings",
        "export",
        "forget",
        "sync",
        "help",
    )
    assert set(USAGE) == set(VERBS)
    assert USAGE["log"] == (
        "log CONTACT METHOD [note] — log an outreach (linkedin, email, call, campaign_email, referral, conference)"
    )
    assert all("\n" not in usage for usage in USAGE.values())


# --- anything at all ----------------------------------------------------------------------------------------

GARBAGE = [
    "x" * 10_000,
    "log " + "x" * 10_000,
    "add " + "x " * 5_000,
    "remind " + "ana " * 3_000,
    "note " + "🔥" * 5_000,
    "stats campaign " + "a" * 10_000,
    "!!!",
    "?!?!",
    "...",
    "---",
    "@@@",
    '"',
    "“",
    "”",
    '"""',
    "🔥",
    "🔥 🔥",
    "log 🔥 🔥",
    "<b>_*[x](y)",
    "log <b>_*[x](y) email",
    "\x00",
    "log \x00 email",
    "remind \x00 \x00",
    "settings tz \x00",
    "settings days ,,,",
    "today limit -1",
    "meeting 3 booked 2026-02-30",
    "stats since 2026-02-30",
    "warm",
    "/",
    "//",
    "/@",
    "@bot",
    "outreach outreach",
    "help help help",
    "remind 3 " + "1 " * 5000,
    "remind " + '"' * 1000,
    "snooze 3 0000-00-00",
    "add ,,,,,,",
    "add @",
    "log 3 email " + "\n" * 1000,
    "%s %d {0} {}",
    "'; DROP TABLE contacts; --",
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_any_input_gives_a_command_or_a_friendly_error(text):
    try:
        result = p(text)
    except GrammarError as error:
        assert isinstance(error, InvalidInput)
        assert "Traceback" not in str(error) and len(str(error)) < 1000
    else:
        assert isinstance(result, Command) or type(result).__module__ == "bot.grammar"


def test_works_with_a_fixed_offset_now():
    from datetime import timedelta

    now = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert p("remind 3 tomorrow", now) == SetFollowUp(ME, ref("3"), utc(2026, 11, 25, 14, 0))


# --- privacy ------------------------------------------------------------------------------------------------


def test_export_and_forget_name_one_contact_and_forget_only_asks():
    from core.privacy.commands import ExportContact, PreviewErasure

    assert p("export ana@acme.com") == ExportContact(ME, ref("ana@acme.com"))
    assert p("forget 3") == PreviewErasure(ME, ref("3"))
    assert p('erase "Ana Silva"') == PreviewErasure(ME, ref("Ana Silva"))
    assert error_of("forget") == f"Which contact?\nUsage: {USAGE['forget']}"


# --- edit ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, contact, field, value",
    [
        ("edit 3 email x@y.z", "3", "email", "x@y.z"),
        ('edit "Ana Silva" org Acme Corp', "Ana Silva", "org", "Acme Corp"),
        ("edit Ana Silva company Acme Corp", "Ana Silva", "company", "Acme Corp"),
        ("/outreach edit ana past business 12k EUR", "ana", "past business", "12k EUR"),
        ('edit 3 name "Robert Stone"', "3", "name", "Robert Stone"),
        ("edit ana@acme.com notes met them re: pricing", "ana@acme.com", "notes", "met them re: pricing"),
        ("edit 3 warmness hot", "3", "warmness", "hot"),
        ("edit Ana Silva sector Green energy", "Ana Silva", "sector", "Green energy"),
        ("edit ana industry Fintech", "ana", "industry", "Fintech"),
        ("edit ana country United Kingdom", "ana", "country", "United Kingdom"),
        ("edit name name Bob", "name", "name", "Bob"),  # the contact's first word is never the field
    ],
)
def test_edit_names_a_contact_a_field_and_the_value_as_typed(text, contact, field, value):
    from core.contacts.commands import EditContact

    assert p(text) == EditContact(ME, ref(contact), field, value)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("edit", "Which contact, which field and what value?"),
        ("edit 3 colour red", "Which field? One of: name, email, phone, organisation (org, company), title"),
        ("edit 3 emial x@y.z", "did you mean `email`?"),
        ("edit ana emial", "did you mean `email`?"),
        ("edit ana b c d", "Which field? One of"),
    ],
)
def test_edit_without_a_field_or_a_value_says_what_is_missing(text, problem):
    assert problem in error_of(text)
    assert error_of(text).endswith(f"Usage: {USAGE['edit']}")


@pytest.mark.parametrize(
    "text, contact, field",
    [
        ("edit 3", "3", None),
        ('edit "Ana Silva"', "Ana Silva", None),
        ("edit Ana Silva", "Ana Silva", None),
        ("edit 3 email", "3", "email"),
        ("edit Ana Silva org", "Ana Silva", "organisation"),
        ("edit ana past business", "ana", "past_business"),
        ("edit ana linkedin", "ana", "linkedin_url"),
        ("edit ana industry", "ana", "sector"),
        ("edit ana country", "ana", "country"),
    ],
)
def test_edit_without_a_value_asks_for_it(text, contact, field):
    from bot.grammar import AskEdit

    assert p(text) == AskEdit(ref(contact), field)


# --- remove, restore, merge ---------------------------------------------------------------------------------


def test_remove_only_asks_and_restore_and_removed_name_what_they_act_on():
    from core.contacts.commands import ListRemoved, PreviewRemoval, RestoreContact

    assert p("remove 3") == PreviewRemoval(ME, ref("3"))
    assert p('archive "Ana Silva"') == PreviewRemoval(ME, ref("Ana Silva"))
    assert p("restore ana@acme.com") == RestoreContact(ME, ref("ana@acme.com"))
    assert p("removed") == ListRemoved(ME)
    assert p("removed acme corp") == ListRemoved(ME, "acme corp")
    assert error_of("remove") == f"Which contact?\nUsage: {USAGE['remove']}"


def test_merge_reads_the_contact_to_keep_after_into_and_only_asks():
    from core.contacts.commands import PreviewMerge

    assert p("merge 4 into 2") == PreviewMerge(ME, keep=ref("2"), other=ref("4"))
    assert p('merge "Bob S" into Bob Stone') == PreviewMerge(ME, keep=ref("Bob Stone"), other=ref("Bob S"))
    assert p("merge into into 2") == PreviewMerge(ME, keep=ref("2"), other=ref("into"))  # a contact named Into
    for text in ("merge", "merge 4", "merge 4 into", "merge into 2"):
        assert error_of(text).startswith("Which contact into which?"), text

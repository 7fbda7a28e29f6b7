"""One compact button codec for every platform: `verb:contact_id[:arg]`, at most 64 bytes.

Button data comes back from the client and can be forged: it carries ids only, and every action it
triggers is re-checked in the core against the acting user.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput

MAX_BYTES = 64  # Telegram's callback_data limit, the tightest of our platforms
VERBS = frozenset(
    {
        "log",  # log:ID:METHOD
        "warm",  # warm:ID
        "mreq",  # mreq:ID
        "mbook",  # mbook:ID[:ISO datetime]   (no arg: ask for the date)
        "note",  # note:ID                   (asks for the text)
        "remind",  # remind:ID:WHEN            (3d, 1w, or ask)
        "snooze",  # snooze:ID:WHEN
        "done",  # done:ID
        "more",  # more:ID                   (show the rest of the actions)
        "show",  # show:ID
        "cpause",  # cpause:ID                 (the contact's cadence plan)
        "cresume",  # cresume:ID
        "crestart",  # crestart:ID
        "cstop",  # cstop:ID[:yes]            (no arg: ask first)
        "keep",  # keep:ID:VERB               (the answer “no” to a question a VERB button asked)
        "undo",  # undo:ID:ACTIVITY_ID       (take back an outreach just logged)
        "unedit",  # unedit:ID:EDIT_ID         (put back what a contact edit replaced)
        "forget",  # forget:ID                 (erase the contact: the confirmation of `forget CONTACT`)
        "rm",  # rm:ID[:y]                 (no arg: ask first; y: remove the contact from the bank)
        "restore",  # restore:ID                (put a removed contact back: a removal's Undo, `show` of one)
        "merge",  # merge:KEEP_ID:OTHER_ID     (merge OTHER into KEEP: the confirmation of `merge`)
        "add",  # add:0:WORDS                (add a contact: WORDS are an `add` that reads one way only)
        "edit",  # edit:ID[:FIELD]           (no field: which one? a field: asks its new value; Slack: the form)
        # The preview of an interaction typed in words, a draft kept in the core until one of these; CONTACT_ID
        # is the contact it is about (0 while there is none), so that platforms update the preview in place.
        "iok",  # iok:CONTACT_ID:DRAFT_ID     (confirm: write it as the preview shows it)
        "ipick",  # ipick:CONTACT_ID:DRAFT_ID   (the contact it was with, among several that match; 0: none of these)
        "imethod",  # imethod:CONTACT_ID:DRAFT_ID:METHOD (how it happened, when the line didn't say)
        "iadd",  # iadd:0:DRAFT_ID            (add the contact named, who is not in the bank yet)
        "iedit",  # iedit:CONTACT_ID:DRAFT_ID   (asks for the line again, corrected)
        "ino",  # ino:CONTACT_ID:DRAFT_ID     (cancel: nothing is written)
    }
)


class BadButton(InvalidInput):
    """That button is no longer valid. Say `today` for a fresh list."""


@dataclass(frozen=True)
class ButtonData:
    verb: str
    contact_id: int
    arg: str | None = None


def encode(verb: str, contact_id: int, arg: str | None = None) -> str:
    if verb not in VERBS:
        raise ValueError(f"unknown button verb {verb!r}")
    data = f"{verb}:{int(contact_id)}" + (f":{arg}" if arg else "")
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> ButtonData:
    """Parse button data from a client; anything malformed is a BadButton, never a crash."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise BadButton()
    parts = data.split(":", 2)
    if len(parts) < 2 or parts[0] not in VERBS or not parts[1].isdigit() or len(parts[1]) > 12:
        raise BadButton()
    arg = parts[2] if len(parts) == 3 and parts[2] else None
    return ButtonData(parts[0], int(parts[1]), arg)

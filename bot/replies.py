"""The neutral reply model every platform renders: text, sections (one per contact row) and buttons.

A platform package turns a `Reply` into Block Kit, an inline keyboard or terminal text; nothing here knows
which platform it is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # encoded with bot.codec, at most 64 bytes


@dataclass(frozen=True)
class Section:
    """One block of a reply: usually one contact row with its one-tap buttons and a “more” menu."""

    text: str
    buttons: tuple[Button, ...] = ()
    menu: tuple[Button, ...] = ()
    contact_id: int | None = None
    monospace: bool = False  # a table: shown in a fixed-width font


@dataclass(frozen=True)
class Prompt:
    """The reply asks for free text (a note, a date); the answer comes back with this button data."""

    question: str
    data: str
    default: str = ""  # what the answer starts as, where a platform can fill it in (the line to correct)


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (the stats chart). Platforms that can upload files post it beside the
    text; the console leaves it out."""

    filename: str
    data: bytes = field(repr=False)
    mime_type: str = "image/png"
    title: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    sections: tuple[Section, ...] = ()
    ephemeral: bool = False
    prompt: Prompt | None = None
    # Set when the reply answers a tap on a row: platforms that can edit in place replace that row.
    replaces_contact_id: int | None = None
    footer: tuple[Button, ...] = field(default_factory=tuple)
    attachments: tuple[Attachment, ...] = ()
    # What was just done can be taken back for a short while with this button; platforms may offer it.
    undo: Button | None = None
    # The request had already been acted on (a platform's retry, a file shared again): platforms may stay silent.
    repeat: bool = False

    def all_buttons(self) -> list[Button]:
        buttons: list[Button] = []
        for section in self.sections:
            buttons.extend(section.buttons)
            buttons.extend(section.menu)
        buttons.extend(self.footer)
        return buttons


def and_more(count: int) -> str:
    """How a list cut short ends: “… and 299,997 more”."""
    return f"… and {count:,} more"

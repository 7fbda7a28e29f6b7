"""Typed errors of the core. Each carries a message fit to show a user as it is.

Adapters show `str(error)` to the user; nothing else of an exception ever reaches a chat.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.echo import quoted


class PipedrivenError(Exception):
    """Something went wrong in Pipedriven."""

    field: str | None = None  # the input the error is about, for a form to show it there (a contact edit's field)

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or "Something went wrong.")

    @property
    def user_message(self) -> str:
        return str(self)


class NotFound(PipedrivenError):
    """That was not found."""


class NotAllowed(PipedrivenError):
    """You are not allowed to do that."""


class InvalidInput(PipedrivenError):
    """That input is not valid."""


class Conflict(PipedrivenError):
    """That already exists."""


class UnknownUser(PipedrivenError):
    """You are not a Pipedriven user yet. Ask an admin to run `pipedriven users add YOUR_EMAIL`."""


class Busy(PipedrivenError):
    """That is busy right now. Please try again in a moment.

    `Core.execute` runs a command that meets this again for a few seconds before the user sees it."""


class SyncInFlight(Busy):
    """A sync of this person to Pipedrive is under way, so nothing was erased. Please try again in a minute."""


class DatabaseUnavailable(PipedrivenError):
    """The database is not reachable right now. Please try again in a moment."""


class SchemaTooNew(PipedrivenError):
    """The database was migrated by a newer Pipedriven than this one."""

    def __init__(self, database_at: str, knows_up_to: str | None) -> None:
        super().__init__(
            f"The database is at migration {database_at}, newer than this Pipedriven (knows up to "
            f"{knows_up_to}): upgrade Pipedriven before starting it."
        )


@dataclass(frozen=True)
class Candidate:
    contact_id: int
    label: str


class AmbiguousContact(PipedrivenError):
    """More than one contact matches; pick one."""

    def __init__(self, text: str, candidates: list[Candidate], *, more: bool = False) -> None:
        # `more`: there are further matches beyond the candidates offered, so don't understate the count.
        count = f"more than {len(candidates)}" if more else str(len(candidates))
        super().__init__(f"{quoted(text)} matches {count} contacts. Which one?")
        self.text = text
        self.candidates = candidates


class ContactRemoved(NotFound):
    """That contact was removed from your bank."""

    def __init__(self, message: str, contact_id: int) -> None:
        super().__init__(message)
        self.contact_id = contact_id  # the removed contact, which the answer may offer to restore

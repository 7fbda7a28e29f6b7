"""Importing a CSV of contacts into a bank: the command, its report, and the errors shown as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.command import Actor, CampaignRef, Command
from core.errors import InvalidInput
from core.views import Collision


@dataclass(frozen=True)
class ImportContacts(Command):
    """Import a CSV of contacts into a bank (the actor's own, or `owner_id`'s for the Golden Ticket team).

    `source` is a file path, bytes or a binary stream; it is read once, streamed. `mode` is "update" (existing
    contacts take the file's non-empty cells) or "skip" (existing contacts are left as they are). `progress`
    is called with (rows written, rows in the file) as batches of rows go into the database, the last time
    with every row; the import is saved when `Core.execute` returns.
    """

    actor: Actor
    source: object = field(repr=False)
    owner_id: int | None = None
    mode: str = "update"
    phone_region: str | None = None
    campaign: CampaignRef | None = None
    progress: Callable[[int, int], None] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImportIssue:
    """A row of the file that was not imported, or a cell of it that was left out, by its spreadsheet row
    number (the header is row 1)."""

    row: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    owner: str
    mode: str
    encoding: str
    delimiter: str
    mapping: tuple[tuple[str, str], ...]  # (column header, field) pairs, in the file's order
    unknown_columns: tuple[str, ...]  # the first columns left out (at most core.importing.handlers.REPORTED_COLUMNS)
    rows: int  # data rows read, blank ones included
    imported: int
    updated: int
    unchanged: int
    skipped: int  # already in the bank, left as they were (skip mode)
    blank: int
    duplicates: tuple[ImportIssue, ...]  # the same person again further down the file
    rejected: tuple[ImportIssue, ...]
    # Cells left out of rows that were imported (a warmness of 9, a phone that isn't one), one per cell.
    cell_warnings: tuple[ImportIssue, ...] = ()
    campaigns: tuple[str, ...] = ()
    added_to_campaigns: int = 0
    warnings: tuple[str, ...] = ()
    collisions: tuple[Collision, ...] = ()  # the file's people also in a colleague's bank, in file order
    sync_queued: int = 0
    more_unknown_columns: int = 0  # columns left out beyond those named in `unknown_columns`
    # What the import wrote, for the audit trail: contacts created or changed, campaigns joined.
    contact_ids: tuple[int, ...] = field(default=(), repr=False)
    campaign_ids: tuple[int, ...] = ()

    @property
    def imported_with_warnings(self) -> int:
        """Rows imported without some of their cells."""
        return len({issue.row for issue in self.cell_warnings})


class ImportUnreadable(InvalidInput):
    """That file can't be read as a CSV of contacts."""


class UploadTooLarge(InvalidInput):
    """That file is too large to import from the chat."""

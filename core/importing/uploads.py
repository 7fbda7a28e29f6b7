"""A CSV shared in chat, imported into the sender's own bank: what the chat adapters call.

An upload over the configured size is refused before anything is downloaded (`check_upload_size`); the import
itself is the ImportContacts command (core.importing.handlers).
"""

from __future__ import annotations

from core.command import Actor
from core.importing.commands import ImportContacts, ImportReport, ImportUnreadable, UploadTooLarge


def check_upload_size(size: int | None, max_bytes: int) -> None:
    """Refuse a chat upload over the limit (adapters call this with the size the platform announces, before
    downloading anything)."""
    if size is not None and size > max_bytes:
        raise UploadTooLarge(
            f"That file is {_megabytes(size)}; files shared in chat can be up to "
            f"{_megabytes(max_bytes)}. Split it, or ask an admin to run "
            "`pipedriven import FILE --user EMAIL`."
        )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


async def import_upload(
    core, actor: Actor, data: bytes, *, filename: str | None = None, idempotency_key: str | None = None
) -> ImportReport:
    """Import a CSV shared in chat into the sender's own bank (update mode).

    Raises UploadTooLarge over Settings.import_max_upload_bytes (IMPORT_MAX_UPLOAD_BYTES), ImportUnreadable
    when it isn't a CSV of contacts; both carry a message to show as it is. With an idempotency key (the
    platform's file or message id) a redelivered upload returns `AlreadyDone` and imports nothing.
    """
    check_upload_size(len(data), core.settings.import_max_upload_bytes)
    if filename and filename.lower().endswith((".xlsx", ".xls", ".numbers", ".ods")):
        raise ImportUnreadable("That is a spreadsheet, not a CSV. Save it as CSV (UTF-8) and send that file.")
    return await core.execute(ImportContacts(actor, data), idempotency_key=idempotency_key)

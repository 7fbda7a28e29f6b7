"""Every CSV file Pipedriven writes, written one way: safe to open in a spreadsheet.

A text cell that starts with = + - @ (or a tab or carriage return) is a formula to Excel, LibreOffice and
Google Sheets: a contact, note or campaign called `=HYPERLINK(...)` would run when the file is opened. Such
cells get a leading single quote, which spreadsheets show as text (OWASP's advice for CSV injection). This
holds for every text cell, `-2+3` and `-5` alike: text is never taken as a number. Numbers the program itself
writes (int, float, Decimal) stay numbers, negative ones included, since they can't carry a formula.

Lines end in CRLF, as RFC 4180 has them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet will take it as data, never as a formula. Numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(header: Sequence, rows: Iterable[Sequence]) -> str:
    """The header and rows as CSV text, every cell made safe to open."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()

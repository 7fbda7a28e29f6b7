"""CSV files built in the tests, as spreadsheets and exports write them."""

from __future__ import annotations

import csv
import io


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", line_end: str = "\r\n") -> bytes:
    """A CSV file as a spreadsheet writes it (quoted where needed, CRLF line ends)."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode(encoding)

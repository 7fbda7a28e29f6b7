"""CSV import of contacts into a bank: a pure reading layer, then one set-based write.

Reading (no database): the encoding is detected (`_detect_encoding`: a BOM says UTF-8 or UTF-16; else a file
that is mostly valid UTF-8 is UTF-8, and any other is named by charset-normalizer), the delimiter is chosen by
which one makes the header row recognisable (csv.Sniffer breaks ties, comma is the fallback), headers are mapped
by meaning in any order and case, and each row becomes a cleaned `ContactRow` or a `RejectedRow` with its
reason; a row whose cells hold bytes the encoding can't decode is rejected, never stored garbled. Rows stream:
only one batch is in memory at a time.

Writing (`import_contacts`, the ImportContacts handler) happens in ONE transaction, the one `Core.execute`
opens: rows are COPYed into a temporary staging table, then a few set-based statements find duplicates inside
the file and matches in the bank (same email, else same name and organisation), update or skip the existing
contacts, insert the new ones and add campaign memberships. A crash or a lost connection at any point leaves
nothing written; running the same import again is the way to resume, and it is safe because importing a file
twice changes nothing the second time (unchanged contacts are not even touched). One transaction also gives
the chat uploads exactly-once delivery through `Core.execute(..., idempotency_key=...)`.

The chat adapters call `import_upload` (bytes in, `ImportReport` out, uploads over the configured size
refused) and post `bot.render.result(report, user)`.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

import charset_normalizer
import phonenumbers
from sqlalchemy import select, text

from core import commands as c
from core.command import Actor
from core.errors import InvalidInput
from core.campaigns.handlers import CAMPAIGN_SIZE_HINT
from core.context import Context, find_campaign, load_user, require_golden_ticket
from core.outbox import queue_sync
from core.models import WARM_THRESHOLD, Campaign, Contact
from core.results import ImportIssue, ImportReport
from core.validation import clean_email, clean_method, clean_note, clean_phone, clean_text, clean_warmness

MODES = ("update", "skip")
IMPORT_LOCK = 7001  # the advisory-lock class of “importing into this bank” (the other key is the owner's id)
BATCH_ROWS = 500  # rows between two yields to the event loop (and two progress calls)
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
REPORTED_COLUMNS = 20  # columns left out that the report names; the rest are counted

# What each field's column may be called; headers are compared lower-cased with punctuation as spaces.
FIELD_HEADERS = {
    "name": ("name", "full name", "fullname", "contact name", "contact", "person", "person name",
             "display name"),
    "first_name": ("first name", "firstname", "first", "given name", "forename"),
    "last_name": ("last name", "lastname", "last", "surname", "family name"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "work email", "email 1"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "mobile number", "cell",
              "work phone", "phone 1"),
    "organisation": ("company", "company name", "organisation", "organization", "org", "organisation name",
                     "organization name", "employer", "account", "account name"),
    "title": ("title", "job title", "position", "role", "job", "job role"),
    "linkedin_url": ("linkedin", "linkedin url", "linkedin profile", "linkedin profile url", "linked in",
                     "linked in url"),
    "notes": ("notes", "note", "comments", "comment"),
    "warmness": ("warmness", "warmth", "warm"),
    "campaign": ("campaign", "campaign name"),
    "method": ("method", "outreach method", "channel", "outreach channel"),
}
_HEADER_FIELDS = {header: field for field, headers in FIELD_HEADERS.items() for header in headers}
_WARMNESS_WORDS = {"cold": 0, "cool": 1, "lukewarm": 2, "tepid": 2, "warm": 4, "hot": 5}
_METHOD_WORDS = {"li": "linkedin", "linked_in": "linkedin", "mail": "email", "e_mail": "email", "phone": "call",
                 "campaign": "campaign_email", "mailshot": "campaign_email", "intro": "referral",
                 "event": "conference"}
# Surname particles stay lower case inside a name: “Jan van der Berg”, “Ana da Silva”.
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "do", "du",
                        "la", "le", "ter", "ten", "bin", "ibn", "al", "el", "y", "zu"})
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.S)  # Excel's way of keeping a leading zero: ="0123"
READ_CHUNK = 1024 * 1024
UTF8_WEIGHT = 4  # a file is UTF-8 unless its bytes that aren't outnumber its valid UTF-8 characters 4 to 1
# The decoding error handler that keeps each byte it can't decode as a lone surrogate, U+DC00 + the byte: no
# decoder ever yields those characters, so a cell holding one had bytes the file's encoding can't decode.
UNDECODABLE = "pipedriven.undecodable"
_UNDECODED = re.compile("[\udc00-\udcff]")
_NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*\n?")


def _keep_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(0xDC00 + byte) for byte in error.object[error.start:error.end]), error.end


codecs.register_error(UNDECODABLE, _keep_undecodable)


class ImportUnreadable(InvalidInput):
    """That file can't be read as a CSV of contacts."""


class UploadTooLarge(InvalidInput):
    """That file is too large to import from the chat."""


# --- the pure reading layer ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactRow:
    row: int
    name: str
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    notes: str | None = None
    warmness: int | None = None
    campaign: str | None = None
    method: str | None = None

    @property
    def name_key(self) -> str:
        return self.name.lower()

    @property
    def org_key(self) -> str:
        return (self.organisation or "").lower()


@dataclass(frozen=True)
class RejectedRow:
    row: int
    reason: str


@dataclass(frozen=True)
class FileLayout:
    mapping: tuple[tuple[str, str], ...]  # (header as written, field)
    unknown_columns: tuple[str, ...]
    columns: tuple[str | None, ...]  # the field of each column by position, None when unknown
    encoding: str = ""
    delimiter: str = ""


def normalise_header(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.replace("\ufeff", "").lower()).split())


def map_headers(headers: list[str]) -> FileLayout:
    """Which field each column holds. The first column of a field wins; a repeat is reported as unknown."""
    columns: list[str | None] = []
    mapping, unknown, taken = [], [], set()
    for header in headers:
        field = _HEADER_FIELDS.get(normalise_header(header))
        shown = header.replace("\ufeff", "").strip()
        if field is None or field in taken:
            columns.append(None)
            if shown:
                unknown.append(shown if field is None else f"{shown} (a second {field.replace('_', ' ')} column)")
            continue
        taken.add(field)
        columns.append(field)
        mapping.append((shown, field))
    if "name" not in taken and not {"first_name", "last_name"} & taken:
        found = ", ".join(h.strip() for h in headers if h.strip())[:200] or "none"
        raise ImportUnreadable("I can't find a name column (Name, Full name, or First and Last name). "
                               f"The headers I see: {found}.")
    return FileLayout(tuple(mapping), tuple(unknown), tuple(columns))


def tidy_name(raw: str) -> str:
    """Trim a name and fix its case when it was typed in the wrong one: “aNA SILVA” → “Ana Silva”.

    Words that already look deliberate keep their case (McDonald, DeVito, van der Berg, AJ); an all-capitals
    or all-lower-case name is recased as a whole, with Mc, O' and hyphenated names handled.
    """
    words = " ".join(raw.split()).split(" ")
    letters = [ch for ch in "".join(words) if ch.isalpha()]
    whole = bool(letters) and (all(ch.isupper() for ch in letters) or all(ch.islower() for ch in letters))
    return " ".join(_recase(word, first=i == 0) if whole or _miscased(word) else word
                    for i, word in enumerate(words))


def _miscased(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return False
    if all(ch.isupper() for ch in letters):
        return len(letters) >= 3  # “AJ” and “JP” are initials
    if letters[0].islower():  # “silva”, “aNA” — but “van” and “de” are particles
        return word.lower() not in _PARTICLES or any(ch.isupper() for ch in letters)
    return False


def _recase(word: str, *, first: bool) -> str:
    lower = word.lower()
    if lower in _PARTICLES and not (first and not word.islower()):
        # A particle stays lower case, except at the start of a name typed in capitals: “VAN DER BERG”.
        return lower
    parts = re.split(r"([-'’])", lower)
    return "".join(_capitalise(part) if part not in ("-", "'", "’") else part for part in parts)


def _capitalise(part: str) -> str:
    if len(part) > 2 and part.startswith("mc"):
        return "Mc" + part[2:].capitalize()
    return part.capitalize()


def clean_row(row: int, cells: dict[str, str], *, phone_region: str) -> ContactRow | RejectedRow:
    """One row of cells (by field) cleaned into a contact, or the reason it can't be imported."""
    try:
        name = cells.get("name") or " ".join(filter(None, (cells.get("first_name"), cells.get("last_name"))))
        if not name.strip():
            return RejectedRow(row, "no name")
        return ContactRow(
            row=row,
            name=clean_text(tidy_name(name), field="name", max_length=200, required=True),
            email=clean_email(cells.get("email")),
            phone=_phone(cells.get("phone"), phone_region),
            organisation=clean_text(cells.get("organisation"), field="organisation", max_length=200),
            title=clean_text(cells.get("title"), field="title", max_length=200),
            linkedin_url=clean_text(cells.get("linkedin_url"), field="LinkedIn URL", max_length=500),
            notes=clean_note(cells.get("notes")),
            warmness=_warmness(cells.get("warmness")),
            campaign=clean_text(cells.get("campaign"), field="campaign name", max_length=200),
            method=_method(cells.get("method")),
        )
    except InvalidInput as error:
        return RejectedRow(row, str(error))


def _phone(value: str | None, region: str) -> str | None:
    try:
        return clean_phone(value, region)
    except InvalidInput:
        # Spreadsheets drop the + of an international number kept as a number: 447946095800.
        digits = (value or "").strip()
        if digits.isdigit() and len(digits) >= 10:
            return clean_phone("+" + digits, region)
        raise


def _warmness(value: str | None) -> int | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if value in _WARMNESS_WORDS:
        return _WARMNESS_WORDS[value]
    match = re.fullmatch(r"(\d)(?:\.0*)?(?:\s*/\s*5)?", value)
    if match is None:
        raise InvalidInput(f"“{value[:20]}” is not a warmness (0 to 5, or cold/warm/hot).")
    return clean_warmness(int(match[1]))


def _method(value: str | None) -> str | None:
    key = re.sub(r"[\s\-]+", "_", (value or "").strip().lower())
    return clean_method(_METHOD_WORDS.get(key, key)) if key else None


class ContactFile:
    """A CSV file of contacts, opened for streaming: `layout` is known on opening, then `rows()` reads on.

    `source` is a path, bytes or a binary stream (a stream that can't seek is spooled to a temporary file,
    since detecting the encoding reads the file once before the rows are read).
    """

    def __init__(self, source, *, phone_region: str) -> None:
        self.phone_region = phone_region
        self._text: io.TextIOWrapper | None = None
        # A stream the caller handed in stays theirs: read it, but don't close it.
        self._owned = not (hasattr(source, "read") and getattr(source, "seekable", lambda: False)())
        self._binary = _open_binary(source)
        try:
            self.total_bytes = self._binary.seek(0, io.SEEK_END)
            self._binary.seek(0)
            if self.total_bytes == 0:
                raise ImportUnreadable("The file is empty.")
            self._open_text()
        except BaseException:
            self.close()
            raise
        self.blank_rows = 0
        self.rows_read = 0
        self._extra_columns: set[int] = set()

    def _open_text(self) -> None:
        head = self._binary.read(SAMPLE_BYTES)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise ImportUnreadable("That is an Excel workbook, not a CSV. In Excel choose File › Save As › "
                                   "CSV UTF-8, then send that file.")
        encoding = _detect_encoding(head, self._binary)
        sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
        self._binary.seek(0)
        self._text = io.TextIOWrapper(self._binary, encoding=encoding, errors=UNDECODABLE, newline="")
        first_line = sample.split("\n", 1)[0].strip("\r\ufeff ")
        forced = re.fullmatch(r"sep=(.)", first_line, re.I)  # Excel's “sep=;” first line
        if forced:
            self._text.readline()
            sample = sample.split("\n", 1)[1] if "\n" in sample else ""
        delimiter = forced[1] if forced else _choose_delimiter(sample.lstrip("\ufeff"))
        self._reader = csv.reader(self._text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        self._row = 0
        headers = self._next_record()
        while headers is not None and not any(cell.strip() for cell in headers):
            headers = self._next_record()  # blank lines above the header
        if headers is None:
            raise ImportUnreadable("The file has no header row.")
        headers = [_UNDECODED.sub("\ufffd", header) for header in headers]
        self._named = tuple(bool(h.replace("\ufeff", "").strip()) for h in headers)
        self.layout = replace(map_headers(headers), encoding=_encoding_name(encoding),
                              delimiter=DELIMITER_NAMES.get(delimiter, repr(delimiter)))

    def _next_record(self) -> list[str] | None:
        self._row += 1  # first, so that a row the csv module can't read still has its number
        try:
            return next(self._reader)
        except StopIteration:
            self._row -= 1
            return None

    def bytes_read(self) -> int:
        return min(self._binary.tell(), self.total_bytes)

    @property
    def unnamed_columns_with_data(self) -> tuple[str, ...]:
        return tuple(f"column {i + 1} (no header)" for i in sorted(self._extra_columns))

    def rows(self) -> Iterator[ContactRow | RejectedRow]:
        """Every data row, cleaned or rejected. Blank rows are counted, not returned."""
        columns = self.layout.columns
        while True:
            try:
                record = self._next_record()
            except csv.Error as error:
                self.rows_read += 1
                yield RejectedRow(self._row, _csv_problem(error))
                continue
            if record is None:
                return
            self.rows_read += 1
            cells: dict[str, str] = {}
            for i, value in enumerate(record):
                value = value.replace("\x00", "").strip()
                if not value:
                    continue
                if excel := _EXCEL_TEXT.match(value):
                    value = excel[1].strip()
                field = columns[i] if i < len(columns) else None
                if field is None:
                    if i >= len(columns) or not self._named[i]:
                        self._extra_columns.add(i)  # data under no header: reported, not dropped silently
                    continue
                cells[field] = value
            if not any(v.strip() for v in record):
                self.blank_rows += 1
                continue
            undecodable = [field for field, value in cells.items() if _UNDECODED.search(value)]
            if undecodable:
                yield RejectedRow(self._row, self._undecodable(undecodable))
                continue
            yield clean_row(self._row, cells, phone_region=self.phone_region)

    def _undecodable(self, fields: list[str]) -> str:
        header = {field: shown for shown, field in self.layout.mapping}
        return (f"undecodable bytes in {', '.join(header[field] for field in fields)}: they are not valid "
                f"{self.layout.encoding}, so the row was skipped rather than stored garbled")

    def close(self) -> None:
        if self._text is not None:
            self._text.detach()  # else the text layer would close the stream under it when collected
        if self._owned:
            self._binary.close()


def _csv_problem(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return "a quote opened on this row is never closed, so the rest of the file ran into it"
    return f"this row is not valid CSV ({error})"


def _open_binary(source) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb")
        except FileNotFoundError:
            raise ImportUnreadable(f"There is no file {os.fspath(source)}.") from None
        except IsADirectoryError:
            raise ImportUnreadable(f"{os.fspath(source)} is a folder, not a file.") from None
        except OSError as error:
            raise ImportUnreadable(f"I can't open {os.fspath(source)}: {error.strerror}.") from None
    if hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            return source
        spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        while chunk := source.read(1024 * 1024):
            spooled.write(chunk)
        spooled.seek(0)
        return spooled
    raise TypeError(f"can't read contacts from a {type(source).__name__}")


def _detect_encoding(head: bytes, binary: BinaryIO) -> str:
    """The Python codec to read the file with."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 8 and sample.count(0) >= len(sample) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is a zero.
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    valid, invalid, non_ascii_lines = _utf8_census(binary)
    # Read as UTF-8, the rows with bad bytes are skipped and reported; read as anything else, every valid UTF-8
    # character would be garbled without a word. The silent harm weighs UTF8_WEIGHT times the reported one.
    if invalid <= UTF8_WEIGHT * valid:
        return "utf-8"
    return _legacy_encoding(non_ascii_lines)


def _utf8_census(binary: BinaryIO) -> tuple[int, int, bytes]:
    """The whole file read as UTF-8: how many non-ASCII characters are valid UTF-8, how many bytes are not,
    and a sample (up to SAMPLE_BYTES) of the lines holding non-ASCII bytes."""
    # surrogateescape keeps each bad byte as one lone surrogate; "ignore" drops it when encoding back.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    valid = invalid = 0
    sample, sampling = bytearray(), True
    binary.seek(0)
    while True:
        chunk = binary.read(READ_CHUNK)
        if chunk and not chunk.endswith(b"\n"):
            chunk += binary.readline(SAMPLE_BYTES)  # whole lines, so that no sampled line is cut
        text = decoder.decode(chunk, final=not chunk)
        if not text.isascii():
            undecoded = len(text.encode("utf-8", "surrogateescape")) - len(text.encode("utf-8", "ignore"))
            invalid += undecoded
            valid += len(text) - len(text.encode("ascii", "ignore")) - undecoded
        for line in _NON_ASCII_LINE.finditer(chunk) if sampling and not chunk.isascii() else ():
            if len(sample) + len(line[0]) > SAMPLE_BYTES:
                if not sample:
                    sample += line[0][:SAMPLE_BYTES]  # a line longer than the whole sample: its start
                sampling = False
                break
            sample += line[0]
        if not chunk:
            return valid, invalid, bytes(sample)


def _legacy_encoding(sample: bytes) -> str:
    """charset-normalizer's encoding for a file that isn't UTF-8, but Windows-1252 whenever it fits as well.

    Excel saves a CSV in the Windows code page of its machine, most often 1252; on a few names charset-normalizer
    can't tell 1252 from its neighbours (é is é in Windows-1250 too, but è is č). Lines holding one of the five
    bytes 1252 lacks are left out of that comparison while they are the fewer: their rows are reported.
    """
    lines = sample.splitlines(keepends=True)
    in_1252 = [line for line in lines if _decodes(line, "cp1252")]
    judged = in_1252 if len(lines) - len(in_1252) <= len(in_1252) else lines
    matches = charset_normalizer.from_bytes(b"".join(judged))
    best = matches.best()
    if best is None:
        return "cp1252"
    if "cp1252" in {name for match in matches if match.chaos <= best.chaos for name in match.could_be_from_charset}:
        return "cp1252"
    if len(judged) < len(lines):
        best = charset_normalizer.from_bytes(sample).best() or best
    return best.encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _encoding_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    known = {"utf-8-sig": "UTF-8 (with BOM)", "utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
             "utf-16-be": "UTF-16"}
    if name in known:
        return known[name]
    if re.fullmatch(r"cp125\d", name):
        return f"Windows-{name[2:]}"
    if name.startswith("iso8859-"):
        return f"ISO-8859-{name[len('iso8859-'):]}"
    return name.upper()


def _choose_delimiter(sample: str) -> str:
    """The delimiter under which the header row makes most sense; csv.Sniffer decides when headers don't."""
    header_line = next((line for line in sample.splitlines() if line.strip(" \r" + "".join(DELIMITERS))), "")
    scores = {}
    for delimiter in DELIMITERS:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        scores[delimiter] = len({_HEADER_FIELDS.get(normalise_header(cell)) for cell in cells} - {None})
    best = max(scores.values())
    candidates = [d for d in DELIMITERS if scores[d] == best]
    if len(candidates) == 1 and best > 0:
        return candidates[0]
    try:
        sniffed = csv.Sniffer().sniff(sample[:SAMPLE_BYTES // 4], delimiters="".join(candidates)).delimiter
    except csv.Error:
        sniffed = None
    return sniffed if sniffed in candidates else candidates[0]


# --- the write ---------------------------------------------------------------------------------------------

_STAGING_COLUMNS = ("row_no", "name", "email", "phone", "organisation", "title", "linkedin_url", "notes",
                    "warmness", "method", "campaign_id", "name_key", "org_key")
_CREATE_STAGING = """
    CREATE TEMPORARY TABLE import_rows (
        row_no int PRIMARY KEY, name text NOT NULL, email text, phone text, organisation text, title text,
        linkedin_url text, notes text, warmness smallint, method text, campaign_id int,
        name_key text NOT NULL, org_key text NOT NULL,
        dup_of int, contact_id int, existing boolean NOT NULL DEFAULT false
    ) ON COMMIT DROP
"""
# Inside the file: the same email is the same person; a row without an email is the same person as another
# row with its name and organisation (one with an email is preferred as the one that stays).
_MARK_DUPLICATES = (
    """UPDATE import_rows r SET dup_of = d.first
         FROM (SELECT row_no, min(row_no) OVER (PARTITION BY email) AS first
                 FROM import_rows WHERE email IS NOT NULL) d
        WHERE r.row_no = d.row_no AND d.first <> r.row_no""",
    """UPDATE import_rows r SET dup_of = d.first
         FROM (SELECT row_no, first_value(row_no) OVER (PARTITION BY name_key, org_key
                                                       ORDER BY email IS NULL, row_no) AS first
                 FROM import_rows WHERE dup_of IS NULL) d
        WHERE r.row_no = d.row_no AND r.email IS NULL AND d.first <> r.row_no""",
)
# In the bank: the same email; else the same name and organisation (a row with an email only matches a
# contact without one, and a row without an email prefers such a contact). A bank contact claimed by
# several rows (different emails, same name) stays with the first; the others are new contacts.
_MATCH_BANK = (
    """UPDATE import_rows r SET contact_id = k.id
         FROM contacts k
        WHERE r.dup_of IS NULL AND r.email IS NOT NULL AND k.owner_id = :owner AND lower(k.email) = r.email""",
    """UPDATE import_rows r SET contact_id = m.id
         FROM (SELECT DISTINCT ON (r.row_no) r.row_no, k.id
                 FROM import_rows r
                 JOIN contacts k ON k.owner_id = :owner AND lower(k.name) = r.name_key
                                AND lower(coalesce(k.organisation, '')) = r.org_key
                                AND (r.email IS NULL OR k.email IS NULL)
                WHERE r.dup_of IS NULL AND r.contact_id IS NULL
                ORDER BY r.row_no, k.email IS NULL DESC, k.id) m
        WHERE r.row_no = m.row_no""",
    """UPDATE import_rows r SET contact_id = NULL
         FROM (SELECT row_no, row_number() OVER (PARTITION BY contact_id ORDER BY row_no) AS n
                 FROM import_rows WHERE contact_id IS NOT NULL) x
        WHERE r.row_no = x.row_no AND x.n > 1""",
    "UPDATE import_rows SET existing = true WHERE contact_id IS NOT NULL",
)
# Existing contacts take the file's non-empty cells; an empty cell never erases anything, and a note is
# appended unless the contact's notes already hold it. Only contacts that actually change are written.
_UPDATE_EXISTING = """
    WITH source AS (
        SELECT r.contact_id AS id, r.name, coalesce(r.email, k.email) AS email, coalesce(r.phone, k.phone) AS phone,
               coalesce(r.organisation, k.organisation) AS organisation, coalesce(r.title, k.title) AS title,
               coalesce(r.linkedin_url, k.linkedin_url) AS linkedin_url,
               CASE WHEN r.notes IS NULL OR strpos(coalesce(k.notes, ''), r.notes) > 0 THEN k.notes
                    WHEN k.notes IS NULL THEN r.notes
                    ELSE k.notes || E'\\n' || r.notes END AS notes,
               coalesce(r.warmness, k.warmness) AS warmness, k.warmness AS was_warmness
          FROM import_rows r JOIN contacts k ON k.id = r.contact_id
         WHERE r.existing AND r.dup_of IS NULL
           AND (r.name, coalesce(r.email, k.email), coalesce(r.phone, k.phone),
                coalesce(r.organisation, k.organisation), coalesce(r.title, k.title),
                coalesce(r.linkedin_url, k.linkedin_url), coalesce(r.warmness, k.warmness),
                r.notes IS NULL OR strpos(coalesce(k.notes, ''), r.notes) > 0)
               IS DISTINCT FROM
               (k.name, k.email, k.phone, k.organisation, k.title, k.linkedin_url, k.warmness, true)
    )
    UPDATE contacts k
       SET name = s.name, email = s.email, phone = s.phone, organisation = s.organisation, title = s.title,
           linkedin_url = s.linkedin_url, notes = s.notes, warmness = s.warmness, updated_at = :now
      FROM source s
     WHERE k.id = s.id
    RETURNING k.id, s.was_warmness, s.warmness
"""
# New contacts get their ids first, in file order, so that campaign memberships can refer to them.
_INSERT_NEW = (
    """UPDATE import_rows r SET contact_id = n.id
         FROM (SELECT row_no, nextval(pg_get_serial_sequence('contacts', 'id')) AS id
                 FROM (SELECT row_no FROM import_rows
                        WHERE NOT existing AND dup_of IS NULL ORDER BY row_no) ordered) n
        WHERE r.row_no = n.row_no""",
    """INSERT INTO contacts (id, owner_id, name, email, phone, organisation, title, linkedin_url, notes,
                            warmness, past_business, created_at, updated_at)
       SELECT contact_id, :owner, name, email, phone, organisation, title, linkedin_url, notes,
              coalesce(warmness, 0), 0, :now, :now
         FROM import_rows WHERE NOT existing AND dup_of IS NULL ORDER BY row_no""",
)
_ADD_TO_CAMPAIGNS = """
    INSERT INTO campaign_contacts (campaign_id, contact_id, outreach_method, added_by, added_at)
    SELECT campaign_id, contact_id, method, :actor, :now
      FROM import_rows WHERE dup_of IS NULL AND campaign_id IS NOT NULL ORDER BY row_no
    ON CONFLICT (campaign_id, contact_id) DO NOTHING
    RETURNING campaign_id
"""
_ALSO_IN_OTHER_BANKS = """
    SELECT r.email, u.name AS owner
      FROM import_rows r
      JOIN contacts k ON lower(k.email) = r.email AND k.owner_id <> :owner
      JOIN users u ON u.id = k.owner_id
     WHERE r.dup_of IS NULL AND r.campaign_id IS NOT NULL
     ORDER BY r.row_no, u.name
"""


async def import_contacts(cmd: c.ImportContacts, ctx: Context) -> ImportReport:
    """The ImportContacts handler: read the file, then write everything in the caller's one transaction."""
    if cmd.mode not in MODES:
        raise InvalidInput("Existing contacts are either updated or skipped.")
    actor = await load_user(ctx, cmd.actor.user_id)
    owner = actor
    if cmd.owner_id is not None and cmd.owner_id != actor.id:
        require_golden_ticket(actor, "import into someone else's bank")
        owner = await load_user(ctx, cmd.owner_id)
    default_campaign = await find_campaign(ctx, cmd.campaign) if cmd.campaign else None
    if default_campaign is not None and default_campaign.status == "closed":
        raise InvalidInput(f"Campaign “{default_campaign.name}” is closed.")
    region = (cmd.phone_region or ctx.settings.phone_region).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"“{region[:10]}” is not a country code I know for phone numbers (e.g. GB, FR, US).")
    now = ctx.clock.now()
    session = ctx.session
    # Two imports into one bank at once would both see a contact as new: the second waits for the first.
    await session.execute(text("SELECT pg_advisory_xact_lock(:lock, :owner)"),
                          {"lock": IMPORT_LOCK, "owner": owner.id})
    campaigns = {name.lower(): (cid, name, status) for cid, name, status in (await session.execute(
        select(Campaign.id, Campaign.name, Campaign.status))).all()}

    file = ContactFile(cmd.source, phone_region=region)
    try:
        rejected = await _stage(ctx, file, cmd, campaigns, default_campaign)
    finally:
        file.close()
    params = {"owner": owner.id, "actor": actor.id, "now": now}
    for statement in (*_MARK_DUPLICATES, *_MATCH_BANK):
        await session.execute(text(statement), params)
    changed = []
    if cmd.mode == "update":
        changed = (await session.execute(text(_UPDATE_EXISTING), params)).all()
    updated = len(changed)
    warmed = [cid for cid, was, now_warmness in changed if was < WARM_THRESHOLD <= now_warmness]
    for statement in _INSERT_NEW:
        await session.execute(text(statement), params)
    inserted = (await session.execute(text(
        "SELECT contact_id FROM import_rows WHERE NOT existing AND dup_of IS NULL ORDER BY row_no"))
    ).scalars().all()
    warmed += (await session.execute(text(
        "SELECT contact_id FROM import_rows WHERE NOT existing AND dup_of IS NULL AND warmness >= :warm"),
        {"warm": WARM_THRESHOLD})).scalars().all()
    added = (await session.execute(text(_ADD_TO_CAMPAIGNS), params)).scalars().all()
    counts = (await session.execute(text(
        """SELECT count(*) FILTER (WHERE dup_of IS NULL AND NOT existing) AS new,
                  count(*) FILTER (WHERE dup_of IS NULL AND existing) AS existing
             FROM import_rows"""))).one()
    duplicates = tuple(ImportIssue(row, f"the same person as row {first}") for row, first in (await session.execute(
        text("SELECT row_no, dup_of FROM import_rows WHERE dup_of IS NOT NULL ORDER BY row_no"))).all())
    await _queue_warm_syncs(ctx, cmd.actor, warmed)
    touched = sorted({cid for cid in (await session.execute(text(
        "SELECT DISTINCT campaign_id FROM import_rows WHERE campaign_id IS NOT NULL AND dup_of IS NULL"))
    ).scalars().all()})
    warnings = await _campaign_warnings(ctx, owner.id, touched)
    names = {cid: name for cid, name, _ in campaigns.values()}
    unknown = file.layout.unknown_columns + file.unnamed_columns_with_data
    return ImportReport(
        owner=owner.name, mode=cmd.mode, encoding=file.layout.encoding, delimiter=file.layout.delimiter,
        mapping=file.layout.mapping, unknown_columns=unknown[:REPORTED_COLUMNS],
        more_unknown_columns=max(0, len(unknown) - REPORTED_COLUMNS),
        rows=file.rows_read, imported=counts.new, updated=updated,
        unchanged=counts.existing - updated if cmd.mode == "update" else 0,
        skipped=counts.existing if cmd.mode == "skip" else 0, blank=file.blank_rows,
        duplicates=duplicates, rejected=tuple(rejected), campaigns=tuple(names[cid] for cid in touched),
        added_to_campaigns=len(added), warnings=warnings, sync_queued=len(warmed),
        contact_ids=tuple(sorted((*inserted, *(cid for cid, _, _ in changed)))), campaign_ids=tuple(touched))


async def _stage(ctx: Context, file: ContactFile, cmd: c.ImportContacts, campaigns: dict,
                 default_campaign: Campaign | None) -> list[ImportIssue]:
    """COPY the file's good rows into the staging table, batch by batch; return the rejected rows."""
    await ctx.session.execute(text(_CREATE_STAGING))
    # COPY is the fastest way into PostgreSQL and SQLAlchemy has no API for it: use the driver connection
    # of this very transaction.
    connection = await ctx.session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    rejected: list[ImportIssue] = []
    columns = ", ".join(_STAGING_COLUMNS)
    async with driver.cursor() as cursor:
        async with cursor.copy(f"COPY import_rows ({columns}) FROM STDIN") as copy:
            batch = 0
            for row in file.rows():
                if isinstance(row, ContactRow):
                    campaign_id, problem = _campaign_of(row, campaigns, default_campaign)
                    if problem is None:
                        await copy.write_row((row.row, row.name, row.email, row.phone, row.organisation,
                                              row.title, row.linkedin_url, row.notes, row.warmness, row.method,
                                              campaign_id, row.name_key, row.org_key))
                    else:
                        rejected.append(ImportIssue(row.row, problem))
                else:
                    rejected.append(ImportIssue(row.row, row.reason))
                batch += 1
                if batch == BATCH_ROWS:
                    batch = 0
                    if cmd.progress:
                        cmd.progress(file.bytes_read(), file.total_bytes)
                    await asyncio.sleep(0)  # a long file must not keep a chat bot on the same loop waiting
    if cmd.progress:
        cmd.progress(file.total_bytes, file.total_bytes)
    await ctx.session.execute(text("ANALYZE import_rows"))
    return rejected


def _campaign_of(row: ContactRow, campaigns: dict, default: Campaign | None) -> tuple[int | None, str | None]:
    """The campaign a row joins (its own Campaign cell, else the import's campaign), or why it can't."""
    if row.campaign is None:
        return (default.id if default else None), None
    found = campaigns.get(row.campaign.lower())
    if found is None:
        return None, f"there is no campaign “{row.campaign[:60]}”"
    campaign_id, name, status = found
    if status == "closed":
        return None, f"campaign “{name}” is closed"
    return campaign_id, None


async def _queue_warm_syncs(ctx: Context, actor: Actor, contact_ids: list[int]) -> None:
    """Contacts the import made warm go to Pipedrive, as when a user flags one warm."""
    for start in range(0, len(contact_ids), BATCH_ROWS):
        chunk = contact_ids[start:start + BATCH_ROWS]
        for contact in (await ctx.session.execute(select(Contact).where(Contact.id.in_(chunk)))).scalars():
            await queue_sync(ctx, actor, contact, "ContactWarmed", warmness=contact.warmness)
    await ctx.session.flush()


async def _campaign_warnings(ctx: Context, owner_id: int, campaign_ids: list[int]) -> tuple[str, ...]:
    if not campaign_ids:
        return ()
    warnings = []
    low, high = CAMPAIGN_SIZE_HINT
    for name, count in (await ctx.session.execute(text(
            """SELECT c.name, count(cc.id) FROM campaigns c JOIN campaign_contacts cc ON cc.campaign_id = c.id
                WHERE c.id = ANY(:ids) GROUP BY c.name ORDER BY c.name"""), {"ids": campaign_ids})).all():
        if count > high:
            warnings.append(f"“{name}” now has {count} contacts; campaigns work best with {low}-{high}.")
    shared = (await ctx.session.execute(text(_ALSO_IN_OTHER_BANKS), {"owner": owner_id})).all()
    shown = 5
    warnings.extend(f"{email} is also in {owner}'s bank." for email, owner in shared[:shown])
    if len(shared) > shown:
        warnings.append(f"… and {len(shared) - shown} more of these emails are in other users' banks too.")
    return tuple(warnings)


# --- chat uploads ------------------------------------------------------------------------------------------

def check_upload_size(size: int | None, max_bytes: int) -> None:
    """Refuse a chat upload over the limit (adapters call this with the size the platform announces, before
    downloading anything)."""
    if size is not None and size > max_bytes:
        raise UploadTooLarge(f"That file is {_megabytes(size)}; files shared in chat can be up to "
                             f"{_megabytes(max_bytes)}. Split it, or ask an admin to run "
                             "`pipedriven import FILE --user EMAIL`.")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


async def import_upload(core, actor: Actor, data: bytes, *, filename: str | None = None,
                        idempotency_key: str | None = None) -> ImportReport:
    """Import a CSV shared in chat into the sender's own bank (update mode).

    Raises UploadTooLarge over Settings.import_max_upload_bytes (IMPORT_MAX_UPLOAD_BYTES), ImportUnreadable
    when it isn't a CSV of contacts; both carry a message to show as it is. With an idempotency key (the
    platform's file or message id) a redelivered upload returns `AlreadyDone` and imports nothing.
    """
    check_upload_size(len(data), core.settings.import_max_upload_bytes)
    if filename and filename.lower().endswith((".xlsx", ".xls", ".numbers", ".ods")):
        raise ImportUnreadable("That is a spreadsheet, not a CSV. Save it as CSV (UTF-8) and send that file.")
    return await core.execute(c.ImportContacts(actor, data), idempotency_key=idempotency_key)


HANDLERS = {c.ImportContacts: import_contacts}

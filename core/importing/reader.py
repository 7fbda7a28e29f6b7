"""CSV import, the reading layer (no database): a file becomes cleaned rows, streamed.

The encoding is detected (`_detect_encoding`: a BOM says UTF-8 or UTF-16; else a file
that is mostly valid UTF-8 is UTF-8, and any other is named by charset-normalizer), the delimiter is chosen by
which one makes the header row recognisable (csv.Sniffer breaks ties, comma is the fallback), headers are mapped
by meaning in any order and case, and each row becomes a cleaned `ContactRow` (with a warning for each optional
cell it left out) or a `RejectedRow` with its reason; a row whose cells hold bytes the encoding can't decode is
rejected, never stored garbled. Rows stream: only one batch is in memory at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import IO

import charset_normalizer

from core.countries import country_code
from core.echo import quoted
from core.errors import InvalidInput
from core.importing.commands import ImportUnreadable
from core.validation import (
    clean_email,
    clean_linkedin_url,
    clean_method,
    clean_note,
    clean_phone,
    clean_text,
    read_money,
    read_warmness,
)
from core.vocabulary import OUTREACH_METHODS

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# What each field's column may be called; headers are compared lower-cased with punctuation as spaces.
FIELD_HEADERS = {
    "name": ("name", "full name", "fullname", "contact name", "contact", "person", "person name", "display name"),
    "first_name": ("first name", "firstname", "first", "given name", "forename"),
    "last_name": ("last name", "lastname", "last", "surname", "family name"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "work email", "email 1"),
    "phone": (
        "phone",
        "phone number",
        "telephone",
        "tel",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "work phone",
        "phone 1",
    ),
    "organisation": (
        "company",
        "company name",
        "organisation",
        "organization",
        "org",
        "organisation name",
        "organization name",
        "employer",
        "account",
        "account name",
    ),
    "title": ("title", "job title", "position", "role", "job", "job role"),
    "linkedin_url": (
        "linkedin",
        "linkedin url",
        "linkedin profile",
        "linkedin profile url",
        "linked in",
        "linked in url",
    ),
    "sector": ("sector", "industry", "business sector", "vertical"),
    "country": ("country", "country code", "country region", "business country region", "nation"),
    "notes": ("notes", "note", "comments", "comment"),
    "warmness": ("warmness", "warmth", "warm"),
    "campaign": ("campaign", "campaign name"),
    "method": ("method", "outreach method", "channel", "outreach channel"),
    "past_business": ("past business", "past business amount", "past revenue", "revenue"),
}
_HEADER_FIELDS = {header: field for field, headers in FIELD_HEADERS.items() for header in headers}
_METHOD_WORDS = {
    "li": "linkedin",
    "linked_in": "linkedin",
    "mail": "email",
    "e_mail": "email",
    "phone": "call",
    "campaign": "campaign_email",
    "mailshot": "campaign_email",
    "intro": "referral",
    "event": "conference",
}
# Surname particles stay lower case inside a name: “Jan van der Berg”, “Ana da Silva”.
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "das",
        "dos",
        "do",
        "du",
        "la",
        "le",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "zu",
    }
)
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
    return "".join(chr(0xDC00 + byte) for byte in error.object[error.start : error.end]), error.end


codecs.register_error(UNDECODABLE, _keep_undecodable)


@dataclass(frozen=True)
class ContactRow:
    row: int
    name: str
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    sector: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    notes: str | None = None
    warmness: int | None = None
    campaign: str | None = None
    method: str | None = None
    past_business: Decimal | None = None
    past_business_currency: str | None = None
    warnings: tuple[str, ...] = ()  # optional cells left out, each with the reason

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
        raise ImportUnreadable(
            f"I can't find a name column (Name, Full name, or First and Last name). The headers I see: {found}."
        )
    return FileLayout(tuple(mapping), tuple(unknown), tuple(columns))


def tidy_name(raw: str) -> str:
    """Trim a name and fix its case when it was typed in the wrong one: “aNA SILVA” → “Ana Silva”.

    Words that already look deliberate keep their case (McDonald, DeVito, van der Berg, AJ); an all-capitals
    or all-lower-case name is recased as a whole, with Mc, O' and hyphenated names handled.
    """
    words = raw.split() or [""]
    joined = "".join(words)
    if joined.isascii():  # every ASCII letter has a case, so these say the same as the general test below
        whole = joined.isupper() or joined.islower()
    else:
        letters = [ch for ch in joined if ch.isalpha()]
        whole = bool(letters) and (all(ch.isupper() for ch in letters) or all(ch.islower() for ch in letters))
    return " ".join(_recase(word, first=i == 0) if whole or _miscased(word) else word for i, word in enumerate(words))


@lru_cache(maxsize=1 << 14)
def _miscased(word: str) -> bool:
    if word.isascii() and word.isalpha() and word[0].isupper() and (len(word) == 1 or word[1:].islower()):
        return False  # “Silva”: the common case, said at once
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return False
    if all(ch.isupper() for ch in letters):
        return len(letters) >= 3  # “AJ” and “JP” are initials
    if letters[0].islower():  # “silva”, “aNA” — but “van” and “de” are particles
        return word.lower() not in _PARTICLES or any(ch.isupper() for ch in letters)
    return False


@lru_cache(maxsize=1 << 14)
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


_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "obe", "mbe", "cbe", "kc", "qc"})
_NAME_PART = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def surname_first(name: str) -> str:
    """“Lima, Ana” → “Ana Lima”: a name written surname first, with exactly one comma between two parts
    made of words of letters (“Smith, Jr” and “Acme, Inc.” stay as they are)."""
    parts = name.split(",")
    if len(parts) != 2:
        return name
    last, first = (part.split() for part in parts)
    words = [*last, *first]
    if not last or not first or not all(_NAME_PART.fullmatch(word) for word in words):
        return name
    if any(word.lower() in _NAME_SUFFIXES for word in first):
        return name
    return " ".join((*first, *last))


def clean_row(row: int, cells: dict[str, str], *, phone_region: str) -> ContactRow | RejectedRow:
    """One row of cells (by field) cleaned into a contact, or the reason it can't be imported.

    A name and a valid email (when there is one: it is how a person is matched) are required; any other
    cell that can't be read is left out, with a warning, and the rest of the row is imported.
    """
    try:
        if cells.get("name"):
            other_parts = cells.get("first_name") or cells.get("last_name")
            name = cells["name"] if other_parts else surname_first(cells["name"])
        else:
            name = " ".join(filter(None, (cells.get("first_name"), cells.get("last_name"))))
        if not name.strip():
            return RejectedRow(row, "no name")
        name = clean_text(tidy_name(name), field="name", max_length=200, required=True)
        email = clean_email(cells.get("email"))
    except InvalidInput as error:
        return RejectedRow(row, str(error))
    warnings: list[tuple[str, str]] = []  # (field, warning)

    def optional(field: str, clean, what: str | None = None):
        value = cells.get(field)
        if not value:
            return None
        try:
            return clean(value)
        except InvalidInput as error:
            label = _OPTIONAL_LABELS.get(field, field)
            shown = value if field == "warmness" and len(value) <= 10 else quoted(value, 40)
            reason = f"{label} {shown} is not {what}" if what else _sentence_part(str(error))
            warnings.append((field, f"{reason}; imported without it"))
            return None

    try:
        campaign = clean_text(cells.get("campaign"), field="campaign name", max_length=200)
    except InvalidInput as error:
        return RejectedRow(row, str(error))
    money = optional("past_business", read_money, "an amount")
    contact = ContactRow(
        row=row,
        name=name,
        email=email,
        phone=optional("phone", lambda v: _phone(v, phone_region), "a phone number I can read"),
        organisation=optional("organisation", lambda v: clean_text(v, field="organisation", max_length=200)),
        title=optional("title", lambda v: clean_text(v, field="title", max_length=200)),
        linkedin_url=optional("linkedin_url", clean_linkedin_url, "a LinkedIn address"),
        sector=optional("sector", lambda v: clean_text(v, field="sector", max_length=200)),
        country=optional("country", country_code, "a country I know"),
        notes=optional("notes", clean_note),
        warmness=optional("warmness", read_warmness, "0-5"),
        method=optional("method", _method, f"an outreach method ({', '.join(OUTREACH_METHODS)})"),
        past_business=money[0] if money else None,
        past_business_currency=money[1] if money else None,
        campaign=campaign,
    )
    if not warnings:
        return contact
    in_file_order = sorted(warnings, key=lambda warning: list(cells).index(warning[0]))
    return replace(contact, warnings=tuple(warning for _, warning in in_file_order))


_OPTIONAL_LABELS = {"linkedin_url": "LinkedIn", "past_business": "past business"}


def _sentence_part(message: str) -> str:
    """An error's sentence as a part of another: “The title is too long (…).” → “the title is too long (…)”."""
    return message[:1].lower() + message[1:].rstrip(".")


def _phone(value: str | None, region: str) -> str | None:
    try:
        return clean_phone(value, region)
    except InvalidInput:
        # Spreadsheets drop the + of an international number kept as a number: 447946095800.
        digits = (value or "").strip()
        if digits.isdigit() and len(digits) >= 10:
            return clean_phone("+" + digits, region)
        raise


def _method(value: str | None) -> str | None:
    key = re.sub(r"[\s\-]+", "_", (value or "").strip().lower())
    return clean_method(_METHOD_WORDS.get(key, key)) if key else None


class ContactFile:
    """A CSV file of contacts, opened for streaming: `layout` is known on opening, then `rows()` reads on.

    `source` is a path, bytes or a binary stream (a stream that can't seek is spooled to a temporary file,
    since detecting the encoding reads the file once before the rows are read).
    """

    def __init__(self, source, *, phone_region: str, count_rows: bool = False) -> None:
        self.phone_region = phone_region
        self._count = count_rows
        self.total_rows = 0  # the data rows, counted on opening when `count_rows` (for a progress bar)
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
            raise ImportUnreadable(
                "That is an Excel workbook, not a CSV. In Excel choose File › Save As › CSV UTF-8, then send that file."
            )
        encoding = _detect_encoding(head, self._binary)
        sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
        first_line = sample.split("\n", 1)[0].strip("\r\ufeff ")
        forced = re.fullmatch(r"sep=(.)", first_line, re.I)  # Excel's “sep=;” first line
        if forced:
            sample = sample.split("\n", 1)[1] if "\n" in sample else ""
        delimiter = forced[1] if forced else _choose_delimiter(sample.lstrip("\ufeff"))
        if self._count:
            self.total_rows = self._count_rows(encoding, delimiter, skip_first_line=bool(forced))
        self._binary.seek(0)
        self._text = io.TextIOWrapper(self._binary, encoding=encoding, errors=UNDECODABLE, newline="")
        if forced:
            self._text.readline()
        self._reader = csv.reader(self._text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        self._row = 0
        headers = self._next_record()
        while headers is not None and not any(cell.strip() for cell in headers):
            headers = self._next_record()  # blank lines above the header
        if headers is None:
            raise ImportUnreadable("The file has no header row.")
        headers = [_UNDECODED.sub("\ufffd", header) for header in headers]
        self._named = tuple(bool(h.replace("\ufeff", "").strip()) for h in headers)
        self.layout = replace(
            map_headers(headers),
            encoding=_encoding_name(encoding),
            delimiter=DELIMITER_NAMES.get(delimiter, repr(delimiter)),
        )

    def _count_rows(self, encoding: str, delimiter: str, *, skip_first_line: bool) -> int:
        """How many records follow the header: a first pass over the file, for a progress bar in rows."""
        self._binary.seek(0)
        text = io.TextIOWrapper(self._binary, encoding=encoding, errors=UNDECODABLE, newline="")
        try:
            if skip_first_line:
                text.readline()
            reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True)
            records, header_seen = 0, False
            while True:
                try:
                    record = next(reader)
                except csv.Error:
                    records += header_seen
                    continue
                except StopIteration:
                    return records
                if header_seen:
                    records += 1
                else:
                    header_seen = any(cell.strip() for cell in record)
        finally:
            text.detach()
            self._binary.seek(0)

    def _next_record(self) -> list[str] | None:
        self._row += 1  # first, so that a row the csv module can't read still has its number
        try:
            return next(self._reader)
        except StopIteration:
            self._row -= 1
            return None

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
                if value[:2] == '="' and (excel := _EXCEL_TEXT.match(value)):
                    value = excel[1].strip()
                field = columns[i] if i < len(columns) else None
                if field is None:
                    if i >= len(columns) or not self._named[i]:
                        self._extra_columns.add(i)  # data under no header: reported, not dropped silently
                    continue
                cells[field] = value
            if not cells and not any(v.strip() for v in record):
                self.blank_rows += 1
                continue
            if not "".join(cells.values()).isascii() and (
                undecodable := [field for field, value in cells.items() if _UNDECODED.search(value)]
            ):
                yield RejectedRow(self._row, self._undecodable(undecodable))
                continue
            yield clean_row(self._row, cells, phone_region=self.phone_region)

    def _undecodable(self, fields: list[str]) -> str:
        header = {field: shown for shown, field in self.layout.mapping}
        return (
            f"undecodable bytes in {', '.join(header[field] for field in fields)}: they are not valid "
            f"{self.layout.encoding}, so the row was skipped rather than stored garbled"
        )

    def close(self) -> None:
        if self._text is not None:
            self._text.detach()  # else the text layer would close the stream under it when collected
        if self._owned:
            self._binary.close()


def _csv_problem(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return "a quote opened on this row is never closed, so the rest of the file ran into it"
    return f"this row is not valid CSV ({error})"


def _open_binary(source) -> IO[bytes]:
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


def _detect_encoding(head: bytes, binary: IO[bytes]) -> str:
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


def _utf8_census(binary: IO[bytes]) -> tuple[int, int, bytes]:
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
    known = {
        "utf-8-sig": "UTF-8 (with BOM)",
        "utf-8": "UTF-8",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16",
        "utf-16-be": "UTF-16",
    }
    if name in known:
        return known[name]
    if re.fullmatch(r"cp125\d", name):
        return f"Windows-{name[2:]}"
    if name.startswith("iso8859-"):
        return f"ISO-8859-{name[len('iso8859-') :]}"
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
        sniffed = csv.Sniffer().sniff(sample[: SAMPLE_BYTES // 4], delimiters="".join(candidates)).delimiter
    except csv.Error:
        sniffed = None
    return sniffed if sniffed in candidates else candidates[0]

"""CSV files a person saved from a spreadsheet: UTF-8 with or without a BOM, Windows-1252,
UTF-16 with a BOM (Excel's "Unicode Text"), `,` `;` or tab between cells, CRLF or LF line
ends."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AccentdsError

DELIMITERS = (",", ";", "\t")
FIELD_LIMIT = 2**31 - 1  # csv refuses cells over 131,072 characters unless told otherwise


def _byte_char(byte: int) -> str:
    """The character a byte shows as in a file opened as Windows-1252: its own character,
    else (0x81, 0x8D, ...) the control character Excel shows or the private-use one
    LibreOffice does."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte) + chr(0xF100 + byte)


def _chars(first: int, last: int) -> str:
    return "".join(_byte_char(b) for b in range(first, last + 1))


_BYTE = {c: b for b in range(0x80, 0x100) for c in _byte_char(b)}
# a UTF-8 character as a file opened as Windows-1252 shows it: a lead byte, then 1-3 more
_MISREAD = re.compile(f"[{re.escape(_chars(0xC2, 0xF4))}][{re.escape(_chars(0x80, 0xBF))}]{{1,3}}")


def misread_utf8(text: str) -> str | None:
    """What `text` said before its UTF-8 was read as Windows-1252 ("MÃ\xa0iri" -> "Màiri",
    as Excel or LibreOffice opens a CSV file with no byte order mark), or None if it holds
    no such character."""
    found = False

    def undo(match: re.Match[str]) -> str:
        nonlocal found
        try:
            character = bytes(_BYTE[c] for c in match.group()).decode("utf-8")
        except UnicodeDecodeError:
            return match.group()
        found = True
        return character

    undone = _MISREAD.sub(undo, text)
    return undone if found else None


def allow_long_fields() -> None:
    """Let the csv module read cells of any length (a long transcript, old data): its
    default limit is process-wide and would refuse them."""
    csv.field_size_limit(FIELD_LIMIT)


@dataclass
class Sheet:
    columns: list[str]
    rows: list[dict[str, str]]  # every row with a value in it, from row 2 on (row 1: the header)
    warnings: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # each row's number as a spreadsheet shows it
    encoding: str = "utf-8"  # "cp1252" for a file read as Windows-1252


def read_sheet(path: Path) -> Sheet:
    """The rows of a spreadsheet's CSV file; AccentdsError naming the file if unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AccentdsError(f"cannot read {path}: {exc.strerror}") from None
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (.xlsx .ods .numbers), or .xls
        raise AccentdsError(
            f'{path} is a spreadsheet workbook, not CSV: save it from the spreadsheet as "CSV UTF-8" '
            "and import that file"
        )
    warnings, encoding = [], "utf-8"
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode Text"
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        text, encoding = data.decode("cp1252", errors="replace"), "cp1252"
        warnings.append(
            f"{path} is not UTF-8 (line {line}): read it as Windows-1252 (latin-1); check its "
            'accented letters, and save it as "CSV UTF-8" next time'
        )
    if "\x00" in text:
        raise AccentdsError(f"{path} is not a CSV file (it holds NUL bytes): save it as CSV and try again")
    header = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header.count)
    allow_long_fields()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, numbers, read = [], [], 0
    try:
        # a byte order mark opened as Windows-1252 ("ï»¿") or read twice is not in the header
        columns = [c.strip().lstrip("\ufeff").removeprefix("ï»¿") for c in next(reader, [])]
        read = reader.line_num
        # a spreadsheet's row is a record (a cell may hold line breaks); blank rows are skipped
        for number, cells in enumerate(reader, start=2):
            read = reader.line_num
            if any(cell.strip() for cell in cells):
                cells += [""] * (len(columns) - len(cells))  # a short row: its last cells empty
                rows.append(dict(zip(columns, cells[: len(columns)], strict=True)))
                numbers.append(number)
    except csv.Error as exc:  # named by the line its row begins on (a stray quote runs on)
        raise AccentdsError(f"{path} line {read + 1}: not readable as CSV ({exc})") from None
    return Sheet(columns, rows, warnings, numbers, encoding)

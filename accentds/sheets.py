"""CSV files a person saved from a spreadsheet: UTF-8 with or without a BOM, Windows-1252,
`,` `;` or tab between cells, CRLF or LF line ends."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AccentdsError

DELIMITERS = (",", ";", "\t")
FIELD_LIMIT = 2**31 - 1  # csv refuses cells over 131,072 characters unless told otherwise


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


def read_sheet(path: Path) -> Sheet:
    """The rows of a spreadsheet's CSV file; AccentdsError naming the file if unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AccentdsError(f"cannot read {path}: {exc.strerror}") from None
    warnings = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        text = data.decode("cp1252", errors="replace")
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
        columns = [c.strip() for c in next(reader, [])]
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
    return Sheet(columns, rows, warnings, numbers)

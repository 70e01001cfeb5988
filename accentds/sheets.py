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
    rows: list[dict[str, str]]  # row 2 of the file is rows[0]
    warnings: list[str] = field(default_factory=list)


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
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = columns
        rows = [{k: v if v is not None else "" for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise AccentdsError(f"{path} line {reader.line_num}: not readable as CSV ({exc})") from None
    return Sheet(columns, rows, warnings)

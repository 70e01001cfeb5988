"""What a spreadsheet does to the cells of a label sheet: the text it would run as a formula
or read as a number, date, ... (`spreadsheet_text` escapes it, `from_spreadsheet` reads it
back), and the checks of a sheet saved back (text opened in the wrong encoding, letters
Windows-1252 lacks, formula errors, values it reformatted, times typed over, columns not read)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .sheets import misread_utf8
from .workspace import EDITABLE_FIELDS

_FORMULA = re.compile(r"[=+\-@\t\r]")  # what a spreadsheet runs as a formula
_MONTH = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?"
)
# what a number, date or time may hold next to its digits: a month, am/pm, an exponent (1e3),
# the T of 2026-01-02T10:00, a currency sign
_VALUE_WORDS = re.compile(rf"\b({_MONTH})\b|(?<=\d)\s*[ap]\.?m?\.?(?!\w)|(?<=\d)[et](?=[+-]?\d)|[$€£¥]", re.I)
LINE_END = re.compile(r"\r\n?")
# the errors Excel (in English, German, French, Spanish) and LibreOffice save for a formula
_ERROR = re.compile(r"#[¡¿]?[A-Z/0_]+[!?]|#N/?[AD]|#NV|Err:\d{3}")
_VALUE = re.compile(r"[\s.,:/%()+-]*\d[\d\s.,:/%()+-]*")  # digits, and signs put between them


def read_as_value(value: str) -> bool:
    """Whether a spreadsheet opening the CSV reads `value` as a formula, or as a number,
    date, time, boolean or percentage it writes back in its own format ("007" as 7)."""
    return (
        bool(_FORMULA.match(value))
        or value.strip().lower() in ("true", "false")
        or bool(_VALUE.fullmatch(_VALUE_WORDS.sub(" ", value)))
    )


def spreadsheet_text(value: str) -> str:
    """`value` as a spreadsheet cell that keeps it as text: one a spreadsheet would run as a
    formula (starting with = + - @, a tab or a carriage return) or read as a number, date,
    time, boolean or percentage, after any apostrophes, gets one more apostrophe in front.
    `from_spreadsheet` undoes it."""
    return "'" + value if read_as_value(value.lstrip("'")) else value


def from_spreadsheet(value: str) -> str:
    """The value of a cell `spreadsheet_text` wrote (a cell without its apostrophe: as is)."""
    return value[1:] if value.startswith("'") and read_as_value(value.lstrip("'")) else value


def retimed(row: Mapping[str, str], clip: Mapping[str, Any]) -> list[str]:
    """The start, end and duration cells of `row` holding another number than the clip's
    (in a spreadsheet's spelling too: "5,13"), by 50 ms or more (a column shown rounded is
    not typed over); a cell it made a date of is passed over."""
    found = []
    for name in ("start", "end", "duration"):
        cell = (row.get(name) or "").strip().replace(",", ".")
        try:
            seconds = float(cell)
        except ValueError:
            continue
        if clip.get(name) is not None and abs(seconds - float(clip[name])) >= 0.05:
            found.append(name)
    return found


def warn_unread(
    path: Path,
    columns: list[str],
    rows: list[dict[str, str]],
    known: set[str],
    warn: Callable[[str], None] | None,
) -> None:
    """Warn about the columns with something in them that are neither labels nor columns
    accentds writes: a person's own column, or a label column under another header ("Notes")."""
    unread = [c for c in columns if c not in known and any((row.get(c) or "").strip() for row in rows)]
    if unread and warn:
        warn(
            f"{path}: column(s) {', '.join(repr(c) for c in unread)} not imported: the label columns are "
            f"{', '.join(EDITABLE_FIELDS)} (rename its header to one of them to import it)"
        )


def reformatted_cells(current: Mapping[str, Any], changed: Mapping[str, str]) -> list[str]:
    """The changed cells of a view (written unescaped) whose label a spreadsheet reads as a
    number, date or formula and saves as another one ("007" as "7", "1/2" as a date): a
    spreadsheet's doing as likely as a person's."""
    problems = []
    for field, value in changed.items():
        now = str(current.get(field) or "")
        if now and read_as_value(now) and read_as_value(value):
            problems.append(
                f"{field} {value!r} for {now!r}, which a spreadsheet reads as a number, date or formula "
                "and saves changed: edit it in a sheet from `accentds labels export` (which keeps such "
                "cells as text), or with `accentds label`"
            )
    return problems


def misread_cells(values: Mapping[str, str], changed: Mapping[str, str]) -> list[str]:
    """The changed cells holding UTF-8 text a spreadsheet opened as Windows-1252 ("MÃ iri" for
    "Màiri"), or the error it shows for a formula it could not work out ("#NAME?" for a
    cell typed as "-ish"): saved back, they would replace the labels with that."""
    problems = []
    for field, value in changed.items():
        if _ERROR.fullmatch(value):
            problems.append(
                f"{field} is {value}, a spreadsheet's error for a formula (text typed starting with "
                "=, +, - or @): type the text again with a ' in front"
            )
            continue
        undone = misread_utf8(values[field])
        if undone is not None:
            was = undone.strip() if field == "note" else " ".join(undone.split())
            problems.append(
                f"{field} {value!r} is {was!r} opened as Windows-1252 instead of UTF-8: export the "
                "labels again and edit that file (Excel reads it as UTF-8), or correct the cell"
            )
    return problems


def unsaved_letters(
    current: Mapping[str, Any], changed: dict[str, str], kept: list[str], number: int
) -> list[str]:
    """Drop from `changed` the cells that only have "?" for letters of the clip's value that
    Windows-1252 lacks (an emoji, "ŵ"), as a sheet saved in it has, naming them in `kept`;
    return the other changed cells of such values (saved as Windows-1252, they lost them)."""
    problems = []
    for field, value in list(changed.items()):
        now = str(current.get(field) or "")
        lacking = sorted({c for c in now if not c.encode("cp1252", errors="ignore")})
        if not lacking:
            continue
        saved = "".join(r"\?{1,2}" if c in lacking else re.escape(c) for c in now)
        if re.fullmatch(saved, value):
            del changed[field]
            kept.append(f"row {number} {field}")
        else:
            problems.append(
                f"{field} holds {' '.join(lacking)}, which this sheet's Windows-1252 cannot hold: "
                'save it as "CSV UTF-8" (or "Unicode Text") and import that'
            )
    return problems

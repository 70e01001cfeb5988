"""manifests/history.csv: one line of corpus totals (clips and minutes by status, and the
accepted clips a release could hold) after each command that changes the corpus, and the
growth by day drawn from it (`report --history`, the growth plot).

The file only ever grows, by appends outside the workspace lock, so its header is never
rewritten: a file begun before the publishable columns existed keeps its shorter header,
its old lines have no publishable figures (None) and newer lines carry them in the columns
after the header's."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from .config import STATUSES
from .files import now_iso, read_csv, write_csv_atomic
from .markup import table
from .report import _by_status, _read_manifest, _sum, _with_reasons
from .words import change_text
from .workspace import Workspace

HISTORY_NAME = "history.csv"
HISTORY_COLUMNS = [
    "time",
    "command",
    "pending_clips",
    "pending_minutes",
    "accepted_clips",
    "accepted_minutes",
    "rejected_clips",
    "rejected_minutes",
    "total_clips",
    "total_minutes",
    "publishable_clips",
    "publishable_minutes",
]
_OPTIONAL = ("publishable_clips", "publishable_minutes")  # absent from lines of older files


def history_csv(workspace: Workspace) -> Path:
    """manifests/history.csv: one line of totals per changing command."""
    return workspace.manifests / HISTORY_NAME


def _totals(workspace: Workspace, command: str, at: str | None = None) -> dict[str, Any]:
    """A history line as it stands: the time (`at`, default now), the command, the clips and
    minutes by status and the accepted clips and minutes a release could hold (the
    `publishable` stage of `report`), from manifest.parquet."""
    table = _with_reasons(workspace, _read_manifest(workspace))
    counts = _by_status(table)
    row: dict[str, Any] = {"time": at or now_iso(), "command": " ".join(command.split())}
    for state in STATUSES:
        clips, seconds = counts[state]
        row[f"{state}_clips"] = clips
        row[f"{state}_minutes"] = f"{seconds / 60:.6f}"
    row["total_clips"] = table.num_rows
    row["total_minutes"] = f"{_sum(table['duration']) / 60:.6f}"
    row["publishable_clips"] = int(pc.sum(pc.greater(table["publishable_duration"], 0)).as_py() or 0)
    row["publishable_minutes"] = f"{_sum(table['publishable_duration']) / 60:.6f}"
    return row


def append_history(workspace: Workspace, command: str, at: str | None = None) -> None:
    """Append one line (`_totals`) to manifests/history.csv. One write on an O_APPEND file,
    fsynced, as labels._append_history does; the file only ever grows. Call it after the
    command has written the manifest and released the workspace lock."""
    row = _totals(workspace, command, at)
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n").writerow(row)
    path = history_csv(workspace)
    if not path.exists():
        write_csv_atomic(path, HISTORY_COLUMNS, [])
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def history(workspace: Workspace) -> list[dict[str, Any]]:
    """Lines of manifests/history.csv, oldest first, with counts as int and minutes as float;
    the publishable figures are None on lines written before the file had them."""
    rows = []
    for raw in read_csv(history_csv(workspace)):
        # under an older, shorter header, the later columns' values come as the extra fields
        later = [name for name in HISTORY_COLUMNS if name not in raw]
        raw.update(zip(later, raw.pop(None, None) or [], strict=False))
        row: dict[str, Any] = {"time": raw.get("time", ""), "command": raw.get("command", "")}
        for name in HISTORY_COLUMNS[2:]:
            value = raw.get(name) or ("" if name in _OPTIONAL else "0")
            if value:
                row[name] = int(value) if name.endswith("_clips") else float(value)
            else:
                row[name] = None
        rows.append(row)
    return rows


def history_to_now(workspace: Workspace) -> list[dict[str, Any]]:
    """The lines of manifests/history.csv (see `history`), and the corpus as it is now where it
    differs from the last line: a run killed before it wrote its line, labels that came with a
    `git pull`. What the history shows then agrees with `status`."""
    rows = history(workspace)
    now = _totals(workspace, "now")
    keys = HISTORY_COLUMNS[2:]
    current = {k: int(now[k]) if k.endswith("_clips") else float(now[k]) for k in keys}
    last = rows[-1] if rows else {}
    if rows and all(last[k] is not None and abs(last[k] - current[k]) < 1e-6 for k in keys):
        return rows
    if not rows and not current["total_clips"]:
        return rows
    return [*rows, {"time": now["time"], "command": "now", **current}]


def growth_by_day(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last history line of each UTC day: date, minutes by status, total minutes, the
    change in accepted minutes since the previous day's last line (for the first day, since
    that day's first line) and the publishable minutes (None for a line without them)."""
    ordered = sorted(rows, key=lambda r: r["time"])  # stable: equal times keep file order
    last: dict[str, dict[str, Any]] = {}
    for row in ordered:
        last[row["time"][:10]] = row
    days = []
    previous = ordered[0]["accepted_minutes"] if ordered else 0.0
    for day, row in last.items():
        days.append(
            {
                "date": day,
                "pending_minutes": row["pending_minutes"],
                "accepted_minutes": row["accepted_minutes"],
                "rejected_minutes": row["rejected_minutes"],
                "total_minutes": row["total_minutes"],
                "delta_accepted_minutes": round(row["accepted_minutes"] - previous, 6),
                "publishable_minutes": row["publishable_minutes"],
            }
        )
        previous = row["accepted_minutes"]
    return days


DAY_COLUMNS = [
    "date",
    "accepted_minutes",
    "delta_accepted_minutes",
    "pending_minutes",
    "rejected_minutes",
    "total_minutes",
    "publishable_minutes",
]


def _change(minutes: float, digits: int) -> str:
    """A day's growth as the table shows it: `+0.7`, `-0.04` (never `-0.0`)."""
    return change_text(minutes * 60, digits).removesuffix(" min")


def _figure(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_days(days: list[dict[str, Any]], fmt: str) -> str:
    """The growth by day (from `growth_by_day`) as `report --history --format` writes it: one
    line a day for the terminal ("table"), or CSV, JSON or a Markdown table for scripts and
    pages; the same figures in each (publishable minutes unknown for a day whose last line
    predates them: null in JSON, empty in CSV, "–" in the others)."""
    if fmt == "json":
        return json.dumps([{k: day[k] for k in DAY_COLUMNS} for day in days], indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(DAY_COLUMNS)
        writer.writerows(
            [day["date"], *("" if day[k] is None else f"{day[k]:.6f}" for k in DAY_COLUMNS[1:])]
            for day in days
        )
        return buffer.getvalue()
    if fmt == "markdown":
        headers = [
            "date",
            "accepted minutes",
            "growth",
            "pending minutes",
            "rejected minutes",
            "total minutes",
            "publishable minutes",
        ]
        rows = [
            [day["date"], f"{day['accepted_minutes']:.2f}", _change(day["delta_accepted_minutes"], 2)]
            + [f"{day[k]:.2f}" for k in ("pending_minutes", "rejected_minutes", "total_minutes")]
            + [_figure(day["publishable_minutes"], 2)]
            for day in days
        ]
        return table(headers, rows) + "\n"
    return "".join(
        f"{day['date']}  accepted {day['accepted_minutes']:.1f} min "
        f"({_change(day['delta_accepted_minutes'], 1)})  pending {day['pending_minutes']:.1f}  "
        f"rejected {day['rejected_minutes']:.1f}  total {day['total_minutes']:.1f}  "
        f"publishable {_figure(day['publishable_minutes'], 1)}\n"
        for day in days
    )

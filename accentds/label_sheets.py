"""Labels to and from a spreadsheet: `export_labels` writes every clip's effective labels
as CSV, text a spreadsheet would run as a formula or change (as a number, date, ...) escaped;
`import_labels` applies a sheet saved back (any of the encodings and separators `sheets`
reads), checked whole before anything is written, a row older than its clip merged with
what changed since."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import AccentdsError
from .files import write_csv_atomic
from .label_undo import replaced
from .labels import Change, apply_edits, check_values, default_reviewer, normalise, read_source_defaults
from .manifest import check_target
from .sheet_cells import (
    LINE_END,
    from_spreadsheet,
    misread_cells,
    reformatted_cells,
    retimed,
    spreadsheet_text,
    unsaved_letters,
    warn_unread,
)
from .sheets import Sheet, read_sheet
from .views import build_manifest, write_manifest
from .workspace import DRAFT_DISMISSED, EDITABLE_FIELDS, LABEL_FIELDS, Workspace

EXPORT_COLUMNS = [
    "clip_id", "source_id", "start", "end", "duration", *EDITABLE_FIELDS, "transcript_is_draft", "version",
]  # fmt: skip


def export_labels(workspace: Workspace, path: Path) -> int:
    """Write every clip's effective labels as CSV for a spreadsheet (UTF-8 after a byte order
    mark, which Excel needs to read it as UTF-8), text that a spreadsheet
    would run as a formula or read as a number, date, ... escaped (`spreadsheet_text`);
    returns the row count."""
    check_target(workspace, path)
    rows = build_manifest(workspace).select(EXPORT_COLUMNS).to_pylist()
    for row in rows:
        row["transcript_is_draft"] = "yes" if row["transcript_is_draft"] else ""
        for name, value in row.items():
            if isinstance(value, str):
                row[name] = spreadsheet_text(value)
    write_csv_atomic(path, EXPORT_COLUMNS, rows, bom=True)  # as Excel's "CSV UTF-8"
    return len(rows)


def sheet_number(cell: str) -> int | str | None:
    """A whole number as a spreadsheet may have re-saved it ("3", "3.0", "3,00", " 3 "); ""
    for an empty cell, None for anything else."""
    text = cell.strip()
    if not text:
        return ""
    whole, _, fraction = text.replace(",", ".").partition(".")
    if whole.isdigit() and (not fraction or set(fraction) == {"0"}):
        return int(whole)
    return None


def _values_at(records: list[dict], clip_id: str, version: int | None = None) -> dict[str, str]:
    """A clip's journal values after its first `version` records (all of them with None)."""
    values: dict[str, str] = {}
    count = 0
    for tx in records:
        touched = [c for c in tx["changes"] if c["clip"] == clip_id]
        if not touched:
            continue
        if version is not None and count == version:
            break
        count += 1
        for change in touched:
            values[change["field"]] = change["new"]
    return values


def _shown(
    field: str, values: Mapping[str, str], row: Mapping[str, Any], defaults: Mapping[str, Mapping[str, str]]
) -> str:
    """What a clip with the journal `values` shows in `field`: the value set, else pending,
    its caption draft (unless an empty transcript dismissed it), its source's default speaker
    or accent, or nothing."""
    if values.get(field):
        return values[field]
    if field == "status":
        return "pending"
    if field == "transcript":
        return "" if values.get(DRAFT_DISMISSED) == "1" else str(row.get("transcript_draft") or "")
    return defaults.get(str(row["source_id"]), {}).get(field, "")


def _merge_stale(
    workspace: Workspace,
    edits: dict[str, dict[str, str]],
    stale: dict[str, tuple[int, int]],
    shown: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Merge the edits of rows exported before their clip's last change (see `import_labels`):
    drop the cells the sheet left as they were, keep the ones only the sheet changed; return
    the conflicts. A cell changed since and changed back (an undo) is not changed."""
    if not stale:
        return []
    records = workspace.journal().for_clips(list(stale))
    defaults = read_source_defaults(workspace)
    problems = []
    for cid, (number, version) in stale.items():
        then, now = _values_at(records, cid, version), _values_at(records, cid)
        for field, value in list(edits[cid].items()):
            exported = _shown(field, then, shown[cid], defaults)
            current = _shown(field, now, shown[cid], defaults)
            if value == exported:
                del edits[cid][field]  # as exported: what changed since stays
            elif current != exported:
                problems.append(
                    f"row {number}: {field} of {cid} changed since this sheet was written "
                    f"(now {current!r}, the sheet says {value!r}); export the labels again"
                )
        if not edits[cid]:
            del edits[cid]
    return problems


def _label_columns(path: Path, sheet: Sheet) -> tuple[list[str], list[dict[str, str]]]:
    """The sheet's columns and rows, a header a person retyped ("Status", "Accent evidence")
    read as the label column it names; a label column twice is refused."""
    wanted = {"clip_id", "version", *EDITABLE_FIELDS}
    names = []
    for column in sheet.columns:
        name = "_".join(column.lower().replace("_", " ").split())
        names.append(name if name in wanted else column)
    twice = sorted({n for n in names if n in wanted and names.count(n) > 1})
    if twice:
        headers = [c for c, n in zip(sheet.columns, names, strict=True) if n == twice[0]]
        raise AccentdsError(f"{path} has {len(headers)} {twice[0]} columns ({', '.join(headers)}): keep one")
    renamed = dict(zip(sheet.columns, names, strict=True))
    return names, [{renamed[k]: v for k, v in row.items()} for row in sheet.rows]


def _name_replaced(workspace: Workspace, problems: list[str], unknown: dict[int, str]) -> None:
    """Say, for each unknown clip id a boundary edit, split or re-cut replaced since the sheet
    was written, what became of it (in place of `problems[index]`)."""
    found = replaced(workspace, unknown.values())
    sources = {s.source_id for s in workspace.read_sources()}
    for index, cid in unknown.items():
        row = problems[index].split(": ", 1)[0]
        if cid in found:
            what, to = found[cid]
            then = f"its labels are on {' and '.join(to)}: put the new id in the row, or " if to else ""
            problems[index] = f"{row}: clip {cid} no longer exists ({what}): {then}export the labels again"
        elif _source_of(cid) in sources:  # a clip without labels: no move recorded it
            problems[index] = (
                f"{row}: clip {cid} no longer exists (its source {_source_of(cid)} was cut again): "
                "export the labels again"
            )


def _source_of(clip_id: str) -> str:
    """The source a clip id names (`<source_id>-<start_ms:08d>-<end_ms:08d>`), or ""."""
    parts = clip_id.rsplit("-", 2)
    if len(parts) == 3 and all(len(p) == 8 and p.isdigit() for p in parts[1:]):
        return parts[0]
    return ""


def import_labels(
    workspace: Workspace,
    path: Path,
    reviewer: str = "",
    dry_run: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[Change]:
    """Apply a spreadsheet of labels. The whole file is checked first: an unknown clip id or
    value stops the import with the row numbers at fault, and nothing is written. A cell
    escaped by `export_labels` reads as the value it escapes.

    A cell equal to what the clip shows now (its source default or caption draft included)
    is not a change, so an exported file imports back as no change at all. A row whose
    `version` (as `labels export` and the labels view write it) is older than the clip's is
    merged: a cell still as the clip was at that version is left as the clip is now (someone
    changed it since), a cell changed in the sheet is applied where the clip's field did not
    change since, and is a conflict that stops the import where both changed."""
    sheet = read_sheet(path)
    columns, rows = _label_columns(path, sheet)
    for message in sheet.warnings:
        if warn:
            warn(message)
    if "clip_id" not in columns:
        raise AccentdsError(
            f"{path} has no clip_id column (columns: {', '.join(columns) or 'none'}): the column that "
            "says which clip a row labels; put it back, or export the labels again (accentds labels export)"
        )
    fields = [c for c in columns if c in EDITABLE_FIELDS]
    if not fields:
        raise AccentdsError(
            f"{path} has none of the label columns ({', '.join(EDITABLE_FIELDS)}; its columns: "
            f"{', '.join(columns)}): name the header of the column to import as one of them"
        )
    manifest = build_manifest(workspace)
    shown = {row["clip_id"]: row for row in manifest.to_pylist()}
    warn_unread(path, columns, rows, {*manifest.column_names, *EXPORT_COLUMNS, *LABEL_FIELDS}, warn)
    view = path.resolve() == workspace.labels_csv.resolve()
    unescaped = path.resolve() in (workspace.labels_csv.resolve(), workspace.manifest_csv.resolve())
    schema = workspace.config.labels
    problems: list[str] = []
    edits: dict[str, dict[str, str]] = {}
    stale: dict[str, tuple[int, int]] = {}  # clip -> (row, version) of rows older than the clip
    seen: dict[str, int] = {}
    unknown: dict[int, str] = {}  # problems' index -> a clip id no clip has
    kept: list[str] = []  # cells where Windows-1252 put "?" for letters it lacks
    typed_over: list[str] = []  # start, end or duration cells typed over
    for number, row in zip(sheet.numbers, rows, strict=True):
        cid = (row.get("clip_id") or "").strip()
        if not cid:  # a row a person added, or a clip id cleared
            problems.append(f"row {number} has no clip_id: put the clip's id in it, or delete the row")
            continue
        if cid not in shown:
            problems.append(f"row {number}: unknown clip id {cid!r}")
            unknown[len(problems) - 1] = cid
            continue
        if cid in seen:
            problems.append(f"row {number}: clip {cid} already on row {seen[cid]}")
            continue
        seen[cid] = number
        typed_over += [
            f"row {number} {c} ({row[c].strip()}, the clip's {shown[cid][c]})"
            for c in retimed(row, shown[cid])
        ]
        # a line break in a cell as the file's own (CRLF, or a Mac's CR) is a line break
        values = {f: LINE_END.sub("\n", from_spreadsheet(row.get(f) or "")) for f in fields}
        clean = {k: " ".join(v.split()) if k != "note" else v.strip() for k, v in values.items()}
        clean = normalise(schema, clean)
        current = shown[cid]
        if view and clean.get("status") == "" and current["status"] == "pending":
            clean["status"] = "pending"  # the labels view leaves a clip's status empty until set
        if view and clean.get("transcript") == "" and current["transcript_is_draft"]:
            del clean["transcript"]  # the view holds typed words only: a caption draft is not in it
        changed = {k: v for k, v in clean.items() if str(current.get(k) or "") != v}
        problems += [f"row {number}: {p}" for p in misread_cells(values, changed)]
        if unescaped:  # a view's cells are as the labels are: a spreadsheet may have changed them
            problems += [f"row {number}: {p}" for p in reformatted_cells(current, changed)]
        lost = unsaved_letters(current, changed, kept, number)  # a sheet in ASCII may have them too
        if sheet.encoding == "cp1252":
            problems += [f"row {number}: {p}" for p in lost]
        # a cell left as it is passes: a transcript from before the limit, an accent since
        # taken out of [labels] accents
        for problem in check_values(schema, changed):
            problems.append(f"row {number}: {problem}")
        if changed:
            edits[cid] = changed
        sheet_version = sheet_number(row.get("version") or "")
        if sheet_version is None:
            problems.append(f"row {number}: version {row.get('version')!r} is not a whole number")
        elif changed and sheet_version != "" and sheet_version < int(current.get("version") or 0):
            stale[cid] = (number, sheet_version)
    problems += _merge_stale(workspace, edits, stale, shown)
    if unknown:
        _name_replaced(workspace, problems, unknown)
    if typed_over and warn:
        warn(
            f"{path}: {', '.join(typed_over[:5])}{' ...' if len(typed_over) > 5 else ''}: not imported, a clip's "
            "times are its audio's: `accentds clip bounds CLIP_ID --start S --end E` re-cuts a clip"
        )
    if kept and warn:
        warn(
            f"{path}: {', '.join(kept[:5])}{' ...' if len(kept) > 5 else ''}: '?' where Windows-1252 has no "
            "such letter: kept as the clips have it"
        )
    if edits and "version" not in columns and not view and warn:
        warn(
            f"{path} has no version column: its cells replace the clips' labels, also those changed "
            "since it was exported (export again, or keep the column, to keep later changes)"
        )
    if problems:
        listed = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise AccentdsError(f"{path}: nothing imported, {len(problems)} problem(s):\n  {listed}{more}")
    if dry_run:
        planned = []
        for cid, values in edits.items():
            planned += [Change(cid, k, str(shown[cid].get(k) or ""), v) for k, v in values.items()]
            if (
                values.get("status") == "accepted"
                and "transcript" not in values
                and shown[cid]["transcript_is_draft"]
            ):
                planned.append(
                    Change(cid, "transcript", "", shown[cid]["transcript"])
                )  # accepting confirms it
        return planned
    why = f"import of {path.name}"
    changes = apply_edits(workspace, edits, reviewer or default_reviewer(), why=why) if edits else []
    if path.resolve() in (workspace.labels_csv, workspace.manifest_csv):
        path.unlink()  # a view edited by hand: now imported, it is rewritten from the labels
        with workspace.lock():
            write_manifest(workspace)
    return changes

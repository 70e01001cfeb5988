"""Human labels: validation against the schema, edits with history and undo, source defaults,
speaker renames, and spreadsheet export/import.

Labels live in manifests/labels.csv (one row per labelled clip), source defaults in
manifests/source_labels.csv, and every change is appended to manifests/label_history.csv.
Each clip's row has a version that every edit increments: an edit made against an older
version is refused with the current values, never applied over them."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .config import LabelSchema
from .errors import AccentdsError
from .journal import ClipLabels, fold, history_rows, new_tx_id
from .licences import OTHER, check, read_attribution
from .sheets import read_sheet
from .splits import check_merge, rename_in_memory
from .views import build_manifest, write_manifest
from .workspace import (
    DRAFT_DISMISSED,
    EDITABLE_FIELDS,
    SOURCE_LABEL_FIELDS,
    Workspace,
    now_iso,
    read_csv,
    write_csv_atomic,
)

EXPORT_COLUMNS = [
    "clip_id", "source_id", "start", "end", "duration", *EDITABLE_FIELDS, "transcript_is_draft", "version",
]  # fmt: skip
_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # what a spreadsheet runs as a formula, maybe quoted


class LabelConflict(AccentdsError):
    """The clip changed since the editor loaded it; `current` holds its values now."""

    def __init__(self, clip_id: str, current: dict[str, str], version: int) -> None:
        shown = ", ".join(f"{k}={v!r}" for k, v in current.items() if v) or "no labels"
        super().__init__(
            f"{clip_id} was changed elsewhere since it was loaded (now version {version}: {shown}); "
            "reload it and make the edit again"
        )
        self.clip_id = clip_id
        self.current = current
        self.version = version


@dataclass(frozen=True)
class Change:
    """One field of one clip changed by an edit."""

    clip_id: str
    field: str
    old: str
    new: str


def _allowed(name: str, value: str, choices: Sequence[str], empty_ok: bool = True) -> str | None:
    if value in choices or (empty_ok and value == ""):
        return None
    listed = ", ".join(repr(c) for c in choices)
    return f"unknown {name} {value!r}; allowed: {listed}"


def too_long(schema: LabelSchema, values: Mapping[str, str]) -> list[str]:
    """The problem of a transcript longer than the schema allows (empty list: none)."""
    length = len(values.get("transcript", ""))
    if length <= schema.max_transcript_chars:
        return []
    return [
        f"transcript is {length:,} characters long; the limit is {schema.max_transcript_chars:,} "
        "([labels] max_transcript_chars in accentds.toml): shorten it or split the clip"
    ]


def check_values(schema: LabelSchema, values: Mapping[str, str]) -> list[str]:
    """Problems with label values (empty list when all are allowed)."""
    problems = too_long(schema, values)
    for name in values:
        if name not in EDITABLE_FIELDS:
            problems.append(f"unknown field {name!r}; editable: {', '.join(EDITABLE_FIELDS)}")
    checks = (
        ("accent", schema.accents, True),
        ("accent_evidence", schema.accent_evidence, True),
        ("status", schema.statuses, False),
    )
    for name, choices, empty_ok in checks:
        if name in values:
            problem = _allowed(name.replace("_", " "), values[name], choices, empty_ok)
            if problem:
                problems.append(problem)
    return problems


def validate(schema: LabelSchema, values: Mapping[str, str]) -> dict[str, str]:
    """Clean values (whitespace trimmed; statuses, accents and evidence in the schema's
    spelling whatever their case, as an import takes them) or AccentdsError naming the
    allowed ones."""
    clean = {k: " ".join(str(v).split()) if k != "note" else str(v).strip() for k, v in values.items()}
    clean = _normalise(schema, clean)
    problems = check_values(schema, clean)
    if problems:
        raise AccentdsError("; ".join(problems))
    return clean


def _unknown(workspace: Workspace, clip_ids: Iterable[str]) -> list[str]:
    """The ids of `clip_ids` that clips.parquet does not hold."""
    ids = list(dict.fromkeys(clip_ids))
    live = workspace.read_clip_table(columns=["clip_id"])["clip_id"]
    # the few ids asked for as the hashed set, the corpus's column scanned once
    found = live.filter(pc.is_in(live, value_set=pa.array(ids, pa.string())))
    known = set(found.to_pylist())
    return [cid for cid in ids if cid not in known]


def _drafts(workspace: Workspace, clip_ids: Iterable[str]) -> dict[str, str]:
    wanted = set(clip_ids)
    return {
        r["clip_id"]: r.get("transcript_draft", "")
        for r in read_csv(workspace.drafts_csv)
        if r["clip_id"] in wanted
    }


def _apply(
    workspace: Workspace,
    edits: Mapping[str, Mapping[str, str]],
    reviewer: str,
    versions: Mapping[str, int] | None = None,
    undoes: str = "",
    why: str = "",
    tx_id: str = "",
) -> list[Change]:
    """Apply per-clip edits as one journal record (named `tx_id` when given), under the lock;
    call with validated values only."""
    with workspace.lock():
        unknown = _unknown(workspace, edits)
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise AccentdsError(
                f"unknown clip id(s): {', '.join(unknown[:5])}{more}; `accentds labels list` shows them"
            )
        journal = workspace.journal()
        # a few clips: only their lines are read, so a save costs the same at any corpus size
        records = journal.for_clips(edits) if len(edits) <= 64 else journal.transactions()
        labels = fold(records, set(edits))
        for cid, expected in (versions or {}).items():
            state = labels.get(cid, ClipLabels())
            if state.version != expected:
                current = {k: state.values.get(k, "") for k in EDITABLE_FIELDS}
                raise LabelConflict(cid, current, state.version)

        # accepting a clip confirms the caption draft it shows; an empty transcript set on a
        # clip with a draft dismisses the draft (it stays a suggestion, not the value)
        def shows_draft(cid: str) -> bool:
            have = labels.get(cid, ClipLabels()).values
            return not have.get("transcript") and not have.get(DRAFT_DISMISSED)

        confirming = [
            cid
            for cid, values in edits.items()
            if values.get("status") == "accepted" and "transcript" not in values and shows_draft(cid)
        ]
        clearing = [cid for cid, values in edits.items() if values.get("transcript") == ""]
        wanted = set(confirming) | set(clearing)
        drafts = _drafts(workspace, wanted) if wanted else {}
        changes: list[Change] = []
        for cid, values in edits.items():
            values = dict(values)
            if cid in confirming and drafts.get(cid):
                values["transcript"] = drafts[cid]
            elif values.get("transcript") == "" and drafts.get(cid) and DRAFT_DISMISSED not in values:
                values[DRAFT_DISMISSED] = "1"
            have = labels.get(cid, ClipLabels()).values
            changes += [Change(cid, k, have.get(k, ""), v) for k, v in values.items() if have.get(k, "") != v]
        if changes:
            tx = {"tx": tx_id or new_tx_id(), "time": now_iso(), "reviewer": reviewer}
            tx |= {"undoes": undoes} if undoes else {}
            tx |= {"why": why} if why else {}
            tx["changes"] = [
                {"clip": c.clip_id, "field": c.field, "old": c.old, "new": c.new} for c in changes
            ]
            journal.append([tx])
        return changes


def set_labels(
    workspace: Workspace,
    clip_ids: Iterable[str],
    values: Mapping[str, str],
    reviewer: str = "",
    expected_version: int | None = None,
    *,
    versions: Mapping[str, int] | None = None,
    tx_id: str = "",
) -> list[Change]:
    """Set label fields on clips, as one journal record; returns what changed.

    With `expected_version` (or per clip, `versions`), the edit is refused (LabelConflict)
    if a clip's label has been changed since that version was read. An empty transcript on a
    clip with a caption draft dismisses the draft. `tx_id` names the record (for `undo_tx`)."""
    clean = validate(workspace.config.labels, values)
    ids = list(dict.fromkeys(clip_ids))
    if not ids:
        raise AccentdsError("name at least one clip id")
    if expected_version is not None:
        versions = {cid: expected_version for cid in ids}
    return _apply(
        workspace, {cid: clean for cid in ids}, reviewer or default_reviewer(), versions, tx_id=tx_id
    )


def default_reviewer() -> str:
    """$ACCENTDS_REVIEWER, else the login name (from $USER, $LOGNAME or the system), else
    the user id ("uid 1000"): an edit always names who made it."""
    named = os.environ.get("ACCENTDS_REVIEWER") or os.environ.get("USER") or os.environ.get("LOGNAME")
    if named and named.strip():
        return named.strip()
    try:
        return getpass.getuser() or f"uid {os.getuid()}"
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def history(workspace: Workspace, clip_id: str) -> list[dict[str, str]]:
    """Every recorded change of one clip's labels, oldest first. A clip a re-cut replaced keeps
    its history; an id no clip ever had and no change names is refused."""
    rows = list(history_rows(workspace.journal().for_clips([clip_id]), clip_id))
    if not rows and _unknown(workspace, [clip_id]):
        raise AccentdsError(f"unknown clip id(s): {clip_id}; `accentds labels list` shows them")
    return rows


def undo(workspace: Workspace, clip_id: str, reviewer: str = "") -> list[Change]:
    """Restore the values a clip had before its last change that is not undone yet."""
    with workspace.lock():
        records = workspace.journal().for_clips([clip_id])
        undone = {tx.get("undoes") for tx in records}
        edits = [tx for tx in records if not tx.get("undoes") and tx.get("tx") not in undone]
        if not edits:
            if not records and _unknown(workspace, [clip_id]):
                raise AccentdsError(f"unknown clip id(s): {clip_id}; `accentds labels list` shows them")
            raise AccentdsError(f"nothing to undo for {clip_id}")
        last = edits[-1]
        restore = {c["field"]: c.get("old", "") for c in last["changes"] if c["clip"] == clip_id}
        return _apply(
            workspace, {clip_id: restore}, reviewer or default_reviewer(), undoes=last.get("tx", "")
        )


def undo_tx(workspace: Workspace, tx_id: str, reviewer: str = "") -> list[Change]:
    """Undo one recorded change (every clip it touched, as one record), refused if any of
    its clips was changed after it."""
    if not tx_id or not tx_id.isalnum():
        raise AccentdsError(f"no recorded change {tx_id!r}")
    with workspace.lock():
        journal = workspace.journal()
        records = journal.transactions()
        index = next((i for i, tx in enumerate(records) if tx.get("tx") == tx_id), None)
        if index is None:
            raise AccentdsError(f"no recorded change {tx_id!r}")
        if any(tx.get("undoes") == tx_id for tx in records[index + 1 :]):
            raise AccentdsError(f"change {tx_id} was undone already")
        target = records[index]
        clips = {c["clip"] for c in target["changes"]}
        later = {c["clip"] for tx in records[index + 1 :] for c in tx["changes"]} & clips
        if later:
            raise AccentdsError(
                f"{len(later)} clip(s) changed since ({', '.join(sorted(later)[:3])}); undo them one "
                "by one with `accentds labels undo CLIP`"
            )
        restore: dict[str, dict[str, str]] = {}
        for change in target["changes"]:
            restore.setdefault(change["clip"], {})[change["field"]] = change.get("old", "")
        return _apply(workspace, restore, reviewer or default_reviewer(), undoes=tx_id)


def undo_last_import(workspace: Workspace, reviewer: str = "") -> list[Change]:
    """Undo the newest `labels import` not undone yet, every clip it changed as one record
    (refused, as `undo_tx`, if any of them changed since)."""
    records = workspace.journal().transactions()
    undone = {tx.get("undoes") for tx in records}
    imports = [
        tx for tx in records if str(tx.get("why", "")).startswith("import of ") and tx.get("tx") not in undone
    ]
    if not imports:
        raise AccentdsError("no labels import to undo")
    return undo_tx(workspace, imports[-1]["tx"], reviewer)


def orphans(workspace: Workspace) -> dict[str, dict[str, str]]:
    """Labels of clips that no longer exist (a re-cut found no clip to move them to)."""
    labels = workspace.read_labels()
    gone = set(_unknown(workspace, labels)) if labels else set()
    return {cid: row for cid, row in labels.items() if cid in gone and any(row[k] for k in EDITABLE_FIELDS)}


# -- source defaults and speakers ---------------------------------------------------
def set_source_licence(workspace: Workspace, source_id: str, licence: str) -> str:
    """Record the licence of a source as its SPDX id (publishing keeps only allowed licences);
    `other` needs its name and link recorded first (`licences.set_attribution`). An empty
    licence clears it. Returns the id stored."""
    licence = check(licence) if licence.strip() else ""
    if licence == OTHER:
        given = read_attribution(workspace).get(source_id, {})
        if not (given.get("licence_name") and given.get("licence_url")):
            raise AccentdsError(
                f'the licence `other` needs its name and link: add --licence-name "..." --licence-url '
                f"https://... to `accentds source set {source_id}`"
            )
    with workspace.lock():
        sources = workspace.read_sources()
        if source_id not in {s.source_id for s in sources}:
            raise AccentdsError(f"unknown source id {source_id!r}; `accentds status --sources` lists them")
        workspace.write_sources(
            [replace(s, licence=licence) if s.source_id == source_id else s for s in sources]
        )
        write_manifest(workspace)
    return licence


def read_source_defaults(workspace: Workspace) -> dict[str, dict[str, str]]:
    return {row["source_id"]: row for row in read_csv(workspace.source_labels_csv) if row.get("source_id")}


def set_source_defaults(
    workspace: Workspace,
    source_id: str,
    speaker: str | None = None,
    accent: str | None = None,
    accent_evidence: str | None = None,
) -> dict[str, str]:
    """Set the speaker / accent every clip of a source has unless the clip says otherwise."""
    given = {
        k: v
        for k, v in (("speaker", speaker), ("accent", accent), ("accent_evidence", accent_evidence))
        if v is not None
    }
    clean = validate(workspace.config.labels, given)
    with workspace.lock():
        if source_id not in {s.source_id for s in workspace.read_sources()}:
            raise AccentdsError(f"unknown source id {source_id!r}; `accentds status --sources` lists them")
        rows = read_source_defaults(workspace)
        row = {k: "" for k in SOURCE_LABEL_FIELDS} | rows.get(source_id, {}) | {"source_id": source_id}
        row.update(clean)
        row["updated_at"] = now_iso()
        rows[source_id] = row
        write_csv_atomic(
            workspace.source_labels_csv,
            SOURCE_LABEL_FIELDS,
            sorted(rows.values(), key=lambda r: r["source_id"]),
        )
        write_manifest(workspace)
    return row


def rename_speaker(workspace: Workspace, old: str, new: str, reviewer: str = "") -> int:
    """Rename a speaker everywhere (clip labels and source defaults); renaming to a name that
    exists merges the two. Returns how many clip labels and sources changed."""
    old, new = " ".join(old.split()), " ".join(new.split())
    if not old or not new:
        raise AccentdsError("give the speaker's current name and the new one")
    check_merge(workspace, old, new)
    labels = workspace.read_labels()
    clip_ids = [cid for cid, row in labels.items() if row.get("speaker") == old]
    changed = (
        len(_apply(workspace, {cid: {"speaker": new} for cid in clip_ids}, reviewer or default_reviewer()))
        if clip_ids
        else 0
    )
    with workspace.lock():
        rows = read_source_defaults(workspace)
        hits = [row for row in rows.values() if row.get("speaker") == old]
        for row in hits:
            row["speaker"], row["updated_at"] = new, now_iso()
        if hits:
            write_csv_atomic(
                workspace.source_labels_csv,
                SOURCE_LABEL_FIELDS,
                sorted(rows.values(), key=lambda r: r["source_id"]),
            )
            write_manifest(workspace)
    if not changed and not hits:
        raise AccentdsError(f"no clip or source has the speaker {old!r}")
    rename_in_memory(workspace, old, new)
    return changed + len(hits)


# -- listing, export and import -------------------------------------------------------
def list_labels(
    workspace: Workspace,
    status: str | None = None,
    source: str | None = None,
    accent: str | None = None,
    speaker: str | None = None,
    flag: str | None = None,
) -> list[dict]:
    """Clips with their effective labels (source defaults and drafts filled in), filtered;
    `flag` keeps the clips carrying that quality flag."""
    table = build_manifest(workspace)
    if source is not None:
        table = table.filter(pc.equal(table["source_id"], source))
    for name, value in (("status", status), ("accent", accent), ("speaker", speaker)):
        if value is not None:  # names and choices in any case, as labels take them
            folded = " ".join(value.split()).lower()
            table = table.filter(pc.equal(pc.utf8_lower(table[name]), folded))
    rows = table.to_pylist()
    return rows if flag is None else [r for r in rows if flag in r["quality_flags"].split()]


def spreadsheet_text(value: str) -> str:
    """`value` as a spreadsheet cell that shows it as text: one starting with = + - @, a tab
    or a carriage return (a formula to Excel, LibreOffice and Google Sheets), after any
    apostrophes, gets one more apostrophe in front. `from_spreadsheet` undoes it."""
    return "'" + value if _FORMULA.match(value) else value


def from_spreadsheet(value: str) -> str:
    """The value of a cell `spreadsheet_text` wrote (a cell without its apostrophe: as is)."""
    return value[1:] if value.startswith("'") and _FORMULA.match(value) else value


def export_labels(workspace: Workspace, path: Path) -> int:
    """Write every clip's effective labels as CSV for a spreadsheet, text that a spreadsheet
    would run as a formula escaped (`spreadsheet_text`); returns the row count."""
    rows = build_manifest(workspace).select(EXPORT_COLUMNS).to_pylist()
    for row in rows:
        row["transcript_is_draft"] = "yes" if row["transcript_is_draft"] else ""
        for name, value in row.items():
            if isinstance(value, str):
                row[name] = spreadsheet_text(value)
    write_csv_atomic(path, EXPORT_COLUMNS, rows)
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


def _normalise(schema: LabelSchema, values: dict[str, str]) -> dict[str, str]:
    """Statuses, accents and evidence in the schema's spelling whatever their case."""
    for name, choices in (
        ("status", schema.statuses),
        ("accent", schema.accents),
        ("accent_evidence", schema.accent_evidence),
    ):
        if name in values:
            spelled = {c.casefold(): c for c in choices}
            values[name] = spelled.get(values[name].casefold(), values[name])
    return values


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


def _shown_default(field: str, row: Mapping[str, Any], defaults: Mapping[str, Mapping[str, str]]) -> str:
    """What a clip shows in `field` while no label sets it: pending, its caption draft, its
    source's default speaker or accent, or nothing."""
    if field == "status":
        return "pending"
    if field == "transcript":
        return str(row.get("transcript_draft") or "")
    return defaults.get(str(row["source_id"]), {}).get(field, "")


def _merge_stale(
    workspace: Workspace,
    edits: dict[str, dict[str, str]],
    stale: dict[str, tuple[int, int]],
    shown: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Merge the edits of rows exported before their clip's last change (see `import_labels`):
    drop the cells the sheet left as they were, keep the ones only the sheet changed; return
    the conflicts."""
    if not stale:
        return []
    records = workspace.journal().for_clips(list(stale))
    defaults = read_source_defaults(workspace)
    problems = []
    for cid, (number, version) in stale.items():
        then, now = _values_at(records, cid, version), _values_at(records, cid)
        for field, value in list(edits[cid].items()):
            base = then.get(field)
            exported = base if base is not None else _shown_default(field, shown[cid], defaults)
            if value == exported:
                del edits[cid][field]  # as exported: what changed since stays
            elif now.get(field) != base:
                problems.append(
                    f"row {number}: {field} of {cid} changed since this sheet was written "
                    f"(now {now.get(field, '')!r}, the sheet says {value!r}); export the labels again"
                )
        if not edits[cid]:
            del edits[cid]
    return problems


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
    columns, rows = sheet.columns, sheet.rows
    for message in sheet.warnings:
        if warn:
            warn(message)
    if "clip_id" not in columns:
        raise AccentdsError(f"{path} has no clip_id column (columns: {', '.join(columns) or 'none'})")
    fields = [c for c in columns if c in EDITABLE_FIELDS]
    if not fields:
        raise AccentdsError(f"{path} has none of the label columns: {', '.join(EDITABLE_FIELDS)}")
    shown = {row["clip_id"]: row for row in build_manifest(workspace).to_pylist()}
    view = path.resolve() == workspace.labels_csv.resolve()
    schema = workspace.config.labels
    problems: list[str] = []
    edits: dict[str, dict[str, str]] = {}
    stale: dict[str, tuple[int, int]] = {}  # clip -> (row, version) of rows older than the clip
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        cid = (row.get("clip_id") or "").strip()
        if cid not in shown:
            problems.append(f"row {number}: unknown clip id {cid!r}")
            continue
        if cid in seen:
            problems.append(f"row {number}: clip {cid} already on row {seen[cid]}")
            continue
        seen[cid] = number
        values = {f: from_spreadsheet(row.get(f) or "") for f in fields}
        clean = {k: " ".join(v.split()) if k != "note" else v.strip() for k, v in values.items()}
        clean = _normalise(schema, clean)
        current = shown[cid]
        if view and clean.get("status") == "" and current["status"] == "pending":
            clean["status"] = "pending"  # the labels view leaves a clip's status empty until set
        if view and clean.get("transcript") == "" and current["transcript_is_draft"]:
            del clean["transcript"]  # the view holds typed words only: a caption draft is not in it
        changed = {k: v for k, v in clean.items() if str(current.get(k) or "") != v}
        if "transcript" not in changed:  # a transcript from before the limit stays as it is
            clean.pop("transcript", None)
        for problem in check_values(schema, clean):
            problems.append(f"row {number}: {problem}")
        if changed:
            edits[cid] = changed
        sheet_version = sheet_number(row.get("version") or "")
        if sheet_version is None:
            problems.append(f"row {number}: version {row.get('version')!r} is not a whole number")
        elif changed and sheet_version != "" and sheet_version < int(current.get("version") or 0):
            stale[cid] = (number, sheet_version)
    problems += _merge_stale(workspace, edits, stale, shown)
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
    changes = _apply(workspace, edits, reviewer or default_reviewer(), why=why) if edits else []
    if path.resolve() in (workspace.labels_csv, workspace.manifest_csv):
        path.unlink()  # a view edited by hand: now imported, it is rewritten from the labels
        with workspace.lock():
            write_manifest(workspace)
    return changes

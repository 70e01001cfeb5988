"""Human labels: validation against the schema, edits with history (undo: `label_undo`), source defaults,
speaker renames and listing (spreadsheet export and import: `label_sheets`).

Labels live in manifests/labels.csv (one row per labelled clip), source defaults in
manifests/source_labels.csv, and every change is appended to manifests/label_history.csv.
Each clip's row has a version that every edit increments: an edit made against an older
version is refused with the current values, never applied over them."""

from __future__ import annotations

import getpass
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from .config import LabelSchema
from .errors import AccentdsError
from .files import now_iso, read_csv, write_csv_atomic
from .journal import ClipLabels, fold, history_rows, new_tx_id
from .label_merges import merged_fields
from .licences import OTHER, check, read_attribution
from .privacy import speaker_key
from .selection import carry_deny, drop_denied
from .splits import check_merge, rename_in_memory
from .views import build_manifest, write_manifest
from .workspace import DRAFT_DISMISSED, EDITABLE_FIELDS, SOURCE_LABEL_FIELDS, Workspace


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


def _control(value: str) -> str | None:
    """The first control character of `value` (NUL, ESC, ...; a tab or line break is
    whitespace), else None."""
    return next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)


def check_values(schema: LabelSchema, values: Mapping[str, str]) -> list[str]:
    """Problems with label values (empty list when all are allowed)."""
    problems = too_long(schema, values)
    for name in values:
        if name not in EDITABLE_FIELDS:
            problems.append(f"unknown field {name!r}; editable: {', '.join(EDITABLE_FIELDS)}")
        elif (bad := _control(str(values[name]))) is not None:
            # a pasted escape sequence would recolour or rewrite the terminal of whoever lists it
            problems.append(
                f"{name.replace('_', ' ')} holds the control character U+{ord(bad):04X}: remove it"
            )
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


def normalise(schema: LabelSchema, values: dict[str, str]) -> dict[str, str]:
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


def validate(schema: LabelSchema, values: Mapping[str, str]) -> dict[str, str]:
    """Clean values (whitespace trimmed; statuses, accents and evidence in the schema's
    spelling whatever their case, as an import takes them) or AccentdsError naming the
    allowed ones."""
    clean = {k: " ".join(str(v).split()) if k != "note" else str(v).strip() for k, v in values.items()}
    clean = normalise(schema, clean)
    problems = check_values(schema, clean)
    if problems:
        raise AccentdsError("; ".join(problems))
    return clean


def _unknown_line(workspace: Workspace, unknown: list[str]) -> str:
    """Clip ids no clip has: where a re-cut moved the labels of those it replaced (an id
    listed before a re-cut in another terminal), else how to list them."""
    from .label_undo import moved_to

    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    line = f"unknown clip id(s): {', '.join(unknown[:5])}{more}"
    moves = {cid: moved_to(workspace, cid) for cid in unknown[:5]}
    gone = set(_unknown(workspace, [m["to"] for m in moves.values() if m["to"]]))
    moves = {cid: m for cid, m in moves.items() if m["to"] not in gone}
    told = [
        f"{cid} was replaced by a {m['why'].split(' of ', 1)[0]}: its labels are on {m['to']}"
        for cid, m in moves.items()
        if m["to"]
    ]
    if told:
        return f"{line}; {'; '.join(told)}: label that one (`accentds labels list` shows the clips)"
    return f"{line}; `accentds labels list` shows them"


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


def apply_edits(
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
            raise AccentdsError(_unknown_line(workspace, unknown))
        journal = workspace.journal()
        # a few clips: only their lines are read, so a save costs the same at any corpus size
        records = journal.for_clips(edits) if len(edits) <= 64 else journal.transactions()
        labels = fold(records, set(edits))
        merged = merged_fields(records)
        stale = {
            cid
            for cid, expected in (versions or {}).items()
            if labels.get(cid, ClipLabels()).version != expected
        }

        def refuse(cid: str) -> None:
            state = labels.get(cid, ClipLabels())
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
            mine = [
                Change(cid, k, have.get(k, ""), v)
                for k, v in values.items()
                if have.get(k, "") != v or (cid, k) in merged  # the same value settles a merged edit
            ]
            if mine and cid in stale:  # changed since, and not to what this edit sets
                refuse(cid)
            changes += mine
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
    return apply_edits(
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


def _named(workspace: Workspace, name: str) -> bool:
    """Whether a clip or a source's default still has the speaker `name` in any case (a denied
    "Anna" renamed still keeps "anna" out)."""
    key = speaker_key(name)
    rows = [*workspace.read_labels().values(), *read_source_defaults(workspace).values()]
    return any(speaker_key(row.get("speaker") or "") == key for row in rows)


def rename_speaker(workspace: Workspace, old: str, new: str, reviewer: str = "") -> int:
    """Rename a speaker everywhere (labels, source defaults, split memory, deny list); a name
    that exists merges the two. Returns how many clip labels and sources changed."""
    old, new = " ".join(old.split()), " ".join(new.split())
    if not old or not new:
        raise AccentdsError("give the speaker's current name and the new one")
    check_merge(workspace, old, new)
    denied = carry_deny(workspace, old, new)  # before the clips change: a takedown never lapses
    labels = workspace.read_labels()
    clip_ids = [cid for cid, row in labels.items() if row.get("speaker") == old]
    changed = (
        len(
            apply_edits(
                workspace, {cid: {"speaker": new} for cid in clip_ids}, reviewer or default_reviewer()
            )
        )
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
    if denied and speaker_key(old) != speaker_key(new) and not _named(workspace, old):
        drop_denied(workspace, "speaker", old)
    return changed + len(hits)


# -- listing --------------------------------------------------------------------------
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

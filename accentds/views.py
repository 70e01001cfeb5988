"""The generated views: manifest.parquet, manifest.csv and labels.csv.

They join clips.parquet with sources.csv, the source defaults, the caption drafts,
duplicates.csv and the label journal into one row per clip (`build_manifest`), with quality
hints from the [quality] thresholds. They are rewritten under the workspace lock after every
change (`write_manifest`) and rebuilt by the next command where they are older than what they
are made from (`refresh_manifest`). They are never read back: a CSV view edited by hand (in a
spreadsheet, say) is left as it is and named in a notice, its edits to be imported as labels.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .config import CONFIG_NAME, QualitySettings
from .errors import AccentdsError, disk_full
from .files import (
    atomic_path,
    conflict_line,
    damaged,
    merge_conflict,
    pid_alive,
    sha256_file,
    write_parquet_atomic,
    write_text_atomic,
)
from .workspace import (
    DRAFT_DISMISSED,
    DRAFT_FIELDS,
    DUPLICATE_FIELDS,
    EDITABLE_FIELDS,
    LABEL_FIELDS,
    SOURCE_LABEL_FIELDS,
    Workspace,
)

SOURCE_COLUMNS = ["origin", "title", "uploader", "upload_date", "licence"]


def _read_csv_table(path: Path, columns: list[str]) -> pa.Table:
    """A CSV file as a table of strings holding `columns` (missing ones empty)."""
    if path.exists() and path.stat().st_size > 0:
        try:
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in columns},
                    strings_can_be_null=False,
                    include_columns=None,
                ),
            )
        except pa.ArrowException as exc:
            line = conflict_line(path)
            raise (merge_conflict(path, line) if line else damaged(path, str(exc).splitlines()[0])) from None
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
    for name in columns:
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * table.num_rows, pa.string()))
    return table.select(columns).cast(pa.schema([(c, pa.string()) for c in columns]))


def _left_join(left: pa.Table, right: pa.Table, key: str) -> pa.Table:
    """`left` with the other columns of `right` whose `key` matches (null where none does).

    A hash lookup and a take, lighter than starting pyarrow's join engine for these lookups."""
    index = pc.index_in(left[key], value_set=right[key].combine_chunks())
    picked = right.drop_columns([key]).take(index)
    for name in picked.column_names:
        left = left.append_column(name, picked[name])
    return left


def _or(first: pa.ChunkedArray, second: pa.ChunkedArray) -> pa.ChunkedArray:
    """`first` where it is not empty, else `second`."""
    return pc.if_else(pc.equal(first, ""), second, first)


def build_manifest(workspace: Workspace, labels: pa.Table | None = None) -> pa.Table:
    """Join clips, sources, labels, source defaults and caption drafts into one table,
    ordered by source and start. `speaker`, `accent` and `accent_evidence` fall back to the
    source's defaults; `transcript` falls back to the caption draft (`transcript_is_draft`)."""
    clips = workspace.read_clip_table()
    sources = _read_csv_table(workspace.sources_csv, ["source_id", *SOURCE_COLUMNS])
    labels = workspace.label_table() if labels is None else labels
    columns = labels.column_names
    drafts = _read_csv_table(workspace.drafts_csv, DRAFT_FIELDS)
    defaults = _read_csv_table(workspace.source_labels_csv, SOURCE_LABEL_FIELDS[:-1])
    defaults = defaults.rename_columns(["source_id", "source_speaker", "source_accent", "source_evidence"])
    joined = _left_join(clips, sources, "source_id")
    joined = _left_join(joined, defaults, "source_id")
    joined = _left_join(joined, labels, "clip_id")
    joined = _left_join(joined, drafts, "clip_id")
    duplicates = _read_csv_table(workspace.duplicates_csv, DUPLICATE_FIELDS)
    joined = _left_join(joined, duplicates, "clip_id")
    joined = joined.set_column(
        joined.column_names.index("duplicate_group"),
        "duplicate_group",
        pc.fill_null(joined["duplicate_group"], ""),
    )
    joined = joined.append_column(
        "quality_flags", quality_flags(joined, workspace.config.quality, workspace.config.vad.sample_rate)
    )
    text = [*SOURCE_COLUMNS, *columns[1:], *DRAFT_FIELDS[1:], *defaults.column_names[1:]]
    for name in text:
        joined = joined.set_column(joined.column_names.index(name), name, pc.fill_null(joined[name], ""))

    def column(name: str) -> pa.ChunkedArray:
        return joined[name]

    def put(name: str, values: pa.ChunkedArray) -> None:
        nonlocal joined
        joined = joined.set_column(joined.column_names.index(name), name, values)

    put("status", _or(column("status"), pa.scalar("pending")))
    # a draft dismissed by an empty transcript stays in transcript_draft, not in transcript
    shown_draft = pc.if_else(
        pc.equal(column(DRAFT_DISMISSED), "1"), pa.scalar(""), column("transcript_draft")
    )
    is_draft = pc.and_(pc.equal(column("transcript"), ""), pc.not_equal(shown_draft, ""))
    put("transcript", _or(column("transcript"), shown_draft))
    joined = joined.append_column("transcript_is_draft", is_draft)
    put("speaker", _or(column("speaker"), column("source_speaker")))
    put("accent", _or(column("accent"), column("source_accent")))
    put("accent_evidence", _or(column("accent_evidence"), column("source_evidence")))
    put("version", pc.cast(_or(column("version"), pa.scalar("0")), pa.int64()))
    order = [
        "clip_id", "source_id", "path", "start", "end", "duration", "status",
        "transcript", "transcript_is_draft", "transcript_draft", "draft_kind", "speaker", "accent", "accent_evidence",
        "note", "reviewer", "updated_at", "version", *SOURCE_COLUMNS,
        "rms_dbfs", "peak_dbfs", "speech_ratio", "snr_db", "lufs", "clipping_ratio", "bandwidth_hz",
        "speech_prob", "quality_flags", "duplicate_group", "settings_id", "cut_at",
    ]  # fmt: skip
    joined = joined.select(order)
    rows = pc.sort_indices(joined, [("source_id", "ascending"), ("start", "ascending")]).to_numpy()
    if (rows[1:] < rows[:-1]).any():  # clips.parquet is kept in this order: no copy then
        joined = joined.take(rows)
    return joined


QUALITY_FLAGS = ("noisy", "quiet", "clipped", "narrowband", "little-speech", "unconfirmed", "duplicate")


def quality_flags(
    table: pa.Table, settings: QualitySettings, sample_rate: int | None = None
) -> pa.ChunkedArray:
    """Space-separated quality hints per clip, from its measures and the [quality] thresholds.
    Clips at `sample_rate` (the workspace's) hold nothing above half of it: where that is no
    more than `min_bandwidth_hz` (an 8 kHz workspace), no clip is `narrowband` for it."""
    narrow = settings.min_bandwidth_hz
    if sample_rate is not None and sample_rate / 2 <= narrow:
        narrow = 0.0
    tests = {
        "noisy": pc.less(table["snr_db"], settings.min_snr_db),
        "quiet": pc.less(table["lufs"], settings.min_lufs),
        "clipped": pc.greater(table["clipping_ratio"], settings.max_clipping_ratio),
        "narrowband": pc.less(table["bandwidth_hz"], narrow),
        "little-speech": pc.less(table["speech_ratio"], settings.min_speech_ratio),
        "unconfirmed": pc.less(table["speech_prob"], settings.min_speech_prob),
        "duplicate": pc.not_equal(table["duplicate_group"], ""),
    }
    parts = [pc.if_else(pc.fill_null(mask, False), name + " ", "") for name, mask in tests.items()]
    joined = pc.binary_join_element_wise(*parts, "")
    return pc.utf8_rtrim_whitespace(joined)


def write_csv_table(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def _digests_path(workspace: Workspace) -> Path:
    return workspace.manifests / ".views.json"


def _digests(workspace: Workspace) -> dict[str, Any]:
    try:
        value = json.loads(_digests_path(workspace).read_text(encoding="utf-8"))
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _stamp(path: Path) -> list[int]:
    """Size, modification time and inode of a file: a view whose stamp is the one written
    needs no digest (hashing a million-clip manifest.csv took half a second per command)."""
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def edited_views(workspace: Workspace) -> list[Path]:
    """Generated CSV views changed since accentds wrote them (by a spreadsheet, say)."""
    digests = _digests(workspace)
    stamps = digests.get("stamps", {})
    before = digests.get("before", {})
    edited = []
    for path in (workspace.labels_csv, workspace.manifest_csv):
        if path.name not in digests or not path.exists():
            continue
        # the view before the last write is no edit either: a run killed (or a disk full)
        # between the record and the rename left it in place
        written = (digests[path.name], before.get(path.name))
        if stamps.get(path.name) != _stamp(path) and sha256_file(path) not in written:
            edited.append(path)
    return edited


def _digest_now(digests: dict[str, Any], path: Path) -> str | None:
    """The digest of the view at `path`, one accentds wrote (not edited): the one recorded when
    its stamp is, else (a run killed before its rename left the one before) its own."""
    if not path.exists():
        return None
    if digests.get("stamps", {}).get(path.name) == _stamp(path):
        return digests.get(path.name)
    return sha256_file(path)


def edited_view_notice(path: Path) -> str:
    return (
        f"{path} was changed by hand since accentds wrote it, and it is only a view: its edits "
        f"are not labels. Import them with `accentds labels import {path}`, or delete the file "
        "to have it rewritten; until then it is left as it is"
    )


def write_manifest(workspace: Workspace) -> pa.Table:
    """Rewrite the generated views (call under the workspace lock): manifest.parquet,
    manifest.csv and labels.csv. A CSV view edited by hand is left alone and named in
    `workspace.notices`."""
    labels = workspace.label_table()
    table = build_manifest(workspace, labels)
    write_parquet_atomic(workspace.manifest_parquet, table)
    edited = set(edited_views(workspace))
    digests = _digests(workspace)
    for path in (workspace.manifest_csv, workspace.labels_csv):
        if path in edited:
            notice = edited_view_notice(path)
            if notice not in workspace.notices:
                workspace.notices.append(notice)
            continue
        digests.setdefault("before", {})[path.name] = _digest_now(digests, path)
        with atomic_path(path) as tmp:
            if path == workspace.manifest_csv:
                write_csv_table(table, tmp)
            else:
                labelled = [pc.not_equal(labels[k], "") for k in EDITABLE_FIELDS]
                write_csv_table(labels.filter(functools.reduce(pc.or_, labelled)).select(LABEL_FIELDS), tmp)
            digests[path.name] = sha256_file(tmp)
            digests.setdefault("stamps", {})[path.name] = _stamp(tmp)  # a rename keeps it
            # recorded before the view is replaced: a full disk that stops a write here leaves
            # the view and its record as they were (labels.csv not written after manifest.csv
            # was: the next command took manifest.csv for a view edited by hand, and kept it)
            write_text_atomic(_digests_path(workspace), json.dumps(digests, indent=1))
    return table


def _left_behind(workspace: Workspace, exc: OSError) -> None:
    """The views could not be rewritten (a full disk): the command goes on with what it reads
    from the manifests, told once why the views lag behind. manifest.parquet is removed (which
    frees space, never takes it), so that the next command rewrites every view."""
    workspace.manifest_parquet.unlink(missing_ok=True)
    why = disk_full(exc) or "no space left on device"
    workspace.views_behind = (
        f"the views manifest.csv, manifest.parquet and labels.csv in {workspace.manifests} could not be "
        f"rewritten ({why}), so they may lag behind the latest changes: free some space, and the next "
        "accentds command rewrites them"
    )
    if workspace.views_behind not in workspace.notices:
        workspace.notices.append(workspace.views_behind)


def refresh_manifest(workspace: Workspace) -> bool:
    """Rebuild the generated views (and duplicates.csv) where they are older than what they
    are made from (a run killed before it rewrote them, a `git pull`), and remove the temp
    files of killed commands. True if rebuilt. Views that cannot be written for a full disk
    are left behind (`workspace.views_behind` says why, and so does a notice). A workspace that cannot be written (a read-only
    mount, another user's folder) is left as it is: commands read its manifests, not the views."""
    if not workspace.can_write():
        if not workspace.labels_journal.exists() and (
            workspace.labels_csv.exists() or workspace.history_csv.exists()
        ):
            raise AccentdsError(
                f"{workspace.manifests} cannot be written, and its labels are still in labels.csv, as an "
                "older accentds kept them: run any accentds command once where the workspace can be "
                "written (or on a copy of it) to move them to labels.jsonl"
            )
        return False
    with workspace.lock():
        for leftover in workspace.manifests.glob(".*.tmp*"):  # of killed commands
            pid = leftover.name.rsplit(".tmp", 1)[-1]
            if not pid.isdigit() or not pid_alive(int(pid)):
                leftover.unlink(missing_ok=True)
        workspace.journal()  # a workspace from before the journal gets one now
        if workspace.labels_journal.exists():
            workspace.journal().repair()
            from .bounds import finish_interrupted_edits

            finish_interrupted_edits(workspace)

        def mtime(path: Path) -> int:
            try:
                return path.stat().st_mtime_ns
            except FileNotFoundError:
                return -1

        rebuilt = False
        try:
            # duplicates.csv is made from fingerprints.parquet: without fingerprints there is
            # nothing to group, so a workspace with neither has nothing to rebuild
            fingerprinted = mtime(workspace.fingerprints_parquet)
            if fingerprinted >= 0 and mtime(workspace.duplicates_csv) < fingerprinted:
                from .cut_commit import find_duplicates

                find_duplicates(workspace)
                rebuilt = True
            inputs = (
                workspace.clips_parquet, workspace.sources_csv, workspace.labels_journal,
                workspace.source_labels_csv, workspace.drafts_csv, workspace.duplicates_csv,
                workspace.root / CONFIG_NAME,
            )  # fmt: skip
            views = (workspace.manifest_parquet, workspace.manifest_csv, workspace.labels_csv)
            if rebuilt or min(mtime(p) for p in views) < max(mtime(p) for p in inputs):
                write_manifest(workspace)
                rebuilt = True
        except OSError as exc:
            if not disk_full(exc):
                raise
            _left_behind(workspace, exc)
            return False
        workspace.views_behind = ""
        if not rebuilt and edited_views(workspace):
            for path in edited_views(workspace):
                if edited_view_notice(path) not in workspace.notices:
                    workspace.notices.append(edited_view_notice(path))
        return rebuilt

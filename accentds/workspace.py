"""The corpus on disk: paths, manifest files and the writer lock (atomic writes: `files`)."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .config import CONFIG_NAME, Config, VadSettings
from .config_file import load_config, render_config
from .errors import AccentdsError
from .files import (
    damaged,
    pid_alive,
    read_csv,
    read_records,
    write_csv_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from .journal import JOURNAL_NAME, LabelJournal
from .models import Clip, CutRecord, Source, field_names

ENV_VAR = "ACCENTDS_WORKSPACE"
EDITABLE_FIELDS = ("transcript", "speaker", "accent", "accent_evidence", "status", "note")
LABEL_FIELDS = ["clip_id", *EDITABLE_FIELDS, "reviewer", "updated_at", "version"]
DRAFT_DISMISSED = "draft_dismissed"  # journal field: "1" once an empty transcript replaced the draft
DRAFT_FIELDS = ["clip_id", "transcript_draft", "draft_kind"]
SOURCE_LABEL_FIELDS = ["source_id", "speaker", "accent", "accent_evidence", "updated_at"]
HISTORY_FIELDS = ["time", "edit_id", "clip_id", "field", "old", "new", "reviewer", "undoes"]
# files accentds rebuilds from the tracked ones: never the truth, so kept out of git
GENERATED = ("manifest.csv", "manifest.parquet", "labels.csv", "duplicates.csv")
GITIGNORE = """\
# audio and releases stay out of git; manifests/ is the tracked record of the corpus
/raw/
/clips/
/releases/
manifests/.lock
manifests/.cut.lock
manifests/.views.json
manifests/.*.tmp*
# views accentds rebuilds from the files above (`accentds doctor` rebuilds them at once)
manifests/manifest.csv
manifests/manifest.parquet
manifests/labels.csv
manifests/duplicates.csv
"""
# two clones that each labelled clips merge their journals (and minutes logs) line by line
GITATTRIBUTES = "manifests/labels.jsonl merge=union\nmanifests/history.csv merge=union\n"

CLIP_SCHEMA = pa.schema(
    [
        ("clip_id", pa.string()),
        ("source_id", pa.string()),
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("duration", pa.float64()),
        ("path", pa.string()),
        ("settings_id", pa.string()),
        ("vad_aggressiveness", pa.int8()),
        ("vad_frame_ms", pa.int16()),
        ("vad_padding_ms", pa.int32()),
        ("vad_merge_gap_ms", pa.int32()),
        ("vad_min_clip_s", pa.float64()),
        ("vad_max_clip_s", pa.float64()),
        ("rms_dbfs", pa.float64()),
        ("peak_dbfs", pa.float64()),
        ("speech_ratio", pa.float64()),
        ("cut_at", pa.string()),
        ("snr_db", pa.float64()),
        ("lufs", pa.float64()),
        ("clipping_ratio", pa.float64()),
        ("bandwidth_hz", pa.float64()),
        ("speech_prob", pa.float64()),
    ]
)
FINGERPRINT_SCHEMA = pa.schema(
    [("clip_id", pa.string()), ("source_id", pa.string()), ("fingerprint", pa.binary())]
)
DUPLICATE_FIELDS = ["clip_id", "duplicate_group"]


class Workspace:
    """A corpus folder holding accentds.toml, raw/, clips/, manifests/ and releases/."""

    def __init__(self, root: Path, config: Config | None = None) -> None:
        self.root = root.resolve()
        self.config = config if config is not None else load_config(self.root / CONFIG_NAME)
        self.raw = self.root / "raw"
        self.clips = self.root / "clips"
        self.manifests = self.root / "manifests"
        self.releases = self.root / "releases"
        self.sources_csv = self.manifests / "sources.csv"
        self.clips_parquet = self.manifests / "clips.parquet"
        self.cuts_csv = self.manifests / "cuts.csv"
        self.cut_settings_json = self.manifests / "cut_settings.json"  # settings_id -> every [vad] setting
        self.labels_csv = self.manifests / "labels.csv"
        self.drafts_csv = self.manifests / "drafts.csv"
        self.fingerprints_parquet = self.manifests / "fingerprints.parquet"
        self.duplicates_csv = self.manifests / "duplicates.csv"
        self.source_labels_csv = self.manifests / "source_labels.csv"
        self.labels_journal = self.manifests / JOURNAL_NAME
        self.history_csv = self.manifests / "label_history.csv"  # before the journal: migrated
        self._lock_depth, self._lock_owner = 0, 0
        self.notices: list[str] = []  # what a command should tell its user (an edited view)
        self.views_behind = ""  # why the generated views could not be rewritten (a full disk)
        self.manifest_csv = self.manifests / "manifest.csv"
        self.manifest_parquet = self.manifests / "manifest.parquet"

    # -- finding and making -------------------------------------------------
    @classmethod
    def find(cls, explicit: Path | str | None = None, start: Path | None = None) -> Workspace:
        """The workspace named by `explicit`, else $ACCENTDS_WORKSPACE, else the nearest
        folder at or above `start` (default: the current folder) holding accentds.toml."""
        named = explicit or os.environ.get(ENV_VAR)
        if named:
            root = Path(named).expanduser()
            _refuse_a_file(root)
            if not (root / CONFIG_NAME).is_file():
                inside = _enclosing(root)
                if inside is not None:  # a folder of a workspace (manifests/, releases/0.1.0, ...)
                    raise AccentdsError(
                        f"{root} is not an accentds workspace but lies in the {inside[1]}/ folder of the "
                        f"workspace {inside[0]}: give that one, `--workspace {shlex.quote(str(inside[0]))}`"
                    )
                raise AccentdsError(
                    f"{root} is not an accentds workspace (no {CONFIG_NAME}): "
                    f"run `accentds init {shlex.quote(str(root))}` first"
                )
            return cls(root)
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls(folder)
        raise AccentdsError(
            f"no accentds workspace at {here} or above it: run `accentds init` to make one "
            f"here, or pass --workspace PATH (or set {ENV_VAR})"
        )

    def ensure_layout(self) -> None:
        """Create missing folders and empty manifest files."""
        for folder in (self.raw, self.clips, self.manifests, self.releases):
            folder.mkdir(parents=True, exist_ok=True)
        if not self.sources_csv.exists():
            write_csv_atomic(self.sources_csv, field_names(Source), [])
        if not self.cuts_csv.exists():
            write_csv_atomic(self.cuts_csv, field_names(CutRecord), [])
        for path, columns in (
            (self.drafts_csv, DRAFT_FIELDS),
            (self.source_labels_csv, SOURCE_LABEL_FIELDS),
        ):
            if not path.exists():
                write_csv_atomic(path, columns, [])
        if not self.clips_parquet.exists():
            self.write_clips([])

    def can_write(self) -> bool:
        """Whether the manifests can be written (not a read-only mount or another user's folder)."""
        return not self.manifests.is_dir() or os.access(self.manifests, os.W_OK)

    # -- locking ------------------------------------------------------------
    @contextmanager
    def lock(self, timeout: float = 60.0) -> Iterator[None]:
        """Hold the workspace writer lock (released by the OS if the process dies); a holder
        may take it again."""
        if self._lock_depth and self._lock_owner == threading.get_ident():
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.manifests.mkdir(parents=True, exist_ok=True)
        with open(self.manifests / ".lock", "a+") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise AccentdsError(
                            "another accentds command is writing this workspace's manifests; "
                            "wait for it to finish and run this again"
                        ) from None
                    time.sleep(0.05)
            self._lock_depth, self._lock_owner = 1, threading.get_ident()
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def cut_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the lock that lets one cut at a time write clips (for the whole run); a second
        run waits for it, told why through `on_wait`."""
        self.manifests.mkdir(parents=True, exist_ok=True)
        with open(self.manifests / ".cut.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip()
                if on_wait:
                    on_wait(
                        f"another cut of this workspace{f' (pid {holder})' if holder.isdigit() else ''} "
                        "is running: waiting for it to finish (Ctrl-C stops waiting)"
                    )
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def cutting(self) -> int | None:
        """The pid of the cut running in this workspace now (0 if not recorded), else None."""
        try:
            with open(self.manifests / ".cut.lock") as handle:
                holder = handle.read().strip()
                if holder.isdigit() and not pid_alive(int(holder)):
                    return None  # the last cut's, ended: no probe that could make a new one wait
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return int(holder) if holder.isdigit() else 0
                fcntl.flock(handle, fcntl.LOCK_UN)
        except OSError:  # no cut yet, or a folder this user cannot read
            pass
        return None

    # -- paths --------------------------------------------------------------
    def rel(self, path: Path) -> str:
        """A path relative to the workspace, with forward slashes."""
        return path.resolve().relative_to(self.root).as_posix()

    def abs(self, rel_path: str) -> Path:
        """The absolute path of a workspace-relative path."""
        return self.root / rel_path

    # -- sources ------------------------------------------------------------
    def read_sources(self) -> list[Source]:
        return read_records(self.sources_csv, Source)

    def write_sources(self, sources: list[Source]) -> None:
        rows = [asdict(s) for s in sorted(sources, key=lambda s: (s.added_at, s.source_id))]
        for row in rows:
            row["duration"] = f"{row['duration']:.3f}"
        # columns a person added (notes, say) are kept with their cells
        before = {r.get("source_id"): r for r in read_csv(self.sources_csv)}
        known = field_names(Source)
        extra = [c for c in next(iter(before.values()), {}) if c and c not in known]
        for row in rows:
            row.update({c: before.get(row["source_id"], {}).get(c) or "" for c in extra})
        write_csv_atomic(self.sources_csv, [*known, *extra], rows)

    # -- cuts ---------------------------------------------------------------
    def read_cuts(self) -> dict[str, CutRecord]:
        return {r.source_id: r for r in read_records(self.cuts_csv, CutRecord)}

    def write_cuts(self, cuts: dict[str, CutRecord]) -> None:
        rows = []
        for record in sorted(cuts.values(), key=lambda r: r.source_id):
            row = asdict(record)
            row["kept_s"] = f"{record.kept_s:.3f}"
            row["dropped_s"] = f"{record.dropped_s:.3f}"
            rows.append(row)
        write_csv_atomic(self.cuts_csv, field_names(CutRecord), rows)

    def read_cut_settings(self) -> dict[str, dict[str, Any]]:
        """Every [vad] setting of each settings_id clips were cut with (the clip rows hold only
        some: not the detector, nor Silero's thresholds); {} for a workspace from before."""
        try:
            value = json.loads(self.cut_settings_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def record_cut_settings(self, vad: VadSettings) -> None:
        """Add `vad` to manifests/cut_settings.json under its settings_id (a model file given
        by path is named, not located: a release does not publish the machine's folders)."""
        known = self.read_cut_settings()
        if vad.settings_id in known:
            return
        entry = asdict(vad)
        entry["silero_model"] = Path(vad.silero_model).name if vad.silero_model else ""
        known[vad.settings_id] = entry
        write_text_atomic(self.cut_settings_json, json.dumps(known, indent=1, sort_keys=True) + "\n")

    # -- clips --------------------------------------------------------------
    def read_clip_table(self, columns: list[str] | None = None) -> pa.Table:
        if not self.clips_parquet.exists():
            table = CLIP_SCHEMA.empty_table()
            return table.select(columns) if columns else table
        wanted = columns or CLIP_SCHEMA.names
        try:
            present = set(pq.read_schema(self.clips_parquet).names)
            table = pq.read_table(self.clips_parquet, columns=[c for c in wanted if c in present])
        except (pa.ArrowException, OSError) as exc:
            raise damaged(self.clips_parquet, exc) from None
        for name in wanted:  # columns added since the file was written: nulls
            if name not in present:
                field = CLIP_SCHEMA.field(name)
                table = table.append_column(field, pa.nulls(table.num_rows, field.type))
        return table.select(wanted)

    def read_clips(self) -> list[Clip]:
        return [Clip(**row) for row in self.read_clip_table().to_pylist()]

    def write_clips(self, clips: list[Clip]) -> None:
        ordered = sorted(clips, key=lambda c: (c.source_id, c.start, c.clip_id))
        table = pa.Table.from_pylist([asdict(c) for c in ordered], schema=CLIP_SCHEMA)
        write_parquet_atomic(self.clips_parquet, table)

    # -- labels -------------------------------------------------------------
    def journal(self) -> LabelJournal:
        """The label journal (a workspace from before it gets one from its labels.csv and
        label_history.csv first)."""
        journal = LabelJournal(self.labels_journal)
        if not self.labels_journal.exists() and (self.labels_csv.exists() or self.history_csv.exists()):
            from .legacy import migrate_labels

            with self.lock():
                if not self.labels_journal.exists():
                    migrate_labels(self, journal)
        return journal

    def read_labels(self) -> dict[str, dict[str, str]]:
        """Human labels by clip id (only clips someone or something has labelled), as rows of
        LABEL_FIELDS."""
        return {row["clip_id"]: row for row in self.label_table().to_pylist()}

    def label_table(self) -> pa.Table:
        """Human labels as a table of LABEL_FIELDS and DRAFT_DISMISSED (strings), one row per
        labelled clip."""
        return self.journal().table([*EDITABLE_FIELDS, DRAFT_DISMISSED])


def _refuse_a_file(path: Path) -> None:
    """Refuse a workspace path that is (or lies inside) a file: no folder can be made there."""
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        said = (
            f"{path} is a file, not a workspace folder"
            if blocking == path
            else f"{path} cannot be a workspace folder: {blocking} is a file"
        )
        raise AccentdsError(f"{said}; give the folder of a workspace, or a new folder to make one in")


DATA_FOLDERS = ("raw", "clips", "manifests", "releases")  # a workspace's own folders


def _enclosing(path: Path) -> tuple[Path, str] | None:
    """The workspace whose own folders (raw/, clips/, manifests/, releases/) hold `path`, and
    that folder's name; None when none does."""
    here = path.resolve()
    for folder in here.parents:
        if (folder / CONFIG_NAME).is_file():
            part = here.relative_to(folder).parts[0]
            return (folder, part) if part in DATA_FOLDERS else None
    return None


def init_workspace(
    path: Path, name: str | None = None, target_minutes: float = 600.0
) -> tuple[Workspace, bool]:
    """Make `path` a workspace; returns it and whether accentds.toml was newly written.

    An existing accentds.toml is kept as it is; missing folders and files are added."""
    path = path.expanduser()
    _refuse_a_file(path)
    inside = None if (path / CONFIG_NAME).exists() else _enclosing(path)
    if inside is not None:
        raise AccentdsError(
            f"{path} lies in the {inside[1]}/ folder of the workspace {inside[0]}: a workspace there "
            "would mix its files with that one's; make it in a folder of its own"
        )
    path.mkdir(parents=True, exist_ok=True)
    config_path = path / CONFIG_NAME
    created = not config_path.exists()
    if created:
        corpus_name = name or path.resolve().name or "corpus"
        write_text_atomic(config_path, render_config(corpus_name, target_minutes))
    gitignore = path / ".gitignore"
    if not gitignore.exists():
        write_text_atomic(gitignore, GITIGNORE)
    attributes = path / ".gitattributes"
    if not attributes.exists():
        write_text_atomic(attributes, GITATTRIBUTES)
    workspace = Workspace(path)
    workspace.ensure_layout()
    if not any(p.exists() for p in (workspace.labels_journal, workspace.labels_csv, workspace.history_csv)):
        write_text_atomic(workspace.labels_journal, "")  # a new workspace has nothing to migrate
    if not workspace.manifest_csv.exists():
        from .views import write_manifest  # views builds on this module

        with workspace.lock():
            write_manifest(workspace)
    return workspace, created

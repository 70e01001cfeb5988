"""What a publish reads from the workspace before it builds a release: every clip's effective
labels, the deny list and the split memory, refusing a version that exists.

A publish reads them under the workspace lock and completes the tracked record from release
folders it does not know. A dry run (`publish VERSION --dry-run`) of a workspace that cannot be
written (a read-only mount, another user's folder) reads the same without the lock and writes
nothing: what it would complete is only taken into account."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .captions import AUTO
from .errors import AccentdsError
from .files import pid_alive, read_csv
from .privacy import salt, speaker_id
from .release_record import VAD_COLUMNS
from .releases import RELEASE_JSON, list_releases, record_release, recorded_releases
from .selection import deny_csv, read_deny
from .splits import NODE_KINDS, SPLITS, remember, split_memory, split_node, splits_csv
from .views import build_manifest
from .workspace import Workspace

BUILDING_PREFIX = ".building-"


@contextmanager
def _reading(workspace: Workspace, write: bool) -> Iterator[None]:
    """The workspace lock, where a publish may write; nothing where it only reads one that
    cannot be written (no other command can be writing it then either)."""
    if write:
        with workspace.lock():
            yield
    else:
        yield


def remove_dead_builds(workspace: Workspace) -> None:
    """Delete temporary build folders left by a publish that was killed."""
    for folder in workspace.releases.glob(f"{BUILDING_PREFIX}*"):
        parts = folder.name[len(BUILDING_PREFIX) :].split("-")
        pid = int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else -1
        if not pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def refuse_existing(workspace: Workspace, version: str, complete: bool = False) -> None:
    """Refuse a version whose folder exists. With `complete`, a folder the tracked record does
    not know (a publish stopped between moving it into place and recording it) is recorded
    first: its splits and the version, as the next publish would."""
    if not (workspace.releases / version).exists():
        return
    done = ""
    if complete and record_missed(workspace, version):
        done = " (it is now recorded in manifests/releases.csv and its splits in manifests/splits.csv)"
    raise AccentdsError(f"release {version} exists and is immutable; publish a new version{done}")


def record_missed(workspace: Workspace, version: str) -> bool:
    """Record a release folder the tracked record does not know (a publish stopped between
    moving it into place and recording it): its splits and the version, as the next publish
    would. True when it was recorded now."""
    if not (workspace.releases / version).is_dir():
        return False
    with workspace.lock():
        if version in recorded_releases(workspace):
            return False
        memory(workspace, build_manifest(workspace).to_pylist())
        return version in recorded_releases(workspace)


def read_workspace(
    workspace: Workspace, version: str, write: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Under the lock (with `write`): refuse an existing version, clear dead builds, and read
    every clip's effective labels (with its VAD settings) and the deny list."""
    with _reading(workspace, write):
        refuse_existing(workspace, version, complete=write)
        if write:
            remove_dead_builds(workspace)
        manifest = build_manifest(workspace)
        vad_table = workspace.read_clip_table(columns=["clip_id", *VAD_COLUMNS])
        kinds = {s.source_id: s.kind for s in workspace.read_sources()}
        denied = read_deny(workspace)
        drafts = {r["clip_id"]: r for r in read_csv(workspace.drafts_csv)}
    vad_by_clip = {r["clip_id"]: r for r in vad_table.to_pylist()}
    rows = manifest.to_pylist()
    for row in rows:
        row |= {c: vad_by_clip.get(row["clip_id"], {}).get(c) for c in VAD_COLUMNS}
        draft = drafts.get(row["clip_id"], {})
        if row["transcript"] and row["transcript"] == draft.get("transcript_draft"):
            row["text_origin"] = "automatic captions" if draft.get("draft_kind") == AUTO else "captions"
        else:
            row["text_origin"] = "person"
        if kinds.get(row["source_id"], "file") != "url":
            row["origin"] = "file"  # never publish a local path
    return rows, denied


def memory(workspace: Workspace, rows: Sequence[Mapping[str, Any]], write: bool = True) -> dict[str, str]:
    """The split memory, first completed from the release folders the tracked record does not
    know: made before it existed, or by a publish stopped before it recorded them. Without
    `write` they are only taken into account, as `remember` would add them."""
    with _reading(workspace, write):
        recorded = recorded_releases(workspace)
        missing = [v for v in list_releases(workspace) if v not in recorded]
        known = split_memory(workspace)
        if missing:
            key = salt(workspace)
            names = {speaker_id(key, r["speaker"]): r["speaker"] for r in rows if r["speaker"]}
            for version in missing:
                try:
                    text = (workspace.releases / version / RELEASE_JSON).read_text(encoding="utf-8")
                    record = json.loads(text)
                except (OSError, ValueError):
                    continue  # a damaged release: `verify` says so
                nodes = {
                    group if group.startswith("source:") else f"speaker:{names.get(group, group)}": split
                    for group, split in record.get("splits", {}).items()
                    if not group.startswith("denied:")
                }
                if write:
                    remember(workspace, nodes, version)
                    record_release(workspace, version, record, text)
                else:
                    valid = {n: s for n, s in nodes.items() if s in SPLITS and split_node(n)[0] in NODE_KINDS}
                    known = {**valid, **known}
        return split_memory(workspace) if write else known


# what a command run while a publish builds may change that the release must not miss
_WATCHED = {
    "deny": (deny_csv, "a `deny` was run meanwhile: the release would hold what it takes down"),
    "splits": (
        splits_csv,
        "a `splits move` or `speakers rename` was run meanwhile: the release was built without it",
    ),
}


def snapshot(workspace: Workspace, name: str) -> bytes | None:
    """The content of the deny list (`deny`) or the split memory (`splits`) as a publish read it."""
    try:
        return _WATCHED[name][0](workspace).read_bytes()
    except OSError:  # missing (none yet), or unreadable: the command reading it says so
        return None


def refuse_changed_meanwhile(workspace: Workspace, version: str, seen: Mapping[str, bytes | None]) -> None:
    """Refuse to record `version` when the deny list or the split memory changed since the
    publish read them (`seen`, by `snapshot`): the release was built without that change.
    Call under the lock."""
    for name, content in seen.items():
        if snapshot(workspace, name) != content:
            path, why = _WATCHED[name]
            raise AccentdsError(
                f"{workspace.rel(path(workspace))} changed while {version} was being built ({why}); nothing of "
                f"{version} was kept: run `accentds publish {version}` again"
            )

"""Clips of a release published before a takedown: `accentds deny` keeps a speaker or source out
of every later release, and a release made before it stays as published, but writing it out
again (`publish VERSION --format`, `--to-hub`) would hand out once more what was taken down."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import AccentdsError
from .privacy import salt, speaker_id, speaker_key
from .selection import read_deny
from .views import build_manifest
from .workspace import Workspace


def denied_in_release(workspace: Workspace, folder: Path) -> list[str]:
    """The clip ids of the release in `folder` whose source, or whose speaker (by the salted id
    the release names them by, or by name where it published names, in any case), is on the
    deny list now."""
    denied = read_deny(workspace)
    if not denied:
        return []
    sources = {d["value"] for d in denied if d["kind"] == "source"}
    keys = {speaker_key(d["value"]) for d in denied if d["kind"] == "speaker"}
    names = {d["value"] for d in denied if d["kind"] == "speaker"}
    if keys:
        names |= {n for n in build_manifest(workspace).column("speaker").to_pylist() if n}
    key = salt(workspace) if keys else b""
    ids = {speaker_id(key, n) for n in names if speaker_key(n) in keys}
    clips = []
    for path in sorted((folder / "data").glob("*.parquet")):
        try:
            present = set(pq.read_schema(path).names)
            speaker = "speaker_id" if "speaker_id" in present else "speaker"  # before the Hub's names
            columns = [c for c in ("clip_id", "source_id", speaker) if c in present]
            rows = pq.read_table(path, columns=columns).to_pylist()
        except (OSError, pa.ArrowException) as exc:
            raise AccentdsError(f"cannot read {path}: {exc}; `accentds verify` checks the release") from None
        for row in rows:
            who = row.get(speaker) or ""
            if row.get("source_id") in sources or who in ids or (who and speaker_key(who) in keys):
                clips.append(row["clip_id"])
    return sorted(clips)

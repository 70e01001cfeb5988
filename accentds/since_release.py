"""What changed since the newest release: its clips and labels compared with the manifest's,
which decides whether `accentds status` suggests a publish, and with which counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from . import publishable
from .errors import AccentdsError
from .publish import Release, list_releases, load_release, parse_version
from .releases import known_versions, record_copy
from .workspace import Workspace

# label fields compared with a release's rows (those `accentds diff` compares), and the column
# names a release may give them: a release names speakers by `speaker_id`, a salted id or the name
_COMPARED = {
    "transcript": ("transcript", "text"),
    "speaker": ("speaker_id", "speaker"),
    "accent": ("accent",),
    "accent_evidence": ("accent_evidence",),
    "licence": ("licence",),
}


@dataclass(frozen=True)
class ReleaseSummary:
    """One published version as its release.json records it."""

    version: str
    created_at: str
    clips: int
    seconds: float


@dataclass(frozen=True)
class SinceRelease:
    """What changed since the newest release: clips accepted since it was made (not in it),
    clips of it rejected since, clips of it still accepted whose transcript, speaker, accent or
    licence differ from it; the publishable clips not in it, and the clips of it the next release
    would not hold (no longer accepted, or held back). `error` says why it could not be read."""

    version: str
    accepted: int = 0
    rejected: int = 0
    relabelled: int = 0
    new_clips: int = 0
    new_seconds: float = 0.0
    dropped: int = 0
    recut: int = 0  # clips of it a re-cut replaced with new clips that took their labels
    include_unlicensed: bool = False  # it was published with --include-unlicensed
    error: str = ""
    absent: bool = False  # its folder is not in this workspace (a clone), so nothing was compared

    moved: int = 0  # split moves (`accentds splits move`) the next release lists

    @property
    def changed(self) -> bool:
        """Whether publishing now would give a release different from this one."""
        return bool(self.new_clips or self.dropped or self.relabelled or self.recut or self.moved)


def releases_here(workspace: Workspace) -> tuple[list[ReleaseSummary], Release | None, str]:
    """The releases published from this workspace or a clone of it, oldest first; the newest
    as loaded, or why it could not be. A version whose folder is not here (a clone: releases/
    is not tracked) is listed from its tracked copy of release.json."""
    found, newest, error = [], None, ""
    present = set(list_releases(workspace))
    for version in known_versions(workspace):
        try:
            if version in present:
                newest, error = load_release(workspace, version), ""
            else:
                newest, error = (
                    None,
                    f"releases/{version}/ is not in this workspace (releases/ is not tracked)",
                )
                record = json.loads(record_copy(workspace, version).read_text(encoding="utf-8"))
                absent = load_release(workspace, version, record)
                found.append(ReleaseSummary(version, absent.created_at, absent.clips, absent.seconds))
                continue
        except (AccentdsError, OSError, TypeError, ValueError, AttributeError) as exc:
            newest, error = None, error or str(exc)
            found.append(ReleaseSummary(version, "", 0, 0.0))
            continue
        found.append(ReleaseSummary(version, newest.created_at, newest.clips, newest.seconds))
    return found, newest, error


def release_labels(release: Release) -> dict[str, dict[str, str]]:
    """The clips of a release by clip id, with the label fields it holds (transcript, taken
    from a `text` column if it has no `transcript`, speaker, accent)."""
    folder = release.path
    paths = sorted(
        folder / name for name in release.files if name.startswith("data/") and name.endswith(".parquet")
    )
    paths = paths or sorted((folder / "data").glob("*.parquet"))
    if not paths:
        raise AccentdsError(f"{folder} holds no data/*.parquet files")
    rows: dict[str, dict[str, str]] = {}
    for path in paths:
        try:
            present = set(pq.read_schema(path).names)
            names = {f: next((c for c in cs if c in present), None) for f, cs in _COMPARED.items()}
            table = pq.read_table(path, columns=["clip_id", *(c for c in names.values() if c)])
        except (OSError, pa.ArrowException) as exc:
            raise AccentdsError(f"cannot read {path}: {exc}") from None
        for row in table.to_pylist():
            rows[row["clip_id"]] = {f: row[c] or "" for f, c in names.items() if c}
    return rows


def since_release(
    manifest: pa.Table,
    why: pa.ChunkedArray | pa.Array,
    newest: Release,
    public: Callable[[str], str] = str,
    recut: Callable[[set[str]], dict[str, str]] | None = None,
    accepted_since: Callable[[set[str], str], set[str]] | None = None,
) -> SinceRelease:
    """Compare the manifest (with each clip's reason code not to publish, `why`) with the newest
    release; `public` gives a speaker's name as a release holds it (its salted id), and `recut`
    the clip a re-cut moved the labels of each released clip no longer cut to, compared as that
    released clip (a re-cut is neither a new clip nor one left out). When that
    release holds clips of sources whose licence is not allowed (it was published with
    --include-unlicensed), clips held back only for their licence count as publishable.
    `accepted_since` gives which of the clips held back (not in it) were accepted since it was
    made, not only changed since (a note, a re-cut that moved their labels)."""
    try:
        released = release_labels(newest)
    except AccentdsError as exc:
        return SinceRelease(newest.version, error=str(exc))
    lenient = bool(newest.unlicensed_included)
    allowed = {0, publishable.bit(publishable.UNLICENSED)} if lenient else {0}
    rows = manifest.select(["clip_id", "status", "duration", "updated_at", *_COMPARED]).to_pylist()
    gone = set(released) - {row["clip_id"] for row in rows}
    moved = set()
    if gone and recut is not None:
        for old, new in recut(gone).items():
            if new not in released:
                released[new] = released.pop(old)
                moved.add(new)
    accepted = rejected = relabelled = new_clips = 0
    new_seconds = 0.0
    kept: set[str] = set()
    held: set[str] = set()  # accepted, not in it, held back, changed since it was made
    for row, reason in zip(rows, why.to_pylist(), strict=True):
        clip, state = row["clip_id"], row["status"]
        old = released.get(clip)
        if old is None:
            if state == "accepted":
                if (row["updated_at"] or "") >= newest.created_at:  # to the second, as the release
                    if reason in allowed:
                        accepted += 1
                    else:
                        held.add(clip)
                if reason in allowed:
                    new_clips += 1
                    new_seconds += float(row["duration"])
            continue
        rejected += state == "rejected"
        if state == "accepted" and reason in allowed:
            kept.add(clip)
            relabelled += any(_differs(f, row[f] or "", value, public) for f, value in old.items())
    if held:
        accepted += len(accepted_since(held, newest.created_at)) if accepted_since else len(held)
    return SinceRelease(
        newest.version,
        accepted=accepted,
        rejected=rejected,
        relabelled=relabelled,
        new_clips=new_clips,
        new_seconds=new_seconds,
        dropped=len(set(released) - kept),
        recut=len(moved & kept),
        include_unlicensed=lenient,
    )


def _differs(field: str, current: str, released: str, public: Callable[[str], str]) -> bool:
    if field == "speaker":  # a release names a speaker by id, or by name (published names, old releases)
        return released not in (current, public(current) if current else "")
    return current != released


def next_version(version: str) -> str:
    """The next minor version: 1.2.3 -> 1.3.0."""
    major, minor, _ = parse_version(version)
    return f"{major}.{minor + 1}.0"

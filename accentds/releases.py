"""Published versions: their numbers, their release.json records, and checking a folder.

Every publish also records the version in the tracked manifests: a row of
manifests/releases.csv (with the sha256 of its release.json) and a copy of the release.json
in manifests/releases/. A fresh clone (no releases/ folder) so knows which versions exist,
and `verify` shows exactly what was edited in a release.json."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AccentdsError
from .files import read_csv, sha256_file, write_csv_atomic
from .markup import release_minutes
from .privacy import salt, salt_path, speaker_id
from .selection import LeftOut
from .splits import split_memory
from .workspace import Workspace

RELEASE_JSON = "release.json"
CARD = "README.md"
RECORD_FIELDS = ["version", "created_at", "release_json_sha256", "clips", "minutes"]
_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")  # matched whole: "1.0.0\n" is no version


@dataclass(frozen=True)
class SplitStats:
    """What one split of a release holds."""

    clips: int
    seconds: float
    groups: int
    files: tuple[str, ...]

    @property
    def minutes(self) -> float:
        return release_minutes(self.seconds)


@dataclass(frozen=True)
class Release:
    """A published version, as recorded in its release.json."""

    version: str
    path: Path
    created_at: str
    previous: str | None
    splits: dict[str, SplitStats]
    assignment: dict[str, str]  # speaker, or `source:<id>` -> split
    left_out: tuple[LeftOut, ...]
    unlicensed_included: tuple[str, ...]
    files: dict[str, dict[str, Any]]  # path in the release -> {"sha256", "size"}
    warnings: tuple[str, ...] = ()
    total_seconds: float | None = None  # release.json's total (older records have none)

    @property
    def clips(self) -> int:
        return sum(s.clips for s in self.splits.values())

    @property
    def seconds(self) -> float:
        if self.total_seconds is not None:
            return self.total_seconds
        return round(sum(s.seconds for s in self.splits.values()), 3)

    @property
    def minutes(self) -> float:
        """The minutes the card and release.json give (see markup.release_minutes)."""
        return release_minutes(self.seconds)


def parse_version(version: str) -> tuple[int, int, int]:
    """`1.2.0` -> (1, 2, 0); anything but MAJOR.MINOR.PATCH is refused."""
    match = _VERSION.fullmatch(version or "")
    if not match:
        raise AccentdsError(
            f"bad version {version!r}: give a semantic version MAJOR.MINOR.PATCH such as 1.0.0 "
            "(no leading 'v', no missing parts)"
        )
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def list_releases(workspace: Workspace) -> list[str]:
    """Published versions in releases/, oldest first."""
    if not workspace.releases.is_dir():
        return []
    found = [p.name for p in workspace.releases.iterdir() if p.is_dir() and _VERSION.fullmatch(p.name)]
    return sorted(found, key=parse_version)


def releases_csv(workspace: Workspace) -> Path:
    """manifests/releases.csv: every published version and the sha256 of its release.json."""
    return workspace.manifests / "releases.csv"


def record_copy(workspace: Workspace, version: str) -> Path:
    """The tracked copy of a version's release.json, manifests/releases/<version>.json."""
    return workspace.manifests / "releases" / f"{version}.json"


def recorded_releases(workspace: Workspace) -> dict[str, dict[str, str]]:
    """The rows of manifests/releases.csv by version."""
    rows = read_csv(releases_csv(workspace))
    return {r["version"]: r for r in rows if _VERSION.fullmatch(r.get("version") or "")}


def record_release(workspace: Workspace, version: str, record: Mapping[str, Any], text: str) -> None:
    """Add a published version to the tracked record (under the lock)."""
    copy = record_copy(workspace, version)
    copy.parent.mkdir(parents=True, exist_ok=True)
    tmp = workspace.manifests / f".release-{version}.json.tmp"  # git-ignored, as every manifests/.*.tmp*
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(copy)
    rows = recorded_releases(workspace)
    total = record.get("total", {})
    rows[version] = {
        "version": version,
        "created_at": str(record.get("created_at", "")),
        "release_json_sha256": sha256_file(copy),
        "clips": str(total.get("clips", "")),
        "minutes": str(total.get("minutes", "")),
    }
    ordered = sorted(rows.values(), key=lambda r: parse_version(r["version"]))
    write_csv_atomic(releases_csv(workspace), RECORD_FIELDS, ordered)


def known_versions(workspace: Workspace) -> list[str]:
    """Every version published from this workspace or a clone of it: the tracked record and
    the folders in releases/, oldest first."""
    return sorted(set(list_releases(workspace)) | set(recorded_releases(workspace)), key=parse_version)


def previous_version(workspace: Workspace, version: str) -> str | None:
    """The newest published version lower than `version`, if any."""
    key = parse_version(version)
    lower = [v for v in known_versions(workspace) if parse_version(v) < key]
    return lower[-1] if lower else None


def release_dir(workspace: Workspace, version: str) -> Path:
    parse_version(version)
    path = workspace.releases / version
    if not path.is_dir() and version in recorded_releases(workspace):
        raise AccentdsError(
            f"release {version} was published (manifests/releases.csv) but its folder {path} is not in this "
            f"workspace (releases/ is not tracked): copy releases/{version}/ here from where it was published"
        )
    if not path.is_dir():
        published = known_versions(workspace)
        known = ", ".join(list_releases(workspace)) or "none yet"
        # a version below the newest can no longer be published: suggest it only above
        above = not published or parse_version(version) > parse_version(published[-1])
        raise AccentdsError(
            f"no release {version} in {workspace.releases} (published: {known})"
            + (f"; `accentds publish {version}` makes it" if above else "")
        )
    return path


def read_release_json(workspace: Workspace, version: str) -> dict[str, Any]:
    """The parsed release.json of a published version."""
    path = release_dir(workspace, version) / RELEASE_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccentdsError(
            f"{path} is missing: release {version} is damaged; restore the folder from a copy"
        ) from None
    except (OSError, ValueError) as exc:
        raise AccentdsError(f"{path} cannot be read ({exc}); restore release {version} from a copy") from None
    if not isinstance(data, dict):
        raise AccentdsError(f"{path} is not a release record; restore release {version} from a copy")
    return data


def load_release(workspace: Workspace, version: str, record: Mapping[str, Any] | None = None) -> Release:
    """A published release as recorded in its release.json (or as `record`, the release.json
    of a release built only to be shown)."""
    data = read_release_json(workspace, version) if record is None else record
    splits = {
        name: SplitStats(
            clips=int(stats.get("clips", 0)),
            seconds=float(stats.get("seconds", 0.0)),
            groups=int(stats.get("groups", 0)),
            files=tuple(stats.get("files", ())),
        )
        for name, stats in data.get("counts", {}).items()
    }
    return Release(
        version=str(data.get("version", version)),
        path=workspace.releases / version,
        created_at=str(data.get("created_at", "")),
        previous=data.get("previous_version"),
        splits=splits,
        assignment=_named(workspace, dict(data.get("splits", {}))),
        left_out=tuple(
            LeftOut(**{**item, "also": tuple(tuple(pair) for pair in item.get("also", []))})
            for item in data.get("left_out", [])
        ),
        unlicensed_included=tuple(data.get("unlicensed_included", [])),
        files=dict(data.get("files", {})),
        warnings=tuple(data.get("warnings", [])),
        total_seconds=_total_seconds(data),
    )


def _total_seconds(data: Mapping[str, Any]) -> float | None:
    total = data.get("total")
    try:
        return float(total["seconds"]) if isinstance(total, Mapping) else None
    except (KeyError, TypeError, ValueError):
        return None


def _named(workspace: Workspace, assignment: dict[str, str]) -> dict[str, str]:
    """A release's split map with speakers by their names in this workspace, as far as the
    split memory knows them (a release names speakers by salted ids)."""
    if not salt_path(workspace).exists():
        return assignment
    key = salt(workspace)
    names = {speaker_id(key, n[8:]): n[8:] for n in split_memory(workspace) if n.startswith("speaker:")}
    return {names.get(group, group): split for group, split in assignment.items()}


# -- checking ------------------------------------------------------------------------
def folder_problems(folder: Path, recorded: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """How a release folder differs from the files its release.json records: files changed
    (size or sha256), missing, or not recorded. Empty when it is exactly as published."""
    problems = []
    for name, entry in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif path.stat().st_size != entry.get("size") or sha256_file(path) != entry.get("sha256"):
            problems.append(f"changed: {name} (its sha256 differs from release.json)")
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        if name != RELEASE_JSON and name not in recorded:
            problems.append(f"extra: {name} (not in release.json)")
    return problems


def verify(workspace: Workspace, version: str) -> list[str]:
    """Problems with a published release (empty when every file is as recorded), one string
    each (an edited release.json's changes on its following lines): release.json changed since
    publishing (its sha256 differs from manifests/releases.csv; what changed is read from the
    tracked copy) or missing, and files changed (sha256 or size differs), missing, or not in
    the record. While the tracked copy is intact, the files are checked against it."""
    folder = release_dir(workspace, version)
    problems = _record_problems(workspace, version, folder / RELEASE_JSON)
    copy = _intact_copy(workspace, version)
    if copy is not None and (problems or not (folder / RELEASE_JSON).is_file()):
        if not problems:
            problems = [f"missing: {RELEASE_JSON}"]
        recorded = json.loads(copy.read_text(encoding="utf-8")).get("files", {})
    else:
        try:
            recorded = read_release_json(workspace, version).get("files", {})
        except AccentdsError as exc:
            return [*problems, str(exc)]
    return [*problems, *folder_problems(folder, recorded)]


def verify_advice(workspace: Workspace, version: str, problems: list[str]) -> str:
    """What to do about the problems `verify` found, file by file where it can say."""
    folder = release_dir(workspace, version)
    named = {
        p.split()[1]: p.split()[0] for p in problems if p.startswith(("changed: ", "missing: ", "extra: "))
    }
    steps = []
    copy = _intact_copy(workspace, version)
    if RELEASE_JSON in named and copy is not None:
        steps.append(f"copy {workspace.rel(copy)} to {workspace.rel(folder / RELEASE_JSON)}")
    damaged = [name for name, kind in named.items() if kind != "extra:" and name != RELEASE_JSON]
    if damaged:
        steps.append(
            f"restore {_some(damaged)} from a copy of {workspace.rel(folder)}/ "
            f"(a backup, or the Hub's tag {version} if it was pushed), or publish a new version"
        )
    extra = [name for name, kind in named.items() if kind == "extra:"]
    if extra:
        steps.append(f"delete {_some(extra)}")
    if not steps or len(named) < len(problems):
        return "restore it from a copy, or publish a new version"
    return "; ".join(steps)


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _intact_copy(workspace: Workspace, version: str) -> Path | None:
    """The tracked copy of a version's release.json if it is as recorded in releases.csv."""
    row = recorded_releases(workspace).get(version)
    copy = record_copy(workspace, version)
    if row is None or not copy.is_file() or sha256_file(copy) != row.get("release_json_sha256"):
        return None
    return copy


def _record_problems(workspace: Workspace, version: str, path: Path) -> list[str]:
    row = recorded_releases(workspace).get(version)
    if row is None or not path.is_file() or sha256_file(path) == row.get("release_json_sha256"):
        return []
    problem = (
        f"changed: {RELEASE_JSON} (its sha256 differs from {releases_csv(workspace).name} in manifests/)"
    )
    copy = _intact_copy(workspace, version)
    if copy is None:
        return [problem]
    try:
        now = _flat(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        return [f"{problem}\n  {RELEASE_JSON} is no longer valid JSON ({exc})"]
    was = _flat(json.loads(copy.read_text(encoding="utf-8")))
    changes = [
        f"  {key}: {json.dumps(was.get(key, '(absent)'))} -> {json.dumps(now.get(key, '(absent)'))}"
        for key in sorted(set(was) | set(now))
        if was.get(key, _ABSENT) != now.get(key, _ABSENT)
    ]
    more = [f"  ... and {len(changes) - 20} more"] if len(changes) > 20 else []
    return ["\n".join([problem, *changes[:20], *more])]


_ABSENT = object()


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A JSON value as {"a.b.0": leaf}."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat |= _flat(item, f"{prefix}.{key}" if prefix else str(key))
    return flat


def refuse_published_meanwhile(workspace: Workspace, version: str, previous: str | None) -> None:
    """Refuse to record `version` when another publish recorded a version after this one read
    the workspace (then its newest was `previous`): its checks and changelog compared it with an
    older release, or a lower version would come after a higher one. Call under the lock."""
    now = known_versions(workspace)
    newer = [v for v in now if parse_version(v) >= parse_version(version)]
    meanwhile = newer[-1] if newer else previous_version(workspace, version)
    if meanwhile == previous:
        return
    start = f"{meanwhile} was published by another publish while {version} was being built; nothing of {version} was kept"
    if newer:
        major, minor, patch = parse_version(now[-1])
        raise AccentdsError(
            f"{start}, and {version} is not above it: publish {major}.{minor}.{patch + 1}, "
            f"{major}.{minor + 1}.0 or {major + 1}.0.0 if there is something new since {meanwhile}"
        )
    raise AccentdsError(
        f"{start}: run `accentds publish {version}` again to compare it with {meanwhile} (its changelog, and "
        "whether anything is new)"
    )


def refuse_old_version(workspace: Workspace, version: str) -> None:
    """Refuse a version not above the newest one published from this workspace (or a clone)."""
    known = known_versions(workspace)
    if known and parse_version(version) <= parse_version(known[-1]):
        major, minor, patch = parse_version(known[-1])
        if version in known:  # a clone: its folder is elsewhere, the record says it was published
            head = f"{version} was published already (manifests/releases.csv) and never changes"
        else:
            head = (
                f"{version} is not above {known[-1]}, the newest version published from this workspace "
                "(manifests/releases.csv)"
            )
        raise AccentdsError(
            f"{head}: publish {major}.{minor}.{patch + 1}, {major}.{minor + 1}.0 or {major + 1}.0.0"
        )

"""Releases: immutable, versioned dataset folders built from accepted clips.

`publish` writes `releases/<version>/` laid out as the Hugging Face Hub expects:

```
releases/1.2.0/
  README.md                              dataset card (YAML header + summary)
  release.json                           what went in, how, and the sha256 of every file
  data/train-00000-of-00001.parquet      audio embedded as WAV bytes, one row per clip
  data/validation-00000-of-00001.parquet
  data/test-00000-of-00001.parquet
```

so `datasets.load_dataset("releases/1.2.0")` (or the folder pushed to the Hub) gives an
`Audio` column plus the labels. A release is built in a temporary folder beside the others
and renamed into place at the end, so a crash never leaves half a release; once there it is
never rewritten (`verify` checks it). Rows are sorted by clip id and written with fixed
Parquet settings and no timestamps, so rebuilding a version from the same manifests gives
byte-identical Parquet files.

Splits are by speaker (a clip without a speaker is grouped by its source), so no voice is
heard in two splits; a group keeps the split an earlier release gave it, and only new
groups are placed, by minutes, towards the `[publish]` ratios of accentds.toml."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import soundfile

from . import __version__
from .errors import AccentdsError
from .workspace import (
    Workspace,
    build_manifest,
    now_iso,
    pid_alive,
    read_csv,
    sha256_file,
    write_csv_atomic,
)

SPLITS = ("train", "validation", "test")
DENY_KINDS = ("source", "speaker")
DENY_FIELDS = ["kind", "value", "reason", "added_at"]
LABEL_FIELDS = ("transcript", "speaker", "accent", "accent_evidence")
RELEASE_JSON = "release.json"
CARD = "README.md"
GAP_MINUTES = 5.0  # accent regions with less than this are listed as gaps in the card
ROW_GROUP_ROWS = 100  # small row groups, as the Hub's viewer wants for audio
MB = 1024 * 1024  # the unit of [publish] max_shard_mb
BUILDING_PREFIX = ".building-"
VAD_COLUMNS = (
    "vad_aggressiveness",
    "vad_frame_ms",
    "vad_padding_ms",
    "vad_merge_gap_ms",
    "vad_min_clip_s",
    "vad_max_clip_s",
)
_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

# the columns of a release, after `audio`; the Parquet schema and the card both follow this
VALUE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("transcript", pa.string()),
    ("speaker", pa.string()),
    ("accent", pa.string()),
    ("accent_evidence", pa.string()),
    ("duration", pa.float64()),
    ("clip_id", pa.string()),
    ("source_id", pa.string()),
    ("origin", pa.string()),
    ("licence", pa.string()),
    ("start", pa.float64()),
    ("end", pa.float64()),
)
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
_DTYPES = {pa.string(): "string", pa.float64(): "float64"}  # `datasets` Value dtypes
_DICTIONARY_COLUMNS = ["speaker", "accent", "accent_evidence", "source_id", "origin", "licence"]
_STATISTICS_COLUMNS = [name for name, _ in VALUE_COLUMNS]


# -- records ------------------------------------------------------------------------
@dataclass(frozen=True)
class LeftOut:
    """A source or speaker whose accepted clips are not in a release, and why."""

    kind: str  # "source" or "speaker"
    value: str
    cause: str  # "licence" or "deny list"
    reason: str
    clips: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SplitStats:
    """What one split of a release holds."""

    clips: int
    seconds: float
    groups: int
    files: tuple[str, ...]

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Release:
    """A published version, as recorded in its release.json."""

    version: str
    path: Path
    created_at: str
    previous: str | None
    splits: dict[str, SplitStats]
    assignment: dict[str, str]  # group (speaker, or `source:<id>`) -> split
    left_out: tuple[LeftOut, ...]
    unlicensed_included: tuple[str, ...]
    files: dict[str, dict[str, Any]]  # path in the release -> {"sha256", "size"}

    @property
    def clips(self) -> int:
        return sum(s.clips for s in self.splits.values())

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.splits.values())


@dataclass(frozen=True)
class Relabel:
    """One label field of one clip that differs between two releases."""

    clip_id: str
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ReleaseDiff:
    """What changed from release `old` to release `new`."""

    old: str
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    relabelled: tuple[Relabel, ...]
    moved: tuple[tuple[str, str, str], ...]  # (clip id, old split, new split)
    split_seconds: dict[str, tuple[float, float]]  # split -> (seconds in old, seconds in new)
    accent_seconds: dict[str, tuple[float, float]]  # accent region ("" = none) -> (old, new)
    added_seconds: float = 0.0
    removed_seconds: float = 0.0

    @property
    def relabelled_by_field(self) -> dict[str, int]:
        """How many clips changed in each label field."""
        return dict(Counter(r.field for r in self.relabelled))

    @property
    def relabelled_clips(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.clip_id for r in self.relabelled))


@dataclass(frozen=True)
class SplitGroup:
    """Clips that must share a split: one speaker's, or one source's when unnamed."""

    name: str
    seconds: float
    accent: str


# -- versions and release folders ----------------------------------------------------
def parse_version(version: str) -> tuple[int, int, int]:
    """`1.2.0` -> (1, 2, 0); anything but MAJOR.MINOR.PATCH is refused."""
    match = _VERSION.match(version or "")
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
    found = [p.name for p in workspace.releases.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=parse_version)


def previous_version(workspace: Workspace, version: str) -> str | None:
    """The newest published version lower than `version`, if any."""
    key = parse_version(version)
    lower = [v for v in list_releases(workspace) if parse_version(v) < key]
    return lower[-1] if lower else None


def _release_dir(workspace: Workspace, version: str) -> Path:
    parse_version(version)
    path = workspace.releases / version
    if not path.is_dir():
        known = ", ".join(list_releases(workspace)) or "none yet"
        raise AccentdsError(
            f"no release {version} in {workspace.releases} (published: {known}); "
            f"`accentds publish {version}` makes it"
        )
    return path


def read_release_json(workspace: Workspace, version: str) -> dict[str, Any]:
    """The parsed release.json of a published version."""
    path = _release_dir(workspace, version) / RELEASE_JSON
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


def load_release(workspace: Workspace, version: str) -> Release:
    """A published release as recorded in its release.json."""
    data = read_release_json(workspace, version)
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
        assignment=dict(data.get("splits", {})),
        left_out=tuple(LeftOut(**item) for item in data.get("left_out", [])),
        unlicensed_included=tuple(data.get("unlicensed_included", [])),
        files=dict(data.get("files", {})),
    )


# -- the deny list -------------------------------------------------------------------
def deny_csv(workspace: Workspace) -> Path:
    """manifests/deny.csv: sources and speakers never to publish."""
    return workspace.manifests / "deny.csv"


def read_deny(workspace: Workspace) -> list[dict[str, str]]:
    """Rows of the deny list (kind, value, reason, added_at), oldest first."""
    return [row for row in read_csv(deny_csv(workspace)) if row.get("kind") and row.get("value")]


def deny(workspace: Workspace, kind: str, value: str, reason: str) -> dict[str, str]:
    """Put a source (by id) or a speaker (by name) on the deny list: no later release holds
    their clips, and each release records the reason. Returns the row added."""
    kind = kind.strip().lower()
    if kind not in DENY_KINDS:
        raise AccentdsError(f"cannot deny a {kind!r}: give 'source' (a source id) or 'speaker' (a name)")
    value = " ".join(value.split())
    reason = " ".join(reason.split())
    if not value:
        raise AccentdsError(f"give the {kind} to deny")
    if not reason:
        raise AccentdsError("give a reason (--reason): it is recorded in every later release")
    with workspace.lock():
        rows = read_deny(workspace)
        for row in rows:
            if row["kind"] == kind and row["value"] == value:
                raise AccentdsError(
                    f"{kind} {value!r} is already on the deny list since {row.get('added_at') or '?'} "
                    f"({row.get('reason') or 'no reason'}); edit {deny_csv(workspace)} to change the reason"
                )
        if kind == "source":
            known = {s.source_id for s in workspace.read_sources()}
            if value not in known:
                raise AccentdsError(f"unknown source id {value!r}; `accentds status --sources` lists them")
        else:
            speakers = set(build_manifest(workspace)["speaker"].to_pylist()) - {""}
            speakers |= set(workspace.config.labels.speakers)
            if value not in speakers:
                listed = ", ".join(repr(s) for s in sorted(speakers)[:20]) or "none yet"
                raise AccentdsError(
                    f"no clip has the speaker {value!r} (speakers: {listed}); check the spelling"
                )
        row = {"kind": kind, "value": value, "reason": reason, "added_at": now_iso()}
        write_csv_atomic(deny_csv(workspace), DENY_FIELDS, [*rows, row])
    return row


# -- choosing clips --------------------------------------------------------------------
def _select(
    rows: list[dict[str, Any]],
    denied: list[dict[str, str]],
    allowed_licences: Sequence[str],
    include_unlicensed: bool,
) -> tuple[list[dict[str, Any]], list[LeftOut], list[str]]:
    """Accepted clips that may be published; what was left out and why; the sources
    included although their licence is not allowed (only with include_unlicensed)."""
    denied_sources = {d["value"]: d.get("reason", "") for d in denied if d["kind"] == "source"}
    denied_speakers = {d["value"]: d.get("reason", "") for d in denied if d["kind"] == "speaker"}
    allowed = set(allowed_licences)
    kept: list[dict[str, Any]] = []
    counts: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    unlicensed: set[str] = set()
    for row in rows:
        if row["status"] != "accepted":
            continue
        source, speaker, licence = row["source_id"], row["speaker"], row["licence"]
        if source in denied_sources:
            key = ("source", source, "deny list", denied_sources[source])
        elif speaker and speaker in denied_speakers:
            key = ("speaker", speaker, "deny list", denied_speakers[speaker])
        elif licence not in allowed and not include_unlicensed:
            why = f"licence {licence!r} is not" if licence else "no licence is recorded, so it is not"
            key = ("source", source, "licence", f"{why} in [publish] allowed_licences")
        else:
            if licence not in allowed:
                unlicensed.add(source)
            kept.append(row)
            continue
        counts[key][0] += 1
        counts[key][1] += float(row["duration"])
    left = {key: LeftOut(*key, clips=int(n), seconds=round(s, 3)) for key, (n, s) in counts.items()}
    for entry in denied:  # the whole deny list is recorded, matching clips or not
        key = (entry["kind"], entry["value"], "deny list", entry.get("reason", ""))
        left.setdefault(key, LeftOut(*key))
    left_out = sorted(left.values(), key=lambda x: (x.kind, x.value, x.cause))
    return kept, left_out, sorted(unlicensed)


def _group_name(row: Mapping[str, Any]) -> str:
    return row["speaker"] or f"source:{row['source_id']}"


def _stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _groups(rows: Iterable[Mapping[str, Any]]) -> dict[str, SplitGroup]:
    """Clips grouped by speaker (else source), each with its minutes and main accent region."""
    seconds: dict[str, float] = defaultdict(float)
    accents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        name = _group_name(row)
        seconds[name] += float(row["duration"])
        accents[name][row["accent"]] += float(row["duration"])
    groups = {}
    for name, total in seconds.items():
        by_accent = accents[name]
        accent = min(by_accent, key=lambda a: (-by_accent[a], a))
        groups[name] = SplitGroup(name, total, accent)
    return groups


def assign_splits(
    groups: Mapping[str, SplitGroup],
    ratios: Mapping[str, float],
    known: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Give every group a split: known groups keep theirs; new ones are placed, larger first
    and accent regions taking turns, in the split most under its target minutes (overall
    plus within the group's accent region). With three or more groups, test and validation
    each get one when their ratio is not 0 (moving the smallest new group if need be).
    Deterministic: ties are broken by a sha256 of the group name."""
    known = {g: s for g, s in (known or {}).items() if s in SPLITS}
    total = sum(g.seconds for g in groups.values())
    target = {s: ratios[s] * total for s in SPLITS}
    current = dict.fromkeys(SPLITS, 0.0)
    region_total: dict[str, float] = defaultdict(float)
    region_current: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0.0))
    assignment: dict[str, str] = {}
    for group in groups.values():
        region_total[group.accent] += group.seconds
        if group.name in known:
            split = known[group.name]
            assignment[group.name] = split
            current[split] += group.seconds
            region_current[group.accent][split] += group.seconds
    new = [g for g in groups.values() if g.name not in assignment]
    by_region: dict[str, list[SplitGroup]] = defaultdict(list)
    for group in new:
        by_region[group.accent].append(group)
    for members in by_region.values():
        members.sort(key=lambda g: (-g.seconds, _stable_hash(g.name)))
    regions = sorted(by_region, key=lambda r: (-sum(g.seconds for g in by_region[r]), _stable_hash(r)))
    order = [
        by_region[region][turn]
        for turn in range(max((len(m) for m in by_region.values()), default=0))
        for region in regions
        if turn < len(by_region[region])
    ]
    for group in order:
        region = group.accent

        def score(split: str, region: str = region) -> tuple[float, int]:
            overall = target[split] - current[split]
            local = ratios[split] * region_total[region] - region_current[region][split]
            return overall + local, -SPLITS.index(split)

        split = max(SPLITS, key=score)
        assignment[group.name] = split
        current[split] += group.seconds
        region_current[region][split] += group.seconds
    if len(groups) >= 3:
        new_names = {g.name for g in new}
        for needed in ("test", "validation"):
            if ratios[needed] <= 0 or needed in assignment.values():
                continue
            members = Counter(assignment.values())
            donors = [
                groups[name]
                for name, split in assignment.items()
                if name in new_names and split != needed and members[split] > 1
            ]
            if donors:
                smallest = min(donors, key=lambda g: (g.seconds, _stable_hash(g.name)))
                assignment[smallest.name] = needed
    return assignment


# -- writing -------------------------------------------------------------------------
def _features_json(rate: int) -> dict[str, Any]:
    """The `features` of the `huggingface` Parquet metadata, as `datasets` writes it."""
    features: dict[str, Any] = {"audio": {"sampling_rate": rate, "_type": "Audio"}}
    for name, kind in VALUE_COLUMNS:
        features[name] = {"dtype": _DTYPES[kind], "_type": "Value"}
    return features


def release_schema(rate: int) -> pa.Schema:
    """The Parquet schema of a release, with the `huggingface` metadata key `datasets` reads."""
    metadata = {"huggingface": json.dumps({"info": {"features": _features_json(rate)}})}
    return pa.schema([("audio", AUDIO_TYPE), *VALUE_COLUMNS], metadata=metadata)


def plan_shards(sizes: Sequence[int], max_bytes: int) -> list[range]:
    """Contiguous runs of rows, each under max_bytes (a single larger row gets a shard alone)."""
    shards: list[range] = []
    start, running = 0, 0
    for index, size in enumerate(sizes):
        if index > start and running + size > max_bytes:
            shards.append(range(start, index))
            start, running = index, 0
        running += size
    if start < len(sizes):
        shards.append(range(start, len(sizes)))
    return shards


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _missing(row: Mapping[str, Any]) -> AccentdsError:
    return AccentdsError(
        f"clip file {row['path']} is missing: run `accentds cut --force {row['source_id']}` to cut its "
        "source again, then publish again"
    )


def _clip_bytes(workspace: Workspace, row: Mapping[str, Any]) -> int:
    try:
        return workspace.abs(row["path"]).stat().st_size
    except FileNotFoundError:
        raise _missing(row) from None


def _record(workspace: Workspace, row: Mapping[str, Any], rate: int) -> dict[str, Any]:
    """One row of a release: the clip's WAV bytes (checked to be `rate` Hz mono) and labels."""
    try:
        data = workspace.abs(row["path"]).read_bytes()
        info = soundfile.info(io.BytesIO(data))
    except FileNotFoundError:
        raise _missing(row) from None
    except (OSError, RuntimeError) as exc:
        raise AccentdsError(
            f"clip file {row['path']} cannot be read ({exc}): run `accentds cut --force "
            f"{row['source_id']}`, then publish again"
        ) from None
    if info.samplerate != rate or info.channels != 1:
        raise AccentdsError(
            f"clip {row['clip_id']} is {info.samplerate} Hz, {info.channels} channel(s), not {rate} Hz mono: "
            f"run `accentds cut --force {row['source_id']}`, then publish again"
        )
    return {
        "audio": {"bytes": data, "path": f"{row['clip_id']}.wav"},
        "transcript": row["transcript"],
        "speaker": row["speaker"],
        "accent": row["accent"],
        "accent_evidence": row["accent_evidence"],
        "duration": float(row["duration"]),
        "clip_id": row["clip_id"],
        "source_id": row["source_id"],
        "origin": row["origin"],
        "licence": row["licence"],
        "start": float(row["start"]),
        "end": float(row["end"]),
    }


def _write_split(
    workspace: Workspace, folder: Path, split: str, rows: list[dict[str, Any]], rate: int, max_bytes: int
) -> tuple[list[str], int]:
    """Write one split's shards; returns their paths in the release and its Arrow size."""
    schema = release_schema(rate)
    sizes = [_clip_bytes(workspace, r) + 256 for r in rows]
    shards = plan_shards(sizes, max_bytes)
    names = []
    nbytes = 0
    for number, shard in enumerate(shards):
        name = f"data/{split}-{number:05d}-of-{len(shards):05d}.parquet"
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(
            path,
            schema,
            compression="zstd",
            compression_level=3,
            use_dictionary=_DICTIONARY_COLUMNS,
            write_statistics=_STATISTICS_COLUMNS,
        ) as writer:
            for first in range(shard.start, shard.stop, ROW_GROUP_ROWS):
                chunk = rows[first : min(first + ROW_GROUP_ROWS, shard.stop)]
                table = pa.Table.from_pylist([_record(workspace, r, rate) for r in chunk], schema=schema)
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
                nbytes += table.nbytes
        _fsync(path)
        names.append(name)
    return names, nbytes


def _remove_dead_builds(workspace: Workspace) -> None:
    """Delete temporary build folders left by a publish that was killed."""
    for folder in workspace.releases.glob(f"{BUILDING_PREFIX}*"):
        parts = folder.name[len(BUILDING_PREFIX) :].split("-")
        pid = int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else -1
        if not pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _refuse_existing(workspace: Workspace, version: str) -> None:
    if (workspace.releases / version).exists():
        raise AccentdsError(f"release {version} exists and is immutable; publish a new version")


# -- the card ------------------------------------------------------------------------
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./*-]*$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (strings quoted unless plainly safe)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{_yaml_scalar(key)}:")
                lines.append(to_yaml(item, indent + 2 if isinstance(item, Mapping) else indent))
            else:
                empty = "{}" if isinstance(item, Mapping) else "[]" if isinstance(item, list) else None
                lines.append(f"{pad}{_yaml_scalar(key)}: {empty or _yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping | list) and item:
                inner = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {inner[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


def _size_category(count: int) -> str:
    """The Hub's size category for a number of rows."""
    names = ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]
    for power, name in enumerate(names, start=3):
        if count < 10**power:
            return name
    return "n>1T"


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell (no HTML, no column breaks)."""
    text = " ".join(str(value).split())
    for old, new in (("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(old, new)
    return text or "—"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _min(seconds: float) -> str:
    return f"{seconds / 60:.2f}"


def _card_yaml(
    workspace: Workspace, rate: int, split_info: dict[str, dict[str, Any]], total_clips: int
) -> dict[str, Any]:
    """The card's YAML header: what the Hub shows and what `load_dataset` reads (the data
    files of each non-empty split, and the features and split sizes it checks)."""
    config = workspace.config
    splits = [s for s in SPLITS if split_info.get(s, {}).get("clips")]
    features: list[dict[str, Any]] = [{"name": "audio", "dtype": {"audio": {"sampling_rate": rate}}}]
    features += [{"name": n, "dtype": _features_json(rate)[n]["dtype"]} for n, _ in VALUE_COLUMNS]
    header: dict[str, Any] = {
        "license": config.publish.license,
        "language": [config.language],
    }
    if config.language == "en":
        header["language_details"] = "en-GB-scotland"
    header |= {
        "pretty_name": config.name,
        "task_categories": ["automatic-speech-recognition"],
        "tags": ["audio", "speech", "accent", "scottish-english"],
        "size_categories": [_size_category(total_clips)],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits],
            }
        ],
        "dataset_info": {
            "features": features,
            "splits": [
                {"name": s, "num_bytes": split_info[s]["num_bytes"], "num_examples": split_info[s]["clips"]}
                for s in splits
            ],
            "download_size": sum(split_info[s]["download_size"] for s in splits),
            "dataset_size": sum(split_info[s]["num_bytes"] for s in splits),
        },
    }
    return header


@dataclass
class _Build:
    """What a release being built holds, for its card and record."""

    version: str
    rows: list[dict[str, Any]]  # kept clips, each with its `split`
    split_info: dict[str, dict[str, Any]]
    left_out: list[LeftOut]
    unlicensed: list[str]
    vad: list[dict[str, Any]]
    rate: int
    changelog: str = ""

    @property
    def splits(self) -> list[str]:
        """The splits that hold clips, in order."""
        return [s for s in SPLITS if self.split_info.get(s, {}).get("clips")]


def _seconds(rows: Iterable[Mapping[str, Any]]) -> float:
    return sum(float(r["duration"]) for r in rows)


def _by(rows: Iterable[dict[str, Any]], key: Any) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _card_intro(workspace: Workspace, build: _Build) -> list[str]:
    config = workspace.config
    lines = [f"# {config.name} {build.version}", ""]
    if config.description:
        lines += [config.description, ""]
    return [
        *lines,
        f"{len(build.rows)} clips, {_seconds(build.rows) / 60:.2f} minutes of speech: {build.rate} Hz "
        "mono 16-bit WAV embedded in Parquet, each with its transcript, speaker, accent region and the "
        f"evidence for it. Every clip was accepted by a human reviewer. Built with accentds {__version__}.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("path/to/this/folder")  # or the Hub repository id',
        "```",
        "",
        "`audio` holds the WAV file's bytes and a file name (`<clip_id>.wav`); `duration`, `start` and "
        "`end` are seconds, `start`/`end` within the source. `origin` is the source's URL, or `file` "
        "for a local recording.",
    ]


def _card_splits(build: _Build) -> list[str]:
    by_split = _by(build.rows, lambda r: r["split"])
    rows = [
        (s, len(by_split[s]), _min(_seconds(by_split[s])), len({_group_name(r) for r in by_split[s]}))
        for s in build.splits
    ]
    return [
        "## Splits",
        "",
        "No speaker is in two splits (a clip without a named speaker goes with the other clips of its "
        "source), and a speaker keeps their split from one version to the next.",
        "",
        _table(["split", "clips", "minutes", "speakers or sources"], rows),
    ]


def _card_accents(build: _Build) -> list[str]:
    rows = []
    for accent, mine in sorted(
        _by(build.rows, lambda r: r["accent"]).items(), key=lambda kv: (kv[0] == "", kv[0])
    ):
        per_split = _by(mine, lambda r: r["split"])
        rows.append(
            [
                accent or "(none)",
                len(mine),
                _min(_seconds(mine)),
                *(_min(_seconds(per_split[s])) for s in build.splits),
            ]
        )
    return [
        "## Accent regions",
        "",
        _table(["accent region", "clips", "minutes", *(f"{s} min" for s in build.splits)], rows),
    ]


def _card_speakers(build: _Build) -> list[str]:
    rows = []
    for name, mine in sorted(_by(build.rows, _group_name).items()):
        accents = sorted({r["accent"] for r in mine if r["accent"]})
        shown = name if mine[0]["speaker"] else f"(unnamed, {name})"
        rows.append(
            [shown, ", ".join(accents) or "(none)", mine[0]["split"], len(mine), _min(_seconds(mine))]
        )
    return ["## Speakers", "", _table(["speaker", "accent region", "split", "clips", "minutes"], rows)]


def _card_sources(build: _Build) -> list[str]:
    rows = []
    for source, mine in sorted(_by(build.rows, lambda r: r["source_id"]).items()):
        first = mine[0]
        url = first["origin"] != "file"  # a local file's title may be a private file name
        rows.append(
            [
                source,
                first["origin"] if url else "local file",
                first["title"] if url else "",
                first["uploader"] if url else "",
                first["licence"] or "(none recorded)",
                len(mine),
                _min(_seconds(mine)),
            ]
        )
    lines = [
        "## Sources and licences",
        "",
        _table(["source", "origin", "title", "uploader", "licence", "clips", "minutes"], rows),
    ]
    if build.unlicensed:
        listed = ", ".join(f"`{_cell(s)}`" for s in build.unlicensed)
        lines += ["", f"Published with `--include-unlicensed`; not in the allowed licences: {listed}."]
    left = [
        f"- source `{_cell(item.value)}`: {_cell(item.reason)} ({item.clips} clips, {_min(item.seconds)} min)"
        for item in build.left_out
        if item.cause == "licence"
    ]
    denied = [item for item in build.left_out if item.cause == "deny list"]
    if denied:  # no names here: the card is public; release.json has the list
        left.append(
            f"- {len(denied)} source(s) or speaker(s) on the deny list ({sum(i.clips for i in denied)} clips, "
            f"{_min(sum(i.seconds for i in denied))} min)"
        )
    return [*lines, "", "## Left out", "", *(left or ["Nothing accepted was left out."])]


def _card_cutting(build: _Build) -> list[str]:
    headers = [
        "settings", "VAD aggressiveness", "frame ms", "padding ms", "merge gap ms", "min clip s", "max clip s",
        "clips",
    ]  # fmt: skip
    keys = [
        "settings_id", "aggressiveness", "frame_ms", "padding_ms", "merge_gap_ms", "min_clip_s", "max_clip_s",
        "clips",
    ]  # fmt: skip
    return [
        "## How the clips were cut",
        "",
        f"ffmpeg decoded each source's first audio stream to {build.rate} Hz mono, and webrtcvad found the "
        "speech in it: speech runs separated by pauses shorter than the merge gap form one clip, padded on "
        "each side; clips shorter than the minimum were dropped and longer speech was split at its quietest "
        f"pause. Cut and published with accentds {__version__}.",
        "",
        _table(headers, [[v[k] for k in keys] for v in build.vad]),
    ]


def _card_gaps(workspace: Workspace, build: _Build) -> list[str]:
    seconds = {a: _seconds(mine) for a, mine in _by(build.rows, lambda r: r["accent"]).items()}
    gaps = [a for a in workspace.config.labels.accents if seconds.get(a, 0.0) / 60 < GAP_MINUTES]
    lines = [f"- {_cell(a)}: {_min(seconds.get(a, 0.0))} min" for a in gaps]
    unlabelled = sum(1 for r in build.rows if not r["accent"])
    if unlabelled:
        lines.append(f"- {unlabelled} clip(s) have no accent region")
    unnamed = sum(1 for r in build.rows if not r["speaker"])
    if unnamed:
        lines.append(f"- {unnamed} clip(s) have no named speaker")
    intro = (
        f"Accent regions with less than {GAP_MINUTES:g} minutes:" if gaps else "No accent region is short."
    )
    return ["## Known gaps", "", intro, "", *lines]


def _card(workspace: Workspace, build: _Build) -> str:
    """The dataset card: YAML metadata for the Hub, then a summary for people."""
    header = _card_yaml(workspace, build.rate, build.split_info, len(build.rows))
    sections = [
        _card_intro(workspace, build),
        _card_splits(build),
        _card_accents(build),
        _card_speakers(build),
        _card_sources(build),
        _card_cutting(build),
        _card_gaps(workspace, build),
        ["## Changelog", "", build.changelog or "First release."],
    ]
    body = "\n\n".join("\n".join(lines) for lines in sections)
    return f"---\n{to_yaml(header)}\n---\n\n{body}\n"


# -- publishing ----------------------------------------------------------------------
def _vad_settings(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The distinct VAD settings the clips were cut with, and how many clips each."""
    counted: dict[tuple[Any, ...], int] = Counter(
        (row["settings_id"], *(row[c] for c in VAD_COLUMNS)) for row in rows
    )
    settings = []
    for key, clips in sorted(counted.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        entry = {"settings_id": key[0]}
        entry |= {c.removeprefix("vad_"): v for c, v in zip(VAD_COLUMNS, key[1:], strict=True)}
        entry["clips"] = clips
        settings.append(entry)
    return settings


def _read_workspace(workspace: Workspace, version: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Under the lock: refuse an existing version, clear dead builds, and read every clip's
    effective labels (with its VAD settings) and the deny list."""
    with workspace.lock():
        _refuse_existing(workspace, version)
        _remove_dead_builds(workspace)
        manifest = build_manifest(workspace)
        vad_table = workspace.read_clip_table(columns=["clip_id", *VAD_COLUMNS])
        kinds = {s.source_id: s.kind for s in workspace.read_sources()}
        denied = read_deny(workspace)
    vad_by_clip = {r["clip_id"]: r for r in vad_table.to_pylist()}
    rows = manifest.to_pylist()
    for row in rows:
        row |= {c: vad_by_clip.get(row["clip_id"], {}).get(c) for c in VAD_COLUMNS}
        if kinds.get(row["source_id"], "file") != "url":
            row["origin"] = "file"  # never publish a local path
    return rows, denied


def _refuse_empty(version: str, rows: Sequence[Mapping[str, Any]], left_out: Sequence[LeftOut]) -> None:
    accepted = sum(1 for r in rows if r["status"] == "accepted")
    if not accepted:
        raise AccentdsError(
            f"nothing to publish in {version}: no clip is accepted yet; accept clips with "
            "`accentds review` or `accentds label CLIP_ID --accept`"
        )
    reasons = "; ".join(f"{i.kind} {i.value}: {i.reason}" for i in left_out if i.clips)
    raise AccentdsError(
        f"nothing to publish in {version}: all {accepted} accepted clips were left out ({reasons}); "
        "add their licence to [publish] allowed_licences in accentds.toml (or pass --include-unlicensed "
        "if you may publish them anyway), or accept other clips"
    )


def _write_data(
    workspace: Workspace, folder: Path, rows: list[dict[str, Any]], rate: int
) -> dict[str, dict[str, Any]]:
    """Write every split's shards into the build folder; returns each split's figures."""
    max_bytes = workspace.config.publish.max_shard_mb * MB
    info: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        members = [r for r in rows if r["split"] == split]
        names, nbytes = (
            _write_split(workspace, folder, split, members, rate, max_bytes) if members else ([], 0)
        )
        seconds = _seconds(members)
        info[split] = {
            "clips": len(members),
            "seconds": round(seconds, 3),
            "minutes": round(seconds / 60, 2),
            "groups": len({_group_name(r) for r in members}),
            "files": names,
            "num_bytes": nbytes,
            "download_size": sum((folder / n).stat().st_size for n in names),
        }
    return info


def _previous(workspace: Workspace, previous: str | None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The split of every group an earlier release placed, and the clips of the previous
    release (empty if its data cannot be read)."""
    if not previous:
        return {}, {}
    splits = read_release_json(workspace, previous).get("splits", {})
    known = {str(group): str(split) for group, split in splits.items() if split in SPLITS}
    try:
        clips = _release_rows(workspace.releases / previous)
    except AccentdsError:
        clips = {}
    return known, clips


def _inherit(
    groups: Mapping[str, SplitGroup],
    rows: Iterable[Mapping[str, Any]],
    known: Mapping[str, str],
    before: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """`known`, plus a split for each new group whose clips were published before (a speaker
    renamed, merged, or named for a source's clips): the split that held most of them."""
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0.0))
    for row in rows:
        old = before.get(row["clip_id"])
        if old and old["split"] in SPLITS:
            seconds[_group_name(row)][old["split"]] += float(row["duration"])
    inherited = dict(known)
    for name in groups:
        if name not in known and name in seconds:
            by_split = seconds[name]
            inherited[name] = max(SPLITS, key=lambda s: (by_split[s], -SPLITS.index(s)))
    return inherited


def _changelog(
    previous: str | None, version: str, before: Mapping[str, Mapping[str, Any]], folder: Path
) -> str:
    if not previous:
        return ""
    if not before:
        return f"Could not compare with {previous}: its data files cannot be read."
    try:
        return render_diff(_diff_rows(previous, version, before, _release_rows(folder)))
    except AccentdsError as exc:
        return f"Could not compare with {previous}: {exc}"


def _private(name: str, denied: set[str]) -> str:
    """A denied speaker's name never goes into a release: it is replaced by a hash."""
    return f"denied:{_stable_hash(name)[:16]}" if name in denied else name


def _record_json(
    workspace: Workspace,
    build: _Build,
    created_at: str,
    previous: str | None,
    assignment: Mapping[str, str],
    include_unlicensed: bool,
    files: Mapping[str, Any],
) -> dict[str, Any]:
    publish_settings = {
        k: list(v) if isinstance(v, tuple) else v for k, v in asdict(workspace.config.publish).items()
    }
    seconds = _seconds(build.rows)
    denied = {row["value"] for row in read_deny(workspace) if row.get("kind") == "speaker"}
    return {
        "version": build.version,
        "created_at": created_at,
        "accentds_version": __version__,
        "previous_version": previous,
        "settings": {
            "sampling_rate": build.rate,
            "vad": build.vad,
            "publish": publish_settings,
            "include_unlicensed": include_unlicensed,
        },
        "counts": build.split_info,
        "total": {"clips": len(build.rows), "seconds": round(seconds, 3), "minutes": round(seconds / 60, 2)},
        "splits": dict(sorted((_private(g, denied), split) for g, split in assignment.items())),
        "left_out": [asdict(item) | {"value": _private(item.value, denied)} for item in build.left_out],
        "unlicensed_included": build.unlicensed,
        "files": dict(files),
    }


def publish(
    workspace: Workspace, version: str, *, include_unlicensed: bool = False, now: str | None = None
) -> Release:
    """Build releases/<version>/ from the accepted clips: Parquet shards per split, the
    dataset card and release.json. Refused if the version exists or nothing is left to
    publish. Sources whose licence is not in `[publish] allowed_licences` are left out
    unless `include_unlicensed`; sources and speakers on the deny list always are.
    `now` sets the recorded creation time (default: the current time)."""
    parse_version(version)
    config = workspace.config
    rate = config.vad.sample_rate
    workspace.releases.mkdir(parents=True, exist_ok=True)
    rows, denied = _read_workspace(workspace, version)
    kept, left_out, unlicensed = _select(rows, denied, config.publish.allowed_licences, include_unlicensed)
    if not kept:
        _refuse_empty(version, rows, left_out)
    previous = previous_version(workspace, version)
    known, before = _previous(workspace, previous)
    groups = _groups(kept)
    ratios = {
        "train": config.publish.train,
        "validation": config.publish.validation,
        "test": config.publish.test,
    }
    assignment = assign_splits(groups, ratios, _inherit(groups, kept, known, before))
    kept.sort(key=lambda r: r["clip_id"])
    for row in kept:
        row["split"] = assignment[_group_name(row)]

    folder = workspace.releases / f"{BUILDING_PREFIX}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir()
        build = _Build(version, kept, {}, left_out, unlicensed, _vad_settings(kept), rate)
        build.split_info = _write_data(workspace, folder, kept, rate)
        build.changelog = _changelog(previous, version, before, folder)
        (folder / CARD).write_text(_card(workspace, build), encoding="utf-8")
        _fsync(folder / CARD)
        files = {
            path.relative_to(folder).as_posix(): {"sha256": sha256_file(path), "size": path.stat().st_size}
            for path in sorted(p for p in folder.rglob("*") if p.is_file())
        }
        # a group keeps its split even while it has no clips in a release
        record = _record_json(
            workspace, build, now or now_iso(), previous, known | assignment, include_unlicensed, files
        )
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        (folder / RELEASE_JSON).write_text(text, encoding="utf-8")
        _fsync(folder / RELEASE_JSON)
        for directory in (folder / "data", folder):
            _fsync(directory)
        with workspace.lock():
            _refuse_existing(workspace, version)
            os.rename(folder, workspace.releases / version)
        _fsync(workspace.releases)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    return load_release(workspace, version)


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
    """Problems with a published release (empty when every file is as recorded): files
    changed since publishing (sha256 or size differs), missing, or not in the record."""
    folder = _release_dir(workspace, version)
    try:
        recorded = read_release_json(workspace, version).get("files", {})
    except AccentdsError as exc:
        return [str(exc)]
    return folder_problems(folder, recorded)


# -- comparing -----------------------------------------------------------------------
def _release_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """Every clip of a release folder (without audio) with its split, by clip id."""
    files = sorted((folder / "data").glob("*.parquet"))
    if not files:
        raise AccentdsError(f"{folder} holds no data/*.parquet files")
    rows: dict[str, dict[str, Any]] = {}
    columns = ["clip_id", *LABEL_FIELDS, "duration"]
    for path in files:
        split = path.name.split("-", 1)[0]
        try:
            table = pq.read_table(path, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise AccentdsError(f"cannot read {path}: {exc}") from None
        for row in table.to_pylist():
            row["split"] = split
            rows[row["clip_id"]] = row
    return rows


def _diff_rows(
    old: str, new: str, before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> ReleaseDiff:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    relabelled = []
    moved = []
    for clip in sorted(set(before) & set(after)):
        for name in LABEL_FIELDS:
            if (before[clip][name] or "") != (after[clip][name] or ""):
                relabelled.append(Relabel(clip, name, before[clip][name] or "", after[clip][name] or ""))
        if before[clip]["split"] != after[clip]["split"]:
            moved.append((clip, before[clip]["split"], after[clip]["split"]))

    def totals(rows: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for row in rows.values():
            sums[row[key] or ""] += float(row["duration"])
        return sums

    old_split, new_split = totals(before, "split"), totals(after, "split")
    splits = [s for s in SPLITS if s in old_split or s in new_split]
    old_accent, new_accent = totals(before, "accent"), totals(after, "accent")
    accents = sorted(set(old_accent) | set(new_accent), key=lambda a: (a == "", a))
    return ReleaseDiff(
        old=old,
        new=new,
        added=tuple(added),
        removed=tuple(removed),
        relabelled=tuple(relabelled),
        moved=tuple(moved),
        split_seconds={s: (round(old_split.get(s, 0.0), 3), round(new_split.get(s, 0.0), 3)) for s in splits},
        accent_seconds={
            a: (round(old_accent.get(a, 0.0), 3), round(new_accent.get(a, 0.0), 3)) for a in accents
        },
        added_seconds=round(sum(float(after[c]["duration"]) for c in added), 3),
        removed_seconds=round(sum(float(before[c]["duration"]) for c in removed), 3),
    )


def diff(workspace: Workspace, v1: str, v2: str) -> ReleaseDiff:
    """What changed from release v1 to release v2: clips added and removed, labels changed
    (per field), clips that moved split, and minutes per split and per accent region."""
    before = _release_rows(_release_dir(workspace, v1))
    after = _release_rows(_release_dir(workspace, v2))
    return _diff_rows(v1, v2, before, after)


def _listed(items: Sequence[str], limit: int = 20) -> list[str]:
    lines = [f"- {item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"- ... and {len(items) - limit} more")
    return lines


def render_diff(d: ReleaseDiff) -> str:
    """A Markdown summary of a ReleaseDiff (the card's changelog, `accentds diff`)."""
    fields = ", ".join(f"{name} {count}" for name, count in sorted(d.relabelled_by_field.items()))
    lines = [
        f"Changes from {d.old} to {d.new}: {len(d.added)} clip(s) added ({_min(d.added_seconds)} min), "
        f"{len(d.removed)} removed ({_min(d.removed_seconds)} min), "
        f"{len(d.relabelled_clips)} relabelled"
        + (f" ({fields})" if fields else "")
        + f", {len(d.moved)} moved split.",
        "",
        _table(
            ["split", f"{d.old} min", f"{d.new} min", "change"],
            [(s, _min(a), _min(b), f"{(b - a) / 60:+.2f}") for s, (a, b) in d.split_seconds.items()],
        ),
        "",
        _table(
            ["accent region", f"{d.old} min", f"{d.new} min", "change"],
            [
                (a or "(none)", _min(x), _min(y), f"{(y - x) / 60:+.2f}")
                for a, (x, y) in d.accent_seconds.items()
            ],
        ),
    ]
    if d.relabelled:
        lines += ["", "Relabelled:", ""]
        lines += _listed(
            [
                f"`{_cell(r.clip_id)}` {r.field}: {_cell(json.dumps(r.old, ensure_ascii=False))} → "
                f"{_cell(json.dumps(r.new, ensure_ascii=False))}"
                for r in d.relabelled
            ]
        )
    if d.moved:
        lines += ["", "Moved split:", ""]
        lines += _listed([f"`{_cell(c)}` {a} → {b}" for c, a, b in d.moved])
    if d.added:
        lines += ["", "Added:", ""]
        lines += _listed([f"`{_cell(c)}`" for c in d.added])
    if d.removed:
        lines += ["", "Removed:", ""]
        lines += _listed([f"`{_cell(c)}`" for c in d.removed])
    return "\n".join(lines)

"""Read a built release folder, check it, and re-write it for other tools.

A release folder (``releases/<version>/``) holds ``README.md`` (the dataset card),
``release.json`` (the version and every file's sha256 and size) and
``data/<split>-<k:05d>-of-<n:05d>.parquet`` shards whose ``audio`` column holds each clip's
16 kHz mono WAV bytes. :func:`write_nemo` and :func:`write_audiofolder` extract those WAVs
byte for byte, with a NeMo manifest or a Hugging Face ``audiofolder`` layout beside them.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import soundfile

from .errors import AccentdsError
from .files import pid_alive, sha256_file

RELEASE_JSON = "release.json"
CARD = "README.md"
SPLIT_ORDER = ("train", "validation", "test")
SHARD_RE = re.compile(r"data/(?P<split>[A-Za-z0-9_]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet")
CLIP_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SHARD_COLUMNS = ("audio", "text", "speaker_id", "accent", "duration", "clip_id")
# releases made before the Hub's column names: their name -> the name now
OLD_NAMES = {"transcript": "text", "speaker": "speaker_id"}
NEMO_FORMAT = "nemo"
AUDIOFOLDER_FORMAT = "audiofolder"
# audiofolder metadata: file_name first (relative to the split folder), then the labels
AUDIOFOLDER_COLUMNS = [
    "file_name",
    "transcript",
    "speaker",
    "accent",
    "duration",
    "clip_id",
    "accent_evidence",
    "source_id",
    "origin",
    "licence",
    "start",
    "end",
    "text_origin",
]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Release:
    """A release folder as release.json describes it."""

    root: Path
    version: str
    files: dict[str, dict[str, Any]]  # repo path -> {"sha256": ..., "size": ...}
    shards: dict[str, list[str]] = field(default_factory=dict)  # split -> shard paths, in order

    def upload_paths(self) -> list[str]:
        """Every file of the release, release.json included, sorted."""
        return sorted([*self.files, RELEASE_JSON])


def _damaged(release_dir: Path, what: str) -> AccentdsError:
    return AccentdsError(f"release {release_dir} is damaged: {what}; rebuild it before using it")


def _safe_rel(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and "\\" not in path and ".." not in parts


def read_release(release_dir: Path) -> Release:
    """Parse release.json and check its shape (names, shard numbering); no hashing."""
    release_dir = Path(release_dir).expanduser().resolve()
    if not release_dir.is_dir():
        raise AccentdsError(f"no release at {release_dir}: build it first (accentds publish VERSION)")
    meta_path = release_dir / RELEASE_JSON
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _damaged(release_dir, f"{RELEASE_JSON} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _damaged(release_dir, f"{RELEASE_JSON} is not valid JSON ({exc})") from None
    files = meta.get("files") if isinstance(meta, dict) else None
    version = meta.get("version") if isinstance(meta, dict) else None
    if not isinstance(files, dict) or not isinstance(version, str) or not version:
        raise _damaged(release_dir, f'{RELEASE_JSON} needs a "version" and a "files" object')
    for rel, info in files.items():
        if not _safe_rel(rel) or rel == RELEASE_JSON:
            raise _damaged(release_dir, f"{RELEASE_JSON} lists a file it may not hold: {rel!r}")
        if (
            not isinstance(info, dict)
            or not isinstance(info.get("sha256"), str)
            or not isinstance(info.get("size"), int)
        ):
            raise _damaged(release_dir, f"{RELEASE_JSON} has no sha256 and size for {rel}")
    if CARD not in files:
        raise _damaged(release_dir, f"it has no dataset card ({CARD})")
    shards: dict[str, dict[int, str]] = {}
    counts: dict[str, int] = {}
    for rel in files:
        if not rel.startswith("data/"):
            continue
        match = SHARD_RE.fullmatch(rel)
        if not match:
            raise _damaged(release_dir, f"{rel} is not named <split>-00000-of-00001.parquet")
        split, index, count = match["split"], int(match["index"]), int(match["count"])
        if counts.setdefault(split, count) != count or index >= count:
            raise _damaged(release_dir, f"the {split} shards are numbered inconsistently ({rel})")
        shards.setdefault(split, {})[index] = rel
    if not shards:
        raise _damaged(release_dir, "it holds no data/*.parquet shards")
    for split, found in shards.items():
        missing = sorted(set(range(counts[split])) - set(found))
        if missing:
            raise _damaged(release_dir, f"{split} shard(s) {missing} of {counts[split]} are not listed")
    order = [s for s in SPLIT_ORDER if s in shards] + sorted(set(shards) - set(SPLIT_ORDER))
    ordered = {s: [shards[s][i] for i in range(counts[s])] for s in order}
    return Release(root=release_dir, version=version, files=dict(files), shards=ordered)


def verify_release(release_dir: Path, version: str | None = None, allow_extra: bool = False) -> Release:
    """Check a release against its release.json: every listed file present with its size and
    sha256, no file that it does not list (unless `allow_extra`), and (if given) the version.
    Raises AccentdsError saying what is wrong."""
    release = read_release(release_dir)
    root = release.root
    if version is not None and release.version != version:
        raise AccentdsError(
            f"{root / RELEASE_JSON} is for version {release.version}, not {version}: "
            f"check the version you asked for"
        )
    for rel, info in sorted(release.files.items()):
        path = root / rel
        if not path.is_file():
            raise _damaged(root, f"{rel} is listed in {RELEASE_JSON} but missing")
        size = path.stat().st_size
        if size != info["size"]:
            raise _damaged(root, f"{rel} is {size} bytes, {RELEASE_JSON} says {info['size']}")
        if sha256_file(path) != info["sha256"].lower():
            raise _damaged(
                root, f"{rel} does not match its sha256 in {RELEASE_JSON} (changed since it was built)"
            )
    if allow_extra:
        return release
    listed = set(release.files) | {RELEASE_JSON}
    extra = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.relative_to(root).as_posix() not in listed
    )
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise AccentdsError(
            f"release {root} holds files {RELEASE_JSON} does not list: {shown}; "
            f"remove them (or rebuild the release) so that only the release is published"
        )
    return release


# -- reading clips ------------------------------------------------------------------


def _iter_clips(release: Release, split: str) -> Iterator[dict[str, Any]]:
    """The rows of one split in shard order, one at a time (audio as WAV bytes)."""
    seen: set[str] = set()
    for rel in release.shards[split]:
        try:
            parquet = pq.ParquetFile(release.root / rel)
        except pa.ArrowException as exc:
            raise _damaged(release.root, f"{rel} is not a readable Parquet file ({exc})") from None
        names = [OLD_NAMES.get(n, n) for n in parquet.schema_arrow.names]
        missing = [c for c in SHARD_COLUMNS if c not in names]
        if missing:
            raise _damaged(release.root, f"{rel} has no column(s) {', '.join(missing)}")
        for batch in parquet.iter_batches(batch_size=64):
            for row in batch.to_pylist():
                clip_id = row.get("clip_id") or ""
                if not CLIP_ID_RE.fullmatch(clip_id):
                    raise _damaged(
                        release.root, f"{rel} has a clip id that is not a safe file name: {clip_id!r}"
                    )
                if clip_id in seen:
                    raise _damaged(release.root, f"clip {clip_id} appears twice in the {split} split")
                seen.add(clip_id)
                for old, new in OLD_NAMES.items():
                    if old in row:
                        row[new] = row.pop(old)
                row["transcript"], row["speaker"] = row["text"], row["speaker_id"]  # the formats' names
                audio = row.get("audio") or {}
                data = audio.get("bytes") if isinstance(audio, dict) else None
                if not data:
                    raise _damaged(release.root, f"clip {clip_id} in {rel} has no audio bytes")
                yield row


def _wav_seconds(data: bytes, clip_id: str) -> float:
    try:
        info = soundfile.info(io.BytesIO(data))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise AccentdsError(f"clip {clip_id}: its audio is not a readable WAV file ({exc})") from None
    return info.frames / info.samplerate


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# -- writing ------------------------------------------------------------------------


def _write_card(release: Release, out_dir: Path, fmt: str, metadata: str = "jsonl") -> None:
    """The release's dataset card as out_dir/README.md, told how to load this folder
    (accentds/export_card.py)."""
    from .export_card import export_card

    try:
        text = (release.root / CARD).read_text(encoding="utf-8")
        settings = json.loads((release.root / RELEASE_JSON).read_text(encoding="utf-8")).get("settings")
        rate = settings.get("sampling_rate") if isinstance(settings, dict) else None
        card = export_card(text, release.version, fmt, list(release.shards), rate, metadata)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _damaged(release.root, f"its {CARD} cannot be read ({exc})") from None
    (out_dir / CARD).write_text(card, encoding="utf-8")


@contextmanager
def _fresh_output(release: Release, out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `out_dir`; on success it becomes `out_dir` in one step.

    Refuses an `out_dir` that exists and is not an empty folder, or that lies in the release."""
    out_dir = check_output(out_dir)
    if out_dir.is_relative_to(release.root.resolve()):
        raise AccentdsError(f"{out_dir} is inside the release {release.root}: choose a folder outside it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for left in out_dir.parent.glob(f".{glob.escape(out_dir.name)}.tmp*"):  # of an export killed before
        pid = left.name.rsplit(".tmp", 1)[1]
        if left.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        os.replace(tmp, out_dir)  # onto a missing or empty folder: one rename
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_nemo(release_dir: Path, out_dir: Path, absolute_paths: bool = False) -> Path:
    """Extract a release for NVIDIA NeMo: ``out_dir/audio/<split>/<clip_id>.wav`` (the shard's
    WAV bytes as they are) and ``out_dir/<split>_manifest.jsonl``, one JSON object per clip:
    ``audio_filepath`` (relative to out_dir unless `absolute_paths`), ``duration`` (seconds,
    measured from the WAV), ``text``, ``speaker``, ``accent``, ``clip_id``; and the release's
    card as ``out_dir/README.md``. Returns out_dir."""
    release = verify_release(Path(release_dir), allow_extra=True)
    final = Path(out_dir).expanduser().resolve()
    with _fresh_output(release, final) as tmp:
        _write_card(release, tmp, NEMO_FORMAT)
        for split in release.shards:
            audio_dir = tmp / "audio" / split
            audio_dir.mkdir(parents=True)
            with open(tmp / f"{split}_manifest.jsonl", "w", encoding="utf-8", newline="\n") as manifest:
                for row in _iter_clips(release, split):
                    clip_id, data = row["clip_id"], row["audio"]["bytes"]
                    (audio_dir / f"{clip_id}.wav").write_bytes(data)
                    rel = f"audio/{split}/{clip_id}.wav"
                    entry = {
                        "audio_filepath": str(final / rel) if absolute_paths else rel,
                        "duration": round(_wav_seconds(data, clip_id), 6),
                        "text": _text(row.get("transcript")),
                        "speaker": _text(row.get("speaker")),
                        "accent": _text(row.get("accent")),
                        "clip_id": clip_id,
                    }
                    manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return final


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _metadata_value(column: str, value: Any) -> Any:
    """Strings stay strings (None -> ""), so every split's metadata has the same types."""
    if column in ("duration", "start", "end"):
        return None if value is None else float(value)
    return _text(value)


METADATA_KINDS = ("jsonl", "csv")


def write_audiofolder(release_dir: Path, out_dir: Path, metadata: str = "jsonl") -> Path:
    """Extract a release in the Hugging Face ``audiofolder`` layout: ``out_dir/<split>/<clip_id>.wav``
    (the shard's WAV bytes as they are) and ``out_dir/<split>/metadata.jsonl`` (or ``metadata.csv``
    with `metadata="csv"`) whose ``file_name`` (relative to that split folder) comes first, then
    transcript, speaker, accent, duration, clip_id, accent_evidence, source_id, origin, licence,
    start, end, text_origin; and the release's card as ``out_dir/README.md``. Load it with
    ``datasets.load_dataset("audiofolder", data_dir=out_dir)`` or ``datasets.load_dataset(out_dir)``.

    JSON lines is the default because datasets infers each CSV's column types on its own and
    refuses splits that disagree: a split whose transcripts are all digits (int64), or whose
    accent_evidence is all empty (float NaN), would not load. Returns out_dir."""
    if metadata not in METADATA_KINDS:
        raise AccentdsError(f"unknown metadata kind {metadata!r}: use one of {', '.join(METADATA_KINDS)}")
    release = verify_release(Path(release_dir), allow_extra=True)
    final = Path(out_dir).expanduser().resolve()
    with _fresh_output(release, final) as tmp:
        _write_card(release, tmp, AUDIOFOLDER_FORMAT, metadata)
        for split in release.shards:
            split_dir = tmp / split
            split_dir.mkdir()
            with open(split_dir / f"metadata.{metadata}", "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                if metadata == "csv":
                    writer.writerow(AUDIOFOLDER_COLUMNS)
                for row in _iter_clips(release, split):
                    clip_id, data = row["clip_id"], row["audio"]["bytes"]
                    (split_dir / f"{clip_id}.wav").write_bytes(data)
                    values = {**row, "file_name": f"{clip_id}.wav"}
                    if metadata == "csv":
                        writer.writerow([_csv_value(values.get(column)) for column in AUDIOFOLDER_COLUMNS])
                    else:
                        entry = {
                            column: _metadata_value(column, values.get(column))
                            for column in AUDIOFOLDER_COLUMNS
                        }
                        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return final


WRITERS = {NEMO_FORMAT: write_nemo, AUDIOFOLDER_FORMAT: write_audiofolder}


def check_output(out_dir: Path, fmt: str | None = None) -> Path:
    """`out_dir` resolved, refused where it exists and is not an empty folder, as is a `fmt`
    that is not one of WRITERS: checked before a release is built, so neither stops the
    export only after the version is published."""
    if fmt is not None and fmt not in WRITERS:
        raise AccentdsError(f"unknown format {fmt!r}: use one of {', '.join(WRITERS)}")
    out_dir = Path(out_dir).expanduser().resolve()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise AccentdsError(f"{out_dir} already exists and is not empty: choose a new or empty folder")
    return out_dir


def write_format(fmt: str, release_dir: Path, out_dir: Path) -> Path:
    """Write a release as `fmt` ("nemo" or "audiofolder") into `out_dir`."""
    check_output(out_dir, fmt)
    return WRITERS[fmt](release_dir, out_dir)

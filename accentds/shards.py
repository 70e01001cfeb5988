"""The Parquet shards of a release: schema, `datasets` metadata, and writing a split."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import soundfile

from .errors import AccentdsError
from .models import pull_command
from .words import counted, plural
from .workspace import Workspace

ROW_GROUP_ROWS = 100  # small row groups, as the Hub's viewer wants for audio

# the columns of a release, after `audio`; the Parquet schema and the card both follow this
VALUE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("text", pa.string()),  # the transcript, named as training recipes expect
    ("speaker_id", pa.string()),
    ("accent", pa.string()),
    ("accent_evidence", pa.string()),
    ("text_origin", pa.string()),  # TEXT_ORIGINS
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
_DICTIONARY_COLUMNS = [
    "speaker_id",
    "accent",
    "accent_evidence",
    "text_origin",
    "source_id",
    "origin",
    "licence",
]
# where a clip's text came from: a reviewer typed or corrected it, or it is the source's
# captions (made by people, or generated automatically) as a reviewer accepted them
TEXT_ORIGINS = ("person", "captions", "automatic captions")
# columns of releases made before the Hub's names were adopted -> their names now
OLD_NAMES = {"transcript": "text", "speaker": "speaker_id"}
_STATISTICS_COLUMNS = [name for name, _ in VALUE_COLUMNS]


def features_json(rate: int) -> dict[str, Any]:
    """The `features` of the `huggingface` Parquet metadata, as `datasets` writes it."""
    features: dict[str, Any] = {"audio": {"sampling_rate": rate, "_type": "Audio"}}
    for name, kind in VALUE_COLUMNS:
        features[name] = {"dtype": _DTYPES[kind], "_type": "Value"}
    return features


def release_schema(rate: int) -> pa.Schema:
    """The Parquet schema of a release, with the `huggingface` metadata key `datasets` reads."""
    metadata = {"huggingface": json.dumps({"info": {"features": features_json(rate)}})}
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


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _missing(workspace: Workspace, row: Mapping[str, Any]) -> AccentdsError:
    """What to do about a clip file that is gone: `doctor` cuts it again from its source's
    media; without the media (a clone: raw/ is not in git) the source must be pulled first."""
    source = next((s for s in workspace.read_sources() if s.source_id == row["source_id"]), None)
    if source is not None and not workspace.abs(source.media).is_file():
        return AccentdsError(
            f"clip file {row['path']} is missing, and so is its source's media {source.media} (raw/ and "
            f"clips/ are not in git: a clone?): pull the source again (`{pull_command([source])}`), "
            "then publish again"
        )
    return AccentdsError(
        f"clip file {row['path']} is missing: run `accentds doctor` to cut it again from its source "
        "(same start, end and labels), then publish again"
    )


def check_clip_files(workspace: Workspace, rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse, at once and for all of them, clips whose files are gone: those whose source's
    media is gone too (a clone) are pulled again in one command, the others cut again by
    `doctor`."""
    gone = [row for row in rows if not workspace.abs(row["path"]).is_file()]
    if len({row["source_id"] for row in gone}) <= 1:
        if gone:  # of one source: as the clip says
            raise _missing(workspace, gone[0])
        return
    sources = {s.source_id: s for s in workspace.read_sources()}
    unpulled = {
        row["source_id"]: sources[row["source_id"]]
        for row in gone
        if row["source_id"] in sources and not workspace.abs(sources[row["source_id"]].media).is_file()
    }
    steps = []
    if unpulled:
        steps.append(
            f"pull their {counted(len(unpulled), 'source')} again (`{pull_command(unpulled.values())}`)"
        )
    if len(unpulled) < len({row["source_id"] for row in gone}):
        steps.append("run `accentds doctor` to cut the others again from their sources")
    where = " (raw/ and clips/ are not in git: a clone?)" if unpulled else ""
    raise AccentdsError(
        f"{counted(len(gone), 'clip file')} {plural(len(gone), 'is', 'are')} missing, {gone[0]['path']} the first{where}: "
        f"{', then '.join(steps)}, then publish again"
    )


def _clip_bytes(workspace: Workspace, row: Mapping[str, Any]) -> int:
    try:
        return workspace.abs(row["path"]).stat().st_size
    except FileNotFoundError:
        raise _missing(workspace, row) from None


def _record(workspace: Workspace, row: Mapping[str, Any], rate: int) -> dict[str, Any]:
    """One row of a release: the clip's WAV bytes (checked to be `rate` Hz mono) and labels."""
    try:
        data = workspace.abs(row["path"]).read_bytes()
        info = soundfile.info(io.BytesIO(data))
    except FileNotFoundError:
        raise _missing(workspace, row) from None
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
        "text": row["transcript"],
        "speaker_id": row["speaker"],
        "text_origin": row["text_origin"],
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


def write_split(
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
        try:
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
        except OSError as exc:
            if exc.errno is None or exc.filename is not None:
                raise
            # Arrow's write errors name no file: name the shard, as every other write does
            raise OSError(exc.errno, os.strerror(exc.errno), str(path)) from exc
        fsync(path)
        names.append(name)
    return names, nbytes

"""Time `accentds.report.report()` on a synthetic workspace of 1,000,000 clips.

    .venv/bin/python bench/bench_report.py [--rows 1000000] [--sources 2000] [--keep DIR]

Builds a throwaway workspace holding what the report reads, written the way accentds writes
it: manifests/clips.parquet with `rows` clips (durations 1-15 s laid end to end in each
source, quality measures spread across the [quality] thresholds, each source cut on one of
90 days), manifests/sources.csv with `sources` pulled videos (6 licences, title, uploader
and page for attribution) and the label journal manifests/labels.jsonl with one record per
reviewed clip (60 % accepted, 10 % rejected, the rest left pending; speakers out of 400,
accents out of the schema's regions, a transcript on all but 5 % of them). Every column is
made with numpy and pyarrow.compute, never a Python loop over clips.

It then rebuilds the views once (manifest.parquet, manifest.csv, labels.csv: what the first
command after a change does) and prints the best of three `report()` timings for the
accepted stage, for all clips and with `--since`. Each timing includes the report's check
that the views are up to date.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from accentds.config import SCOTTISH_ACCENTS
from accentds.files import atomic_path, write_parquet_atomic
from accentds.models import Source, field_names
from accentds.report import report
from accentds.views import refresh_manifest, write_csv_table
from accentds.workspace import CLIP_SCHEMA, init_workspace

LICENCES = ("CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "Standard YouTube License", "unknown", "")
FIRST_DAY = np.datetime64("2024-01-01")
DAYS = 90


def _join(*parts: pa.Array | str) -> pa.Array:
    """The element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(*parts, "")


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")


def synthetic_sources(count: int, rng: np.random.Generator) -> pa.Table:
    """sources.csv rows (all strings) for `count` downloaded videos; `duration` and the
    added day are filled in by `synthetic_clips`."""
    numbers = np.arange(count)
    # distinct ids in sorted order, so that clips sorted by source are too
    source_id = _join("url-", _padded(np.sort(rng.choice(1 << 40, count, replace=False)), 13))
    blank = pa.array(np.full(count, ""))
    return pa.table(
        {
            "source_id": source_id,
            "kind": pa.array(np.full(count, "url")),
            "origin": _join("https://www.youtube.com/watch?v=", _padded(numbers, 11)),
            "media": _join("raw/", source_id, "/source.mp4"),
            "duration": blank,
            "sha256": pa.array(np.full(count, "0" * 64)),
            "added_at": blank,
            "title": _join("Video ", _padded(numbers, 4)),
            "uploader": _join("Channel ", _padded(numbers % 300, 3)),
            "upload_date": pa.array(np.full(count, "20230101")),
            "licence": pa.array(np.array(LICENCES)[numbers % len(LICENCES)]),
            "subtitles": blank,
        }
    )


def synthetic_clips(rows: int, sources: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """clips.parquet's table (ordered by source and start, as `write_clips` keeps it) and
    `sources` with each one's duration and added day."""
    count = sources.num_rows
    owner = np.sort(rng.integers(0, count, rows))  # the source of each clip
    duration = np.round(rng.uniform(1.0, 15.0, rows), 3)
    step = duration + np.round(rng.uniform(0.2, 3.0, rows), 3)  # each clip and the pause after it
    ends = np.cumsum(step)
    first = np.searchsorted(owner, np.arange(count))  # each source's first clip
    before = np.concatenate([[0.0], ends])[first]  # where each source starts on the running total
    start = np.round(ends - step - before[np.minimum(owner, count - 1)] + 1.0, 3)
    end = start + duration
    length = np.zeros(count)
    np.maximum.at(length, owner, end)
    day = (FIRST_DAY + rng.integers(0, DAYS, count)).astype(str)  # each source is pulled and cut that day
    source_id = sources["source_id"].combine_chunks().take(pa.array(owner))
    clip_id = _join(source_id, "-", _padded(np.round(start * 1000).astype(np.int64), 8), "-",
                    _padded(np.round(end * 1000).astype(np.int64), 8))  # fmt: skip

    def constant(value: object, kind: pa.DataType) -> pa.Array:
        return pa.array(np.full(rows, value), kind)

    table = pa.table(
        {
            "clip_id": clip_id,
            "source_id": source_id,
            "start": start,
            "end": end,
            "duration": duration,
            "path": _join("clips/", source_id, "/", clip_id, ".wav"),
            "settings_id": constant("a1b2c3d4e5f6", pa.string()),
            "vad_aggressiveness": constant(2, pa.int8()),
            "vad_frame_ms": constant(30, pa.int16()),
            "vad_padding_ms": constant(200, pa.int32()),
            "vad_merge_gap_ms": constant(300, pa.int32()),
            "vad_min_clip_s": constant(1.0, pa.float64()),
            "vad_max_clip_s": constant(15.0, pa.float64()),
            "rms_dbfs": np.round(rng.normal(-24.0, 5.0, rows), 2),
            "peak_dbfs": np.round(rng.uniform(-12.0, 0.0, rows), 2),
            "speech_ratio": np.round(rng.uniform(0.4, 1.0, rows), 3),
            "cut_at": pa.array(np.char.add(day, "T12:00:00Z")[owner]),
            "snr_db": np.round(rng.normal(25.0, 6.0, rows), 1),
            "lufs": np.round(rng.normal(-23.0, 6.0, rows), 1),
            "clipping_ratio": np.round(rng.exponential(0.0002, rows), 5),
            "bandwidth_hz": np.where(rng.random(rows) < 0.05, 3400.0, 7800.0),
            "speech_prob": np.round(rng.uniform(0.45, 1.0, rows), 3),
        },
        schema=CLIP_SCHEMA,
    )
    sources = sources.set_column(4, "duration", pc.cast(pa.array(np.round(length + 2.0, 3)), pa.string()))
    added = pa.array(np.char.add(day, "T09:00:00Z"))
    return table, sources.set_column(6, "added_at", added)


def synthetic_journal(clips: pa.Table, rng: np.random.Generator) -> bytes:
    """labels.jsonl: one record per reviewed clip (status, then transcript, speaker and accent
    where it has them), as `LabelJournal.append` writes them."""
    rows = clips.num_rows
    status = rng.choice(3, rows, p=[0.3, 0.6, 0.1])  # pending, accepted, rejected
    reviewed = np.flatnonzero(status > 0)
    count = len(reviewed)
    clip = clips["clip_id"].combine_chunks().take(pa.array(reviewed))
    speakers = np.array(["", *(f"speaker-{i:03d}" for i in range(400))])
    accents = np.array(["", *SCOTTISH_ACCENTS])
    values = {
        "status": pa.array(np.array(["pending", "accepted", "rejected"])[status[reviewed]]),
        "transcript": _join("utterance number ", pc.cast(pa.array(reviewed), pa.string()), " of the corpus"),
        "speaker": pa.array(speakers[rng.integers(0, len(speakers), count)]),
        "accent": pa.array(accents[rng.integers(0, len(accents), count)]),
    }
    keep = {
        "status": None,
        "transcript": pa.array(rng.random(count) >= 0.05),
        "speaker": pc.not_equal(values["speaker"], ""),
        "accent": pc.not_equal(values["accent"], ""),
    }
    changes: list[pa.Array | str] = []
    for name, value in values.items():
        change = _join('{"clip": "', clip, f'", "field": "{name}", "old": "", "new": "', value, '"}')
        if keep[name] is None:
            changes.append(change)
        else:
            changes.append(pc.if_else(keep[name], _join(", ", change), ""))
    cut_at = clips["cut_at"].combine_chunks().take(pa.array(reviewed))
    time = _join(pc.utf8_slice_codeunits(cut_at, 0, 10), "T15:00:00Z")
    tx = _padded(rng.choice(1 << 40, count, replace=False), 12)
    reviewer = pa.array(np.array(["ann", "bob", "cat"])[reviewed % 3])
    lines = _join('{"tx": "', tx, '", "time": "', time, '", "reviewer": "', reviewer,
                  '", "changes": [', *changes, "]}\n")  # fmt: skip
    lines = pc.cast(lines, pa.large_string())
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + count + 1]
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def build(root: Path, rows: int, sources: int, seed: int = 7) -> None:
    """Make `root` a workspace of `rows` clips of `sources` sources, labels in the journal."""
    rng = np.random.default_rng(seed)
    ws, _ = init_workspace(root, name="bench")
    clips, table = synthetic_clips(rows, synthetic_sources(sources, rng), rng)
    write_parquet_atomic(ws.clips_parquet, clips)
    with atomic_path(ws.sources_csv) as tmp:
        write_csv_table(table.select(field_names(Source)), tmp)
    with atomic_path(ws.labels_journal) as tmp:
        tmp.write_bytes(synthetic_journal(clips, rng))


def best_of(runs: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "ws"
        start = time.perf_counter()
        build(root, args.rows, args.sources)
        built = time.perf_counter() - start
        ws, _ = init_workspace(root)
        sizes = {p.name: p.stat().st_size / 1e6 for p in (ws.clips_parquet, ws.labels_journal)}
        print(
            f"workspace: {args.rows:,} clips, {args.sources:,} sources, built in {built:.1f} s "
            f"(clips.parquet {sizes['clips.parquet']:.1f} MB, labels.jsonl {sizes['labels.jsonl']:.1f} MB)"
        )
        start = time.perf_counter()
        assert refresh_manifest(ws)
        views = time.perf_counter() - start
        size = ws.manifest_parquet.stat().st_size / 1e6
        print(f"views rebuilt in {views:.1f} s (manifest.parquet {size:.1f} MB)")
        assert pq.read_metadata(ws.manifest_parquet).num_rows == args.rows
        for status in ("accepted", "all"):
            seconds = best_of(3, lambda s=status: report(ws, s))
            rep = report(ws, status)
            if status == "all":
                assert rep.stage.clips == args.rows, rep.stage
            print(
                f"report(status={status!r}): best of 3 {seconds * 1000:.0f} ms "
                f"({rep.stage.clips:,} clips, {rep.stage.minutes:,.0f} min, "
                f"{rep.publishable_seconds / 60:,.0f} publishable min, {len(rep.warnings)} warnings)"
            )
        since = best_of(3, lambda: report(ws, "accepted", since="2024-02-01"))
        rep = report(ws, "accepted", since="2024-02-01")
        print(
            f"report(status='accepted', since='2024-02-01'): best of 3 {since * 1000:.0f} ms "
            f"({rep.stage.clips:,} clips)"
        )


if __name__ == "__main__":
    main()

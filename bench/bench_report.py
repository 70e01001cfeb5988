"""Time `accentds.report.report()` on a synthetic 1,000,000-clip manifest.

    .venv/bin/python bench/bench_report.py [--rows 1000000] [--keep DIR]

Builds a throwaway workspace whose manifests/manifest.parquet holds `rows` clips (random
durations 1-15 s, statuses, 400 speakers, 19 accent values, 2,000 sources, 6 licences,
cut over 90 days) written the way `write_manifest` writes it (zstd Parquet), then prints the
best of three `report()` timings for the accepted stage and for all clips.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from accentds.config import SCOTTISH_ACCENTS
from accentds.report import report
from accentds.workspace import init_workspace, write_parquet_atomic


def synthetic_manifest(rows: int, seed: int = 7) -> pa.Table:
    """A manifest-shaped table with the columns report() reads (plus clip_id and path)."""
    rng = np.random.default_rng(seed)
    statuses = np.array(["pending", "accepted", "rejected"])
    speakers = np.array(["", *(f"speaker-{i:03d}" for i in range(400))])
    accents = np.array(["", *SCOTTISH_ACCENTS])
    sources = np.array([f"url-{i:012x}" for i in range(2000)])
    licences = np.array(["", "CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "Standard YouTube License", "unknown"])
    days = np.array([f"2024-{1 + d // 30:02d}-{1 + d % 28:02d}T12:00:00Z" for d in range(90)])
    source_index = rng.integers(0, len(sources), rows)
    return pa.table(
        {
            "clip_id": pa.array(np.char.add("c", np.arange(rows).astype(str))),
            "source_id": pa.array(sources[source_index]),
            "path": pa.array(np.full(rows, "clips/x.wav")),
            "duration": pa.array(np.round(rng.uniform(1.0, 15.0, rows), 3)),
            "status": pa.array(statuses[rng.choice(3, rows, p=[0.3, 0.6, 0.1])]),
            "speaker": pa.array(speakers[rng.integers(0, len(speakers), rows)]),
            "accent": pa.array(accents[rng.integers(0, len(accents), rows)]),
            "licence": pa.array(licences[source_index % len(licences)]),
            "cut_at": pa.array(days[np.sort(rng.integers(0, len(days), rows))]),
        }
    )


def best_of(runs: int, call: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "ws"
        ws, _ = init_workspace(root, name="bench")
        start = time.perf_counter()
        write_parquet_atomic(ws.manifest_parquet, synthetic_manifest(args.rows))
        built = time.perf_counter() - start
        size = ws.manifest_parquet.stat().st_size / 1e6
        print(f"manifest: {args.rows:,} rows, {size:.1f} MB, built in {built:.1f} s")
        assert pq.read_metadata(ws.manifest_parquet).num_rows == args.rows
        for status in ("accepted", "all"):
            seconds = best_of(3, lambda s=status: report(ws, s))
            rep = report(ws, status)
            print(
                f"report(status={status!r}): best of 3 {seconds * 1000:.0f} ms "
                f"({rep.stage.clips:,} clips, {rep.stage.minutes:,.0f} min, {len(rep.warnings)} warnings)"
            )
        since = best_of(3, lambda: report(ws, "accepted", since="2024-02-01"))
        print(f"report(status='accepted', since='2024-02-01'): best of 3 {since * 1000:.0f} ms")


if __name__ == "__main__":
    main()

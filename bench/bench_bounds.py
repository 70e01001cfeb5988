"""Boundary edits at corpus scale: one clip re-cut or split by hand in a workspace of N clips.

The workspace holds N clips of generated sources (rows, random fingerprints and labels, no
audio) and the bundled sample pulled and cut for real; the edits are made on the sample's
clips. Measured, in one run on the same workspace:

* `set_bounds` (what the review page's save does: decode, write the clip, move its labels,
  rewrite clips.parquet, fingerprints, duplicate groups and the views), median and worst;
* `split_clip`, likewise;
* the editor's /wave answer (the window's peaks) and /wave.wav (its audio), each aligned to
  the clip's file;
* for scale: `find_duplicates` and `write_manifest` alone, the two whole-corpus steps.

Run: .venv/bin/python bench/bench_bounds.py [--clips 10000] [--edits 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from accentds.bounds import set_bounds, split_clip
from accentds.cut import cut
from accentds.cut_commit import find_duplicates
from accentds.files import write_parquet_atomic
from accentds.labels import set_labels
from accentds.pull import pull
from accentds.views import write_manifest
from accentds.workspace import FINGERPRINT_SCHEMA, Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_labels import build

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample.mp4"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def figures(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(f"{name:<34} median {statistics.median(ms):7.1f} ms   worst {max(ms):7.1f} ms   ({len(ms)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        ids = build(root, args.clips)
        ws = Workspace(root)
        rng = np.random.default_rng(7)
        prints = [rng.integers(1, 1 << 16, 94, dtype=np.uint32).astype("<u4").tobytes() for _ in ids]
        table = pa.table(
            {"clip_id": ids, "source_id": [c.rsplit("-", 2)[0] for c in ids], "fingerprint": prints},
            schema=FINGERPRINT_SCHEMA,
        )
        write_parquet_atomic(ws.fingerprints_parquet, table)
        pull(ws, [str(SAMPLE)], workers=1)
        cut(ws, workers=1)
        print(f"workspace: {len(ws.read_clips())} clips ({args.clips} generated + the sample's)")
        sample = ws.read_sources()[0].source_id

        def clips() -> list:
            return [c for c in ws.read_clips() if c.source_id == sample]

        bounds, splits = [], []
        for n in range(args.edits):
            clip = clips()[n % 4]
            set_labels(ws, [clip.clip_id], {"transcript": f"edit {n}", "status": "accepted"}, "bench")
            step = 0.05 if n % 2 == 0 else -0.05
            bounds.append(timed(lambda c=clip, s=step: set_bounds(ws, c.clip_id, c.start, c.end + s)))
        for _ in range(min(args.edits, 3)):
            clip = max(clips(), key=lambda c: c.duration)
            splits.append(timed(lambda c=clip: split_clip(ws, c.clip_id, round(c.start + c.duration / 2, 3))))
        figures("set_bounds", bounds)
        figures("split_clip", splits)

        from fastapi.testclient import TestClient

        from accentds.review import create_app

        client = TestClient(create_app(ws, reviewer="bench"))
        clip = clips()[2]
        wave = [
            timed(lambda: client.get(f"/api/clip/{clip.clip_id}/wave?pad=3").raise_for_status())
            for _ in range(10)
        ]
        audio = [
            timed(lambda: client.get(f"/api/clip/{clip.clip_id}/wave.wav?pad=3").raise_for_status())
            for _ in range(10)
        ]
        size = len(client.get(f"/api/clip/{clip.clip_id}/wave?pad=3").content)
        figures(f"GET /wave ({size / 1024:.0f} KiB)", wave)
        figures("GET /wave.wav?pad=3", audio)
        with ws.lock():
            figures("find_duplicates (whole corpus)", [timed(lambda: find_duplicates(ws)) for _ in range(3)])
            figures("write_manifest (whole corpus)", [timed(lambda: write_manifest(ws)) for _ in range(3)])


if __name__ == "__main__":
    main()

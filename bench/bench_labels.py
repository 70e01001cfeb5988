"""Label save latency at corpus scale: one label saved into a workspace of N clips whose
journal already holds a change for every clip (and as many again for some).

Measured, in one run on the same workspace:

* `set_labels` of one clip (the library call the review page makes), median and worst of
  50 saves, each with its version check;
* the same save through the CLI (`accentds label CLIP --accept`), wall time, process start
  and the rebuild of the views it made stale included;
* the rebuild of the views alone (manifest.parquet, manifest.csv, labels.csv) after a save;
* for scale: rewriting labels.csv whole, as every save did before the journal.

Run: .venv/bin/python bench/bench_labels.py [--clips 100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from accentds.files import write_csv_atomic, write_parquet_atomic
from accentds.journal import new_tx_id
from accentds.labels import set_labels
from accentds.views import refresh_manifest, write_manifest
from accentds.workspace import CLIP_SCHEMA, LABEL_FIELDS, init_workspace


def build(root: Path, clips: int) -> list[str]:
    ws, _ = init_workspace(root)
    sources = [f"file-{n:012x}" for n in range(clips // 200 + 1)]
    ids, rows = [], {name: [] for name in CLIP_SCHEMA.names}
    for n in range(clips):
        sid = sources[n // 200]
        start = (n % 200) * 4.0
        cid = f"{sid}-{round(start * 1000):08d}-{round((start + 3) * 1000):08d}"
        ids.append(cid)
        values = {"clip_id": cid, "source_id": sid, "start": start, "end": start + 3, "duration": 3.0}
        values |= {"path": f"clips/{sid}/{cid}.wav", "settings_id": "bench", "cut_at": "2026-01-01T00:00:00Z"}
        for name in CLIP_SCHEMA.names:
            rows[name].append(values.get(name))
    write_parquet_atomic(ws.clips_parquet, pa.table(rows, schema=CLIP_SCHEMA))
    records = []
    for n, cid in enumerate(ids):  # every clip reviewed once, every tenth twice
        for repeat in range(2 if n % 10 == 0 else 1):
            change = {
                "clip": cid,
                "field": "status",
                "old": "" if not repeat else "accepted",
                "new": "accepted",
            }
            change["new"] = "rejected" if repeat else "accepted"
            records.append(
                {"tx": new_tx_id(), "time": "2026-01-01T00:00:00Z", "reviewer": "r", "changes": [change]}
            )
    with ws.lock():
        ws.journal().append(records)
        write_manifest(ws)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        started = time.perf_counter()
        ids = build(root, args.clips)
        print(
            f"built {args.clips:,} clips and a journal of {root.joinpath('manifests/labels.jsonl').stat().st_size / 1e6:.1f} MB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        from accentds.workspace import Workspace

        ws = Workspace(root)
        times = []
        for n in range(50):
            cid = ids[(n * 7919) % len(ids)]
            version = 2 if ids.index(cid) % 10 == 0 else 1
            began = time.perf_counter()
            set_labels(ws, [cid], {"transcript": f"aye {n}"}, "bench", expected_version=version)
            times.append(time.perf_counter() - began)
        print(
            f"set_labels, one clip:      median {statistics.median(times) * 1000:6.1f} ms   worst {max(times) * 1000:6.1f} ms"
        )
        began = time.perf_counter()
        refresh_manifest(ws)
        rebuild = time.perf_counter() - began
        print(f"views rebuilt after it:    {rebuild * 1000:6.0f} ms")
        cli = []
        for n in range(3):
            began = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "accentds", "label", ids[n * 1000 + 1], "--accept"],
                cwd=root,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
            cli.append(time.perf_counter() - began)
        print(
            f"accentds label (CLI):      median {statistics.median(cli) * 1000:6.0f} ms (start-up and view rebuild included)"
        )
        rows = [{"clip_id": cid, "status": "accepted"} for cid in ids]
        began = time.perf_counter()
        write_csv_atomic(root / "old-labels.csv", LABEL_FIELDS, rows)
        print(f"for scale, labels.csv rewritten whole: {(time.perf_counter() - began) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()

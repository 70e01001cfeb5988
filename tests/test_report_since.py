"""`report --since` counts what came into the corpus since a day: a re-cut of sources pulled
and cut before it (`cut --force`, other [vad] settings) adds no minutes since then."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import run_cli

from accentds.files import read_csv, write_csv_atomic
from accentds.workspace import Workspace

EARLIER = "2024-03-01T20:00:00Z"


def _as_if_cut_earlier(ws: Workspace) -> None:
    """The sample workspace as it was when pulled and cut on 2024-03-01."""
    clips = pq.read_table(ws.clips_parquet)
    dates = pa.array([EARLIER] * clips.num_rows, clips.schema.field("cut_at").type)
    pq.write_table(clips.set_column(clips.column_names.index("cut_at"), "cut_at", dates), ws.clips_parquet)
    rows = read_csv(ws.sources_csv)
    for row in rows:
        row["added_at"] = EARLIER
    write_csv_atomic(ws.sources_csv, list(rows[0]), rows)


def _stages(ws: Workspace, since: str) -> dict[str, tuple[int | None, float]]:
    done = run_cli("report", "--since", since, "--format", "json", "-w", str(ws.root))
    assert done.returncode == 0, done.stderr
    return {s["name"]: (s["clips"], s["minutes"]) for s in json.loads(done.stdout)["stages"]}


def test_a_re_cut_adds_no_minutes_since_a_later_day(sample_ws: Workspace) -> None:
    _as_if_cut_earlier(sample_ws)
    assert _stages(sample_ws, "2024-03-02")["cut"] == (0, 0.0)
    for args in (["--force"], ["--force", "--padding-ms", "300"]):
        done = run_cli("cut", *args, "-w", str(sample_ws.root))
        assert done.returncode == 0, done.stderr
        stages = _stages(sample_ws, "2024-03-02")
        assert stages["pulled"] == (None, 0.0)
        assert stages["cut"] == (0, 0.0), args  # the re-cut clips are the speech of 2024-03-01
        whole = _stages(sample_ws, "2024-03-01")["cut"]
        assert whole[0] == len(sample_ws.read_clips()) and whole[1] > 0.4


def test_a_clip_set_or_split_by_hand_keeps_its_day(sample_ws: Workspace) -> None:
    _as_if_cut_earlier(sample_ws)
    first, second = sample_ws.read_clips()[:2]
    ws = ["-w", str(sample_ws.root)]
    start, end = f"{first.start + 0.05:.2f}", f"{first.end - 0.05:.2f}"
    done = run_cli("clip", "bounds", first.clip_id, "--start", start, "--end", end, *ws)
    assert done.returncode == 0, done.stderr
    done = run_cli("clip", "split", second.clip_id, f"{(second.start + second.end) / 2:.2f}", *ws)
    assert done.returncode == 0, done.stderr
    assert len(sample_ws.read_clips()) == 9
    assert _stages(sample_ws, "2024-03-02")["cut"] == (0, 0.0)

"""A release's minutes are the same figure wherever they are shown: card, changelog,
release.json, manifests/releases.csv, `report`, `status` and `publish`."""

from __future__ import annotations

import json
import re

import numpy as np
import soundfile
from conftest import RATE, clip_record, put_labels, run_cli

from accentds.files import read_csv
from accentds.models import Clip, Source
from accentds.publish import publish
from accentds.render import stage_rows
from accentds.report import report
from accentds.views import write_manifest
from accentds.workspace import Workspace

# 10 s in the first release, 32.6996 s in the second: 0.5449933 minutes, which is 0.54 to two
# decimals, while the 32.700 s release.json records make 0.545, so 0.55
FIRST, ADDED = 10.0, 22.6996


def _add_clip(ws: Workspace, clips: list[Clip], start: float, duration: float) -> str:
    clip = clip_record("src-a", start, duration)
    path = ws.abs(clip.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(len(clips)).integers(-800, 800, RATE // 10, dtype=np.int16)
    soundfile.write(str(path), noise, RATE, subtype="PCM_16")  # publish copies the bytes as they are
    clips.append(clip)
    ws.write_clips(clips)
    put_labels(ws, [{"clip_id": clip.clip_id, "status": "accepted", "speaker": "Morag", "accent": "Glasgow",
                     "transcript": "aye", "updated_at": "2024-01-01T10:00:00Z"}])  # fmt: skip
    write_manifest(ws)
    return clip.clip_id


def test_every_report_of_a_release_gives_the_same_minutes(workspace: Workspace) -> None:
    ws = workspace
    source = Source("src-a", "file", "/v/a.mp4", "raw/src-a.m4a", 600.0, "0" * 64, "2024-01-01T09:00:00Z",
                    title="a", licence="CC0-1.0")  # fmt: skip
    ws.write_sources([source])
    clips: list[Clip] = []
    _add_clip(ws, clips, 0.0, FIRST)
    publish(ws, "1.0.0", now="2024-01-02T00:00:00Z")
    _add_clip(ws, clips, 20.0, ADDED)
    publish(ws, "1.1.0", now="2024-01-03T00:00:00Z")

    folder = ws.releases / "1.1.0"
    record = json.loads((folder / "release.json").read_text(encoding="utf-8"))
    [split] = [name for name, counts in record["counts"].items() if counts["clips"]]
    assert record["total"]["minutes"] == record["counts"][split]["minutes"] == 0.55
    assert read_csv(ws.manifests / "releases.csv")[-1]["minutes"] == "0.55"

    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "2 clips, 0.55 minutes of speech" in card
    assert f"| {split} | 2 | 0.55 | 1 |" in card  # the card's split table
    assert f"| {split} | 0.17 | 0.55 | +0.38 |" in card  # the changelog's split table
    assert "| Glasgow | 0.17 | 0.55 | +0.38 |" in card  # and its accent regions
    assert not re.search(r"\b0\.54\b", card)

    assert ["published 1.1.0", "2", "0.55"] in stage_rows(report(ws))
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"1\.1\.0 .* 2 clips  0\.55 min", shown.stdout), shown.stdout

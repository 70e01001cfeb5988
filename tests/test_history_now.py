"""`report --history` agrees with `status`: the corpus as it is now counts for today even where
no command wrote its line (labels merged from another clone, a run killed before its line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli

from accentds.files import read_csv
from accentds.workspace import Workspace


def _accepted_minutes(ws: Path) -> tuple[float, float]:
    """Today's accepted minutes by `report --history`, and by `report`."""
    days = run_cli("report", "--history", "--format", "json", cwd=ws)
    assert days.returncode == 0, days.stderr
    stages = run_cli("report", "--format", "json", cwd=ws)
    assert stages.returncode == 0, stages.stderr
    accepted = next(s for s in json.loads(stages.stdout)["stages"] if s["name"] == "accepted")
    return json.loads(days.stdout)[-1]["accepted_minutes"], accepted["minutes"]


def test_labels_merged_from_another_clone_count_in_the_history(sample_ws: Workspace, tmp_path: Path) -> None:
    first, second = [c.clip_id for c in sample_ws.read_clips()[:2]]
    other = Path(shutil.copytree(sample_ws.root, tmp_path / "other"))
    mine = sample_ws.root
    assert run_cli("label", first, "--transcript", "aye", "--accept", cwd=mine).returncode == 0
    assert run_cli("label", second, "--transcript", "naw", "--accept", cwd=other).returncode == 0
    history, now = _accepted_minutes(mine)
    assert history == now > 0
    # what git's union merge of labels.jsonl does: the other clone's lines appended
    theirs = (other / "manifests" / "labels.jsonl").read_text(encoding="utf-8")
    with open(sample_ws.labels_journal, "a", encoding="utf-8") as journal:
        journal.write(theirs)
    history, now = _accepted_minutes(mine)
    assert len(Workspace(mine).read_labels()) == 2
    assert history == now, (history, now)


def test_a_clip_split_or_set_by_hand_adds_a_history_line(sample_ws: Workspace) -> None:
    first, second = sample_ws.read_clips()[:2]
    root = sample_ws.root
    assert run_cli("label", first.clip_id, "--transcript", "aye", "--accept", cwd=root).returncode == 0
    start, end = f"{first.start + 0.1:.2f}", f"{first.end - 0.1:.2f}"
    assert run_cli("clip", "bounds", first.clip_id, "--start", start, "--end", end, cwd=root).returncode == 0
    mid = f"{(second.start + second.end) / 2:.2f}"
    assert run_cli("clip", "split", second.clip_id, mid, cwd=root).returncode == 0
    lines = (sample_ws.manifests / "history.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["label", "clip bounds", "clip split"]
    assert read_csv(sample_ws.manifests / "history.csv")[-1]["total_clips"] == "9"

"""On a narrow terminal (COLUMNS=60) or piped, outputs keep what a user must type back whole."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE, run_cli

from accentds.workspace import Workspace, init_workspace


def test_status_sources_keeps_every_source_id_whole_at_60_columns(sample_ws: Workspace) -> None:
    [source] = sample_ws.read_sources()
    done = run_cli("status", "--sources", cwd=sample_ws.root, env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith(source.source_id[:8])]
    assert row.split()[0] == source.source_id  # the id `accentds source set ID` takes


def test_report_shows_every_number_whole_at_60_columns(sample_ws: Workspace) -> None:
    [source] = sample_ws.read_sources()
    ids = [clip.clip_id for clip in sample_ws.read_clips()]
    labelled = run_cli(
        "label", *ids, "--speaker", "Morag", "--accent", "Glasgow", "--accept", cwd=sample_ws.root
    )
    assert labelled.returncode == 0, labelled.stderr
    done = run_cli("report", cwd=sample_ws.root, env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    lines = done.stdout.splitlines()
    header = next(line for line in lines[lines.index("by source") :] if line.startswith("source ")).split()
    assert header[:4] == ["source", "clips", "minutes", "publishable"]
    row = next(line for line in lines if line.startswith(source.source_id)).split()
    minutes = sum(clip.duration for clip in sample_ws.read_clips()) / 60
    assert row[1:4] == [str(len(ids)), f"{minutes:.2f}", "0.00"]  # unlicensed: none publishable
    assert row[4] == "100.0%"


def test_cut_line_marks_a_title_it_shortens(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    media = tmp_path / "An interview with Morag about the ferry [part 2] and more.mp4"
    shutil.copy(SAMPLE, media)
    done = run_cli("pull", str(media), cwd=ws.root)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("cut ")]
    assert line.endswith("  An interview with Morag about the ferry…")


def test_report_breakdowns_fit_an_80_column_terminal(sample_ws: Workspace) -> None:
    ids = [clip.clip_id for clip in sample_ws.read_clips()]
    assert (
        run_cli(
            "label", *ids, "--speaker", "Morag", "--accent", "Fife", "--accept", cwd=sample_ws.root
        ).returncode
        == 0
    )
    done = run_cli("report", cwd=sample_ws.root, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("by accent") :]
    assert "…" not in table and max(len(line) for line in table.splitlines()) <= 80

"""A full disk while the views are rebuilt, and while cutting."""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE, fill_disk, put_labels, run_cli, small_disk

from accentds.workspace import Workspace


def test_a_full_disk_leaves_the_views_behind_and_read_only_commands_still_run(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """On a full disk `accentds review` did not start and `labels list`, `status` and `report`
    stopped with an error, as each first rewrote the views (manifests/labels.csv ...): they run
    on, from the manifests, warned once why the views lag behind; the next command with space
    rewrites the views."""
    with small_disk(tmp_path / "small") as mount:
        ws_path = Path(shutil.copytree(sample_ws.root, mount / "ws"))
        ws = Workspace(ws_path)
        first = ws.read_clips()[0].clip_id
        put_labels(ws, [{"clip_id": first, "status": "accepted"}])  # the views are older than it
        fill_disk(mount / "filler")
        warning = (
            f"Warning: the views manifest.csv, manifest.parquet and labels.csv in {ws.manifests} could not "
            "be rewritten (no space left on device), so they may lag behind the latest changes: free some "
            "space, and the next accentds command rewrites them"
        )
        for command in (["status"], ["labels", "list"], ["report", "--format", "json"]):
            done = run_cli(*command, cwd=ws_path)
            assert done.returncode == 0, done.stderr
            assert done.stderr.splitlines() == [warning], done.stderr
        assert "accepted            1" in run_cli("status", cwd=ws_path).stdout
        report = json.loads(run_cli("report", "--format", "json", cwd=ws_path).stdout)
        assert [s["clips"] for s in report["stages"] if s["name"] == "accepted"] == [1]
        assert f"{first}    " in run_cli("labels", "list", "--status", "accepted", cwd=ws_path).stdout
        review = subprocess.Popen(
            [sys.executable, "-m", "accentds", "review", "--no-browser"],
            cwd=ws_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert review.stdout.readline().startswith("listening on 127.0.0.1:")
        finally:
            review.send_signal(signal.SIGINT)
            _, errors = review.communicate(timeout=30)
        assert errors.splitlines()[0] == warning, errors
        assert not [p.name for p in ws.manifests.glob(".*.tmp*")]

        (mount / "filler").unlink()
        done = run_cli("status", cwd=ws_path)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        [row] = [r for r in csv.DictReader(ws.labels_csv.open(encoding="utf-8")) if r["clip_id"] == first]
        assert row["status"] == "accepted"
        assert ws.manifest_parquet.exists()


def test_a_full_disk_while_cutting_names_the_clip_file(sample_ws: Workspace, tmp_path: Path) -> None:
    talk = tmp_path / "talk.mp4"
    talk.write_bytes(SAMPLE.read_bytes() + b"\0")  # other bytes: a source of its own
    with small_disk(tmp_path / "small") as mount:
        ws_path = Path(shutil.copytree(sample_ws.root, mount / "ws"))
        assert run_cli("pull", str(talk), "--no-cut", cwd=ws_path).returncode == 0
        [sid] = [s.source_id for s in Workspace(ws_path).read_sources() if s.origin == str(talk)]
        fill_disk(mount / "filler")
        done = run_cli("cut", cwd=ws_path)
        assert done.returncode == 1
        [failed] = [line for line in done.stderr.splitlines() if line.startswith("failed")]
        assert f"No space left on device: {ws_path}/clips/{sid}/{sid}-" in failed, failed
        assert failed.endswith("; free some space and run `accentds cut` again  talk"), failed
        (mount / "filler").unlink()
        assert run_cli("cut", cwd=ws_path).returncode == 0
        assert len(Workspace(ws_path).read_clips()) == 16


def test_a_full_disk_between_two_views_leaves_none_taken_for_edited_by_hand(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """The disk filled after manifest.csv was rewritten and before labels.csv was: the record
    of the views written was not updated, so every later command took manifest.csv for a view
    edited by hand, warned so, and never rewrote it."""
    first = sample_ws.read_clips()[0].clip_id
    words = " ".join(secrets.token_hex(8) for _ in range(20_000))  # 340 kB that do not compress
    put_labels(sample_ws, [{"clip_id": first, "status": "accepted", "transcript": words}])
    measured = Path(shutil.copytree(sample_ws.root, tmp_path / "measured"))
    assert run_cli("status", cwd=measured).returncode == 0  # the views as they will be written
    needed = sum(
        (measured / "manifests" / name).stat().st_size for name in ("manifest.parquet", "manifest.csv")
    )
    with small_disk(tmp_path / "small") as mount:
        ws_path = Path(shutil.copytree(sample_ws.root, mount / "ws"))
        ws = Workspace(ws_path)
        filler = mount / "filler"
        fill_disk(filler)
        # room for manifest.parquet and manifest.csv, not for labels.csv after them
        os.truncate(filler, max(0, filler.stat().st_size - needed - 64 * 1024))
        done = run_cli("status", cwd=ws_path)
        assert done.returncode == 0 and "could not be rewritten" in done.stderr, done.stderr
        filler.unlink()
        done = run_cli("status", cwd=ws_path)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        for view in (ws.manifest_csv, ws.labels_csv):
            [row] = [r for r in csv.DictReader(view.open(encoding="utf-8")) if r["clip_id"] == first]
            assert row["transcript"] == words

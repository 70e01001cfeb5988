"""A full disk while the views are rebuilt: one `Error:` line naming the file being written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import SAMPLE, fill_disk, run_cli, small_disk

from accentds.workspace import Workspace


def test_a_full_disk_while_the_views_are_rebuilt_names_the_file(sample_ws: Workspace, tmp_path: Path) -> None:
    with small_disk(tmp_path / "small") as mount:
        ws_path = Path(shutil.copytree(sample_ws.root, mount / "ws"))
        ws = Workspace(ws_path)
        fill_disk(mount / "filler")
        later = ws.manifest_parquet.stat().st_mtime_ns + 10**9
        os.utime(ws.sources_csv, ns=(later, later))  # the views are older than sources.csv
        for command in (["status"], ["report", "--format", "json"]):
            done = run_cli(*command, cwd=ws_path)
            assert done.returncode == 1, done.stdout
            line = done.stderr.removesuffix("\n")
            assert "\n" not in line and "Traceback" not in line, line
            assert line.startswith(f"Error: no space left on device writing {ws.manifests}/.manifest."), line
            assert line.endswith(": free some space and run the command again"), line
        (mount / "filler").unlink()
        done = run_cli("status", cwd=ws_path)
        assert done.returncode == 0, done.stderr
        assert not [p.name for p in ws.manifests.glob(".*.tmp*")]


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

"""A workspace that cannot be written (a read-only mount, an archived or another user's
corpus): the commands that only read it work; those that change it say why they cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from releasing import manifest_of

from accentds.labels import set_labels
from accentds.views import build_manifest
from accentds.workspace import Workspace


def _run_read_only(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`accentds -w WS ARGS` with WS mounted read-only for that run alone (as root, whom file
    modes do not stop) or with its files' write bits taken away (as anyone else)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("ACCENTDS_WORKSPACE", None)
    command = [sys.executable, "-m", "accentds", "-w", str(ws), *args]
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(ws)], check=True)
        try:
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(ws)], check=True)
    if not shutil.which("unshare"):
        pytest.skip("no unshare to mount the workspace read-only")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; shift; exec "$@"'
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(ws), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode == 99:
        pytest.skip("this machine does not let a test mount a folder read-only")
    return done


def test_status_report_and_verify_work_on_a_read_only_workspace(cut_ws: Workspace) -> None:
    """Every command, `status` too, stopped at `Error: read-only file system writing
    .../manifests/.lock`."""
    root = cut_ws.root
    for args in (["status"], ["report"], ["report", "--history"], ["labels", "list"]):
        done = _run_read_only(root, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Error" not in done.stderr
    assert "corpus: 8 clips, 0.5 min" in _run_read_only(root, "status").stdout
    refused = _run_read_only(root, "label", cut_ws.read_clips()[0].clip_id, "--accept")
    assert refused.returncode == 1 and refused.stderr.startswith("Error: ")
    assert "Traceback" not in refused.stderr


def test_a_read_only_workspace_of_an_older_accentds_says_what_to_do(cut_ws: Workspace) -> None:
    """Labels still in labels.csv (an accentds from before the label journal) cannot be moved
    to labels.jsonl where nothing can be written: one line says so and what to do."""
    cut_ws.labels_journal.unlink()
    cut_ws.labels_csv.write_text(
        f"clip_id,status\n{cut_ws.read_clips()[0].clip_id},accepted\n", encoding="utf-8"
    )
    done = _run_read_only(cut_ws.root, "status")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"Error: {cut_ws.manifests} cannot be written, and its labels are still in "
    )
    assert "run any accentds command once where the workspace can be written" in done.stderr
    assert not cut_ws.labels_journal.exists()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_dry_run_publish_works_on_a_read_only_workspace_and_writes_nothing(ws: Workspace) -> None:
    """`publish VERSION --dry-run` only shows what a release would be: on a read-only mount it
    stopped at `Error: read-only file system writing .../manifests/.lock`."""
    root = ws.root
    fresh = _run_read_only(root, "publish", "1.0.0", "--dry-run")  # never published: no salt yet
    assert fresh.returncode == 0, fresh.stderr
    assert "dry run: 1.0.0 would hold 6 clips" in fresh.stdout and "Error" not in fresh.stderr
    assert not (root / "manifests" / "speaker_salt.txt").exists()
    done = run_cli("publish", "1.0.0", cwd=root)
    assert done.returncode == 0, done.stderr
    set_labels(
        ws, sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Callum"), {"status": "accepted"}
    )
    build_manifest(ws)  # the views as the last command left them
    before = _files(root)
    done = _run_read_only(root, "publish", "1.1.0", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dry run: 1.1.0 would hold 8 clips" in done.stdout and "Error" not in done.stderr
    assert _files(root) == before
    refused = _run_read_only(root, "publish", "1.1.0")  # a real publish says why it cannot
    assert refused.returncode == 1 and refused.stderr.startswith("Error: read-only file system writing ")
    assert _files(root) == before

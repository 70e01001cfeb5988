"""`status` in a second terminal while a cut runs says so, instead of telling the user to run
`accentds cut` (which would only wait for the running one); once that cut has ended, even
killed, it suggests `accentds cut` again for what is left."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
from conftest import run_cli
from proctree import descendants, kill_all
from test_cli_signals import long_workspace, start


def test_status_during_a_cut_says_a_cut_is_running(tmp_path: Path, speech: np.ndarray) -> None:
    ws = long_workspace(tmp_path, speech, sources=3, minutes=6)
    shown = run_cli("status", cwd=ws.root)
    assert "next: accentds cut   (3 sources not cut" in shown.stdout, shown.stdout
    proc = start("module", "cut", "--workers", "1", cwd=ws.root)
    known: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not descendants(proc.pid):  # cutting: ffmpeg decodes
            assert proc.poll() is None and time.monotonic() < deadline, "the cut never got going"
            time.sleep(0.01)
        shown = run_cli("status", cwd=ws.root)
        assert proc.poll() is None, "the cut ended before status ran"
        assert shown.returncode == 0, shown.stderr
        assert f"next: wait: a cut (pid {proc.pid}) is running in this workspace now" in shown.stdout
        assert " not cut" in shown.stdout
        assert "next: accentds cut" not in shown.stdout
        known = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
        kill_all(known)
        proc.communicate(timeout=30)
    shown = run_cli("status", cwd=ws.root)
    assert "next: accentds cut   (" in shown.stdout, shown.stdout
    assert "a cut (pid" not in shown.stdout


def test_status_names_only_the_cut_work_there_is(tmp_path: Path, speech: np.ndarray) -> None:
    """Sources pulled with --no-cut: no "0 cut with other [vad] settings (accentds.toml
    changed, ...)" when nothing was changed."""
    ws = long_workspace(tmp_path, speech, sources=2, minutes=0.5)
    shown = run_cli("status", cwd=ws.root)
    assert "next: accentds cut   (2 sources not cut)\n" in shown.stdout, shown.stdout
    assert "accentds.toml changed" not in shown.stdout

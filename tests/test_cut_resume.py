"""An interrupted cut names the command that finishes it: the settings it was given, and
after --force the sources it had not finished (a plain `accentds cut` would re-cut the
finished sources back to accentds.toml's settings, and leave the others as they were)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from conftest import check_consistent, run_cli
from proctree import descendants, kill_all
from test_cli_signals import long_workspace, start

from accentds.words import counted
from accentds.workspace import Workspace

SOURCES = 4


def _interrupt(ws: Workspace, proc: subprocess.Popen, ready: Callable[[], bool]) -> str:
    """Ctrl-C once `ready()` holds; the command's stderr."""
    known: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert proc.poll() is None and time.monotonic() < deadline, "the cut never got going"
            time.sleep(0.01)
        known = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, (proc.returncode, stderr)
    finally:
        proc.kill()
        kill_all(known)
        proc.communicate(timeout=30)
    check_consistent(ws, killed=True)
    return stderr


def _suggested(stderr: str) -> list[str]:
    found = re.search(r"run `accentds ([^`]*)`", stderr)
    assert found, stderr
    return shlex.split(found[1])


def test_an_interrupted_cut_with_other_settings_names_them_to_resume(
    tmp_path: Path, speech: np.ndarray
) -> None:
    ws = long_workspace(tmp_path, speech, sources=SOURCES, minutes=6)
    proc = start("module", "cut", "--padding-ms", "300", "--workers", "2", cwd=ws.root)
    stderr = _interrupt(ws, proc, lambda: bool(ws.read_cuts()) and len(descendants(proc.pid)) >= 2)
    assert stderr == (
        "interrupted: finished sources are saved; run `accentds cut --padding-ms 300` again to resume\n"
    )
    finished = ws.read_cuts()
    assert 0 < len(finished) < SOURCES
    done = run_cli(*_suggested(stderr), cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert f"{counted(len(finished), 'source')} already cut with these settings" in done.stdout
    cuts = ws.read_cuts()
    assert len(cuts) == SOURCES and len({c.settings_id for c in cuts.values()}) == 1
    assert {sid: cuts[sid].cut_at for sid in finished} == {sid: c.cut_at for sid, c in finished.items()}
    check_consistent(ws)


def test_an_interrupted_forced_cut_names_the_sources_it_had_not_finished(
    tmp_path: Path,
    speech: np.ndarray,
) -> None:
    ws = long_workspace(tmp_path, speech, sources=SOURCES, minutes=6)
    assert run_cli("cut", cwd=ws.root).returncode == 0
    before = {sid: c.cut_at for sid, c in ws.read_cuts().items()}
    time.sleep(1.1)  # cut_at is kept to the second

    def recut_one() -> bool:
        now = ws.read_cuts()
        return any(now[sid].cut_at != at for sid, at in before.items()) and len(descendants(proc.pid)) >= 2

    proc = start("module", "cut", "--force", "--workers", "2", cwd=ws.root)
    stderr = _interrupt(ws, proc, recut_one)
    recut = {sid for sid, c in ws.read_cuts().items() if c.cut_at != before[sid]}
    left = sorted(set(before) - recut)
    assert recut and left
    words = _suggested(stderr)
    assert words[:2] == ["cut", "--force"] and sorted(words[2:]) == left, stderr
    assert stderr.endswith(f"to cut the {counted(len(left), 'source')} it had not finished\n")
    between = {sid: c.cut_at for sid, c in ws.read_cuts().items()}
    time.sleep(1.1)
    done = run_cli(*words, cwd=ws.root)
    assert done.returncode == 0, done.stderr
    after = ws.read_cuts()
    assert {sid for sid in after if after[sid].cut_at != between[sid]} == set(left)
    check_consistent(ws)


def test_an_interrupted_dry_run_says_nothing_was_written(tmp_path: Path, speech: np.ndarray) -> None:
    ws = long_workspace(tmp_path, speech, sources=1, minutes=6)
    proc = start("module", "cut", "--dry-run", "--workers", "1", cwd=ws.root)
    stderr = _interrupt(ws, proc, lambda: bool(descendants(proc.pid)))
    assert stderr == "interrupted: a dry run, nothing was written\n"
    assert ws.read_cuts() == {} and ws.read_clips() == []

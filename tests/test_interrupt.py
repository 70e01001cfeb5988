"""Kill a cut in the middle (SIGKILL and Ctrl-C): manifests stay consistent and a rerun resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import RATE, check_consistent, run_cli

from accentds.pull import pull
from accentds.workspace import Workspace, init_workspace

SOURCES = 5


def _long_sources(folder: Path, speech: np.ndarray, minutes: float = 4) -> list[Path]:
    """Distinct WAV files of `minutes` of speech each (the sample repeated, another gain each)."""
    folder.mkdir()
    repeats = int(minutes * 60 * RATE / len(speech)) + 1
    long = np.tile(speech, repeats)[: int(minutes * 60 * RATE)]
    paths = []
    for k in range(SOURCES):
        path = folder / f"talk-{k}.wav"
        soundfile.write(str(path), (long * (0.5 + 0.1 * k)).astype(np.int16), RATE, subtype="PCM_16")
        paths.append(path)
    return paths


@pytest.fixture
def pulled(tmp_path: Path, speech: np.ndarray) -> Workspace:
    ws, _ = init_workspace(tmp_path / "ws")
    results = pull(ws, [str(p) for p in _long_sources(tmp_path / "media", speech)])
    assert [r.status for r in results] == ["pulled"] * SOURCES
    return ws


def _start_cut(ws: Workspace, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "accentds", "cut", "--workers", str(workers)],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a shell running us in the background may ignore SIGINT, and the child would inherit it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_mid_cut(ws: Workspace, proc: subprocess.Popen) -> None:
    """Wait until one source is committed and another is being written, with more to come."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the cut finished before it could be interrupted"
        committed = set(ws.read_cuts())
        writing = [
            d for d in ws.clips.iterdir() if d.is_dir() and d.name not in committed and any(d.iterdir())
        ]
        if committed and writing and len(committed) <= SOURCES - 3:  # well before the end
            return
        time.sleep(0.005)
    raise AssertionError("the cut never got going")


def _resume_and_check(ws: Workspace, expected: dict[str, list[str]]) -> None:
    done = run_cli("cut", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    check_consistent(ws)
    got: dict[str, list[str]] = {}
    for clip in ws.read_clips():
        got.setdefault(clip.source_id, []).append(clip.clip_id)
    assert got == expected
    assert len(ws.read_cuts()) == SOURCES
    # every file on disk belongs to a clip row
    on_disk = sorted(p.stem for p in ws.clips.rglob("*.wav"))
    assert on_disk == sorted(c for ids in expected.values() for c in ids)


def _reference(tmp_path: Path, ws: Workspace) -> dict[str, list[str]]:
    """The clips an uninterrupted cut makes of the same sources."""
    ref, _ = init_workspace(tmp_path / "ref")
    pull(ref, [s.origin for s in ws.read_sources()])
    assert run_cli("cut", "--workers", "2", cwd=ref.root).returncode == 0
    clips: dict[str, list[str]] = {}
    for clip in ref.read_clips():
        clips.setdefault(clip.source_id, []).append(clip.clip_id)
    return clips


@pytest.mark.parametrize(("how", "workers"), [("SIGKILL", 1), ("SIGINT", 1), ("SIGKILL", 2), ("SIGINT", 2)])
def test_interrupted_cut_is_consistent_and_resumes(
    pulled: Workspace, tmp_path: Path, how: str, workers: int
) -> None:
    ws = pulled
    expected = _reference(tmp_path, ws)
    assert len(expected) == SOURCES
    proc = _start_cut(ws, workers)
    _wait_mid_cut(ws, proc)
    os.killpg(proc.pid, getattr(signal, how))
    stdout, stderr = proc.communicate(timeout=60)
    if how == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, stdout + stderr
        assert "run `accentds cut` again to resume" in stderr
    check_consistent(ws, killed=True)
    assert 0 < len(ws.read_cuts()) < SOURCES
    _resume_and_check(ws, expected)

"""Workers and ffmpeg die with the accentds that started them: a `kill -9` leaves nothing running."""

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
from conftest import RATE
from proctree import cmdline, descendants, kill_all, start_time, wait_for_no_survivors

from accentds.procs import die_with_parent
from accentds.pull import pull
from accentds.workspace import Workspace, init_workspace

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


SOURCES = 4


@pytest.fixture
def long_sources(tmp_path: Path, speech: np.ndarray) -> Workspace:
    """A workspace with SOURCES pulled WAV files of 8 minutes of speech each."""
    folder = tmp_path / "media"
    folder.mkdir()
    samples = 8 * 60 * RATE
    long = np.tile(speech, samples // len(speech) + 1)[:samples]
    paths = []
    for k in range(SOURCES):
        path = folder / f"talk-{k}.wav"
        soundfile.write(str(path), (long * (0.5 + 0.1 * k)).astype(np.int16), RATE, subtype="PCM_16")
        paths.append(str(path))
    ws, _ = init_workspace(tmp_path / "ws")
    assert [r.status for r in pull(ws, paths)] == ["pulled"] * SOURCES
    return ws


def test_kill_9_of_a_cut_takes_its_workers_and_ffmpeg_with_it(long_sources: Workspace) -> None:
    ws = long_sources
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", "cut", "--workers", "2"],
        cwd=ws.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    marker = str(ws.raw)  # ffmpeg's command line names the source under raw/
    known: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # both workers decoding, with sources still to come
            assert proc.poll() is None, "the cut ended before it could be killed"
            known = descendants(proc.pid)
            decoding = [pid for pid in known if marker in cmdline(pid)]
            if len(decoding) >= 2 and len(ws.read_cuts()) < SOURCES - 2:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the cut never had two sources decoding")
        assert len(known) >= 4, [cmdline(pid) for pid in known]  # 2 workers, 2 ffmpeg at least
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone, as the OOM killer would
        proc.wait(10)
        left = wait_for_no_survivors(known, marker, 2.0)
        assert left == [], f"still running 2 s after the parent was killed: {left}"
    finally:
        proc.kill()
        proc.wait()
        kill_all(known, marker)


def test_a_program_started_with_dies_with_us_dies_with_its_parent(tmp_path: Path) -> None:
    """A parent that starts `sleep` with dies_with_us(), killed: the sleep goes too."""
    script = (
        "import subprocess, sys, time\n"
        "from accentds.procs import dies_with_us\n"
        "child = subprocess.Popen(['sleep', '60'], preexec_fn=dies_with_us())\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    known = {child: start_time(child) or ""}
    try:
        parent.kill()
        parent.wait()
        assert wait_for_no_survivors(known, None, 2.0) == []
    finally:
        kill_all(known)


def test_a_child_whose_parent_is_gone_exits_at_once() -> None:
    """The parent died between the fork and die_with_parent: the child must not run on."""
    pid = os.fork()
    if pid == 0:  # the child, told its parent was another process
        try:
            die_with_parent(parent=os.getppid() + 1)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1

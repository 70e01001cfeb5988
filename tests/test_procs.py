"""Workers and ffmpeg die with the accentds that started them: a `kill -9` leaves nothing running."""

from __future__ import annotations

import contextlib
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

from accentds.procs import die_with_parent
from accentds.pull import pull
from accentds.workspace import Workspace, init_workspace

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its start time (to tell a reused pid)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for other in _all_pids():
        stat = _stat(other)
        if stat:
            children.setdefault(stat[0], []).append(other)
            starts[other] = stat[2]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def survivors(known: dict[int, str], marker: str) -> list[str]:
    """Processes of `known` still running (zombies count as gone), and any process whose command
    line holds `marker`; each as `pid command`."""
    alive = {}
    for pid, start in known.items():
        stat = _stat(pid)
        if stat and stat[2] == start and stat[1] != "Z":
            alive[pid] = _cmdline(pid)
    for pid in _all_pids():
        stat = _stat(pid)
        if pid != os.getpid() and stat and stat[1] != "Z" and marker in _cmdline(pid):
            alive[pid] = _cmdline(pid)
    return [f"{pid} {cmd}" for pid, cmd in sorted(alive.items())]


def wait_for_no_survivors(known: dict[int, str], marker: str, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := survivors(known, marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def _kill_all(known: dict[int, str], marker: str) -> None:
    for line in survivors(known, marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)


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
            decoding = [pid for pid in known if marker in _cmdline(pid)]
            if len(decoding) >= 2 and len(ws.read_cuts()) < SOURCES - 2:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the cut never had two sources decoding")
        assert len(known) >= 4, [_cmdline(pid) for pid in known]  # 2 workers, 2 ffmpeg at least
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone, as the OOM killer would
        proc.wait(10)
        left = wait_for_no_survivors(known, marker, 2.0)
        assert left == [], f"still running 2 s after the parent was killed: {left}"
    finally:
        proc.kill()
        proc.wait()
        _kill_all(known, marker)


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
    known = {child: _stat(child)[2]}  # type: ignore[index]
    try:
        parent.kill()
        parent.wait()
        assert wait_for_no_survivors(known, "\0never", 2.0) == []
    finally:
        _kill_all(known, "\0never")


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

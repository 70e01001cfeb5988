"""The real command, interrupted at any moment or failing on the disk, ends with one line:
`Interrupted.` and exit code 130, or `Error: ...` and exit code 1; never a traceback
(unless --debug asks for one)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import RATE, check_consistent, run_cli
from proctree import descendants, kill_all, wait_for_no_survivors

from accentds.cli import os_error_line
from accentds.files import read_csv
from accentds.pull import pull
from accentds.workspace import Workspace, init_workspace

SCRIPT = Path(sys.executable).parent / "accentds"  # the console script pip wrote
ENTRIES = {"script": [str(SCRIPT)], "module": [sys.executable, "-m", "accentds"]}
CUT_RESUME = "interrupted: finished sources are saved; run `accentds cut` again to resume"


def long_workspace(tmp_path: Path, speech: np.ndarray, sources: int, minutes: float) -> Workspace:
    """A workspace with `sources` pulled WAV files of `minutes` of speech each."""
    folder = tmp_path / "media"
    folder.mkdir()
    samples = int(minutes * 60 * RATE)
    long = np.tile(speech, samples // len(speech) + 1)[:samples]
    paths = []
    for k in range(sources):
        path = folder / f"talk-{k}.wav"
        soundfile.write(str(path), (long * (0.5 + 0.1 * k)).astype(np.int16), RATE, subtype="PCM_16")
        paths.append(str(path))
    ws, _ = init_workspace(tmp_path / "ws")
    assert [r.status for r in pull(ws, paths)] == ["pulled"] * sources
    return ws


def start(entry: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*ENTRIES[entry], *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a shell running us in the background may ignore SIGINT, and the child would inherit it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM: accentds's code has begun to run."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.parametrize("entry", ["script", "module"])
@pytest.mark.parametrize(
    ("how", "delay"),
    [
        ("SIGINT", 0.05),
        ("SIGINT", 0.1),
        ("SIGINT", 0.2),
        ("SIGINT", 0.3),
        ("SIGTERM", 0.05),
        ("SIGTERM", 0.3),
    ],
)
def test_an_interrupt_at_any_moment_is_one_line_and_exit_code_130(
    tmp_path: Path, speech: np.ndarray, entry: str, how: str, delay: float
) -> None:
    """From accentds's first line on: the command is still importing its modules at 0.3 s.
    (Before that line, ~25 ms after the start here, the interpreter is starting up: a signal
    then meets Python's own handling, so on a busy machine the signal waits for that line.)"""
    assert SCRIPT.is_file()
    ws = long_workspace(tmp_path, speech, sources=1, minutes=4)
    proc = start(entry, "cut", "--workers", "1", cwd=ws.root)
    started = time.monotonic()
    time.sleep(delay)
    while not catches_sigterm(proc.pid) and time.monotonic() < started + delay + 0.2:
        time.sleep(0.001)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    if how == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
    else:
        os.kill(proc.pid, signal.SIGTERM)  # as `kill PID`
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stderr.splitlines() in (["Interrupted."], [CUT_RESUME]), stderr  # importing, or cutting


def wait_until_cutting(ws: Workspace, proc: subprocess.Popen) -> None:
    """Until one source is cut and the workers are busy with the others."""
    deadline = time.monotonic() + 120
    while not ws.read_cuts() or len(descendants(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the cut never got going"
        time.sleep(0.01)


def test_sigterm_during_a_cut_is_handled_like_ctrl_c(tmp_path: Path, speech: np.ndarray) -> None:
    sources = 4
    ws = long_workspace(tmp_path, speech, sources=sources, minutes=6)
    proc = start("module", "cut", "--workers", "2", cwd=ws.root)
    known: dict[int, str] = {}
    try:
        wait_until_cutting(ws, proc)
        assert len(ws.read_cuts()) < sources - 1
        known = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, (proc.returncode, stderr)
        assert stderr == CUT_RESUME + "\n"
        assert "corpus: " in stdout
        assert wait_for_no_survivors(known, str(ws.raw), 5.0) == []
    finally:
        proc.kill()
        kill_all(known)  # what outlived it would hold its output open
        proc.communicate(timeout=30)
    check_consistent(ws, killed=True)
    assert 0 < len(ws.read_cuts()) < sources
    done = run_cli("cut", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert len(ws.read_cuts()) == sources
    check_consistent(ws)


def test_ctrl_c_while_a_pull_cuts_saves_what_was_cut_and_its_history(
    tmp_path: Path, speech: np.ndarray
) -> None:
    """Ctrl-C in the cutting part of `pull`: the pull's own line, exit code 130, and a line
    in history.csv holding the clips cut so far."""
    sources = 4
    ws = long_workspace(tmp_path, speech, sources=sources, minutes=6)
    paths = [s.origin for s in ws.read_sources()]
    proc = start("module", "pull", *paths, "--workers", "2", cwd=ws.root)
    known: dict[int, str] = {}
    try:
        wait_until_cutting(ws, proc)
        known = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, (proc.returncode, stderr)
        assert stderr == "interrupted: what was pulled is saved; run the same pull again to go on\n"
        assert "corpus: " in stdout
    finally:
        proc.kill()
        kill_all(known)
        proc.communicate(timeout=30)
    check_consistent(ws, killed=True)
    cut_so_far = len(ws.read_clips())
    assert 0 < len(ws.read_cuts()) < sources and cut_so_far
    rows = read_csv(ws.manifests / "history.csv")
    assert [row["command"] for row in rows] == ["pull"]
    assert int(rows[0]["total_clips"]) == cut_so_far


# -- errors of the operating system ------------------------------------------------------------
def test_an_os_error_names_the_file_being_read_or_written() -> None:
    """Real errors of real files; the file name comes from the file open where it was raised."""
    try:
        with open("/dev/full", "w") as handle:  # every write: no space left on device
            handle.write("x")
            handle.flush()
    except OSError as exc:
        full = exc
    assert full.errno == errno.ENOSPC and full.filename is None
    assert os_error_line(full) == (
        "no space left on device writing /dev/full: free some space and run the command again"
    )
    try:
        with open("/proc/self/mem", "rb") as handle:  # address 0 is never mapped
            handle.read(16)
    except OSError as exc:
        broken = exc
    assert broken.errno == errno.EIO
    assert os_error_line(broken) == (
        "input/output error on /proc/self/mem: check the disk or drive, then run the command again"
    )
    try:
        Path("/proc/self/mem").mkdir()
    except OSError as exc:
        exists = exc
    assert os_error_line(exists) == "File exists: /proc/self/mem"


def test_an_os_error_is_one_error_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = run_cli("init", "/proc/self/no-such-folder", cwd=tmp_path)  # /proc makes no folders
    assert (done.returncode, done.stderr) == (
        1,
        "Error: No such file or directory: /proc/self/no-such-folder\n",
    )
    for args, env in ((["--debug"], {}), ([], {"ACCENTDS_DEBUG": "1"})):
        shown = run_cli(*args, "init", "/proc/self/no-such-folder", cwd=tmp_path, env=env)
        assert shown.returncode == 1
        assert "Traceback (most recent call last)" in shown.stderr
        assert shown.stderr.rstrip().endswith(
            "FileNotFoundError: [Errno 2] No such file or directory: '/proc/self/no-such-folder'"
        )


def _on_a_full_disk(mount: Path) -> list[str] | None:
    """A command prefix that runs the rest in a mount namespace of its own with a full tmpfs
    at `mount`; None where namespaces or tmpfs mounts are not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    mount.mkdir()
    fill = 'mount -t tmpfs -o size=32k tmpfs "$1" && { head -c 1M /dev/zero >"$1/filler" 2>/dev/null; true; }'
    prefix = [unshare, "--mount", *(["--map-root-user"] if os.getuid() else [])]
    command = [*prefix, "sh", "-c", fill + ' && shift && exec "$@"', "sh", str(mount)]
    probe = subprocess.run([*command, "sh", "-c", "! echo x >>$0/x", str(mount)], capture_output=True)
    return command if probe.returncode == 0 else None


def test_a_full_disk_is_one_error_line(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    prefix = _on_a_full_disk(mount)
    if prefix is None:
        pytest.skip("no mount namespace with a tmpfs here")
    accentds = [*ENTRIES["module"]]
    done = subprocess.run([*prefix, *accentds, "init", str(mount / "ws")], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    line = done.stderr.removesuffix("\n")
    assert "\n" not in line
    assert line.startswith(f"Error: no space left on device writing {mount}/ws/.accentds.toml.tmp"), line
    assert line.endswith(": free some space and run the command again")
    shown = subprocess.run(
        [*prefix, *accentds, "--debug", "init", str(mount / "ws")], capture_output=True, text=True
    )
    assert shown.returncode == 1
    assert "Traceback (most recent call last)" in shown.stderr
    assert shown.stderr.rstrip().endswith("OSError: [Errno 28] No space left on device")


TEARDOWN_CTRL_C = """
import atexit, os, signal, sys, time
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.1)))
sys.argv = ["accentds", "labels", "list"]
from accentds.entry import main
main()
"""


def test_a_ctrl_c_once_the_command_is_done_leaves_its_exit_code(sample_ws: Workspace) -> None:
    """A Ctrl-C while Python tears down a finished command (~0.3 s after its last line) killed
    it silently with SIGINT's code, as if cut short: the command stands as done."""
    done = subprocess.run(
        [sys.executable, "-c", TEARDOWN_CTRL_C],
        cwd=sample_ws.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == "8 clips, 0.5 min"


SWALLOWED_CTRL_C = """
import importlib.abc, os, signal, sys


class Compiled(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    # onnxruntime's import, as a compiled module takes a Ctrl-C arriving while it loads: the
    # KeyboardInterrupt is caught in C and an ImportError raised in its place
    def find_spec(self, name, path, target=None):
        if name == "onnxruntime":
            return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**7):
                pass
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, Compiled())
sys.argv = ["accentds", *sys.argv[1:]]
from accentds.entry import main
main()
"""


def test_a_ctrl_c_that_an_import_turns_into_an_error_is_told_as_an_interrupt(sample_ws: Workspace) -> None:
    """A Ctrl-C during `clip bounds` while onnxruntime loaded said `Error: onnxruntime cannot be
    imported (initialization failed): reinstall accentds` with exit code 1."""
    clip = sample_ws.read_clips()[0]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SWALLOWED_CTRL_C,
            "clip",
            "bounds",
            clip.clip_id,
            "--start",
            f"{clip.start + 0.1:.3f}",
            "--end",
            f"{clip.end:.3f}",
        ],
        cwd=sample_ws.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (130, "Interrupted.\n")
    assert clip.clip_id in {c.clip_id for c in sample_ws.read_clips()}

"""The processes below a process, read from /proc (Linux): to check that none outlives a run."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    stat = _stat(pid)
    return stat[2] if stat else None


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


def survivors(known: dict[int, str], marker: str | None = None) -> list[str]:
    """Processes of `known` still running (zombies count as gone), and any process whose
    command line holds `marker`; each as `pid command`."""
    alive = {}
    for pid, start in known.items():
        stat = _stat(pid)
        if stat and stat[2] == start and stat[1] != "Z":
            alive[pid] = cmdline(pid)
    if marker:
        for pid in _all_pids():
            stat = _stat(pid)
            if pid != os.getpid() and stat and stat[1] != "Z" and marker in cmdline(pid):
                alive[pid] = cmdline(pid)
    return [f"{pid} {cmd}" for pid, cmd in sorted(alive.items())]


def wait_for_no_survivors(known: dict[int, str], marker: str | None, seconds: float) -> list[str]:
    """`survivors` once none is left, or after `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := survivors(known, marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def kill_all(known: dict[int, str], marker: str | None = None) -> None:
    """Clean up after a failed check."""
    for line in survivors(known, marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)

"""Child processes that die with their parent: a killed accentds leaves no worker or ffmpeg
running on.

On Linux the kernel sends a child SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG);
elsewhere only a parent already gone is noticed. The signal follows the parent *thread* that
started the child: start children from a thread that outlives them."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

_PR_SET_PDEATHSIG = 1
SOCKET_BUFFER = 1 << 20  # asked for; the kernel may give less
_prctl: Callable[..., int] | None = None
if sys.platform.startswith("linux"):
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        _prctl = None

_forked_by: int | None = None  # in a forked child: the pid of the process that forked it


def _before_fork() -> None:
    global _forked_by
    _forked_by = os.getpid()


os.register_at_fork(before=_before_fork)


def die_with_parent(parent: int | None = None) -> None:
    """Have this process killed when its parent dies, and exit now if it has died already.

    `parent`: the parent's pid, recorded before the child was started. Default: the pid of
    the process that forked this one (known when this module was imported before the fork),
    else the current parent."""
    if parent is None:
        parent = _forked_by if _forked_by is not None and _forked_by != os.getpid() else os.getppid()
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above: nobody waits for us
        os._exit(1)


def running(pid: int) -> bool:
    """Whether the process `pid` runs: not when it has exited and waits to be reaped (a
    zombie, as a killed child of a killed accentds is until init reaps it)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    if not sys.platform.startswith("linux"):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:  # it exited just now
        return False
    state = stat[stat.rindex(b")") + 2 :].split()[0]
    return state != b"Z"


def dies_with_us() -> Callable[[], None]:
    """A `preexec_fn` for subprocess: the program started is killed when this process (the
    calling thread) dies."""
    parent = os.getpid()
    return lambda: die_with_parent(parent)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then act as they would have (in the
    command: KeyboardInterrupt), so a block that writes several files together is never cut
    in two by them. Only the main thread can hold them; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signum)

    held = (signal.SIGINT, signal.SIGTERM)
    before = {signum: signal.signal(signum, hold) for signum in held}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])  # now, to the handler the command had


class SocketProcess:
    """A child process (ffmpeg) writing into a socket, `sock`, its stderr read by a thread of
    its own; it dies with the thread that started it."""

    def __init__(self, command: list[str]) -> None:
        # ffmpeg writes into a socket, not a pipe: a read with MSG_WAITALL returns a whole chunk
        # in one call, where a pipe returns each 32 KB ffmpeg writes, and every return has to
        # take the GIL back from the thread doing the work.
        self.sock, theirs = socket.socketpair()
        with suppress(OSError):  # room for ffmpeg to run ahead while clips are written
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        try:
            self.proc = subprocess.Popen(
                command,
                stdout=theirs.fileno(),
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                process_group=0,  # Ctrl-C is for accentds to handle: it stops ffmpeg itself
                preexec_fn=dies_with_us(),  # and a killed accentds takes ffmpeg with it
            )
        except BaseException:
            self.sock.close()
            raise
        finally:
            theirs.close()  # ffmpeg holds its end: the stream ends when ffmpeg does
        stderr = self.proc.stderr
        assert stderr is not None
        self.errors: list[bytes] = []
        self.drain = threading.Thread(target=lambda: self.errors.append(stderr.read()), daemon=True)
        self.drain.start()
        self.result: tuple[int, str] | None = None

    def finish(self) -> tuple[int, str]:
        """Wait for the process to end: its exit code and what it said on stderr."""
        if self.result is None:
            self.sock.close()
            code = self.proc.wait()
            self.drain.join()
            assert self.proc.stderr is not None
            self.proc.stderr.close()
            self.result = (code, b"".join(self.errors).decode("utf-8", "replace"))
        return self.result

"""The `accentds` command's entry point (and `python -m accentds`).

Ctrl-C and SIGTERM are taken in hand before anything heavy is imported: an interrupt at any
moment, the ~0.3 s of imports included, ends with one line and exit code 130. This module
imports nothing but the standard library's basics, so that it is in place within
milliseconds of the interpreter's start."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys

TYPE_CHECKING = False  # `typing` costs ~3 ms of the time an interrupt finds no handler
if TYPE_CHECKING:
    from typing import NoReturn

_signalled = False  # set by the handler: an import may swallow the KeyboardInterrupt it raises
_exit_code: list[int] = []  # the code an interrupted run exits with
_exit_handler: list[bool] = []


def _interrupt(signum: int, frame: object) -> None:
    global _signalled
    _signalled = True
    raise KeyboardInterrupt


def handle_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt (SIGTERM is handled like Ctrl-C)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if not _exit_handler:
        atexit.register(_exit_as_said)  # registered before any other, it runs last
        _exit_handler.append(True)


def signalled() -> bool:
    """Whether a Ctrl-C or SIGTERM came during the run (an error raised since may be how an
    import of a compiled module, onnxruntime or numpy, took the interrupt)."""
    return _signalled


def interrupted(message: str = "Interrupted.") -> NoReturn:
    """Print `message` and exit with 130; a further signal cannot interrupt the exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    exit_code_stands(130)
    sys.exit(130)


def exit_code_stands(code: int) -> None:
    """Exit with `code` at the end, even after a KeyboardInterrupt (see `_exit_as_said`)."""
    _exit_code.append(code)


def _exit_as_said() -> None:
    """The last exit handler: exit with the code an interrupted run gave. Python kills itself with
    SIGINT at its very end, whatever code it was told, once a KeyboardInterrupt has passed
    through code it ran from C (a Cython module's import does that)."""
    if _exit_code:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os._exit(_exit_code[-1])


def main() -> None:
    """Run the `accentds` command."""
    handle_signals()
    try:
        from .cli import main as run
    except BaseException:
        if _signalled:  # whatever the interrupted import turned the KeyboardInterrupt into
            interrupted()
        raise
    if _signalled:  # an import caught the KeyboardInterrupt and went on
        interrupted()
    try:
        run()
    finally:
        _done()


def _done() -> None:
    """The command has said its last: a Ctrl-C or SIGTERM from now on is ignored. Python's
    teardown (~0.3 s) puts its default handler back, and a signal then killed the finished
    command without a word and with a code that said it was cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

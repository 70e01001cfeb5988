"""The `accentds` command: thin wrappers over the library. Only this package prints or exits.

Each command module registers its commands on the app as it is imported, so the order of the
imports below is the order of the commands in `accentds --help`. This module runs the app and
turns what goes wrong into one line and an exit code."""

from __future__ import annotations

import errno
import io
import os
import sys
import traceback
from contextlib import suppress

from rich.markup import escape

from ..errors import AccentdsError

# isort: off
from . import corpus, overview, publishing, labelling, clip  # noqa: F401  (see above)

# isort: on
from .shared import _debug, _finish, app, err


def _debugging() -> bool:
    return bool(_debug) or os.environ.get("ACCENTDS_DEBUG", "") not in ("", "0")


_OS_ERRORS = {  # errno: (what happened, " writing"/" on" before the file, what to do)
    errno.ENOSPC: ("no space left on device", " writing", ": free some space and run the command again"),
    errno.EDQUOT: ("disk quota exceeded", " writing", ": free some space and run the command again"),
    errno.EIO: ("input/output error", " on", ": check the disk or drive, then run the command again"),
    errno.EROFS: ("read-only file system", " writing", ""),
}


def os_error_line(exc: OSError) -> str:
    """An OSError in one line: the reason and the file (named by the error, else the file
    open where it was raised)."""
    files = [str(f) for f in (exc.filename, exc.filename2) if f is not None] or _open_files(exc)[:1]
    named = " -> ".join(files)
    if exc.errno in _OS_ERRORS:
        what, preposition, advice = _OS_ERRORS[exc.errno]
        return f"{what}{preposition} {named}{advice}" if named else f"{what}{advice}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason}: {named}" if named else reason


def _open_files(exc: BaseException) -> list[str]:
    """Names of the files open in the frames an exception passed through, innermost first."""
    names = []
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            name = getattr(value, "name", None) if isinstance(value, io.IOBase) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt typer turned into this exit (code 130) when no command handled
    it; None when a command handled it (and said so) with `raise typer.Exit(130) from None`."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        if seen.__cause__ is None and seen.__suppress_context__:
            return None
        seen = seen.__cause__ or seen.__context__
    return None


def main() -> None:
    """Run the app. An AccentdsError or OSError becomes one `Error: ...` line and exit code 1,
    any other error too (a bug: --debug shows where); an interrupt (Ctrl-C, SIGTERM) ends
    with one line and exit code 130. With --debug or ACCENTDS_DEBUG=1, errors show their
    traceback instead."""
    import pyarrow

    from ..entry import exit_code_stands, handle_signals, interrupted, signalled

    try:
        handle_signals()
        # the system allocator gives memory back; pyarrow's default pool keeps ~40 MB per commit
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
        # pyarrow swaps in its own SIGINT handler during CSV reads and can swallow a Ctrl-C that
        # lands there; our reads are short, so Python's own handler keeps it
        pyarrow.enable_signal_handlers(False)
        try:
            app()
        except SystemExit as exc:
            if exc.code != 130:  # the views the command made stale, rewritten
                _finish()
            raise
        _finish()
    except SystemExit as exc:
        interrupt = _interrupt_behind(exc) if exc.code == 130 else None
        if interrupt is not None:  # typer exits quietly: say why
            if _debugging():
                traceback.print_exception(interrupt)
            interrupted()
        if exc.code == 130:  # a command said it was interrupted
            exit_code_stands(130)
        raise
    except KeyboardInterrupt:
        if _debugging():
            raise
        interrupted()
    except Exception as exc:
        if _debugging():
            raise
        if signalled():  # a module imported from C turned the Ctrl-C into an ImportError of its own
            interrupted()
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:  # `accentds ... | head`
            with suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        if isinstance(exc, AccentdsError):
            message = str(exc)
        elif isinstance(exc, OSError):
            message = os_error_line(exc)
        else:
            message = f"{type(exc).__name__}: {exc} (a bug in accentds: run again with --debug to see where)"
        err.print(f"[red]Error:[/] {escape(message)}")
        sys.exit(1)

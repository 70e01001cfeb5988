"""The `accentds` app, its global options, and what every command shares: the consoles,
the workspace it works on, the views rewritten after it, progress bars and history lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from typer.core import TyperGroup

from .. import __version__
from ..corpus_history import append_history
from ..errors import AccentdsError
from ..labels import orphans
from ..markup import minutes
from ..status import Totals
from ..views import refresh_manifest
from ..words import change_text, counted, plural, shown
from ..workspace import ENV_VAR, Workspace

_UsageError = typer.BadParameter.__mro__[1]  # click's UsageError, as typer ships it


class _Group(TyperGroup):
    """The command group: an unknown option that is a file's name, such as `-dash.opus`,
    says how to give that file (click said only "No such option: -d")."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _UsageError as exc:
            name = getattr(exc, "option_name", None)  # click's NoSuchOption (as typer ships it)
            if not name:
                raise
            word = next((w for w in sys.argv[1:] if w.startswith(name) and w != "--"), "")
            if word and (Path(word).exists() or "." in word.lstrip("-") or "/" in word):
                exc.message += f" (to name the file {word}, write ./{word}, or put -- before it: -- {word})"
            raise


app = typer.Typer(
    cls=_Group,
    help="Curate a speech corpus of accented English cut from videos.\n\n"
    "Typical evening: `accentds pull URL_OR_FILE ...` (pulls and cuts), then `accentds status`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _Console(Console):
    """A console whose text lets no control character through to the terminal: a file name
    with a terminal's escape codes in a message does not act on it (they show as `\\x1b`)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(shown(o, keep="\n") if isinstance(o, str) else o for o in objects), **kwargs)


out = _Console(highlight=False, soft_wrap=True, emoji=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def named(text: object) -> str:
    """A file name, URL or title as printed: on one line, its control characters escaped
    (`bad\\nname.mp4`, see `words.shown`), and never read as markup."""
    return escape(shown(str(text)))


WorkspaceOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--workspace",
        "-w",
        help=f"Workspace folder (default: ${ENV_VAR}, else the nearest parent holding accentds.toml).",
    ),
]
WorkersOpt = Annotated[
    Optional[int],
    typer.Option("--workers", "-j", min=1, help="Parallel worker processes (default: one per core)."),
]
FfmpegOpt = Annotated[
    Optional[str],
    typer.Option("--ffmpeg", help="ffmpeg binary (default: [audio] ffmpeg, PATH, else bundled)."),
]


def _version(value: bool) -> None:
    if value:
        out.print(f"accentds {__version__}")
        raise typer.Exit()


_given_workspace: list[Path] = []
_debug: list[bool] = []


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    workspace: WorkspaceOpt = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error (also: ACCENTDS_DEBUG=1).")
    ] = False,
) -> None:
    """Curate a speech corpus of accented English cut from videos."""
    if workspace is not None:
        _given_workspace.append(workspace)
    if debug:
        _debug.append(True)


_opened: list[Workspace] = []


def _workspace(workspace: Path | None) -> Workspace:
    """The workspace named after the command, else before it, else found as usual, with its
    generated views brought up to date (a killed run, a `git pull`)."""
    ws = Workspace.find(workspace or (_given_workspace[-1] if _given_workspace else None))
    refresh_manifest(ws)
    if ws.views_behind:  # a full disk: told now, as the command may run long (review)
        _warn(ws.views_behind)
    _opened.append(ws)
    return ws


_told: list[str] = []


def _warn(notice: str) -> None:
    """A warning told once in a command's run."""
    if notice not in _told:
        _told.append(notice)
        err.print(f"[yellow]Warning:[/] {escape(notice)}")


def _finish() -> None:
    """After a command: the views it made stale are rewritten, and anything a view's state
    should tell the user is told."""
    for ws in _opened:
        ws.notices.clear()  # told as things stand now, not as the command found them
        refresh_manifest(ws)
        for notice in ws.notices:
            _warn(notice)
    _opened.clear()
    _told.clear()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _release_minutes(seconds: float) -> str:
    """A release's minutes as its card and release.json give them: `0.55 min`."""
    return f"{minutes(seconds)} min"


def _corpus_line(before: Totals, after: Totals) -> None:
    """`corpus: 22 clips, 1.3 min (-0.1 min)`: the change is that of the minutes as shown, so
    the line before said 1.4 min (a change rounded on its own read `1.4 min` then `1.3 min
    (-0.0 min)`); one the shown minutes do not show is given in hundredths (`-0.04 min`)."""
    as_shown = float(f"{after.seconds / 60:.1f}") - float(f"{before.seconds / 60:.1f}")
    delta = f"{as_shown:+.1f} min" if round(as_shown, 1) else change_text(after.seconds - before.seconds)
    out.print(f"corpus: {counted(after.clips, 'clip')}, {_minutes(after.seconds)} ({delta})")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


def _trouble(progress: Progress) -> Console:
    """Where failures and warnings go while `progress` may be shown: on a terminal, the bar's
    console, which prints them above the bar (stderr written under a live bar sticks to it);
    elsewhere stderr."""
    return progress.console if progress.live.is_started else err


def _record_history(ws: Workspace, command: str) -> None:
    """Add a line of totals by status to manifests/history.csv; a failure only warns."""
    try:
        append_history(ws, command)
    except (OSError, ValueError, AccentdsError) as exc:
        err.print(f"[yellow]note[/] history.csv not updated: {escape(str(exc))}")


def _orphan_line(ws: Workspace) -> None:
    found = orphans(ws)
    if found:
        err.print(
            f"[yellow]note[/] {counted(len(found), 'labelled clip')} no longer {plural(len(found), 'exists', 'exist')} (their labels are kept): "
            "`accentds labels orphans` lists them"
        )

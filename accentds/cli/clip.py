"""The clip group: a clip's boundaries set by hand (accentds.bounds)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..bounds import BoundsEdit, set_bounds, split_clip
from .shared import WorkspaceOpt, _record_history, _workspace, app, err, out

clip_app = typer.Typer(
    help="Fix a clip's boundaries by hand: re-cut it or split it in two.", no_args_is_help=True
)
app.add_typer(clip_app, name="clip")


def _waiting(why: str) -> None:
    err.print(f"[yellow]waiting[/]   {escape(why)}")


def _print_edit(edit: BoundsEdit) -> None:
    if edit.unchanged:
        [clip] = edit.clips
        out.print(
            f"{edit.replaced}: the bounds are unchanged ({clip.start:.3f}–{clip.end:.3f} s already); nothing was done"
        )
        return
    made = ", ".join(f"{c.clip_id} ({c.start:.3f}–{c.end:.3f} s)" for c in edit.clips)
    out.print(f"{edit.replaced} -> {made}")


@clip_app.command("bounds")
def clip_bounds_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    start: Annotated[float, typer.Option(help="New start, in seconds of the source.")],
    end: Annotated[float, typer.Option(help="New end, in seconds of the source.")],
    reviewer: Annotated[
        str, typer.Option(help="Your name in the history (default: $ACCENTDS_REVIEWER, else $USER).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-cut a clip from its source with a new start and end; its labels move to the new clip,
    and later cuts keep it as set (manifests/bounds.csv).

    Example:

    \b
      accentds clip bounds file-3fa9c2d1e0ab-00000480-00004980 --start 0.36 --end 5.1
    """
    ws = _workspace(workspace)
    edit = set_bounds(ws, clip_id, start, end, reviewer=reviewer, on_wait=_waiting)
    _print_edit(edit)
    if not edit.unchanged:
        _record_history(ws, "clip bounds")


@clip_app.command("split")
def clip_split_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    at: Annotated[float, typer.Argument(help="Where to split, in seconds of the source.")],
    reviewer: Annotated[
        str, typer.Option(help="Your name in the history (default: $ACCENTDS_REVIEWER, else $USER).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Split a clip in two; both halves keep its labels (an accepted clip's halves are pending again).

    Example:

    \b
      accentds clip split file-3fa9c2d1e0ab-00000480-00004980 2.75
    """
    ws = _workspace(workspace)
    edit = split_clip(ws, clip_id, at, reviewer=reviewer, on_wait=_waiting)
    _print_edit(edit)
    if not edit.unchanged:
        _record_history(ws, "clip split")

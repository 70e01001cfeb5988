"""How `cut` (and the cutting part of `pull`) shows its run: a progress bar, one line per
source, what it dropped, and what to run after an interrupted run."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..acoustic import REASON_TEXT
from ..cut import CutPlan, SourceCut, cut
from ..models import Source
from ..status import Totals, totals
from ..words import counted, plural, shown
from ..workspace import Workspace
from .shared import _minutes, _trouble, named, out


def _print_drops(console: Console, result: SourceCut) -> None:
    """The passages of one source the VAD heard as speech but no clip kept: the seconds and
    meaning of each reason once, then each passage with its reason's name."""
    if not result.drops:
        console.print("          nothing dropped", highlight=False)
        return
    seconds: dict[str, float] = {}
    for start, end, reason in result.drops:
        seconds[reason] = seconds.get(reason, 0.0) + end - start
    order = sorted(seconds, key=lambda reason: -seconds[reason])
    console.print(
        f"          dropped: {', '.join(f'{seconds[r]:.1f} s {r}' for r in order)}", highlight=False
    )
    for reason in order:
        console.print(f"            {reason}: {REASON_TEXT[reason]}", highlight=False)
    for start, end, reason in result.drops:
        console.print(
            f"          {_clock(start)}–{_clock(end)}  {end - start:6.2f} s  {reason}", highlight=False
        )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes) // 60}:{int(minutes) % 60:02d}:{secs:04.1f}"


def _run_cut(
    ws: Workspace,
    ids: list[str],
    workers: int | None,
    explain: bool = False,
    run: CutRun | None = None,
    **kwargs: object,
) -> list[SourceCut]:
    """Cut with a progress bar (by minutes of audio, so a long source moves it too) and one
    line per source; `run`, when given, is kept up to date with the sources of the run not
    yet finished and the totals it began from (for its last lines)."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[minutes]}"),
        TimeRemainingColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )
    task = progress.add_task("cutting", total=None, minutes="")
    audio = [0.0]  # the seconds of audio of the run

    def advanced(seconds: float) -> None:
        seconds = min(seconds, audio[0])
        progress.update(task, completed=seconds, minutes=f"{seconds / 60:.1f} of {audio[0] / 60:.1f} min")

    def started(plan: CutPlan) -> None:
        if run is not None:
            run.planned, run.sources = True, [s.source_id for s in plan.todo]
            run.before = totals(ws)
        if plan.up_to_date and not ids:
            out.print(f"{counted(len(plan.up_to_date), 'source')} already cut with these settings")
        if not plan.todo:
            out.print("nothing to cut")
            if explain and plan.up_to_date:  # the cut that dropped them was an earlier one
                out.print(
                    "`accentds cut --explain --dry-run --force [SOURCE_ID...]` lists what the cut of "
                    "sources cut before drops, writing nothing"
                )
            return
        audio[0] = sum(s.duration for s in plan.todo)
        progress.update(
            task, total=audio[0] or None, description=f"cutting {counted(len(plan.todo), 'source')}"
        )
        advanced(0.0)

    def finished(source: Source, result: SourceCut) -> None:
        if run is not None and source.source_id in run.sources:
            run.sources.remove(source.source_id)
        name = shown(source.title or source.origin)
        label = named(name if len(name) <= 40 else name[:39] + "…")  # cut short, and says so
        if result.ok:
            verb = "would cut" if result.dry_run else "cut"
            progress.console.print(
                f"{verb:9} {source.source_id}  {len(result.clips):4d} {plural(len(result.clips), 'clip'):5}  "
                f"{_minutes(result.kept_s)} kept  {_minutes(result.dropped_s)} not kept  {label}",
                highlight=False,
            )
            if result.labels_moved:
                progress.console.print(
                    f"{'':9} {source.source_id}  labels of {counted(result.labels_moved, 'clip')} moved to the new "
                    "clips that match them",
                    highlight=False,
                )
        trouble = _trouble(progress)
        if not result.ok:
            trouble.print(f"[red]failed[/]    {source.source_id}  {named(result.reason)}  {label}")
        if result.warning:
            trouble.print(
                f"[yellow]warning[/]   {source.source_id}  {named(result.warning)}", highlight=False
            )
        if explain and result.audio_s:
            _print_drops(progress.console, result)

    def waiting(why: str) -> None:
        _trouble(progress).print(f"[yellow]waiting[/]   {escape(why)}")

    with progress:
        return cut(
            ws,
            ids,
            workers=workers,
            on_start=started,
            on_result=finished,
            on_wait=waiting,
            on_progress=advanced,
            **kwargs,  # type: ignore[arg-type]
        )


@dataclass
class CutRun:
    """What a cut run began from, for its last lines: the sources it has not finished yet (none
    before it has planned its work), and the corpus's totals when it began, holding the cut
    lock (a cut of another command that ended while this one waited or downloaded is not
    this one's)."""

    planned: bool = False
    sources: list[str] = field(default_factory=list)
    before: Totals | None = None


def _resume_line(source_ids: list[str], overrides: dict[str, object], force: bool, run: CutRun) -> str:
    """What to run to finish an interrupted cut: its settings as given (a plain `accentds cut`
    would cut with those of accentds.toml, undoing what the run finished), and after --force
    the sources it had not finished (they count as cut with these settings, so a rerun without
    --force leaves them, and one with --force alone re-cuts the finished ones too)."""
    words = ["accentds", "cut"]
    for flag, value in overrides.items():
        if isinstance(value, bool):
            words.append(f"--{flag}" if value else f"--no-{flag}")
        elif value is not None:
            words += [f"--{flag}", str(value)]
    if force and run.sources:
        todo = shlex.join([*words, "--force", *run.sources])
        return f"run `{todo}` to cut the {counted(len(run.sources), 'source')} it had not finished"
    if force and not run.planned:  # stopped before it began: the same run again
        words.append("--force")
    return f"run `{shlex.join([*words, *source_ids])}` again to resume"

"""Commands that show the corpus: status, report and export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .. import plots as plotting
from .. import render as rendering
from .. import report as reporting
from ..corpus_history import growth_by_day, history_to_now, render_days
from ..errors import AccentdsError
from ..manifest import EXPORT_FORMATS, export, export_format, refuse_kept
from ..publishable import describe
from ..status import Status, status
from ..words import counted, minutes_text, plural
from .shared import WorkspaceOpt, _minutes, _orphan_line, _release_minutes, _workspace, app, err, named, out


@app.command("status")
def status_cmd(
    sources: Annotated[bool, typer.Option("--sources", help="Also list every source.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Sources, clips and minutes at each stage, progress to the target in publishable minutes,
    the releases and what changed since the newest one, and what to run next.

    Example:

    \b
      accentds status --sources
    """
    ws = _workspace(workspace)
    st = status(ws)
    out.print(f"[bold]{named(st.name)}[/] at {named(ws.root)}")
    out.print(
        f"sources: {st.sources} pulled ({_minutes(st.pulled_s)}), {st.sources_cut} cut"
        + (f", {st.sources_stale} cut with other settings" if st.sources_stale else "")
        + (f", {st.sources_no_speech} with no speech" if st.sources_no_speech else "")
    )
    table = Table(box=None, pad_edge=False)
    table.add_column("stage")
    table.add_column("clips", justify="right")
    table.add_column("minutes", justify="right")
    table.add_row("pulled audio", "", f"{st.pulled_s / 60:.1f}")
    table.add_row("cut", str(st.clips), f"{st.cut_s / 60:.1f}")
    for label, (count, seconds) in (
        ("pending review", st.pending),
        ("accepted", st.accepted),
        ("rejected", st.rejected),
    ):
        table.add_row(label, str(count), f"{seconds / 60:.1f}")
    table.add_row("publishable", str(st.publishable[0]), f"{st.publishable[1] / 60:.1f}")
    out.print(table)
    out.print(
        f"target: {st.publishable[1] / 60:.1f} of {st.target_minutes:g} publishable minutes ({st.progress:.1%})"
    )
    if st.held_back:
        held = sum(h.seconds for h in st.held_back)
        out.print(f"not publishable: {_minutes(held)} accepted ({escape(describe(st.held_back, 1))})")
    _releases_lines(st)
    if sources:
        listing = Table(box=None, pad_edge=False)
        known = ws.read_sources()
        # the ids are what `source set` and `cut` take: never shortened; a long title wraps
        listing.add_column(
            "source", no_wrap=True, min_width=max((len(s.source_id) for s in known), default=6)
        )
        for column in ("pulled min", "clips", "clip min"):
            listing.add_column(column, justify="right", no_wrap=True)
        listing.add_column("title / origin", overflow="fold")
        cuts = ws.read_cuts()
        clips = ws.read_clip_table(columns=["source_id", "duration"])
        per_source = {  # what the clips hold, as the `cut` line counts it
            row["source_id"]: (row["duration_count"], row["duration_sum"])
            for row in clips.group_by("source_id")
            .aggregate([("duration", "count"), ("duration", "sum")])
            .to_pylist()
        }
        for source in known:
            count, seconds = per_source.get(source.source_id, (0, 0.0))
            cut = source.source_id in cuts or count
            listing.add_row(
                source.source_id,
                f"{source.duration / 60:.1f}",
                str(count) if cut else "not cut",
                f"{seconds / 60:.1f}" if cut else "",
                named(source.title or source.origin),
            )
        out.print(listing)
    _orphan_line(ws)
    for warning in st.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    for step in st.next_steps:
        out.print(f"next: {escape(step)}")
    out.print(f"corpus: {counted(st.clips, 'clip')}, {_minutes(st.cut_s)}")


def _releases_lines(st: Status) -> None:
    """The releases, and what changed since the newest one."""
    if not st.releases:
        out.print("releases: none yet")
        return
    out.print("releases:")
    for r in st.releases:
        out.print(
            f"  {r.version}  {r.created_at[:10] or '?':10}  {r.clips} {plural(r.clips, 'clip'):5}  {_release_minutes(r.seconds)}"
        )
    since = st.since_release
    if since is None or since.error:
        return
    out.print(
        f"since {since.version}: {counted(since.accepted, 'clip')} accepted, {since.rejected} rejected, "
        f"{since.relabelled} relabelled; {minutes_text(since.new_seconds)} publishable not yet released"
        + (f"; {counted(since.recut, 'clip')} of {since.version} re-cut" if since.recut else "")
        + (
            f"; {counted(since.dropped, 'clip')} of {since.version} no longer publishable"
            if since.dropped
            else ""
        )
        + (f"; {counted(since.moved, 'split move')} not yet released" if since.moved else "")
    )


_NOT_WITH_HISTORY = {  # an option --history cannot honour, and what to run instead
    "status": "it shows every status's minutes each day; leave out --status, or leave out --history "
    "to break one stage down",
    "plots": "run `accentds report --plots DIR` without --history: its minutes-over-time plot shows the growth",
    "html": "run `accentds report --html FILE` without --history: its page shows the minutes over time",
}


def _refuse_with_history(**given: object) -> None:
    """One `Error:` line and exit code 2 (that of a misused option) for the first option given
    that --history cannot honour."""
    for name, value in given.items():
        if value is not None:
            err.print(
                f"[red]Error:[/] --{name} does not go with --history: {escape(_NOT_WITH_HISTORY[name])}"
            )
            raise typer.Exit(2)


@app.command("report")
def report_cmd(
    stage: Annotated[
        Optional[str],
        typer.Option(
            "--status", help="Stage to break down: pending, accepted (the default), rejected or all."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or markdown (on stdout).")] = "table",
    show_history: Annotated[
        bool,
        typer.Option(
            "--history", help="Show the minutes at the end of each day instead (with --since: from that day)."
        ),
    ] = False,
    since: Annotated[
        Optional[str],
        typer.Option(
            "--since",
            metavar="DATE",
            help="Only clips first cut (sources pulled) on or after YYYY-MM-DD; a re-cut keeps the day.",
        ),
    ] = None,
    plots: Annotated[
        Optional[Path], typer.Option("--plots", metavar="DIR", help="Also write the PNG plots here.")
    ] = None,
    html_file: Annotated[
        Optional[Path],
        typer.Option("--html", metavar="FILE", help="Also write one self-contained HTML page."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Minutes at each stage and progress in publishable minutes (to the target and to
    [report] region_targets); for one stage, minutes by accent region, speaker, source,
    licence and split, each with its publishable minutes and those that cannot be published
    and why, and warnings (a dominant speaker or source, thin accent regions, many minutes
    with one quality flag, duplicate groups with more than one clip).

    Examples:

    \b
      accentds report
      accentds report --status all --format markdown > REPORT.md
      accentds report --since 2024-05-01 --plots plots/ --html report.html
      accentds report --history
    """
    if show_history:
        _refuse_with_history(status=stage, plots=plots, html=html_file)
    stage = stage or "accepted"
    if stage not in reporting.REPORT_STATUSES:
        raise AccentdsError(
            f"unknown --status {stage!r}; give one of: {', '.join(reporting.REPORT_STATUSES)}"
        )
    if fmt not in ("table", "csv", "json", "markdown"):
        raise AccentdsError(f"unknown --format {fmt!r}; give table, csv, json or markdown")
    if plots is not None and plots.exists() and not plots.is_dir():  # refused before the report
        raise AccentdsError(f"--plots takes a folder (made if missing), and {plots} is a file")
    if html_file is not None and html_file.is_dir():
        raise AccentdsError(
            f"--html takes a file name, and {html_file} is a folder: give {html_file / 'report.html'}"
        )
    ws = _workspace(workspace)
    if plots is not None:
        refuse_kept(ws, plots, "the plots", "plots/")
    if html_file is not None:
        refuse_kept(ws, html_file, "the report")
    if show_history:
        reporting.check_since(since)
        every_day = growth_by_day(history_to_now(ws))
        days = [day for day in every_day if since is None or day["date"] >= since]
        if not days:
            note = "no history yet: each pull, cut, label and review adds a line to manifests/history.csv"
            if every_day:
                note = f"no history since {since} (the last day is {every_day[-1]['date']})"
            (out if fmt == "table" else err).print(note)
        if days or fmt != "table":
            sys.stdout.write(render_days(days, fmt))
        return
    thresholds = ws.config.report
    rep = reporting.report(
        ws,
        stage,
        since,
        max_share=thresholds.max_share,
        min_region_minutes=thresholds.min_region_minutes,
        max_flagged_share=thresholds.max_flagged_share,
    )
    if fmt == "table":
        width = out.width
        for table in rendering.rich_tables(rep):
            out.width = rendering.table_width(out, table)  # not narrower than its numbers
            out.print(table)
            out.width = width
    else:
        render = {"csv": rendering.to_csv, "json": rendering.to_json, "markdown": rendering.to_markdown}[fmt]
        text = render(rep)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if plots is not None:
        for path in plotting.write_plots(ws, rep, plots):
            err.print(f"wrote {named(path)}")
    if html_file is not None:
        plotting.write_html(ws, rep, html_file)
        err.print(f"wrote {named(html_file)}")


@app.command("export")
def export_cmd(
    fmt: Annotated[
        Optional[str],
        typer.Option(
            "--format", help=f"One of {', '.join(EXPORT_FORMATS)} (default: -o's suffix, else csv)."
        ),
    ] = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="File to write (default: manifest.FORMAT here).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the joined manifest (every clip with duration, provenance and labels) anywhere.

    Example:

    \b
      accentds export --format jsonl -o corpus.jsonl
    """
    ws = _workspace(workspace)
    fmt = export_format(fmt, output)
    target = output or Path(f"manifest.{fmt}")
    rows = export(ws, fmt, target)
    out.print(f"wrote {counted(rows, 'clip')} to {named(target)}")

"""The `accentds` command: thin wrappers over the library. Only this module prints or exits."""

from __future__ import annotations

import errno
import io
import os
import sys
import traceback
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from . import plots as plotting
from . import render as rendering
from . import report as reporting
from .acoustic import REASON_TEXT
from .bounds import BoundsEdit, set_bounds, split_clip
from .cut import CutPlan, SourceCut, cut, default_workers
from .errors import AccentdsError
from .labels import (
    Change,
    export_labels,
    history,
    import_labels,
    list_labels,
    orphans,
    rename_speaker,
    set_labels,
    set_source_defaults,
    set_source_licence,
    undo,
    validate,
)
from .manifest import EXPORT_FORMATS, export
from .models import Source
from .publishable import describe
from .pull import PullResult, expand_items, pull
from .status import Status, Totals, status, totals
from .views import QUALITY_FLAGS, refresh_manifest
from .workspace import ENV_VAR, Workspace, init_workspace

app = typer.Typer(
    help="Curate a speech corpus of accented English cut from videos.\n\n"
    "Typical evening: `accentds pull URL_OR_FILE ...` (pulls and cuts), then `accentds status`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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
    _opened.append(ws)
    return ws


def _finish() -> None:
    """After a command: the views it made stale are rewritten, and anything a view's state
    should tell the user is told."""
    for ws in _opened:
        ws.notices.clear()  # told as things stand now, not as the command found them
        refresh_manifest(ws)
        for notice in ws.notices:
            err.print(f"[yellow]Warning:[/] {escape(notice)}")
    _opened.clear()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _corpus_line(before: Totals, after: Totals) -> None:
    delta = after.seconds - before.seconds
    out.print(f"corpus: {after.clips} clips, {_minutes(after.seconds)} ({delta / 60:+.1f} min)")


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


def _print_drops(console: Console, result: SourceCut) -> None:
    """The passages of one source the VAD heard as speech but no clip kept, with the reason."""
    if not result.drops:
        console.print("          nothing dropped", highlight=False)
        return
    seconds: dict[str, float] = {}
    for start, end, reason in result.drops:
        seconds[reason] = seconds.get(reason, 0.0) + end - start
    summary = ", ".join(f"{s:.1f} s {reason}" for reason, s in sorted(seconds.items(), key=lambda x: -x[1]))
    console.print(f"          dropped: {summary}", highlight=False)
    for start, end, reason in result.drops:
        console.print(
            f"          {_clock(start)}–{_clock(end)}  {end - start:5.1f} s  {REASON_TEXT[reason]}",
            highlight=False,
        )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes) // 60}:{int(minutes) % 60:02d}:{secs:04.1f}"


def _run_cut(
    ws: Workspace, ids: list[str], workers: int | None, explain: bool = False, **kwargs: object
) -> list[SourceCut]:
    """Cut with a progress bar (by seconds of audio) and one line per source."""
    progress = _progress()
    task = progress.add_task("cutting", total=None)

    def started(plan: CutPlan) -> None:
        if plan.up_to_date and not ids:
            out.print(f"{len(plan.up_to_date)} source(s) already cut with these settings")
        if not plan.todo:
            out.print("nothing to cut")
            return
        progress.update(task, total=len(plan.todo), description=f"cutting {len(plan.todo)} source(s)")

    def finished(source: Source, result: SourceCut) -> None:
        progress.advance(task)
        label = escape(source.title or source.origin)[:40]
        if result.ok:
            verb = "would cut" if result.dry_run else "cut"
            progress.console.print(
                f"{verb:9} {source.source_id}  {len(result.clips):4d} clips  "
                f"{_minutes(result.kept_s)} kept  {_minutes(result.dropped_s)} dropped  {label}",
                highlight=False,
            )
        # on a terminal the bar's console prints above the bar; elsewhere stderr stays stderr
        trouble = progress.console if progress.live.is_started else err
        if not result.ok:
            trouble.print(f"[red]failed[/]    {source.source_id}  {escape(result.reason)}  {label}")
        if result.warning:
            trouble.print(
                f"[yellow]warning[/]   {source.source_id}  {escape(result.warning)}", highlight=False
            )
        if explain and result.audio_s:
            _print_drops(progress.console, result)

    def waiting(why: str) -> None:
        err.print(f"[yellow]waiting[/]   {escape(why)}")

    with progress:
        return cut(ws, ids, workers=workers, on_start=started, on_result=finished, on_wait=waiting, **kwargs)  # type: ignore[arg-type]


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to make a workspace (created if missing).")] = Path(
        "."
    ),
    name: Annotated[Optional[str], typer.Option(help="Corpus name (default: the folder name).")] = None,
    target_minutes: Annotated[float, typer.Option(help="Minutes the corpus aims for.")] = 600.0,
) -> None:
    """Make a workspace: accentds.toml, raw/ clips/ manifests/ releases/ and a .gitignore.

    Example: accentds init ~/corpora/scottish --target-minutes 1200
    """
    ws, created = init_workspace(path, name, target_minutes)
    if created:
        out.print(f"workspace ready at {ws.root}: edit accentds.toml, then `accentds pull URL|FILE`")
    else:
        out.print(f"{ws.root} is already a workspace; added anything missing")


@app.command("pull")
def pull_cmd(
    sources: Annotated[Optional[list[str]], typer.Argument(help="URLs, media files or folders.")] = None,
    from_file: Annotated[
        Optional[Path], typer.Option("--from-file", "-f", help="Text file with one URL or path per line.")
    ] = None,
    licence: Annotated[
        str, typer.Option(help="Licence of these sources, e.g. CC-BY-4.0 (URLs default to the site's).")
    ] = "",
    no_cut: Annotated[
        bool, typer.Option("--no-cut", help="Only pull; cut later with `accentds cut`.")
    ] = False,
    speaker: Annotated[
        Optional[str], typer.Option(help="Speaker of these sources (a default for their clips).")
    ] = None,
    accent: Annotated[
        Optional[str], typer.Option(help="Accent region of these sources (see accentds.toml).")
    ] = None,
    timeout: Annotated[
        Optional[float],
        typer.Option(
            min=0.001, help="Seconds a URL may take; past it the URL fails (default: [pull] url_timeout_s)."
        ),
    ] = None,
    workers: WorkersOpt = None,
    ffmpeg: FfmpegOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Pull videos or audio into the workspace, then cut the new ones into clips.

    Examples:\n
      accentds pull https://www.youtube.com/watch?v=VIDEOID\n
      accentds pull ~/Videos/interviews/ talk.mp4 --licence CC-BY-4.0\n
      accentds pull --from-file tonight.txt --no-cut
    """
    ws = _workspace(workspace)
    if speaker is not None or accent is not None:  # refuse a bad value before any download
        validate(
            ws.config.labels, {k: v for k, v in (("speaker", speaker), ("accent", accent)) if v is not None}
        )
    before = totals(ws)
    failed = 0
    new_ids: list[str] = []

    def report(result: PullResult) -> None:
        nonlocal failed
        item = escape(result.item)
        if result.status == "pulled" and result.source:
            new_ids.append(result.source.source_id)
            out.print(f"pulled    {result.source.source_id}  {_minutes(result.source.duration)}  {item}")
            if result.note:
                err.print(f"[yellow]note[/]      {result.source.source_id}: {escape(result.note)}")
        elif result.status == "exists" and result.source:
            out.print(f"have      {result.source.source_id}  already pulled, nothing to do  {item}")
        else:
            failed += 1
            err.print(f"[red]failed[/]    {item}: {escape(result.reason)}")

    if licence:
        from .licences import OTHER, check

        licence = check(licence)
        if licence == OTHER:
            raise AccentdsError(
                "pull with an SPDX licence; for `other`, pull without --licence and then run "
                '`accentds source set ID --licence other --licence-name "..." --licence-url https://...`'
            )
    items = expand_items(sources or [], from_file)
    progress = _progress()
    task = progress.add_task(f"pulling {len(items)} item(s)", total=len(items))

    def reported(result: PullResult) -> None:
        progress.advance(task)
        report(result)

    try:
        with progress:
            results = pull(ws, items, None, licence, ffmpeg, workers or default_workers(), reported, timeout)
    except KeyboardInterrupt:
        err.print("interrupted: what was pulled is saved; run the same pull again to go on")
        _corpus_line(before, totals(ws))
        _record_history(ws, "pull")
        raise typer.Exit(130) from None
    if speaker is not None or accent is not None:
        for result in results:
            if result.source and result.status in ("pulled", "exists"):
                set_source_defaults(ws, result.source.source_id, speaker=speaker, accent=accent)
    cut_already = ws.read_cuts()  # an interrupted pull's sources are cut by the next one
    uncut = [r.source.source_id for r in results if r.source and r.source.source_id not in cut_already]
    uncut = list(dict.fromkeys(uncut))
    if uncut and not no_cut:
        cut_results = _run_cut(ws, uncut, workers, ffmpeg=ffmpeg, only_stale=True)
        failed += sum(1 for r in cut_results if not r.ok)
    _corpus_line(before, totals(ws))
    if new_ids:  # something changed
        _record_history(ws, "pull")
    if failed:
        err.print(f"{failed} of {len(results)} source(s) failed; the others are in the corpus")
        raise typer.Exit(1)


@app.command("cut")
def cut_cmd(
    source_ids: Annotated[
        Optional[list[str]],
        typer.Argument(help="Sources to cut (default: every source not yet cut with the current settings)."),
    ] = None,
    aggressiveness: Annotated[
        Optional[int], typer.Option(min=0, max=3, help="webrtcvad aggressiveness 0-3.")
    ] = None,
    frame_ms: Annotated[Optional[int], typer.Option(help="VAD frame length: 10, 20 or 30 ms.")] = None,
    padding_ms: Annotated[Optional[int], typer.Option(min=0, help="Audio kept around speech.")] = None,
    merge_gap_ms: Annotated[
        Optional[int], typer.Option(min=0, help="Pauses shorter than this stay inside a clip.")
    ] = None,
    min_clip: Annotated[
        Optional[float], typer.Option(min=0, help="Drop clips shorter than this (s).")
    ] = None,
    max_clip: Annotated[
        Optional[float],
        typer.Option(min=0.1, help="Split speech longer than this (s) at its quietest pause."),
    ] = None,
    backend: Annotated[
        Optional[str],
        typer.Option(
            help="webrtc+silero (webrtcvad confirmed by Silero VAD), webrtc (no neural model) or silero."
        ),
    ] = None,
    confirm_threshold: Annotated[
        Optional[float],
        typer.Option(min=0, max=1, help="Drop webrtcvad speech Silero gives less than this (default 0.25)."),
    ] = None,
    music_noise_check: Annotated[
        Optional[bool],
        typer.Option(
            "--music-noise-check/--no-music-noise-check",
            help="The hand-made acoustic check: drop steady tones, flat spectra, background (off by default).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-cut even sources already cut with these settings.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run the VAD and show what would be cut; write nothing.")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="List every passage the VAD heard as speech but no clip kept, and why."
        ),
    ] = False,
    workers: WorkersOpt = None,
    ffmpeg: FfmpegOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Cut pulled sources into speech clips and record them in the manifest.

    webrtcvad finds speech and Silero VAD confirms it: what webrtcvad heard that Silero
    does not back (music, hum, traffic, knocks) is dropped, clips Silero only half
    believes are kept and flagged `unconfirmed`; the rest is cut into clips at pauses.
    Re-cutting with other settings replaces a source's clips: each labelled clip's labels
    move to the new clip overlapping it most (at least half of it); labels that find no
    clip are kept as orphans (`accentds labels orphans`), and a source whose new cut would
    orphan accepted clips keeps its old clips unless --force. One cut runs at a time per
    workspace: a second waits. Settings come from accentds.toml [vad]; options override them.

    Examples:\n
      accentds cut\n
      accentds cut file-3fa9c2d1e0ab --aggressiveness 3 --max-clip 12\n
      accentds cut --dry-run --explain\n
      accentds cut --force --backend webrtc   # no neural model
    """
    ws = _workspace(workspace)
    vad = ws.config.vad.with_overrides(
        aggressiveness=aggressiveness,
        frame_ms=frame_ms,
        padding_ms=padding_ms,
        merge_gap_ms=merge_gap_ms,
        min_clip_s=min_clip,
        max_clip_s=max_clip,
        backend=backend,
        confirm_threshold=confirm_threshold,
        music_noise_check=music_noise_check,
    )
    before = totals(ws)
    try:
        results = _run_cut(
            ws, source_ids or [], workers, explain, vad=vad, force=force, dry_run=dry_run, ffmpeg=ffmpeg
        )
    except KeyboardInterrupt:
        err.print("interrupted: finished sources are saved; run `accentds cut` again to resume")
        _corpus_line(before, totals(ws))
        _record_history(ws, "cut")
        raise typer.Exit(130) from None
    if dry_run:
        clips = sum(len(r.clips) for r in results)
        seconds = sum(r.kept_s for r in results)
        out.print(f"dry run: would make {clips} clips, {_minutes(seconds)}; nothing written")
    else:
        _corpus_line(before, totals(ws))
        if results:
            _record_history(ws, "cut")
            _orphan_line(ws)
    if any(not r.ok for r in results):
        raise typer.Exit(1)


@app.command("doctor")
def doctor_cmd(workspace: WorkspaceOpt = None) -> None:
    """Check every manifest against the clip files and rebuild what can be rebuilt.

    Cuts off a torn last line of the label journal, rebuilds clips.parquet from the clip
    files when it is damaged, marks sources whose clip files are gone for re-cutting,
    deletes files no row names, and rewrites the joined manifest, labels.csv and
    duplicates.csv. Waits for a running cut to finish first.

    Example: accentds doctor
    """
    from .doctor import doctor

    ws = Workspace.find(workspace or (_given_workspace[-1] if _given_workspace else None))
    found = doctor(ws)
    for line in found.fine:
        out.print(f"ok      {escape(line)}")
    for line in found.fixed:
        out.print(f"[green]fixed[/]   {escape(line)}")
    for line in found.problems:
        err.print(f"[red]problem[/] {escape(line)}")
    if found.problems:
        raise typer.Exit(1)


@app.command("status")
def status_cmd(
    sources: Annotated[bool, typer.Option("--sources", help="Also list every source.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Sources, clips and minutes at each stage, progress to the target in publishable minutes,
    the releases and what changed since the newest one, and what to run next.

    Example: accentds status --sources
    """
    ws = _workspace(workspace)
    st = status(ws)
    out.print(f"[bold]{escape(st.name)}[/] at {ws.root}")
    out.print(
        f"sources: {st.sources} pulled ({_minutes(st.pulled_s)}), {st.sources_cut} cut"
        + (f", {st.sources_stale} with older settings" if st.sources_stale else "")
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
        for column in ("source", "minutes", "clips", "title / origin"):
            listing.add_column(column)
        cuts = ws.read_cuts()
        for source in ws.read_sources():
            record = cuts.get(source.source_id)
            listing.add_row(
                source.source_id,
                f"{source.duration / 60:.1f}",
                str(record.clips) if record else "not cut",
                escape(source.title or source.origin),
            )
        out.print(listing)
    _orphan_line(ws)
    for step in st.next_steps:
        out.print(f"next: {escape(step)}")
    out.print(f"corpus: {st.clips} clips, {_minutes(st.cut_s)}")


def _releases_lines(st: Status) -> None:
    """The releases, and what changed since the newest one."""
    if not st.releases:
        out.print("releases: none yet")
        return
    out.print("releases:")
    for r in st.releases:
        out.print(f"  {r.version}  {r.created_at[:10] or '?':10}  {r.clips} clips  {_minutes(r.seconds)}")
    since = st.since_release
    if since is None or since.error:
        return
    out.print(
        f"since {since.version}: {since.accepted} clip(s) accepted, {since.rejected} rejected, "
        f"{since.relabelled} relabelled; {_minutes(since.new_seconds)} publishable not yet released"
        + (f"; {since.dropped} clip(s) of {since.version} no longer publishable" if since.dropped else "")
    )


def _record_history(ws: Workspace, command: str) -> None:
    """Add a line of totals by status to manifests/history.csv; a failure only warns."""
    try:
        reporting.append_history(ws, command)
    except (OSError, ValueError, AccentdsError) as exc:
        err.print(f"[yellow]note[/] history.csv not updated: {escape(str(exc))}")


@app.command("report")
def report_cmd(
    stage: Annotated[
        str, typer.Option("--status", help="Stage to break down: pending, accepted, rejected or all.")
    ] = "accepted",
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or markdown (on stdout).")] = "table",
    show_history: Annotated[
        bool, typer.Option("--history", help="Show the minutes at the end of each day instead.")
    ] = False,
    since: Annotated[
        Optional[str],
        typer.Option(
            "--since", metavar="DATE", help="Only clips cut (sources pulled) on or after YYYY-MM-DD."
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

    Examples:\n
      accentds report\n
      accentds report --status all --format markdown > REPORT.md\n
      accentds report --since 2024-05-01 --plots plots/ --html report.html\n
      accentds report --history
    """
    if stage not in reporting.REPORT_STATUSES:
        raise AccentdsError(
            f"unknown --status {stage!r}; give one of: {', '.join(reporting.REPORT_STATUSES)}"
        )
    if fmt not in ("table", "csv", "json", "markdown"):
        raise AccentdsError(f"unknown --format {fmt!r}; give table, csv, json or markdown")
    ws = _workspace(workspace)
    if show_history:
        days = reporting.growth_by_day(reporting.history(ws))
        if not days:
            out.print("no history yet: each pull, cut, label and review adds a line to manifests/history.csv")
        for day in days:
            out.print(
                f"{day['date']}  accepted {day['accepted_minutes']:.1f} min "
                f"({day['delta_accepted_minutes']:+.1f})  pending {day['pending_minutes']:.1f}  "
                f"rejected {day['rejected_minutes']:.1f}  total {day['total_minutes']:.1f}"
            )
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
        for table in rendering.rich_tables(rep):
            out.print(table)
    else:
        render = {"csv": rendering.to_csv, "json": rendering.to_json, "markdown": rendering.to_markdown}[fmt]
        text = render(rep)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if plots is not None:
        for path in plotting.write_plots(ws, rep, plots):
            err.print(f"wrote {escape(str(path))}")
    if html_file is not None:
        plotting.write_html(ws, rep, html_file)
        err.print(f"wrote {escape(str(html_file))}")


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")] = "csv",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="File to write (default: manifest.FORMAT here).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the joined manifest (every clip with duration, provenance and labels) anywhere.

    Example: accentds export --format jsonl -o corpus.jsonl
    """
    ws = _workspace(workspace)
    target = output or Path(f"manifest.{fmt}")
    rows = export(ws, fmt, target)
    out.print(f"wrote {rows} clips to {target}")


@app.command("review")
def review_cmd(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; one other than 127.0.0.1 needs --allow-remote."),
    ] = "127.0.0.1",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a --host others reach (0.0.0.0, ::, a network address): whoever has the "
            "printed address, token included, can edit labels.",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port (default: a free one).")
    ] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the address.")] = False,
    reviewer: Annotated[
        str, typer.Option(help="Your name in the label history (default: $ACCENTDS_REVIEWER, else $USER).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Listen to clips and label them from the keyboard in the browser.

    Space plays, A accepts, X rejects, J/K move; the page lists every shortcut.

    Examples:\n
      accentds review\n
      accentds review --port 8765 --no-browser --reviewer ann\n
      accentds review --host 0.0.0.0 --allow-remote --no-browser
    """
    from .review import serve  # the web stack loads only for this command
    from .review.app import is_loopback

    def listening(address: str) -> None:
        out.print(f"listening on {escape(address)}")
        if not is_loopback(host):
            err.print(
                "[yellow]Warning:[/] the page is served without encryption: whoever has its "
                "address below (token included) can read the clips and edit the labels"
            )

    ws = _workspace(workspace)
    try:
        serve(
            ws,
            host=host,
            port=port,
            open_browser=not no_browser,
            reviewer=reviewer,
            on_ready=lambda url: out.print(f"review page: {escape(url)}  (Ctrl-C to stop)"),
            allow_remote=allow_remote,
            on_listen=listening,
        )
    finally:
        _record_history(ws, "review")


@app.command("publish")
def publish_cmd(
    version: Annotated[str, typer.Argument(help="Semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0.")],
    include_unlicensed: Annotated[
        bool,
        typer.Option(
            "--include-unlicensed", help="Also publish sources whose licence is not allowed in accentds.toml."
        ),
    ] = False,
    to_hub: Annotated[
        Optional[str],
        typer.Option("--to-hub", help="Push the release to this Hugging Face dataset repo (ORG/NAME)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --to-hub: print the plan, contact nothing.")
    ] = False,
    private: Annotated[
        bool, typer.Option("--private", help="With --to-hub: create the repo private.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Publish despite a check that fails; each is recorded in the card."),
    ] = False,
    fmt: Annotated[
        Optional[str],
        typer.Option("--format", help="Also write the release as nemo or audiofolder (with --output)."),
    ] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Folder for --format.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Freeze the accepted clips as releases/VERSION/ (Parquet shards + dataset card), then
    optionally push it to the Hub or write it in another training format.

    A published version never changes: publishing it again is refused. --to-hub and
    --format work on an existing release.

    Examples:\n
      accentds publish 1.0.0\n
      accentds publish 1.0.0 --to-hub my-org/scottish-english --dry-run\n
      accentds publish 1.0.0 --format nemo --output ~/nemo/scottish-1.0.0
    """
    from .formats import write_format
    from .hub import plan_push, push, render_plan
    from .publish import publish

    ws = _workspace(workspace)
    if fmt is not None and output is None:
        raise AccentdsError("--format needs --output DIR")
    if dry_run and to_hub is None:
        raise AccentdsError("--dry-run goes with --to-hub")
    folder = ws.releases / version
    if not folder.exists():
        if dry_run:
            raise AccentdsError(f"release {version} is not built yet: run `accentds publish {version}` first")
        release = publish(ws, version, include_unlicensed=include_unlicensed, force=force)
        for warning in release.warnings:
            err.print(f"[yellow]Warning:[/] {escape(warning)}")
        for name, stats in release.splits.items():
            if stats.clips:
                out.print(
                    f"{name:10} {stats.clips:5} clips  {_minutes(stats.seconds)}  {len(stats.files)} file(s)"
                )
        for item in release.left_out:
            out.print(
                f"left out   {item.kind} {escape(item.value)}: {escape(item.reason)} ({item.clips} clips)"
            )
        out.print(
            f"published {release.version}: {release.clips} clips, {_minutes(release.seconds)} in {release.path}"
        )
    elif to_hub is None and fmt is None:
        publish(ws, version)  # refused: a published version is immutable
    if fmt is not None and output is not None:
        written = write_format(fmt, folder, output)
        out.print(f"wrote release {version} as {fmt} to {written}")
    if to_hub is not None:
        if dry_run:
            out.print(escape(render_plan(plan_push(folder, to_hub, version))))
            out.print("dry run: nothing contacted")
            return
        result = push(folder, to_hub, version, private=private, force=force)
        out.print(f"pushed {version} to {result.url} (commit {result.commit_oid}, tag {result.tag})")


@app.command("verify")
def verify_cmd(
    version: Annotated[str, typer.Argument(help="A published version.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Check every file of a release against its release.json.

    Example: accentds verify 1.0.0
    """
    from .releases import verify

    problems = verify(_workspace(workspace), version)
    for problem in problems:
        err.print(escape(problem))
    if problems:
        raise AccentdsError(
            f"release {version} has {len(problems)} problem(s); restore it from a copy, or publish a new version"
        )
    out.print(f"release {version}: every file matches release.json")


@app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="The earlier version.")],
    new: Annotated[str, typer.Argument(help="The later version.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Clips added, removed and relabelled between two releases, and the minutes per split and accent.

    Example: accentds diff 1.0.0 1.1.0
    """
    from .changes import diff, render_diff

    out.print(escape(render_diff(diff(_workspace(workspace), old, new))))


@app.command("deny")
def deny_cmd(
    kind: Annotated[str, typer.Argument(help="source or speaker")],
    value: Annotated[str, typer.Argument(help="A source id or a speaker name.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why; recorded in every later release.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Keep a source or speaker out of every later release (a takedown).

    Example: accentds deny speaker "Morag MacLeod" --reason "asked to be removed"
    """
    from .selection import deny

    row = deny(_workspace(workspace), kind, value, reason)
    out.print(f"denied {row['kind']} {escape(repr(row['value']))}: {escape(row['reason'])}")


labels_app = typer.Typer(
    help="List, export, import, show the history of and undo labels.", no_args_is_help=True
)
source_app = typer.Typer(help="Defaults that apply to every clip of a source.", no_args_is_help=True)
speakers_app = typer.Typer(help="Rename or merge speakers.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")
app.add_typer(source_app, name="source")
splits_app = typer.Typer(help="Move a published speaker or source to another split.", no_args_is_help=True)
app.add_typer(speakers_app, name="speakers")
app.add_typer(splits_app, name="splits")


def _print_changes(changes: list[Change], verb: str = "set") -> None:
    for change in changes:
        out.print(
            f"{verb:6} {change.clip_id}  {change.field}: {escape(repr(change.old))} -> {escape(repr(change.new))}"
        )
    out.print(f"{len(changes)} change(s) on {len({c.clip_id for c in changes})} clip(s)")


@app.command("label")
def label_cmd(
    clip_ids: Annotated[list[str], typer.Argument(help="Clips to label.")],
    transcript: Annotated[Optional[str], typer.Option(help="What is said.")] = None,
    speaker: Annotated[Optional[str], typer.Option(help="Who speaks.")] = None,
    accent: Annotated[
        Optional[str], typer.Option(help="Accent region (accentds.toml [labels] accents).")
    ] = None,
    evidence: Annotated[
        Optional[str], typer.Option(help="Accent evidence: self-described, reviewer-judged, from the source.")
    ] = None,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the clips.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject the clips.")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="Put the clips back to pending.")] = False,
    note: Annotated[Optional[str], typer.Option(help="A note for other reviewers.")] = None,
    reviewer: Annotated[
        str, typer.Option(help="Your name in the history (default: $ACCENTDS_REVIEWER or $USER).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Set labels of one or more clips. A value outside the schema is refused with the allowed ones.

    Examples:\n
      accentds label file-3fa9c2d1e0ab-00000480-00004980 --transcript "Aye, it's dreich" --accept\n
      accentds label CLIP1 CLIP2 --speaker Morag --accent Glasgow --evidence self-described
    """
    if accept + reject + pending > 1:
        raise AccentdsError("give only one of --accept, --reject, --pending")
    status = "accepted" if accept else "rejected" if reject else "pending" if pending else None
    given = {
        "transcript": transcript, "speaker": speaker, "accent": accent,
        "accent_evidence": evidence, "status": status, "note": note,
    }  # fmt: skip
    values = {k: v for k, v in given.items() if v is not None}
    if not values:
        raise AccentdsError(
            "nothing to set: give --transcript, --speaker, --accent, --evidence, --note or --accept/--reject"
        )
    ws = _workspace(workspace)
    changes = set_labels(ws, clip_ids, values, reviewer)
    _print_changes(changes)
    if changes:
        _record_history(ws, "label")


@labels_app.command("list")
def labels_list_cmd(
    status: Annotated[Optional[str], typer.Option(help="pending, accepted or rejected.")] = None,
    source: Annotated[Optional[str], typer.Option(help="A source id.")] = None,
    accent: Annotated[Optional[str], typer.Option(help="An accent region.")] = None,
    speaker: Annotated[Optional[str], typer.Option(help="A speaker.")] = None,
    flag: Annotated[Optional[str], typer.Option(help=f"A quality flag: {', '.join(QUALITY_FLAGS)}.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List clips with their labels.

    Examples:\n
      accentds labels list --status pending --source file-3fa9c2d1e0ab\n
      accentds labels list --flag unconfirmed   # clips Silero VAD was not sure held speech
    """
    ws = _workspace(workspace)
    if status is not None:
        validate(ws.config.labels, {"status": status})
    if flag is not None and flag not in QUALITY_FLAGS:
        raise AccentdsError(f"unknown quality flag {flag!r}; use one of: {', '.join(QUALITY_FLAGS)}")
    rows = list_labels(ws, status, source, accent, speaker, flag)
    for row in rows:
        draft = " (draft)" if row["transcript_is_draft"] else ""
        out.print(
            f"{row['clip_id']}  {row['duration']:5.1f}s  {row['status']:8}  {escape(row['speaker'] or '-')}"
            f"  {escape(row['accent'] or '-')}  {escape(row['transcript'])}{draft}"
        )
    out.print(f"{len(rows)} clip(s), {_minutes(sum(r['duration'] for r in rows))}")


@labels_app.command("export")
def labels_export_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write every clip's labels to a CSV file to edit in a spreadsheet.

    Example: accentds labels export labels.csv
    """
    rows = export_labels(_workspace(workspace), file)
    out.print(f"wrote {rows} clips to {file}; edit it and run `accentds labels import {file}`")


@labels_app.command("import")
def labels_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file with a clip_id column and label columns.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes; write nothing.")] = False,
    reviewer: Annotated[str, typer.Option(help="Your name in the history.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Apply a spreadsheet of labels. The whole file is checked first; one bad row stops it all.

    Example: accentds labels import labels.csv --dry-run
    """
    ws = _workspace(workspace)
    changes = import_labels(
        ws, file, reviewer, dry_run, warn=lambda message: err.print(f"[yellow]Warning:[/] {escape(message)}")
    )
    _print_changes(changes, "would" if dry_run else "set")
    if dry_run:
        out.print("dry run: nothing written")
    elif changes:
        _record_history(ws, "labels import")


@labels_app.command("history")
def labels_history_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Show every change of a clip's labels.

    Example: accentds labels history file-3fa9c2d1e0ab-00000480-00004980
    """
    rows = history(_workspace(workspace), clip_id)
    if not rows:
        out.print(f"no changes recorded for {clip_id}")
    for row in rows:
        what = " (undo)" if row.get("undoes") else f"  ({row['why']})" if row.get("why") else ""
        out.print(
            f"{row['time']}  {escape(row['reviewer'] or '-')}  {row['field']}: "
            f"{escape(repr(row['old']))} -> {escape(repr(row['new']))}{escape(what)}"
        )


@labels_app.command("orphans")
def labels_orphans_cmd(workspace: WorkspaceOpt = None) -> None:
    """List labels whose clip no longer exists (a re-cut found no clip covering it).

    Their labels are kept in the journal: re-cut with the old settings to bring the clips
    back, or leave them. Example: accentds labels orphans
    """
    found = orphans(_workspace(workspace))
    if not found:
        out.print("no orphaned labels: every labelled clip exists")
    for cid, row in found.items():
        shown = ", ".join(f"{k}={row[k]!r}" for k in ("status", "transcript", "speaker", "accent") if row[k])
        out.print(f"{cid}  {escape(shown)}")


def _orphan_line(ws: Workspace) -> None:
    found = orphans(ws)
    if found:
        err.print(
            f"[yellow]note[/] {len(found)} labelled clip(s) no longer exist (their labels are kept): "
            "`accentds labels orphans` lists them"
        )


@labels_app.command("undo")
def labels_undo_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    reviewer: Annotated[str, typer.Option(help="Your name in the history.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Restore the values a clip had before its last edit.

    Example: accentds labels undo file-3fa9c2d1e0ab-00000480-00004980
    """
    ws = _workspace(workspace)
    changes = undo(ws, clip_id, reviewer)
    _print_changes(changes, "undo")
    if changes:
        _record_history(ws, "labels undo")


@source_app.command("set")
def source_set_cmd(
    source_id: Annotated[str, typer.Argument(help="The source.")],
    speaker: Annotated[Optional[str], typer.Option(help="Speaker of the whole source.")] = None,
    accent: Annotated[Optional[str], typer.Option(help="Accent region of the whole source.")] = None,
    evidence: Annotated[Optional[str], typer.Option(help="Accent evidence.")] = None,
    licence: Annotated[
        Optional[str], typer.Option(help="The source's licence: an SPDX id such as CC-BY-4.0, or other.")
    ] = None,
    author: Annotated[Optional[str], typer.Option(help="Who made the recording (for attribution).")] = None,
    title: Annotated[Optional[str], typer.Option(help="The work's title (for attribution).")] = None,
    url: Annotated[Optional[str], typer.Option(help="Where the work is published (for attribution).")] = None,
    licence_name: Annotated[Optional[str], typer.Option(help="With --licence other: its name.")] = None,
    licence_url: Annotated[
        Optional[str], typer.Option(help="With --licence other: its text's address.")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Set the speaker / accent all clips of a source have unless a clip says otherwise,
    the source's licence, or the credit its licence asks for.

    Examples:\n
      accentds source set yt-dQw4w9WgXcQ --speaker "Morag" --accent Glasgow --evidence self-described\n
      accentds source set file-3fa9c2d1e0ab --licence CC-BY-4.0 --author "Morag MacLeod" --title "Ferry talk"
    """
    from .licences import set_attribution

    credit = {
        "author": author,
        "title": title,
        "url": url,
        "licence_name": licence_name,
        "licence_url": licence_url,
    }
    labels = (speaker, accent, evidence)
    if all(v is None for v in (*labels, licence, *credit.values())):
        raise AccentdsError(
            "nothing to set: give --speaker, --accent, --evidence, --licence, --author, --title or --url"
        )
    ws = _workspace(workspace)
    if any(v is not None for v in credit.values()):
        row = set_attribution(ws, source_id, credit)
        shown = ", ".join(f"{k.replace('_', ' ')} {row[k]!r}" for k, v in credit.items() if v is not None)
        out.print(f"{source_id}: {escape(shown)}")
    if licence is not None:
        stored = set_source_licence(ws, source_id, licence)
        out.print(f"{source_id}: licence {escape(repr(stored))}")
    if all(v is None for v in labels):
        return
    row = set_source_defaults(ws, source_id, speaker, accent, evidence)
    out.print(
        f"{source_id}: speaker {escape(repr(row['speaker']))}, accent {escape(repr(row['accent']))}, "
        f"evidence {escape(repr(row['accent_evidence']))}"
    )


@splits_app.command("move")
def splits_move_cmd(
    kind: Annotated[str, typer.Argument(help="speaker or source")],
    value: Annotated[str, typer.Argument(help="A speaker's name or a source id.")],
    split: Annotated[str, typer.Argument(help="train, validation or test")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", "-r", help="Why; published in the next release's changelog, so name no one."
        ),
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Move a published speaker or source (and everything its clips join it to) to another split.

    Published splits never change otherwise. Example:
    accentds splits move speaker "Morag" train --reason "merged with a train speaker"
    """
    from .splits import move_split

    for node, old, new in move_split(_workspace(workspace), kind, value, split, reason):
        out.print(f"moved {escape(node)}: {old} -> {new}")
    out.print("the next release's changelog lists the move")


@speakers_app.command("rename")
def speakers_rename_cmd(
    old: Annotated[str, typer.Argument(help="Current name.")],
    new: Annotated[str, typer.Argument(help="New name; an existing name merges the two.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Rename a speaker on every clip and source, or merge two speakers into one.

    Example: accentds speakers rename "Morag M" "Morag MacLeod"
    """
    count = rename_speaker(_workspace(workspace), old, new)
    out.print(f"renamed {escape(old)!r} to {escape(new)!r} on {count} clip label(s) and source(s)")


# -- clip boundaries set by hand (accentds.bounds) ------------------------------------------
clip_app = typer.Typer(
    help="Fix a clip's boundaries by hand: re-cut it or split it in two.", no_args_is_help=True
)
app.add_typer(clip_app, name="clip")


def _waiting(why: str) -> None:
    err.print(f"[yellow]waiting[/]   {escape(why)}")


def _print_edit(edit: BoundsEdit) -> None:
    made = ", ".join(f"{c.clip_id} ({c.start:.3f}–{c.end:.3f} s)" for c in edit.clips)
    out.print(f"{edit.replaced} -> {made}")


@clip_app.command("bounds")
def clip_bounds_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    start: Annotated[float, typer.Option(help="New start, in seconds of the source.")],
    end: Annotated[float, typer.Option(help="New end, in seconds of the source.")],
    reviewer: Annotated[str, typer.Option(help="Your name in the history (default: $USER).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-cut a clip from its source with a new start and end; its labels move to the new clip,
    and later cuts keep it as set (manifests/bounds.csv).

    Example: accentds clip bounds file-3fa9c2d1e0ab-00000480-00004980 --start 0.36 --end 5.1
    """
    _print_edit(set_bounds(_workspace(workspace), clip_id, start, end, reviewer=reviewer, on_wait=_waiting))


@clip_app.command("split")
def clip_split_cmd(
    clip_id: Annotated[str, typer.Argument(help="The clip.")],
    at: Annotated[float, typer.Argument(help="Where to split, in seconds of the source.")],
    reviewer: Annotated[str, typer.Option(help="Your name in the history (default: $USER).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Split a clip in two; both halves keep its labels (an accepted clip's halves are pending again).

    Example: accentds clip split file-3fa9c2d1e0ab-00000480-00004980 2.75
    """
    _print_edit(split_clip(_workspace(workspace), clip_id, at, reviewer=reviewer, on_wait=_waiting))


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

    from .entry import exit_code_stands, handle_signals, interrupted

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


if __name__ == "__main__":
    main()

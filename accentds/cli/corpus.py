"""Commands that build the corpus: init, pull, cut and doctor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cut import SourceCut
from ..cut_run import default_workers
from ..errors import AccentdsError
from ..labels import validate
from ..pull import PullResult, expand_items, own_folders, pull
from ..status import totals
from ..words import counted
from ..workspace import Workspace, init_workspace
from .cutting import CutRun, _resume_line, _run_cut
from .pull_again import defaults_of_pulled, licence_pulled_before
from .shared import (
    FfmpegOpt,
    WorkersOpt,
    WorkspaceOpt,
    _corpus_line,
    _given_workspace,
    _minutes,
    _orphan_line,
    _progress,
    _record_history,
    _trouble,
    _workspace,
    app,
    err,
    named,
    out,
)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to make a workspace (created if missing).")] = Path(
        "."
    ),
    name: Annotated[Optional[str], typer.Option(help="Corpus name (default: the folder name).")] = None,
    target_minutes: Annotated[float, typer.Option(help="Minutes the corpus aims for.")] = 600.0,
) -> None:
    """Make a workspace: accentds.toml, raw/ clips/ manifests/ releases/ and a .gitignore.

    Example:

    \b
      accentds init ~/corpora/scottish --target-minutes 1200
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
        Optional[Path],
        typer.Option(
            "--from-file",
            "-f",
            help="Text file with one URL or path per line (relative paths from the current folder); # starts a comment.",
        ),
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

    Examples:

    \b
      accentds pull https://www.youtube.com/watch?v=VIDEOID
      accentds pull ~/Videos/interviews/ talk.mp4 --licence CC-BY-4.0
      accentds pull --from-file tonight.txt --no-cut
    """
    ws = _workspace(workspace)
    if speaker is not None or accent is not None:  # refuse a bad value before any download
        validate(
            ws.config.labels, {k: v for k, v in (("speaker", speaker), ("accent", accent)) if v is not None}
        )
    before = totals(ws)
    known = {s.source_id for s in ws.read_sources()}
    failed = 0
    new_ids: list[str] = []
    restored: list[str] = []

    def report(result: PullResult) -> None:
        nonlocal failed
        item = named(result.item)
        trouble = _trouble(progress)
        if result.status == "pulled" and result.source:
            new_ids.append(result.source.source_id)
            out.print(f"pulled    {result.source.source_id}  {_minutes(result.source.duration)}  {item}")
            if result.note:
                trouble.print(f"[yellow]note[/]      {result.source.source_id}: {named(result.note)}")
        elif result.status == "exists" and result.source:
            todo = "" if licence or speaker is not None or accent is not None else ", nothing to do"
            if result.source.source_id not in known:  # two copies of one file in this pull
                todo = ", the same file as another in this pull"
            elif result.source.source_id not in ws.read_cuts():  # the cut comes below, or later
                todo = ", not cut yet (`accentds cut` cuts it)" if no_cut else ", not cut yet"
            if result.note:
                todo = f"; {named(result.note)}"
            out.print(f"have      {result.source.source_id}  already pulled{todo}  {item}")
        elif result.status == "restored" and result.source:
            restored.append(result.source.source_id)
            out.print(
                f"restored  {result.source.source_id}  its media was missing from raw/: put back  {item}"
            )
        else:
            failed += 1
            trouble.print(f"[red]failed[/]    {item}: {named(result.reason)}")

    if licence:
        from ..licences import OTHER, check

        licence = check(licence)
        if licence == OTHER:
            raise AccentdsError(
                "pull with an SPDX licence; for `other`, pull without --licence and then run "
                '`accentds source set ID --licence other --licence-name "..." --licence-url https://...`'
            )
    items = expand_items(sources or [], from_file, own_folders(ws))
    progress = _progress()
    task = progress.add_task(f"pulling {counted(len(items), 'item')}", total=len(items))

    def reported(result: PullResult) -> None:
        progress.advance(task)
        report(result)

    cut_results: list[SourceCut] = []
    run = CutRun()  # its totals when the cut began: another command's cut is not this pull's
    try:
        with progress:
            results = pull(ws, items, None, licence, ffmpeg, workers or default_workers(), reported, timeout)
        if speaker is not None or accent is not None:
            defaults_of_pulled(ws, results, known, speaker, accent)
        pulled_here = {r.source.source_id for r in results if r.source and r.status in ("exists", "restored")}
        if restored or _clip_files_missing(ws, pulled_here):
            # their clips' files (gone with the media in a clone, or left by an interrupted
            # restore) cut again as they were
            _remake_clips(ws)
        if licence:
            licence_pulled_before(ws, results, licence)
        cut_already = ws.read_cuts()  # an interrupted pull's sources are cut by the next one
        uncut = [r.source.source_id for r in results if r.source and r.source.source_id not in cut_already]
        uncut = list(dict.fromkeys(uncut))
        if uncut and not no_cut:
            cut_results = _run_cut(ws, uncut, workers, run=run, ffmpeg=ffmpeg, only_stale=True)
            failed += sum(1 for r in cut_results if not r.ok)
    except KeyboardInterrupt:
        # while pulling or while cutting: the history holds the sources and clips saved so far
        err.print("interrupted: what was pulled is saved; run the same pull again to go on")
        _corpus_line(run.before or before, totals(ws))
        _record_history(ws, "pull")
        raise typer.Exit(130) from None
    _corpus_line(run.before or before, totals(ws))
    if new_ids or cut_results or restored:  # new sources, or clips cut (also those an interrupted pull left)
        _record_history(ws, "pull")
    if failed:
        if failed < len(results):
            err.print(f"{failed} of {counted(len(results), 'source')} failed; the others are in the corpus")
        else:
            err.print("the source failed" if failed == 1 else f"all {failed} sources failed")
        raise typer.Exit(1)


def _clip_files_missing(ws: Workspace, source_ids: set[str]) -> bool:
    """Whether a clip of these sources has no file while its source's media is here."""
    if not source_ids:
        return False
    media = {s.source_id: ws.abs(s.media) for s in ws.read_sources() if s.source_id in source_ids}
    rows = ws.read_clip_table(columns=["source_id", "path"]).to_pylist()
    return any(
        r["source_id"] in media and media[r["source_id"]].is_file() and not ws.abs(r["path"]).is_file()
        for r in rows
    )


def _remake_clips(ws: Workspace) -> None:
    """Cut the clip files that are gone again from their sources' media, rows and labels as
    they are (what `accentds doctor` does for them)."""
    from ..doctor import remake_missing

    with ws.cut_lock(), ws.lock():
        made = remake_missing(ws)
    if made:
        out.print(
            f"remade    {counted(made, 'clip file')} from their sources' media (same start, end and labels)"
        )


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
    move to the new clip that is the same stretch of speech give or take its edges; labels
    of a clip that is gone, split or joined with others are kept as orphans (`accentds
    labels orphans`), and a source whose new cut would orphan accepted clips keeps its old
    clips unless --force. One cut runs at a time per
    workspace: a second waits. Settings come from accentds.toml [vad]; options override them.

    Examples:

    \b
      accentds cut
      accentds cut file-3fa9c2d1e0ab --aggressiveness 3 --max-clip 12
      accentds cut --dry-run --explain
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
    run = CutRun()
    try:
        results = _run_cut(
            ws, source_ids or [], workers, explain, run, vad=vad, force=force, dry_run=dry_run, ffmpeg=ffmpeg
        )
    except KeyboardInterrupt:
        if dry_run:
            err.print("interrupted: a dry run, nothing was written")
            raise typer.Exit(130) from None
        overrides = {
            "aggressiveness": aggressiveness,
            "frame-ms": frame_ms,
            "padding-ms": padding_ms,
            "merge-gap-ms": merge_gap_ms,
            "min-clip": min_clip,
            "max-clip": max_clip,
            "backend": backend,
            "confirm-threshold": confirm_threshold,
            "music-noise-check": music_noise_check,
        }
        err.print(
            f"interrupted: finished sources are saved; {_resume_line(source_ids or [], overrides, force, run)}"
        )
        _corpus_line(run.before or before, totals(ws))
        _record_history(ws, "cut")
        raise typer.Exit(130) from None
    if dry_run:
        clips = sum(len(r.clips) for r in results)
        seconds = sum(r.kept_s for r in results)
        out.print(f"dry run: would make {counted(clips, 'clip')}, {_minutes(seconds)}; nothing written")
    else:
        _corpus_line(run.before or before, totals(ws))
        if results:
            _record_history(ws, "cut")
            _orphan_line(ws)
    if any(not r.ok for r in results):
        raise typer.Exit(1)


@app.command("doctor")
def doctor_cmd(workspace: WorkspaceOpt = None) -> None:
    """Check every manifest against the clip files and rebuild what can be rebuilt.

    Cuts off a torn last line of the label journal, rebuilds clips.parquet from the clip
    files when it is damaged, cuts a clip whose file is gone again from its source,
    deletes files no row names, and rewrites the joined manifest, labels.csv and
    duplicates.csv. Waits for a running cut to finish first.

    Example:

    \b
      accentds doctor
    """
    from ..doctor import doctor

    ws = Workspace.find(workspace or (_given_workspace[-1] if _given_workspace else None))
    found = doctor(ws)
    for line in found.fine:
        out.print(f"ok      {named(line)}")
    for line in found.fixed:
        out.print(f"[green]fixed[/]   {named(line)}")
    for line in found.problems:
        err.print(f"[red]problem[/] {named(line)}")
    if found.problems:
        raise typer.Exit(1)

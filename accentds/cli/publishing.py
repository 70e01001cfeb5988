"""Commands that review and release the corpus: review, publish, verify, diff and deny."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape

from ..errors import AccentdsError
from ..words import counted, plural
from .shared import WorkspaceOpt, _record_history, _release_minutes, _workspace, app, err, named, out

if TYPE_CHECKING:
    from ..releases import Release
    from ..workspace import Workspace


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
        int,
        typer.Option(
            "--port", "-p", min=0, max=65535, help="Port (default: a free one).", show_default=False
        ),
    ] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the address.")] = False,
    reviewer: Annotated[
        str, typer.Option(help="Your name in the label history (default: $ACCENTDS_REVIEWER, else $USER).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Listen to clips and label them from the keyboard in the browser.

    Space plays, A accepts, X rejects, J/K move; the page lists every shortcut.

    Examples:

    \b
      accentds review
      accentds review --port 8765 --no-browser --reviewer ann
      accentds review --host 0.0.0.0 --allow-remote --no-browser
    """
    from ..review import serve  # the web stack loads only for this command
    from ..review.guard import is_loopback

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
        bool,
        typer.Option(
            "--dry-run",
            help="Build the release to show its splits, what is left out and the warnings, and keep "
            "nothing; with --to-hub: print the push plan, contact nothing.",
        ),
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

    Examples:

    \b
      accentds publish 1.0.0 --dry-run   # the splits and warnings first
      accentds publish 1.0.0
      accentds publish 1.0.0 --to-hub my-org/scottish-english --dry-run
      accentds publish 1.0.0 --format nemo --output ~/nemo/scottish-1.0.0
    """
    from ..formats import check_output, write_format
    from ..hub import check_can_push, plan_push, push, render_plan
    from ..publish import publish

    ws = _workspace(workspace)
    if fmt is not None and output is None:
        raise AccentdsError("--format needs --output DIR")
    if output is not None:
        _refuse_kept_folder(ws, output.expanduser().resolve())
    if fmt is not None and output is not None:
        check_output(output, fmt)  # a bad format or a full folder stops the export before a release is built
    if to_hub is not None and not dry_run:
        check_can_push(to_hub)  # a bad name or no token stops the push before a release is built
    folder = ws.releases / version
    preview = dry_run and to_hub is None
    if not folder.exists() or preview:
        if dry_run and not preview:
            raise AccentdsError(f"release {version} is not built yet: run `accentds publish {version}` first")
        release = publish(ws, version, include_unlicensed=include_unlicensed, force=force, preview=preview)
        from ..label_merges import merged_edit_warnings

        told = [
            *_speaker_case_warnings(ws),
            *merged_edit_warnings(ws.journal()),
            *_uncompared(ws, release, preview),
        ]
        for warning in [*release.warnings, *told]:
            err.print(f"[yellow]Warning:[/] {escape(warning)}")
        for name, stats in release.splits.items():
            if stats.clips:
                out.print(
                    f"{name:10} {stats.clips:5} {plural(stats.clips, 'clip'):5}  {_release_minutes(stats.seconds)}  "
                    f"{counted(len(stats.files), 'file')}"
                )
        for item in release.left_out:
            out.print(
                f"left out   {item.kind} {escape(item.value)}: {escape(item.described())} ({counted(item.clips, 'clip')})"
            )
        if preview:
            out.print(
                f"dry run: {release.version} would hold {counted(release.clips, 'clip')}, {_release_minutes(release.seconds)}; nothing kept"
            )
            return
        out.print(
            f"published {release.version}: {counted(release.clips, 'clip')}, {_release_minutes(release.seconds)} in {release.path}"
        )
    else:
        from ..release_inputs import record_missed

        if record_missed(ws, version):  # the same publish again, after a stop
            out.print(
                f"published {version}: it was built before the stop and is now recorded in "
                "manifests/releases.csv (its splits in manifests/splits.csv)"
            )
        elif to_hub is None and fmt is None:
            publish(ws, version)  # refused: a published version is immutable
        _refuse_taken_down(
            ws, version, "pushing it to the Hub" if to_hub else f"writing it as {fmt}", force or dry_run
        )
    if fmt is not None and output is not None:
        written = write_format(fmt, folder, output)
        out.print(f"wrote release {version} as {fmt} to {named(written)}")
    if to_hub is not None:
        if dry_run:
            out.print(escape(render_plan(plan_push(folder, to_hub, version))))
            out.print("dry run: nothing contacted")
            return
        result = push(folder, to_hub, version, private=private, force=force)
        out.print(f"pushed {version} to {result.url} (commit {result.commit_oid}, tag {result.tag})")


def _refuse_kept_folder(ws: Workspace, target: Path) -> None:
    """An export is refused inside the folders accentds keeps: releases/ reads every folder as
    a published version, git tracks manifests/ (the audio would be committed with the labels),
    and clips/ and raw/ hold the clips and the media the cut writes and sweeps."""
    kept = {
        ws.releases: "which holds only published versions (a folder there is read as one)",
        ws.manifests: "which git tracks: the release's audio would be committed with the manifests",
        ws.clips: "which holds the clips accentds cuts",
        ws.raw: "which holds the media accentds pulls",
    }
    for folder, why in kept.items():
        if target.is_relative_to(folder.resolve()):
            raise AccentdsError(f"{target} is inside {folder}, {why}: choose a folder outside it")


def _refuse_taken_down(ws: Workspace, version: str, doing: str, only_warn: bool) -> None:
    """A release published before a `deny` holds what was taken down since: it stays as it is,
    but is not handed out again (exported, pushed) unless --force says so."""
    from ..denied_since import denied_in_release

    clips = denied_in_release(ws, ws.releases / version)
    if not clips:
        return
    said = (
        f"release {version} holds {counted(len(clips), 'clip')} of a speaker or source put on the deny list "
        f"after it was published: {doing} would hand out again what was taken down"
    )
    if only_warn:
        err.print(f"[yellow]Warning:[/] {escape(said)}")
        return
    raise AccentdsError(
        f"{said}; publish a new version (it leaves them out) and use that one, or pass --force"
    )


def _uncompared(ws: Workspace, release: Release, preview: bool) -> list[str]:
    """The release before it is not here (releases/ is not tracked: a clone), so its changelog
    cannot list the clips added, removed, re-cut or relabelled since: said before, not only in
    the card."""
    previous = release.previous
    if not previous or (ws.releases / previous).is_dir():
        return []
    where = f"releases/{previous}/ is not in this workspace (releases/ is not tracked: a clone?)"
    if preview:
        return [
            f"{where}, so the changelog of {release.version} would not list what changed since {previous}: "
            f"copy releases/{previous}/ here from where it was published before you publish"
        ]
    return [
        f"{where}, so the changelog of {release.version} does not list what changed since {previous}; "
        f"`accentds diff {previous} {release.version}` lists it where both folders are"
    ]


def _speaker_case_warnings(ws: Workspace) -> list[str]:
    """Accepted clips' speaker names that differ only in case: published as two speakers, maybe
    in two splits, until renamed into one. Shown here only: the card never names speakers."""
    import pyarrow.compute as pc

    from ..status import case_warnings
    from ..views import build_manifest

    manifest = build_manifest(ws)
    return case_warnings(manifest.filter(pc.equal(manifest["status"], "accepted"))["speaker"])


@app.command("verify")
def verify_cmd(
    version: Annotated[str, typer.Argument(help="A published version.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Check every file of a release against its release.json.

    Example:

    \b
      accentds verify 1.0.0
    """
    from ..releases import verify, verify_advice

    ws = _workspace(workspace)
    problems = verify(ws, version)
    for problem in problems:
        err.print(escape(problem))
    if problems:
        raise AccentdsError(
            f"release {version} has {counted(len(problems), 'problem')}: {verify_advice(ws, version, problems)}"
        )
    out.print(f"release {version}: every file matches release.json")


@app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="The earlier version.")],
    new: Annotated[str, typer.Argument(help="The later version.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Clips added, removed and relabelled between two releases, and the minutes per split and accent.

    Example:

    \b
      accentds diff 1.0.0 1.1.0
    """
    from ..changes import diff, render_diff

    out.print(escape(render_diff(diff(_workspace(workspace), old, new), markdown=False)))


@app.command("deny")
def deny_cmd(
    kind: Annotated[str, typer.Argument(help="source or speaker")],
    value: Annotated[str, typer.Argument(help="A source id or a speaker name.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why; kept in deny.csv, never published.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Keep a source or speaker out of every later release (a takedown).

    Example:

    \b
      accentds deny speaker "Morag MacLeod" --reason "asked to be removed"
    """
    from ..selection import deny

    ws = _workspace(workspace)
    row = deny(ws, kind, value, reason)
    out.print(f"denied {row['kind']} {escape(repr(row['value']))}: {escape(row['reason'])}")
    _record_history(ws, "deny")

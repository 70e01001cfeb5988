"""Commands that set labels: label, and the labels, source, speakers and splits groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..errors import AccentdsError
from ..label_sheets import export_labels, import_labels
from ..label_undo import undo, undo_last_import
from ..labels import (
    Change,
    history,
    list_labels,
    orphans,
    rename_speaker,
    set_labels,
    set_source_defaults,
    set_source_licence,
    validate,
)
from ..privacy import speaker_key
from ..selection import read_deny
from ..views import QUALITY_FLAGS
from ..words import counted
from .shared import WorkspaceOpt, _minutes, _record_history, _workspace, app, err, named, out

labels_app = typer.Typer(
    help="List, export, import, show the history of and undo labels.", no_args_is_help=True
)
source_app = typer.Typer(help="Defaults that apply to every clip of a source.", no_args_is_help=True)
speakers_app = typer.Typer(help="Rename or merge speakers.", no_args_is_help=True)
splits_app = typer.Typer(help="Move a published speaker or source to another split.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")
app.add_typer(source_app, name="source")
app.add_typer(speakers_app, name="speakers")
app.add_typer(splits_app, name="splits")


def _print_changes(changes: list[Change], verb: str = "set") -> None:
    for change in changes:
        old, new = change.old, change.new
        if change.field == "status":  # no status set is pending, as the views show it
            old, new = old or "pending", new or "pending"
        out.print(f"{verb:6} {change.clip_id}  {change.field}: {escape(repr(old))} -> {escape(repr(new))}")
    out.print(f"{counted(len(changes), 'change')} on {counted(len({c.clip_id for c in changes}), 'clip')}")


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

    Examples:

    \b
      accentds label file-3fa9c2d1e0ab-00000480-00004980 --transcript "Aye, it's dreich" --accept
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

    Examples:

    \b
      accentds labels list --status pending --source file-3fa9c2d1e0ab
      accentds labels list --flag unconfirmed   # clips Silero VAD was not sure held speech
    """
    ws = _workspace(workspace)
    if status is not None:
        validate(ws.config.labels, {"status": status})
    if flag is not None and flag not in QUALITY_FLAGS:
        raise AccentdsError(f"unknown quality flag {flag!r}; use one of: {', '.join(QUALITY_FLAGS)}")
    rows = list_labels(ws, status, source, accent, speaker, flag)
    # columns line up, so a speaker or accent of several words reads as one
    wide = {k: max((len(r[k] or "-") for r in rows), default=1) for k in ("clip_id", "speaker", "accent")}
    for row in rows:
        draft = " (draft)" if row["transcript_is_draft"] else ""
        line = (
            f"{row['clip_id']:{wide['clip_id']}}  {row['duration']:5.1f}s  {row['status']:8}  "
            f"{row['speaker'] or '-':{wide['speaker']}}  {row['accent'] or '-':{wide['accent']}}  "
            f"{row['transcript']}{draft}"
        )
        out.print(escape(line.rstrip()))
    out.print(f"{counted(len(rows), 'clip')}, {_minutes(sum(r['duration'] for r in rows))}")


@labels_app.command("export")
def labels_export_cmd(
    file: Annotated[
        Optional[Path],
        typer.Argument(help="CSV file to write (the older spelling of -o).", show_default=False),
    ] = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="CSV file to write.", show_default=False)
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write every clip's labels to a CSV file to edit in a spreadsheet.

    Example:

    \b
      accentds labels export -o labels.csv
    """
    if file is not None and output is not None and file != output:
        raise AccentdsError(f"two files to write, {file} and {output}: give one, with -o")
    file = output or file
    if file is None:
        raise AccentdsError("give the CSV file to write: accentds labels export -o labels.csv")
    rows = export_labels(_workspace(workspace), file)
    out.print(
        f"wrote {counted(rows, 'clip')} to {named(file)}; edit it and run `accentds labels import {named(file)}`"
    )


@labels_app.command("import")
def labels_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file with a clip_id column and label columns.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes; write nothing.")] = False,
    reviewer: Annotated[str, typer.Option(help="Your name in the history.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Apply a spreadsheet of labels. The whole file is checked first; one bad row stops it all.

    Example:

    \b
      accentds labels import labels.csv --dry-run
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

    Example:

    \b
      accentds labels history file-3fa9c2d1e0ab-00000480-00004980
    """
    rows = history(_workspace(workspace), clip_id)
    if not rows:
        out.print(f"no changes recorded for {clip_id}")
    for row in rows:
        what = " (undo)" if row.get("undoes") else f"  ({row['why']})" if row.get("why") else ""
        # a clip never given a status is pending, as `label` and `labels list` show it
        old, new = (v or "pending" if row["field"] == "status" else v for v in (row["old"], row["new"]))
        out.print(
            f"{row['time']}  {escape(row['reviewer'] or '-')}  {row['field']}: "
            f"{escape(repr(old))} -> {escape(repr(new))}{escape(what)}"
        )


@labels_app.command("orphans")
def labels_orphans_cmd(workspace: WorkspaceOpt = None) -> None:
    """List labels whose clip no longer exists (a re-cut found no clip covering it).

    Their labels are kept in the journal: re-cut with the old settings to bring the clips
    back, or leave them.

    Example:

    \b
      accentds labels orphans
    """
    found = orphans(_workspace(workspace))
    if not found:
        out.print("no orphaned labels: every labelled clip exists")
    for cid, row in found.items():
        shown = ", ".join(f"{k}={row[k]!r}" for k in ("status", "transcript", "speaker", "accent") if row[k])
        out.print(f"{cid}  {escape(shown)}")


@labels_app.command("undo")
def labels_undo_cmd(
    clip_id: Annotated[Optional[str], typer.Argument(help="The clip.")] = None,
    last_import: Annotated[
        bool, typer.Option("--last-import", help="Undo the newest `labels import`, every clip it changed.")
    ] = False,
    reviewer: Annotated[str, typer.Option(help="Your name in the history.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Restore the values a clip had before its last edit, or undo a whole import.

    Examples:

    \b
      accentds labels undo file-3fa9c2d1e0ab-00000480-00004980
      accentds labels undo --last-import
    """
    if (clip_id is None) == (not last_import):
        raise AccentdsError("give a clip id or --last-import (one of them)")
    ws = _workspace(workspace)
    changes = undo_last_import(ws, reviewer) if last_import else undo(ws, str(clip_id), reviewer)
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

    Examples:

    \b
      accentds source set yt-dQw4w9WgXcQ --speaker "Morag" --accent Glasgow --evidence self-described
      accentds source set file-3fa9c2d1e0ab --licence CC-BY-4.0 --author "Morag MacLeod" --title "Ferry talk"
    """
    from ..licences import set_attribution

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
    if any(v is not None for v in labels):
        row = set_source_defaults(ws, source_id, speaker, accent, evidence)
        out.print(
            f"{source_id}: speaker {escape(repr(row['speaker']))}, accent {escape(repr(row['accent']))}, "
            f"evidence {escape(repr(row['accent_evidence']))}"
        )
    _record_history(ws, "source set")  # labels, licence and credit decide what is publishable


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

    Published splits never change otherwise.

    Example:

    \b
      accentds splits move speaker "Morag" train --reason "merged with a train speaker"
    """
    from ..privacy import speaker_key
    from ..selection import read_deny
    from ..splits import move_split

    ws = _workspace(workspace)
    for node, old, new in move_split(ws, kind, value, split, reason):
        out.print(f"moved {escape(node)}: {old} -> {new}")
    denied = {
        (d["kind"], speaker_key(d["value"]) if d["kind"] == "speaker" else d["value"]) for d in read_deny(ws)
    }
    named = (kind.strip().lower(), speaker_key(value) if kind.strip().lower() == "speaker" else value.strip())
    if named in denied:
        out.print(f"no release lists the move: the {named[0]} is on the deny list, so no release holds them")
    else:
        out.print("the next release's changelog lists the move")


@speakers_app.command("rename")
def speakers_rename_cmd(
    old: Annotated[str, typer.Argument(help="Current name.")],
    new: Annotated[str, typer.Argument(help="New name; an existing name merges the two.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Rename a speaker on every clip and source, or merge two speakers into one.

    Example:

    \b
      accentds speakers rename "Morag M" "Morag MacLeod"
    """
    ws = _workspace(workspace)
    count = rename_speaker(ws, old, new)
    out.print(f"renamed {escape(old)!r} to {escape(new)!r} on {count} clip label(s) and source(s)")
    if count:
        _record_history(ws, "speakers rename")
    name = " ".join(new.split())
    for row in read_deny(ws):
        if row["kind"] == "speaker" and speaker_key(row["value"]) == speaker_key(name):
            why = escape(row.get("reason") or "no reason given")
            out.print(f"{escape(name)!r} is on the deny list ({why}): their clips stay out of every release")

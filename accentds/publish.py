"""Releases: immutable, versioned dataset folders built from accepted clips.

`publish` writes `releases/<version>/` laid out as the Hugging Face Hub expects:

```
releases/1.2.0/
  README.md                              dataset card (YAML header + summary)
  release.json                           what went in, how, and the sha256 of every file
  data/train-00000-of-00001.parquet      audio embedded as WAV bytes, one row per clip
  data/validation-00000-of-00001.parquet
  data/test-00000-of-00001.parquet
```

so `datasets.load_dataset("releases/1.2.0")` (or the folder pushed to the Hub) gives an
`Audio` column plus the labels. A release is built in a temporary folder beside the others
and renamed into place at the end, so a crash never leaves half a release; once there it is
never rewritten (`verify` checks it). Rows are sorted by clip id and written with fixed
Parquet settings and no timestamps, so rebuilding a version from the same manifests gives
byte-identical Parquet files.

Which clips go in (accentds/selection.py), their splits (accentds/splits.py), the shards
(accentds/shards.py), the card (accentds/card.py), reading releases back
(accentds/releases.py) and comparing them (accentds/changes.py) each have their module."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .card import Build, card, seconds_of
from .changes import (
    changelog,
    compare_with,
    diff,
    nothing_new,
    recredited,
    release_rows,
    render_diff,
    same_data_as_recorded,
)
from .checks import (
    credited_speakers,
    duplicate_checks,
    evaluation_checks,
    rate_checks,
    schema_checks,
    transcript_checks,
)
from .errors import AccentdsError
from .files import now_iso, sha256_file
from .licences import OTHER, Credit, attribution_warnings, card_licence, combine, credits
from .markup import release_minutes
from .privacy import publisher, salt, speaker_id, speaker_key
from .release_inputs import (
    BUILDING_PREFIX,
    read_workspace,
    refuse_changed_meanwhile,
    refuse_existing,
    snapshot,
)
from .release_inputs import memory as read_memory
from .release_record import (
    copies_of_taken_down,
    denied_rows,
    left_out_entry,
    record_json,
    taken_down,
    vad_settings,
)
from .releases import (
    CARD,
    RELEASE_JSON,
    Release,
    list_releases,
    load_release,
    parse_version,
    previous_version,
    record_release,
    refuse_old_version,
    refuse_published_meanwhile,
    verify,
)
from .selection import LeftOut, deny, select_clips
from .shards import check_clip_files, fsync, write_split
from .splits import (
    SPLITS,
    Placement,
    group_name,
    pending_moves,
    place,
    record_placement,
    split_node,
)
from .workspace import Workspace

__all__ = ["deny", "diff", "list_releases", "load_release", "publish", "render_diff", "verify"]

MB = 1024 * 1024  # the unit of [publish] max_shard_mb


def _refuse_empty(version: str, rows: Sequence[Mapping[str, Any]], left_out: Sequence[LeftOut]) -> None:
    accepted = sum(1 for r in rows if r["status"] == "accepted")
    if not accepted:
        raise AccentdsError(
            f"nothing to publish in {version}: no clip is accepted yet; accept clips with "
            "`accentds review` or `accentds label CLIP_ID --accept`"
        )
    reasons = "; ".join(f"{i.kind} {i.value}: {i.described()}" for i in left_out if i.clips)
    licences = {r["source_id"]: r.get("licence") for r in rows}
    unknown = sorted(
        i.value for i in left_out if i.cause == "licence" and i.clips and not licences.get(i.value)
    )
    record = (
        f"record a source's licence with `accentds source set {unknown[0]} --licence CC-BY-4.0` "
        "(as its owner grants it), "
        if unknown
        else ""
    )
    raise AccentdsError(
        f"nothing to publish in {version}: all {accepted} accepted clips were left out ({reasons}); "
        f"{record}add their licence to [publish] allowed_licences in accentds.toml (or pass "
        "--include-unlicensed if you may publish them anyway), or accept other clips"
    )


def _write_data(
    workspace: Workspace, folder: Path, rows: list[dict[str, Any]], rate: int
) -> dict[str, dict[str, Any]]:
    """Write every split's shards into the build folder; returns each split's figures."""
    max_bytes = workspace.config.publish.max_shard_mb * MB
    info: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        members = [r for r in rows if r["split"] == split]
        names, nbytes = (
            write_split(workspace, folder, split, members, rate, max_bytes) if members else ([], 0)
        )
        seconds = seconds_of(members)
        info[split] = {
            "clips": len(members),
            "seconds": round(seconds, 3),
            "minutes": release_minutes(seconds),
            "groups": len({group_name(r) for r in members}),
            "files": names,
            "num_bytes": nbytes,
            "download_size": sum((folder / n).stat().st_size for n in names),
        }
    return info


def _previous_card(workspace: Workspace, previous: str | None) -> str:
    """The dataset card of the previous release ("" if it cannot be read)."""
    try:
        return (workspace.releases / str(previous) / CARD).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _previous_rows(workspace: Workspace, previous: str | None) -> dict[str, dict[str, Any]]:
    """The clips of the previous release (empty if its folder is not here or cannot be read)."""
    if not previous or not (workspace.releases / previous).is_dir():
        return {}
    try:
        return release_rows(workspace.releases / previous)
    except AccentdsError:
        return {}


def _refuse_conflicts(placement: Placement, force: bool, public: Callable[[str], str]) -> list[str]:
    """Groups joined across splits: refused, or with `force` one warning for each (naming
    speakers as the release does)."""
    if not placement.conflicts:
        return []

    def label(node: str) -> str:
        kind, value = split_node(node)
        return f"{kind} {public(value) if kind == 'speaker' else value}"

    described = [c.describe() for c in placement.conflicts]
    if not force:
        listed = "; ".join(described[:5]) + (f"; and {len(described) - 5} more" if len(described) > 5 else "")
        raise AccentdsError(
            f"{len(described)} group(s) of clips would straddle splits: {listed}. Publishing them would put one "
            "voice or recording in two splits, or move published clips between splits. Undo the label change "
            "that joined them, or move them into one split with `accentds splits move KIND NAME SPLIT --reason "
            '"..."`, or publish with --force to put each group in the split holding most of its minutes'
        )
    return [f"--force: {c.describe(label)}; all of them are now in {c.chosen}" for c in placement.conflicts]


def _attribution_checks(workspace: Workspace, credit: Mapping[str, Credit], force: bool) -> list[str]:
    """Sources whose licence asks for a credit the workspace cannot give: refused, or with
    `force` a warning each. Also a warning for the retired `[publish] license` setting."""
    problems = []
    for c in credit.values():
        if c.licence == OTHER and not (c.licence_name and c.licence_url):
            problems.append(
                f"source {c.source_id} has the licence `other` without its name and link: run `accentds source "
                f'set {c.source_id} --licence-name "..." --licence-url https://...`'
            )
        elif c.needs_attribution and not c.complete:
            problems.append(
                f"source {c.source_id} is {c.licence}, which requires attribution, but has no {c.missing} to credit: "
                f'run `accentds source set {c.source_id} --author "..." --title "..." --url https://...`'
            )
    if problems and not force:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise AccentdsError(
            "; ".join(problems[:3]) + more + "; or publish with --force to publish without it"
        )
    warnings = [f"--force: {p}" for p in problems]
    if workspace.config.publish.license.strip():
        warnings.append(
            "[publish] license in accentds.toml is not used: the card's licence comes from the clips' licences; "
            "remove the setting"
        )
    return warnings


def publish(
    workspace: Workspace,
    version: str,
    *,
    include_unlicensed: bool = False,
    force: bool = False,
    now: str | None = None,
    preview: bool = False,
) -> Release:
    """Build releases/<version>/ from the accepted clips: Parquet shards per split, the
    dataset card and release.json, and record it in the tracked manifests (the version, and
    the split of every new speaker and source in manifests/splits.csv). Refused if the
    version exists or nothing is left to publish. Sources whose licence is not in
    `[publish] allowed_licences` are left out unless `include_unlicensed`; sources and
    speakers on the deny list always are. A group of clips that would straddle splits is
    refused, or with `force` placed whole and recorded as a warning in the card.
    `now` sets the recorded creation time (default: the current time). With `preview` the
    release is built, checked and returned as it would be, and nothing of it is kept."""
    parse_version(version)
    config = workspace.config
    rate = config.vad.sample_rate
    write = not preview or workspace.can_write()  # a dry run of a read-only workspace writes nothing
    if write:
        workspace.releases.mkdir(parents=True, exist_ok=True)
    seen = {"deny": snapshot(workspace, "deny")}  # taken before they are read: a change in between is seen
    rows, denied = read_workspace(workspace, version, write)
    kept, left_out, unlicensed = select_clips(
        rows, denied, config.publish.allowed_licences, include_unlicensed
    )
    if not kept:
        _refuse_empty(version, rows, left_out)
    refuse_old_version(workspace, version)
    previous = previous_version(workspace, version)
    before = _previous_rows(workspace, previous)
    memory = read_memory(workspace, rows, write)
    seen["splits"] = snapshot(workspace, "splits")  # after `memory` completed it from release folders
    ratios = {
        "train": config.publish.train,
        "validation": config.publish.validation,
        "test": config.publish.test,
    }
    placement = place(kept, memory, ratios)
    public = publisher(workspace, {d["value"] for d in denied if d["kind"] == "speaker"})
    warnings = _refuse_conflicts(placement, force, public)
    credit = credits(workspace, {r["source_id"] for r in kept})
    licences = combine(c.licence for c in credit.values() if c.licence)
    warnings += _attribution_checks(workspace, credit, force)
    warnings += attribution_warnings(workspace)
    warnings += credited_speakers(workspace.config.publish.speaker_names, kept, credit)
    licence = card_licence(licences, credit, any(not c.licence for c in credit.values()))
    warnings += transcript_checks(kept, force)
    warnings += duplicate_checks(kept)
    warnings += copies_of_taken_down(rows, kept, denied, force)
    warnings += schema_checks(kept, config.labels, force)
    rate_checks(kept, workspace.read_cut_settings(), rate)
    nodes = memory | placement.nodes  # a speaker or source keeps its split even while it has no clips here
    gone = taken_down(rows, kept, denied, nodes)  # but one taken down leaves no trace in the release
    nodes = {node: split for node, split in nodes.items() if node not in gone}
    moves = [row for row in pending_moves(workspace) if f"{row['kind']}:{row['value']}" not in gone]
    kept.sort(key=lambda r: r["clip_id"])
    present = {row["speaker"] for row in kept}
    key = salt(workspace)

    def recorded(name: str) -> str:
        """A speaker without clips in this release (renamed, relabelled) is named by id only."""
        return public(name) if name in present else speaker_id(key, name)

    spelt: dict[str, set[str]] = defaultdict(set)  # how each speaker's name is spelt on their clips
    for row in rows:
        if row["speaker"]:
            spelt[speaker_key(row["speaker"])].add(row["speaker"])
    for row in kept:
        row["split"] = placement.split_of(row)
        row["speaker"] = public(row["speaker"])
    check_clip_files(workspace, kept)
    moves = [
        row | {"value": public(row["value"]) if row["kind"] == "speaker" else row["value"]} for row in moves
    ]

    created_at = now or now_iso()
    building = f"{BUILDING_PREFIX}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder = workspace.releases / building if write else Path(tempfile.mkdtemp(prefix=building))
    try:
        folder.mkdir(exist_ok=not write)
        build = Build(
            version,
            kept,
            {},
            left_out,
            unlicensed,
            vad_settings(kept, workspace.read_cut_settings()),
            rate,
            warnings=warnings,
        )
        build.credits, build.licence = credit, licence
        build.split_info = _write_data(workspace, folder, kept, rate)
        build.warnings += evaluation_checks(kept, ratios)
        compared = compare_with(previous, version, before, folder, workspace.journal().recut_moves)
        same = not before and same_data_as_recorded(workspace, previous, folder)
        credited = recredited(_previous_card(workspace, previous), card(workspace, build)) if before else []
        build.warnings += nothing_new(previous, compared, moves, force, same, credited)
        withheld = {r["clip_id"] for r in denied_rows(rows, denied)}
        build.changelog = changelog(compared, moves, withheld, credited)
        (folder / CARD).write_text(card(workspace, build), encoding="utf-8")
        fsync(folder / CARD)
        files = {
            path.relative_to(folder).as_posix(): {"sha256": sha256_file(path), "size": path.stat().st_size}
            for path in sorted(p for p in folder.rglob("*") if p.is_file())
        }
        record = record_json(
            workspace, build, created_at, previous, nodes, include_unlicensed, files, recorded
        )
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        (folder / RELEASE_JSON).write_text(text, encoding="utf-8")
        fsync(folder / RELEASE_JSON)
        if preview:  # the folder goes below
            return _with_left_out(load_release(workspace, version, record), left_out, public, spelt)
        for directory in (folder / "data", folder):
            fsync(directory)
        with workspace.lock():
            refuse_existing(workspace, version)
            refuse_published_meanwhile(workspace, version, previous)
            refuse_changed_meanwhile(workspace, version, seen)
            os.rename(folder, workspace.releases / version)
            fsync(workspace.releases)
            record_placement(workspace, placement, version, created_at)
            record_release(workspace, version, record, text)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    return _with_left_out(load_release(workspace, version), left_out, public, spelt)


def _with_left_out(
    release: Release, left_out: Sequence[LeftOut], public: Callable[[str], str], spelt: Mapping[str, set[str]]
) -> Release:
    """The release with everything left out of it, for the curator's terminal (release.json
    leaves out the speakers on the deny list): a denied speaker by the ids their clips had,
    whatever the case of the name on the deny list (`spelt`: each name's spellings)."""

    def ids(name: str) -> str:
        return ", ".join(sorted({public(n) for n in spelt.get(speaker_key(name), {name})}))

    entries = (left_out_entry(item, ids) for item in left_out)
    shown = (LeftOut(**{**e, "also": tuple(tuple(pair) for pair in e.get("also", []))}) for e in entries)
    return replace(release, left_out=tuple(shown))

"""Clip boundaries set by hand: re-cut one clip with a new start and end, or split it in
two, from the source audio, and keep those edits through later automatic cuts.

A hand edit writes the new clip file(s) (16-bit mono WAV at the workspace's rate, as `cut`
does), moves the old clip's labels to them in the label journal, replaces the clip's rows
in the manifests and only then deletes the old file: a crash at any point leaves every
manifest row with its file (the next cut sweeps files no row names).

Each edit is recorded in manifests/bounds.csv, so a later cut of the source keeps the
clips made by hand as they are (accentds.handcut).

Both halves of a split keep every label of the clip, its transcript included (the whole
transcript, to be cut down to each half); an accepted clip's halves are pending again,
since each half's transcript needs that check before it is published."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import AccentdsError
from .files import now_iso, read_csv, write_csv_atomic, write_parquet_atomic
from .handcut import (
    BOUNDS_NAME,
    SETTING_FIELDS,
    HandClip,
    exact_pcm,
    make_clip,
    ms,
    read_hand_clips,
    write_hand_clips,
)
from .journal import ClipLabels, fold, new_tx_id
from .media import BYTES_PER_SAMPLE, find_ffmpeg
from .models import Clip, Source
from .views import write_manifest
from .workspace import CLIP_SCHEMA, DRAFT_FIELDS, EDITABLE_FIELDS, FINGERPRINT_SCHEMA, Workspace

MIN_CLIP_S = 0.2  # a hand-made clip is at least this long


class UnknownClip(AccentdsError):
    """The clip named is not in clips.parquet (never was, or a cut replaced it)."""


class BoundsConflict(AccentdsError):
    """The clip's labels changed since the editor loaded it (`version` is theirs now)."""

    def __init__(self, clip_id: str, version: int) -> None:
        super().__init__(
            f"{clip_id} was changed elsewhere since it was loaded (now version {version}); "
            "reload it and make the edit again"
        )
        self.clip_id = clip_id
        self.version = version


@dataclass(frozen=True)
class BoundsEdit:
    """What a hand edit did: the clip it replaced and the clip(s) now in its place."""

    replaced: str
    clips: tuple[Clip, ...]

    @property
    def unchanged(self) -> bool:
        """Whether the bounds asked for were the clip's own, so nothing was cut or recorded (a
        clip's id holds its start and end to the millisecond)."""
        return len(self.clips) == 1 and self.clips[0].clip_id == self.replaced


def bounds_csv(workspace: Workspace) -> Path:
    return workspace.manifests / BOUNDS_NAME


# -- the edits ----------------------------------------------------------------------------
def set_bounds(
    workspace: Workspace,
    clip_id: str,
    start: float,
    end: float,
    expected_version: int | None = None,
    reviewer: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> BoundsEdit:
    """Re-cut one clip from its source with a new start and end (seconds in the source,
    rounded to the millisecond); its labels move to the new clip. With `expected_version`
    (the clip's label version the editor loaded) a clip changed since is refused
    (BoundsConflict). `on_wait` is told when a running cut makes this wait (it may raise)."""
    return edit_bounds(workspace, clip_id, start, end, None, expected_version, reviewer, on_wait)


def split_clip(
    workspace: Workspace,
    clip_id: str,
    at: float,
    expected_version: int | None = None,
    reviewer: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> BoundsEdit:
    """Split one clip in two at `at` seconds in the source; both halves keep its labels
    (an accepted clip's halves are pending again). See `set_bounds`."""
    table = workspace.read_clip_table(columns=["clip_id", "start", "end"])
    row = table.filter(pc.equal(table["clip_id"], clip_id)).to_pylist()
    if not row:
        raise _unknown(workspace, clip_id)
    return edit_bounds(
        workspace, clip_id, row[0]["start"], row[0]["end"], at, expected_version, reviewer, on_wait
    )


def _unknown(workspace: Workspace, clip_id: str) -> UnknownClip:
    """The error for a clip id no clip has; for one an edit or re-cut replaced, what did and
    (after a boundary edit or split) the clips that hold its audio now."""
    from .label_undo import replaced

    what, now = replaced(workspace, [clip_id]).get(clip_id, ("", []))
    if now:
        return UnknownClip(f"clip {clip_id} no longer exists ({what}): it is {' and '.join(now)} now")
    return UnknownClip(
        f"unknown clip id {clip_id!r} (a cut may have replaced it); `accentds labels list` shows the clips"
    )


def _spans(
    old: dict[str, Any], start: float, end: float, split_at: float | None, others: Sequence[dict[str, Any]]
) -> list[tuple[float, float]]:
    """The new clips' spans, checked: inside the source, long enough, over the old clip,
    clear of the source's other clips."""
    if not all(np.isfinite(float(t)) for t in (start, end, 0.0 if split_at is None else split_at)):
        raise AccentdsError("give the start, end and split point as numbers of seconds")
    start, end = ms(start), ms(end)
    if start < 0:
        raise AccentdsError(f"the start {start:.3f} s is outside the source (before 0 s)")
    if end <= start:
        raise AccentdsError(f"the end ({end:.3f} s) must come after the start ({start:.3f} s)")
    if min(end, old["end"]) <= max(start, old["start"]):
        raise AccentdsError(
            f"{start:.3f}–{end:.3f} s does not overlap the clip ({old['start']:.3f}–{old['end']:.3f} s): "
            "move its boundaries, not the clip"
        )
    for other in others:
        if other["start"] < end and start < other["end"]:
            raise AccentdsError(
                f"{start:.3f}–{end:.3f} s overlaps the clip {other['clip_id']} "
                f"({other['start']:.3f}–{other['end']:.3f} s): move that clip's boundary first"
            )
    spans = [(start, end)]
    if split_at is not None:
        at = ms(split_at)
        if not start < at < end:
            raise AccentdsError(
                f"the split point {at:.3f} s is not inside the clip ({start:.3f}–{end:.3f} s)"
            )
        spans = [(start, at), (at, end)]
    for a, b in spans:
        if b - a < MIN_CLIP_S - 1e-9:
            raise AccentdsError(
                f"{a:.3f}–{b:.3f} s is too short for a clip ({b - a:.3f} s; at least {MIN_CLIP_S} s)"
            )
    return spans


def _label_moves(
    old_id: str, labels: ClipLabels, targets: dict[str, ClipLabels], new_ids: Sequence[str], split: bool
) -> list[dict[str, str]]:
    """Journal changes moving the old clip's labels onto the new clips (values a new id had
    before, as an orphan, are replaced: the new clip shows the old clip's labels only)."""
    moved = {k: v for k, v in labels.values.items() if v and k in EDITABLE_FIELDS}
    if split and moved.get("status") == "accepted":
        moved["status"] = "pending"
    changes = [{"clip": old_id, "field": k, "old": v, "new": ""} for k, v in labels.values.items() if v]
    for cid in new_ids:
        have = targets.get(cid, ClipLabels()).values
        for name in EDITABLE_FIELDS:
            value = moved.get(name, "")
            if have.get(name, "") != value:
                changes.append({"clip": cid, "field": name, "old": have.get(name, ""), "new": value})
    return changes


def edit_bounds(
    workspace: Workspace,
    clip_id: str,
    start: float,
    end: float,
    split_at: float | None = None,
    expected_version: int | None = None,
    reviewer: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> BoundsEdit:
    """Re-cut one clip to `start`–`end` and, with `split_at`, split it there: `set_bounds`
    and `split_clip` in one step."""
    from .labels import default_reviewer

    reviewer = reviewer or default_reviewer()
    with workspace.cut_lock(on_wait):
        table = workspace.read_clip_table()
        found = table.filter(pc.equal(table["clip_id"], clip_id)).to_pylist()
        if not found:
            raise _unknown(workspace, clip_id)
        old = found[0]
        sid = old["source_id"]
        mine = table.filter(pc.equal(table["source_id"], sid)).select(["clip_id", "start", "end"])
        others = [r for r in mine.to_pylist() if r["clip_id"] != clip_id]
        spans = _spans(old, start, end, split_at, others)
        if spans == [(old["start"], old["end"])]:  # nothing to cut, move or record
            return BoundsEdit(clip_id, (Clip(**old),))
        _check_version(workspace, clip_id, expected_version)
        source = next((s for s in workspace.read_sources() if s.source_id == sid), None)
        if source is None:
            raise AccentdsError(f"the source {sid} of {clip_id} is not in manifests/sources.csv")
        media = workspace.abs(source.media)
        if not source.media or not media.is_file():
            raise AccentdsError(f"the source media of {clip_id} is not in raw/: pull {sid} again")
        vad = workspace.config.vad
        ffmpeg = find_ffmpeg(workspace.config.ffmpeg)
        lo, hi = spans[0][0], spans[-1][1]
        # the old clip's file is on the cut's timeline: the new clips are cut on it too
        pcm = exact_pcm(ffmpeg, media, vad.sample_rate, lo, hi, [(old["start"], workspace.abs(old["path"]))])
        settings = {name: old[name] for name in SETTING_FIELDS}
        made: list[tuple[Clip, bytes]] = []
        try:
            for a, b in spans:
                first = (round(a * vad.sample_rate) - round(lo * vad.sample_rate)) * BYTES_PER_SAMPLE
                last = (round(b * vad.sample_rate) - round(lo * vad.sample_rate)) * BYTES_PER_SAMPLE
                made.append(make_clip(workspace.root, sid, a, b, pcm[first:last], vad, settings))
            _commit(workspace, old, source, made, split_at is not None, expected_version, reviewer)
        except BaseException:
            for clip, _ in made:
                workspace.abs(clip.path).unlink(missing_ok=True)
            raise
        workspace.abs(old["path"]).unlink(missing_ok=True)
    return BoundsEdit(clip_id, tuple(c for c, _ in made))


def _check_version(workspace: Workspace, clip_id: str, expected: int | None) -> ClipLabels:
    labels = fold(workspace.journal().for_clips([clip_id]), {clip_id}).get(clip_id, ClipLabels())
    if expected is not None and labels.version != expected:
        raise BoundsConflict(clip_id, labels.version)
    return labels


def _commit(
    workspace: Workspace,
    old: dict[str, Any],
    source: Source,
    made: list[tuple[Clip, bytes]],
    split: bool,
    expected_version: int | None,
    reviewer: str,
) -> None:
    """Record the new clips in place of `old` (under the workspace lock): labels first, then
    clips, bounds.csv, cuts, drafts, fingerprints and the views. The duplicate groups are
    left to the next command (`refresh_manifest`: fingerprints.parquet is newer): grouping
    the whole corpus again took 1.8 s of a 2.2 s edit at 10,000 clips."""
    from .cut import _drafts
    from .cut_commit import first_cut, read_fingerprints

    old_id, sid = old["clip_id"], old["source_id"]
    clips = [c for c, _ in made]
    new_ids = [c.clip_id for c in clips]
    with workspace.lock():
        # everything read before anything is written
        table = workspace.read_clip_table()
        if not pc.any(pc.equal(table["clip_id"], old_id)).as_py():
            raise _unknown(workspace, old_id)
        clips = first_cut(table.filter(pc.equal(table["clip_id"], old_id)), clips)  # its day stays
        labels = _check_version(workspace, old_id, expected_version)
        targets = fold(workspace.journal().for_clips(new_ids), set(new_ids))
        cuts = workspace.read_cuts()
        gone = {old_id, *new_ids}  # rows of a new id (an earlier clip of that span) are replaced too
        drafts = [r for r in read_csv(workspace.drafts_csv) if r["clip_id"] not in gone]
        prints = read_fingerprints(workspace)
        hand = read_hand_clips(bounds_csv(workspace))
        drafts += [
            {"clip_id": c, "transcript_draft": t, "draft_kind": k}
            for c, t, k in _drafts(workspace.root, source, clips)
        ]
        kept = table.filter(pc.not_equal(table["clip_id"], old_id)).cast(CLIP_SCHEMA)
        added = pa.table(
            {name: [getattr(c, name) for c in clips] for name in CLIP_SCHEMA.names}, schema=CLIP_SCHEMA
        )
        merged = pa.concat_tables([kept, added])
        order = pc.sort_indices(merged, [("source_id", "ascending"), ("start", "ascending")])
        changes = _label_moves(old_id, labels, targets, new_ids, split)
        what = f"split of {old_id} at {clips[0].end:.3f} s" if split else f"boundary edit of {old_id}"
        tx = {"tx": new_tx_id(), "time": now_iso(), "reviewer": reviewer, "why": what, "changes": changes}
        if changes:
            workspace.journal().append([tx])
        try:
            write_parquet_atomic(workspace.clips_parquet, merged.take(order))
        except OSError as exc:  # the labels go back to the clip that stays
            if changes:
                back = [{**c, "old": c["new"], "new": c["old"]} for c in reversed(changes)]
                why = f"{what} not made: {exc.strerror or exc}"
                workspace.journal().append(
                    [{**tx, "tx": new_tx_id(), "undoes": tx["tx"], "why": why, "changes": back}]
                )
            raise AccentdsError(
                f"could not write {workspace.clips_parquet.name} ({exc.strerror or exc}): the clip is "
                "left as it was; free some space and save the boundaries again"
            ) from None
        write_hand_clips(bounds_csv(workspace), _record_hand(hand, old, clips, split, reviewer))
        if sid in cuts:
            record = cuts[sid]
            grown = sum(c.duration for c in clips) - old["duration"]
            cuts[sid] = replace(
                record,
                clips=record.clips + len(clips) - 1,
                kept_s=record.kept_s + grown,
                dropped_s=max(0.0, record.dropped_s - grown),
            )
            workspace.write_cuts(cuts)
        write_csv_atomic(workspace.drafts_csv, DRAFT_FIELDS, sorted(drafts, key=lambda r: r["clip_id"]))
        prints = prints.filter(pc.invert(pc.is_in(prints["clip_id"], value_set=pa.array(sorted(gone)))))
        fresh = pa.table(
            {"clip_id": new_ids, "source_id": [sid] * len(made), "fingerprint": [f for _, f in made]},
            schema=FINGERPRINT_SCHEMA,
        )
        write_parquet_atomic(workspace.fingerprints_parquet, pa.concat_tables([prints, fresh]))
        write_manifest(workspace)


def _record_hand(
    hand: list[HandClip], old: dict[str, Any], clips: list[Clip], split: bool, reviewer: str
) -> list[HandClip]:
    """bounds.csv's rows after an edit: the edited clip's own row (if it was made by hand)
    replaced by the new clips' rows, whose region takes in the old one's."""
    sid = old["source_id"]
    lo = min(old["start"], clips[0].start)
    hi = max(old["end"], clips[-1].end)
    rest = []
    for row in hand:
        if row.source_id == sid and abs(row.start - old["start"]) < 5e-4 and abs(row.end - old["end"]) < 5e-4:
            lo, hi = min(lo, row.region_start), max(hi, row.region_end)
        else:
            rest.append(row)
    why = "split" if split else "bounds"
    when = now_iso()
    return rest + [HandClip(sid, c.start, c.end, lo, hi, why, reviewer, when) for c in clips]


EDIT_REASONS = ("boundary edit of ", "split of ")
RECUT_REASON = "re-cut of "  # accentds.cut's record of the labels a re-cut moves


def finish_interrupted_edits(workspace: Workspace) -> int:
    """A boundary edit or a re-cut killed after it moved the labels but before the clip table
    named its new clips leaves the labels on clips that do not exist: move them back to the
    clips that are still there (one undo record each), unless a later record touched those
    clips. Looks at the journal's last records only. Call under the workspace lock; returns
    the records undone. (A re-cut run again moves them anew.)"""
    records = workspace.journal().tail()
    undone = {tx.get("undoes") for tx in records}
    found = [
        (n, tx)
        for n, tx in enumerate(records)
        if str(tx.get("why", "")).startswith((*EDIT_REASONS, RECUT_REASON))
        and tx.get("tx")
        and tx["tx"] not in undone
    ]
    if not found:
        return 0
    live = set(workspace.read_clip_table(columns=["clip_id"])["clip_id"].to_pylist())
    back = []
    for n, tx in found:
        touched = {c["clip"] for c in tx["changes"]}
        if tx["why"].startswith(RECUT_REASON):  # the clips it moved labels from: their fields cleared
            old = {c["clip"] for c in tx["changes"] if c["new"] == "" and c.get("old", "")}
        else:
            old = {tx["why"].split(" of ", 1)[1].split(" at ", 1)[0]}
        new_ids = touched - old
        later = {c["clip"] for after in records[n + 1 :] for c in after["changes"]}
        if old and old <= live and new_ids and not new_ids & live and not touched & later:
            changes = [{**c, "old": c["new"], "new": c.get("old", "")} for c in reversed(tx["changes"])]
            why = f"{tx['why']} interrupted before its clips were recorded"
            back.append({"tx": new_tx_id(), "time": now_iso(), "reviewer": tx.get("reviewer", ""),
                         "undoes": tx["tx"], "why": why, "changes": changes})  # fmt: skip
    workspace.journal().append(back)
    return len(back)

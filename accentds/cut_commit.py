"""A finished cut recorded in the manifests: the source's clips replaced in clips.parquet,
the labels of replaced clips moved to the clip that is the same stretch of speech (or kept as
orphans), the cut's record, caption drafts and fingerprints; and the duplicate groups drawn
from the fingerprints of the whole corpus."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import fingerprints
from .config import VadSettings
from .config_file import cut_setting
from .errors import AccentdsError
from .files import damaged, now_iso, read_csv, write_csv_atomic, write_parquet_atomic
from .journal import ClipLabels, fold, new_tx_id
from .models import Clip, CutRecord
from .words import counted
from .workspace import CLIP_SCHEMA, DRAFT_FIELDS, DUPLICATE_FIELDS, FINGERPRINT_SCHEMA, Workspace

if TYPE_CHECKING:
    from .cut import SourceCut


class WouldOrphan(AccentdsError):
    """A re-cut would leave accepted clips' labels without a clip to move to."""


def _moves(
    old: pa.Table, new: Sequence[Clip], labelled: dict[str, ClipLabels]
) -> tuple[dict[str, str], list[str]]:
    """Where the labels of the old clips go: {old id: new id} for each labelled old clip one
    new clip matches, and the labelled old clips no new clip matches.

    A new clip matches an old one when it is, give or take its edges, the same stretch of
    speech: it holds at least half of the old clip and is at least half made of it, no other
    new clip holds a quarter of the old one (not split), and it takes in no more than half of
    any other old clip (not joined with another). A transcript and an `accepted` describe the
    old clip's words; on a clip split in two or joined with others they would be wrong."""
    ids = old["clip_id"].to_pylist()
    starts, ends = (old[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in ("start", "end"))
    new_starts = np.array([c.start for c in new], np.float64)
    new_ends = np.array([c.end for c in new], np.float64)
    moves: dict[str, str] = {}
    lost: list[str] = []
    # a new clip that already has labels (its id kept) keeps them
    taken = {c.clip_id for c in new if any(labelled.get(c.clip_id, ClipLabels()).values.values())}
    for k, cid in enumerate(ids):
        if cid in taken or not any(labelled.get(cid, ClipLabels()).values.values()):
            continue
        length = ends[k] - starts[k]
        held = np.clip(np.minimum(ends[k], new_ends) - np.maximum(starts[k], new_starts), 0.0, None)
        order = np.argsort(-held, kind="stable")
        best = int(order[0]) if len(order) else -1
        matches = (
            best >= 0
            and held[best] >= 0.5 * length
            and held[best] >= 0.5 * (new_ends[best] - new_starts[best])
        )
        if matches and len(order) > 1:
            matches = held[order[1]] < 0.25 * length
        if matches:
            taken_in = np.clip(
                np.minimum(ends, new_ends[best]) - np.maximum(starts, new_starts[best]), 0.0, None
            )
            taken_in[k] = 0.0
            matches = not np.any(taken_in > 0.5 * (ends - starts))
        if matches and new[best].clip_id not in taken:
            moves[cid] = new[best].clip_id
            taken.add(new[best].clip_id)
        else:
            lost.append(cid)
    return moves, lost


def first_cut(old: pa.Table, new: Sequence[Clip]) -> list[Clip]:
    """The new clips of a source, each with the `cut_at` of the day its speech first came into
    the corpus: a new clip at least half made of the source's old clips is a re-cut of them and
    keeps the earliest `cut_at` among those it overlaps (so `report --since` does not count a
    re-cut as new minutes); the rest are new."""
    if not old.num_rows or not new:
        return list(new)
    starts, ends = (old[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in ("start", "end"))
    dates = old["cut_at"].to_pylist()
    clips = []
    for clip in new:
        held = np.clip(np.minimum(ends, clip.end) - np.maximum(starts, clip.start), 0.0, None)
        earlier = [d for d, h in zip(dates, held, strict=True) if h > 0 and d]
        if earlier and held.sum() >= 0.5 * (clip.end - clip.start):
            clip = replace(clip, cut_at=min(min(earlier), clip.cut_at))
        clips.append(clip)
    return clips


def commit_cut(
    workspace: Workspace, result: SourceCut, vad: VadSettings, allow_orphans: bool = False
) -> tuple[list[Path], int]:
    """Record a finished cut in the manifests; return the clip files it no longer uses,
    which the caller deletes once the views no longer list them, and how many clips' labels
    moved to a new clip.

    Labels of replaced clips move to the new clip that matches each (`_moves`: the same
    stretch of speech, not split or joined with another), recorded in the label journal
    before the clips change; labels that find no match are kept as orphans. A cut that would orphan accepted clips raises WouldOrphan unless
    `allow_orphans`."""
    sid = result.source_id
    new_ids = {c.clip_id for c in result.clips}
    with workspace.lock():
        # everything read before anything is written: a damaged file stops it untouched
        table = workspace.read_clip_table()
        cuts = workspace.read_cuts()
        drafts = [r for r in read_csv(workspace.drafts_csv) if not r["clip_id"].startswith(sid + "-")]
        prints = read_fingerprints(workspace)
        mine = pc.equal(table["source_id"], sid)
        old = table.filter(mine).select(["clip_id", "start", "end", "cut_at"])
        replaced = [cid for cid in old["clip_id"].to_pylist() if cid not in new_ids]
        journal = workspace.journal()
        wanted = [*replaced, *new_ids]
        records = journal.for_clips(wanted) if len(wanted) <= 64 else journal.transactions()
        labelled = fold(records, set(wanted)) if replaced else {}
        moves, lost = _moves(old, result.clips, labelled)
        accepted = [cid for cid in lost if labelled[cid].values.get("status") == "accepted"]
        if accepted and not allow_orphans:
            raise WouldOrphan(
                f"kept the old clips of {sid}: no clip of the new cut matches {len(accepted)} accepted "
                f"clip(s) ({', '.join(accepted[:3])}{', …' if len(accepted) > 3 else ''}: gone, split, "
                "or joined with other clips); "
                f"run `accentds cut {sid} --force` to cut it anyway (their labels are kept as orphans)"
            )
        if moves:
            changes = []
            for old_id, new_id in moves.items():
                target = labelled.get(new_id, ClipLabels()).values
                for name, value in labelled[old_id].values.items():
                    if value:
                        changes.append({"clip": old_id, "field": name, "old": value, "new": ""})
                        changes.append(
                            {"clip": new_id, "field": name, "old": target.get(name, ""), "new": value}
                        )
            why = f"re-cut of {sid}: labels moved to the new clip matching each old one"
            journal.append(
                [
                    {
                        "tx": new_tx_id(),
                        "time": now_iso(),
                        "reviewer": "accentds",
                        "why": why,
                        "changes": changes,
                    }
                ]
            )
        kept = table.filter(pc.invert(mine))
        clips = first_cut(old, result.clips)
        added = pa.table(  # column by column: asdict per clip costs more than the write
            {name: [getattr(c, name) for c in clips] for name in CLIP_SCHEMA.names}, schema=CLIP_SCHEMA
        )
        merged = pa.concat_tables([kept.cast(CLIP_SCHEMA), added])
        order = pc.sort_indices(merged, [("source_id", "ascending"), ("start", "ascending")])
        write_parquet_atomic(workspace.clips_parquet, merged.take(order))
        drafts += [{"clip_id": c, "transcript_draft": t, "draft_kind": k} for c, t, k in result.drafts]
        write_csv_atomic(workspace.drafts_csv, DRAFT_FIELDS, sorted(drafts, key=lambda r: r["clip_id"]))
        prints = prints.filter(pc.not_equal(prints["source_id"], sid))
        added = pa.table(
            {
                "clip_id": [c.clip_id for c in result.clips] if result.fingerprints else [],
                "source_id": [sid] * len(result.fingerprints),
                "fingerprint": list(result.fingerprints),
            },
            schema=FINGERPRINT_SCHEMA,
        )
        write_parquet_atomic(workspace.fingerprints_parquet, pa.concat_tables([prints, added]))
        # last: the mark that the source is cut with these settings (a run killed before it
        # leaves the source to the next cut)
        cuts[sid] = CutRecord(
            source_id=sid,
            settings_id=vad.settings_id,
            clips=len(result.clips),
            kept_s=result.kept_s,
            dropped_s=result.dropped_s,
            cut_at=now_iso(),
            note="; ".join(
                filter(
                    None, [result.warning, f"{counted(len(lost), 'labelled clip')} orphaned" if lost else ""]
                )
            ),
        )
        workspace.record_cut_settings(vad)
        workspace.write_cuts(cuts)
    gone = set(replaced)
    paths = table.filter(mine)["path"].to_pylist()
    files = [
        workspace.abs(p) for cid, p in zip(old["clip_id"].to_pylist(), paths, strict=True) if cid in gone
    ]
    return files, sum(1 for cid in moves if any(labelled[cid].values.values()))


def read_fingerprints(workspace: Workspace, columns: list[str] | None = None) -> pa.Table:
    """manifests/fingerprints.parquet: one audio fingerprint per clip."""
    schema = (
        FINGERPRINT_SCHEMA if columns is None else pa.schema([FINGERPRINT_SCHEMA.field(c) for c in columns])
    )
    if not workspace.fingerprints_parquet.exists():
        return schema.empty_table()
    try:
        return pq.read_table(workspace.fingerprints_parquet, columns=columns).cast(schema)
    except (pa.ArrowException, OSError) as exc:
        raise damaged(workspace.fingerprints_parquet, exc) from None


def live_fingerprints(workspace: Workspace) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The fingerprints of the clips in clips.parquet, laid end to end: (clip ids in ascending
    order, their sub-fingerprints as one uint32 array, each clip's count). The values are a
    view of the table read, not one Python object per clip."""
    prints = read_fingerprints(workspace, ["clip_id", "fingerprint"])
    live = workspace.read_clip_table(columns=["clip_id"])["clip_id"].combine_chunks()
    keep = pc.is_in(prints["clip_id"], value_set=live)
    if not pc.all(keep).as_py():  # copies of the table only where needed
        prints = prints.filter(keep)
    ids = prints["clip_id"].to_pylist()
    if any(a >= b for a, b in itertools.pairwise(ids)):
        prints = prints.take(pc.sort_indices(prints["clip_id"]))  # a stable sort
        ids = prints["clip_id"].to_pylist()
        last = [k for k in range(len(ids)) if k + 1 == len(ids) or ids[k] != ids[k + 1]]
        if len(last) < len(ids):  # of rows with one id (none are written), the last counts
            prints, ids = prints.take(pa.array(last)), [ids[k] for k in last]
    chunks = prints["fingerprint"].chunks
    column = chunks[0] if len(chunks) == 1 else prints["fingerprint"].combine_chunks()
    lengths = pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    if (lengths % 4).any():
        raise ValueError("a fingerprint in fingerprints.parquet is not a whole number of uint32 values")
    total = int(lengths.sum()) // 4
    if not total:
        return ids, np.zeros(0, np.uint32), lengths // 4
    first = int(np.frombuffer(column.buffers()[1], np.int32, 1, column.offset * 4)[0])
    return ids, np.frombuffer(column.buffers()[2], "<u4", total, first), lengths // 4


def find_duplicates(workspace: Workspace) -> int:
    """Group near-duplicate clips across the corpus by their fingerprints (the same video
    uploaded twice, a repeated intro) into manifests/duplicates.csv; return the number of
    clips in groups. Call under the workspace lock."""
    ids, values, lengths = live_fingerprints(workspace)
    groups = fingerprints.group_fingerprints(
        ids, values, lengths, workspace.config.quality.duplicate_similarity
    )
    del values
    rows = [{"clip_id": c, "duplicate_group": g} for c, g in sorted(groups.items())]
    write_csv_atomic(workspace.duplicates_csv, DUPLICATE_FIELDS, rows)
    return len(rows)


def stale_settings(workspace: Workspace, settings_ids: Iterable[str]) -> str:
    """What differs between the cut settings now ([vad] and [audio] sample_rate) and those of
    `settings_ids` (sources cut with other settings), from manifests/cut_settings.json:
    "[vad] padding_ms 200 → 350", a setting the cut had none of, and the cuts of an accentds
    that recorded none."""
    recorded = workspace.read_cut_settings()
    now = asdict(workspace.config.vad)
    if now.get("silero_model"):
        now["silero_model"] = Path(now["silero_model"]).name  # recorded by name only
    changes: dict[str, set[str]] = {}
    unrecorded = 0
    for sid in set(settings_ids):
        old = recorded.get(sid)
        if not isinstance(old, dict):
            unrecorded += 1
            continue
        for name, value in now.items():
            if name not in old:
                changes.setdefault(name, set()).add(
                    f"{cut_setting(name)} = {value} is new since they were cut"
                )
            elif old[name] != value:
                changes.setdefault(name, set()).add(f"{cut_setting(name)} {old[name]} → {value}")
    said = [text for name in sorted(changes) for text in sorted(changes[name])]
    if unrecorded:
        said.append("settings of an earlier accentds, which did not record them")
    if not said:
        return "accentds.toml changed, or an earlier accentds cut it"
    return "; ".join(said[:4]) + ("; …" if len(said) > 4 else "")

"""Cut sources into clips: stream PCM from ffmpeg through the speech finder
(accentds.finder), write WAV clips with their hints, commit.

A worker writes clip files (each atomically) and returns their records; the parent process
commits them to the manifests under the workspace lock and only then deletes the files the
new cut no longer uses. A crash at any point leaves every manifest row with its file."""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import signal
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import fingerprints, quality
from .captions import drafts_for_clips
from .config import VadSettings
from .errors import AccentdsError
from .finder import SpeechFinder, no_speech_warning
from .journal import ClipLabels, fold, new_tx_id
from .media import BYTES_PER_SAMPLE, MediaError, find_ffmpeg, header_duration, pcm_stream, write_wav
from .models import Clip, CutRecord, Source, clip_id
from .vad import FrameClip
from .views import refresh_manifest, write_manifest
from .workspace import (
    CLIP_SCHEMA,
    DRAFT_FIELDS,
    DUPLICATE_FIELDS,
    FINGERPRINT_SCHEMA,
    Workspace,
    damaged,
    now_iso,
    pid_alive,
    read_csv,
    write_csv_atomic,
    write_parquet_atomic,
)


@dataclass(frozen=True)
class SourceCut:
    """The outcome of cutting one source."""

    source_id: str
    ok: bool
    clips: tuple[Clip, ...] = ()
    audio_s: float = 0.0
    reason: str = ""  # why it failed
    warning: str = ""  # what a user should know of a cut that did not fail (no speech, truncated)
    dry_run: bool = False
    drafts: tuple[tuple[str, str, str], ...] = ()  # (clip id, draft transcript, "manual" | "auto")
    drops: tuple[tuple[float, float, str], ...] = ()  # (start s, end s, reason) of speech not kept
    fingerprints: tuple[bytes, ...] = ()  # each clip's (`fingerprints.fingerprint`) as little-endian uint32

    @property
    def kept_s(self) -> float:
        return sum(c.duration for c in self.clips)

    @property
    def dropped_s(self) -> float:
        """All audio no clip holds, silence and pauses included ("not kept"; `drops` is the
        part of it the VAD heard as speech)."""
        return max(0.0, self.audio_s - self.kept_s)


@dataclass
class CutPlan:
    """Which sources a cut run takes, and which it leaves because they are up to date."""

    todo: list[Source]
    up_to_date: list[Source] = field(default_factory=list)


def _level_db(value: float) -> float:
    return round(20 * math.log10(max(value, 1e-6)), 2)


def cut_source(root: str, source: Source, vad: VadSettings, ffmpeg: str, write: bool = True) -> SourceCut:
    """Cut one source (runs in a worker process). Never raises for a bad source."""
    folder = Path(root) / "clips" / source.source_id
    before = set(folder.glob("*.wav")) if folder.is_dir() else set()
    try:
        from .handcut import apply_hand_clips  # clip boundaries set by hand stay as they were set

        result = _cut_source(Path(root), source, vad, ffmpeg, write)
        return apply_hand_clips(Path(root), source, result, vad, ffmpeg, write)
    except (MediaError, OSError) as exc:
        if write and folder.is_dir():  # files this failed run wrote have no row: remove them
            for path in set(folder.glob("*.wav")) - before:
                path.unlink(missing_ok=True)
        if isinstance(exc, MediaError):
            return SourceCut(source.source_id, ok=False, reason=str(exc))
        reason = exc.strerror or str(exc)
        reason += f": {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            reason += "; free some space and run `accentds cut` again"
        return SourceCut(source.source_id, ok=False, reason=reason)


def _cut_source(root: Path, source: Source, vad: VadSettings, ffmpeg: str, write: bool) -> SourceCut:
    rate, frame_ms = vad.sample_rate, vad.frame_ms
    finder = SpeechFinder(vad)
    frame_bytes = finder.frame_bytes
    frame_samples = frame_bytes // BYTES_PER_SAMPLE
    settings_id = vad.settings_id
    out_dir = root / "clips" / source.source_id
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
        for leftover in out_dir.glob("*.part"):
            leftover.unlink(missing_ok=True)
    cut_at = now_iso()
    clips: list[Clip] = []
    buffer = bytearray()
    buffer_start = 0  # frame index of buffer[0]
    powers = array("d")  # per frame from buffer_start, for clip levels
    peaks = array("i")

    spans: list[tuple[int, int]] = []
    prints: list[bytes] = []  # each clip's fingerprint

    def emit(found: list[FrameClip]) -> None:
        for fc in found:
            spans.append((fc.start, fc.end))
            start, end = fc.start * frame_ms / 1000, fc.end * frame_ms / 1000
            cid = clip_id(source.source_id, start, end)
            lo = (fc.start - buffer_start) * frame_bytes
            pcm = memoryview(buffer)[lo : lo + (fc.end - fc.start) * frame_bytes]
            frames = fc.end - fc.start
            first = fc.start - buffer_start
            frame_powers = np.frombuffer(powers, np.float64, frames, first * powers.itemsize)
            power = frame_powers.mean()
            peak = max(peaks[first : first + frames])
            duration = len(pcm) / BYTES_PER_SAMPLE / rate
            if write:  # measured from the file written
                duration = write_wav(out_dir / f"{cid}.wav", pcm, rate)
            samples = np.frombuffer(pcm, "<i2")
            blocks = finder.spectra.span(fc.start * frame_samples, fc.end * frame_samples)
            hints = quality.measure(samples, rate, blocks, peak, finder.noise(fc), fc.active(frame_powers))
            if write:
                prints.append(fingerprints.fingerprint(samples, rate).astype("<u4").tobytes())
            del samples, frame_powers  # views: the buffers below must stay resizable
            pcm.release()
            clips.append(
                Clip(
                    clip_id=cid,
                    source_id=source.source_id,
                    start=start,
                    end=end,
                    duration=duration,
                    path=f"clips/{source.source_id}/{cid}.wav",
                    settings_id=settings_id,
                    vad_aggressiveness=vad.aggressiveness,
                    vad_frame_ms=frame_ms,
                    vad_padding_ms=vad.padding_ms,
                    vad_merge_gap_ms=vad.merge_gap_ms,
                    vad_min_clip_s=vad.min_clip_s,
                    vad_max_clip_s=vad.max_clip_s,
                    rms_dbfs=_level_db(math.sqrt(power)),
                    peak_dbfs=_level_db(peak / 32768.0),
                    speech_ratio=round(fc.speech_ratio, 4),
                    cut_at=cut_at,
                    snr_db=hints.snr_db,
                    lufs=hints.lufs,
                    clipping_ratio=hints.clipping_ratio,
                    bandwidth_hz=hints.bandwidth_hz,
                    speech_prob=finder.speech_prob(fc),
                )
            )

    total_bytes = 0
    tail = b""
    # a minute of audio at a time: each chunk costs ~1 ms of fixed steps (in the detector, the
    # acoustic check, the segmenter), so 15 s chunks took 1.09 times as long in all
    chunk_bytes = frame_bytes * 2048
    first_bytes = frame_bytes * 128  # 4 s: the work starts while ffmpeg decodes the next minute
    warnings: list[str] = []
    try:
        with pcm_stream(root / source.media, ffmpeg, rate, chunk_bytes, first_bytes) as chunks:
            for chunk in chunks:
                total_bytes += len(chunk)
                if tail:
                    chunk, tail = tail + chunk, b""
                whole = len(chunk) - len(chunk) % frame_bytes
                if whole < len(chunk):
                    chunk, tail = chunk[:whole], chunk[whole:]
                if not chunk:
                    continue
                buffer += chunk
                found, power, peak = finder.feed(chunk)
                powers.frombytes(power.tobytes())
                peaks.frombytes(peak.astype(np.int32).tobytes())
                emit(found)
                drop = finder.keep_from - buffer_start
                if drop > 0:
                    del buffer[: drop * frame_bytes]
                    del powers[:drop]
                    del peaks[:drop]
                    buffer_start += drop
                    finder.forget()
            emit(finder.finish())
    except MediaError as exc:
        if not exc.decoded_s:
            raise
        warnings.append(f"{exc}: cut the first {exc.decoded_s:.1f} s, which decode")
    dropped = finder.dropped(spans)
    audio_s = total_bytes / BYTES_PER_SAMPLE / rate
    if total_bytes == 0:
        return SourceCut(source.source_id, ok=False, reason="no audio decoded")
    if not warnings:  # ffmpeg says nothing of an MP3 cut short, for one
        expected = header_duration(root / source.media, ffmpeg)
        if expected and audio_s < expected - max(1.0, 0.02 * expected):
            warnings.append(
                f"only {audio_s:.1f} s of the {expected:.1f} s the file's header gives decode "
                "(a truncated download?): cut what decodes"
            )
    if not clips:
        warnings.append(no_speech_warning(dropped, source.source_id))
    drafts = _drafts(root, source, clips) if write else ()
    return SourceCut(
        source.source_id,
        ok=True,
        clips=tuple(clips),
        audio_s=audio_s,
        dry_run=not write,
        drafts=drafts,
        drops=tuple(dropped),
        warning="; ".join(warnings),
        fingerprints=tuple(prints),
    )


def _drafts(root: Path, source: Source, clips: list[Clip]) -> tuple[tuple[str, str, str], ...]:
    """Draft transcripts from the source's subtitles, if it has any."""
    if not source.subtitles:
        return ()
    try:
        info = json.loads((root / "raw" / source.source_id / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    spans = [(c.clip_id, c.start, c.end) for c in clips]
    found = drafts_for_clips(root, source.subtitles, info, spans)
    return tuple((cid, text, kind) for cid, (text, kind) in found.items())


def plan_cut(
    workspace: Workspace,
    vad: VadSettings,
    source_ids: Sequence[str] = (),
    force: bool = False,
    only_stale: bool = False,
) -> CutPlan:
    """Choose the sources to cut: the ones named (with `only_stale`, those of them not yet
    cut with `vad`), or every source not yet cut with `vad`."""
    sources = workspace.read_sources()
    by_id = {s.source_id: s for s in sources}
    unknown = [sid for sid in source_ids if sid not in by_id]
    if unknown:
        raise AccentdsError(
            f"unknown source id(s): {', '.join(unknown)}; `accentds status --sources` lists them"
        )
    if source_ids and not only_stale:
        return CutPlan(todo=[by_id[sid] for sid in dict.fromkeys(source_ids)])
    cuts = workspace.read_cuts()
    plan = CutPlan(todo=[])
    for source in [by_id[sid] for sid in dict.fromkeys(source_ids)] if source_ids else sources:
        record = cuts.get(source.source_id)
        if force or record is None or record.settings_id != vad.settings_id:
            plan.todo.append(source)
        else:
            plan.up_to_date.append(source)
    return plan


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


def commit_cut(
    workspace: Workspace, result: SourceCut, vad: VadSettings, allow_orphans: bool = False
) -> list[Path]:
    """Record a finished cut in the manifests; return the clip files it no longer uses,
    which the caller deletes once the views no longer list them.

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
        old = table.filter(mine).select(["clip_id", "start", "end"])
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
        added = pa.table(  # column by column: asdict per clip costs more than the write
            {name: [getattr(c, name) for c in result.clips] for name in CLIP_SCHEMA.names}, schema=CLIP_SCHEMA
        )
        merged = pa.concat_tables([kept.cast(CLIP_SCHEMA), added])
        order = pc.sort_indices(merged, [("source_id", "ascending"), ("start", "ascending")])
        write_parquet_atomic(workspace.clips_parquet, merged.take(order))
        cuts[sid] = CutRecord(
            source_id=sid,
            settings_id=vad.settings_id,
            clips=len(result.clips),
            kept_s=result.kept_s,
            dropped_s=result.dropped_s,
            cut_at=now_iso(),
            note="; ".join(
                filter(None, [result.warning, f"{len(lost)} labelled clip(s) orphaned" if lost else ""])
            ),
        )
        workspace.record_cut_settings(vad)
        workspace.write_cuts(cuts)
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
    gone = set(replaced)
    paths = table.filter(mine)["path"].to_pylist()
    return [workspace.abs(p) for cid, p in zip(old["clip_id"].to_pylist(), paths, strict=True) if cid in gone]


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


def _ignore_sigint() -> None:
    """A worker leaves Ctrl-C to the parent, dies of SIGTERM quietly, and dies with the parent."""
    from .procs import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, which raises
    die_with_parent()


def default_workers() -> int:
    """One worker per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def sweep(workspace: Workspace, source_id: str = "*") -> int:
    """Remove what killed runs left (call holding the cut lock): half-written `.part` clips,
    temp files of dead processes, and clip files no manifest row names (of one source, while
    other sources' cuts are writing theirs). Returns the count."""
    listed = set(workspace.read_clip_table(columns=["path"])["path"].to_pylist())
    removed = 0
    for path in workspace.clips.glob(f"{source_id}/*"):
        stale = path.suffix == ".part" or (path.suffix == ".wav" and workspace.rel(path) not in listed)
        if stale and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    for path in (*workspace.manifests.glob(".*.tmp*"), *workspace.clips.glob("*/.*.tmp*")):
        pid = path.name.rsplit(".tmp", 1)[-1]
        if not pid.isdigit() or not pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def cut(
    workspace: Workspace,
    source_ids: Sequence[str] = (),
    vad: VadSettings | None = None,
    workers: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    ffmpeg: str | None = None,
    executor: Executor | None = None,
    on_start: Callable[[CutPlan], None] | None = None,
    on_result: Callable[[Source, SourceCut], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    only_stale: bool = False,
) -> list[SourceCut]:
    """Cut sources into clips and record them; return one result per source cut.

    One cut at a time per workspace: a second one waits for the first (`on_wait` is told
    why), then plans anew. Results are committed one source at a time as they finish, so an
    interrupted run keeps what it finished and the next run resumes with the rest; the
    files of replaced clips are deleted only after the views stop listing them."""
    vad = vad or workspace.config.vad
    ffmpeg = find_ffmpeg(ffmpeg or workspace.config.ffmpeg)
    with workspace.cut_lock(on_wait):
        plan = plan_cut(workspace, vad, source_ids, force, only_stale)
        if not dry_run:  # what a killed run left, even when nothing is left to cut
            sweep(workspace)
            refresh_manifest(workspace)
        if on_start:
            on_start(plan)
        results: list[SourceCut] = []
        if not plan.todo:
            return results
        by_id = {s.source_id: s for s in plan.todo}
        root = str(workspace.root)
        unused: list[Path] = []

        def finish(result: SourceCut) -> None:
            if not dry_run and result.ok:
                try:
                    unused.extend(commit_cut(workspace, result, vad, allow_orphans=force))
                except WouldOrphan as refused:
                    sweep(workspace, result.source_id)  # the new files of the cut not taken
                    result = replace(result, ok=False, reason=str(refused), clips=())
            results.append(result)
            if on_result:
                on_result(by_id[result.source_id], result)

        try:
            run_all(finish, plan.todo, root, vad, ffmpeg, dry_run, workers, executor)
        finally:
            if not dry_run and any(r.ok for r in results):
                with workspace.lock():
                    find_duplicates(workspace)
                    write_manifest(workspace)
                for path in unused:
                    path.unlink(missing_ok=True)
    return results


def run_all(
    finish: Callable[[SourceCut], None],
    todo: list[Source],
    root: str,
    vad: VadSettings,
    ffmpeg: str,
    dry_run: bool,
    workers: int | None,
    executor: Executor | None,
) -> None:
    """Cut every source of `todo` in worker processes (or here, for one); `finish` each result."""
    workers = max(1, workers or default_workers())
    if executor is None and (workers == 1 or len(todo) == 1):
        for source in todo:
            finish(cut_source(root, source, vad, ffmpeg, write=not dry_run))
        return
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=_ignore_sigint)
    futures: dict[Future[SourceCut], Source] = {}
    try:
        # longest first keeps all workers busy to the end
        for source in sorted(todo, key=lambda s: -s.duration):
            futures[pool.submit(cut_source, root, source, vad, ffmpeg, not dry_run)] = source
        pending = set(futures)
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f].source_id):
                pending.discard(future)
                try:
                    result = future.result()
                except Exception as exc:  # a crashed worker fails its source only
                    result = SourceCut(futures[future].source_id, ok=False, reason=f"worker failed: {exc}")
                finish(result)
    except BaseException:
        for future in futures:
            future.cancel()
        if own:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if own:
        pool.shutdown()

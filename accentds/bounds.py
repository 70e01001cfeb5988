"""Clip boundaries set by hand: re-cut one clip with a new start and end, or split it in
two, from the source audio, and keep those edits through later automatic cuts.

A hand edit writes the new clip file(s) (16-bit mono WAV at the workspace's rate, as `cut`
does), moves the old clip's labels to them in the label journal, replaces the clip's rows
in the manifests and only then deletes the old file: a crash at any point leaves every
manifest row with its file (the next cut sweeps files no row names).

manifests/bounds.csv (tracked) holds every clip made by hand: its source, start and end,
and the region of the source the edit decided (the old clip's span with the new one). A
later cut of that source (other settings, `--force`) keeps those clips as they are and
trims its own clips to the parts outside the regions, dropping parts shorter than
`min_clip_s`: what a person cut out of a clip stays out.

Both halves of a split keep every label of the clip, its transcript included (the whole
transcript, to be cut down to each half); an accepted clip's halves are pending again,
since each half's transcript needs that check before it is published."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import quality
from .config import VadSettings
from .errors import AccentdsError
from .journal import ClipLabels, fold, new_tx_id
from .media import BYTES_PER_SAMPLE, MediaError, excerpt_command, find_ffmpeg, write_wav
from .models import Clip, Source, clip_id
from .procs import dies_with_us
from .vad import make_detector
from .workspace import (
    CLIP_SCHEMA,
    DRAFT_FIELDS,
    EDITABLE_FIELDS,
    FINGERPRINT_SCHEMA,
    Workspace,
    damaged,
    now_iso,
    read_csv,
    write_csv_atomic,
    write_manifest,
    write_parquet_atomic,
)

BOUNDS_NAME = "bounds.csv"
BOUNDS_FIELDS = ["source_id", "start", "end", "region_start", "region_end", "why", "reviewer", "edited_at"]
MIN_CLIP_S = 0.2  # a hand-made clip is at least this long
SETTING_FIELDS = (
    "settings_id", "vad_aggressiveness", "vad_frame_ms", "vad_padding_ms",
    "vad_merge_gap_ms", "vad_min_clip_s", "vad_max_clip_s",
)  # fmt: skip


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
class HandClip:
    """One clip made by hand (a row of manifests/bounds.csv), in source seconds."""

    source_id: str
    start: float
    end: float
    region_start: float  # the stretch of the source this edit decided
    region_end: float
    why: str = ""
    reviewer: str = ""
    edited_at: str = ""


@dataclass(frozen=True)
class BoundsEdit:
    """What a hand edit did: the clip it replaced and the clip(s) now in its place."""

    replaced: str
    clips: tuple[Clip, ...]


def bounds_csv(workspace: Workspace) -> Path:
    return workspace.manifests / BOUNDS_NAME


def read_hand_clips(path: Path) -> list[HandClip]:
    """The hand-made clips recorded in a bounds.csv (none if it is missing)."""
    found = []
    for line, row in enumerate(read_csv(path), start=2):
        try:
            found.append(
                HandClip(
                    source_id=row["source_id"],
                    start=float(row["start"]),
                    end=float(row["end"]),
                    region_start=float(row["region_start"]),
                    region_end=float(row["region_end"]),
                    why=row.get("why") or "",
                    reviewer=row.get("reviewer") or "",
                    edited_at=row.get("edited_at") or "",
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged(path, f"bad value {exc}", line) from None
    return found


def _write_hand_clips(workspace: Workspace, rows: list[HandClip]) -> None:
    out = []
    for row in sorted(rows, key=lambda r: (r.source_id, r.start)):
        values = asdict(row)
        for name in ("start", "end", "region_start", "region_end"):
            values[name] = f"{values[name]:.3f}"
        out.append(values)
    write_csv_atomic(bounds_csv(workspace), BOUNDS_FIELDS, out)


# -- cutting one stretch of a source ----------------------------------------------------
def source_pcm(ffmpeg: str, media: Path, rate: int, start: float, end: float) -> bytes:
    """Mono s16le PCM of `media` from `start` to `end` seconds (an accurate seek: the same
    samples as the streamed decode `cut` reads); MediaError if it does not reach `end`."""
    command = excerpt_command(ffmpeg, media, rate, start, end - start)
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL, preexec_fn=dies_with_us()
        )
    except subprocess.TimeoutExpired:
        raise MediaError(f"ffmpeg took too long to decode {media.name}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"ffmpeg could not decode {media.name}: {reason[-1] if reason else 'no message'}")
    wanted = round(end * rate) - round(start * rate)
    if len(done.stdout) // BYTES_PER_SAMPLE < wanted - rate // 100:  # 10 ms short: past the end
        have = start + len(done.stdout) / BYTES_PER_SAMPLE / rate
        raise AccentdsError(f"{end:.3f} s is outside the source: its audio ends at {have:.3f} s")
    return done.stdout[: wanted * BYTES_PER_SAMPLE]


def _level_db(value: float) -> float:
    return round(20 * float(np.log10(max(value, 1e-6))), 2)


def make_clip(
    root: Path,
    source_id: str,
    start: float,
    end: float,
    pcm: bytes,
    vad: VadSettings,
    settings: dict[str, Any],
    write: bool = True,
) -> tuple[Clip, bytes]:
    """A clip record of `pcm` (the source from `start` to `end`), with its hints measured on
    the clip alone, and its fingerprint; the WAV file is written (atomically) if `write`."""
    rate = vad.sample_rate
    cid = clip_id(source_id, start, end)
    path = f"clips/{source_id}/{cid}.wav"
    duration = len(pcm) / BYTES_PER_SAMPLE / rate
    if write:
        (root / "clips" / source_id).mkdir(parents=True, exist_ok=True)
        duration = write_wav(root / path, pcm, rate)
    samples = np.frombuffer(pcm, "<i2")
    wide = samples.astype(np.int32)
    power = float(np.mean(wide.astype(np.float64) ** 2)) / 32768.0**2 if len(samples) else 0.0
    peak = int(np.abs(wide).max()) if len(samples) else 0
    frame_bytes = rate * vad.frame_ms // 1000 * BYTES_PER_SAMPLE
    whole = pcm[: len(pcm) // frame_bytes * frame_bytes]
    flags = make_detector(vad).detect(whole)[0] if whole else []
    prob = None
    if "silero" in vad.backend and whole:
        from .silero import SileroDetector

        detector = SileroDetector(vad.silero_threshold, rate, vad.frame_ms, vad.silero_model or None)
        prob = round(float(np.max(detector.frame_probs(whole), initial=0.0)), 3)
    hints = quality.measure(samples, rate, peak=peak)
    clip = Clip(
        clip_id=cid,
        source_id=source_id,
        start=start,
        end=end,
        duration=duration,
        path=path,
        **{name: settings[name] for name in SETTING_FIELDS},
        rms_dbfs=_level_db(power**0.5),
        peak_dbfs=_level_db(peak / 32768.0),
        speech_ratio=round(sum(flags) / len(flags), 4) if flags else 0.0,
        cut_at=now_iso(),
        snr_db=hints.snr_db,
        lufs=hints.lufs,
        clipping_ratio=hints.clipping_ratio,
        bandwidth_hz=hints.bandwidth_hz,
        speech_prob=prob,
    )
    return clip, quality.fingerprint(samples, rate).astype("<u4").tobytes()


def _settings_of(vad: VadSettings) -> dict[str, Any]:
    return {
        "settings_id": vad.settings_id,
        "vad_aggressiveness": vad.aggressiveness,
        "vad_frame_ms": vad.frame_ms,
        "vad_padding_ms": vad.padding_ms,
        "vad_merge_gap_ms": vad.merge_gap_ms,
        "vad_min_clip_s": vad.min_clip_s,
        "vad_max_clip_s": vad.max_clip_s,
    }


def _ms(seconds: float) -> float:
    return round(float(seconds) * 1000) / 1000


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
        raise _unknown(clip_id)
    return edit_bounds(
        workspace, clip_id, row[0]["start"], row[0]["end"], at, expected_version, reviewer, on_wait
    )


def _unknown(clip_id: str) -> UnknownClip:
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
    start, end = _ms(start), _ms(end)
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
        at = _ms(split_at)
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
    from .labels import _reviewer

    reviewer = reviewer or _reviewer()
    with workspace.cut_lock(on_wait):
        table = workspace.read_clip_table()
        found = table.filter(pc.equal(table["clip_id"], clip_id)).to_pylist()
        if not found:
            raise _unknown(clip_id)
        old = found[0]
        sid = old["source_id"]
        mine = table.filter(pc.equal(table["source_id"], sid)).select(["clip_id", "start", "end"])
        others = [r for r in mine.to_pylist() if r["clip_id"] != clip_id]
        spans = _spans(old, start, end, split_at, others)
        if spans == [(old["start"], old["end"])]:
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
        pcm = source_pcm(ffmpeg, media, vad.sample_rate, lo, hi)
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
    clips, cuts, drafts, fingerprints, bounds.csv and the views."""
    from .cut import _drafts, find_duplicates, read_fingerprints

    old_id, sid = old["clip_id"], old["source_id"]
    clips = [c for c, _ in made]
    new_ids = [c.clip_id for c in clips]
    with workspace.lock():
        # everything read before anything is written
        table = workspace.read_clip_table()
        if not pc.any(pc.equal(table["clip_id"], old_id)).as_py():
            raise _unknown(old_id)
        labels = _check_version(workspace, old_id, expected_version)
        targets = fold(workspace.journal().for_clips(new_ids), set(new_ids))
        cuts = workspace.read_cuts()
        drafts = [r for r in read_csv(workspace.drafts_csv) if r["clip_id"] != old_id]
        prints = read_fingerprints(workspace)
        hand = read_hand_clips(bounds_csv(workspace))
        changes = _label_moves(old_id, labels, targets, new_ids, split)
        if changes:
            what = f"split of {old_id} at {clips[0].end:.3f} s" if split else f"boundary edit of {old_id}"
            tx = {"tx": new_tx_id(), "time": now_iso(), "reviewer": reviewer, "why": what, "changes": changes}
            workspace.journal().append([tx])
        kept = table.filter(pc.not_equal(table["clip_id"], old_id)).cast(CLIP_SCHEMA)
        added = pa.table(
            {name: [getattr(c, name) for c in clips] for name in CLIP_SCHEMA.names}, schema=CLIP_SCHEMA
        )
        merged = pa.concat_tables([kept, added])
        order = pc.sort_indices(merged, [("source_id", "ascending"), ("start", "ascending")])
        write_parquet_atomic(workspace.clips_parquet, merged.take(order))
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
        drafts += [
            {"clip_id": c, "transcript_draft": t, "draft_kind": k}
            for c, t, k in _drafts(workspace.root, source, clips)
        ]
        write_csv_atomic(workspace.drafts_csv, DRAFT_FIELDS, sorted(drafts, key=lambda r: r["clip_id"]))
        prints = prints.filter(pc.not_equal(prints["clip_id"], old_id))
        fresh = pa.table(
            {"clip_id": new_ids, "source_id": [sid] * len(made), "fingerprint": [f for _, f in made]},
            schema=FINGERPRINT_SCHEMA,
        )
        write_parquet_atomic(workspace.fingerprints_parquet, pa.concat_tables([prints, fresh]))
        _write_hand_clips(workspace, _record_hand(hand, old, clips, split, reviewer))
        find_duplicates(workspace)
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


# -- keeping hand edits through a cut ---------------------------------------------------
def _outside(start: float, end: float, regions: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of start–end outside every region (regions sorted and merged)."""
    parts, at = [], start
    for a, b in regions:
        if b <= at or a >= end:
            continue
        if a > at:
            parts.append((at, a))
        at = max(at, b)
    if at < end:
        parts.append((at, end))
    return parts


def _merged(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def apply_hand_clips(
    root: Path, source: Source, result: Any, vad: VadSettings, ffmpeg: str, write: bool
) -> Any:
    """A finished cut of `source` (a `cut.SourceCut`) with the hand edits of bounds.csv
    applied: the hand-made clips as they are, the cut's clips trimmed to the parts outside
    the regions the edits decided (parts shorter than `min_clip_s` dropped). Runs in the
    cut's worker; files of the cut's clips it drops are removed unless a manifest row
    names them (then the commit retires them)."""
    hand = [h for h in read_hand_clips(root / "manifests" / BOUNDS_NAME) if h.source_id == source.source_id]
    if not hand or not result.ok:
        return result
    from .cut import _drafts

    regions = _merged([(h.region_start, h.region_end) for h in hand])
    listed: set[str] = set()
    parquet = root / "manifests" / "clips.parquet"
    if write and parquet.exists():
        listed = set(pq.read_table(parquet, columns=["path"])["path"].to_pylist())
    prints = list(result.fingerprints)
    keep: list[tuple[Clip, bytes | None]] = []
    pieces: list[tuple[float, float]] = [(h.start, h.end) for h in hand]
    for k, clip in enumerate(result.clips):
        parts = _outside(clip.start, clip.end, regions)
        if parts == [(clip.start, clip.end)]:
            keep.append((clip, prints[k] if prints else None))
            continue
        pieces += [(_ms(a), _ms(b)) for a, b in parts if b - a >= vad.min_clip_s]
        if write and clip.path not in listed:
            (root / clip.path).unlink(missing_ok=True)
    media = root / source.media
    made = []
    for a, b in sorted(pieces):
        pcm = source_pcm(ffmpeg, media, vad.sample_rate, a, b)
        made.append(make_clip(root, source.source_id, a, b, pcm, vad, _settings_of(vad), write))
    combined = sorted([*keep, *made], key=lambda pair: pair[0].start)
    kept_ids = {c.clip_id for c, _ in keep}
    drafts = [d for d in result.drafts if d[0] in kept_ids]
    if write:
        drafts += _drafts(root, source, [c for c, _ in made])
    return replace(
        result,
        clips=tuple(c for c, _ in combined),
        fingerprints=tuple(f for _, f in combined)
        if write and all(f is not None for _, f in combined)
        else (),
        drafts=tuple(drafts),
    )

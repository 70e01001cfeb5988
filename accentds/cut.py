"""Cut sources into clips: stream PCM from ffmpeg through the VAD, write WAV clips, commit.

A worker writes clip files (each atomically) and returns their records; the parent process
commits them to the manifests under the workspace lock and only then deletes the files the
new cut no longer uses. A crash at any point leaves every manifest row with its file."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import quality
from .acoustic import REASONS, UNBACKED, UNCONFIRMED, BlockAnalysis, Blocks, SpeechCheck, Thresholds
from .captions import drafts_for_clips
from .config import VadSettings
from .confirm import confirm, pauses
from .errors import AccentdsError
from .media import BYTES_PER_SAMPLE, MediaError, find_ffmpeg, header_duration, pcm_stream, write_wav
from .models import Clip, CutRecord, Source, clip_id
from .silero import SileroDetector
from .vad import FrameClip, Segmenter, make_detector, power_db
from .workspace import (
    CLIP_SCHEMA,
    DRAFT_FIELDS,
    DUPLICATE_FIELDS,
    FINGERPRINT_SCHEMA,
    Workspace,
    now_iso,
    read_csv,
    refresh_manifest,
    write_csv_atomic,
    write_manifest,
    write_parquet_atomic,
)

NOISE_CONTEXT_S = 10.0  # the source's pauses this far before and after a clip give its noise
NOISE_MARGIN_S = 0.1  # pause frames this close to speech are left out (onsets, tails)
NOISE_MIN_S = 1.0  # less pause than this: the SNR's in-clip estimate


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
    fingerprints: tuple[bytes, ...] = ()  # each clip's (`quality.fingerprint`) as little-endian uint32

    @property
    def kept_s(self) -> float:
        return sum(c.duration for c in self.clips)

    @property
    def dropped_s(self) -> float:
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
        return _cut_source(Path(root), source, vad, ffmpeg, write)
    except (MediaError, OSError) as exc:
        if write and folder.is_dir():  # files this failed run wrote have no row: remove them
            for path in set(folder.glob("*.wav")) - before:
                path.unlink(missing_ok=True)
        if isinstance(exc, MediaError):
            return SourceCut(source.source_id, ok=False, reason=str(exc))
        return SourceCut(source.source_id, ok=False, reason=f"{exc.strerror}: {exc.filename}")


class DropLog:
    """Where the acoustic check vetoed VAD speech, and why: runs of one reason each.

    `spans` keeps only what no clip holds (a veto between two words inside a clip drops
    nothing) and joins pieces closer than the merge gap: what a listener would call one
    passage, with its most frequent reason."""

    def __init__(self, gap_frames: int) -> None:
        self.gap = max(1, gap_frames)
        self.runs: list[tuple[int, int, int]] = []  # [start, end) and reason code

    def add(self, first_frame: int, why: np.ndarray) -> None:
        hits = np.flatnonzero(why)
        if not len(hits):
            return
        # a new run wherever the frame index jumps or the reason changes
        breaks = np.flatnonzero((np.diff(hits) > 1) | (np.diff(why[hits]) != 0)) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [len(hits)]])
        for i, j in zip(starts.tolist(), ends.tolist(), strict=True):
            a, b = first_frame + int(hits[i]), first_frame + int(hits[j - 1]) + 1
            self.runs.append((a, b, int(why[hits[i]])))

    def spans(self, clips: Sequence[tuple[int, int]], frame_s: float) -> list[tuple[float, float, str]]:
        pieces: list[tuple[int, int, int]] = []
        k = 0
        for a, b, code in sorted(self.runs):  # clips are in order
            while k < len(clips) and clips[k][1] <= a:
                k += 1
            lo, j = a, k
            while j < len(clips) and clips[j][0] < b:
                if clips[j][0] > lo:
                    pieces.append((lo, clips[j][0], code))
                lo = max(lo, clips[j][1])
                j += 1
            if lo < b:
                pieces.append((lo, b, code))
        passages: list[list[int]] = []  # [start, end, frames of reason 1..4]
        for a, b, code in pieces:
            if not passages or a - passages[-1][1] >= self.gap:
                passages.append([a, b] + [0] * (len(REASONS) - 1))
            passage = passages[-1]
            passage[1] = max(passage[1], b)
            passage[1 + code] += b - a
        out = []
        for a, b, *counts in passages:
            reason = REASONS[1 + max(range(len(counts)), key=counts.__getitem__)]
            out.append((round(a * frame_s, 3), round(b * frame_s, 3), reason))
        return out


class SpeechFinder:
    """The cutting pipeline short of writing: detector → Silero confirmation → acoustic check
    → segmenter, each stage as `vad` asks for it.

    `feed` takes PCM in whole frames and returns the clips finished so far with each frame's
    power and peak; `finish` returns the rest; `dropped` says what speech no clip kept;
    `speech_prob` gives a clip's highest Silero probability; `spectra` holds the block
    spectra clips not yet returned may need for their hints."""

    def __init__(self, vad: VadSettings) -> None:
        self.vad = vad
        self.detector = make_detector(vad)
        self.frame_bytes = self.detector.frame_bytes
        self.segmenter = Segmenter(
            vad.frame_ms, vad.padding_ms, vad.merge_gap_ms, vad.min_clip_s, vad.max_clip_s
        )
        self.analysis = BlockAnalysis(vad.sample_rate)
        self.spectra = quality.SpectraStore(self.analysis.size)
        self.silero: SileroDetector | None = None  # Silero's probabilities, with either backend using it
        if vad.backend == "webrtc+silero":
            self.silero = SileroDetector(
                vad.silero_threshold, vad.sample_rate, vad.frame_ms, vad.silero_model or None
            )
        elif vad.backend == "silero":
            self.silero = self.detector  # type: ignore[assignment]
        self.check = (
            SpeechCheck(vad.sample_rate, vad.frame_ms, Thresholds.of(vad)) if vad.music_noise_check else None
        )
        self.drops = DropLog(round(vad.merge_gap_ms / vad.frame_ms))
        self.waiting = np.zeros(0)  # energies (dB) of frames not yet decided
        self.probs = array("f")  # Silero's probability of each frame from `probs_base`
        self.probs_base = 0
        self.frames = 0  # frames fed
        self.quiet = np.zeros(0, bool)  # noise flags (`confirm.pauses`) of frames from `quiet_base`
        self.quiet_base = 0
        self.frame_samples = vad.sample_rate * vad.frame_ms // 1000
        self.context = round(NOISE_CONTEXT_S * 1000 / vad.frame_ms)  # in frames
        self.margin = round(NOISE_MARGIN_S * 1000 / vad.frame_ms)
        self.fewest = max(1, round(NOISE_MIN_S * vad.sample_rate / self.analysis.size))  # in blocks
        self.pool = ThreadPoolExecutor(1, "silero") if vad.backend == "webrtc+silero" else None
        # chunks fed, waiting for Silero: (its probabilities, webrtcvad's flags, blocks, first frame)
        self.pending: deque[tuple[Future[tuple[np.ndarray, ...]], np.ndarray, Blocks, int]] = deque()

    @property
    def keep_from(self) -> int:
        """The first frame a clip not yet returned can start at."""
        return self.segmenter.keep_from

    def feed(self, pcm: bytes | bytearray) -> tuple[list[FrameClip], np.ndarray, np.ndarray]:
        if self.vad.backend == "silero":
            flags, probs, power, peak = self.detector.analyse(pcm)  # type: ignore[attr-defined]
            self.probs.extend(probs.tolist())
        else:
            if self.pool is not None:  # Silero runs beside all the rest (onnxruntime lets the GIL go)
                future = self.pool.submit(self.silero.analyse, bytes(pcm))  # type: ignore[union-attr]
            flags, power, peak = self.detector.detect(pcm)
        first, self.frames = self.frames, self.frames + len(power)
        blocks = self.analysis.push(np.frombuffer(pcm, "<i2"))
        self.spectra.add(blocks.loudness, blocks.spectrum)
        self.waiting = np.concatenate([self.waiting, power_db(power)])
        if self.pool is None:
            self.quiet = np.concatenate([self.quiet, ~np.asarray(flags, bool)])
            return self._check_and_segment(blocks, flags), power, peak
        # chunks wait for Silero in turn; the newest only if Silero is done with it already
        self.pending.append((future, np.asarray(flags, bool), blocks, first))
        found = []
        while len(self.pending) > 1 or (self.pending and self.pending[0][0].done()):
            found += self._confirmed(*self.pending.popleft())
        return found, power, peak

    def finish(self) -> list[FrameClip]:
        found = []
        while self.pending:
            found += self._confirmed(*self.pending.popleft())
        if self.pool is not None:
            self.pool.shutdown()
        blocks = self.analysis.finish()
        self.spectra.add(blocks.loudness, blocks.spectrum)
        if self.check is not None:
            kept, why = self.check.finish(blocks)
            self.drops.add(self.segmenter.frames, why)
            found += self._segment(kept)
        return found + self._backed(self.segmenter.finish())

    def _confirmed(
        self, future: Future[tuple[np.ndarray, ...]], heard: np.ndarray, blocks: Blocks, first: int
    ) -> list[FrameClip]:
        """One chunk through the confirmation (accentds.confirm), once Silero has heard it."""
        probs = future.result()[1]
        self.probs.extend(probs.tolist())
        thresholds = self.vad.confirm_threshold, self.vad.silero_threshold
        kept = confirm(heard, probs, *thresholds)
        self.quiet = np.concatenate([self.quiet, pauses(heard, probs, *thresholds)])
        self.drops.add(first, (heard & ~kept).astype(np.int8) * UNBACKED)
        return self._check_and_segment(blocks, kept)

    def _check_and_segment(self, blocks: Blocks, flags: np.ndarray | list[bool]) -> list[FrameClip]:
        if self.check is not None:
            flags, why = self.check.push(blocks, flags)
            self.drops.add(self.segmenter.frames, why)
        return self._segment(flags)

    def _segment(self, flags: np.ndarray | list[bool]) -> list[FrameClip]:
        n = len(flags)
        if not n:
            return []
        found = self.segmenter.push(flags, self.waiting[:n])
        self.waiting = self.waiting[n:]
        return self._backed(found)

    def _backed(self, found: list[FrameClip]) -> list[FrameClip]:
        """The clips Silero gives at least `min_clip_prob` somewhere (with its confirmation)."""
        if self.vad.backend != "webrtc+silero":
            return found
        kept = []
        for clip in found:
            if (self.speech_prob(clip) or 0.0) >= self.vad.min_clip_prob:
                kept.append(clip)
            else:
                self.drops.runs.append((clip.start, clip.end, UNCONFIRMED))
        return kept

    def speech_prob(self, clip: FrameClip) -> float | None:
        """The highest Silero probability over a clip (None without Silero)."""
        if self.silero is None:
            return None
        lo, hi = clip.start - self.probs_base, clip.end - self.probs_base
        return round(max(self.probs[max(0, lo) : hi], default=0.0), 3)

    def noise(self, clip: FrameClip, after: bool = True) -> np.ndarray | None:
        """The mean power spectrum of the blocks in the source's pauses within NOISE_CONTEXT_S
        of the clip and inside it (the frames `confirm.pauses` flags, NOISE_MARGIN_S or more
        from any other), as far as the stream is known (`after=False`: up to the clip's end);
        None when they make less than NOISE_MIN_S."""
        base = self.quiet_base
        lo = max(base, clip.start - self.context)
        hi = min(base + len(self.quiet), clip.end + self.context if after else clip.end)
        if hi - lo <= 2 * self.margin:
            return None
        busy = np.r_[0, np.cumsum(~self.quiet[lo - base : hi - base])]  # speech frames before each
        size, frame, m = self.analysis.size, self.frame_samples, self.margin
        first, spectra = self.spectra.rows(-(-lo * frame // size), hi * frame // size)
        blocks = np.arange(first, first + len(spectra))
        a = np.maximum(blocks * size // frame - m - lo, 0)  # the frames each block and its margin touch
        b = np.minimum(((blocks + 1) * size - 1) // frame + m + 1 - lo, hi - lo)
        calm = busy[b] == busy[a]
        if np.count_nonzero(calm) < self.fewest:
            return None
        return spectra[calm].mean(axis=0, dtype=np.float64)

    def forget(self) -> None:
        """Let go of the block spectra, probabilities and noise flags no clip still to come can use."""
        frame = self.vad.sample_rate * self.vad.frame_ms // 1000
        first = max(0, self.keep_from - self.context)
        self.spectra.forget(first * frame // self.analysis.size)
        if first > self.quiet_base:
            self.quiet = self.quiet[first - self.quiet_base :]
            self.quiet_base = first
        drop = self.keep_from - self.probs_base
        if drop > 0:
            del self.probs[:drop]
            self.probs_base += drop

    def dropped(self, spans: Sequence[tuple[int, int]]) -> list[tuple[float, float, str]]:
        """Passages of VAD speech outside every clip (frame spans), with the reason, in seconds."""
        frame_s = self.vad.frame_ms / 1000
        short = [(round(a * frame_s, 3), round(b * frame_s, 3), "short") for a, b in self.segmenter.short]
        return sorted(self.drops.spans(spans, frame_s) + short)


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
            hints = quality.measure(samples, rate, blocks, peak, finder.noise(fc))
            if write:
                prints.append(quality.fingerprint(samples, rate).astype("<u4").tobytes())
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
        warnings.append(no_speech_warning(dropped))
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


def no_speech_warning(dropped: Sequence[tuple[float, float, str]]) -> str:
    """What to tell of a source that gave no clip: what the VAD heard, and why none is kept."""
    seconds: dict[str, float] = {}
    for start, end, reason in dropped:
        seconds[reason] = seconds.get(reason, 0.0) + end - start
    if not seconds:
        return "no speech found"
    why = ", ".join(f"{s:.1f} s {reason}" for reason, s in sorted(seconds.items(), key=lambda x: -x[1]))
    return f"no speech found: the VAD heard {sum(seconds.values()):.1f} s, none kept ({why}; see --explain)"


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
    workspace: Workspace, vad: VadSettings, source_ids: Sequence[str] = (), force: bool = False
) -> CutPlan:
    """Choose the sources to cut: the ones named, or every source not yet cut with `vad`."""
    sources = workspace.read_sources()
    by_id = {s.source_id: s for s in sources}
    unknown = [sid for sid in source_ids if sid not in by_id]
    if unknown:
        raise AccentdsError(
            f"unknown source id(s): {', '.join(unknown)}; `accentds status --sources` lists them"
        )
    if source_ids:
        return CutPlan(todo=[by_id[sid] for sid in dict.fromkeys(source_ids)])
    cuts = workspace.read_cuts()
    plan = CutPlan(todo=[])
    for source in sources:
        record = cuts.get(source.source_id)
        if force or record is None or record.settings_id != vad.settings_id:
            plan.todo.append(source)
        else:
            plan.up_to_date.append(source)
    return plan


def commit_cut(workspace: Workspace, result: SourceCut, vad: VadSettings, manifest: bool = True) -> None:
    """Record a finished cut in the manifests, then delete clip files no longer used.
    `manifest=False` leaves the joined view to the caller, who writes it next."""
    sid = result.source_id
    new_ids = {c.clip_id for c in result.clips}
    with workspace.lock():
        table = workspace.read_clip_table()
        kept = table.filter(pc.not_equal(table["source_id"], sid))
        added = pa.table(  # column by column: asdict per clip costs more than the write
            {name: [getattr(c, name) for c in result.clips] for name in CLIP_SCHEMA.names}, schema=CLIP_SCHEMA
        )
        merged = pa.concat_tables([kept.cast(CLIP_SCHEMA), added])
        order = pc.sort_indices(merged, [("source_id", "ascending"), ("start", "ascending")])
        write_parquet_atomic(workspace.clips_parquet, merged.take(order))
        cuts = workspace.read_cuts()
        cuts[sid] = CutRecord(
            source_id=sid,
            settings_id=vad.settings_id,
            clips=len(result.clips),
            kept_s=result.kept_s,
            dropped_s=result.dropped_s,
            cut_at=now_iso(),
            note=result.warning,
        )
        workspace.write_cuts(cuts)
        drafts = [r for r in read_csv(workspace.drafts_csv) if not r["clip_id"].startswith(sid + "-")]
        drafts += [{"clip_id": c, "transcript_draft": t, "draft_kind": k} for c, t, k in result.drafts]
        write_csv_atomic(workspace.drafts_csv, DRAFT_FIELDS, sorted(drafts, key=lambda r: r["clip_id"]))
        prints = read_fingerprints(workspace)
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
        if manifest:
            write_manifest(workspace)
        folder = workspace.clips / sid
        if folder.is_dir():
            for path in folder.iterdir():
                if path.suffix == ".wav" and path.stem not in new_ids:
                    path.unlink(missing_ok=True)


def read_fingerprints(workspace: Workspace, columns: list[str] | None = None) -> pa.Table:
    """manifests/fingerprints.parquet: one audio fingerprint per clip."""
    schema = (
        FINGERPRINT_SCHEMA if columns is None else pa.schema([FINGERPRINT_SCHEMA.field(c) for c in columns])
    )
    if not workspace.fingerprints_parquet.exists():
        return schema.empty_table()
    return pq.read_table(workspace.fingerprints_parquet, columns=columns).cast(schema)


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
    groups = quality.group_fingerprints(ids, values, lengths, workspace.config.quality.duplicate_similarity)
    del values
    rows = [{"clip_id": c, "duplicate_group": g} for c, g in sorted(groups.items())]
    write_csv_atomic(workspace.duplicates_csv, DUPLICATE_FIELDS, rows)
    return len(rows)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def default_workers() -> int:
    """One worker per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
) -> list[SourceCut]:
    """Cut sources into clips and record them; return one result per source cut.

    Results are committed one source at a time as they finish, so an interrupted run keeps
    what it finished and the next run resumes with the rest."""
    vad = vad or workspace.config.vad
    ffmpeg = find_ffmpeg(ffmpeg or workspace.config.ffmpeg)
    plan = plan_cut(workspace, vad, source_ids, force)
    if on_start:
        on_start(plan)
    results: list[SourceCut] = []
    if not plan.todo:
        return results
    by_id = {s.source_id: s for s in plan.todo}
    root = str(workspace.root)
    if not dry_run:
        refresh_manifest(workspace)
        for leftover in workspace.clips.glob("*/*.part"):  # from a killed run
            leftover.unlink(missing_ok=True)

    def finish(result: SourceCut) -> None:
        if not dry_run and result.ok:
            last = len(results) + 1 == len(plan.todo)  # the run's end writes the manifest next
            commit_cut(workspace, result, vad, manifest=not last)
        results.append(result)
        if on_result:
            on_result(by_id[result.source_id], result)

    run_all(finish, plan.todo, root, vad, ffmpeg, dry_run, workers, executor)
    if not dry_run and any(r.ok for r in results):
        with workspace.lock():
            find_duplicates(workspace)
            write_manifest(workspace)
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

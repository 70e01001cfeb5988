"""The cutting pipeline short of writing, frame by frame: webrtcvad → Silero confirmation
(accentds.confirm) → the optional acoustic check → segmenter, with a log of what speech no
clip kept and why, and each clip's Silero probability and noise spectrum."""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from . import quality
from .acoustic import REASONS, TONES, UNBACKED, UNCONFIRMED, BlockAnalysis, Blocks, SpeechCheck, Thresholds
from .config import VadSettings
from .confirm import confirm, pauses
from .silero import SileroDetector
from .vad import FrameClip, Segmenter, make_detector, power_db

NOISE_CONTEXT_S = 10.0  # the source's pauses this far before and after a clip give its noise
NOISE_MARGIN_S = 0.1  # pause frames this close to speech are left out (onsets, tails)
NOISE_MIN_S = 1.0  # less pause than this: the SNR's in-clip estimate
# A clip whose median spectral flux (acoustic.BlockAnalysis) is below this is held tones, not
# speech: generated music reads 0.010-0.015, speech over real music and noise 0.077 or more.
TONES_FLUX = 0.03


class DropLog:
    """Where VAD speech was dropped, and why (`acoustic.REASONS`: the confirmation's and the
    acoustic check's): runs of one reason each.

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
        passages: list[list[int]] = []  # [start, end, frames of each reason but the first]
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
                vad.silero_threshold,
                vad.sample_rate,
                vad.frame_ms,
                vad.silero_model or None,
                vad.silero_max_gain_db,
            )
        elif vad.backend == "silero":
            self.silero = self.detector  # type: ignore[assignment]
        self.check = (
            SpeechCheck(vad.sample_rate, vad.frame_ms, Thresholds.of(vad)) if vad.music_noise_check else None
        )
        self.drops = DropLog(round(vad.merge_gap_ms / vad.frame_ms))
        self.waiting = np.zeros(0)  # power (dB) of frames not yet segmented
        self.probs = array("f")  # Silero's probability of each frame from `probs_base`
        self.probs_base = 0
        self.flux = array("f")  # spectral flux of each block from `flux_base`
        self.flux_base = 0
        self.frames = 0  # frames fed
        self.quiet = np.zeros(0, bool)  # noise flags (`confirm.pauses`) of frames from `quiet_base`
        self.quiet_base = 0
        self.frame_samples = vad.sample_rate * vad.frame_ms // 1000
        self.context = round(NOISE_CONTEXT_S * 1000 / vad.frame_ms)  # in frames
        self.margin = round(NOISE_MARGIN_S * 1000 / vad.frame_ms)
        self.fewest = max(1, round(NOISE_MIN_S * vad.sample_rate / self.analysis.size))  # in blocks
        self.pool = ThreadPoolExecutor(1, "silero") if vad.backend == "webrtc+silero" else None
        # chunks fed, waiting for Silero: (its probabilities, webrtcvad's flags, blocks, first frame)
        self.pending: deque[tuple[Future[np.ndarray], np.ndarray, Blocks, int]] = deque()

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
                future = self.pool.submit(self.silero.frame_probs, bytes(pcm))  # type: ignore[union-attr]
            flags, power, peak = self.detector.detect(pcm)
        first, self.frames = self.frames, self.frames + len(power)
        blocks = self.analysis.push(np.frombuffer(pcm, "<i2"))
        self.spectra.add(blocks.loudness, blocks.spectrum)
        self.flux.extend(blocks.flux.tolist())
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
        self.flux.extend(blocks.flux.tolist())
        if self.check is not None:
            kept, why = self.check.finish(blocks)
            self.drops.add(self.segmenter.frames, why)
            found += self._segment(kept)
        return found + self._kept(self.segmenter.finish())

    def _confirmed(
        self, future: Future[np.ndarray], heard: np.ndarray, blocks: Blocks, first: int
    ) -> list[FrameClip]:
        """One chunk through the confirmation (accentds.confirm), once Silero has heard it."""
        probs = future.result()
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
        """Segment the next frames. With Silero, a long group is split where its probability
        is lowest, and a pause where it stays at `confirm_threshold` or more does not part
        two runs of speech (`Segmenter.push`); with webrtcvad alone, at the quietest pause."""
        n = len(flags)
        if not n:
            return []
        costs, soft = self.waiting[:n], None
        if self.silero is not None:
            at = self.segmenter.frames - self.probs_base
            probs = np.array(self.probs[at : at + n], np.float32)
            costs, soft = probs * 100.0 + costs, probs >= self.vad.confirm_threshold
        found = self.segmenter.push(flags, costs, soft)
        self.waiting = self.waiting[n:]
        return self._kept(found)

    def _kept(self, found: list[FrameClip]) -> list[FrameClip]:
        """With the confirmation (the other backends keep all): the clips that are not held
        tones and that Silero gives at least `min_clip_prob` somewhere."""
        if self.vad.backend != "webrtc+silero":
            return found
        kept = []
        for clip in found:
            if self.flux_of(clip) < TONES_FLUX:
                self.drops.runs.append((clip.start, clip.end, TONES))
            elif (self.speech_prob(clip) or 0.0) < self.vad.min_clip_prob:
                self.drops.runs.append((clip.start, clip.end, UNCONFIRMED))
            else:
                kept.append(clip)
        return kept

    def flux_of(self, clip: FrameClip) -> float:
        """The median spectral flux of the blocks that lie wholly inside a clip (1.0 for none)."""
        size, frame = self.analysis.size, self.frame_samples
        lo = -(-clip.start * frame // size) - self.flux_base
        hi = clip.end * frame // size - self.flux_base
        inside = self.flux[max(0, lo) : max(0, hi)]
        return float(np.median(inside)) if len(inside) else 1.0

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
        first = max(0, self.keep_from - self.context)
        block = first * self.frame_samples // self.analysis.size
        self.spectra.forget(block)
        if block > self.flux_base:
            del self.flux[: block - self.flux_base]
            self.flux_base = block
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


def no_speech_warning(dropped: Sequence[tuple[float, float, str]], source_id: str) -> str:
    """What to tell of a source that gave no clip: what the VAD heard, why none is kept, and
    the command that lists the passages (the source is cut, so a plain `cut` has nothing to do)."""
    seconds: dict[str, float] = {}
    for start, end, reason in dropped:
        seconds[reason] = seconds.get(reason, 0.0) + end - start
    if not seconds:
        return "no speech found"
    why = ", ".join(f"{s:.1f} s {reason}" for reason, s in sorted(seconds.items(), key=lambda x: -x[1]))
    return (
        f"no speech found: the VAD heard {sum(seconds.values()):.1f} s, none kept ({why}; "
        f"`accentds cut {source_id} --force --dry-run --explain` lists where)"
    )

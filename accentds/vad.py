"""Speech segmentation: a pure segmenter (frame flags in, spans out) and the webrtcvad adapter.

The segmenter works in whole frames. Speech runs separated by pauses shorter than the merge
gap form one group; so do runs around a pause of under `BRIDGE_MS` whose frames are mostly
"soft" (where the VAD is unsure: fewer than the merge gap's worth are not). A group longer
than the maximum clip is split at its pause of lowest cost (each frame's power in dB, or
Silero's probability; longest, then most central, among equal ones) and only inside a run of
speech when it has no pause; each clip gets padding that never reaches past the middle of
the pause to its neighbour; clips shorter than the minimum are dropped."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .models import Span

if TYPE_CHECKING:
    from .config import VadSettings

FrameSpan = tuple[int, int]
BRIDGE_MS = 1000  # a pause this long ends a group however unsure the VAD is in it


@dataclass(frozen=True)
class FrameClip:
    """A clip in frame units: [start, end) and how many of its frames are speech."""

    start: int
    end: int
    speech_frames: int
    flags: bytes = field(default=b"", compare=False, repr=False)  # per frame: 1 speech, 0 not

    @property
    def speech_ratio(self) -> float:
        """The share of speech frames from the clip's first speech frame to its last: the
        padding around them does not count, so a one-word clip is not "little speech"."""
        if not self.flags:
            return self.speech_frames / (self.end - self.start)
        first, last = self.flags.find(1), self.flags.rfind(1)
        return self.speech_frames / (last - first + 1) if first >= 0 else 0.0

    def speech(self) -> np.ndarray | None:
        """One flag per frame of the clip, True where the VAD heard speech (None without flags)."""
        return np.frombuffer(self.flags, np.uint8).astype(bool) if self.flags else None


class Segmenter:
    """Incremental segmenter: `push` frames as they are decoded, get finished clips back.

    Clips come out in order as soon as no later frame can change them, so a long source
    needs memory only for the group of speech being formed."""

    def __init__(
        self,
        frame_ms: int,
        padding_ms: int,
        merge_gap_ms: int,
        min_clip_s: float,
        max_clip_s: float,
    ) -> None:
        self.pad = round(padding_ms / frame_ms)
        self.gap = max(1, round(merge_gap_ms / frame_ms))
        self.min_len = math.ceil(round(min_clip_s * 1000 / frame_ms, 6))
        self.max_len = max(1, math.floor(round(max_clip_s * 1000 / frame_ms, 6)))
        self.bridge = max(self.gap, round(BRIDGE_MS / frame_ms))
        self.base = 0  # frame index of flags[0], soft[0] and costs[0]: older frames are forgotten
        self.flags = bytearray()
        self.soft = bytearray()  # 1: a pause frame that counts as no pause in the merge gap
        self.costs = array("f")
        self.runs: list[list[int]] = []  # the open group: [start, end) of each speech run
        self.in_speech = False
        self.prev_end: int | None = None  # speech end of the last closed group
        self.short: list[tuple[int, int]] = []  # clips dropped for being shorter than the minimum

    @property
    def frames(self) -> int:
        return self.base + len(self.flags)

    @property
    def keep_from(self) -> int:
        """The first frame a clip not yet returned can start at."""
        first = self.runs[0][0] if self.runs else self.frames
        return max(0, first - self.pad)

    def push(
        self,
        flags: Iterable[bool],
        costs: Iterable[float] | None = None,
        soft: Iterable[bool] | None = None,
    ) -> list[FrameClip]:
        """Add frames and return the clips they finish. `flags`: speech; `costs`: how bad a
        place each frame is to split a long group at, compared in steps of 3 (power in dB, or
        Silero's probability × 100); `soft`: pause frames where the VAD is unsure, which do
        not count towards the merge gap."""
        out: list[FrameClip] = []
        start, base = self.frames, self.base
        self.flags.extend(1 if f else 0 for f in flags)
        count = self.frames - start
        self.costs.extend([0.0] * count if costs is None else costs)
        self.soft.extend(bytes(count) if soft is None else np.asarray(soft, bool).astype(np.uint8).tobytes())
        # walk the new frames run by run (a run: frames of one flag), not frame by frame
        if count:
            new = np.frombuffer(self.flags, np.uint8, count, start - base)
            cuts = [0, *(np.flatnonzero(np.diff(new)) + 1).tolist(), count]
            speech = new[cuts[:-1]].tolist()
            del new  # a view: the bytearray must stay resizable
        else:
            cuts, speech = [0], []
        close_after = max(self.gap, 2 * self.pad)  # frames of non-speech that end a group
        runs = self.runs
        for k, is_speech in enumerate(speech):
            a, b = start + cuts[k], start + cuts[k + 1]
            if is_speech:
                i = a
                if not self.in_speech:
                    if runs and self._parts(runs[-1][1], a):
                        out += self._close(next_start=a)
                        runs = self.runs
                    runs.append([a, a + 1])
                    self.in_speech = True
                    i = a + 1
                while i < b:  # long speech: flush the group's head at each frame that reaches 3 × max
                    j = max(i, runs[0][0] + 3 * self.max_len)
                    if j >= b:
                        runs[-1][1] = b
                        break
                    runs[-1][1] = j + 1
                    out += self._flush_head()
                    runs = self.runs
                    i = j + 1
            else:
                self.in_speech = False
                if runs and max(a, runs[-1][1] + close_after - 1) < b and self._parts(runs[-1][1], b):
                    out += self._close(next_start=None)
                    runs = self.runs
        self._forget()
        return out

    def _parts(self, a: int, b: int) -> bool:
        """Whether the pause [a, b) ends a group: it lasts the bridge, or holds the merge gap
        of frames that are not soft."""
        if b - a < self.gap:
            return False
        if b - a >= self.bridge:
            return True
        return b - a - sum(self.soft[a - self.base : b - self.base]) >= self.gap

    def _forget(self) -> None:
        """Drop the frames no clip can reach any more, so memory stays flat."""
        drop = self.keep_from - self.base
        if drop > 1024 and drop * 2 > len(self.flags):
            del self.flags[:drop]
            del self.soft[:drop]
            del self.costs[:drop]
            self.base += drop

    def finish(self) -> list[FrameClip]:
        """Close the stream: return the clips still open."""
        return self._close(next_start=None, at_end=True) if self.runs else []

    # -- internals ------------------------------------------------------------
    def _close(self, next_start: int | None, at_end: bool = False) -> list[FrameClip]:
        pieces = self._split([(a, b) for a, b in self.runs])
        self.runs = []
        if next_start is not None:
            hi = (pieces[-1][-1][1] + next_start) // 2
        else:
            hi = self.frames if at_end else pieces[-1][-1][1] + self.pad
        return self._clips(pieces, hi)

    def _flush_head(self) -> list[FrameClip]:
        """Return the clips at the head of a very long group so it need not be held whole.

        The first `2 * max` frames of the group are split as `_close` would split them; all
        pieces but the last become clips and the rest of the group stays open."""
        limit = self.runs[0][0] + 2 * self.max_len
        head = [(a, min(b, limit)) for a, b in self.runs if a < limit]
        pieces = self._split(head)
        if len(pieces) < 2:
            return []
        keep = pieces[-1]
        rest = [(a, b) for a, b in self.runs if b > limit]
        if rest and keep[-1][1] == limit and rest[0][0] < limit:  # a run crossing the limit
            keep[-1] = (keep[-1][0], rest.pop(0)[1])
        self.runs = [list(r) for r in keep + rest]
        return self._clips(pieces[:-1], (pieces[-2][-1][1] + keep[0][0]) // 2)

    def _clips(self, pieces: list[list[tuple[int, int]]], hi_last: int) -> list[FrameClip]:
        """Clips for consecutive pieces of speech; neighbours meet at the middle of their pause."""
        extents = [(p[0][0], p[-1][1]) for p in pieces]
        clips = []
        for k, (s, e) in enumerate(extents):
            if k == 0:
                lo = 0 if self.prev_end is None else (self.prev_end + s) // 2
            else:
                lo = (extents[k - 1][1] + s) // 2
            hi = (e + extents[k + 1][0]) // 2 if k + 1 < len(extents) else hi_last
            a, b = max(s - self.pad, lo), min(e + self.pad, hi)
            if b - a > self.max_len:  # padding gives way to the maximum
                spare = self.max_len - (e - s)
                a = max(a, s - spare // 2)
                b = min(b, a + self.max_len)
            if b - a >= max(self.min_len, 1):
                flags = bytes(self.flags[a - self.base : b - self.base])
                clips.append(FrameClip(a, b, sum(flags), flags))
            elif b > a:
                self.short.append((a, b))
        self.prev_end = extents[-1][1]
        return clips

    def _split(self, runs: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        s, e = runs[0][0], runs[-1][1]
        if e - s + 2 * self.pad <= self.max_len:
            return [list(runs)]
        middle = (s + e) / 2
        best = None
        for k in range(1, len(runs)):
            a, b = runs[k - 1][1], runs[k][0]
            mid = (a + b) // 2  # each piece gets at most half the pause as padding
            left = a - s + self.pad + min(self.pad, mid - a)
            right = e - b + self.pad + min(self.pad, b - mid)
            fits = left >= self.min_len and right >= self.min_len
            cost = round(sum(self.costs[a - self.base : b - self.base]) / (b - a) / 3)  # in steps of 3
            key = (not fits, cost, -(b - a), abs((a + b) / 2 - middle))
            if best is None or key < best[0]:
                best = (key, k)
        if best is not None:
            k = best[1]
            return self._split(runs[:k]) + self._split(runs[k:])
        if e - s <= self.max_len:  # speech fits; _close trims the padding to the maximum
            return [list(runs)]
        # one run of speech with no pause: cut at its frame of lowest cost, away from the edges
        margin = max(1, self.min_len - self.pad)
        lo, hi = s + margin, e - margin
        if lo >= hi:
            lo, hi = s + 1, e - 1
        costs, base = self.costs, self.base
        cut = min(range(lo, hi + 1), key=lambda i: (round(costs[i - base] / 3), abs(i - middle)))
        return self._split([(s, cut)]) + self._split([(cut, e)])


def parse_flags(text: str) -> list[bool]:
    """Flags from a string such as "..XXXX..X": X (or 1) is speech, anything else is not."""
    return [c in "Xx1" for c in text]


def segment(
    flags: Sequence[bool] | str,
    frame_ms: int = 30,
    padding_ms: int = 0,
    merge_gap_ms: int = 0,
    min_clip_s: float = 0.0,
    max_clip_s: float = 3600.0,
    costs: Sequence[float] | None = None,
    soft: Sequence[bool] | str | None = None,
) -> list[Span]:
    """Spans in seconds for a whole sequence of per-frame speech flags (`Segmenter.push`)."""
    if isinstance(flags, str):
        flags = parse_flags(flags)
    if isinstance(soft, str):
        soft = parse_flags(soft)
    seg = Segmenter(frame_ms, padding_ms, merge_gap_ms, min_clip_s, max_clip_s)
    clips = seg.push(flags, costs, soft) + seg.finish()
    return [Span(c.start * frame_ms / 1000, c.end * frame_ms / 1000) for c in clips]


class WebrtcDetector:
    """webrtcvad over whole frames of mono s16le PCM, with per-frame energy and peak."""

    def __init__(self, aggressiveness: int, sample_rate: int, frame_ms: int) -> None:
        import _webrtcvad
        import webrtcvad

        self.vad = webrtcvad.Vad(aggressiveness)
        self._process = _webrtcvad.process  # the checked wrapper costs a tenth of the VAD time
        self.rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self.frame_bytes = self.frame_samples * 2

    def detect(self, pcm: bytes | bytearray | memoryview) -> tuple[list[bool], np.ndarray, np.ndarray]:
        """For each whole frame of `pcm` (its length a multiple of a frame): the speech flag,
        the mean power (in squared full-scale units) and the peak sample magnitude."""
        view = memoryview(pcm)
        size, rate, n, vad, process = (
            self.frame_bytes,
            self.rate,
            self.frame_samples,
            self.vad._vad,
            self._process,
        )
        flags = [process(vad, rate, view[i : i + size], n) for i in range(0, len(view), size)]
        samples = np.frombuffer(view, dtype="<i2").reshape(-1, n)
        power = np.einsum("ij,ij->i", samples, samples, dtype=np.float64) / (n * 32768.0**2)
        if len(samples):  # no big temporaries: they fragment the heap of a long run
            peaks = np.maximum(samples.max(axis=1).astype(np.int32), -samples.min(axis=1).astype(np.int32))
        else:
            peaks = np.zeros(0, np.int32)
        return flags, power, peaks


class Detector(Protocol):
    """Frame-level speech detection over mono s16le PCM (see WebrtcDetector.detect)."""

    frame_bytes: int

    def detect(self, pcm: bytes | bytearray | memoryview) -> tuple[list[bool], np.ndarray, np.ndarray]: ...


def make_detector(vad: VadSettings) -> Detector:
    """The detector `vad.backend` names (webrtcvad for "webrtc+silero": Silero confirms it)."""
    if vad.backend == "silero":
        from .silero import SileroDetector

        return SileroDetector(
            vad.silero_threshold,
            vad.sample_rate,
            vad.frame_ms,
            vad.silero_model or None,
            vad.silero_max_gain_db,
        )
    return WebrtcDetector(vad.aggressiveness, vad.sample_rate, vad.frame_ms)


def power_db(power: np.ndarray | float) -> np.ndarray:
    """Mean power (squared full-scale units) in dBFS."""
    return 10 * np.log10(np.asarray(power) + 1e-10)

"""Scores of clips against true utterances, at 10 ms frames.

* frame precision / recall / F1, with a no-score collar around every true boundary (frames
  within `collar` seconds of an utterance's start or end count neither way: clip padding and
  the exact edge of a fading word are not errors); the collar-free figures are kept too;
* utterances covered: the share of true utterances of which one clip covers at least 80 %;
* boundaries inside speech: clip starts and ends more than 50 ms inside a true utterance;
* false clip-seconds: clip time overlapping no utterance at all (clips of music, noise, blips).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accentds.config import VadSettings
from accentds.finder import SpeechFinder

HOP = 0.01
Span = tuple[float, float]


@dataclass
class Score:
    tp: int = 0  # frames, collar excluded
    fp: int = 0
    fn: int = 0
    tp_all: int = 0  # frames, no collar
    fp_all: int = 0
    fn_all: int = 0
    utterances: int = 0
    covered: int = 0
    boundaries: int = 0
    inside: int = 0
    false_clip_s: float = 0.0
    clip_s: float = 0.0

    def __iadd__(self, other: Score) -> Score:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @staticmethod
    def _ratio(a: float, b: float) -> float:
        return a / b if b else 1.0

    @property
    def precision(self) -> float:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def precision_all(self) -> float:
        return self._ratio(self.tp_all, self.tp_all + self.fp_all)

    @property
    def recall_all(self) -> float:
        return self._ratio(self.tp_all, self.tp_all + self.fn_all)

    @property
    def coverage(self) -> float:
        return self._ratio(self.covered, self.utterances)


def _mask(spans: Sequence[Span], n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    for a, b in spans:
        m[max(0, round(a / HOP)) : min(n, round(b / HOP))] = True
    return m


def score(clips: Sequence[Span], utterances: Sequence[Span], seconds: float, collar: float = 0.25) -> Score:
    """Score one recording's clips (seconds) against its true utterances."""
    n = round(seconds / HOP)
    got, truth = _mask(clips, n), _mask(utterances, n)
    edges = [t for span in utterances for t in span]
    scored = ~_mask([(t - collar, t + collar) for t in edges], n)
    s = Score(
        tp=int(np.sum(got & truth & scored)),
        fp=int(np.sum(got & ~truth & scored)),
        fn=int(np.sum(~got & truth & scored)),
        tp_all=int(np.sum(got & truth)),
        fp_all=int(np.sum(got & ~truth)),
        fn_all=int(np.sum(~got & truth)),
        utterances=len(utterances),
    )
    for a, b in utterances:
        best = max((min(b, d) - max(a, c) for c, d in clips), default=0.0)
        s.covered += best >= 0.8 * (b - a)
    for c, d in clips:
        s.clip_s += d - c
        for t in (c, d):
            s.boundaries += 1
            s.inside += any(a + 0.05 < t < b - 0.05 for a, b in utterances)
        if not any(min(b, d) > max(a, c) for a, b in utterances):
            s.false_clip_s += d - c
    return s


def run(vad: VadSettings, pcm: bytes) -> tuple[list[Span], float]:
    """Clip spans (s) that accentds' own pipeline (`SpeechFinder`, fed in the chunks `cut`
    uses) finds in 16 kHz mono s16le PCM, and the seconds it took."""
    t0 = time.perf_counter()
    finder = SpeechFinder(vad)
    size = finder.frame_bytes * 2048
    whole = len(pcm) - len(pcm) % finder.frame_bytes
    clips = []
    for at in range(0, whole, size):
        clips += finder.feed(pcm[at : min(at + size, whole)])[0]
    clips += finder.finish()
    frame_s = vad.frame_ms / 1000
    return [(c.start * frame_s, c.end * frame_s) for c in clips], time.perf_counter() - t0

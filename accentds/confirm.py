"""Neural confirmation of webrtcvad's speech, frame by frame (the default cut).

webrtcvad hears almost all speech, even far below the noise, but it also takes music, hum,
traffic and crowd noise for speech. Silero VAD tells them apart much better, yet in loud
noise its probability for real speech can sink well below its usual 0.5 threshold. So a
frame is kept as speech when

* webrtcvad calls it speech, or Silero is sure of it (probability >= `sure`), and
* Silero gives at least `low` somewhere within `reach` frames of it (a word's quiet edges
  and the gaps between words lie close to Silero's speech).

Everything webrtcvad heard that Silero does not back at all within that reach is dropped:
that is the strong evidence a drop needs. Each clip also carries the highest Silero
probability over it (`FrameClip`'s caller reads it from `probs`), so a clip Silero only
half believes is kept and flagged for the reviewer rather than thrown away.

Decisions are streamed with a delay of `reach` frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def confirm(vad: np.ndarray, probs: np.ndarray, low: float, sure: float, reach: int) -> np.ndarray:
    """Kept flags for frames with webrtcvad flags `vad` and Silero probabilities `probs`
    (whole arrays: frames past either end count as no speech)."""
    backed = probs >= low
    if reach:
        padded = np.concatenate([np.zeros(reach, bool), backed, np.zeros(reach, bool)])
        backed = sliding_window_view(padded, 2 * reach + 1).any(axis=1)
    return (vad | (probs >= sure)) & backed


class Confirmation:
    """`confirm` over a stream. `push` webrtcvad's flags and Silero's probabilities as they
    come (Silero's may lag behind); get back the kept flags of the frames that can be
    decided: those with both, and `reach` frames of both after them. `finish` the rest."""

    def __init__(self, low: float, sure: float, reach: int) -> None:
        self.low, self.sure, self.reach = low, sure, reach
        self.vad = np.zeros(0, bool)
        self.probs = np.zeros(0, np.float32)
        self.history = 0  # frames at the head of the buffers already decided (left context)

    def push(self, vad: Sequence[bool] | np.ndarray, probs: np.ndarray) -> np.ndarray:
        self.vad = np.concatenate([self.vad, np.asarray(vad, bool)])
        self.probs = np.concatenate([self.probs, np.asarray(probs, np.float32)])
        return self._decide(min(len(self.vad), len(self.probs)) - self.reach)

    def finish(self) -> np.ndarray:
        return self._decide(min(len(self.vad), len(self.probs)), at_end=True)

    def _decide(self, stop: int, at_end: bool = False) -> np.ndarray:
        start, r = self.history, self.reach
        if stop <= start:
            return np.zeros(0, bool)
        # frames [start, stop) need their neighbours from start - r to stop + r
        lo, hi = start - min(r, start), stop + r if not at_end else stop
        kept = confirm(self.vad[lo:hi], self.probs[lo:hi], self.low, self.sure, r)
        out = kept[start - lo : stop - lo]
        keep_from = max(0, stop - r)
        self.vad, self.probs = self.vad[keep_from:], self.probs[keep_from:]
        self.history = stop - keep_from
        return out

"""Neural confirmation of webrtcvad's speech, frame by frame (the default cut).

webrtcvad hears almost all speech, even far below the noise, but it also takes music, hum,
traffic, crowds and knocks for speech. Silero VAD tells them apart much better, yet in loud
noise, over music or on the phone its probability for real speech often stays well below
its usual 0.5. So a frame is kept as speech when

* webrtcvad calls it speech, or Silero is sure of it (probability >= `sure`), and
* Silero gives it at least `low`.

On the real-recording benchmark (bench/README.md) `low` = 0.2 kept 99.2 % of the speech
frames and cut the clip time on recordings without speech from 88 % (webrtcvad alone) to
5 %. A whole clip Silero never gives much (`SpeechFinder` reads its highest probability)
is dropped or flagged further on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confirm(vad: np.ndarray, probs: np.ndarray, low: float, sure: float) -> np.ndarray:
    """Kept flags for frames with webrtcvad flags `vad` and Silero probabilities `probs`."""
    return (vad | (probs >= sure)) & (probs >= low)


class Confirmation:
    """`confirm` over a stream: `push` webrtcvad's flags and Silero's probabilities as they
    come (Silero's lag behind: it works in whole segments); get back the kept flags of the
    frames that have both."""

    def __init__(self, low: float, sure: float) -> None:
        self.low, self.sure = low, sure
        self.vad = np.zeros(0, bool)
        self.probs = np.zeros(0, np.float32)

    def push(self, vad: Sequence[bool] | np.ndarray, probs: np.ndarray) -> np.ndarray:
        self.vad = np.concatenate([self.vad, np.asarray(vad, bool)])
        self.probs = np.concatenate([self.probs, np.asarray(probs, np.float32)])
        n = min(len(self.vad), len(self.probs))
        kept = confirm(self.vad[:n], self.probs[:n], self.low, self.sure)
        self.vad, self.probs = self.vad[n:], self.probs[n:]
        return kept

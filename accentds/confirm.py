"""Neural confirmation of webrtcvad's speech, frame by frame (the default cut).

webrtcvad hears almost all speech, even far below the noise, but it also takes music, hum,
traffic, crowds and knocks for speech. Silero VAD tells them apart much better, yet in loud
noise, over music or on the phone its probability for real speech often stays well below
its usual 0.5. So a frame is kept as speech when

* webrtcvad calls it speech, or Silero is sure of it (probability >= `sure`), and
* Silero gives it at least `low`.

On the real-recording benchmark (bench/README.md) `low` = 0.25, with clips Silero never
gives 0.3 dropped, kept 99.6 % of the speech frames and cut the clip time on recordings
without speech from 88 % (webrtcvad alone) to 4.6 %. A whole clip Silero never gives much (`SpeechFinder` reads its highest probability)
is dropped or flagged further on."""

from __future__ import annotations

import numpy as np


def confirm(vad: np.ndarray, probs: np.ndarray, low: float, sure: float) -> np.ndarray:
    """Kept flags for frames with webrtcvad flags `vad` and Silero probabilities `probs`."""
    return (vad | (probs >= sure)) & (probs >= low)


def pauses(vad: np.ndarray, probs: np.ndarray, low: float, sure: float) -> np.ndarray:
    """Noise flags: the frames `confirm` does not keep (webrtcvad's and Silero's pauses, and
    what webrtcvad took for speech and Silero gives less than `low`: a bark, a beat)."""
    return ~confirm(vad, probs, low, sure)

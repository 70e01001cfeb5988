"""Music and noise rejection after the VAD: acoustic checks on what the VAD calls speech.

webrtcvad keeps music, music beds and loud noise as speech. This check looks at 32 ms
blocks of the same PCM and vetoes a VAD frame when the sound around it (about one second)
is not speech-like:

* **steady** – the band energy (300–3400 Hz) barely moves: speech rises and falls with its
  syllables by several dB a second, stationary noise and held notes do not;
* **noise** – the spectrum is flat (spectral flatness), as in hiss, rain and applause;
* **music** – the spectrum hardly changes from block to block (spectral flux): held notes and
  chords keep their partials, speech moves its formants all the time;
* **background** – the block is no louder than the background around it (the 10th
  percentile over three seconds), as between words over a music bed or in noise.

Decisions are streamed with a delay of about 1.5 s (half the background window)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .config import VadSettings

BLOCK_S = 0.032
NEAR = 16  # blocks each side for modulation, flatness and flux (about 1 s in all)
FAR = 47  # blocks each side for the background level (about 3 s in all)
REASONS = ("", "music", "noise", "steady", "background")
REASON_TEXT = {
    "music": "music-like: steady tones (spectral flux below min_flux)",
    "noise": "noise-like: flat spectrum (flatness above max_flatness)",
    "steady": "steady sound: no syllable rhythm (modulation below min_modulation_db)",
    "background": "no louder than the background (less than above_floor_db over it)",
    "short": "shorter than min_clip_s",
}


@dataclass(frozen=True)
class Thresholds:
    """When a block counts as speech-like (see the module docstring); set in [vad]."""

    min_flux: float
    max_flatness: float
    min_modulation_db: float
    above_floor_db: float

    @classmethod
    def of(cls, vad: VadSettings) -> Thresholds:
        return cls(vad.min_flux, vad.max_flatness, vad.min_modulation_db, vad.above_floor_db)


def _block_features(power: np.ndarray, rate: int, size: int) -> tuple[np.ndarray, ...]:
    """Per block: band energy (dB), spectral flatness, and the log spectrum for the flux."""
    freqs = np.fft.rfftfreq(size, 1 / rate)

    def band(lo: float, hi: float) -> slice:
        idx = np.flatnonzero((freqs >= lo) & (freqs <= hi))
        return slice(int(idx[0]), int(idx[-1]) + 1)

    energy = 10 * np.log10(power[:, band(300, 3400)].sum(axis=1) + 1e-10)
    shape_band, wide_band = band(100, 4000), band(250, 4000)
    shape = np.log(power[:, shape_band] + 1e-10)
    wide = slice(wide_band.start - shape_band.start, wide_band.stop - shape_band.start)
    flatness = np.exp(shape[:, wide].mean(axis=1)) / (power[:, wide_band].mean(axis=1) + 1e-10)
    shape -= shape.mean(axis=1, keepdims=True)
    shape /= np.sqrt((shape**2).sum(axis=1, keepdims=True)) + 1e-12
    return energy, flatness, shape


class SpeechCheck:
    """Streaming acoustic veto over VAD frames.

    `push(samples, flags)` takes the next PCM samples (int16, whole VAD frames) with their VAD
    flags and returns, for the frames that can now be decided (in order, possibly fewer than
    pushed), the refined flags and a reason code per frame (0 = kept or not speech by the VAD,
    else an index into REASONS). `finish()` returns the rest."""

    def __init__(self, rate: int, frame_ms: int, thresholds: Thresholds | None = None) -> None:
        self.t = thresholds or Thresholds.of(VadSettings())
        self.rate = rate
        self.frame = rate * frame_ms // 1000
        self.size = round(rate * BLOCK_S)
        self.window = np.hanning(self.size)
        self.carry = np.zeros(0, np.int16)
        # per-block features of blocks not yet decided, with FAR blocks of history before them
        self.energy = np.zeros(0)
        self.flatness = np.zeros(0)
        self.flux = np.zeros(0)
        self.prev_shape: np.ndarray | None = None
        self.history = FAR  # how many of the held blocks are history (decided, or edge copies)
        self.decisions = np.zeros(0, np.int8)  # reason per decided block not yet used by frames
        self.decisions_base = 0  # block index of decisions[0]
        self.flags = bytearray()  # VAD flags of frames not yet returned
        self.frames_done = 0

    def _add_blocks(self, samples: np.ndarray) -> None:
        data = np.concatenate([self.carry, samples]) if len(self.carry) else samples
        whole = len(data) // self.size * self.size
        self.carry = data[whole:].copy()
        if not whole:
            return
        blocks = np.multiply(data[:whole].reshape(-1, self.size), self.window)
        spec = np.fft.rfft(blocks, axis=1)
        power = spec.real**2 + spec.imag**2
        energy, flatness, shape = _block_features(power, self.rate, self.size)
        prev = shape[:1] if self.prev_shape is None else self.prev_shape
        before = np.concatenate([prev, shape[:-1]])
        flux = 1 - np.einsum("ij,ij->i", shape, before)
        self.prev_shape = shape[-1:]
        if not len(self.energy):  # the stream's start: edge history
            energy, flatness, flux = (
                np.concatenate([x[:1].repeat(FAR), x]) for x in (energy, flatness, flux)
            )
        self.energy = np.concatenate([self.energy, energy])
        self.flatness = np.concatenate([self.flatness, flatness])
        self.flux = np.concatenate([self.flux, flux])

    def _decide(self, at_end: bool) -> None:
        start = self.history
        ready = len(self.energy) - start - (0 if at_end else FAR)
        if ready <= 0:
            return
        tail = (0, FAR if at_end else 0)
        energy = np.pad(self.energy, tail, mode="edge")
        flatness = np.pad(self.flatness, tail, mode="edge")
        flux = np.pad(self.flux, tail, mode="edge")
        near = slice(start - NEAR, start + ready + NEAR)
        width = 2 * NEAR + 1
        modulation = sliding_window_view(energy[near], width).std(axis=1)
        flat = sliding_window_view(flatness[near], width).mean(axis=1)
        steady = sliding_window_view(flux[near], width).mean(axis=1)
        far = sliding_window_view(energy[start - FAR : start + ready + FAR], 2 * FAR + 1)
        floor = np.partition(far, FAR // 5, axis=1)[:, FAR // 5]  # 10th percentile
        reason = np.zeros(ready, np.int8)
        reason[energy[start : start + ready] < floor + self.t.above_floor_db] = 4
        reason[modulation < self.t.min_modulation_db] = 3
        reason[flat > self.t.max_flatness] = 2
        reason[steady < self.t.min_flux] = 1
        self.decisions = np.concatenate([self.decisions, reason])
        cut = start + ready - FAR  # keep FAR decided blocks as history for the next windows
        self.energy, self.flatness, self.flux = self.energy[cut:], self.flatness[cut:], self.flux[cut:]
        self.history = FAR

    def _frames(self) -> tuple[np.ndarray, np.ndarray]:
        # a frame takes the decision of the block holding its middle sample
        first = self.frames_done
        mids = (np.arange(first, first + len(self.flags)) * self.frame + self.frame // 2) // self.size
        n = int(np.searchsorted(mids, self.decisions_base + len(self.decisions)))
        if n == 0:
            return np.zeros(0, bool), np.zeros(0, np.int8)
        vad = np.frombuffer(self.flags, np.uint8, n).astype(bool)
        why = self.decisions[mids[:n] - self.decisions_base]
        why = np.where(vad, why, 0).astype(np.int8)
        del self.flags[:n]
        self.frames_done += n
        used = int(mids[n - 1]) - self.decisions_base
        if used > 0:
            self.decisions = self.decisions[used:]
            self.decisions_base += used
        return vad & (why == 0), why

    def push(self, samples: np.ndarray, flags: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
        """Add PCM and its VAD flags; return (flags, reasons) of the frames decided so far."""
        self.flags.extend(1 if f else 0 for f in flags)
        self._add_blocks(samples)
        self._decide(at_end=False)
        return self._frames()

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """End of stream: decide every remaining frame."""
        if len(self.carry):  # the last partial block, zero-padded
            tail = np.zeros(self.size, np.int16)
            tail[: len(self.carry)] = self.carry
            self.carry = np.zeros(0, np.int16)
            self._add_blocks(tail)
        self._decide(at_end=True)
        flags, why = self._frames()
        if len(self.flags):  # frames past the last block (no audio to judge): keep the VAD's word
            rest = np.frombuffer(self.flags, np.uint8).astype(bool)
            flags, why = np.concatenate([flags, rest]), np.concatenate([why, np.zeros(len(rest), np.int8)])
            self.flags.clear()
        return flags, why

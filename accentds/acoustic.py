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

Over a music bed the quiet ends of words sit at the bed's level, so inside a sentence the
background test opens gaps that would split it. A gap vetoed only as background (VAD silence
may lie in it too) is given back to the VAD when it is at most BRIDGE_S long and each side
holds at least SIDE_KEPT_S of kept speech within SIDE_S of it: a dip inside speech, not a
pause. Frames vetoed for music, noise or steadiness are never given back.

Decisions are streamed with a delay of about 1.5 s (half the background window) plus
BRIDGE_S + SIDE_S for the gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import quality
from .config import VadSettings

BLOCK_S = 0.032
NEAR = 16  # blocks each side for modulation, flatness and flux (about 1 s in all)
FAR = 47  # blocks each side for the background level (about 3 s in all)
BRIDGE_S = 0.6  # background gaps inside speech up to this long are bridged
SIDE_S = 0.5  # ... when each side of the gap, within this much, holds
SIDE_KEPT_S = 0.25  # ... at least this much kept speech
REASONS = ("", "music", "noise", "steady", "background", "unbacked", "unconfirmed", "tones")
BACKGROUND = REASONS.index("background")
UNBACKED = REASONS.index("unbacked")  # webrtcvad speech Silero does not back (accentds.confirm)
UNCONFIRMED = REASONS.index("unconfirmed")  # a clip Silero never gives min_clip_prob
TONES = REASONS.index("tones")  # a clip whose spectrum barely changes (finder.TONES_FLUX)
REASON_TEXT = {
    "music": "music-like: steady tones (spectral flux below min_flux)",
    "noise": "noise-like: flat spectrum (flatness above max_flatness)",
    "steady": "steady sound: no syllable rhythm (modulation below min_modulation_db)",
    "background": "no louder than the background (less than above_floor_db over it)",
    "unbacked": "Silero VAD hears no speech in it (probability below confirm_threshold)",
    "unconfirmed": "a clip Silero VAD never gives min_clip_prob",
    "tones": "held tones: its spectrum barely changes from one 32 ms block to the next",
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


@dataclass(frozen=True)
class Blocks:
    """What `BlockAnalysis` found in a run of consecutive blocks, one row per block."""

    energy: np.ndarray  # band energy 300-3400 Hz, dB
    flatness: np.ndarray  # spectral flatness 250-4000 Hz
    flux: np.ndarray  # 1 - correlation of the log spectrum (100-4000 Hz) with the block before
    loudness: np.ndarray  # mean K-weighted power (full scale = 1), for clip loudness
    spectrum: np.ndarray  # (blocks, bins) float32 power spectrum, for clip bandwidth

    def __len__(self) -> int:
        return len(self.energy)


class BlockAnalysis:
    """Hann-windowed power spectra of streamed PCM in 32 ms blocks (512 samples at 16 kHz,
    back to back from the stream's first sample), reduced at once to what the acoustic check
    and the clip hints need, so each sample goes through one FFT.

    `push(samples)` takes int16 PCM and returns the `Blocks` completed so far; `finish()`
    returns the last partial block, zero-padded. Work is done in batches of BATCH blocks in
    buffers allocated once: no per-chunk temporaries for the allocator to map and unmap."""

    BATCH = 128

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.size = round(rate * BLOCK_S)
        self.window = np.hanning(self.size)
        self.carry = np.zeros(0, np.int16)
        self.prev_shape: np.ndarray | None = None
        freqs = np.fft.rfftfreq(self.size, 1 / rate)

        def band(lo: float, hi: float) -> slice:
            idx = np.flatnonzero((freqs >= lo) & (freqs <= hi))
            return slice(int(idx[0]), int(idx[-1]) + 1)

        self.energy_band, self.shape_band, self.wide_band = band(300, 3400), band(100, 4000), band(250, 4000)
        self.wide = slice(
            self.wide_band.start - self.shape_band.start, self.wide_band.stop - self.shape_band.start
        )
        self.loudness_weights = quality.block_loudness_weights(rate, self.window)
        self.frames = np.empty((self.BATCH, self.size))
        self.spec = np.empty((self.BATCH, self.size // 2 + 1), np.complex128)
        self.power = np.empty((self.BATCH, self.size // 2 + 1))

    def push(self, samples: np.ndarray) -> Blocks:
        """Analyse the blocks `samples` completes (int16 PCM, any length)."""
        data = np.concatenate([self.carry, samples]) if len(self.carry) else samples
        whole = len(data) // self.size * self.size
        self.carry = data[whole:].copy()
        return self._analyse(data[:whole].reshape(-1, self.size))

    def finish(self) -> Blocks:
        """The last partial block, zero-padded (no blocks when none is pending)."""
        tail = np.zeros((1 if len(self.carry) else 0, self.size), np.int16)
        tail[:, : len(self.carry)] = self.carry
        self.carry = np.zeros(0, np.int16)
        return self._analyse(tail)

    def _analyse(self, blocks: np.ndarray) -> Blocks:
        n, bins = len(blocks), self.size // 2 + 1
        energy, flatness, flux, loudness = (np.empty(n) for _ in range(4))
        spectrum = np.empty((n, bins), np.float32)
        for lo in range(0, n, self.BATCH):
            hi = min(n, lo + self.BATCH)
            frames, spec, power = self.frames[: hi - lo], self.spec[: hi - lo], self.power[: hi - lo]
            np.multiply(blocks[lo:hi], self.window, out=frames)
            np.fft.rfft(frames, axis=1, out=spec)
            parts = spec.view(np.float64)
            np.square(parts, out=parts)
            np.add(parts[:, 0::2], parts[:, 1::2], out=power)
            spectrum[lo:hi] = power
            np.einsum("ij,j->i", power, self.loudness_weights, out=loudness[lo:hi])  # no BLAS threads
            energy[lo:hi] = power[:, self.energy_band].sum(axis=1)
            shape = np.log(power[:, self.shape_band] + 1e-10)
            flatness[lo:hi] = np.exp(shape[:, self.wide].mean(axis=1)) / (
                power[:, self.wide_band].mean(axis=1) + 1e-10
            )
            shape -= shape.mean(axis=1, keepdims=True)
            shape /= np.sqrt(np.einsum("ij,ij->i", shape, shape))[:, None] + 1e-12
            prev = shape[:1] if self.prev_shape is None else self.prev_shape
            flux[lo] = 1 - float(shape[0] @ prev[0])
            flux[lo + 1 : hi] = 1 - np.einsum("ij,ij->i", shape[1:], shape[:-1])
            self.prev_shape = shape[-1:].copy()
        energy = 10 * np.log10(energy + 1e-10)
        return Blocks(energy, flatness, flux, loudness, spectrum)


class SpeechCheck:
    """Streaming acoustic veto over VAD frames.

    `push(blocks, flags)` takes the `BlockAnalysis` of the next PCM samples (whole VAD frames)
    with their VAD flags and returns, for the frames that can now be decided (in order,
    possibly fewer than pushed), the refined flags and a reason code per frame (0 = kept or
    not speech by the VAD, else an index into REASONS). `finish(blocks)` returns the rest.
    Short background gaps inside speech are bridged (see the module docstring)."""

    def __init__(self, rate: int, frame_ms: int, thresholds: Thresholds | None = None) -> None:
        self.t = thresholds or Thresholds.of(VadSettings())
        self.frame = rate * frame_ms // 1000
        self.size = round(rate * BLOCK_S)
        # per-block features of blocks not yet decided, with FAR blocks of history before them
        self.energy = np.zeros(0)
        self.flatness = np.zeros(0)
        self.flux = np.zeros(0)
        self.history = FAR  # how many of the held blocks are history (decided, or edge copies)
        self.decisions = np.zeros(0, np.int8)  # reason per decided block not yet used by frames
        self.decisions_base = 0  # block index of decisions[0]
        self.flags = bytearray()  # VAD flags of frames not yet returned
        self.frames_done = 0
        ms = 1000 / frame_ms
        self.bridge = round(BRIDGE_S * ms)  # frames
        self.side = round(SIDE_S * ms)
        self.side_kept = round(SIDE_KEPT_S * ms)
        # frames decided block by block, not yet bridged: `held_history` of them already
        # returned (context for the gaps), then those waiting for the frames after them
        self.held_vad = np.zeros(0, bool)
        self.held_why = np.zeros(0, np.int8)
        self.held_history = 0

    def _add(self, blocks: Blocks) -> None:
        if not len(blocks):
            return
        energy, flatness, flux = blocks.energy, blocks.flatness, blocks.flux
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
        return vad, why

    def _bridge(self, vad: np.ndarray, why: np.ndarray, at_end: bool) -> tuple[np.ndarray, np.ndarray]:
        """Add frames decided block by block; return (flags, reasons) of the frames whose gaps
        are settled, with short background gaps inside speech bridged (`bridge_gaps`).

        A frame is settled once `bridge + side` frames follow it: a gap holding it ends within
        `bridge` frames and its right side is known `side` frames further. As many frames
        before it are kept for the left sides. Gaps are judged on the unbridged reasons, so
        the result does not depend on how the stream is chunked."""
        if len(self.held_vad):
            vad = np.concatenate([self.held_vad, vad])
            why = np.concatenate([self.held_why, why])
        start, reach = self.held_history, self.bridge + self.side
        stop = len(vad) if at_end else max(start, len(vad) - reach)
        out = why[start:stop]
        if stop > start:
            out = bridge_gaps(vad, why, self.bridge, self.side, self.side_kept)[start:stop]
        keep = max(0, stop - reach)
        self.held_vad, self.held_why = vad[keep:], why[keep:]
        self.held_history = stop - keep
        return vad[start:stop] & (out == 0), out

    def push(self, blocks: Blocks, flags: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
        """Add the next blocks (from `BlockAnalysis.push` on the same PCM) and the VAD flags of
        that PCM's frames; return (flags, reasons) of the frames decided so far."""
        self.flags.extend(1 if f else 0 for f in flags)
        self._add(blocks)
        self._decide(at_end=False)
        return self._bridge(*self._frames(), at_end=False)

    def finish(self, blocks: Blocks) -> tuple[np.ndarray, np.ndarray]:
        """End of stream (`blocks` from `BlockAnalysis.finish`): decide every remaining frame."""
        self._add(blocks)
        self._decide(at_end=True)
        flags, why = self._frames()
        if len(self.flags):  # frames past the last block (no audio to judge): keep the VAD's word
            rest = np.frombuffer(self.flags, np.uint8).astype(bool)
            flags, why = np.concatenate([flags, rest]), np.concatenate([why, np.zeros(len(rest), np.int8)])
            self.flags.clear()
        return self._bridge(flags, why, at_end=True)


def bridge_gaps(vad: np.ndarray, why: np.ndarray, bridge: int, side: int, side_kept: int) -> np.ndarray:
    """The reasons `why` (per frame, 0 = kept) with the background vetoes cleared in every gap
    of at most `bridge` frames between kept frames that holds no other veto (VAD silence may
    lie in it) and has at least `side_kept` kept frames within `side` frames on each side.
    `vad` holds the VAD's flags; gaps running into either end of the arrays are left alone."""
    kept = vad & (why == 0)
    step = np.diff(kept.astype(np.int8))
    begins = np.flatnonzero(step == -1) + 1  # a gap's first frame (kept before it)
    ends = np.flatnonzero(step == 1) + 1  # the first kept frame after a gap
    out = why.copy()
    if not len(begins) or not len(ends):
        return out
    ends = ends[ends > begins[0]]
    begins = begins[: len(ends)]
    kept_sum = np.concatenate([[0], np.cumsum(kept)])
    other = np.concatenate([[0], np.cumsum(vad & (why != 0) & (why != BACKGROUND))])
    left = kept_sum[begins] - kept_sum[np.maximum(begins - side, 0)]
    right = kept_sum[np.minimum(ends + side, len(kept))] - kept_sum[ends]
    take = (
        (ends - begins <= bridge)
        & (other[ends] == other[begins])
        & (left >= side_kept)
        & (right >= side_kept)
    )
    if take.any():
        mark = np.zeros(len(kept) + 1, np.int8)
        mark[begins[take]] = 1
        mark[ends[take]] = -1
        inside = np.cumsum(mark[:-1]).astype(bool)
        out[inside & (why == BACKGROUND)] = 0
    return out

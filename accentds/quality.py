"""Clip quality measures and audio fingerprints for near-duplicate detection.

Every function takes a clip's samples as a 1-D int16 array (full scale = 32768) and is pure
and cheap enough to run for every clip inside the cutting loop. Edge cases (empty arrays,
clips shorter than one analysis frame, digital silence) never raise; each function documents
the value it returns for them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FULL_SCALE = 32768.0

SNR_MIN_DB = -10.0
SNR_MAX_DB = 60.0
SNR_FRAME_S = 0.032  # rounded to a power of two samples: 512 at 16 kHz
SNR_BAND_HZ = 250.0
SNR_NOISE_PERCENTILE = 20.0  # of each band's power over the frames: the noise floor

LUFS_FLOOR = -70.0  # also the absolute gate
LUFS_BLOCK_S = 0.4
LUFS_STEP_S = 0.1  # 75 % overlap
LUFS_RELATIVE_GATE_LU = -10.0
LUFS_OFFSET = -0.691  # loudness = LUFS_OFFSET + 10·log10(mean K-weighted power)
_ABSOLUTE_GATE = 10 ** ((LUFS_FLOOR - LUFS_OFFSET) / 10)  # the mean power of a block of -70 LUFS
_RELATIVE_GATE = 10 ** (LUFS_RELATIVE_GATE_LU / 10)

CLIP_LEVEL = 32766  # |sample| at or above this (within 1 LSB of the int16 extremes) is "at the limit"

BANDWIDTH_NFFT = 512
BANDWIDTH_LOW_HZ = 100.0
BANDWIDTH_SHARE = 0.99

FP_HOP_S = 0.032  # rounded to whole samples: 512 at 16 kHz
FP_LOW_HZ = 300.0
FP_HIGH_HZ = 3000.0
FP_BANDS = 17  # -> 16 bits per sub-fingerprint
FP_QUIET_DB = 30.0  # frames this far below the clip's loud frames (95th percentile) are "quiet"
FP_FLOOR_DBFS = -90.0  # frames below this in-band level are "quiet" whatever the clip
FP_MIN_OVERLAP = 0.6  # of the shorter fingerprint
FP_MIN_FRAMES = 24  # about 0.8 s: overlap needed at any alignment, in sub-fingerprints
FP_MIN_COMPARED = 16  # non-quiet sub-fingerprint pairs needed at an alignment
# Measured on real speech (bench/bench_quality.py): copies through MP3 24k, AAC 32k, Opus 12k,
# 8 kHz, ±6 dB, cut 1-8 ms apart score 0.80 and up for 98 % of clips with 24 or more non-quiet
# sub-fingerprints (Opus 12k: 91 %); different 3-digit phrases of one speaker up to 0.74
# (0.84 for single words: those are too short).
DUPLICATE_THRESHOLD = 0.80
MAX_BUCKET = 100  # index keys held by more clips than this are ignored
# keys 1 bit apart agree on two of three segments: index each two (31-bit key: 11 + 11 + 10 bits)
KEY_SEGMENTS = (0xFFE00000, 0x001FFC00, 0x000003FF)
KEY_GAPS = (1, 2, 3)  # index keys pair sub-fingerprints this many hops apart (gap < 4)
PART_ENTRIES = 1 << 15  # sub-fingerprints per part of the index (parts: by the keys' first value)
MAX_PARTS = 16
COMMON_FACTOR = 16  # values this many times more common than the mean are left out of keys

CHUNK = 1 << 15  # samples per batch of FFT frames: small temporaries avoid page-fault costs

_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


@dataclass(frozen=True)
class Quality:
    """Quality measures of one clip (see the functions of the same names)."""

    snr_db: float
    lufs: float
    clipping_ratio: float
    bandwidth_hz: float


@dataclass(frozen=True)
class BlockSpan:
    """The streamed analysis blocks lying wholly inside a clip (see `acoustic.BlockAnalysis`):
    their K-weighted powers, their power spectra summed, and the block length in samples."""

    loudness: np.ndarray
    spectrum: np.ndarray
    size: int


def measure(
    samples: np.ndarray,
    rate: int,
    blocks: BlockSpan | None = None,
    peak: int | None = None,
    noise: np.ndarray | None = None,
    active: float = 1.0,
) -> Quality:
    """All quality measures of a clip, rounded: dB to 2 decimals, ratios to 5, Hz to whole.

    `noise`, the mean power spectrum of the noise around the clip (see `snr_db`), replaces
    the SNR's in-clip noise estimate; `active` is the mean power of the clip's speech frames
    over its mean power (see `snr_db`).

    `peak`, the largest |sample| (as the VAD frames give it), saves the clipping pass when
    it is below the clipping level. With `blocks` covering at least one loudness block (about 400 ms),
    loudness and bandwidth come from those blocks' spectra (`lufs_of_blocks`,
    `bandwidth_of_spectrum`) instead of a new pass over the samples."""
    x = _int16(samples)
    size = blocks.size if blocks is not None else 0
    if blocks is not None and len(blocks.loudness) >= _blocks_per(LUFS_BLOCK_S, size, rate):
        loudness = lufs_of_blocks(blocks.loudness, size, rate)
        bandwidth = bandwidth_of_spectrum(blocks.spectrum, rate, size)
    else:
        loudness, bandwidth = lufs(x, rate), bandwidth_hz(x, rate)
    return Quality(
        snr_db=round(snr_db(x, rate, noise, active), 2),
        lufs=round(loudness, 2),
        clipping_ratio=0.0 if peak is not None and peak < CLIP_LEVEL else round(clipping_ratio(x), 5),
        bandwidth_hz=float(round(bandwidth)),
    )


# -- SNR -----------------------------------------------------------------------
def snr_db(samples: np.ndarray, rate: int, noise: np.ndarray | None = None, active: float = 1.0) -> float:
    """Estimated signal-to-noise ratio in dB, clamped to [SNR_MIN_DB, SNR_MAX_DB] = [-10, 60].

    The noise spectrum is read from the clip itself: 32 ms Hann frames, their power in bands
    of 250 Hz, and in each band the 20th percentile over the frames, scaled up to the mean
    it implies for steady Gaussian noise. Speech leaves most bands quiet in many frames (its
    pauses, and the bands its sounds do not use), so this needs no pauses and no VAD flags.
    SNR = 10·log10((P - N) / N), P the clip's mean power, N the noise estimate's. `active`,
    the mean power of the clip's speech frames over the clip's mean power, makes P the power
    while someone speaks (the speech level, as the SNR of a recording is defined): without
    it, the padding and pauses inside a clip pull P down, and a clip that is half pauses
    reads 3 dB noisier than its speech is.

    On real speech with real noise mixed in (bench/bench_quality.py) it is within a few dB
    from 10 to 20 dB SNR; below that, noise that comes and goes (animals, music) reads too
    high, and recordings that are not noise-free themselves read their own SNR (20-35 dB).
    `noise`, when given, is the noise's mean power spectrum measured elsewhere (the source's
    pauses around the clip): Hann-windowed frames of the same length as here (SNR_FRAME_S),
    power of each rfft bin in int16 units, as `acoustic.BlockAnalysis` gives it. Its sum
    is then N. A `noise` on another grid is ignored.

    Digital silence in any band's quiet frames gives 60; all-zero or empty audio, or a clip
    no louder than its noise estimate, gives -10."""
    x = _int16(samples)
    if not x.any():
        return SNR_MIN_DB
    n = _snr_frame(rate)
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    bands = _band_powers(x[: len(x) // n * n].reshape(-1, n), rate)
    if noise is not None and len(noise) == n // 2 + 1:
        # the spectrum's frames used np.hanning(n): scaled to this Hann window's energy
        level = float(np.sum(noise, dtype=np.float64)) * _energy(n) / _numpy_hann_energy(n)
    else:
        level = float(np.percentile(bands, SNR_NOISE_PERCENTILE, axis=0).sum()) * _snr_correction(rate)
    total = float(bands.sum(axis=1).mean()) * active
    if level <= 0:
        return SNR_MAX_DB
    ratio = max(total - level, 1e-12 * level) / level
    return min(max(10 * math.log10(ratio), SNR_MIN_DB), SNR_MAX_DB)


def _snr_frame(rate: int) -> int:
    return 1 << round(math.log2(SNR_FRAME_S * rate))


def _band_powers(frames: np.ndarray, rate: int) -> np.ndarray:
    """Power of each frame (rows) in bands of about SNR_BAND_HZ (columns), Hann-windowed."""
    n = frames.shape[1]
    power = np.abs(np.fft.rfft(frames * _hann(n), axis=1)) ** 2
    width = max(1, round(SNR_BAND_HZ * n / rate))
    return np.add.reduceat(power, np.arange(0, power.shape[1], width), axis=1)


@lru_cache(maxsize=16)
def _numpy_hann_energy(n: int) -> float:
    return float(np.sum(np.hanning(n) ** 2))


@lru_cache(maxsize=16)
def _snr_correction(rate: int) -> float:
    """Mean over percentile of the band powers of steady white Gaussian noise (seeded)."""
    n = _snr_frame(rate)
    noise = np.random.default_rng(0).normal(size=(2000, n)) * 1000
    bands = _band_powers(noise, rate)[:, 1:-1]  # full bands only
    return float(np.mean(bands.mean(axis=0) / np.percentile(bands, SNR_NOISE_PERCENTILE, axis=0)))


# -- loudness ------------------------------------------------------------------
def lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness of mono audio per ITU-R BS.1770-4, in LUFS.

    K-weighting (high shelf + high pass, coefficients derived for any sample rate), mean
    power of 400 ms blocks every 100 ms, absolute gate at -70 LUFS, relative gate 10 LU
    below the loudness of the blocks that pass it. A clip shorter than one block is
    measured as a single block. Returns -70.0 (LUFS_FLOOR) when every block is gated out:
    silence, empty audio."""
    x = _int16(samples)
    if len(x) == 0:
        return LUFS_FLOOR
    return _gated(_block_powers(x, rate))


def _gated(z: np.ndarray) -> float:
    """Integrated loudness of gating-block powers: absolute gate, then relative gate."""
    z = z[z > _ABSOLUTE_GATE]  # the gates compare powers: as loudness, but no log per block
    if len(z) == 0:
        return LUFS_FLOOR
    z = z[z > z.mean() * _RELATIVE_GATE]
    return max(LUFS_OFFSET + 10 * math.log10(z.mean()), LUFS_FLOOR)


def _blocks_per(seconds: float, size: int, rate: int) -> int:
    return max(1, round(seconds * rate / size)) if size else 1 << 62


def lufs_of_blocks(powers: np.ndarray, size: int, rate: int) -> float:
    """Integrated loudness, as `lufs`, from the K-weighted mean powers of consecutive short
    blocks of `size` samples (`block_loudness_weights`): gating blocks of as many short
    blocks as come nearest to 400 ms, one every ~100 ms (at 16 kHz: 12 blocks of 32 ms,
    384 ms, every 3 blocks, 96 ms). Within 0.02 dB of `lufs` on steady tones, within about
    0.2 dB on speech (the bundled sample's sentences: 0.14 dB at most). Fewer blocks than
    one gating block are measured as one."""
    per, step = _blocks_per(LUFS_BLOCK_S, size, rate), _blocks_per(LUFS_STEP_S, size, rate)
    if len(powers) == 0:
        return LUFS_FLOOR
    if len(powers) <= per:
        return _gated(np.array([float(np.mean(powers))]))
    total = np.concatenate([[0.0], np.cumsum(powers)])
    starts = np.arange(0, len(powers) - per + 1, step)
    return _gated((total[starts + per] - total[starts]) / per)


def block_loudness_weights(rate: int, window: np.ndarray) -> np.ndarray:
    """Weights w (one per rfft bin of len(window)) such that `power @ w`, for the power
    spectrum of an int16 block times `window`, estimates the block's mean K-weighted power
    (full scale = 1): Parseval with the window's energy, the K-weighting's magnitude squared
    per bin. Exact in expectation for steady signals."""
    n = len(window)
    weights = np.abs(_k_response(rate, n)) ** 2
    weights[1 : (n + 1) // 2] *= 2  # each bin but DC (and Nyquist) stands for two
    return weights / (n * float(np.sum(window**2)) * FULL_SCALE**2)


def k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads (b, a) for `rate`: the high shelf, then the high pass.

    Derived from the analogue prototypes (shelf +4 dB at 1681.97 Hz, Q 0.7072; high pass
    at 38.14 Hz, Q 0.5003); at 48 kHz they equal the coefficients printed in BS.1770."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        np.array([vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k]) / a0,
        np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]),
    )
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    high_pass = (
        np.array([1.0, -2.0, 1.0]),
        np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]),
    )
    return shelf, high_pass


@lru_cache(maxsize=16)
def _k_response(rate: int, nfft: int) -> np.ndarray:
    """Complex frequency response of the K-weighting cascade on the rfft grid of nfft."""
    z1 = np.exp(-2j * np.pi * np.arange(nfft // 2 + 1) / nfft)
    z2 = z1 * z1
    h = np.ones_like(z1)
    for b, a in k_weighting(rate):
        h *= (b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2)
    return h


@lru_cache(maxsize=16)
def _k_fir(rate: int) -> tuple[int, int, np.ndarray]:
    """The K-weighting impulse response cut where its remaining tail sums below 1e-6 (about
    70 ms), as (taps, FFT size, spectrum) for overlap-save filtering."""
    size = 1 << (2 * rate).bit_length()
    h = np.fft.irfft(_k_response(rate, size), size)
    tail = np.cumsum(np.abs(h[::-1]))[::-1]
    taps = int(np.argmax(tail < 1e-6)) or size
    nfft = max(4096, 1 << (3 * taps).bit_length())
    return taps, nfft, np.fft.rfft(h[:taps], nfft)


def _block_powers(x: np.ndarray, rate: int) -> np.ndarray:
    """Mean power of the K-weighted signal (full-scale units) in each 400 ms block, one every
    100 ms; a clip shorter than a block is one block.

    The filtering equals running the two IIR filters from rest to within 1e-6: overlap-save
    FIR filtering in short FFT blocks, keeping only the running sum of squares at the block
    edges, so no temporary is larger than a few hundred kB."""
    taps, nfft, spectrum = _k_fir(rate)
    step = nfft - taps + 1
    block = round(LUFS_BLOCK_S * rate)
    if len(x) <= block:
        starts, ends = np.array([0]), np.array([len(x)])
    else:
        starts = np.round(np.arange(0, len(x) - block + 1e-9, LUFS_STEP_S * rate)).astype(np.int64)
        ends = starts + block
    marks = np.unique(np.r_[starts, ends])
    pieces = np.zeros(len(marks) + 1)  # sum of squares between consecutive marks
    span = max(1, CHUNK // nfft) * step
    for start in range(0, len(x), span):
        stop = min(start + span, len(x))
        count = -(-(stop - start) // step)
        buffer = np.zeros((count - 1) * step + nfft)
        lo = max(0, start - taps + 1)
        buffer[lo - start + taps - 1 : stop - start + taps - 1] = x[lo:stop]
        blocks = np.fft.rfft(sliding_window_view(buffer, nfft)[::step], axis=1)
        blocks *= spectrum
        out = np.fft.irfft(blocks, nfft, axis=1)[:, taps - 1 :].ravel()[: stop - start]
        first, last = np.searchsorted(marks, start, "right"), np.searchsorted(marks, stop)
        cuts = np.r_[0, marks[first:last] - start]
        pieces[first : first + len(cuts)] += np.add.reduceat(out * out, cuts)
    energy = np.cumsum(pieces)  # energy[k]: sum of squares before marks[k]
    sums = energy[np.searchsorted(marks, ends)] - energy[np.searchsorted(marks, starts)]
    return sums / FULL_SCALE**2 / np.maximum(ends - starts, 1)


def _fast_size(n: int) -> int:
    """The smallest 2^a·3^b·5^c >= n (cheap FFT lengths)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35 << max(0, math.ceil(math.log2(n / p35)))
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


# -- clipping ------------------------------------------------------------------
def clipping_ratio(samples: np.ndarray) -> float:
    """Share of samples in runs of 2 or more consecutive samples within 1 LSB of the same
    int16 extreme (>= 32766 or <= -32767). A lone full-scale peak does not count, so clean
    audio normalised to full scale gives 0. Empty audio gives 0."""
    x = _int16(samples)
    if len(x) < 2 or (x.max() < CLIP_LEVEL and x.min() > -CLIP_LEVEL - 1):
        return 0.0
    count = 0
    for at_limit in (x >= CLIP_LEVEL, x <= -CLIP_LEVEL - 1):
        pair = at_limit[1:] & at_limit[:-1]  # sample i and i+1 both at the limit
        count += int(np.count_nonzero(pair[1:] | pair[:-1])) + int(pair[0]) + int(pair[-1])
    return count / len(x)


# -- bandwidth -----------------------------------------------------------------
def bandwidth_hz(samples: np.ndarray, rate: int) -> float:
    """Effective upper frequency of the clip, in Hz: a spectral roll-off point.

    Long-term power spectrum: mean over 512-point Hann frames with 50 % overlap. It is tilted
    by +3 dB/octave (power times frequency), which flattens the falling spectrum of speech so
    its quiet upper band still counts, and the bandwidth is the frequency below which 99 % of
    that tilted power above 100 Hz lies. Measured: full-band 16 kHz speech 6.6-7.1 kHz
    (also after AAC/MP3/Opus at 24-32 kb/s), white noise 7.97 kHz; the same speech sent
    through 8 kHz (telephone, upsampled) 3.6-3.7 kHz, through 11.025 kHz 4.8 kHz; noise
    low-passed at 4 kHz 3.97 kHz. Full-band noise added 30 dB below telephone speech moves
    it to 3.75 kHz; at 20 dB the clip reads as full band, as it then is.

    The clip's DC offset is removed first. Clips shorter than one frame are zero-padded to
    one. Empty or constant audio (nothing left above 100 Hz) gives 0."""
    x = _int16(samples)
    if len(x) == 0 or not x.any():
        return 0.0
    n = BANDWIDTH_NFFT
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    frames = sliding_window_view(x, n)[:: n // 2]
    window = _hann(n) / FULL_SCALE
    offset = float(np.mean(x))
    power = np.zeros(n // 2 + 1)
    batch = max(1, CHUNK // n)
    for start in range(0, len(frames), batch):
        spectrum = np.fft.rfft((frames[start : start + batch] - offset) * window, axis=1)
        power += np.einsum("ij,ij->j", spectrum.real, spectrum.real)
        power += np.einsum("ij,ij->j", spectrum.imag, spectrum.imag)
    return bandwidth_of_spectrum(power, rate, n)


def bandwidth_of_spectrum(power: np.ndarray, rate: int, n: int) -> float:
    """`bandwidth_hz` from a long-term power spectrum on the rfft grid of n points (any scale):
    the roll-off point of the +3 dB/octave tilted power above 100 Hz. 0 when there is none."""
    freqs, tilt = _bandwidth_grid(rate, n)
    cumulative = np.cumsum(np.multiply(power, tilt, dtype=np.float64))
    if cumulative[-1] <= 0:
        return 0.0
    return float(freqs[np.searchsorted(cumulative, BANDWIDTH_SHARE * cumulative[-1])])


@lru_cache(maxsize=16)
def _bandwidth_grid(rate: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rfft bin frequencies of n points, and the tilt: frequency, 0 below 100 Hz."""
    freqs = np.arange(n // 2 + 1) * rate / n
    return freqs, freqs * (freqs >= BANDWIDTH_LOW_HZ)


class SpectraStore:
    """The streamed blocks' K-weighted powers and power spectra (`acoustic.Blocks`), held
    from the first block a clip not yet measured can use: `add` the blocks as they come,
    `forget(block)` those before a block index, `span(start, end)` for a clip's samples."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.loudness = np.zeros(0)
        self.spectrum = np.zeros((0, size // 2 + 1), np.float32)
        self.base = 0  # block index of row `start`
        self.start = self.used = 0  # live rows are [start, used)

    def add(self, loudness: np.ndarray, spectrum: np.ndarray) -> None:
        k, live = len(loudness), self.used - self.start
        if self.used + k > len(self.loudness):  # out of room: move the live rows to the front
            if live + k > len(self.loudness) // 2:
                capacity = max(1024, 2 * (live + k))
                grown = np.empty(capacity), np.empty((capacity, self.size // 2 + 1), np.float32)
                grown[0][:live], grown[1][:live] = (
                    self.loudness[self.start : self.used],
                    self.spectrum[self.start : self.used],
                )
                self.loudness, self.spectrum = grown
            else:
                self.loudness[:live] = self.loudness[self.start : self.used]
                self.spectrum[:live] = self.spectrum[self.start : self.used]
            self.start, self.used = 0, live
        self.loudness[self.used : self.used + k] = loudness
        self.spectrum[self.used : self.used + k] = spectrum
        self.used += k

    def forget(self, block: int) -> None:
        drop = min(max(0, block - self.base), self.used - self.start)
        self.start += drop
        self.base += drop

    def rows(self, lo: int, hi: int) -> tuple[int, np.ndarray]:
        """The power spectra held of blocks [lo, hi): (the first one's index, a view of them)."""
        lo, hi = max(lo, self.base), min(hi, self.base + self.used - self.start)
        rows = slice(self.start + lo - self.base, self.start + max(lo, hi) - self.base)
        return lo, self.spectrum[rows]

    def span(self, start: int, end: int) -> BlockSpan:
        """The blocks held that lie wholly inside samples [start, end) (copies: the store moves on)."""
        lo = max(-(-start // self.size), self.base)
        hi = min(end // self.size, self.base + self.used - self.start)
        rows = slice(self.start + lo - self.base, self.start + max(lo, hi) - self.base)
        # summed in float32 (a float64 sum casts every value on the way): the roll-off point
        # it gives is the same to well within a bin
        spectrum = self.spectrum[rows].sum(axis=0).astype(np.float64)
        return BlockSpan(self.loudness[rows].copy(), spectrum, self.size)


# -- fingerprints --------------------------------------------------------------
def fingerprint_params(rate: int) -> tuple[int, int]:
    """(frame, hop) in samples for `rate`: two hops, and 32 ms."""
    hop = max(1, round(FP_HOP_S * rate))
    return 2 * hop, hop


@lru_cache(maxsize=16)
def _band_bins(rate: int, frame: int) -> tuple[int, int, np.ndarray]:
    """The rfft bins of the 17 log-spaced bands (by bin centre): (first bin, end bin, start of
    each band relative to the first). Every band holds at least one bin at the rates used."""
    edges = np.geomspace(FP_LOW_HZ, FP_HIGH_HZ, FP_BANDS + 1)
    freqs = np.arange(frame // 2 + 1) * rate / frame
    band = np.searchsorted(edges, freqs, side="right") - 1
    inside = np.flatnonzero((band >= 0) & (band < FP_BANDS))
    starts = np.searchsorted(band[inside], np.arange(FP_BANDS))
    if len(inside) == 0 or np.any(np.diff(np.r_[starts, len(inside)]) == 0):
        raise ValueError(f"sample rate {rate} Hz is too low for audio fingerprints")
    return int(inside[0]), int(inside[-1]) + 1, starts


def fingerprint(samples: np.ndarray, rate: int) -> np.ndarray:
    """Haitsma–Kalker style sub-fingerprints: one uint32 (low 16 bits used) per 32 ms hop.

    Frames of two hops, 64 ms (1024 samples at 16 kHz), hop 32 ms, so a 15 s clip gives
    about 470 values. A frame's power spectrum is the sum of those of its two halves, each
    under a Hann window of one hop (31.25 Hz bins), so every sample goes through one short
    FFT. Energies E(n, m) in 17 log-spaced bands between 300 and 3000 Hz; bit m of sub-fingerprint n is 1 when
    E(n,m) - E(n,m+1) - (E(n-1,m) - E(n-1,m+1)) > 0. Signs of differences ignore gain and
    survive moderate noise.

    The frame grid starts at a content-determined offset below one hop (see `grid_offset`),
    so copies of the same audio cut at different points get nearly the same grid: a 32 ms
    hop alone would leave them up to 16 ms apart, which flips about a quarter of the bits.

    A sub-fingerprint is 0 when frame n or n-1 is quiet: 30 dB or more below the clip's loud
    frames (their 95th percentile) or below -90 dBFS in the band; `similarity` skips such
    values, so pauses and silence carry no weight. Clips shorter than two frames apart
    (frame + hop samples, 96 ms at 16 kHz, after the offset) give an empty array."""
    x = _int16(samples)
    frame, hop = fingerprint_params(rate)
    x = x[grid_offset(x, rate) :]
    if len(x) < frame + hop:
        return np.zeros(0, dtype=np.uint32)
    # the power spectrum of a Hann frame of 2 hops, as the sum of those of its two halves
    # (each under a Hann window of one hop): each sample goes through one FFT of one hop
    window = _hann(hop) / FULL_SCALE
    lo, hi, starts = _band_bins(rate, hop)
    halves = x[: len(x) // hop * hop].reshape(-1, hop)
    half_energy = np.empty((len(halves), FP_BANDS))
    batch = max(1, CHUNK // hop)
    rows = min(batch, len(halves))
    buffer, spectra = np.empty((rows, hop)), np.empty((rows, hop // 2 + 1), np.complex128)
    for start in range(0, len(halves), batch):
        stop = min(start + batch, len(halves))
        windowed = np.multiply(halves[start:stop], window, out=buffer[: stop - start])
        spectrum = np.fft.rfft(windowed, axis=1, out=spectra[: stop - start])[:, lo:hi]
        power = spectrum.real**2
        power += spectrum.imag**2
        half_energy[start:stop] = np.add.reduceat(power, starts, axis=1)
    energy = half_energy[:-1] + half_energy[1:]
    total = energy.sum(axis=1)
    # the 95th percentile (linear interpolation, as np.percentile), without its overhead
    rank = 0.95 * (len(total) - 1)
    below = int(rank)
    part = np.partition(total, [below, min(below + 1, len(total) - 1)])
    loud = float(part[below] + (rank - below) * (part[min(below + 1, len(total) - 1)] - part[below]))
    floor = max(
        loud * 10 ** (-FP_QUIET_DB / 10),
        10 ** (FP_FLOOR_DBFS / 10) * 2 * _energy(hop) * (hi - lo),
    )
    quiet = total < floor
    diff = energy[:, :-1] - energy[:, 1:]
    bits = (diff[1:] - diff[:-1]) > 0
    values = bits.astype(np.uint32) @ (np.uint32(1) << np.arange(FP_BANDS - 1, dtype=np.uint32))
    values[quiet[1:] | quiet[:-1]] = 0
    return values.astype(np.uint32)


def grid_offset(samples: np.ndarray, rate: int) -> int:
    """Where the fingerprint's frame grid starts: a sample offset in [0, hop).

    Onset strength o(t) is how much the signal energy of the 5 ms before t exceeds that of
    the 5 ms before those (energy in 0.25 ms blocks); the offset is the phase of
    sum o(t)·exp(2πi·t/hop), i.e. the grid position that best agrees with the clip's strong
    onsets. Cutting d samples off the start turns every term by the same angle, so the
    offset moves by -d (mod hop), to within a few samples, and the grid stays on the same
    content. Silence gives 0."""
    x = _int16(samples)
    _, hop = fingerprint_params(rate)
    block = max(1, rate // 4000)
    span = max(1, round(0.005 * rate / block))
    count = len(x) // block
    if count <= 2 * span:
        return 0
    cumulative = _cumulative_energy(x, count, block)
    onset = cumulative[2 * span :] - cumulative[span:-span]  # in place from here: no temporaries
    onset -= cumulative[span:-span]
    onset += cumulative[: -2 * span]
    np.maximum(onset, 0, out=onset)
    if hop % block == 0:  # sum the onsets of each phase: fold rows of one hop
        per = hop // block
        whole = len(onset) // per * per
        folded = onset[:whole].reshape(-1, per).sum(axis=0)
        folded[: len(onset) - whole] += onset[whole:]
        # onset[i] lies at block (i + 2·span): phase i mod per turned by 2·span blocks
        total = np.dot(folded, _unit_circle(per)) * _unit_circle(per)[2 * span % per]
    else:
        weights = np.bincount(np.arange(2 * span, count) * block % hop, weights=onset, minlength=hop)
        total = np.dot(weights, _unit_circle(hop))
    if abs(total) == 0:
        return 0
    return round(np.angle(total) / (2 * np.pi) * hop) % hop


def _cumulative_energy(x: np.ndarray, count: int, block: int) -> np.ndarray:
    """Running sums of the energies of `count` blocks of `block` int16 samples: exact (int64)."""
    if block == 4:  # the fewest wide temporaries: squares fit int32, sums of two uint32
        squares = np.square(x[: count * block], dtype=np.int32).view(np.uint32).reshape(count, 2, 2)
        pairs = np.add(squares[:, :, 0], squares[:, :, 1])  # at most 2**31
        cumulative = pairs[:, 0].astype(np.int64)
        cumulative += pairs[:, 1]
    else:
        squares = x[: count * block].astype(np.int64)
        squares *= squares
        columns = squares.reshape(count, block)
        cumulative = columns[:, 0].copy()
        for k in range(1, block):  # column sums: faster than a row-wise reduction of short rows
            cumulative += columns[:, k]
    return np.cumsum(cumulative, out=cumulative)


def similarity(a: np.ndarray, b: np.ndarray, max_shift: int = 500) -> float:
    """1 - bit error rate of two fingerprints at their best alignment.

    Alignments shift b against a by up to `max_shift` sub-fingerprints either way (the
    default, 16 s, allows every alignment of clips up to 15 s); an alignment counts when
    the two overlap by at least 60 % of the shorter fingerprint and at least 24 values
    (about 0.8 s). Pairs where either value is 0 (quiet) are skipped, and an alignment needs
    16 compared pairs. Identical audio gives 1.0, unrelated audio about 0.5; fingerprints
    too short or too quiet for any alignment give 0.0."""
    a = np.asarray(a, dtype=np.uint32).ravel() & np.uint32(0xFFFF)
    b = np.asarray(b, dtype=np.uint32).ravel() & np.uint32(0xFFFF)
    la, lb = len(a), len(b)
    need = max(math.ceil(FP_MIN_OVERLAP * min(la, lb)), FP_MIN_FRAMES)
    if min(la, lb) < need:
        return 0.0
    nfft = _fast_size(la + lb - 1)
    sa, ma = _sign_planes(a)
    sb, mb = _sign_planes(b)
    fa = np.fft.rfft(np.vstack([sa, ma]), nfft)
    fb = np.fft.rfft(np.vstack([sb, mb]), nfft)
    # corr[k] = sum_i a[i] * b[i + k], k = -(la-1) .. lb-1 (negative lags wrap to the end)
    agree = np.fft.irfft(np.sum(fa[:-1].conj() * fb[:-1], axis=0), nfft)
    compared = np.fft.irfft(fa[-1].conj() * fb[-1], nfft)
    lags = np.arange(-(la - 1), lb)
    agree = np.rint(agree[lags]).astype(np.int64)
    compared = np.rint(compared[lags]).astype(np.int64)
    overlap = np.minimum(la, lb - lags) - np.maximum(0, -lags)
    ok = (overlap >= need) & (np.abs(lags) <= max_shift) & (compared >= FP_MIN_COMPARED)
    if not ok.any():
        return 0.0
    bits = (FP_BANDS - 1) * compared[ok]
    return float(np.max(0.5 + agree[ok] / (2.0 * bits)))


def _sign_planes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(16, n) of +1/-1 per bit, 0 where the value is 0 (quiet); and the (n,) 0/1 mask."""
    active = values != 0
    bits = (values[None, :] >> np.arange(FP_BANDS - 1, dtype=np.uint32)[:, None]) & 1
    signs = (2.0 * bits - 1.0) * active
    return signs, active.astype(np.float64)


def group_duplicates(
    fps: dict[str, np.ndarray], threshold: float = DUPLICATE_THRESHOLD, max_bucket: int = MAX_BUCKET
) -> dict[str, str]:
    """Group near-duplicate clips: {clip_id: group_id} for every clip in a group of 2 or more,
    the group id being the group's representative, its smallest clip id.

    Groups are stars: every member is a duplicate (`similarity` >= `threshold`) of its
    group's representative, so A ≈ B and B ≈ C never put A and C together unless A ≈ C.
    Clips are taken in id order; a clip joins the earlier representative it is most similar
    to, or else becomes a representative itself.

    Candidates come from an inverted index of keys made of two non-zero sub-fingerprints of
    a clip 1, 2 or 3 hops apart (32 bits plus the gap): clips whose keys are equal or 1 bit
    apart are a candidate pair, with the alignment the keys imply, and only those alignments
    (±1 hop) are scored. Keys 1 bit apart agree on two of the key's three segments of 10-11
    bits, so the index is built three times, on each two segments, and pairs sharing those are
    kept when their whole keys are at most 1 bit apart. A copy through Opus at 12 kbit/s flips
    about 14 % of the bits: a 32-bit key survives intact ~1 % of the time, within 1 bit ~5 %.
    Keys held by more than `max_bucket` clips, and sub-fingerprint values far more common
    than the others, are ignored: they say little and would make the candidates explode.
    Clips shorter than about 0.8 s (`FP_MIN_FRAMES`) are never grouped: different
    utterances of one word by one speaker are as alike as copies of it."""
    ids = sorted(fps)
    arrays = [np.asarray(fps[clip], dtype=np.uint32).ravel() for clip in ids]
    lengths = np.array([len(v) for v in arrays], dtype=np.int64)
    values = np.concatenate(arrays) if arrays else np.zeros(0, np.uint32)
    return group_fingerprints(ids, values, lengths, threshold, max_bucket)


def group_fingerprints(
    ids: Sequence[str],
    values: np.ndarray,
    lengths: np.ndarray,
    threshold: float = DUPLICATE_THRESHOLD,
    max_bucket: int = MAX_BUCKET,
) -> dict[str, str]:
    """`group_duplicates` of fingerprints laid end to end: clip `ids[k]` (ids in ascending
    order) holds the next `lengths[k]` sub-fingerprints of `values`."""
    n = len(ids)
    lengths = np.asarray(lengths, dtype=np.int64).ravel()
    if len(lengths) != n or int(lengths.sum()) != len(values):
        raise ValueError("lengths must give one count per clip id and add up to the values")
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise ValueError("clip ids must be unique and in ascending order")
    if n < 2 or len(values) == 0:
        return {}
    values = np.asarray(values, dtype=np.uint32).ravel()
    if int(values.max()) > 0xFFFF:
        values = values & np.uint32(0xFFFF)  # only the low 16 bits are sub-fingerprint bits
    starts = np.cumsum(lengths) - lengths  # where each clip's values begin
    owner = np.repeat(np.arange(n, dtype=np.int32), lengths)
    counts = np.bincount(values, minlength=1 << 16)
    counts[0] = 0
    common = counts > max(COMMON_FACTOR * counts.sum() / (1 << 16), max_bucket)
    usable = common[values]
    np.logical_not(usable, out=usable)
    usable &= values != 0
    usable &= (lengths >= FP_MIN_FRAMES)[owner]  # shorter clips are never grouped
    reach = int(lengths.max())
    shift = (2 * reach + 1).bit_length()
    if (n * n) << shift >= 1 << 63:
        raise ValueError("too many clips or too long fingerprints to pair at once")
    # the index is built one part of the keys at a time (by their first value), so it never
    # holds more than a part of the values
    parts = max(1, min(MAX_PARTS, len(values) // PART_ENTRIES))
    found = []
    for gap in KEY_GAPS:
        pairable = usable[:-gap] & usable[gap:]
        pairable &= owner[:-gap] == owner[gap:]
        for drop in range(len(KEY_SEGMENTS)):
            # each part of the index holds the keys of one part of a segment kept in them
            kept = values[:-gap] >> 5 if drop else values[gap:] & 0x3FF
            kept %= parts
            part_of = kept.astype(np.uint8)
            del kept
            for part in range(parts):
                at = np.flatnonzero(pairable & (part_of == part) if parts > 1 else pairable)
                found.append(_shared_keys(values, owner, starts, at, gap, max_bucket, n, shift, reach, drop))
            del part_of
        found = [_sorted_unique(np.concatenate(found))]  # most pairs meet under all three keys
        del pairable
    # candidates as (later clip, earlier clip, lag) packed in one int64, sorted: clip by clip
    candidates = found[0]
    if not len(candidates):
        return {}
    pair, lag = candidates >> shift, (candidates & ((1 << shift) - 1)) - reach
    later, earlier = pair // n, pair % n
    bounds = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1], True]).tolist()
    group = np.arange(n)  # each clip's representative: itself until it joins one
    best = np.zeros(n)  # the similarity to it
    for lo, hi in itertools.pairwise(bounds):
        b, a = int(later[lo]), int(earlier[lo])
        if group[a] != a:  # a member, not a representative
            continue
        keyed = set(lag[lo:hi].tolist())
        near = sorted(keyed | {k + d for k in keyed for d in (-1, 1)})
        score = _similarity_at(
            values[starts[a] : starts[a] + lengths[a]], values[starts[b] : starts[b] + lengths[b]], near
        )
        if score >= threshold and score > best[b]:
            group[b], best[b] = a, score
    sizes = np.bincount(group, minlength=n)
    return {ids[k]: ids[int(group[k])] for k in np.flatnonzero(sizes[group] > 1).tolist()}


def _shared_keys(
    values: np.ndarray,
    owner: np.ndarray,
    starts: np.ndarray,
    at: np.ndarray,
    gap: int,
    max_bucket: int,
    n: int,
    shift: int,
    reach: int,
    drop: int,
) -> np.ndarray:
    """Candidate pairs of the index keys starting at positions `at` (ascending): every two
    clips whose keys are equal or 1 bit apart and agree on the two key segments other than
    segment `drop` (`KEY_SEGMENTS`), that pair held by 2 to `max_bucket` clips; packed as
    (later clip · n + earlier clip) << shift | (lag + reach), the lag putting the earlier
    clip's value k against the later clip's k + lag. A clip's first entry of each pair of
    segments only: a key repeated inside a clip (a loop, a beat) says nothing."""
    if not len(at):
        return np.zeros(0, np.int64)
    full = (values[at].astype(np.int64) << 16) | values[at + gap]
    key = full & ~KEY_SEGMENTS[drop]
    order = np.argsort(key, kind="stable")  # within a key: by position, so by clip
    key, at, full = key[order], at[order], full[order]
    clip = owner[at]
    first = np.r_[True, (key[1:] != key[:-1]) | (clip[1:] != clip[:-1])]
    key, at, full = key[first], at[first], full[first]
    begin = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    size = np.diff(np.r_[begin, len(key)])
    keep = np.repeat((size >= 2) & (size <= max_bucket), size)
    key, at, full = key[keep], at[keep], full[keep]
    out = [np.zeros(0, np.int64)]
    for d in range(1, max_bucket):  # entry e with entry e + d of its bucket
        same = np.flatnonzero(key[d:] == key[:-d])
        if not len(same):
            break
        apart = full[same] ^ full[same + d]
        same = same[_POPCOUNT16[apart & 0xFFFF] + _POPCOUNT16[apart >> 16] <= 1]
        left, right = at[same], at[same + d]
        i, j = owner[left].astype(np.int64), owner[right].astype(np.int64)  # i < j
        lag = (right - starts[j]) - (left - starts[i])
        out.append(((j * n + i) << shift) | (lag + reach))
    return np.concatenate(out)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique of an integer array, by a sort: numpy 2.3+ hashes first, ten times slower here."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _similarity_at(
    a: np.ndarray, b: np.ndarray, lags: Sequence[int], max_shift: int = 500, enough: float = 2.0
) -> float:
    """`similarity` restricted to the given alignments (a[k] against b[k + lag]), tried in
    order; it stops at the first that scores `enough` or more."""
    la, lb = len(a), len(b)
    need = max(math.ceil(FP_MIN_OVERLAP * min(la, lb)), FP_MIN_FRAMES)
    best = 0.0
    for lag in lags:
        lo, hi = max(0, -lag), min(la, lb - lag)
        if hi - lo < need or abs(lag) > max_shift:
            continue
        x, y = a[lo:hi], b[lo + lag : hi + lag]
        both = (x != 0) & (y != 0)
        compared = int(np.count_nonzero(both))
        if compared >= FP_MIN_COMPARED:
            errors = int(_POPCOUNT16[(x ^ y)[both]].sum(dtype=np.int64))
            best = max(best, 1.0 - errors / ((FP_BANDS - 1) * compared))
            if best >= enough:
                break
    return best


@lru_cache(maxsize=16)
def _unit_circle(n: int) -> np.ndarray:
    return np.exp(2j * np.pi * np.arange(n) / n)


@lru_cache(maxsize=16)
def _energy(n: int) -> float:
    """Sum of squares of the n-point Hann window (with FULL_SCALE = 1)."""
    return float(np.sum(_hann(n) ** 2))


@lru_cache(maxsize=16)
def _hann(n: int) -> np.ndarray:
    """Hann window of n points (the n + 2 point window without its zero ends)."""
    return np.hanning(n + 2)[1:-1]


def _int16(samples: np.ndarray) -> np.ndarray:
    """Samples as a 1-D int16 array (a view when they already are one)."""
    x = np.asarray(samples).ravel()
    if x.dtype != np.int16:
        x = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    return x

"""Clip quality measures: SNR, loudness (LUFS, K-weighting), clipping and bandwidth.

Every function takes a clip's samples as a 1-D int16 array (full scale = 32768) and is pure
and cheap enough to run for every clip inside the cutting loop. Edge cases (empty arrays,
clips shorter than one analysis frame, digital silence) never raise; each function documents
the value it returns for them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .dsp import CHUNK, FULL_SCALE, as_int16, hann, hann_energy

SNR_MIN_DB = -10.0
SNR_MAX_DB = 60.0
SNR_FRAME_S = 0.032  # rounded to a power of two samples: 512 at 16 kHz
SNR_BAND_HZ = 250.0
SNR_NOISE_PERCENTILE = 20.0  # of each band's power over the frames: the noise floor
SNR_LOW_HZ = 50.0  # below this: DC offsets and rumble, which no listener hears as noise

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
    speech: np.ndarray | None = None,
) -> Quality:
    """All quality measures of a clip, rounded: dB to 2 decimals, ratios to 5, Hz to whole.

    `noise`, the mean power spectrum of the noise around the clip (see `snr_db`), replaces
    the SNR's in-clip noise estimate; `speech` flags the clip's speech frames (see `snr_db`).

    `peak`, the largest |sample| (as the VAD frames give it), saves the clipping pass when
    it is below the clipping level. With `blocks` covering at least one loudness block (about 400 ms),
    loudness and bandwidth come from those blocks' spectra (`lufs_of_blocks`,
    `bandwidth_of_spectrum`) instead of a new pass over the samples."""
    x = as_int16(samples)
    size = blocks.size if blocks is not None else 0
    if blocks is not None and len(blocks.loudness) >= _blocks_per(LUFS_BLOCK_S, size, rate):
        loudness = lufs_of_blocks(blocks.loudness, size, rate)
        bandwidth = bandwidth_of_spectrum(blocks.spectrum, rate, size)
    else:
        loudness, bandwidth = lufs(x, rate), bandwidth_hz(x, rate)
    return Quality(
        snr_db=round(snr_db(x, rate, noise, speech), 2),
        lufs=round(loudness, 2),
        clipping_ratio=0.0 if peak is not None and peak < CLIP_LEVEL else round(clipping_ratio(x), 5),
        bandwidth_hz=float(round(bandwidth)),
    )


# -- SNR -----------------------------------------------------------------------
def snr_db(
    samples: np.ndarray, rate: int, noise: np.ndarray | None = None, speech: np.ndarray | None = None
) -> float:
    """Estimated signal-to-noise ratio in dB, clamped to [SNR_MIN_DB, SNR_MAX_DB] = [-10, 60].

    The noise spectrum is read from the clip itself: 32 ms Hann frames, their power in bands
    of 250 Hz, and in each band the 20th percentile over the frames, scaled up to the mean
    it implies for steady Gaussian noise. Speech leaves most bands quiet in many frames (its
    pauses, and the bands its sounds do not use), so this needs no pauses and no VAD flags.
    SNR = 10·log10((P - N) / N), P the clip's mean power, N the noise estimate's. `speech`,
    one flag per frame of equal length over the clip (the VAD's), makes P the mean power of
    the frames while someone speaks (the speech level, as the SNR of a recording is defined):
    without it, the padding and pauses inside a clip pull P down, and a clip that is half
    pauses reads 3 dB noisier than its speech is. Both powers leave out what lies below
    SNR_LOW_HZ: a DC offset or rumble under the speech is not noise anyone hears, and
    counted as such it read a recording with an offset 2-5 dB too noisy.

    On real speech with real noise mixed in (bench/bench_quality.py) it is within a few dB
    from 10 to 20 dB SNR; below that, noise that comes and goes (animals, music) reads too
    high, and recordings that are not noise-free themselves read their own SNR (20-35 dB).
    `noise`, when given, is the noise's mean power spectrum measured elsewhere (the source's
    pauses around the clip): Hann-windowed frames of the same length as here (SNR_FRAME_S),
    power of each rfft bin in int16 units, as `acoustic.BlockAnalysis` gives it. Its sum
    is then N. A `noise` on another grid is ignored.

    Digital silence in any band's quiet frames gives 60; all-zero or empty audio, or a clip
    no louder than its noise estimate, gives -10."""
    x = as_int16(samples)
    if not x.any():
        return SNR_MIN_DB
    n = _snr_frame(rate)
    whole = max(len(x), n)
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    bands = _band_powers(x[: len(x) // n * n].reshape(-1, n), rate)
    if noise is not None and len(noise) == n // 2 + 1:
        # the spectrum's frames used np.hanning(n): scaled to this Hann window's energy
        kept = noise[_lowest_bin(n, rate) :]
        level = float(np.sum(kept, dtype=np.float64)) * hann_energy(n) / _numpy_hann_energy(n)
    else:
        level = float(np.percentile(bands, SNR_NOISE_PERCENTILE, axis=0).sum()) * _snr_correction(rate)
    powers = bands.sum(axis=1)
    if speech is not None and len(speech) and np.any(speech):
        centres = (np.arange(len(powers)) * n + n // 2) * len(speech) // whole
        talking = np.asarray(speech, bool)[np.minimum(centres, len(speech) - 1)]
        powers = powers[talking] if talking.any() else powers
    total = float(powers.mean())
    if level <= 0:
        return SNR_MAX_DB
    ratio = max(total - level, 1e-12 * level) / level
    return min(max(10 * math.log10(ratio), SNR_MIN_DB), SNR_MAX_DB)


def _snr_frame(rate: int) -> int:
    return 1 << round(math.log2(SNR_FRAME_S * rate))


def _band_powers(frames: np.ndarray, rate: int) -> np.ndarray:
    """Power of each frame (rows) in bands of about SNR_BAND_HZ (columns) from SNR_LOW_HZ up,
    Hann-windowed."""
    n = frames.shape[1]
    power = np.abs(np.fft.rfft(frames * hann(n), axis=1)[:, _lowest_bin(n, rate) :]) ** 2
    width = max(1, round(SNR_BAND_HZ * n / rate))
    return np.add.reduceat(power, np.arange(0, power.shape[1], width), axis=1)


def _lowest_bin(n: int, rate: int) -> int:
    """The first rfft bin of an n-sample frame at or above SNR_LOW_HZ."""
    return math.ceil(SNR_LOW_HZ * n / rate)


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
    x = as_int16(samples)
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


# -- clipping ------------------------------------------------------------------
def clipping_ratio(samples: np.ndarray) -> float:
    """Share of samples in runs of 2 or more consecutive samples within 1 LSB of the same
    int16 extreme (>= 32766 or <= -32767). A lone full-scale peak does not count, so clean
    audio normalised to full scale gives 0. Empty audio gives 0."""
    x = as_int16(samples)
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
    x = as_int16(samples)
    if len(x) == 0 or not x.any():
        return 0.0
    n = BANDWIDTH_NFFT
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    frames = sliding_window_view(x, n)[:: n // 2]
    window = hann(n) / FULL_SCALE
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

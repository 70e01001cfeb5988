"""Audio fingerprints, Haitsma–Kalker style, and the grouping of near-duplicate clips.

`fingerprint` turns a clip's samples (a 1-D int16 array) into one 16-bit sub-fingerprint per
32 ms hop; `similarity` scores two fingerprints at their best alignment, and
`group_duplicates` / `group_fingerprints` group a whole collection through an inverted index
of sub-fingerprint pairs, without comparing every pair of clips. Empty, silent or too short
clips never raise: they give empty or all-quiet fingerprints that match nothing."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .dsp import CHUNK, FULL_SCALE, as_int16, hann, hann_energy

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

_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


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
    x = as_int16(samples)
    frame, hop = fingerprint_params(rate)
    x = x[grid_offset(x, rate) :]
    if len(x) < frame + hop:
        return np.zeros(0, dtype=np.uint32)
    # the power spectrum of a Hann frame of 2 hops, as the sum of those of its two halves
    # (each under a Hann window of one hop): each sample goes through one FFT of one hop
    window = hann(hop) / FULL_SCALE
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
        10 ** (FP_FLOOR_DBFS / 10) * 2 * hann_energy(hop) * (hi - lo),
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
    x = as_int16(samples)
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


@lru_cache(maxsize=16)
def _unit_circle(n: int) -> np.ndarray:
    return np.exp(2j * np.pi * np.arange(n) / n)


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


# -- grouping ------------------------------------------------------------------
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

"""Audio fingerprints and near-duplicate grouping, on random sub-fingerprints with known
answers and on the bundled sample's speech (cut into sentences with the cue times of
samples/sample.json)."""

import numpy as np
import pytest
from conftest import RATE, noisy_copy, random_fingerprints, sentence, to_int16

from accentds.fingerprints import (
    DUPLICATE_THRESHOLD,
    FP_MIN_COMPARED,
    FP_MIN_FRAMES,
    _cumulative_energy,
    _similarity_at,
    fingerprint,
    fingerprint_params,
    grid_offset,
    group_duplicates,
    similarity,
)


def degrade(x: np.ndarray, seed: int, gain_db: float = -3.0, snr: float = 30.0) -> np.ndarray:
    """A "re-encoded" copy: gain change plus white noise at `snr` dB below the clip's power."""
    rng = np.random.default_rng(seed)
    y = x.astype(np.float64) * 10 ** (gain_db / 20)
    noise = rng.normal(size=len(y)) * np.sqrt(np.mean(y**2)) * 10 ** (-snr / 20)
    return to_int16(y + noise)


# -- fingerprints --------------------------------------------------------------
def test_fingerprint_shape_and_params(speech):
    assert fingerprint_params(16000) == (1024, 512)
    assert fingerprint_params(8000) == (512, 256)
    assert fingerprint_params(48000) == (3072, 1536)  # 32 ms hops at any rate
    fp = fingerprint(speech[: 15 * RATE], RATE)
    assert fp.dtype == np.uint32 and fp.ndim == 1
    assert 450 <= len(fp) <= 470  # a few hundred for 15 s
    assert fp.max() < 1 << 16
    assert len(fingerprint(np.zeros(1024 + 511, np.int16), RATE)) == 0
    assert not fingerprint(np.zeros(RATE, np.int16), RATE).any()  # silence: all "quiet"
    quiet = to_int16(np.random.default_rng(0).normal(size=RATE) * 0.5)  # below -90 dBFS
    assert not fingerprint(quiet, RATE).any()


def test_grid_offset_follows_the_content(speech):
    x = sentence(speech, 2)
    _, hop = fingerprint_params(RATE)
    base = grid_offset(x, RATE)
    for shift in (7, 100, 250, 333, 1601):
        moved = grid_offset(x[shift:], RATE)
        assert min((moved - base + shift) % hop, (base - shift - moved) % hop) <= 3
    assert grid_offset(np.zeros(RATE, np.int16), RATE) == 0
    assert grid_offset(np.zeros(3, np.int16), RATE) == 0


@pytest.mark.parametrize("block", [1, 2, 3, 4, 12])
def test_cumulative_energy_is_exact_at_the_extremes(block):
    x = np.random.default_rng(block).integers(-32768, 32768, 4000).astype(np.int16)
    x[:100] = -32768  # whole blocks of the largest square
    count = len(x) // block
    expected = np.cumsum((x[: count * block].astype(np.int64) ** 2).reshape(count, block).sum(axis=1))
    assert np.array_equal(_cumulative_energy(x, count, block), expected)


def brute_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """similarity by its definition, one alignment at a time."""
    need = max(int(np.ceil(0.6 * min(len(a), len(b)))), FP_MIN_FRAMES)
    best = 0.0
    for lag in range(-len(a) + 1, len(b)):
        lo, hi = max(0, -lag), min(len(a), len(b) - lag)
        if hi - lo < need:
            continue
        x, y = a[lo:hi], b[lo + lag : hi + lag]
        both = (x != 0) & (y != 0)
        if both.sum() >= FP_MIN_COMPARED:
            errors = sum(bin(int(v)).count("1") for v in (x ^ y)[both])
            best = max(best, 1 - errors / (16 * both.sum()))
    return best


def test_similarity_equals_its_definition():
    rng = np.random.default_rng(3)
    for la, lb in [(40, 40), (30, 90), (120, 50), (200, 201)]:
        a = rng.integers(0, 1 << 16, la, dtype=np.uint32)
        b = rng.integers(0, 1 << 16, lb, dtype=np.uint32)
        b[10 : 10 + min(la, lb) // 2] = a[: min(la, lb) // 2]  # a partly shared stretch
        a[rng.random(la) < 0.2] = 0
        assert similarity(a, b) == pytest.approx(brute_similarity(a, b), abs=1e-12)
        assert similarity(a, b) == pytest.approx(similarity(b, a), abs=1e-12)
        lags = np.arange(-la + 1, lb)
        full = _similarity_at(a, b, lags)
        assert full == pytest.approx(similarity(a, b), abs=1e-12)
        # `enough` stops at the first lag that reaches it: never reached, every lag is tried
        assert _similarity_at(a, b, lags, enough=full + 0.01) == full
        first = next(x for x in (_similarity_at(a, b, [k]) for k in lags.tolist()) if x > 0)
        assert _similarity_at(a, b, lags, enough=0.01) == first < full


def test_similarity_of_identical_unrelated_and_too_short():
    rng = np.random.default_rng(4)
    a = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    b = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    assert similarity(a, a) == 1.0
    assert 0.45 < similarity(a, b) < 0.56
    assert similarity(a[:20], a[:20]) == 0.0  # below the minimum overlap
    assert similarity(np.zeros(300, np.uint32), np.zeros(300, np.uint32)) == 0.0
    assert similarity(a[:0], a) == 0.0
    # max_shift limits the alignments tried
    assert similarity(a[50:], a[:250], max_shift=10) < 0.6
    assert similarity(a[50:], a[:250], max_shift=50) == 1.0


def test_a_degraded_copy_matches_and_other_sentences_do_not(speech):
    fps = [fingerprint(sentence(speech, i), RATE) for i in range(8)]
    for i in range(8):
        for shift_ms in (7, -7, 16):
            copy = degrade(sentence(speech, i, shift_ms=shift_ms), seed=i)
            assert similarity(fps[i], fingerprint(copy, RATE)) >= DUPLICATE_THRESHOLD + 0.1
        assert similarity(fps[i], fingerprint(degrade(sentence(speech, i), i, -6.0, 20.0), RATE)) > 0.8
    for i in range(8):
        for j in range(i + 1, 8):
            assert 0.5 <= similarity(fps[i], fps[j]) < DUPLICATE_THRESHOLD - 0.05


def test_a_copy_cut_with_other_boundaries_matches(speech):
    for i in (1, 4, 6):
        a = fingerprint(sentence(speech, i, pad=0.1), RATE)
        for pad, shift_ms in ((0.4, 3), (0.25, 11), (0.1, 250)):
            copy = degrade(sentence(speech, i, pad=pad, shift_ms=shift_ms), seed=i)
            assert similarity(a, fingerprint(copy, RATE)) >= DUPLICATE_THRESHOLD


def test_silence_and_quiet_noise_match_nothing(speech):
    fps = [fingerprint(sentence(speech, i), RATE) for i in range(8)]
    silence = fingerprint(np.zeros(3 * RATE, np.int16), RATE)
    hiss = fingerprint(to_int16(np.random.default_rng(5).normal(size=3 * RATE) * 20), RATE)
    other_hiss = fingerprint(to_int16(np.random.default_rng(6).normal(size=3 * RATE) * 20), RATE)
    for fp in fps:
        assert similarity(silence, fp) == 0.0
        assert similarity(hiss, fp) < 0.6
    assert similarity(silence, silence) == 0.0
    assert similarity(hiss, other_hiss) < 0.6


# -- grouping ------------------------------------------------------------------
def test_group_duplicates_finds_the_repeated_sentence_only(speech):
    rng = np.random.default_rng(8)
    clips = {f"a-{i}": sentence(speech, i) for i in range(4)}
    clips["b-0"] = degrade(sentence(speech, 0, pad=0.3, shift_ms=7), seed=1)
    clips |= {f"b-{i}": degrade(sentence(speech, i), seed=i) for i in range(4, 8)}
    clips["a-silence"] = np.zeros(2 * RATE, np.int16)
    clips["b-silence"] = np.zeros(3 * RATE, np.int16)
    clips["a-hiss"] = to_int16(rng.normal(size=2 * RATE) * 5)
    clips["b-hiss"] = to_int16(rng.normal(size=2 * RATE) * 5)
    fps = {clip: fingerprint(x, RATE) for clip, x in clips.items()}
    assert group_duplicates(fps) == {"a-0": "a-0", "b-0": "a-0"}


def test_group_duplicates_joins_groups_and_names_them_by_smallest_id(speech):
    x = sentence(speech, 3)
    fps = {
        "z": fingerprint(x, RATE),
        "m": fingerprint(degrade(x, 1), RATE),
        "q": fingerprint(degrade(sentence(speech, 3, shift_ms=20), 2, -2.0), RATE),
        "k": fingerprint(sentence(speech, 5), RATE),
        "c": fingerprint(degrade(sentence(speech, 5, pad=0.3), 3), RATE),
        "a": fingerprint(sentence(speech, 6), RATE),
    }
    assert group_duplicates(fps) == {"m": "m", "q": "m", "z": "m", "c": "c", "k": "c"}
    assert group_duplicates(fps, threshold=1.01) == {}
    assert group_duplicates({}) == {}
    assert group_duplicates({"x": fps["z"]}) == {}
    assert group_duplicates({"x": np.zeros(0, np.uint32), "y": np.zeros(5, np.uint32)}) == {}


def random_collection(count: int, length: int, planted: int, seed: int) -> tuple[dict, list]:
    """Random 16-bit sub-fingerprints with quiet runs and one very common value, plus planted
    copies (10 % of bits flipped, shifted by 3 hops)."""
    rng = np.random.default_rng(seed)
    fps = random_fingerprints(rng, count, length, 60, "c{:06d}")
    pairs = []
    for k in range(planted):
        source = f"c{k * 7:06d}"
        fps[f"d{k:06d}"] = noisy_copy(rng, fps[source], 3)
        pairs.append((source, f"d{k:06d}"))
    return fps, pairs


def test_group_duplicates_does_not_chain():
    # a ≈ b and b ≈ c, but a and c differ in 40 % of their bits: c must not join a's group
    rng = np.random.default_rng(11)
    a = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    moved = np.zeros(300, bool)
    moved[rng.permutation(300)[:120]] = True  # 40 % of the values
    c = np.where(moved, a ^ np.uint32(0xFFFF), a)
    b = np.where(moved & (np.arange(300) % 2 == 0), c, a)  # half way between them
    assert similarity(a, b) == pytest.approx(0.8, abs=0.03) and similarity(b, c) == pytest.approx(
        0.8, abs=0.03
    )
    assert similarity(a, c) < 0.65
    assert group_duplicates({"a": a, "b": b, "c": c}, threshold=0.75) == {"a": "a", "b": "a"}
    # a clip joins the representative it is most like
    d = np.where(moved & (np.arange(300) % 4 == 1), c, a)  # 90 % like a
    assert group_duplicates({"a": a, "b": b, "c": c, "d": d}, threshold=0.75) == {k: "a" for k in "abd"}


def test_group_duplicates_when_keys_repeat_only_inside_one_clip():
    # a clip repeating one pattern shares keys with itself only: no candidate pair at all
    looped = np.tile(np.array([0x1234, 0x5678, 0x9ABC, 0x0F0F], np.uint32), 40)
    other = np.random.default_rng(4).integers(1, 1 << 16, 160).astype(np.uint32)
    assert group_duplicates({"a": looped, "b": other}) == {}
    assert group_duplicates({"a": looped, "b": looped.copy()}) == {"a": "a", "b": "a"}


def test_group_duplicates_scales_to_many_clips():
    fps, pairs = random_collection(20000, 300, planted=40, seed=9)
    groups = group_duplicates(fps)
    assert groups == {clip: source for source, copy in pairs for clip in (source, copy)}


def test_group_duplicates_ignores_overfull_keys():
    rng = np.random.default_rng(10)
    shared = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    fps = {f"c{i:03d}": shared.copy() for i in range(5)}
    assert set(group_duplicates(fps).values()) == {"c000"}
    assert group_duplicates(fps, max_bucket=4) == {}


def test_group_duplicates_finds_copies_that_share_no_exact_key():
    # one bit flipped in 3 values of every 4 (as a low-bitrate codec flips many bits): no two
    # values 1-3 hops apart are both intact, so no index key of two values is shared exactly
    rng = np.random.default_rng(12)
    a = rng.integers(1, 1 << 16, 60, dtype=np.uint32)
    flips = np.uint32(1) << rng.integers(0, 16, 60).astype(np.uint32)
    b = np.where(np.arange(60) % 4 == 0, a, a ^ flips)
    other = rng.integers(1, 1 << 16, 60, dtype=np.uint32)
    assert similarity(a, b) == pytest.approx(1 - 45 / 960)
    assert group_duplicates({"a": a, "b": b, "c": other}) == {"a": "a", "b": "a"}
    # two bits off in every key: not found (the index's limit), however similar
    c = a ^ flips
    assert similarity(a, c) == pytest.approx(15 / 16) and group_duplicates({"a": a, "c": c}) == {}


def test_clips_too_short_to_compare_are_never_grouped():
    rng = np.random.default_rng(13)
    short = rng.integers(1, 1 << 16, FP_MIN_FRAMES - 1, dtype=np.uint32)
    assert group_duplicates({"a": short, "b": short.copy()}, threshold=0.0) == {}

"""Memory of the steps after the stream: duplicate grouping."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from accentds import quality


def collection(count: int, length: int, copies: int, seed: int) -> dict[str, np.ndarray]:
    """Random 16-bit sub-fingerprints with quiet runs, a common value, and `copies` noisy
    copies of earlier clips (10 % of bits flipped, shifted by a few hops), some of them chained
    (a copy of a copy) so that groups have more than two clips."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 1 << 16, (count, length), dtype=np.uint32)
    values[rng.random((count, length)) < 0.02] = 0x1234
    for row in values:
        start = rng.integers(0, length)
        row[start : start + rng.integers(0, 40)] = 0
    fps = {f"c{i:05d}": row for i, row in enumerate(values)}
    weights = np.uint32(1) << np.arange(16, dtype=np.uint32)
    for k in range(copies):
        source = f"d{k - 1:05d}" if k % 3 == 2 else f"c{rng.integers(0, count):05d}"
        shift = int(rng.integers(0, 5))
        flips = ((rng.random((length, 16)) < 0.10) @ weights).astype(np.uint32)
        copy = np.where(fps[source] == 0, 0, fps[source] ^ flips).astype(np.uint32)
        fps[f"d{k:05d}"] = np.r_[copy[shift:], rng.integers(1, 1 << 16, shift, dtype=np.uint32)]
    return fps


def laid_end_to_end(fps: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids = sorted(fps)
    return ids, np.concatenate([fps[c] for c in ids]), np.array([len(fps[c]) for c in ids])


@pytest.mark.parametrize("seed", [1, 2])
def test_grouping_gives_the_same_groups_in_any_number_of_parts(monkeypatch, seed):
    fps = collection(600, 150, copies=60, seed=seed)
    ids, values, lengths = laid_end_to_end(fps)
    monkeypatch.setattr(quality, "PART_ENTRIES", 1 << 30)  # the whole index at once
    whole = quality.group_fingerprints(ids, values, lengths)
    assert len(whole) > 60 and max(list(whole.values()).count(g) for g in set(whole.values())) > 2
    for part_entries, slice_entries in ((1 << 12, 1 << 12), (997, 256), (1, 64)):
        monkeypatch.setattr(quality, "PART_ENTRIES", part_entries)
        monkeypatch.setattr(quality, "ENTRY_SLICE", slice_entries)
        monkeypatch.setattr(quality, "SCAN_SLICE", slice_entries * 3)
        assert quality.group_fingerprints(ids, values, lengths) == whole
    assert quality.group_duplicates(fps) == whole


def test_each_index_entry_comes_once_and_a_key_in_one_part(monkeypatch):
    fps = collection(200, 80, copies=30, seed=3)
    ids, values, lengths = laid_end_to_end(fps)
    monkeypatch.setattr(quality, "SCAN_SLICE", 1000)
    owner = np.repeat(np.arange(len(ids), dtype=np.uint16), lengths)
    usable = values != 0
    for gap in quality.KEY_GAPS:
        expected = np.flatnonzero(usable[:-gap] & usable[gap:] & (owner[:-gap] == owner[gap:]))
        parts = list(quality._entries_by_part(values, usable, owner, gap, 7))
        assert len(parts) == 7
        for number, part in enumerate(parts):
            assert part.dtype == np.int32
            assert (np.diff(part) > 0).all()  # in position order
            assert (values[part] % 7 == number).all()  # a key's first value names its part
        assert np.array_equal(np.sort(np.concatenate(parts)), expected)


def test_grouping_memory_is_a_small_multiple_of_the_sub_fingerprints():
    # the index (keys, entries, candidate pairs) is built a part and a slice at a time: the
    # whole index at once took about 12 times the sub-fingerprints' own size
    fps = collection(3000, 200, copies=20, seed=4)
    ids, values, lengths = laid_end_to_end(fps)
    del fps
    tracemalloc.start()
    try:
        groups = quality.group_fingerprints(ids, values, lengths)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(groups) >= 20
    assert peak < 4 * values.nbytes


def test_grouping_checks_its_input():
    values = np.arange(1, 11, dtype=np.uint32)
    with pytest.raises(ValueError, match="ascending"):
        quality.group_fingerprints(["b", "a"], values, [5, 5])
    with pytest.raises(ValueError, match="ascending"):
        quality.group_fingerprints(["a", "a"], values, [5, 5])
    with pytest.raises(ValueError, match="add up"):
        quality.group_fingerprints(["a", "b"], values, [5, 4])
    assert quality.group_fingerprints(["a", "b"], np.zeros(0, np.uint32), [0, 0]) == {}
    # bits above the 16 sub-fingerprint bits are ignored, as before
    fps = collection(50, 60, copies=5, seed=5)
    high = {c: v | np.uint32(0xABCD0000) for c, v in fps.items()}
    assert quality.group_duplicates(high) == quality.group_duplicates(fps)

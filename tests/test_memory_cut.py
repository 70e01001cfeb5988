"""Memory of the steps after the stream: duplicate grouping, fingerprints, Parquet writes."""

from __future__ import annotations

import tracemalloc
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile
from conftest import noisy_copy, random_fingerprints

from accentds import fingerprints
from accentds.cut import cut
from accentds.cut_commit import find_duplicates, live_fingerprints
from accentds.files import read_csv, write_parquet, write_parquet_atomic
from accentds.models import Clip
from accentds.pull import pull
from accentds.views import build_manifest
from accentds.workspace import CLIP_SCHEMA, FINGERPRINT_SCHEMA, Workspace


def collection(count: int, length: int, copies: int, seed: int) -> dict[str, np.ndarray]:
    """Random 16-bit sub-fingerprints with quiet runs, a common value, and `copies` noisy
    copies of earlier clips (10 % of bits flipped, shifted by a few hops), some of them chained
    (a copy of a copy) so that groups have more than two clips."""
    rng = np.random.default_rng(seed)
    fps = random_fingerprints(rng, count, length, 40, "c{:05d}")
    for k in range(copies):
        source = f"d{k - 1:05d}" if k % 3 == 2 else f"c{rng.integers(0, count):05d}"
        shift = int(rng.integers(0, 5))
        fps[f"d{k:05d}"] = noisy_copy(rng, fps[source], shift)
    return fps


def laid_end_to_end(fps: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids = sorted(fps)
    return ids, np.concatenate([fps[c] for c in ids]), np.array([len(fps[c]) for c in ids])


@pytest.mark.parametrize("seed", [1, 2])
def test_grouping_gives_the_same_groups_in_any_number_of_parts(monkeypatch, seed):
    fps = collection(600, 150, copies=60, seed=seed)
    ids, values, lengths = laid_end_to_end(fps)
    monkeypatch.setattr(fingerprints, "PART_ENTRIES", 1 << 30)  # the whole index at once
    whole = fingerprints.group_fingerprints(ids, values, lengths)
    assert len(whole) > 60 and max(list(whole.values()).count(g) for g in set(whole.values())) > 2
    for part_entries in (1 << 12, 997, 1):
        monkeypatch.setattr(fingerprints, "PART_ENTRIES", part_entries)
        assert fingerprints.group_fingerprints(ids, values, lengths) == whole
    assert fingerprints.group_duplicates(fps) == whole


def test_grouping_memory_is_a_small_multiple_of_the_sub_fingerprints():
    # the index (keys, entries, candidate pairs) is built a part and a slice at a time: the
    # whole index at once took about 12 times the sub-fingerprints' own size
    fps = collection(3000, 200, copies=20, seed=4)
    ids, values, lengths = laid_end_to_end(fps)
    del fps
    tracemalloc.start()
    try:
        groups = fingerprints.group_fingerprints(ids, values, lengths)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(groups) >= 20
    assert peak < 4 * values.nbytes


def test_grouping_checks_its_input():
    values = np.arange(1, 11, dtype=np.uint32)
    with pytest.raises(ValueError, match="ascending"):
        fingerprints.group_fingerprints(["b", "a"], values, [5, 5])
    with pytest.raises(ValueError, match="ascending"):
        fingerprints.group_fingerprints(["a", "a"], values, [5, 5])
    with pytest.raises(ValueError, match="add up"):
        fingerprints.group_fingerprints(["a", "b"], values, [5, 4])
    assert fingerprints.group_fingerprints(["a", "b"], np.zeros(0, np.uint32), [0, 0]) == {}
    # bits above the 16 sub-fingerprint bits are ignored, as before
    fps = collection(50, 60, copies=5, seed=5)
    high = {c: v | np.uint32(0xABCD0000) for c, v in fps.items()}
    assert fingerprints.group_duplicates(high) == fingerprints.group_duplicates(fps)


def clip(source: str, k: int) -> Clip:
    cid = f"{source}-{k * 10000:07d}-{k * 10000 + 4000:07d}"
    return Clip(
        clip_id=cid, source_id=source, start=k * 10.0, end=k * 10.0 + 4.0, duration=4.0,
        path=f"clips/{source}/{cid}.wav", settings_id="s", vad_aggressiveness=2, vad_frame_ms=30,
        vad_padding_ms=300, vad_merge_gap_ms=300, vad_min_clip_s=1.0, vad_max_clip_s=15.0,
        rms_dbfs=-20.0, peak_dbfs=-3.0, speech_ratio=0.8, cut_at="2024-01-01T00:00:00Z",
    )  # fmt: skip


def test_live_fingerprints_and_duplicates_match_the_fingerprints_per_clip(workspace: Workspace):
    fps = collection(40, 120, copies=12, seed=6)
    names = sorted(fps)
    clips = [clip("src", k) for k in range(len(names))]
    by_clip = {c.clip_id: fps[name] for c, name in zip(clips, names, strict=True)}
    workspace.write_clips(clips[1:])  # the first clip is gone: its fingerprint is not live
    rows = [(c.clip_id, by_clip[c.clip_id]) for c in clips]
    rows = rows[::-1]  # not in id order
    rows.insert(5, (clips[7].clip_id, np.zeros(50, np.uint32)))  # an earlier row of one id: the last counts
    table = pa.table(
        {
            "clip_id": [c for c, _ in rows],
            "source_id": ["src"] * len(rows),
            "fingerprint": [v.astype("<u4").tobytes() for _, v in rows],
        },
        schema=FINGERPRINT_SCHEMA,
    )
    write_parquet_atomic(workspace.fingerprints_parquet, table)
    ids, values, lengths = live_fingerprints(workspace)
    assert ids == sorted(c.clip_id for c in clips[1:])
    starts = np.cumsum(lengths) - lengths
    for cid, start, length in zip(ids, starts, lengths, strict=True):
        assert np.array_equal(values[start : start + length], by_clip[cid])
    live = {cid: by_clip[cid] for cid in ids}
    expected = fingerprints.group_duplicates(live)
    assert expected
    assert find_duplicates(workspace) == len(expected)
    assert {r["clip_id"]: r["duplicate_group"] for r in read_csv(workspace.duplicates_csv)} == expected


def test_cut_stores_each_clips_fingerprint(workspace: Workspace, make_media, speech):
    tail = speech[: 16000 * 10]  # a repeated passage: one duplicate group at least
    [pulled] = pull(workspace, [str(make_media("talk.wav", audio=np.r_[speech, tail]))], workers=1)
    [result] = cut(workspace, workers=1)
    assert result.ok and len(result.fingerprints) == len(result.clips)
    prints = pq.read_table(workspace.fingerprints_parquet).to_pylist()
    clips = workspace.read_clips()
    assert [p["clip_id"] for p in prints] == [c.clip_id for c in clips]
    for row, c in zip(prints, clips, strict=True):
        samples, _ = soundfile.read(str(workspace.abs(c.path)), dtype="int16")
        assert row["source_id"] == pulled.source.source_id
        assert row["fingerprint"] == fingerprints.fingerprint(samples, 16000).astype("<u4").tobytes()
    groups = {r["clip_id"]: r["duplicate_group"] for r in read_csv(workspace.duplicates_csv)}
    fps = {p["clip_id"]: np.frombuffer(p["fingerprint"], "<u4") for p in prints}
    assert groups and groups == fingerprints.group_duplicates(fps)


def test_parquet_dictionary_only_for_repeated_text(tmp_path: Path):
    rows = 3000
    table = pa.table(
        {
            "clip_id": [f"src-{k:07d}" for k in range(rows)],
            "path": [f"clips/src/src-{k:07d}.wav" for k in range(rows)],
            "source_id": ["src"] * rows,
            "status": ["pending", "accepted"] * (rows // 2),
            "start": np.arange(rows) * 1.5,
        }
    )
    write_parquet(table, tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").equals(table)
    group = pq.read_metadata(tmp_path / "t.parquet").row_group(0)
    encodings = {group.column(k).path_in_schema: group.column(k) for k in range(group.num_columns)}
    for name in ("source_id", "status"):
        assert encodings[name].has_dictionary_page
    for name in ("clip_id", "path", "start"):
        assert not encodings[name].has_dictionary_page
    assert group.column(0).total_compressed_size > 0


def test_manifest_is_ordered_whatever_the_order_of_clips_parquet(workspace: Workspace):
    clips = [clip("b", 1), clip("a", 2), clip("a", 0), clip("b", 0)]
    table = pa.Table.from_pylist([asdict(c) for c in clips], schema=CLIP_SCHEMA)
    write_parquet_atomic(workspace.clips_parquet, table)  # not in (source, start) order
    manifest = build_manifest(workspace)
    assert list(zip(manifest["source_id"].to_pylist(), manifest["start"].to_pylist(), strict=True)) == [
        ("a", 0.0), ("a", 20.0), ("b", 0.0), ("b", 10.0)
    ]  # fmt: skip
    workspace.write_clips(clips)  # sorted on writing
    assert build_manifest(workspace).equals(manifest)

"""Release folders re-written for NeMo and for Hugging Face audiofolder, from a tiny release
these tests build themselves (real WAVs in real Parquet shards, real sha256s)."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile

from accentds.errors import AccentdsError
from accentds.formats import (
    AUDIOFOLDER_COLUMNS,
    read_release,
    verify_release,
    write_audiofolder,
    write_format,
    write_nemo,
)

RATE = 16000
VERSION = "1.2.0"
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
# split -> shards -> clips: (clip_id, seconds, transcript, speaker, accent)
LAYOUT = {
    "train": [
        [
            ("yt-aaa-00000000-00000400", 0.40, "Aye, it's a braw day.", "Morag", "Glasgow"),
            ("yt-aaa-00000500-00000750", 0.25, 'She said "och" — twice', "Morag", "Glasgow"),
        ],
        [("file-bbb-00001000-00001330", 0.33, "Ken whit ah mean?", "Hamish", "Dundee")],
    ],
    "validation": [[("file-ccc-00000000-00000300", 0.30, "Dinnae fash", "Eilidh", "Edinburgh")]],
    "test": [[("file-ddd-00000000-00000450", 0.45, "Haud yer wheesht", "Ruaridh", "Highlands")]],
}


def wav_bytes(seconds: float, freq: float) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    samples = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_release(root: Path, version: str = VERSION, layout: dict | None = None) -> Path:
    """Write releases/<version>/ as the publisher does: README.md, data/ shards, release.json."""
    layout = LAYOUT if layout is None else layout
    folder = root / "releases" / version
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text(f"---\nlicense: cc-by-4.0\n---\n# test corpus {version}\n")
    freq = 220.0
    for split, shards in layout.items():
        for index, clips in enumerate(shards):
            rows = []
            for clip_id, seconds, transcript, speaker, accent in clips:
                freq += 55.0
                source_id = clip_id.rsplit("-", 2)[0]
                start = int(clip_id.rsplit("-", 2)[1]) / 1000
                rows.append(
                    {
                        "audio": {"bytes": wav_bytes(seconds, freq), "path": f"{clip_id}.wav"},
                        "transcript": transcript,
                        "speaker": speaker,
                        "accent": accent,
                        "accent_evidence": "self-described",
                        "duration": seconds,
                        "clip_id": clip_id,
                        "source_id": source_id,
                        "origin": f"https://example.org/{source_id}",
                        "licence": "CC-BY-4.0",
                        "start": start,
                        "end": start + seconds,
                    }
                )
            schema = pa.schema(
                [
                    ("audio", AUDIO_TYPE),
                    *[(name, pa.string()) for name in ("transcript", "speaker", "accent", "accent_evidence")],
                    ("duration", pa.float64()),
                    *[(name, pa.string()) for name in ("clip_id", "source_id", "origin", "licence")],
                    ("start", pa.float64()),
                    ("end", pa.float64()),
                ]
            )
            name = f"data/{split}-{index:05d}-of-{len(shards):05d}.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / name)
    files = {
        p.relative_to(folder).as_posix(): {"sha256": sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    meta = {"version": version, "files": files, "clips": sum(len(c) for s in layout.values() for c in s)}
    (folder / "release.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def shard_rows(release: Path) -> dict[str, list[dict]]:
    """Every split's rows, in shard order, as the shards hold them."""
    rows: dict[str, list[dict]] = {}
    for shard in sorted((release / "data").glob("*.parquet")):
        split = shard.name.split("-")[0]
        rows.setdefault(split, []).extend(pq.read_table(shard).to_pylist())
    return rows


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return build_release(tmp_path)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- reading and verifying --------------------------------------------------------------


def test_read_release_orders_splits_and_shards(release: Path) -> None:
    info = read_release(release)
    assert info.version == VERSION
    assert list(info.shards) == ["train", "validation", "test"]
    assert info.shards["train"] == ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]
    assert verify_release(release, version=VERSION).files == info.files


def test_verify_refuses_tampering_extra_files_and_wrong_version(release: Path) -> None:
    with pytest.raises(AccentdsError, match=r"for version 1\.2\.0, not 2\.0\.0"):
        verify_release(release, version="2.0.0")
    (release / "notes.txt").write_text("scratch")
    with pytest.raises(AccentdsError, match=r"does not list: notes\.txt"):
        verify_release(release)
    verify_release(release, allow_extra=True)
    (release / "notes.txt").unlink()
    card = release / "README.md"
    card.write_text(card.read_text().replace("test corpus", "best corpus"))  # same size, other bytes
    with pytest.raises(AccentdsError, match=r"README\.md does not match its sha256"):
        verify_release(release)


def test_read_release_refuses_a_missing_shard(release: Path) -> None:
    meta = json.loads((release / "release.json").read_text())
    del meta["files"]["data/train-00001-of-00002.parquet"]
    (release / "release.json").write_text(json.dumps(meta))
    with pytest.raises(AccentdsError, match=r"train shard\(s\) \[1\] of 2 are not listed"):
        read_release(release)


# -- NeMo ---------------------------------------------------------------------------------


def test_nemo_manifests_and_audio(release: Path, tmp_path: Path) -> None:
    out = write_nemo(release, tmp_path / "nemo")
    assert out == (tmp_path / "nemo").resolve()
    expected = shard_rows(release)
    assert sorted(p.name for p in out.glob("*.jsonl")) == [
        "test_manifest.jsonl",
        "train_manifest.jsonl",
        "validation_manifest.jsonl",
    ]
    for split, rows in expected.items():
        lines = (out / f"{split}_manifest.jsonl").read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines]
        assert [e["clip_id"] for e in entries] == [r["clip_id"] for r in rows]
        for entry, row in zip(entries, rows, strict=True):
            assert list(entry) == ["audio_filepath", "duration", "text", "speaker", "accent", "clip_id"]
            assert entry["audio_filepath"] == f"audio/{split}/{row['clip_id']}.wav"
            wav = out / entry["audio_filepath"]
            assert wav.read_bytes() == row["audio"]["bytes"]
            info = soundfile.info(str(wav))
            assert (info.samplerate, info.channels, info.subtype) == (RATE, 1, "PCM_16")
            assert entry["duration"] == pytest.approx(info.frames / info.samplerate, abs=1e-6)
            assert entry["duration"] == pytest.approx(row["duration"], abs=1e-3)
            assert (entry["text"], entry["speaker"], entry["accent"]) == (
                row["transcript"],
                row["speaker"],
                row["accent"],
            )
    assert "—" in (out / "train_manifest.jsonl").read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_nemo_absolute_paths_and_determinism(release: Path, tmp_path: Path) -> None:
    first = write_nemo(release, tmp_path / "a")
    (tmp_path / "b").mkdir()  # an existing empty folder is fine
    second = write_nemo(release, tmp_path / "b")
    assert tree(first) == tree(second)
    absolute = write_nemo(release, tmp_path / "c", absolute_paths=True)
    entry = json.loads((absolute / "test_manifest.jsonl").read_text().splitlines()[0])
    assert Path(entry["audio_filepath"]).is_absolute()
    assert Path(entry["audio_filepath"]).read_bytes() == shard_rows(release)["test"][0]["audio"]["bytes"]


# -- audiofolder --------------------------------------------------------------------------


def read_metadata(split_dir: Path) -> list[dict]:
    """A split's metadata rows as strings/floats, from metadata.jsonl or metadata.csv."""
    if (split_dir / "metadata.jsonl").exists():
        lines = (split_dir / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]
    with open(split_dir / "metadata.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == AUDIOFOLDER_COLUMNS
        return [{**row, "duration": float(row["duration"])} for row in reader]


@pytest.mark.parametrize("metadata", ["jsonl", "csv"])
def test_audiofolder_layout(release: Path, tmp_path: Path, metadata: str) -> None:
    out = write_audiofolder(release, tmp_path / "af", metadata=metadata)
    expected = shard_rows(release)
    assert AUDIOFOLDER_COLUMNS[:6] == ["file_name", "transcript", "speaker", "accent", "duration", "clip_id"]
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "test", "train", "validation"]
    for split, rows in expected.items():
        meta = read_metadata(out / split)
        assert [m["clip_id"] for m in meta] == [r["clip_id"] for r in rows]
        for m, row in zip(meta, rows, strict=True):
            assert list(m) == AUDIOFOLDER_COLUMNS
            assert AUDIOFOLDER_COLUMNS[:6] == [
                "file_name",
                "transcript",
                "speaker",
                "accent",
                "duration",
                "clip_id",
            ]
            assert m["file_name"] == f"{row['clip_id']}.wav"
            assert (out / split / m["file_name"]).read_bytes() == row["audio"]["bytes"]
            assert m["transcript"] == row["transcript"]
            assert m["duration"] == row["duration"]
            assert m["licence"] == "CC-BY-4.0"
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(
            [f"metadata.{metadata}", *(m["file_name"] for m in meta)]
        )
    with pytest.raises(AccentdsError, match="unknown metadata kind"):
        write_audiofolder(release, tmp_path / "x", metadata="tsv")
    if metadata == "jsonl":  # the default, and deterministic
        assert tree(write_format("audiofolder", release, tmp_path / "again")) == tree(out)


# splits that trip up CSV type inference: digits-only transcripts, an all-empty speaker column
AWKWARD = {
    "train": LAYOUT["train"],
    "validation": [[("file-ccc-00000000-00000300", 0.30, "42", "Eilidh", "Edinburgh")]],
    "test": [[("file-ddd-00000000-00000450", 0.45, "Haud yer wheesht", "", "Highlands")]],
}


@pytest.mark.parametrize(("layout", "metadata"), [(LAYOUT, "csv"), (AWKWARD, "jsonl")], ids=["csv", "jsonl"])
def test_audiofolder_loads_with_datasets(tmp_path: Path, monkeypatch, layout: dict, metadata: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    if importlib.util.find_spec("torchcodec") is None:
        # datasets 5 imports torch + torchcodec in Audio.encode_example even for a file path, which
        # it then stores untouched as {"bytes": None, "path": path}; do just that without them, so
        # the real audiofolder loader (splits, metadata, file_name) runs here.
        encode = datasets.Audio.encode_example

        def encode_path(self, value):
            return {"bytes": None, "path": value} if isinstance(value, str) else encode(self, value)

        monkeypatch.setattr(datasets.Audio, "encode_example", encode_path)
    release = build_release(tmp_path, layout=layout)
    out = write_audiofolder(release, tmp_path / "af", metadata=metadata)
    loaded = datasets.load_dataset("audiofolder", data_dir=str(out), cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded) == ["test", "train", "validation"]
    for split, rows in shard_rows(release).items():
        part = loaded[split].cast_column("audio", datasets.Audio(decode=False))
        assert part.column_names == ["audio", *AUDIOFOLDER_COLUMNS[1:]]
        got = sorted(part, key=lambda r: r["clip_id"])
        want = sorted(rows, key=lambda r: r["clip_id"])
        assert [g["clip_id"] for g in got] == [w["clip_id"] for w in want]
        for g, w in zip(got, want, strict=True):
            audio = g["audio"]["bytes"] or Path(g["audio"]["path"]).read_bytes()
            assert audio == w["audio"]["bytes"]
            assert (g["transcript"], g["speaker"], g["accent"]) == (
                w["transcript"],
                w["speaker"],
                w["accent"],
            )
            assert g["duration"] == pytest.approx(w["duration"])


# -- refusals -----------------------------------------------------------------------------


def test_refuses_non_empty_or_inside_output_and_damaged_release(release: Path, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(AccentdsError, match="not empty"):
        write_nemo(release, busy)
    assert tree(busy) == {"keep.txt": b"mine"}
    with pytest.raises(AccentdsError, match="inside the release"):
        write_audiofolder(release, release / "export")
    with pytest.raises(AccentdsError, match="unknown format"):
        write_format("kaldi", release, tmp_path / "k")
    shard = release / "data" / "test-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(AccentdsError, match="does not match its sha256"):
        write_audiofolder(release, tmp_path / "af")
    assert not (tmp_path / "af").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left

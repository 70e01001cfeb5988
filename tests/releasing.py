"""The workspace the release tests publish from, and how they check what they load: four
CC0 recordings of one speaker each and an unlicensed source, cut from the bundled sample.
Loaded as a pytest plugin (tests/conftest.py), so its fixtures serve every release test."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest
import soundfile
import yaml
from conftest import RATE, SAMPLE

from accentds.cut import cut
from accentds.labels import set_labels
from accentds.privacy import publisher, salt, speaker_id
from accentds.pull import pull
from accentds.selection import read_deny
from accentds.shards import TEXT_ORIGINS
from accentds.views import build_manifest
from accentds.workspace import Workspace, init_workspace

datasets.disable_progress_bars()
NOW = "2026-01-02T03:04:05Z"
SPEAKERS = ["Morag", "Hamish", "Ailsa", "Callum"]  # two sample clips each
ACCENTS = {"Morag": "Glasgow", "Hamish": "Glasgow", "Ailsa": "Fife", "Callum": "Fife"}
RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


CUES = json.loads((SAMPLE.parent / "sample.json").read_text())["cues"]


def speaker_files(folder: Path, speech: np.ndarray) -> dict[str, Path]:
    """The sample's eight sentences as four recordings, two sentences (one speaker) each."""
    files = {}
    for number, speaker in enumerate(SPEAKERS):
        first, last = CUES[2 * number], CUES[2 * number + 1]
        start = max(0.0, first["start"] - 0.5)
        end = last["end"] + 0.5
        path = folder / f"{speaker.lower()}.wav"
        soundfile.write(str(path), speech[int(start * RATE) : int(end * RATE)], RATE, subtype="PCM_16")
        files[speaker] = path
    return files


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, speech: np.ndarray) -> Path:
    """A workspace of four CC0 recordings, one speaker each (two clips each, Callum's pending),
    plus a source with no licence recorded (a few accepted clips, no speaker). Every clip has
    its transcript."""
    ws, _ = init_workspace(tmp_path_factory.mktemp("base") / "ws", name="test-corpus")
    files = speaker_files(ws.root.parent, speech)
    pulled = pull(ws, [str(files[s]) for s in SPEAKERS], licence="CC0-1.0")
    assert [p.status for p in pulled] == ["pulled"] * 4
    wav = ws.root.parent / "unlicensed.wav"
    soundfile.write(str(wav), speech[: 13 * RATE][::-1], RATE, subtype="PCM_16")  # other audio
    [other] = pull(ws, [str(wav)])
    assert other.status == "pulled"
    cut(ws)
    for number, (speaker, result) in enumerate(zip(SPEAKERS, pulled, strict=True)):
        clips = sorted(c.clip_id for c in ws.read_clips() if c.source_id == result.source.source_id)
        assert len(clips) == 2, (speaker, clips)
        values = {"speaker": speaker, "accent": ACCENTS[speaker], "accent_evidence": "self-described"}
        if speaker != "Callum":
            values["status"] = "accepted"
        set_labels(ws, clips, values, "ann")
        for clip, cue in zip(clips, CUES[2 * number : 2 * number + 2], strict=True):
            set_labels(ws, [clip], {"transcript": cue["text"]}, "ann")
    other_clips = sorted(c.clip_id for c in ws.read_clips() if c.source_id == other.source.source_id)
    assert len(other_clips) >= 2
    set_labels(ws, other_clips, {"accent": "Dundee", "status": "accepted"}, "ann")
    for clip in other_clips:
        set_labels(ws, [clip], {"transcript": "Words the curator heard."}, "ann")
    assert not any(r["duplicate_group"] for r in build_manifest(ws).to_pylist())
    return ws.root


@pytest.fixture
def ws(base: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(base, root)
    return Workspace(root)


def manifest_of(ws: Workspace) -> dict[str, dict[str, Any]]:
    return {r["clip_id"]: r for r in build_manifest(ws).to_pylist()}


def speaker_source(ws: Workspace, speaker: str) -> str:
    return next(r["source_id"] for r in build_manifest(ws).to_pylist() if r["speaker"] == speaker)


def other_source(ws: Workspace) -> str:
    return next(s.source_id for s in ws.read_sources() if s.licence == "")


def load(folder: Path, cache: Path) -> dict[str, list[dict[str, Any]]]:
    """Load a release the way a consumer does, audio left undecoded (no torch needed)."""
    loaded = datasets.load_dataset(str(folder), cache_dir=str(cache))
    splits = {}
    for name, part in loaded.items():
        assert part.features["audio"] == datasets.Audio(sampling_rate=RATE)
        assert part.features["duration"] == datasets.Value("float64")
        splits[name] = part.cast_column("audio", datasets.Audio(decode=False)).to_list()
    return splits


def named(ws: Workspace, splits: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Loaded rows with each speaker's id replaced by their name in the workspace."""
    key = salt(ws)
    names = {speaker_id(key, r["speaker"]): r["speaker"] for r in manifest_of(ws).values() if r["speaker"]}
    return {
        s: [r | {"speaker_id": names.get(r["speaker_id"], r["speaker_id"])} for r in rows]
        for s, rows in splits.items()
    }


def check_against_workspace(ws: Workspace, splits: dict[str, list[dict[str, Any]]]) -> None:
    """Every loaded row matches its clip file and manifest row; no speaker spans two splits."""
    manifest = manifest_of(ws)
    public = publisher(ws, {d["value"] for d in read_deny(ws) if d["kind"] == "speaker"})
    for rows in splits.values():
        assert [r["clip_id"] for r in rows] == sorted(r["clip_id"] for r in rows)
        for row in rows:
            clip = manifest[row["clip_id"]]
            assert clip["status"] == "accepted"
            audio = row.pop("audio")
            assert audio["path"] == f"{row['clip_id']}.wav"
            published, rate = soundfile.read(io.BytesIO(audio["bytes"]), dtype="int16")
            original, _ = soundfile.read(str(ws.abs(clip["path"])), dtype="int16")
            assert rate == RATE and np.array_equal(published, original)
            expected = {k: clip[k] for k in ("accent", "accent_evidence", "licence")}
            expected["text"] = clip["transcript"]
            expected["speaker_id"] = public(clip["speaker"])  # a salted id, never the name
            assert row.pop("text_origin") in TEXT_ORIGINS
            expected |= {k: clip[k] for k in ("duration", "clip_id", "source_id", "start", "end")}
            assert row == expected | {"origin": "file"}  # a local path is never published
    groups = {
        split: {r["speaker_id"] or f"source:{r['source_id']}" for r in rows} for split, rows in splits.items()
    }
    names = [g for members in groups.values() for g in members]
    assert len(names) == len(set(names)), f"a speaker is in two splits: {groups}"
    for key in ("source_id", "duplicate_group"):  # nor a recording, nor a copy of one
        held = {split: {manifest[r["clip_id"]][key] for r in rows} - {""} for split, rows in splits.items()}
        values = [v for members in held.values() for v in members]
        assert len(values) == len(set(values)), f"a {key} is in two splits: {held}"


def front_matter(card: str) -> dict[str, Any]:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


def set_ratios(ws: Workspace, ratios: dict[str, float]) -> None:
    config = ws.root / "accentds.toml"
    text = config.read_text(encoding="utf-8")
    for split, ratio in ratios.items():
        text = re.sub(rf"^{split} = [0-9.]+", f"{split} = {ratio}", text, count=1, flags=re.M)
    config.write_text(text, encoding="utf-8")
    assert Workspace(ws.root).config.publish.test == ratios["test"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

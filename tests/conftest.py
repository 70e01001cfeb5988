"""Shared fixtures: real ffmpeg, speech taken from the bundled sample, temporary workspaces."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from accentds.media import find_ffmpeg
from accentds.models import Clip, clip_id
from accentds.workspace import Workspace, init_workspace

pytest_plugins = ["releasing"]  # the release tests' workspace and checks
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample.mp4"
RATE = 16000
CUES = json.loads((ROOT / "samples" / "sample.json").read_text())["cues"]  # the sample's sentences


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return find_ffmpeg()


@pytest.fixture(scope="session")
def speech(ffmpeg: str) -> np.ndarray:
    """The sample's speech as 16 kHz mono int16 (about 34 s: 8 sentences with pauses)."""
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(SAMPLE), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").copy()


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def sentence(speech: np.ndarray, i: int, pad: float = 0.2, shift_ms: float = 0.0) -> np.ndarray:
    """Sentence i of the sample with `pad` seconds either side, cut `shift_ms` later."""
    shift = round(shift_ms * RATE / 1000)
    start = max(0, round((CUES[i]["start"] - pad) * RATE) + shift)
    return speech[start : round((CUES[i]["end"] + pad) * RATE) + shift]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws, _ = init_workspace(tmp_path / "ws", name="test-corpus")
    return ws


@pytest.fixture
def cut_ws(workspace: Workspace) -> Workspace:
    """A workspace with the bundled sample pulled and cut into its 8 clips."""
    from accentds.cut import cut
    from accentds.pull import pull

    [result] = pull(workspace, [str(SAMPLE)])
    assert result.status == "pulled"
    [done] = cut(workspace)
    assert done.ok and len(done.clips) == 8
    return workspace


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample pulled and cut into its 8 clips, made once per run: tests take a
    copy (`sample_ws`) and never change this one."""
    from accentds.cut import cut
    from accentds.pull import pull

    ws, _ = init_workspace(tmp_path_factory.mktemp("sample") / "ws", name="sample-corpus")
    pull(ws, [str(SAMPLE)], workers=1)
    cut(ws, workers=1)
    assert len(ws.read_clips()) == 8
    return ws.root


@pytest.fixture
def sample_ws(sample_root: Path, tmp_path: Path) -> Workspace:
    """A fresh copy of the cut sample workspace for one test."""
    return Workspace(Path(shutil.copytree(sample_root, tmp_path / "ws")))


FLOW_DRAFT = "Draft words from the captions"


@pytest.fixture(scope="module")
def flow_root(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cut sample with a caption draft on every clip (the first one's is FLOW_DRAFT), for
    the review page's browser tests."""
    from accentds.files import write_csv_atomic
    from accentds.views import write_manifest
    from accentds.workspace import DRAFT_FIELDS

    ws = Workspace(Path(shutil.copytree(sample_root, tmp_path_factory.mktemp("review-flow") / "ws")))
    ids = [c.clip_id for c in ws.read_clips()]
    # every clip gets a caption draft; the first one's is made known
    drafts = [
        {"clip_id": cid, "transcript_draft": FLOW_DRAFT if n == 0 else f"draft {n}", "draft_kind": "captions"}
        for n, cid in enumerate(ids)
    ]
    write_csv_atomic(ws.drafts_csv, DRAFT_FIELDS, drafts)
    with ws.lock():
        write_manifest(ws)
    return ws.root


MakeMedia = Callable[..., Path]


@pytest.fixture
def make_media(ffmpeg: str, speech: np.ndarray, tmp_path: Path) -> MakeMedia:
    """make_media(name, *ffmpeg_output_args, audio=None, rate=16000, video=False) -> path.

    Writes `audio` (default: the sample speech) to WAV, then encodes it with the given
    ffmpeg output arguments into tmp_path/media/name."""
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)
    counter = iter(range(10**6))

    def make(
        name: str, *args: str, audio: np.ndarray | None = None, rate: int = RATE, video: bool = False
    ) -> Path:
        samples = speech if audio is None else audio
        wav = folder / f".input-{next(counter)}.wav"
        soundfile.write(str(wav), samples, rate, subtype="PCM_16")
        out = folder / name
        command = [ffmpeg, "-v", "error", "-y", "-i", str(wav)]
        if video:
            seconds = len(samples) / rate
            command += ["-f", "lavfi", "-i", f"color=c=0x336699:s=64x48:r=5:d={seconds:.3f}"]
        subprocess.run([*command, *args, str(out)], check=True, capture_output=True)
        wav.unlink()
        return out

    return make


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300):
    """Run the real `accentds` command in a subprocess; returns the CompletedProcess."""
    full_env = {**os.environ, "COLUMNS": "200"}
    full_env.pop("ACCENTDS_WORKSPACE", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "accentds", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def small_disk(folder: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` for the test's while (skips it where mounting
    needs a root this run does not have)."""
    folder.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if made.returncode:
        pytest.skip("no tmpfs mount here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_disk(filler: Path) -> None:
    """Write zeros to `filler` until its disk has no block left."""
    with open(filler, "wb", buffering=0) as handle, suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)


def check_consistent(ws: Workspace, killed: bool = False) -> None:
    """Every clip row has its WAV file with the recorded duration; no half-written file under
    a clip's name (a killed run may leave `.part` files, which the next run removes); the
    joined manifest lists exactly the clips of clips.parquet."""
    import pyarrow.parquet as pq

    clips = ws.read_clips()
    for clip in clips:
        path = ws.abs(clip.path)
        assert path.is_file(), f"clip row without file: {clip.path}"
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels) == (RATE, 1)
        assert abs(info.frames / info.samplerate - clip.duration) < 0.010
        assert abs((clip.end - clip.start) - clip.duration) < 0.010
    if not killed:
        assert not list(ws.clips.rglob("*.part")), "half-written clip file left behind"
    manifest = pq.read_table(ws.manifest_parquet)
    for path in manifest["path"].to_pylist():
        assert ws.abs(path).is_file(), f"manifest row without file: {path}"
    if not killed:  # a killed run may leave the joined view one step behind; the next run catches up
        assert sorted(manifest["clip_id"].to_pylist()) == sorted(c.clip_id for c in clips)


def random_fingerprints(
    rng: np.random.Generator, count: int, length: int, quiet: int, name: str
) -> dict[str, np.ndarray]:
    """`count` random 16-bit fingerprints of `length` values, named `name.format(i)`: 2 % of
    values one common value, and a quiet (zero) run of up to `quiet` values in each."""
    values = rng.integers(1, 1 << 16, (count, length), dtype=np.uint32)
    values[rng.random((count, length)) < 0.02] = 0x1234
    for row in values:
        start = rng.integers(0, length)
        row[start : start + rng.integers(0, quiet)] = 0
    return {name.format(i): row for i, row in enumerate(values)}


def noisy_copy(rng: np.random.Generator, values: np.ndarray, shift: int) -> np.ndarray:
    """A copy of a fingerprint with 10 % of its bits flipped (quiet values stay quiet),
    starting `shift` hops later, padded with random values to the same length."""
    weights = np.uint32(1) << np.arange(16, dtype=np.uint32)
    flips = ((rng.random((len(values), 16)) < 0.10) @ weights).astype(np.uint32)
    copy = np.where(values == 0, 0, values ^ flips).astype(np.uint32)
    return np.r_[copy[shift:], rng.integers(1, 1 << 16, shift, dtype=np.uint32)]


def put_labels(ws: Workspace, rows: list[dict[str, str]]) -> None:
    """Record label rows ({"clip_id": ..., field: value}) as one journal change, as an edit
    would, without the schema's checks (tests feed values the schema may not allow)."""
    from accentds.journal import fold, new_tx_id
    from accentds.workspace import EDITABLE_FIELDS

    with ws.lock():
        journal = ws.journal()
        state = fold(journal.transactions())
        changes = []
        for row in rows:
            have = state[row["clip_id"]].values if row["clip_id"] in state else {}
            for name in EDITABLE_FIELDS:
                if name in row and row[name] != have.get(name, ""):
                    changes.append(
                        {"clip": row["clip_id"], "field": name, "old": have.get(name, ""), "new": row[name]}
                    )
        when = rows[0].get("updated_at", "2024-01-01T00:00:00Z") if rows else ""
        reviewer = rows[0].get("reviewer", "t") if rows else ""
        journal.append([{"tx": new_tx_id(), "time": when, "reviewer": reviewer, "changes": changes}])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for a browser test module (Debian's, driven by Playwright; skipped without it)."""
    from browsing import chromium

    with chromium() as launched:
        yield launched


def clip_record(source: str, start: float, duration: float, cut_at: str = "2024-01-01T10:00:00Z") -> Clip:
    """A clip row as `cut` records it, for tests that build a manifest without cutting."""
    return Clip(
        clip_id=clip_id(source, start, start + duration),
        source_id=source,
        start=start,
        end=start + duration,
        duration=duration,
        path=f"clips/{source}/{start:.3f}.wav",
        settings_id="s1",
        vad_aggressiveness=2,
        vad_frame_ms=30,
        vad_padding_ms=200,
        vad_merge_gap_ms=400,
        vad_min_clip_s=1.0,
        vad_max_clip_s=15.0,
        rms_dbfs=-20.0,
        peak_dbfs=-3.0,
        speech_ratio=0.9,
        cut_at=cut_at,
    )

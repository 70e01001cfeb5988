"""Where the cutting time goes: CPU seconds per hour of audio for each part of `cut`.

The one-hour bench video (built by bench_cut.py) is decoded once to raw PCM; the cutting
code then reads that PCM from the file instead of from ffmpeg, so only accentds' own work
is timed, with parts switched on one at a time:

1. webrtcvad + segmenter + clip WAVs (the acoustic check, the hints and the fingerprints off);
2. + the acoustic check (music and noise rejection);
3. + the quality hints (SNR, loudness, clipping, bandwidth);
4. + the fingerprints: all of `cut_source`, as `accentds cut` runs it.

Each is shown as a share of ffmpeg's own CPU time decoding the same video (decode-only):
`cut` keeps up with decoding while its CPU time stays below ffmpeg's, since the two run on
two cores at once.

Run: .venv/bin/python bench/bench_parts.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy, as importing accentds does

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cut import OUT, RATE, build_video, deleted, wait_for_deletions  # noqa: E402

import accentds.cut as cutting  # noqa: E402
from accentds import quality  # noqa: E402
from accentds.config import VadSettings  # noqa: E402
from accentds.media import decode_command, find_ffmpeg  # noqa: E402
from accentds.models import Source  # noqa: E402


def decoded(ffmpeg: str, video: Path) -> Path:
    pcm = OUT / f"{video.stem}.pcm"
    if not pcm.exists():
        subprocess.run(decode_command(ffmpeg, video, RATE, output=str(pcm)), check=True)
    return pcm


def ffmpeg_cpu(ffmpeg: str, video: Path) -> float:
    """CPU seconds (user + system) ffmpeg spends decoding `video` to 16 kHz PCM."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(decode_command(ffmpeg, video, RATE, output="/dev/null"), check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def from_file(pcm: Path) -> Callable[..., contextlib.AbstractContextManager[Iterator[bytes]]]:
    """A stand-in for media.pcm_stream that reads the decoded PCM from a file."""

    @contextlib.contextmanager
    def stream(
        path: Path, ffmpeg: str, rate: int = RATE, chunk_bytes: int = 1 << 18, first_bytes: int = 0
    ) -> Iterator[Iterator[bytes]]:
        def chunks() -> Iterator[bytes]:
            with open(pcm, "rb") as handle:
                size = first_bytes or chunk_bytes
                while data := handle.read(size):
                    yield data
                    size = chunk_bytes

        yield chunks()

    return stream


def cpu_of_cut(vad: VadSettings, runs: Path) -> tuple[float, int]:
    source = Source("bench", "file", "bench", "raw/bench.pcm", 3600.0, "", "")
    root = Path(tempfile.mkdtemp(dir=runs))  # a new folder each time: nothing deleted just before
    os.sync()  # no write-back of the last run's clips during this one
    start = time.process_time()
    result = cutting.cut_source(str(root), source, vad, "ffmpeg")
    assert result.ok, result.reason
    return time.process_time() - start, len(result.clips)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="rounds of runs to take the best of")
    parser.add_argument("--ffmpeg", help="ffmpeg binary (default: as accentds finds it)")
    args = parser.parse_args()
    ffmpeg = find_ffmpeg(args.ffmpeg)
    video = build_video(ffmpeg, 60, seed=1)
    pcm = decoded(ffmpeg, video)
    hours = pcm.stat().st_size / 2 / RATE / 3600
    cutting.pcm_stream = from_file(pcm)
    measure, fingerprint = quality.measure, quality.fingerprint
    no_hints = quality.Quality(0.0, 0.0, 0.0, 0.0)
    parts = [
        ("webrtcvad + segmenter + clip WAVs", False, False, False),
        ("+ acoustic check", True, False, False),
        ("+ quality hints", True, True, False),
        ("+ fingerprints (all of cut_source)", True, True, True),
    ]
    best = [float("inf")] * len(parts)
    decode = float("inf")
    wait_for_deletions()
    runs = tempfile.mkdtemp(dir=OUT)
    try:
        for _ in range(args.repeat):  # parts in turn, best of each: the machine's noise hits all
            decode = min(decode, ffmpeg_cpu(ffmpeg, video) / hours)
            for k, (_, check, hints, prints) in enumerate(parts):
                quality.measure = measure if hints else (lambda *a, **k: no_hints)
                quality.fingerprint = fingerprint if prints else (lambda *a, **k: np.zeros(0, np.uint32))
                vad = dataclasses.replace(VadSettings(), music_noise_check=check)
                best[k] = min(best[k], cpu_of_cut(vad, Path(runs))[0] / hours)
    finally:
        deleted(Path(runs))
    print(f"ffmpeg: {ffmpeg}\nffmpeg decode-only: {decode:.2f} CPU-s per hour of audio")
    print(f"{'part':<38} {'CPU-s/h':>8} {'÷ decode':>9}")
    for (name, *_), cpu in zip(parts, best, strict=True):
        print(f"{name:<38} {cpu:8.2f} {cpu / decode:9.0%}")


if __name__ == "__main__":
    main()

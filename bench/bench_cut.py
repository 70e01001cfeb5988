"""Cut speed and memory, measured as ratios in one run on the same files.

Builds test videos from the bundled sample's speech (H.264 + AAC, like a downloaded video),
then measures on each:

* decode-only: the same ffmpeg decoding to 16 kHz mono PCM, written to /dev/null;
* accentds cut: decode + webrtcvad + clip WAVs + manifests (library call, one source);
* auditok 0.5 split-and-save on the same audio, given the decoded WAV (its decode not counted);
* the silero-vad package (torch) on the same audio: the same decode to WAV, read with `wave`,
  then its `get_speech_timestamps` (model loading not counted), run with the Python
  of a separate venv that has torch (`--torch-python`, default /work/bench-venv/bin/python);
* peak RSS of the cutting process for a 10-minute and a 3-hour source;
* 1 worker vs 2 workers on 2 one-hour sources.

Run: .venv/bin/python bench/bench_cut.py [--minutes 60]   (needs `pip install -e .[bench]`)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy, as importing accentds does

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accentds.cut import cut  # noqa: E402
from accentds.files import now_iso, sha256_file  # noqa: E402
from accentds.media import decode_command, find_ffmpeg  # noqa: E402
from accentds.models import Source  # noqa: E402
from accentds.views import write_manifest  # noqa: E402
from accentds.workspace import Workspace, init_workspace  # noqa: E402

OUT = ROOT / "bench" / "out"
RATE = 16000


def speech(ffmpeg: str) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(ROOT / "samples" / "sample.mp4"), "-ac", "1", "-ar", str(RATE),
         "-f", "s16le", "-"], check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2")


def build_video(ffmpeg: str, minutes: float, seed: int) -> Path:
    """A video of `minutes` of speech: the sample's sentences shuffled, with varied pauses."""
    path = OUT / f"speech-{minutes:g}min-{seed}.mp4"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = speech(ffmpeg)
    wav = OUT / f".build-{seed}.wav"
    target = int(minutes * 60 * RATE)
    with soundfile.SoundFile(str(wav), "w", RATE, 1, "PCM_16") as out:
        written = 0
        while written < target:
            piece = base[int(rng.integers(0, RATE * 2)) :]
            gain = rng.uniform(0.3, 1.0)
            pause = (rng.normal(0, 30, int(rng.uniform(0.2, 2.0) * RATE))).astype(np.int16)
            block = np.concatenate([(piece * gain).astype(np.int16), pause])[: target - written]
            out.write(block)
            written += len(block)
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(wav), "-f", "lavfi", "-i",
         f"color=c=0x1d3557:s=160x90:r=5:d={minutes * 60:.3f}", "-shortest",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", "-ar", "44100",
         str(path)], check=True,
    )  # fmt: skip
    wav.unlink()
    return path


def add_source(ws: Workspace, media: Path, duration: float) -> Source:
    """Register a file as a source without pulling it (the bench times cutting only), and
    leave the workspace as `pull` does: with its joined manifest written."""
    sha = sha256_file(media)
    source = Source(
        source_id=f"file-{sha[:12]}", kind="file", origin=str(media), media=str(media),
        duration=duration, sha256=sha, added_at=now_iso(), title=media.stem,
    )  # fmt: skip
    ws.write_sources([*ws.read_sources(), source])
    write_manifest(ws)
    return source


RUNS = Path(os.environ.get("BENCH_RUNS", OUT / f"runs-{os.getpid()}"))  # deleted at the end
DELETED_AT = OUT / ".deleted-at"  # touched when a bench run has deleted its files
SETTLE_S = 65.0


def wait_for_deletions() -> None:
    """Wait until a minute has passed since the last bench run deleted its clip files. ext4
    without a journal passes over inodes freed in the last minute (six while their table
    blocks are not yet written back) each time it allocates one, with a buffer look-up for
    each: right after a run had deleted its ~8,000 files, the next run's clip files cost up
    to 0.7 CPU-s more per hour of audio."""
    if DELETED_AT.exists():
        wait = DELETED_AT.stat().st_mtime + SETTLE_S - time.time()
        if wait > 0:
            print(f"waiting {wait:.0f} s: the last bench run's files were deleted just now", flush=True)
            time.sleep(wait)


def deleted(folder: Path) -> None:
    """Delete a folder of bench runs and note when (see `wait_for_deletions`)."""
    if not folder.exists():  # the run ended before it wrote anything
        return
    shutil.rmtree(folder, ignore_errors=True)
    os.sync()  # the freed inodes written back: ext4 then passes over them for one minute
    DELETED_AT.touch()


def fresh_workspace(name: str) -> Workspace:
    """A new workspace under RUNS. Nothing is deleted before a timed run: on ext4, creating
    files just after deleting many (the last run's clips) is measurably slower."""
    folder = RUNS / name
    n = 1
    while folder.exists():
        n += 1
        folder = RUNS / f"{name}-{n}"
    ws, _ = init_workspace(folder, name=name)
    return ws


def time_decode(ffmpeg: str, media: Path) -> float:
    command = decode_command(ffmpeg, media, RATE, output="/dev/null")
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def time_cut(
    ffmpeg: str, media: Path, duration: float, workers: int = 1, copies: int = 1
) -> tuple[float, int]:
    ws = fresh_workspace(f"ws-{media.stem}-{workers}w")
    medias = [media]
    for k in range(1, copies):  # a copy with other bytes: another source of the same length
        other = OUT / f"{media.stem}-copy{k}{media.suffix}"
        if not other.exists():
            shutil.copyfile(media, other)
            with open(other, "ab") as handle:
                handle.write(b"\0" * k)
        medias.append(other)
    for m in medias:
        add_source(ws, m, duration)
    start = time.perf_counter()
    results = cut(ws, workers=workers, ffmpeg=ffmpeg)
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), results
    return elapsed, sum(len(r.clips) for r in results)


def time_auditok(ffmpeg: str, media: Path) -> tuple[float, float, int]:
    """auditok 0.5 on the same video: the same ffmpeg decodes it to a 16 kHz WAV (auditok
    reads video only through pydub, which does the same), then split-and-save.
    Returns (decode seconds, split-and-save seconds, clips)."""
    import auditok

    wav = OUT / f"{media.stem}.wav"
    start = time.perf_counter()
    subprocess.run(decode_command(ffmpeg, media, RATE, output=str(wav), container="wav"), check=True)
    decode_s = time.perf_counter() - start
    folder = RUNS / f"auditok-clips-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    start = time.perf_counter()
    count = 0
    for region in auditok.split(str(wav), min_dur=1.0, max_dur=15, max_silence=0.4, energy_threshold=50):
        region.save(str(folder / f"{count:06d}.wav"))
        count += 1
    return decode_s, time.perf_counter() - start, count


SILERO_PACKAGE = """
import sys, time, wave, torch
from silero_vad import get_speech_timestamps, load_silero_vad
model = load_silero_vad()
start = time.perf_counter()
with wave.open(sys.argv[1]) as w:
    pcm = w.readframes(w.getnframes())
audio = torch.frombuffer(bytearray(pcm), dtype=torch.int16).float() / 32768
stamps = get_speech_timestamps(audio, model, sampling_rate=16000)
print(time.perf_counter() - start, len(stamps), torch.get_num_threads())
"""


def time_silero_package(ffmpeg: str, media: Path, python: str) -> tuple[float, int, int] | None:
    """The silero-vad package on the same video: decode to WAV with the same ffmpeg, then
    its `read_audio` + `get_speech_timestamps`. (seconds, speech segments, torch threads)."""
    if not Path(python).exists():
        return None
    wav = OUT / f"{media.stem}.wav"
    start = time.perf_counter()
    subprocess.run(decode_command(ffmpeg, media, RATE, output=str(wav), container="wav"), check=True)
    decode_s = time.perf_counter() - start
    done = subprocess.run(
        [python, "-c", SILERO_PACKAGE, str(wav)], check=True, capture_output=True, text=True
    )
    took, segments, threads = done.stdout.split()
    return decode_s + float(took), int(segments), int(threads)


def peak_rss_mb(media: Path, duration: float) -> float:
    """Peak RSS of a fresh process that cuts `media` (ffmpeg, its child, not counted).

    Read from VmHWM: getrusage's ru_maxrss would include this process's size at the fork."""
    code = (
        "import sys, pyarrow; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "pyarrow.set_memory_pool(pyarrow.system_memory_pool());"  # as the CLI does
        "import bench_cut as b; ws = b.fresh_workspace('rss-' + Path(sys.argv[2]).stem);"
        "b.add_source(ws, Path(sys.argv[2]), float(sys.argv[3])); from accentds.cut import cut;"
        "cut(ws, workers=1); print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(media), str(duration)],
        check=True, capture_output=True, text=True, env={**os.environ, "BENCH_RUNS": str(RUNS)},
    )  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024


def concat(ffmpeg: str, media: Path, times: int) -> Path:
    path = OUT / f"{media.stem}-x{times}.mp4"
    if not path.exists():
        listing = OUT / "concat.txt"
        listing.write_text("".join(f"file '{media.name}'\n" for _ in range(times)))
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                str(path),
            ],
            check=True,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60, help="length of the test video")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--ffmpeg", help="ffmpeg binary (default: as accentds finds it)")
    parser.add_argument("--repeat", type=int, default=3, help="decode and cut runs to take the best of")
    parser.add_argument(
        "--torch-python", default="/work/bench-venv/bin/python", help="a Python with silero-vad"
    )
    args = parser.parse_args()
    wait_for_deletions()
    try:
        run(args)
    finally:
        deleted(RUNS)


def run(args: argparse.Namespace) -> None:
    ffmpeg = find_ffmpeg(args.ffmpeg)
    video = build_video(ffmpeg, args.minutes, seed=1)
    seconds = args.minutes * 60
    print(
        f"ffmpeg: {ffmpeg}\ntest video: {video.name} ({args.minutes:g} min, {video.stat().st_size / 1e6:.1f} MB)"
    )
    results: dict[str, float] = {}

    decodes, cuts = [], []
    for _ in range(args.repeat):  # interleaved, best of each: the machine's noise hits both
        os.sync()  # no write-back of the last run's clips during this one
        decodes.append(time_decode(ffmpeg, video))
        os.sync()
        cut_s, clips = time_cut(ffmpeg, video, seconds)
        cuts.append(cut_s)
    decode_s, cut_s = min(decodes), min(cuts)
    print(
        "decode runs: "
        + ", ".join(f"{t:.2f}" for t in decodes)
        + " s; cut runs: "
        + ", ".join(f"{t:.2f}" for t in cuts)
        + " s"
    )
    wav_s, split_s, regions = time_auditok(ffmpeg, video)
    auditok_s = wav_s + split_s
    results.update(
        decode_x_realtime=seconds / decode_s,
        cut_x_realtime=seconds / cut_s,
        cut_over_decode=decode_s / cut_s,
        auditok_x_realtime=seconds / auditok_s,
        cut_over_auditok=auditok_s / cut_s,
        cut_over_auditok_wav_input=split_s / cut_s,
    )
    print(f"decode only      {seconds / decode_s:8.0f}x realtime  ({decode_s:.2f} s)")
    print(f"accentds cut     {seconds / cut_s:8.0f}x realtime  ({cut_s:.2f} s, {clips} clips)")
    print(
        f"auditok          {seconds / auditok_s:8.0f}x realtime  ({auditok_s:.2f} s = decode to WAV "
        f"{wav_s:.2f} s + split-and-save {split_s:.2f} s, {regions} clips)"
    )
    print(f"cut / decode-only throughput: {decode_s / cut_s:.1%}   (target: cut >= 200x realtime)")
    package = time_silero_package(ffmpeg, video, args.torch_python)
    if package is None:
        print(f"silero-vad package: skipped ({args.torch_python} not found)")
    else:
        package_s, segments, threads = package
        results.update(
            silero_package_x_realtime=seconds / package_s, cut_over_silero_package=package_s / cut_s
        )
        print(
            f"silero-vad package {seconds / package_s:6.0f}x realtime  ({package_s:.2f} s, {segments} segments, "
            f"torch on {threads} threads)  -> accentds cut is {package_s / cut_s:.2f}x as fast"
        )
    print(
        f"cut / auditok throughput:     {auditok_s / cut_s:.2f}x   (auditok: energy only; given the WAV: {split_s / cut_s:.2f}x)"
    )

    os.sync()
    one_s, _ = time_cut(ffmpeg, video, seconds, workers=1, copies=2)
    os.sync()
    two_s, _ = time_cut(ffmpeg, video, seconds, workers=2, copies=2)
    results["two_workers_speedup"] = one_s / two_s
    print(f"2 sources: 1 worker {one_s:.2f} s, 2 workers {two_s:.2f} s -> {one_s / two_s:.2f}x")

    if not args.skip_memory:
        short = build_video(ffmpeg, 10, seed=2)
        long = concat(ffmpeg, video, max(1, round(180 / args.minutes)))
        rss_short = peak_rss_mb(short, 600)
        rss_long = peak_rss_mb(long, 10800)
        results.update(rss_10min_mb=rss_short, rss_3h_mb=rss_long, rss_ratio=rss_long / rss_short)
        print(f"peak RSS: 10 min {rss_short:.0f} MB, 3 h {rss_long:.0f} MB -> {rss_long / rss_short:.2f}x"
              "   (flat: target <= 1.10x)")  # fmt: skip
    (OUT / "bench_cut.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

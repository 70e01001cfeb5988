"""Segmentation accuracy on real recordings with known speech timing (bench/real_set.py).

Each configuration runs accentds' own pipeline (`SpeechFinder`: detector → Silero confirmation →
acoustic check → segmenter) on the 16 kHz PCM of every file of bench/out/real/index.json, exactly
as bench_accuracy.py does, and is scored at 10 ms frames by bench/score.py. One more row runs
the reference silero-vad package (torch, `get_speech_timestamps` with default parameters) in
another Python that has torch and silero-vad (`--torch-python`); it is skipped if that is missing.

Run: .venv/bin/python bench/bench_real.py [--by-kind] [--config NAME]... [--files GLOB] [--per-file]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import wave
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from score import Score, run, score  # noqa: E402

from accentds.config import VadSettings  # noqa: E402
from accentds.errors import AccentdsError  # noqa: E402

SET = ROOT / "bench" / "out" / "real"
TORCH_ROW = "silero-vad package (torch)"


def settings(**fields) -> VadSettings | str:
    """VadSettings, or why not (a field this version of accentds lacks, a bad value)."""
    try:
        return VadSettings(**fields)
    except (TypeError, AccentdsError) as exc:
        return f"skipped: {exc}"


CONFIGS: dict[str, VadSettings | str] = {
    "webrtc+silero (default)": settings(),
    "webrtc 2 (VAD alone)": settings(backend="webrtc"),
    "webrtc 2 + check (old default)": settings(backend="webrtc", music_noise_check=True, min_clip_s=1.0),
    "silero (VAD alone)": settings(backend="silero"),
}

Span = tuple[float, float]


def read(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return w.readframes(w.getnframes())


TORCH_SCRIPT = """
import json, sys, time, wave
import torch
from silero_vad import get_speech_timestamps, load_silero_vad
torch.set_num_threads(1)
model, out, took = load_silero_vad(), {}, 0.0
for path in json.load(sys.stdin):
    with wave.open(path) as w:
        pcm = w.readframes(w.getnframes())
    wav = torch.frombuffer(bytearray(pcm), dtype=torch.int16).float() / 32768
    t0 = time.perf_counter()
    stamps = get_speech_timestamps(wav, model, sampling_rate=16000)
    took += time.perf_counter() - t0
    out[path] = [[s["start"] / 16000, s["end"] / 16000] for s in stamps]
json.dump({"clips": out, "seconds": took}, sys.stdout)
"""


def run_torch(python: Path, paths: list[Path]) -> tuple[dict[str, list[Span]], float] | str:
    if not python.exists():
        return f"skipped: no {python} (a venv with torch and silero-vad; see bench/README.md)"
    done = subprocess.run(
        [str(python), "-c", TORCH_SCRIPT],
        input=json.dumps([str(p) for p in paths]),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return "skipped: " + (done.stderr.strip().splitlines() or ["failed"])[-1]
    found = json.loads(done.stdout)
    return {k: [tuple(s) for s in v] for k, v in found["clips"].items()}, found["seconds"]


def touched(clips: list[Span], utterances: list[list[float]], share: float = 0.8) -> int:
    """Utterances of which clips (together) cover at least `share`."""
    n = 0
    for a, b in utterances:
        n += sum(max(0.0, min(b, d) - max(a, c)) for c, d in clips) >= share * (b - a)
    return n


@dataclass
class Tally:
    score: Score = field(default_factory=Score)
    touched: int = 0
    lost: list[tuple[float, str]] = field(default_factory=list)  # per speech file
    none_s: float = 0.0  # duration of no-speech files
    none_clip_s: float = 0.0

    def add(self, entry: dict, clips: list[Span]) -> None:
        one = score(clips, [tuple(u) for u in entry["utterances"]], entry["seconds"])
        self.score += one
        self.touched += touched(clips, entry["utterances"])
        if entry["utterances"]:
            self.lost.append((one.fn_all / max(1, one.tp_all + one.fn_all), entry["file"]))
        else:
            self.none_s += entry["seconds"]
            self.none_clip_s += one.clip_s

    def row(self) -> str:
        s = self.score
        worst = max(self.lost, default=(0.0, "-"))
        many = sum(share > 0.1 for share, _ in self.lost)
        none = f"{self.none_clip_s / self.none_s:.1%}" if self.none_s else "-"
        return (
            f"{s.precision:.1%} ({s.precision_all:.1%}) | {s.recall:.1%} ({s.recall_all:.1%}) | "
            f"{s.f1:.3f} | {s.coverage:.1%} | {self.touched / max(1, s.utterances):.1%} | "
            f"{worst[0]:.1%} ({worst[1]}) | {many} of {len(self.lost)} | {none}"
        )


HEAD = (
    "| {} | precision | recall | F1 | utterances ≥ 80 % in one clip | ≥ 80 % in clips | "
    "worst file's lost speech | files losing > 10 % | clip-s on no-speech |"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", action="append", help=f"run only these (repeatable); also {TORCH_ROW!r}")
    parser.add_argument("--files", default="*", help="only files whose name matches this glob")
    parser.add_argument("--by-kind", action="store_true", help="also a table per kind of recording")
    parser.add_argument(
        "--per-file", action="store_true", help="also each file's lost speech and false clip-s"
    )
    parser.add_argument("--torch-python", type=Path, default=Path("/work/bench-venv/bin/python"))
    parser.add_argument(
        "--set",
        type=Path,
        default=SET,
        help="the set's folder (bench/out/fresh: the check set, fresh_set.py)",
    )
    args = parser.parse_args()
    if not (args.set / "index.json").exists():
        sys.exit(
            f"no {args.set}/index.json: build it with bench/real_set.py or fresh_set.py (see bench/README.md)"
        )
    index = [
        e for e in json.loads((args.set / "index.json").read_text()) if fnmatch.fnmatch(e["file"], args.files)
    ]
    names = [*list(CONFIGS), TORCH_ROW]
    unknown = set(args.config or []) - set(names)
    if unknown:
        sys.exit(f"unknown --config {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    audio_s = sum(e["seconds"] for e in index)
    speech_s = sum(b - a for e in index for a, b in e["utterances"])
    print(
        f"{len(index)} files, {audio_s / 60:.1f} min of audio, {speech_s / 60:.1f} min of labelled speech, "
        f"{sum(len(e['utterances']) for e in index)} utterances\n"
        "frame scores at 10 ms with a 0.25 s collar around true boundaries; (no collar) in brackets; "
        "lost speech without collar\n"
    )
    print(HEAD.format("configuration") + " × realtime |")
    print("| --- " * HEAD.count("|") + "|")
    pcm = {e["file"]: read(args.set / e["file"]) for e in index}
    kinds: dict[str, dict[str, Tally]] = {}
    per_file: dict[str, dict[str, tuple[float, float]]] = {}
    for label in names:
        if args.config and label not in args.config:
            continue
        vad = CONFIGS.get(label)
        if isinstance(vad, str):
            print(f"| {label} | {vad} |")
            continue
        clips_of: dict[str, list[Span]] = {}
        took = 0.0
        try:
            if label == TORCH_ROW:
                found = run_torch(args.torch_python, [args.set / e["file"] for e in index])
                if isinstance(found, str):
                    print(f"| {label} | {found} |")
                    continue
                clips_of = {Path(k).name: v for k, v in found[0].items()}
                took = found[1]
            else:
                for e in index:
                    clips_of[e["file"]], seconds = run(vad, pcm[e["file"]])
                    took += seconds
        except AccentdsError as exc:
            print(f"| {label} | skipped: {exc} |")
            continue
        total, by_kind = Tally(), kinds.setdefault(label, {})
        for e in index:
            clips = clips_of[e["file"]]
            total.add(e, clips)
            by_kind.setdefault(e["kind"], Tally()).add(e, clips)
            one = score(clips, [tuple(u) for u in e["utterances"]], e["seconds"])
            lost = one.fn_all / max(1, one.tp_all + one.fn_all) if e["utterances"] else float("nan")
            per_file.setdefault(e["file"], {})[label] = (lost, one.false_clip_s)
        print(f"| {label} | {total.row()} | {audio_s / took:,.0f}× |")
    if args.by_kind:
        for label, by_kind in kinds.items():
            print(f"\n{label}\n\n" + HEAD.format("kind"))
            print("| --- " * (HEAD.count("|") - 1) + "|")
            for kind, tally in by_kind.items():
                print(f"| {kind} | {tally.row()} |")
    if args.per_file:
        labels = list(kinds)
        print("\nlost speech share / false clip-s per file\n\n| file | " + " | ".join(labels) + " |")
        print("| --- " * (len(labels) + 1) + "|")
        for name, row in per_file.items():
            cells = [f"{row[lb][0]:.1%} / {row[lb][1]:.1f}" if lb in row else "-" for lb in labels]
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

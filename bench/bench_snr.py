"""Clip SNR hints through the cut on real recordings: the in-clip estimate (`quality.snr_db`
alone) against the estimate from the source's pauses around each clip (`SpeechFinder.noise`).

Sources: the real set's noisy, noise-10-20, music and clean files (index.json gives each
file's SNR), and each clean recording of `speech/` mixed with excerpts of each real noise of
`noise/` at 0-30 dB, the truth counting the recording's own floor (as bench_quality.py).
Each source goes through accentds' own pipeline (`SpeechFinder`, fed and trimmed as `cut`
does); every clip's hint is compared with its source's true SNR.

    .venv/bin/python bench/bench_snr.py [--data bench/out/real] [--excerpts 2]
"""

from __future__ import annotations

import argparse
import json
import time
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np
from bench_quality import SNR_STEPS, decode, own_floor

from accentds import finder as finder_module
from accentds import quality
from accentds.config import VadSettings
from accentds.confirm import confirm
from accentds.finder import SpeechFinder
from accentds.media import find_ffmpeg

RATE = 16000
KINDS = ("noisy", "noise-10-20", "music", "clean")
RULES = {  # which frames are noise
    "unkept": lambda vad, probs, low, sure: ~confirm(vad, probs, low, sure),
    "both": lambda vad, probs, low, sure: ~vad & (probs < sure),  # webrtcvad and Silero: no speech
}
ESTIMATES = ("old", "one-sided", "new")


def run(vad: VadSettings, pcm: np.ndarray) -> tuple[list[dict[str, float]], float]:
    """Each clip's SNR by each estimate, and the seconds the finder took (all estimates)."""
    t0 = time.perf_counter()
    finder = SpeechFinder(vad)
    frame = finder.frame_bytes // 2
    size = frame * 2048
    whole = len(pcm) - len(pcm) % frame
    out = []

    def emit(found):
        for fc in found:
            x = pcm[fc.start * frame : fc.end * frame]
            one, both = finder.noise(fc, after=False), finder.noise(fc)
            out.append(
                {
                    "old": quality.snr_db(x, RATE),
                    "one-sided": quality.snr_db(x, RATE, one),
                    "new": quality.snr_db(x, RATE, both),
                    "fallback": both is None,
                    "seconds": (fc.end - fc.start) * frame / RATE,
                }
            )

    for at in range(0, whole, size):
        emit(finder.feed(pcm[at : min(at + size, whole)].tobytes())[0])
        finder.forget()
    emit(finder.finish())
    return out, time.perf_counter() - t0


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").copy()


def sources(data: Path, excerpts: int, seed: int):
    """(group, true SNR, step label, int16 PCM) of every source."""
    for entry in json.loads((data / "index.json").read_text()):
        if entry["kind"] in KINDS:
            yield f"real {entry['kind']}", entry["snr_db"], entry["snr_db"], read(data / entry["file"])
    ffmpeg = find_ffmpeg(None)
    rng = np.random.default_rng(seed)
    speech = {p.stem: decode(ffmpeg, p) for p in sorted((data / "speech").iterdir())}
    noises = {p.stem: decode(ffmpeg, p) for p in sorted((data / "noise").iterdir())}
    for noise_name, noise in noises.items():
        for x in speech.values():
            floor = own_floor(x)
            clean = x.astype(np.float64)
            power = float(np.mean(clean**2)) - floor
            for _ in range(excerpts):
                at = int(rng.integers(0, max(1, len(noise) - len(x))))
                n = np.resize(noise[at:], len(x)).astype(np.float64)
                for snr in SNR_STEPS:
                    added = power * 10 ** (-snr / 10) - floor
                    if added < floor:
                        continue
                    mix = clean + np.sqrt(added / np.mean(n**2)) * n
                    yield noise_name, snr, snr, np.clip(np.rint(mix), -32768, 32767).astype(np.int16)


def step_of(snr: float) -> int:
    return int(min(SNR_STEPS, key=lambda s: abs(s - snr)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("bench/out/real"))
    parser.add_argument("--excerpts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", default=",".join(RULES))
    args = parser.parse_args()
    vad = VadSettings()
    cases = list(sources(args.data, args.excerpts, args.seed))
    audio_s = sum(len(c[3]) for c in cases) / RATE
    print(f"{len(cases)} sources, {audio_s / 60:.1f} min of audio")
    for rule in args.rules.split(","):
        finder_module.pauses = RULES[rule]
        rows, took = [], 0.0
        for group, truth, _, pcm in cases:
            clips, seconds = run(vad, pcm)
            took += seconds
            rows += [dict(c, group=group, truth=truth) for c in clips]
        print(f"\n## noise frames: {rule} ({len(rows)} clips, finder {took:.1f} s)")
        print(f"fallback to the in-clip estimate: {np.mean([r['fallback'] for r in rows]):.0%} of clips")
        report(rows)


def report(rows: list[dict]) -> None:
    groups = sorted({r["group"] for r in rows}, key=lambda g: (g.startswith("real"), g))
    header = "| noise | estimate | " + " | ".join(f"{s} dB" for s in SNR_STEPS) + " | within ±3 dB |"
    print(header + "\n|" + " --- |" * (header.count("|") - 1))
    for group in groups:
        mine = [r for r in rows if r["group"] == group]
        for est in ESTIMATES:
            cells = []
            for step in SNR_STEPS:
                errors = [r[est] - r["truth"] for r in mine if step_of(r["truth"]) == step]
                cells.append(f"{np.mean(errors):+.1f} / {np.max(np.abs(errors)):.1f}" if errors else "-")
            within = np.mean([abs(r[est] - r["truth"]) <= 3 for r in mine])
            print(f"| {group} | {est} | " + " | ".join(cells) + f" | {within:.0%} |")
    for label, pick in (("mixes", False), ("real set", True)):
        mine = [r for r in rows if r["group"].startswith("real") == pick]
        shares = [f"{est} {np.mean([abs(r[est] - r['truth']) <= 3 for r in mine]):.0%}" for est in ESTIMATES]
        print(f"{label}: {len(mine)} clips within ±3 dB: " + ", ".join(shares))
    print("`noisy` (< 15 dB) flagged, by true SNR (nearest step):")
    for est in ESTIMATES:
        by = defaultdict(list)
        for r in rows:
            by[step_of(r["truth"])].append(r[est] < 15)
        print(f"  {est:<10} " + ", ".join(f"{s} dB {np.mean(by[s]):.0%}" for s in SNR_STEPS if by[s]))


if __name__ == "__main__":
    main()

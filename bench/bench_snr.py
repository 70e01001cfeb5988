"""Clip SNR hints through the cut on real recordings, each clip against its own true SNR.

Sources: the real set's noisy, noise-10-20, music and clean files (bench/real_set.py writes
each one's speech and noise power per 10 ms frame), and each clean recording of `speech/`
mixed with excerpts of each real noise of `noise/` at 0-30 dB, the truth counting the
recording's own floor (as bench_quality.py). Each source goes through accentds' own pipeline
(`SpeechFinder`, fed and trimmed as `cut` does).

A clip's true SNR is the mean power of the clean speech over the true speech frames inside
the clip against the mean power of the noise over the clip: noise that comes and goes
(hens, music) makes one clip cleaner than the file it is in. The file's SNR is shown too.

Estimates: `in-clip` (`quality.snr_db` alone: noise from the clip's own quiet band levels),
`pauses` (the noise of the source's pauses around the clip, `SpeechFinder.noise`), and
`pauses + speech level` (the same, with the speech power taken over the clip's speech
frames only, as `cut` does).

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
from real_set import audible, truth

from accentds import quality
from accentds.config import VadSettings
from accentds.finder import SpeechFinder
from accentds.media import find_ffmpeg

RATE, HOP = 16000, 160
KINDS = ("noisy", "noise-10-20", "music", "clean")
ESTIMATES = ("in-clip", "pauses", "pauses + speech level", "oracle pauses")


class Truth:
    """What is known of a source: per 10 ms frame, the clean speech's power, the noise's, and
    whether it is true speech; and the recording's own floor (counted as noise, not speech)."""

    def __init__(self, speech: np.ndarray, noise: np.ndarray, is_speech: np.ndarray, floor: float = 0.0):
        self.speech, self.noise, self.is_speech, self.floor = speech, noise, is_speech, floor

    def snr(self, start: int, end: int, noise_at: np.ndarray | None = None) -> float:
        """The true SNR of samples [start, end) (nan with no true speech there); with
        `noise_at` (10 ms frames), the noise's true power over those frames instead."""
        a, b = start // HOP, end // HOP
        inside = self.is_speech[a:b]
        if not inside.any():
            return float("nan")
        speech = float(np.mean(self.speech[a:b][inside])) - self.floor
        noise = self.noise[a:b] if noise_at is None else self.noise[noise_at[noise_at < len(self.noise)]]
        if not len(noise):
            noise = self.noise[a:b]
        return 10 * np.log10(max(speech, 1e-12) / (float(np.mean(noise)) + self.floor))


def calm_hops(finder: SpeechFinder, clip) -> np.ndarray:
    """The 10 ms frames of the pauses `SpeechFinder.noise` reads around `clip`: the best any
    estimate from the pauses can do is to know the noise there exactly."""
    base, m = finder.quiet_base, finder.margin
    lo, hi = max(base, clip.start - finder.context), min(base + len(finder.quiet), clip.end + finder.context)
    quiet = finder.quiet[lo - base : hi - base]
    busy = np.convolve(~quiet, np.ones(2 * m + 1), "same") > 0  # within the margin of speech
    frames = lo + np.flatnonzero(~busy)
    per = finder.frame_samples // HOP
    return (frames[:, None] * per + np.arange(per)).ravel()


def run(vad: VadSettings, pcm: np.ndarray, known: Truth) -> tuple[list[dict[str, float]], float]:
    """Each clip's SNR by each estimate and its true SNR, and the seconds the finder took."""
    t0 = time.perf_counter()
    finder = SpeechFinder(vad)
    frame = finder.frame_bytes // 2
    size = frame * 2048
    whole = len(pcm) - len(pcm) % frame
    out = []

    def emit(found):
        for fc in found:
            x = pcm[fc.start * frame : fc.end * frame]
            noise = finder.noise(fc)
            out.append(
                {
                    "in-clip": quality.snr_db(x, RATE),
                    "pauses": quality.snr_db(x, RATE, noise),
                    "pauses + speech level": quality.snr_db(x, RATE, noise, fc.speech()),
                    "oracle pauses": known.snr(fc.start * frame, fc.end * frame, calm_hops(finder, fc)),
                    "clip truth": known.snr(fc.start * frame, fc.end * frame),
                    "fallback": noise is None,
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


def frame_power(x: np.ndarray) -> np.ndarray:
    return np.mean(x[: len(x) // HOP * HOP].astype(np.float64).reshape(-1, HOP) ** 2, axis=1)


def sources(data: Path, excerpts: int, seed: int):
    """(group, the file's true SNR, int16 PCM, Truth) of every source."""
    for entry in json.loads((data / "index.json").read_text()):
        if entry["kind"] in KINDS:
            speech, noise = np.load(data / entry["file"].replace(".wav", ".levels.npy")).astype(np.float64)
            is_speech = np.zeros(len(speech), bool)
            for a, b in entry["utterances"]:
                is_speech[round(a * 100) : round(b * 100)] = True
            known = Truth(speech, noise, is_speech)
            yield f"real {entry['kind']}", entry["snr_db"], read(data / entry["file"]), known
    if not (data / "speech").is_dir() or not (data / "noise").is_dir():
        return  # a set without recordings to mix (bench/out/fresh)
    ffmpeg = find_ffmpeg(None)
    rng = np.random.default_rng(seed)
    speech = {p.stem: decode(ffmpeg, p) for p in sorted((data / "speech").iterdir())}
    noises = {p.stem: decode(ffmpeg, p) for p in sorted((data / "noise").iterdir())}
    for noise_name, noise in noises.items():
        for x in speech.values():
            clean = x.astype(np.float64)
            heard = audible(clean)  # the truth counts what lies above 50 Hz, as the estimate
            floor = own_floor(heard)
            power = float(np.mean(heard**2)) - floor
            is_speech = np.zeros(len(x) // HOP, bool)
            for a, b in truth((clean / 32768).astype(np.float32)):
                is_speech[a:b] = True
            for _ in range(excerpts):
                at = int(rng.integers(0, max(1, len(noise) - len(x))))
                n = np.resize(noise[at:], len(x)).astype(np.float64)
                n_heard = audible(n)
                for snr in SNR_STEPS:
                    added = power * 10 ** (-snr / 10) - floor
                    if added < floor:
                        continue
                    gain = np.sqrt(added / np.mean(n_heard**2))
                    mix = np.clip(np.rint(clean + gain * n), -32768, 32767).astype(np.int16)
                    yield (
                        noise_name,
                        snr,
                        mix,
                        Truth(frame_power(heard), frame_power(gain * n_heard), is_speech, floor),
                    )


def step_of(snr: float) -> int:
    return int(min(SNR_STEPS, key=lambda s: abs(s - snr)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("bench/out/real"))
    parser.add_argument("--excerpts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    vad = VadSettings()
    cases = list(sources(args.data, args.excerpts, args.seed))
    audio_s = sum(len(c[2]) for c in cases) / RATE
    print(f"{len(cases)} sources, {audio_s / 60:.1f} min of audio")
    rows, took = [], 0.0
    for group, snr, pcm, known in cases:
        clips, seconds = run(vad, pcm, known)
        took += seconds
        rows += [dict(c, group=group, truth=snr) for c in clips if not np.isnan(c["clip truth"])]
    print(f"{len(rows)} clips with true speech (finder {took:.1f} s)")
    print(f"fallback to the in-clip estimate: {np.mean([r['fallback'] for r in rows]):.0%} of clips")
    report(rows)


def report(rows: list[dict]) -> None:
    """Errors against each clip's own true SNR, by noise and by the clip's true SNR (nearest
    step); the share within ±3 dB also against the file's SNR."""
    groups = sorted({r["group"] for r in rows}, key=lambda g: (g.startswith("real"), g))
    print("\nestimate minus the clip's true SNR, mean / max |error| (dB), by the clip's true SNR\n")
    header = "| noise | estimate | " + " | ".join(f"{s} dB" for s in SNR_STEPS) + " | within ±3 dB |"
    print(header + "\n|" + " --- |" * (header.count("|") - 1))
    for group in groups:
        mine = [r for r in rows if r["group"] == group]
        for est in ESTIMATES:
            cells = []
            for step in SNR_STEPS:
                errors = [r[est] - r["clip truth"] for r in mine if step_of(r["clip truth"]) == step]
                cells.append(f"{np.mean(errors):+.1f} / {np.max(np.abs(errors)):.1f}" if errors else "-")
            within = np.mean([abs(r[est] - r["clip truth"]) <= 3 for r in mine])
            print(f"| {group} | {est} | " + " | ".join(cells) + f" | {within:.0%} |")
    print("\nclips within ±3 dB of their own true SNR (of their file's SNR in brackets)\n")
    print("| clips | n | " + " | ".join(ESTIMATES) + " |\n|" + " --- |" * (len(ESTIMATES) + 2))
    for label, pick in (("mixes", False), ("real set", True)):
        mine = [r for r in rows if r["group"].startswith("real") == pick]
        if not mine:
            continue
        cells = [
            f"{np.mean([abs(r[e] - r['clip truth']) <= 3 for r in mine]):.0%} "
            f"({np.mean([abs(r[e] - r['truth']) <= 3 for r in mine]):.0%})"
            for e in ESTIMATES
        ]
        print(f"| {label} | {len(mine)} | " + " | ".join(cells) + " |")
    print("\n`noisy` (< 15 dB) flagged, by the clip's true SNR (nearest step):")
    for est in ESTIMATES:
        by = defaultdict(list)
        for r in rows:
            by[step_of(r["clip truth"])].append(r[est] < 15)
        print(f"  {est:<22} " + ", ".join(f"{s} dB {np.mean(by[s]):.0%}" for s in SNR_STEPS if by[s]))


if __name__ == "__main__":
    main()

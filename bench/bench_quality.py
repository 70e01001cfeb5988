"""Quality hints on real recordings: the SNR estimate against real speech mixed with real noise
at known SNRs, and duplicate grouping of >= 2,000 distinct real utterances plus one re-encoded
copy of each.

Data: a folder (default bench/out/real) with `fsdd/*.wav` (free-spoken-digit-dataset
recordings), `speech/*` (clean speech recordings) and `noise/*` (real noise recordings);
bench/README.md says where each comes from and how to extract it.

    .venv/bin/python bench/bench_quality.py [--data bench/out/real]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import time
from pathlib import Path

import numpy as np
import soundfile
from real_set import audible

from accentds import fingerprints, quality
from accentds.media import find_ffmpeg

RATE = 16000
SNR_STEPS = (0, 5, 10, 15, 20, 25, 30)
TRANSFORMS = {  # ffmpeg output arguments and format of each kind of copy; None: a gain change
    "mp3-24k": (["-c:a", "libmp3lame", "-b:a", "24k"], "mp3"),
    "mp3-64k": (["-c:a", "libmp3lame", "-b:a", "64k"], "mp3"),
    "aac-32k": (["-c:a", "aac", "-b:a", "32k"], "adts"),
    "opus-12k": (["-c:a", "libopus", "-b:a", "12k"], "ogg"),
    "8khz": (["-ar", "8000", "-c:a", "pcm_s16le"], "wav"),
    "gain+6": None,
    "gain-6": None,
}


def decode(ffmpeg: str, path: Path) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, "<i2").copy()


def read_fsdd(path: Path) -> np.ndarray:
    """An 8 kHz FSDD recording at 16 kHz (FFT zero-padding: nothing added above 4 kHz)."""
    x, rate = soundfile.read(str(path), dtype="float64")
    x = x if x.ndim == 1 else x.mean(axis=1)
    y = np.fft.irfft(np.fft.rfft(x), len(x) * RATE // rate) * (RATE / rate)
    return np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16)


# -- SNR -----------------------------------------------------------------------
def own_floor(x: np.ndarray) -> float:  # of `audible(x)` where it is the SNR's
    """A recording's own noise power: the mean power of its quietest 10 % of 32 ms frames (its
    pauses; an oracle that knows the recording is clean speech plus a steady floor)."""
    n = 512
    power = np.mean(x[: len(x) // n * n].astype(np.float64).reshape(-1, n) ** 2, axis=1)
    return float(power[power <= np.percentile(power, 10)].mean())


def bench_snr(speech: dict[str, np.ndarray], noises: dict[str, np.ndarray], seed: int) -> None:
    """Each recording with 3 excerpts of each noise, added so that the true SNR, speech power over
    (added noise + the recording's own floor), is each step; a (recording, step) is left out
    when the recording's own floor would be more than half of the noise."""
    rng = np.random.default_rng(seed)
    floors = {name: own_floor(audible(x)) for name, x in speech.items()}
    print("\nClean speech (no noise added): own SNR from its pauses (oracle) and the estimate:")
    for name, x in speech.items():
        own = np.mean(audible(x) ** 2) / floors[name] - 1
        print(f"  {name:<24} own {10 * np.log10(own):5.1f} dB, estimate {quality.snr_db(x, RATE):5.1f} dB")
    print("\nSNR estimate minus true SNR, dB: mean / max |error| (recordings x 3 excerpts)")
    print(f"  {'noise':<28}" + "".join(f"{s:>13} dB" for s in SNR_STEPS))
    flagged = {s: [] for s in SNR_STEPS}
    for noise_name, noise in noises.items():
        errors = {s: [] for s in SNR_STEPS}
        for name, x in speech.items():
            clean = x.astype(np.float64)
            power = float(np.mean(audible(clean) ** 2)) - floors[name]
            for _ in range(3):
                at = int(rng.integers(0, max(1, len(noise) - len(x))))
                n = np.resize(noise[at:], len(x)).astype(np.float64)
                for snr in SNR_STEPS:
                    added = power * 10 ** (-snr / 10) - floors[name]
                    if added < floors[name]:
                        continue
                    mix = clean + np.sqrt(added / np.mean(audible(n) ** 2)) * n
                    estimate = quality.snr_db(np.clip(np.rint(mix), -32768, 32767).astype(np.int16), RATE)
                    errors[snr].append(estimate - snr)
                    flagged[snr].append(estimate < 15)
        cells = "".join(
            f"{np.mean(e):+7.1f} /{np.max(np.abs(e)):5.1f}" if e else f"{'-':>13}" for e in errors.values()
        )
        print(f"  {noise_name[:28]:<28}{cells}")
        within = np.mean([abs(v) <= 3 for e in errors.values() for v in e])
        print(
            f"  {'':<28}cases: "
            + " ".join(f"{len(e):>13}" for e in errors.values())
            + f"  within 3 dB {within:.0%}"
        )
    print("  flagged noisy (< 15 dB): " + ", ".join(f"{s} dB {np.mean(f):.0%}" for s, f in flagged.items()))


# -- duplicates ----------------------------------------------------------------
def utterances(
    fsdd: dict[str, np.ndarray], speech: dict[str, np.ndarray], seed: int
) -> dict[str, np.ndarray]:
    """Distinct utterances: FSDD recordings 0-24 of each speaker and digit as single words;
    recordings 25-49 of each speaker, shuffled, as three-digit phrases (pauses of 50-200 ms);
    the clean speech recordings cut at pauses. No recording is in two utterances."""
    rng = np.random.default_rng(seed)
    out = {}
    speakers = sorted({name.split("_")[1] for name in fsdd})
    for speaker in speakers:
        for digit, take in itertools.product(range(10), range(25)):
            out[f"w-{speaker}-{digit}-{take:02d}"] = fsdd[f"{digit}_{speaker}_{take}"]
        rest = [f"{d}_{speaker}_{k}" for d in range(10) for k in range(25, 50)]
        rng.shuffle(rest)
        for k in range(0, len(rest), 3):
            parts = []
            for name in rest[k : k + 3]:
                parts += [fsdd[name], np.zeros(int(rng.integers(800, 3200)), np.int16)]
            out[f"p-{speaker}-{k // 3:03d}"] = np.concatenate(parts[:-1])
    for name, x in speech.items():
        for k, piece in enumerate(cut_at_pauses(x)):
            out[f"s-{name}-{k:02d}"] = piece
    return out


def cut_at_pauses(x: np.ndarray, pause: float = 0.08, shortest: float = 0.4) -> list[np.ndarray]:
    """Pieces between pauses (10 ms frames 35 dB below the loud ones for `pause` seconds)."""
    n = RATE // 100
    power = np.mean(x[: len(x) // n * n].astype(np.float64).reshape(-1, n) ** 2, axis=1) + 1e-9
    db = 10 * np.log10(power)
    loud = db >= np.percentile(db, 95) - 35
    pieces, start, quiet = [], None, 0
    for k, is_loud in enumerate(np.r_[loud, np.zeros(round(pause * 100) + 1, bool)]):
        if is_loud:
            start = k if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= pause * 100:
                end = k - quiet + 1
                if (end - start) / 100 >= shortest:
                    pieces.append(x[max(0, (start - 5) * n) : min(len(x), (end + 5) * n)])
                start = None
    return pieces


def transformed(ffmpeg: str, x: np.ndarray, kind: str) -> np.ndarray:
    """x through one kind of copy, realigned to x (codec delay from the cross-correlation)."""
    if TRANSFORMS[kind] is None:
        gain = 10 ** (float(kind[4:]) / 20)
        return np.clip(np.rint(x * gain), -32768, 32767).astype(np.int16)
    args, fmt = TRANSFORMS[kind]
    command = [ffmpeg, "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-"]
    encoded = subprocess.run(
        [*command, *args, "-f", fmt, "-"], input=x.tobytes(), capture_output=True, check=True
    )
    back = [ffmpeg, "-v", "error", "-i", "-", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"]
    y = np.frombuffer(
        subprocess.run(back, input=encoded.stdout, capture_output=True, check=True).stdout, "<i2"
    )
    n = min(len(x), len(y), 20 * RATE)
    size = 1 << (2 * n).bit_length()
    corr = np.fft.irfft(np.fft.rfft(y[:n], size) * np.conj(np.fft.rfft(x[:n], size)), size)
    reach = RATE // 4
    lag = int(np.argmax(np.r_[corr[-reach:], corr[:reach]])) - reach
    y = y[lag:] if lag >= 0 else np.r_[np.zeros(-lag, np.int16), y]
    return np.r_[y, np.zeros(max(0, len(x) - len(y)), np.int16)][: len(x)]


def copies(
    ffmpeg: str, clips: dict[str, np.ndarray], seed: int
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """One copy of each clip, of a random kind, cut 1-8 ms earlier or later: the clips of one
    kind go through ffmpeg laid end to end with 0.5 s between them."""
    rng = np.random.default_rng(seed)
    kinds = list(TRANSFORMS)
    names = sorted(clips)
    pick = {name: kinds[int(rng.integers(0, len(kinds)))] for name in names}
    out = {}
    for kind in kinds:
        chosen = [name for name in names if pick[name] == kind]
        gap = np.zeros(RATE // 2, np.int16)
        starts = np.cumsum([0] + [len(clips[name]) + len(gap) for name in chosen])
        stream = transformed(ffmpeg, np.concatenate([p for n in chosen for p in (clips[n], gap)]), kind)
        for name, start in zip(chosen, starts.tolist(), strict=False):
            shift = int(rng.integers(16, 129)) * int(rng.choice([-1, 1]))
            out[name] = stream[max(0, start + shift) : start + len(clips[name]) + shift].copy()
    return out, pick


def bench_duplicates(ffmpeg: str, fsdd: dict, speech: dict, seed: int) -> None:
    clips = utterances(fsdd, speech, seed)
    copied, kind = copies(ffmpeg, clips, seed)
    fps = {name: fingerprints.fingerprint(x, RATE) for name, x in clips.items()}
    fps |= {f"{name}~copy": fingerprints.fingerprint(x, RATE) for name, x in copied.items()}
    ids = sorted(fps)
    values = np.concatenate([fps[c] for c in ids])
    lengths = np.array([len(fps[c]) for c in ids])
    print(f"\nDuplicate grouping: {len(clips)} distinct utterances + one copy each, threshold", end=" ")
    print(fingerprints.DUPLICATE_THRESHOLD)
    for label, pick in (("single words (FSDD)", "w-"), ("3-digit phrases (FSDD)", "p-"), ("sentences", "s-")):
        lasting = [len(clips[n]) / RATE for n in clips if n.startswith(pick)]
        print(f"  {label:<24} {len(lasting):5d} clips, {min(lasting):.2f}-{max(lasting):.2f} s")
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        groups = fingerprints.group_fingerprints(ids, values, lengths)
        timings.append(time.perf_counter() - began)
    members: dict[str, list[str]] = {}
    for clip, group in groups.items():
        members.setdefault(group, []).append(clip)
    false = sum(
        a.split("~")[0] != b.split("~")[0] for m in members.values() for a, b in itertools.combinations(m, 2)
    )
    print(
        f"  groups {len(members)}, largest {max(map(len, members.values()), default=0)}, false pairs {false}"
    )
    print(f"  time to group {len(ids)} clips: {min(timings) * 1000:.0f} ms (best of 5)")

    def together(name: str) -> bool:
        return groups.get(name) is not None and groups.get(name) == groups.get(f"{name}~copy")

    print("  copies grouped with their original, by clip length:")
    bands = {
        "< 0.8 s": lambda n: len(clips[n]) < 0.8 * RATE,
        "0.8-1.3 s": lambda n: 0.8 * RATE <= len(clips[n]) < 1.3 * RATE,
        ">= 1.3 s": lambda n: len(clips[n]) >= 1.3 * RATE,
    }
    sound = {n: int(np.count_nonzero(fps[n])) for n in clips}  # non-quiet sub-fingerprints
    by_sound = {
        "< 16 (< 0.5 s)": lambda n: sound[n] < 16,
        "16-23": lambda n: 16 <= sound[n] < 24,
        ">= 24 (>= 0.77 s)": lambda n: sound[n] >= 24,
    }
    report(clips, kind, together, bands)
    print("  by non-quiet sub-fingerprints of 32 ms (sound, not pauses):")
    report(clips, kind, together, by_sound)
    eligible = [n for n in clips if sound[n] >= 24]
    speakers: dict[str, list[str]] = {}
    for n in eligible:
        speakers.setdefault(n.split("-")[1], []).append(n)
    scores = [
        fingerprints.similarity(fps[a], fps[b])
        for names in speakers.values()
        for a, b in itertools.combinations(names, 2)
    ]
    print(
        f"  {len(eligible)} utterances with >= 24 non-quiet values: {len(scores)} pairs of one speaker,"
        f" highest similarity {max(scores):.3f}"
    )


def report(clips: dict, kind: dict, together, bands: dict) -> None:
    print(f"    {'':<20}{'all':>14}" + "".join(f"{k:>10}" for k in TRANSFORMS))
    for label, keep in bands.items():
        chosen = [n for n in clips if keep(n)]
        cells = []
        for k in TRANSFORMS:
            hit = [together(n) for n in chosen if kind[n] == k]
            cells.append(f"{np.mean(hit):10.0%}" if hit else f"{'-':>10}")
        print(
            f"    {label:<20}{np.mean([together(n) for n in chosen]):7.1%} of {len(chosen):4d}"
            + "".join(cells)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "out" / "real")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("all", "snr", "duplicates"), default="all")
    args = parser.parse_args()
    ffmpeg = find_ffmpeg()
    speech = {p.name.split(".")[0]: decode(ffmpeg, p) for p in sorted((args.data / "speech").iterdir())}
    noises = {
        p.name.split(".")[0]: decode(ffmpeg, p)
        for p in sorted((args.data / "noise").iterdir())
        if soundfile.info(str(p)).duration >= 5  # longer than the clips
    }
    fsdd = {p.stem: read_fsdd(p) for p in sorted((args.data / "fsdd").glob("*.wav"))}
    if args.part in ("all", "snr"):
        bench_snr(speech, noises, args.seed)
    if args.part in ("all", "duplicates"):
        bench_duplicates(ffmpeg, fsdd, speech, args.seed)


if __name__ == "__main__":
    main()

"""A benchmark set of real recordings with known speech timing (LibriVAD method).

Real clean speech (LibriSpeech, VCTK, CMU ARCTIC, Speech Commands, FSDD digits, …) is cut to its
speech, concatenated with random pauses of 0.3–3 s and mixed with real recorded noise or music,
continuous under the whole file, at a known SNR. The truth is taken from the clean speech:

* truth rule: 10 ms frames (160 samples, no overlap) of each clean source utterance; frame power
  in dB; `loud` = 95th percentile, `floor` = 10th percentile of the utterance's frames; a frame is
  speech when its power is above max(loud - 38 dB, min(floor + 10 dB, loud - 15 dB), -70 dBFS);
  gaps shorter than 0.3 s are merged, runs shorter than 0.1 s dropped. A source utterance whose
  own loud - floor is under 20 dB (a noisy home recording: its truth would be unsure) is skipped,
  except FSDD digits, which are cut tight to the word and have no floor. Each utterance is trimmed
  to its first and last speech frame ± 0.1 s before it is placed; its truth runs move with it.
* SNR: mean power of the (possibly reverberant) speech over the truth frames against the mean
  power of the noise or music over the whole file. Each file with speech also gets
  `<name>.levels.npy`: the power of its speech and of its noise in each 10 ms frame, so a
  stretch's own SNR can be known (bench_snr.py).
* far-field: the dry speech convolved with a real measured room impulse response (peak moved to
  t = 0, so the dry truth stays aligned; the reverberant tail is not labelled), plus real noise.
* phone: the mix (speech + real noise at 10–20 dB) through ffmpeg: highpass 300 Hz, lowpass
  3400 Hz, resampled to 8 kHz, G.711 mu-law (pcm_mulaw) WAV, decoded back to 16 kHz.

Kinds: clean (30 dB SNR of air-conditioner noise, so pauses are not digital silence), noisy
(0–10 dB), noise-10-20, music (0–15 dB, with some 4–10 s music-only interludes), far-field, phone,
one-word (Speech Commands words and FSDD digits), no-speech (whole music pieces and noise beds).

Run (from the repo root, with the source repositories fetched into /work/.mirror):
    .venv/bin/python bench/real_set.py --extract /work/real-raw     # copies the files in SOURCES
    .venv/bin/python bench/real_set.py --from /work/real-raw        # builds bench/out/real/
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "real"
MIRROR = Path("/work/.mirror")
RATE, HOP = 16000, 160
SEED = 20261122

# repo -> (commit, licence, [path globs]); extracted to DIR/<owner+name>/<path>
SOURCES = {
    "resemble-ai/Resemblyzer": (
        "15d828edebe06bc72b9cabc8ef8ca5ab2cb457ce",
        "LibriSpeech, CC BY 4.0",
        ["audio_data/librispeech_*/*.flac", "audio_data/librispeech_*/*/*.flac"],
    ),
    "Jakobovski/free-spoken-digit-dataset": (
        "26eb9aaf76e81b692f806f9140c2d2777410d7a1",
        "FSDD, CC BY-SA 4.0",
        ["recordings/*_[0-4].wav"],
    ),
    "vinsis/speech-commands-recognition": (
        "53317d51bc2c75de6118ede48b0da06a412a1341",
        "Speech Commands v0.01, CC BY 4.0",
        ["speech_commands_v0.01/*/*.wav"],
    ),
    "speechbrain/speechbrain": (
        "9c826ef3937bac885c8a6ca86c6889a30f256fb5",
        "speechbrain test samples (Apache-2.0 repo; ESC-50 clips CC BY-NC 3.0)",
        [
            "tests/samples/ASR/*.wav",
            "tests/samples/TTS/LJ050-0131.wav",
            "tests/samples/noise/*.wav",
            "tests/samples/ESC50/audio/*.wav",
            "tests/samples/multi-mic/noise_diffuse.flac",
        ],
    ),
    "facebookresearch/denoiser": (
        "8afd7c166699bb3c8b2d95b6dd706f71e1075df0",
        "VCTK (Valentini), CC BY 4.0",
        ["dataset/debug/clean/*.wav"],
    ),
    "iver56/audiomentations": (
        "73b94488279feda6542a2813c70ed0d00b49ee4f",
        "MIT repo; p286 VCTK CC BY 4.0; noises unstated",
        ["demo/p286_011.wav", "demo/background_noises/*.ogg"],
    ),
    "LCAV/pyroomacoustics": (
        "6fe43fecb7c358ac9aaa054e7e73641189f1afff",
        "CMU ARCTIC (free, BSD-like); noises from Speech Commands, CC BY 4.0",
        [
            "examples/input_samples/cmu_arctic_*.wav",
            "notebooks/arctic_a0010.wav",
            "examples/input_samples/doing_the_dishes.wav",
            "notebooks/exercise_bike.wav",
        ],
    ),
    "openai/whisper": (
        "c0d2f624c09dc18e709e37c2ad90c039a4eb72a2",
        "JFK 1961, public domain",
        ["tests/jfk.flac"],
    ),
    "spatialaudio/selected-topics-in-audio-signal-processing-exercises": (
        "ca28a2abb13f0da39949fa2a5e770d2cb662f4b4",
        "CC0",
        ["data/rir_clap.wav", "data/xmas.wav"],
    ),
    "csteinmetz1/pymixconsole": (
        "49d86aeddfdd0b59c18830b02f63c98f721caf9d",
        "OpenAIR impulse responses, Creative Commons",
        ["pymixconsole/irs/small_room.wav", "pymixconsole/irs/medium_room.wav"],
    ),
    "QVbDev/quantumVerb": (
        "6801e015091c182a70e26471d3b58ee736eac2b9",
        "OpenAIR, CC BY-SA 3.0",
        ["Resources/ImpulseResponses/large_hall.wav"],
    ),
    "Timgrau/Projektarbeit-1": (
        "576dbfeaa7c236521965107400e9d24cca7f0ceb",
        "own recordings + freesound CC0 (no repo licence)",
        ["noise_data/resampled/*.wav"],
    ),
    "librosa/data": (
        "450cdd8a002c98e7bdbfebb309fc1ed024001f77",
        "per track (CC BY 3.0/4.0, CC0; librosa.util.example_info)",
        ["audio/*.hq.ogg"],
    ),
}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def extract(dest: Path, sources: dict[str, tuple[str, str, list[str]]] = SOURCES) -> None:
    for repo, (commit, _, globs) in sources.items():
        git = ["git", "--git-dir", str(MIRROR / repo.replace("/", "+") / "repo")]
        names = subprocess.run([*git, "ls-tree", "-r", "--name-only", commit], capture_output=True, text=True)
        if names.returncode:
            sys.exit(f"{repo}@{commit[:10]}: not in {MIRROR} (fetch github:{repo} first)")
        paths = [p for p in names.stdout.splitlines() if any(fnmatch.fnmatch(p, g) for g in globs)]
        for p in paths:
            out = dest / repo.replace("/", "+") / p
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(
                subprocess.run([*git, "show", f"{commit}:{p}"], capture_output=True, check=True).stdout
            )
        print(f"{repo}: {len(paths)} files")


def load(path: Path) -> np.ndarray:
    cmd = [ffmpeg(), "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.float32).copy()


def phone(x: np.ndarray, folder: Path = OUT) -> np.ndarray:
    """Telephone channel: 300–3400 Hz band-pass, 8 kHz, G.711 mu-law, back to 16 kHz."""
    ff, tmp = ffmpeg(), folder / "_phone.wav"
    enc = [ff, "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "-"]
    enc += ["-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-c:a", "pcm_mulaw", str(tmp)]
    subprocess.run(enc, input=x.astype(np.float32).tobytes(), check=True)
    y = load(tmp)
    tmp.unlink()
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def frame_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // HOP
    return 10 * np.log10(np.mean(x[: n * HOP].reshape(n, HOP) ** 2, axis=1) + 1e-12)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def truth(x: np.ndarray) -> list[tuple[int, int]]:
    """Speech runs of a clean utterance, in 10 ms frames (the rule in the module docstring)."""
    db = frame_db(x)
    loud, floor = np.percentile(db, 95), np.percentile(db, 10)
    spans = runs(db > max(loud - 38, min(floor + 10, loud - 15), -70))
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a - merged[-1][1] < 30:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [(a, b) for a, b in merged if b - a >= 10]


class Pool:
    """Decoded sources by group, each dealt out once in a seeded random order."""

    def __init__(self, raw: Path, rng: np.random.Generator):
        self.raw, self.rng, self.queues, self.skipped = raw, rng, {}, 0

    def files(self, repo: str, glob: str) -> list[Path]:
        return sorted((self.raw / repo.replace("/", "+")).glob(glob))

    def add(self, group: str, paths: list[Path]) -> None:
        order = self.rng.permutation(len(paths))
        self.queues.setdefault(group, []).extend(paths[i] for i in order)

    def utterance(self, group: str) -> tuple[np.ndarray, list[tuple[int, int]], Path]:
        """Next utterance of a group (or of "libri" once it is used up), trimmed to its speech
        ± 0.1 s, with its truth runs."""
        while self.queues[group] or self.queues["libri"]:
            path = (self.queues[group] or self.queues["libri"]).pop(0)
            x = load(path)
            spans, db = truth(x), frame_db(x)
            if not spans or (group != "digits" and np.percentile(db, 95) - np.percentile(db, 10) < 20):
                self.skipped += 1
                continue
            a, b = max(0, spans[0][0] - 10), min(len(x) // HOP, spans[-1][1] + 10)
            return x[a * HOP : b * HOP], [(s - a, e - a) for s, e in spans], path.relative_to(self.raw)
        raise SystemExit(f"ran out of {group} utterances: fewer or shorter files than expected")


def audible(x: np.ndarray, low_hz: float = 50.0) -> np.ndarray:
    """`x` without what lies below `low_hz` (a DC offset, rumble): the SNR truth counts only
    what a listener hears, as the estimate does (`quality.SNR_LOW_HZ`)."""
    spectrum = np.fft.rfft(np.asarray(x, np.float64))
    spectrum[: int(np.ceil(low_hz * len(x) / RATE))] = 0
    return np.fft.irfft(spectrum, len(x))


def save_levels(path: Path, clean: np.ndarray, noise: np.ndarray) -> None:
    """Each 10 ms frame's power of the clean speech and of the noise (both `audible`): the
    local truth of a mix's SNR."""
    frames = len(clean) // HOP * HOP
    levels = [np.mean(audible(y)[:frames].reshape(-1, HOP) ** 2, axis=1) for y in (clean, noise)]
    np.save(path, np.stack(levels).astype(np.float32))


def bed(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of a recording from a random offset, looped with 50 ms crossfades."""
    x = x[int(rng.integers(len(x))) :] if len(x) > n else x
    fade = 800
    out = x.copy()
    while len(out) < n:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        out = np.concatenate([out[:-fade], out[-fade:] * (1 - ramp) + x[:fade] * ramp, x[fade:]])
    return out[:n]


def power(x: np.ndarray, spans: list[tuple[int, int]] | None = None) -> float:
    if spans is None:
        return float(np.mean(x**2)) + 1e-12
    return float(np.mean(np.concatenate([x[a * HOP : b * HOP] for a, b in spans]) ** 2)) + 1e-12


def speech_track(pool: Pool, groups: list[str], seconds: float, rng, interludes: bool = False):
    """Clean utterances with random pauses: (signal, truth frames, source names)."""
    parts, spans, names, at = [], [], [], int(rng.uniform(0.5, 2.0) * RATE / HOP)
    parts.append(np.zeros(at * HOP, np.float32))
    while at * HOP < seconds * RATE:
        x, t, src = pool.utterance(groups[int(rng.integers(len(groups)))])
        level = 10 ** (rng.uniform(-32, -22) / 20) / np.sqrt(power(x, t))
        fades = np.minimum(1, np.minimum(np.arange(len(x)), np.arange(len(x))[::-1]) / 160)
        parts.append((x * level * fades).astype(np.float32))
        spans += [(a + at, b + at) for a, b in t]
        names.append(src)
        at += len(x) // HOP
        pause = rng.uniform(4, 10) if interludes and rng.random() < 0.2 else rng.uniform(0.3, 3.0)
        parts.append(np.zeros(int(pause * 100) * HOP, np.float32))
        at += int(pause * 100)
    return np.concatenate(parts), spans, names


def reverb(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    rir = rir[int(np.argmax(np.abs(rir))) :] / np.max(np.abs(rir))
    n = len(x) + len(rir)
    y = np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(rir, n), n)[: len(x)]
    return y.astype(np.float32)


def write(name: str, x: np.ndarray, folder: Path = OUT) -> None:
    peak = float(np.max(np.abs(x)))
    x = x * (0.9 / peak if peak > 0.9 else 1.0)
    with wave.open(str(folder / name), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def short(name: str) -> str:
    """A librosa/data file name without licence prefixes: "Kevin_MacLeod_-_Vibe_Ace.hq.ogg" -> "vibe-ace"."""
    name = name.split(".")[0].split("__")[-1].split("_-_")[-1].split("-0i-")[0]
    return name.replace("_", "-").lower().split("-(")[0].removeprefix("glacier-bay-")[:24].strip("-")


def emptied(folder: Path) -> None:
    """Make `folder` and remove the audio and levels of a set built there before."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.wav"), *folder.glob("*.levels.npy")]:
        old.unlink()


def build(raw: Path) -> None:
    rng = np.random.default_rng(SEED)
    emptied(OUT)
    pool = Pool(raw, rng)
    rs, sb, pra = "resemble-ai/Resemblyzer", "speechbrain/speechbrain", "LCAV/pyroomacoustics"
    pool.add("libri", pool.files(rs, "audio_data/**/*.flac"))
    other = pool.files(sb, "tests/samples/ASR/*.wav") + pool.files(sb, "tests/samples/TTS/*.wav")
    other += pool.files("facebookresearch/denoiser", "dataset/debug/clean/*.wav")
    other += pool.files("iver56/audiomentations", "demo/p286_011.wav") + pool.files(pra, "**/*arctic*.wav")
    other += pool.files("openai/whisper", "tests/jfk.flac")
    other += pool.files("spatialaudio/selected-topics-in-audio-signal-processing-exercises", "data/xmas.wav")
    pool.add("other", other)
    pool.add("words", pool.files("vinsis/speech-commands-recognition", "*/*/*.wav"))
    pool.add("digits", pool.files("Jakobovski/free-spoken-digit-dataset", "recordings/*.wav"))

    def cat(repo: str, glob: str) -> np.ndarray:
        return np.concatenate([load(p) for p in pool.files(repo, glob)])

    tg, lib = "Timgrau/Projektarbeit-1", "librosa/data"
    noises = {  # real recorded noise beds: name -> (signal, origin)
        "aircon": (cat(tg, "noise_data/resampled/aircon_*.wav"), tg),
        "dishwasher": (cat(tg, "noise_data/resampled/dishwasher_*.wav"), tg),
        "street": (cat(tg, "noise_data/resampled/street_*.wav"), tg),
        "vacuum": (cat(tg, "noise_data/resampled/vacuuming_*.wav"), tg),
        "dishes": (cat(pra, "**/doing_the_dishes.wav"), pra),
        "bike": (cat(pra, "**/exercise_bike.wav"), pra),
        "sb-noise": (cat(sb, "tests/samples/noise/*.wav"), sb),
        "esc-animals": (
            np.concatenate(
                [cat(sb, "tests/samples/ESC50/audio/*.wav"), cat("iver56/audiomentations", "demo/*/*.ogg")]
            ),
            f"{sb} + iver56/audiomentations",
        ),
    }
    music = {short(p.name): load(p) for p in pool.files(lib, "audio/*.hq.ogg") if p.stat().st_size > 1000}
    music = {k: v for k, v in music.items() if len(v) > 20 * RATE}  # drops the trumpet loop and robin
    whale = music.pop("humpback")
    sa, pmc = "spatialaudio/selected-topics-in-audio-signal-processing-exercises", "csteinmetz1/pymixconsole"
    rirs = {  # real measured room impulse responses: name -> (signal, repo)
        "seminar-room-clap": (load(pool.files(sa, "data/rir_clap.wav")[0]), sa),
        "small-room": (load(pool.files(pmc, "*/irs/small_room.wav")[0]), pmc),
        "medium-room": (load(pool.files(pmc, "*/irs/medium_room.wav")[0]), pmc),
        "typing-room": (
            load(pool.files("QVbDev/quantumVerb", "*/*/large_hall.wav")[0]),
            "QVbDev/quantumVerb",
        ),
    }
    licence = {repo: lic for repo, (_, lic, _) in SOURCES.items()}
    index = []
    speech_groups = ["libri"] * 4 + ["other"]

    def entry(name, kind, snr, x, spans, origin, repos):
        write(name, x)
        lic = "; ".join(sorted({licence[r.strip()] for r in repos}))
        utt = [[round(a * HOP / RATE, 2), round(b * HOP / RATE, 2)] for a, b in spans]
        index.append(
            {"file": name, "kind": kind, "snr_db": snr, "seconds": round(len(x) / RATE, 2), "utterances": utt}
            | {"origin": origin, "licence": lic}
        )
        print(f"{name:28s} {kind:12s} {len(x) / RATE:6.1f} s  snr {snr}  {len(utt)} utt")

    def speech_file(name, kind, snr, noise_name, groups=speech_groups, rir=None, interludes=False, tel=False):
        clean, spans, names = speech_track(pool, groups, rng.uniform(60, 110), rng, interludes)
        repos = sorted({n.parts[0].replace("+", "/", 1) for n in names})
        origin = f"speech: {len(names)} utterances ({', '.join(n.name for n in names[:3])}, …)"
        if rir:
            clean = reverb(clean, rirs[rir][0])
            origin += f"; room impulse response {rir} ({rirs[rir][1]})"
            repos.append(rirs[rir][1])
        if noise_name in music:
            noise, src = bed(music[noise_name], len(clean), rng), lib
        else:
            noise, src = bed(noises[noise_name][0], len(clean), rng), noises[noise_name][1]
        gain = np.sqrt(power(clean, spans) / (power(noise) * 10 ** (snr / 10)))
        x = clean + gain * noise
        save_levels(OUT / name.replace(".wav", ".levels.npy"), clean, gain * noise)
        origin += f"; bed {noise_name} ({src}) at {snr:.1f} dB SNR"
        if tel:
            x, origin = phone(x), origin + "; telephone channel (300-3400 Hz, 8 kHz mu-law)"
        entry(name, kind, round(snr, 1), x, spans, origin, repos + src.split(" + "))

    noise_names = list(noises)
    noises["humpback-whale"] = (whale, lib)  # no-speech only
    for i in range(3):
        speech_file(f"clean-{i + 1}.wav", "clean", 30.0, "aircon")
    for i in range(12):
        speech_file(
            f"noisy-{i + 1:02d}.wav", "noisy", float(rng.uniform(0, 10)), noise_names[i % len(noise_names)]
        )
    for i in range(5):
        speech_file(
            f"noise-10-20-{i + 1}.wav", "noise-10-20", float(rng.uniform(10, 20)), noise_names[(i + 3) % 8]
        )
    for i, piece in enumerate(sorted(music)):
        speech_file(f"music-{i + 1}.wav", "music", float(rng.uniform(0, 15)), piece, interludes=i % 2 == 0)
    for i, rir in enumerate(rirs):
        speech_file(f"far-field-{i + 1}.wav", "far-field", float(rng.uniform(5, 15)), noise_names[i], rir=rir)
    for i in range(4):
        speech_file(
            f"phone-{i + 1}.wav", "phone", float(rng.uniform(10, 20)), noise_names[(i + 2) % 8], tel=True
        )
    for i, snr in enumerate([30.0, 10.0, 5.0]):
        speech_file(f"one-word-{i + 1}.wav", "one-word", snr, noise_names[(i + 4) % 8], groups=["words"])
    for i, snr in enumerate([30.0, 12.0, 6.0]):
        speech_file(
            f"one-word-{i + 4}.wav", "one-word", snr, noise_names[(i + 1) % 8], groups=["digits", "words"]
        )
    for name, x in list(music.items()) + [(k, v[0]) for k, v in noises.items()]:
        x = x[: 180 * RATE] * (10 ** (rng.uniform(-30, -20) / 20) / np.sqrt(power(x[: 180 * RATE])))
        if len(x) < 30 * RATE:
            x = bed(x, 30 * RATE, rng)
        src = lib if name in music else noises[name][1]
        entry(f"none-{name}.wav", "no-speech", None, x, [], f"no speech: {name} ({src})", src.split(" + "))
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    summary(index)
    print(f"{pool.skipped} source utterances skipped (no clear floor or no speech found)")


def summary(index: list[dict]) -> None:
    kinds: dict[str, list[float]] = {}
    for e in index:
        k = kinds.setdefault(e["kind"], [0, 0.0, 0.0])
        k[0] += 1
        k[1] += e["seconds"]
        k[2] += sum(b - a for a, b in e["utterances"])
    print("\n| kind | files | minutes | speech minutes |\n| --- | --- | --- | --- |")
    for kind, (n, s, sp) in kinds.items():
        print(f"| {kind} | {n} | {s / 60:.1f} | {sp / 60:.1f} |")
    total = sum(v[2] for v in kinds.values())
    print(f"| all | {len(index)} | {sum(v[1] for v in kinds.values()) / 60:.1f} | {total / 60:.1f} |")


def command_line(doc: str, sources: dict[str, tuple[str, str, list[str]]], build_from, folder: str) -> None:
    """`--extract DIR` copies `sources` out of the mirrors, `--from DIR` builds the set in `folder`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extract", type=Path, metavar="DIR", help="copy the SOURCES files from the mirrors")
    parser.add_argument("--from", dest="raw", type=Path, metavar="DIR", help=f"build {folder} from DIR")
    args = parser.parse_args()
    if args.extract:
        extract(args.extract, sources)
    if args.raw:
        build_from(args.raw)
    if not (args.extract or args.raw):
        parser.print_help()


def main() -> None:
    command_line(__doc__, SOURCES, build, "bench/out/real/")


if __name__ == "__main__":
    main()

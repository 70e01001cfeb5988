"""A check set of real recordings the cut's settings were never chosen on.

Built as bench/real_set.py builds the benchmark set (the LibriVAD method: real clean speech
laid end to end with pauses of 0.3–3 s, mixed with a real recording of noise or music at a
known SNR), but from other repositories, speakers, microphones and noises. Nothing is tuned
on it: its figures say how the settings chosen on bench/out/real carry over to recordings
they have not seen.

* speech: the TIMIT sample once shipped with NLTK (160 sentences by 16 speakers from 8 US
  dialect regions), with its phones labelled by hand: the truth is every phone but h#, pau and
  epi, at 10 ms frames, gaps under 0.3 s merged and runs under 0.1 s dropped, as in
  real_set.py. One-word files: single words cut out of those sentences at their hand-labelled
  word boundaries (TIMIT's .wrd), words of 0.3 s or more of phones, 10 ms fades at the cuts.
  Far-field files: the sentences again through two room impulse responses of audiomentations'
  demo (origin not stated), the reverberant tail not labelled as speech.
  (Recordings whose truth would come from their energy were tried and left out:
  community phrases from home microphones and one speaker's test recordings of the Montreal
  Forced Aligner. Their noise floors lie within real_set.py's 38 dB of the speech, so clicks,
  breaths and room noise between words counted as speech.)
* hand-labelled as recorded: pyAudioAnalysis' two counting recordings, with their own
  speech/silence segments (0.05–0.1 s resolution).
* noise and music: room backgrounds recorded between wake words (Mycroft Precise), a MUSAN
  noise recording and a MUSAN music piece (inaSpeechSegmenter's musanmix), pyAudioAnalysis'
  beat loop.

Run (from the repo root, with the source repositories fetched into /work/.mirror):
    .venv/bin/python bench/fresh_set.py --extract /work/fresh-raw
    .venv/bin/python bench/fresh_set.py --from /work/fresh-raw        # builds bench/out/fresh/
    .venv/bin/python bench/bench_real.py --set bench/out/fresh --by-kind
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
from real_set import (
    HOP,
    RATE,
    Pool,
    bed,
    command_line,
    emptied,
    load,
    phone,
    power,
    reverb,
    save_levels,
    speech_track,
    summary,
    write,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "fresh"
SEED = 20261207
TIMIT, PRECISE = "nltk/nltk", "MycroftAI/Precise-Community-Data"
INA, PAA = "ina-foss/inaSpeechSegmenter", "tyiannak/pyAudioAnalysis"
AUG = "iver56/audiomentations"
SOURCES = {
    TIMIT: (
        "e9181f0fa1302e65e47cfdfd02574d9f15ed8bcb",  # the sample left the repository later
        "TIMIT sample, CC BY-NC-SA (data/corpora/timit/README)",
        ["data/corpora/timit/dr*/*.wav", "data/corpora/timit/dr*/*.phn", "data/corpora/timit/dr*/*.wrd"],
    ),
    PRECISE: (
        "4854e39b7f8c0e14d387d4e135aa10486f5158bf",
        "public domain (licenses/license-20201215-jarbas.txt)",
        ["not-wake-words/noises/bg_noise-20201215-jarbas.tar.gz"],
    ),
    INA: (
        "e331866febad606209c670fae48cdf9a2321725b",
        "MIT; MUSAN clips, open licences",
        ["media/musanmix.wav"],
    ),
    PAA: (
        "ae00ebd446d497dbbb654c40a71810e7fdf2cc1b",
        "Apache-2.0",
        [
            "pyAudioAnalysis/data/count*.wav",
            "pyAudioAnalysis/data/count*.segments",
            "pyAudioAnalysis/data/beat/small.wav",
        ],
    ),
    AUG: (
        "73b94488279feda6542a2813c70ed0d00b49ee4f",
        "shipped in the MIT repository, origin not stated",
        ["demo/ir/rir48000.wav", "demo/ir/stereo_impulse_response.wav"],
    ),
}
SILENCE = {"h#", "pau", "epi"}  # TIMIT's non-speech labels


def merged_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of a frame mask, gaps under 0.3 s merged and runs under 0.1 s dropped (real_set.truth)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    out: list[tuple[int, int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if out and a - out[-1][1] < 30:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return [(a, b) for a, b in out if b - a >= 10]


def timit_truth(phn: Path, samples: int) -> list[tuple[int, int]]:
    """Speech runs (10 ms frames) from TIMIT's hand-labelled phones: a frame is speech when
    most of it lies in a phone other than h#, pau and epi."""
    speech = np.zeros(samples, bool)
    for line in phn.read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3 and parts[2] not in SILENCE:
            speech[int(parts[0]) : int(parts[1])] = True
    n = samples // HOP
    return merged_runs(speech[: n * HOP].reshape(n, HOP).mean(axis=1) > 0.5)


class FreshPool(Pool):
    """real_set.Pool with TIMIT's own labels as the truth."""

    def utterance(self, group: str) -> tuple[np.ndarray, list[tuple[int, int]], Path]:
        if not self.queues[group]:
            raise SystemExit(f"ran out of {group} utterances: fewer or shorter files than expected")
        path = self.queues[group].pop(0)
        x = load(path)
        spans = timit_truth(path.with_suffix(".phn"), len(x))
        a, b = max(0, spans[0][0] - 10), min(len(x) // HOP, spans[-1][1] + 10)
        return x[a * HOP : b * HOP], [(s - a, e - a) for s, e in spans], path.relative_to(self.raw)


class WordPool(FreshPool):
    """Single words of the TIMIT sentences, cut at their hand-labelled boundaries (.wrd), with
    the phones inside them as the truth; words with under 0.3 s of phones left out."""

    def __init__(self, raw: Path, rng: np.random.Generator, sentences: list[Path]):
        super().__init__(raw, rng)
        words = []
        for wav in sentences:
            for line in wav.with_suffix(".wrd").read_text().split("\n"):
                parts = line.split()
                if len(parts) == 3:
                    words.append((wav, int(parts[0]), int(parts[1])))
        self.words = [words[i] for i in rng.permutation(len(words))]

    def utterance(self, group: str) -> tuple[np.ndarray, list[tuple[int, int]], Path]:
        while self.words:
            wav, a, b = self.words.pop(0)
            x = load(wav)
            spans = timit_truth(wav.with_suffix(".phn"), len(x))
            start, end = -(-a // HOP), b // HOP  # whole frames inside the word
            inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
            if sum(e - s for s, e in inside) >= 30:
                return x[start * HOP : end * HOP], inside, wav.relative_to(self.raw)
        raise SystemExit("ran out of TIMIT words of 0.3 s or more")


def segments_truth(path: Path) -> list[tuple[int, int]]:
    """Speech runs (10 ms frames) of a pyAudioAnalysis .segments file."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [(round(float(a) * 100), round(float(b) * 100)) for a, b, label in rows if label == "speech"]


def build(raw: Path) -> None:
    rng = np.random.default_rng(SEED)
    emptied(OUT)
    pool = FreshPool(raw, rng)
    pool.add("timit", pool.files(TIMIT, "data/corpora/timit/dr*/*.wav"))

    tarball = pool.files(PRECISE, "not-wake-words/noises/bg_noise-*.tar.gz")[0]
    with tarfile.open(tarball) as tar:
        members = sorted((m for m in tar.getmembers() if m.name.endswith(".wav")), key=lambda m: m.name)
        room = []
        for m in members:
            tmp = OUT / "_bg.wav"
            tmp.write_bytes(tar.extractfile(m).read())  # type: ignore[union-attr]
            room.append(load(tmp))
            tmp.unlink()
    musan = load(pool.files(INA, "media/musanmix.wav")[0])
    beds = {  # name -> (signal, repo); musanmix: MUSAN music 0-22.4 s, MUSAN noise 29.1-55.7 s
        "room": (np.concatenate(room), PRECISE),
        "musan-noise": (musan[int(29.1 * RATE) : int(55.7 * RATE)], INA),
        "musan-music": (musan[: int(22.4 * RATE)], INA),
        "beat": (load(pool.files(PAA, "*/data/beat/small.wav")[0]), PAA),
    }
    licence = {repo: lic for repo, (_, lic, _) in SOURCES.items()}
    index = []

    def entry(name, kind, snr, x, spans, origin, repos):
        write(name, x, OUT)
        utt = [[round(a * HOP / RATE, 2), round(b * HOP / RATE, 2)] for a, b in spans]
        index.append(
            {"file": name, "kind": kind, "snr_db": snr, "seconds": round(len(x) / RATE, 2), "utterances": utt}
            | {"origin": origin, "licence": "; ".join(sorted({licence[r] for r in repos}))}
        )
        print(f"{name:24s} {kind:12s} {len(x) / RATE:6.1f} s  snr {snr}  {len(utt)} utt")

    def speech_file(name, kind, snr, bed_name, interludes=False, tel=False):
        clean, spans, names = speech_track(pool, ["timit"], rng.uniform(45, 75), rng, interludes)
        repos = sorted({n.parts[0].replace("+", "/", 1) for n in names})
        noise, src = bed(beds[bed_name][0], len(clean), rng), beds[bed_name][1]
        gain = np.sqrt(power(clean, spans) / (power(noise) * 10 ** (snr / 10)))
        x = clean + gain * noise
        save_levels(OUT / name.replace(".wav", ".levels.npy"), clean, gain * noise)
        origin = f"speech: {len(names)} utterances; bed {bed_name} at {snr:.1f} dB SNR"
        if tel:
            x, origin = phone(x, OUT), origin + "; telephone channel"
        entry(name, kind, round(snr, 1), x, spans, origin, [*repos, src])

    speech_file("clean-1.wav", "clean", 30.0, "room")
    for i, bed_name in enumerate(["room", "musan-noise", "room", "musan-noise"]):
        speech_file(f"noisy-{i + 1}.wav", "noisy", float(rng.uniform(0, 10)), bed_name)
    for i, bed_name in enumerate(["musan-noise", "room"]):
        speech_file(f"noise-10-20-{i + 1}.wav", "noise-10-20", float(rng.uniform(10, 20)), bed_name)
    for i, bed_name in enumerate(["musan-music", "beat"]):
        speech_file(f"music-{i + 1}.wav", "music", float(rng.uniform(0, 15)), bed_name, interludes=i == 0)
    speech_file("phone-1.wav", "phone", float(rng.uniform(10, 20)), "room", tel=True)
    for name in ("count", "count2"):
        x = load(pool.files(PAA, f"*/data/{name}.wav")[0])
        spans = segments_truth(pool.files(PAA, f"*/data/{name}.segments")[0])
        entry(
            f"labelled-{name}.wav",
            "hand-labelled",
            None,
            x,
            spans,
            f"pyAudioAnalysis {name}.wav as recorded",
            [PAA],
        )
    for name, (x, src) in beds.items():
        x = x[: 180 * RATE] * (10 ** (rng.uniform(-30, -20) / 20) / np.sqrt(power(x[: 180 * RATE])))
        if len(x) < 30 * RATE:
            x = bed(x, 30 * RATE, rng)
        entry(f"none-{name}.wav", "no-speech", None, x, [], f"no speech: {name}", [src])
    # one-word files last, from their own random stream: the files above stay as they were
    word_rng = np.random.default_rng(SEED + 1)
    words = WordPool(raw, word_rng, pool.files(TIMIT, "data/corpora/timit/dr*/*.wav"))
    for i, (bed_name, snr) in enumerate(
        [("room", 30.0), ("musan-noise", 10.0), ("room", 5.0), ("musan-music", 8.0)]
    ):
        clean, spans, names = speech_track(words, ["words"], word_rng.uniform(45, 75), word_rng)
        noise = bed(beds[bed_name][0], len(clean), word_rng)
        gain = np.sqrt(power(clean, spans) / (power(noise) * 10 ** (snr / 10)))
        name = f"one-word-{i + 1}.wav"
        save_levels(OUT / name.replace(".wav", ".levels.npy"), clean, gain * noise)
        origin = f"{len(names)} TIMIT words cut at their labelled bounds; bed {bed_name} at {snr:.1f} dB SNR"
        entry(name, "one-word", snr, clean + gain * noise, spans, origin, [TIMIT, beds[bed_name][1]])
    # far-field: the sentences again, through two room impulse responses (T60 ~0.9 and ~1.5 s)
    again = FreshPool(raw, word_rng)
    again.add("timit", pool.files(TIMIT, "data/corpora/timit/dr*/*.wav"))
    for i, (ir, bed_name) in enumerate(
        [("rir48000.wav", "room"), ("stereo_impulse_response.wav", "musan-noise")]
    ):
        clean, spans, names = speech_track(again, ["timit"], word_rng.uniform(45, 75), word_rng)
        clean = reverb(clean, load(pool.files(AUG, f"demo/ir/{ir}")[0]))
        noise, snr = bed(beds[bed_name][0], len(clean), word_rng), float(word_rng.uniform(5, 15))
        gain = np.sqrt(power(clean, spans) / (power(noise) * 10 ** (snr / 10)))
        name = f"far-field-{i + 1}.wav"
        save_levels(OUT / name.replace(".wav", ".levels.npy"), clean, gain * noise)
        origin = (
            f"speech: {len(names)} TIMIT sentences; impulse response {ir}; bed {bed_name} at {snr:.1f} dB SNR"
        )
        entry(
            name,
            "far-field",
            round(snr, 1),
            clean + gain * noise,
            spans,
            origin,
            [TIMIT, AUG, beds[bed_name][1]],
        )
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    summary(index)


def main() -> None:
    command_line(__doc__, SOURCES, build, "bench/out/fresh/")


if __name__ == "__main__":
    main()

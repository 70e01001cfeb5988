"""Single words over real music: 30 files of Speech Commands words and FSDD digits laid out as
`real_set.speech_track` does, over each of 10 real music recordings (librosa's 8 pieces, the
MUSAN music of inaSpeechSegmenter's musanmix, pyAudioAnalysis' beat loop) at 0, 5 and 10 dB.
It probes what the real set lacks (its one-word files are over noise, its music files hold
sentences); nothing is tuned on it.

Run (from the repo root, after `real_set.py --extract /work/real-raw` and
`fresh_set.py --extract /work/fresh-raw`):
    .venv/bin/python bench/words_music.py /work/real-raw /work/fresh-raw   # bench/out/words-music/
    .venv/bin/python bench/bench_real.py --set bench/out/words-music --per-file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from real_set import HOP, RATE, Pool, bed, emptied, load, power, short, speech_track, write

OUT = Path(__file__).resolve().parent / "out" / "words-music"
SEED = 7


def build(real_raw: Path, fresh_raw: Path) -> None:
    rng = np.random.default_rng(SEED)
    emptied(OUT)
    pool = Pool(real_raw, rng)
    pool.add("libri", pool.files("resemble-ai/Resemblyzer", "audio_data/**/*.flac"))
    pool.add("words", pool.files("vinsis/speech-commands-recognition", "*/*/*.wav"))
    pool.add("digits", pool.files("Jakobovski/free-spoken-digit-dataset", "recordings/*.wav"))
    music = {
        short(p.name): load(p)
        for p in pool.files("librosa/data", "audio/*.hq.ogg")
        if p.stat().st_size > 1000
    }
    music = {k: v for k, v in music.items() if len(v) > 20 * RATE and k != "humpback"}
    musan = load(sorted((fresh_raw / "ina-foss+inaSpeechSegmenter").glob("**/musanmix.wav"))[0])
    music["musan-music"] = musan[: int(22.4 * RATE)]
    music["beat"] = load(sorted((fresh_raw / "tyiannak+pyAudioAnalysis").glob("**/data/beat/small.wav"))[0])
    index = []
    for name, piece in music.items():
        for snr in (0.0, 5.0, 10.0):
            clean, spans, _ = speech_track(pool, ["words", "digits"], 40, rng)
            noise = bed(piece, len(clean), rng)
            gain = np.sqrt(power(clean, spans) / (power(noise) * 10 ** (snr / 10)))
            file = f"{name}-{int(snr)}.wav"
            write(file, clean + gain * noise, OUT)
            utterances = [[round(a * HOP / RATE, 2), round(b * HOP / RATE, 2)] for a, b in spans]
            index.append(
                {"file": file, "kind": "words-music", "snr_db": snr, "seconds": round(len(clean) / RATE, 2)}
                | {"utterances": utterances}
            )
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"{len(index)} files, {sum(len(e['utterances']) for e in index)} words in {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(Path(sys.argv[1]), Path(sys.argv[2]))

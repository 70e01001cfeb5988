"""Grid search of the Silero confirmation's settings (accentds.confirm: `low` is
confirm_threshold, `sure` silero_threshold, `drop_below` min_clip_prob), on the real set
and/or the generated scenes.

webrtcvad flags, Silero probabilities and frame energies are computed once per file (and
cached in bench/out/); each setting then only re-runs the pure parts (accentds.confirm and
the segmenter), so a grid of a few hundred settings takes a minute.

Run: .venv/bin/python bench/tune_confirm.py [--real] [--scenes SEED] [--top 15]
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from score import Score, score  # noqa: E402

from accentds.confirm import confirm  # noqa: E402
from accentds.silero import SileroDetector  # noqa: E402
from accentds.vad import Segmenter, WebrtcDetector, power_db  # noqa: E402

OUT = ROOT / "bench" / "out"
FRAME_S = 0.03


def frames_of(pcm: bytes) -> dict[str, np.ndarray]:
    pcm = pcm[: len(pcm) // 960 * 960]
    vad, power, _ = WebrtcDetector(2, 16000, 30).detect(pcm)
    probs = SileroDetector(0.5, 16000, 30).analyse(pcm)[1]
    return {"vad": np.array(vad), "probs": probs, "db": power_db(power)}


def load_real(index: Path) -> list[dict]:
    cache = OUT / "tune-real.pkl"
    if cache.exists() and cache.stat().st_mtime > index.stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    items = []
    for entry in json.loads(index.read_text()):
        with wave.open(str(index.parent / entry["file"])) as w:
            pcm = w.readframes(w.getnframes())
        items.append({**entry, **frames_of(pcm), "truth": [tuple(u) for u in entry["utterances"]]})
    cache.write_bytes(pickle.dumps(items))
    return items


def load_scenes(seed: int) -> list[dict]:
    cache = OUT / f"tune-scenes-{seed}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from bench_accuracy import scenes

    items = []
    for scene in scenes(seed, 1.0):
        items.append(
            {
                "file": scene.kind,
                "kind": scene.kind,
                "seconds": scene.seconds,
                "truth": list(scene.utterances),
                **frames_of(scene.pcm16().tobytes()),
            }
        )
    cache.write_bytes(pickle.dumps(items))
    return items


def clips(item: dict, low: float, sure: float, drop_below: float, min_clip: float) -> list:
    kept = confirm(item["vad"], item["probs"], low, sure)
    seg = Segmenter(30, 200, 400, min_clip, 15.0)
    found = seg.push(kept, item["db"]) + seg.finish()
    out = []
    for c in found:
        if item["probs"][c.start : c.end].max(initial=0.0) >= drop_below:
            out.append((c.start * FRAME_S, c.end * FRAME_S))
    return out


def evaluate(items: list[dict], **params: float) -> dict[str, float]:
    total, worst, lossy, none_s, none_clip = Score(), 0.0, 0, 0.0, 0.0
    for item in items:
        found = clips(item, **params)
        one = score(found, item["truth"], item["seconds"])
        if not item["truth"]:
            none_s += item["seconds"]
            none_clip += one.clip_s
            continue
        total += one
        loss = one.fn_all / max(1, one.tp_all + one.fn_all)
        worst = max(worst, loss)
        lossy += loss > 0.10
    return {
        "P": total.precision,
        "R": total.recall,
        "F1": total.f1,
        "utt": total.coverage,
        "worst": worst,
        "lossy": lossy,
        "nospeech": none_clip / none_s if none_s else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--real", type=Path, help="the real set's index.json")
    parser.add_argument("--scenes", type=int, help="bench_accuracy scene seed")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    sets = {}
    if args.real:
        sets["real"] = load_real(args.real)
    if args.scenes is not None:
        sets[f"scenes {args.scenes}"] = load_scenes(args.scenes)
    grid = {
        "low": [0.1, 0.15, 0.2, 0.25, 0.3],
        "sure": [0.5, 1.1],
        "drop_below": [0.0, 0.25, 0.3, 0.35, 0.4, 0.5],
        "min_clip": [0.3],
    }
    rows = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        rows.append((params, {name: evaluate(items, **params) for name, items in sets.items()}))
    first = next(iter(sets))
    rows.sort(key=lambda r: -r[1][first]["utt"] - r[1][first]["F1"] + 10 * (r[1][first]["R"] < 0.98))
    for params, results in rows[: args.top]:
        text = " ".join(f"{k}={v:g}" for k, v in params.items())
        for name, r in results.items():
            text += (
                f" | {name}: P {r['P']:.3f} R {r['R']:.3f} F1 {r['F1']:.3f} utt {r['utt']:.3f} "
                f"worst {r['worst']:.2f} lossy {r['lossy']} none {r['nospeech']:.3f}"
            )
        print(text)


if __name__ == "__main__":
    main()

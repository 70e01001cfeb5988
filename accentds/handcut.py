"""Clips cut by hand from a stretch of a source, and how they outlast automatic cuts.

manifests/bounds.csv (tracked) holds every clip made by hand (accentds.bounds): its source,
start and end, and the region of the source the edit decided (the old clip's span with the
new one). A later cut of that source (other settings, `--force`) keeps those clips as they
are and trims its own clips to the parts outside the regions, dropping parts shorter than
`min_clip_s`: what a person cut out of a clip stays out."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import soundfile

from . import fingerprints, quality
from .config import VadSettings
from .errors import AccentdsError
from .files import damaged, now_iso, read_csv, write_csv_atomic
from .media import BYTES_PER_SAMPLE, MediaError, excerpt_command, write_wav
from .mix import decoding
from .models import Clip, Source, clip_id
from .procs import dies_with_us
from .vad import make_detector

BOUNDS_NAME = "bounds.csv"
BOUNDS_FIELDS = ["source_id", "start", "end", "region_start", "region_end", "why", "reviewer", "edited_at"]
MARGIN_S = 0.5  # decoded beyond a span, to align it
REACH_S = 0.1  # how far a decode after a seek may be off the timeline
SETTING_FIELDS = (
    "settings_id", "vad_aggressiveness", "vad_frame_ms", "vad_padding_ms",
    "vad_merge_gap_ms", "vad_min_clip_s", "vad_max_clip_s",
)  # fmt: skip


@dataclass(frozen=True)
class HandClip:
    """One clip made by hand (a row of manifests/bounds.csv), in source seconds."""

    source_id: str
    start: float
    end: float
    region_start: float  # the stretch of the source this edit decided
    region_end: float
    why: str = ""
    reviewer: str = ""
    edited_at: str = ""


def read_hand_clips(path: Path) -> list[HandClip]:
    """The hand-made clips recorded in a bounds.csv (none if it is missing)."""
    found = []
    for line, row in enumerate(read_csv(path), start=2):
        try:
            found.append(
                HandClip(
                    source_id=row["source_id"],
                    start=float(row["start"]),
                    end=float(row["end"]),
                    region_start=float(row["region_start"]),
                    region_end=float(row["region_end"]),
                    why=row.get("why") or "",
                    reviewer=row.get("reviewer") or "",
                    edited_at=row.get("edited_at") or "",
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged(path, f"bad value {exc}", line) from None
    return found


def write_hand_clips(path: Path, rows: list[HandClip]) -> None:
    """Write bounds.csv rows atomically, by source and start."""
    out = []
    for row in sorted(rows, key=lambda r: (r.source_id, r.start)):
        values = asdict(row)
        for name in ("start", "end", "region_start", "region_end"):
            values[name] = f"{values[name]:.3f}"
        out.append(values)
    write_csv_atomic(path, BOUNDS_FIELDS, out)


# -- cutting one stretch of a source ----------------------------------------------------
def source_pcm(ffmpeg: str, media: Path, rate: int, start: float, end: float, partial: bool = False) -> bytes:
    """Mono s16le PCM of `media` from `start` to `end` seconds, decoded after a seek: for
    some formats (AAC, Opus) a few ms off the timeline `cut` reads (see `exact_pcm`). Past
    the end of the audio it is an error, or with `partial` the part there is."""
    command = excerpt_command(ffmpeg, media, rate, start, end - start, decoding(media, ffmpeg))
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL, preexec_fn=dies_with_us()
        )
    except subprocess.TimeoutExpired:
        raise MediaError(f"ffmpeg took too long to decode {media.name}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"ffmpeg could not decode {media.name}: {reason[-1] if reason else 'no message'}")
    wanted = round(end * rate) - round(start * rate)
    if not partial and len(done.stdout) // BYTES_PER_SAMPLE < wanted - rate // 100:  # 10 ms short
        raise _past_end(end, start + len(done.stdout) / BYTES_PER_SAMPLE / rate)
    return done.stdout[: wanted * BYTES_PER_SAMPLE]


def _past_end(end: float, audio_end: float) -> AccentdsError:
    return AccentdsError(f"{end:.3f} s is outside the source: its audio ends at {audio_end:.3f} s")


def read_samples(path: Path) -> np.ndarray:
    """A clip file's samples (mono int16)."""
    data, _ = soundfile.read(str(path), dtype="int16", always_2d=False)
    return data


def _sliding(values: np.ndarray, size: int) -> np.ndarray:
    """The sums of each `size` consecutive values."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    return total[size:] - total[:-size]


def _align(excerpt: np.ndarray, ref: np.ndarray, expected: int, reach: int, rate: int) -> int:
    """Where in `excerpt` `ref` begins: the offset within `reach` of `expected` where its
    loudest second matches best (normalised cross-correlation); `expected` if none does."""
    size = min(len(ref), rate)
    step = max(1, rate // 4)
    energy = _sliding(ref.astype(np.float64) ** 2, size)[::step]
    first = int(np.argmax(energy)) * step if len(energy) else 0
    seg = ref[first : first + size].astype(np.float64)
    lo = max(0, expected + first - reach)
    hi = min(len(excerpt) - size, expected + first + reach)
    if hi < lo or not seg.any():
        return expected
    window = excerpt[lo : hi + size].astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(window) + size)))
    corr = np.fft.irfft(np.fft.rfft(window, n) * np.conj(np.fft.rfft(seg, n)), n)[: hi - lo + 1]
    power = _sliding(window**2, size)[: hi - lo + 1]
    score = corr / np.sqrt(power * float(seg @ seg) + 1e-9)
    best = int(np.argmax(score))
    return lo + best - first if score[best] > 0.8 else expected


def exact_pcm(
    ffmpeg: str,
    media: Path,
    rate: int,
    start: float,
    end: float,
    refs: Sequence[tuple[float, Path]],
    partial: bool = False,
) -> bytes:
    """Mono s16le PCM of the source from `start` to `end` on the timeline `cut` decodes.

    `refs` are clips of the source cut before, (start s, file): their samples are on that
    timeline. A span inside one is sliced from it; otherwise a decode after a seek (up to
    23 ms off for AAC, 12 ms for Opus, here) is aligned to the one overlapping the span
    most; with none, the decode is taken as it is. With `partial`, a span running past the
    end of the audio gives what there is."""
    a, b = round(start * rate), round(end * rate)
    best: tuple[int, int, np.ndarray] | None = None
    for ref_start, path in refs:
        r0 = round(ref_start * rate)
        if not path.is_file():
            continue
        samples = read_samples(path)
        if r0 <= a and b <= r0 + len(samples):
            return samples[a - r0 : b - r0].astype("<i2").tobytes()
        overlap = min(b, r0 + len(samples)) - max(a, r0)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, r0, samples)
    if best is None:
        return source_pcm(ffmpeg, media, rate, start, end, partial)
    _, r0, ref = best
    lo = max(0.0, min(start, r0 / rate) - MARGIN_S)
    hi = max(end, (r0 + len(ref)) / rate) + MARGIN_S
    excerpt = np.frombuffer(source_pcm(ffmpeg, media, rate, lo, hi, partial=True), "<i2")
    k = _align(excerpt, ref, r0 - round(lo * rate), round(REACH_S * rate), rate)
    first = k - r0 + a  # where sample `a` of the timeline is in the excerpt
    if first < 0 and lo == 0.0:
        # decoded from the source's start, the audio begins a few ms into the timeline (Opus):
        # the cut's timeline holds silence there
        excerpt = np.concatenate([np.zeros(-first, "<i2"), excerpt])
        k, first = k - first, 0
    if first < 0:
        raise AccentdsError(f"cannot decode the source at {start:.3f} s: pull it again")
    if first + (b - a) > len(excerpt) and not partial:
        raise _past_end(end, (len(excerpt) - k + r0) / rate)
    return excerpt[first : first + b - a].tobytes()


def _level_db(value: float) -> float:
    return round(20 * float(np.log10(max(value, 1e-6))), 2)


def make_clip(
    root: Path,
    source_id: str,
    start: float,
    end: float,
    pcm: bytes,
    vad: VadSettings,
    settings: dict[str, Any],
    write: bool = True,
) -> tuple[Clip, bytes]:
    """A clip record of `pcm` (the source from `start` to `end`), with its hints measured on
    the clip alone, and its fingerprint; the WAV file is written (atomically) if `write`."""
    rate = vad.sample_rate
    cid = clip_id(source_id, start, end)
    path = f"clips/{source_id}/{cid}.wav"
    duration = len(pcm) / BYTES_PER_SAMPLE / rate
    if write:
        (root / "clips" / source_id).mkdir(parents=True, exist_ok=True)
        duration = write_wav(root / path, pcm, rate)
    samples = np.frombuffer(pcm, "<i2")
    wide = samples.astype(np.int32)
    power = float(np.mean(wide.astype(np.float64) ** 2)) / 32768.0**2 if len(samples) else 0.0
    peak = int(np.abs(wide).max()) if len(samples) else 0
    frame_bytes = rate * vad.frame_ms // 1000 * BYTES_PER_SAMPLE
    whole = pcm[: len(pcm) // frame_bytes * frame_bytes]
    flags = make_detector(vad).detect(whole)[0] if whole else []
    prob = None
    if "silero" in vad.backend and whole:
        from .silero import SileroDetector

        detector = SileroDetector(
            vad.silero_threshold, rate, vad.frame_ms, vad.silero_model or None, vad.silero_max_gain_db
        )
        prob = round(float(np.max(detector.frame_probs(whole), initial=0.0)), 3)
    hints = quality.measure(samples, rate, peak=peak)
    clip = Clip(
        clip_id=cid,
        source_id=source_id,
        start=start,
        end=end,
        duration=duration,
        path=path,
        **{name: settings[name] for name in SETTING_FIELDS},
        rms_dbfs=_level_db(power**0.5),
        peak_dbfs=_level_db(peak / 32768.0),
        speech_ratio=round(sum(flags) / len(flags), 4) if flags else 0.0,
        cut_at=now_iso(),
        snr_db=hints.snr_db,
        lufs=hints.lufs,
        clipping_ratio=hints.clipping_ratio,
        bandwidth_hz=hints.bandwidth_hz,
        speech_prob=prob,
    )
    return clip, fingerprints.fingerprint(samples, rate).astype("<u4").tobytes()


def settings_of(vad: VadSettings) -> dict[str, Any]:
    """The VAD settings columns of a clip cut with `vad`."""
    return {
        "settings_id": vad.settings_id,
        "vad_aggressiveness": vad.aggressiveness,
        "vad_frame_ms": vad.frame_ms,
        "vad_padding_ms": vad.padding_ms,
        "vad_merge_gap_ms": vad.merge_gap_ms,
        "vad_min_clip_s": vad.min_clip_s,
        "vad_max_clip_s": vad.max_clip_s,
    }


def ms(seconds: float) -> float:
    """Seconds rounded to the millisecond (clip ids count milliseconds)."""
    return round(float(seconds) * 1000) / 1000


# -- keeping hand edits through a cut ---------------------------------------------------
def _outside(start: float, end: float, regions: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of start–end outside every region (regions sorted and merged)."""
    parts, at = [], start
    for a, b in regions:
        if b <= at or a >= end:
            continue
        if a > at:
            parts.append((at, a))
        at = max(at, b)
    if at < end:
        parts.append((at, end))
    return parts


def _merged(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def apply_hand_clips(
    root: Path, source: Source, result: Any, vad: VadSettings, ffmpeg: str, write: bool
) -> Any:
    """A finished cut of `source` (a `cut.SourceCut`) with the hand edits of bounds.csv
    applied: the hand-made clips as they are, the cut's clips trimmed to the parts outside
    the regions the edits decided (parts shorter than `min_clip_s` dropped). Runs in the
    cut's worker; files of the cut's clips it drops are removed unless a manifest row
    names them (then the commit retires them)."""
    hand = [h for h in read_hand_clips(root / "manifests" / BOUNDS_NAME) if h.source_id == source.source_id]
    if not hand or not result.ok:
        return result
    from .cut import _drafts

    regions = _merged([(h.region_start, h.region_end) for h in hand])
    listed: set[str] = set()
    parquet = root / "manifests" / "clips.parquet"
    if write and parquet.exists():
        listed = set(pq.read_table(parquet, columns=["path"])["path"].to_pylist())
    prints = list(result.fingerprints)
    dropped: list[Path] = []  # files of the cut's clips it does not keep, removed once used
    keep: list[tuple[Clip, bytes | None]] = []
    pieces: list[tuple[float, float]] = [(h.start, h.end) for h in hand]
    for k, clip in enumerate(result.clips):
        parts = _outside(clip.start, clip.end, regions)
        if parts == [(clip.start, clip.end)]:
            keep.append((clip, prints[k] if prints else None))
            continue
        pieces += [(ms(a), ms(b)) for a, b in parts if b - a >= vad.min_clip_s]
        if write and clip.path not in listed:
            dropped.append(root / clip.path)
    media = root / source.media
    # on the cut's timeline: the clips this cut wrote, and the hand-made clips' files as they are
    refs = [(c.start, root / c.path) for c in result.clips] if write else []
    refs += [
        (h.start, root / f"clips/{source.source_id}/{clip_id(source.source_id, h.start, h.end)}.wav")
        for h in hand
    ]
    made = []
    for a, b in sorted(pieces):
        pcm = exact_pcm(ffmpeg, media, vad.sample_rate, a, b, refs)
        made.append(make_clip(root, source.source_id, a, b, pcm, vad, settings_of(vad), write))
    made_paths = {root / c.path for c, _ in made}
    for path in dropped:
        if path not in made_paths:
            path.unlink(missing_ok=True)
    combined = sorted([*keep, *made], key=lambda pair: pair[0].start)
    kept_ids = {c.clip_id for c, _ in keep}
    drafts = [d for d in result.drafts if d[0] in kept_ids]
    if write:
        drafts += _drafts(root, source, [c for c, _ in made])
    return replace(
        result,
        clips=tuple(c for c, _ in combined),
        fingerprints=tuple(f for _, f in combined)
        if write and all(f is not None for _, f in combined)
        else (),
        drafts=tuple(drafts),
    )

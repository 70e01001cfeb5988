"""`accentds doctor`: check every manifest against the files and rebuild what can be rebuilt.

It repairs a torn label journal, rebuilds clips.parquet from the clip files and cuts.csv
when it is damaged or gone, cuts a clip whose file is gone again from its source (where the
source media is gone too, drops the source's rows: the next `accentds cut` re-cuts it once
pulled again; one never pulled here, as in a git clone, keeps them for `accentds pull`), deletes clip files no row names, and rewrites the joined manifest, labels.csv
and duplicates.csv."""

from __future__ import annotations

import math
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import soundfile

from . import quality
from .cut import CLIP_FILE, is_clip_file, sweep
from .cut_commit import find_duplicates
from .errors import AccentdsError, DamagedManifest
from .handcut import BOUNDS_NAME, read_hand_clips
from .media import BYTES_PER_SAMPLE, find_ffmpeg, pcm_stream, write_wav
from .models import Clip
from .views import write_manifest
from .words import counted
from .workspace import Workspace


@dataclass
class Checkup:
    """What doctor found: `fixed` it repaired, `problems` it could not."""

    fine: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _level_db(value: float) -> float:
    return round(20 * math.log10(max(value, 1e-6)), 2)


def clips_from_files(workspace: Workspace) -> list[Clip]:
    """Clip rows measured again from the WAV files under clips/ (start and end from their
    names, the VAD settings from accentds.toml, the cut's settings id from cuts.csv)."""
    vad = workspace.config.vad
    cuts = workspace.read_cuts()
    clips = []
    for path in sorted(workspace.clips.glob("*/*.wav")):
        named = CLIP_FILE.match(path.name)
        if not named or named["source"] != path.parent.name:
            continue
        try:
            samples, rate = soundfile.read(str(path), dtype="int16")
        except (RuntimeError, soundfile.LibsndfileError):
            continue  # not a whole WAV: the sweep removes it
        samples = np.asarray(samples if samples.ndim == 1 else samples[:, 0])
        hints = quality.measure(samples, rate)
        power = float(np.mean(samples.astype(np.float64) ** 2)) if len(samples) else 0.0
        peak = int(np.abs(samples.astype(np.int32)).max()) if len(samples) else 0
        record = cuts.get(path.parent.name)
        clips.append(
            Clip(
                clip_id=path.stem,
                source_id=path.parent.name,
                start=int(named["start"]) / 1000,
                end=int(named["end"]) / 1000,
                duration=len(samples) / rate,
                path=workspace.rel(path),
                settings_id=record.settings_id if record else vad.settings_id,
                vad_aggressiveness=vad.aggressiveness,
                vad_frame_ms=vad.frame_ms,
                vad_padding_ms=vad.padding_ms,
                vad_merge_gap_ms=vad.merge_gap_ms,
                vad_min_clip_s=vad.min_clip_s,
                vad_max_clip_s=vad.max_clip_s,
                rms_dbfs=_level_db(math.sqrt(power) / 32768.0),
                peak_dbfs=_level_db(peak / 32768.0),
                speech_ratio=None,  # type: ignore[arg-type]  # only the cut knows these
                cut_at=record.cut_at if record else "",
                snr_db=hints.snr_db,
                lufs=hints.lufs,
                clipping_ratio=hints.clipping_ratio,
                bandwidth_hz=hints.bandwidth_hz,
                speech_prob=None,  # type: ignore[arg-type]
            )
        )
    return clips


def remake_missing(workspace: Workspace) -> int:
    """Cut each clip whose file is gone again from its source media, at the start and end
    its row holds, so its row and labels stay as they are. Returns how many it made; a
    source whose media is gone or does not decode is left to the caller.

    Each source is decoded from its start, as `cut` decodes it, up to the end of its last
    missing clip: after a seek, AAC and Opus decode a few samples (or milliseconds) off that
    timeline, so a clone's clips would differ from the ones published from the first copy."""
    rows = workspace.read_clip_table(columns=["source_id", "start", "end", "path"]).to_pylist()
    media = {s.source_id: workspace.abs(s.media) for s in workspace.read_sources() if s.media}
    rate = workspace.config.vad.sample_rate
    missing: dict[str, list[tuple[int, int, Path]]] = defaultdict(list)
    for row in rows:
        path = workspace.abs(row["path"])
        if not path.is_file():
            missing[row["source_id"]].append((round(row["start"] * rate), round(row["end"] * rate), path))
    if not missing:
        return 0
    ffmpeg = find_ffmpeg(workspace.config.ffmpeg)
    made = 0
    for sid, spans in missing.items():
        if sid in media and media[sid].is_file():
            made += _remake_spans(ffmpeg, media[sid], rate, sorted(spans, key=lambda s: (s[0], s[1])))
    return made


class _Enough(Exception):
    """Every span is written: ends the decode (pcm_stream stops ffmpeg)."""


def _remake_spans(ffmpeg: str, media: Path, rate: int, spans: list[tuple[int, int, Path]]) -> int:
    """Write each span (first sample, end sample, file; sorted by start) of `media`'s audio
    on the timeline `cut` reads, decoding it once from its start. Returns how many it wrote
    before the audio ended or failed to decode (a file changed since it was cut)."""
    width = BYTES_PER_SAMPLE
    buffer, first, done = bytearray(), 0, 0  # `first`: the sample buffer[0] holds
    with suppress(_Enough, AccentdsError), pcm_stream(media, ffmpeg, rate) as chunks:
        for chunk in chunks:
            buffer += chunk
            while done < len(spans) and first + len(buffer) // width >= spans[done][1]:
                a, b, path = spans[done]
                path.parent.mkdir(parents=True, exist_ok=True)
                write_wav(path, bytes(buffer[(a - first) * width : (b - first) * width]), rate)
                done += 1
            if done == len(spans):
                raise _Enough  # the rest of the source is not needed
            drop = max(0, min(spans[done][0] - first, len(buffer) // width))
            del buffer[: drop * width]
            first += drop
    return done


def _never_pulled_here(workspace: Workspace) -> set[str]:
    """Sources whose raw/ folder does not exist: pulled in another clone of the workspace
    (raw/ is not in git), not lost here."""
    return {s.source_id for s in workspace.read_sources() if not workspace.abs(s.media).parent.exists()}


def doctor(workspace: Workspace) -> Checkup:
    """Check and repair the workspace (holding the cut lock, so no cut runs meanwhile). A
    manifest it cannot rebuild (sources.csv, bounds.csv, ...) stops it, named with its line."""
    try:
        return _doctor(workspace)
    except DamagedManifest as exc:
        raise AccentdsError(
            f"{exc.where} cannot be read ({exc.why}), and doctor cannot rebuild it: restore it from git "
            f"(`git checkout -- manifests/{exc.name}`) or mend it by hand, then run `accentds doctor` again"
        ) from None


def _doctor(workspace: Workspace) -> Checkup:
    up = Checkup()
    with workspace.cut_lock(), workspace.lock():
        cut_off = workspace.journal().repair() if workspace.labels_journal.exists() else 0
        if cut_off:
            up.fixed.append(f"labels.jsonl: cut off a torn last line ({cut_off} bytes of an unsaved change)")
        try:
            changes = len(workspace.journal().transactions())
            up.fine.append(f"labels.jsonl: {counted(changes, 'recorded change')}")
        except AccentdsError as exc:
            up.problems.append(str(exc))
        workspace.read_sources(), workspace.read_cuts()  # kept by hand: a bad line stops doctor, named
        read_hand_clips(workspace.manifests / BOUNDS_NAME)
        try:
            table = workspace.read_clip_table(columns=["clip_id", "source_id", "path"])
            up.fine.append(f"clips.parquet: {counted(table.num_rows, 'clip')}")
        except AccentdsError as exc:
            clips = clips_from_files(workspace)
            workspace.write_clips(clips)
            up.fixed.append(f"{exc}; rebuilt it from {counted(len(clips), 'clip file')}")
            table = workspace.read_clip_table(columns=["clip_id", "source_id", "path"])
        present = [workspace.abs(p).is_file() for p in table["path"].to_pylist()]
        if not all(present):
            remade = remake_missing(workspace)
            if remade:
                up.fixed.append(
                    f"clips/: {remade} clip file(s) were gone; cut them again from their sources "
                    "(same start, end and labels)"
                )
            present = [workspace.abs(p).is_file() for p in table["path"].to_pylist()]
        missing = table.filter(pc.invert(np.asarray(present, dtype=bool)))
        waiting = sorted(set(missing["source_id"].to_pylist()) & _never_pulled_here(workspace))
        if waiting:  # a clone: their rows wait for `accentds pull`, which cuts the files again
            up.fine.append(
                f"clips/: the clip files of {len(waiting)} source(s) never pulled here (a clone without audio?) "
                "stay listed in clips.parquet: `accentds pull` of the same files or URLs cuts them again"
            )
        lost = missing.filter(pc.invert(pc.is_in(missing["source_id"], pa.array(waiting, pa.string()))))
        if lost.num_rows:
            sources = sorted(set(lost["source_id"].to_pylist()))
            kept = [c for c in workspace.read_clips() if c.source_id not in sources]
            workspace.write_clips(kept)
            cuts = workspace.read_cuts()
            workspace.write_cuts({sid: rec for sid, rec in cuts.items() if sid not in sources})
            up.fixed.append(
                f"clips.parquet: {lost.num_rows} row(s) had no file; their {len(sources)} source(s) "
                "are marked uncut: run `accentds cut` to cut them again (labels come back with their clips)"
            )
        removed = sweep(workspace)
        if removed:
            up.fixed.append(
                f"clips/ and manifests/: removed {counted(removed, 'file')} no row names (left by killed runs)"
            )
        others = [p for p in workspace.clips.rglob("*") if p.is_file() and not is_clip_file(p)]
        others = [workspace.rel(p) for p in others if not p.name.startswith(".")]
        if others:
            listed = ", ".join(sorted(others)[:5]) + (" ..." if len(others) > 5 else "")
            up.fine.append(
                f"clips/: left alone {len(others)} file(s) accentds did not write ({listed}): "
                "keep your own files outside clips/"
            )
        find_duplicates(workspace)
        write_manifest(workspace)
        up.fine.append("views: rebuilt manifest.parquet, manifest.csv, labels.csv and duplicates.csv")
        up.problems.extend(workspace.notices)
        missing_raw = [s.source_id for s in workspace.read_sources() if not workspace.abs(s.media).is_file()]
        if missing_raw:
            up.fine.append(
                f"raw/: {len(missing_raw)} source(s) without their media here (a clone without audio?): "
                "they cannot be re-cut until pulled again"
            )
    return up

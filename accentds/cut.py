"""Cut sources into clips: stream PCM from ffmpeg through the speech finder
(accentds.finder), write WAV clips with their hints, commit.

A worker writes clip files (each atomically) and returns their records; the parent process
commits them to the manifests under the workspace lock and only then deletes the files the
new cut no longer uses. A crash at any point leaves every manifest row with its file."""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import fingerprints, quality
from .captions import drafts_for_clips
from .config import VadSettings
from .cut_commit import WouldOrphan, commit_cut, find_duplicates
from .cut_run import Progress, reporter, run_all
from .errors import AccentdsError, disk_full
from .files import now_iso, pid_alive
from .finder import SpeechFinder, no_speech_warning
from .media import BYTES_PER_SAMPLE, MediaError, find_ffmpeg, pcm_stream, short_of_header, write_wav
from .mix import FIRST_CHANNEL, decoding, other_streams_note
from .models import Clip, Source, clip_id, pull_command
from .procs import signals_held
from .vad import FrameClip
from .views import refresh_manifest, write_manifest
from .workspace import Workspace


@dataclass(frozen=True)
class SourceCut:
    """The outcome of cutting one source."""

    source_id: str
    ok: bool
    clips: tuple[Clip, ...] = ()
    audio_s: float = 0.0
    reason: str = ""  # why it failed
    warning: str = ""  # what a user should know of a cut that did not fail (no speech, truncated)
    dry_run: bool = False
    drafts: tuple[tuple[str, str, str], ...] = ()  # (clip id, draft transcript, "manual" | "auto")
    drops: tuple[tuple[float, float, str], ...] = ()  # (start s, end s, reason) of speech not kept
    labels_moved: int = 0  # clips of an earlier cut whose labels moved to a new clip of this one
    fingerprints: tuple[bytes, ...] = ()  # each clip's (`fingerprints.fingerprint`) as little-endian uint32

    @property
    def kept_s(self) -> float:
        return sum(c.duration for c in self.clips)

    @property
    def dropped_s(self) -> float:
        """All audio no clip holds, silence and pauses included ("not kept"; `drops` is the
        part of it the VAD heard as speech)."""
        return max(0.0, self.audio_s - self.kept_s)


@dataclass
class CutPlan:
    """Which sources a cut run takes, and which it leaves because they are up to date."""

    todo: list[Source]
    up_to_date: list[Source] = field(default_factory=list)


def _level_db(value: float) -> float:
    return round(20 * math.log10(max(value, 1e-6)), 2)


def cut_source(
    root: str,
    source: Source,
    vad: VadSettings,
    ffmpeg: str,
    write: bool = True,
    slot: int = -1,
    progress: Progress | None = None,
) -> SourceCut:
    """Cut one source (runs in a worker process). Never raises for a bad source.

    The seconds of its audio cut so far go to `progress`, or in a worker of `run_all` to its
    `slot` of the run's shared progress."""
    progress = progress or reporter(slot)
    if not (Path(root) / source.media).is_file():  # deleted to save space, or a clone without audio
        return SourceCut(
            source.source_id,
            ok=False,
            reason=f"its media {source.media} is missing: pull it again (`{pull_command([source])}`)",
        )
    folder = Path(root) / "clips" / source.source_id
    before = set(folder.glob("*.wav")) if folder.is_dir() else set()
    try:
        from .handcut import apply_hand_clips  # clip boundaries set by hand stay as they were set

        result = _cut_source(Path(root), source, vad, ffmpeg, write, progress)
        return apply_hand_clips(Path(root), source, result, vad, ffmpeg, write)
    except (MediaError, OSError) as exc:
        if write and folder.is_dir():  # files this failed run wrote have no row: remove them
            for path in set(folder.glob("*.wav")) - before:
                path.unlink(missing_ok=True)
        if isinstance(exc, MediaError):
            return SourceCut(source.source_id, ok=False, reason=str(exc))
        reason = exc.strerror or str(exc)
        reason += f": {exc.filename}" if exc.filename else ""
        if disk_full(exc):
            reason += "; free some space and run `accentds cut` again"
        return SourceCut(source.source_id, ok=False, reason=reason)


def _cut_source(
    root: Path, source: Source, vad: VadSettings, ffmpeg: str, write: bool, progress: Progress | None
) -> SourceCut:
    rate, frame_ms = vad.sample_rate, vad.frame_ms
    finder = SpeechFinder(vad)
    frame_bytes = finder.frame_bytes
    frame_samples = frame_bytes // BYTES_PER_SAMPLE
    settings_id = vad.settings_id
    out_dir = root / "clips" / source.source_id
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
        for leftover in out_dir.glob("*.part"):
            leftover.unlink(missing_ok=True)
    cut_at = now_iso()
    clips: list[Clip] = []
    buffer = bytearray()
    buffer_start = 0  # frame index of buffer[0]
    powers = array("d")  # per frame from buffer_start, for clip levels
    peaks = array("i")

    spans: list[tuple[int, int]] = []
    prints: list[bytes] = []  # each clip's fingerprint

    speech_until = [0]  # the frame after the last speech frame of the clips so far

    def emit(found: list[FrameClip]) -> None:
        for fc in found:
            spans.append((fc.start, fc.end))
            speech_until[0] = fc.start + fc.flags.rfind(1) + 1 if fc.flags else fc.end
            start, end = fc.start * frame_ms / 1000, fc.end * frame_ms / 1000
            cid = clip_id(source.source_id, start, end)
            lo = (fc.start - buffer_start) * frame_bytes
            pcm = memoryview(buffer)[lo : lo + (fc.end - fc.start) * frame_bytes]
            frames = fc.end - fc.start
            first = fc.start - buffer_start
            frame_powers = np.frombuffer(powers, np.float64, frames, first * powers.itemsize)
            power = frame_powers.mean()
            peak = max(peaks[first : first + frames])
            duration = len(pcm) / BYTES_PER_SAMPLE / rate
            if write:  # measured from the file written
                duration = write_wav(out_dir / f"{cid}.wav", pcm, rate)
            samples = np.frombuffer(pcm, "<i2")
            blocks = finder.spectra.span(fc.start * frame_samples, fc.end * frame_samples)
            hints = quality.measure(samples, rate, blocks, peak, finder.noise(fc), fc.speech())
            if write:
                prints.append(fingerprints.fingerprint(samples, rate).astype("<u4").tobytes())
            del samples, frame_powers  # views: the buffers below must stay resizable
            pcm.release()
            clips.append(
                Clip(
                    clip_id=cid,
                    source_id=source.source_id,
                    start=start,
                    end=end,
                    duration=duration,
                    path=f"clips/{source.source_id}/{cid}.wav",
                    settings_id=settings_id,
                    vad_aggressiveness=vad.aggressiveness,
                    vad_frame_ms=frame_ms,
                    vad_padding_ms=vad.padding_ms,
                    vad_merge_gap_ms=vad.merge_gap_ms,
                    vad_min_clip_s=vad.min_clip_s,
                    vad_max_clip_s=vad.max_clip_s,
                    rms_dbfs=_level_db(math.sqrt(power)),
                    peak_dbfs=_level_db(peak / 32768.0),
                    speech_ratio=round(fc.speech_ratio, 4),
                    cut_at=cut_at,
                    snr_db=hints.snr_db,
                    lufs=hints.lufs,
                    clipping_ratio=hints.clipping_ratio,
                    bandwidth_hz=hints.bandwidth_hz,
                    speech_prob=finder.speech_prob(fc),
                )
            )

    total_bytes = 0
    tail = b""
    # a minute of audio at a time: each chunk costs ~1 ms of fixed steps (in the detector, the
    # acoustic check, the segmenter), so 15 s chunks took 1.09 times as long in all
    chunk_bytes = frame_bytes * 2048
    first_bytes = frame_bytes * 128  # 4 s: the work starts while ffmpeg decodes the next minute
    warnings: list[str] = []
    how = decoding(root / source.media, ffmpeg)
    try:
        with pcm_stream(root / source.media, ffmpeg, rate, chunk_bytes, first_bytes, how) as chunks:
            for chunk in chunks:
                total_bytes += len(chunk)
                if progress:
                    progress(total_bytes / BYTES_PER_SAMPLE / rate)
                if tail:
                    chunk, tail = tail + chunk, b""
                whole = len(chunk) - len(chunk) % frame_bytes
                if whole < len(chunk):
                    chunk, tail = chunk[:whole], chunk[whole:]
                if not chunk:
                    continue
                buffer += chunk
                found, power, peak = finder.feed(chunk)
                powers.frombytes(power.tobytes())
                peaks.frombytes(peak.astype(np.int32).tobytes())
                emit(found)
                drop = finder.keep_from - buffer_start
                if drop > 0:
                    del buffer[: drop * frame_bytes]
                    del powers[:drop]
                    del peaks[:drop]
                    buffer_start += drop
                    finder.forget()
            emit(finder.finish())
    except MediaError as exc:
        if not exc.decoded_s:
            raise
        if exc.went_on:  # a damaged stretch, not (only) a lost end
            warnings.append(f"{exc}: decoded on past it, cut the {exc.decoded_s:.1f} s that decode")
        else:
            warnings.append(f"{exc}: cut the first {exc.decoded_s:.1f} s, which decode")
    dropped = finder.dropped(spans)
    audio_s = total_bytes / BYTES_PER_SAMPLE / rate
    if total_bytes == 0:
        return SourceCut(source.source_id, ok=False, reason="no audio decoded")
    if not warnings and (short := short_of_header(root / source.media, ffmpeg, audio_s)):
        warnings.append(f"{short} (a truncated download?): cut what decodes")
    if warnings and clips and speech_until[0] * frame_ms / 1000 >= audio_s - frame_ms / 1000:
        last = clips[-1]  # speech up to the last frame decoded: the download stopped mid-word
        warnings.append(
            f"the last clip, {last.clip_id} (from {last.start:.1f} s), stops where the sound does"
        )
    if FIRST_CHANNEL in how.mix:
        warnings.append("its two channels cancel out in a mono mix (one is phase-inverted): cut the left one")
    if note := other_streams_note(how, root / source.media):
        warnings.append(note)
    if not clips:
        warnings.append(no_speech_warning(dropped, source.source_id))
    drafts = _drafts(root, source, clips) if write else ()
    return SourceCut(
        source.source_id,
        ok=True,
        clips=tuple(clips),
        audio_s=audio_s,
        dry_run=not write,
        drafts=drafts,
        drops=tuple(dropped),
        warning="; ".join(warnings),
        fingerprints=tuple(prints),
    )


def _drafts(root: Path, source: Source, clips: list[Clip]) -> tuple[tuple[str, str, str], ...]:
    """Draft transcripts from the source's subtitles, if it has any."""
    if not source.subtitles:
        return ()
    try:
        info = json.loads((root / "raw" / source.source_id / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    spans = [(c.clip_id, c.start, c.end) for c in clips]
    found = drafts_for_clips(root, source.subtitles, info, spans)
    return tuple((cid, text, kind) for cid, (text, kind) in found.items())


def plan_cut(
    workspace: Workspace,
    vad: VadSettings,
    source_ids: Sequence[str] = (),
    force: bool = False,
    only_stale: bool = False,
) -> CutPlan:
    """Choose the sources to cut: the ones named (with `only_stale`, those of them not yet
    cut with `vad`), or every source not yet cut with `vad`."""
    sources = workspace.read_sources()
    by_id = {s.source_id: s for s in sources}
    unknown = [sid for sid in source_ids if sid not in by_id]
    if unknown:
        raise AccentdsError(
            f"unknown source id(s): {', '.join(unknown)}; `accentds status --sources` lists them"
        )
    if source_ids and not only_stale:
        return CutPlan(todo=[by_id[sid] for sid in dict.fromkeys(source_ids)])
    cuts = workspace.read_cuts()
    plan = CutPlan(todo=[])
    for source in [by_id[sid] for sid in dict.fromkeys(source_ids)] if source_ids else sources:
        record = cuts.get(source.source_id)
        if force or record is None or record.settings_id != vad.settings_id:
            plan.todo.append(source)
        else:
            plan.up_to_date.append(source)
    return plan


CLIP_FILE = re.compile(r"^(?P<source>.+)-(?P<start>\d{8})-(?P<end>\d{8})\.wav$")


def is_clip_file(path: Path) -> bool:
    """Whether `path` is named as `cut` names a clip file (a copy or any other file is not)."""
    named = CLIP_FILE.match(path.name)
    return bool(named) and named["source"] == path.parent.name


def sweep(workspace: Workspace, source_id: str = "*") -> int:
    """Remove what killed runs left (call holding the cut lock): half-written `.part` clips,
    temp files of dead processes, and clip files no manifest row names (of one source, while
    other sources' cuts are writing theirs); a file not named as a clip is left alone.
    Returns the count."""
    listed = set(workspace.read_clip_table(columns=["path"])["path"].to_pylist())
    removed = 0
    for path in workspace.clips.glob(f"{source_id}/*"):
        stale = path.suffix == ".part" or (is_clip_file(path) and workspace.rel(path) not in listed)
        if stale and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    for path in (*workspace.manifests.glob(".*.tmp*"), *workspace.clips.glob("*/.*.tmp*")):
        pid = path.name.rsplit(".tmp", 1)[-1]
        if not pid.isdigit() or not pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def cut(
    workspace: Workspace,
    source_ids: Sequence[str] = (),
    vad: VadSettings | None = None,
    workers: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    ffmpeg: str | None = None,
    executor: Executor | None = None,
    on_start: Callable[[CutPlan], None] | None = None,
    on_result: Callable[[Source, SourceCut], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    only_stale: bool = False,
    on_progress: Progress | None = None,
) -> list[SourceCut]:
    """Cut sources into clips and record them; return one result per source cut.

    One cut at a time per workspace: a second one waits for the first (`on_wait` is told
    why), then plans anew. Results are committed one source at a time as they finish, so an
    interrupted run keeps what it finished and the next run resumes with the rest; the
    files of replaced clips are deleted only after the views stop listing them. `on_progress`
    is told the seconds of audio cut so far, of all sources together, as the run goes."""
    vad = vad or workspace.config.vad
    ffmpeg = find_ffmpeg(ffmpeg or workspace.config.ffmpeg)
    with workspace.cut_lock(on_wait):
        plan = plan_cut(workspace, vad, source_ids, force, only_stale)
        if not dry_run:  # what a killed run left, even when nothing is left to cut
            sweep(workspace)
            refresh_manifest(workspace)
        if on_start:
            on_start(plan)
        results: list[SourceCut] = []
        if not plan.todo:
            return results
        by_id = {s.source_id: s for s in plan.todo}
        root = str(workspace.root)
        unused: list[Path] = []

        def finish(result: SourceCut) -> None:
            # Ctrl-C waits for the source's manifests, and for its line: what is said is done
            with signals_held():
                if not dry_run and result.ok:
                    try:
                        files, moved = commit_cut(workspace, result, vad, allow_orphans=force)
                        unused.extend(files)
                        result = replace(result, labels_moved=moved)
                    except WouldOrphan as refused:
                        sweep(workspace, result.source_id)  # the new files of the cut not taken
                        result = replace(result, ok=False, reason=str(refused), clips=())
                results.append(result)
                if on_result:
                    on_result(by_id[result.source_id], result)

        try:
            run_all(finish, plan.todo, root, vad, ffmpeg, dry_run, workers, executor, on_progress)
        finally:
            if not dry_run and any(r.ok for r in results):
                with workspace.lock():
                    find_duplicates(workspace)
                    write_manifest(workspace)
                for path in unused:
                    path.unlink(missing_ok=True)
    return results

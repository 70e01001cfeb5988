"""The review page's boundary editor API: a clip's surrounding source audio as waveform
peaks, and saving new boundaries or a split (accentds.bounds) against the clip's version.

/wave and /wave.wav take the same window of the source (`pad` seconds each side of the
clip, within the source), aligned to the clip's own file: what the page draws, plays and
saves sits on the timeline `cut` decodes. (The app's context endpoint takes the same
window with `?pad=`, decoded after a seek: a few ms off it for some formats.)"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from ..bounds import MIN_CLIP_S, BoundsConflict, UnknownClip, bounds_csv, edit_bounds
from ..errors import AccentdsError
from ..files import read_csv
from ..handcut import exact_pcm, read_hand_clips
from ..journal import ClipLabels, fold
from ..media import BYTES_PER_SAMPLE, find_ffmpeg, wav_header
from ..workspace import Workspace

PAD_S = 3.0  # the editor's window: this much of the source each side of the clip
MAX_PAD_S = 10.0
PEAKS_PER_S = 100


class BoundsBody(BaseModel):
    """The body of a boundary save: the new start and end (seconds in the source), an
    optional split point, and the clip version the page loaded."""

    start: float
    end: float
    split_at: float | None = None
    version: int


class CutRunning(AccentdsError):
    """A cut holds the workspace's cut lock: a boundary edit waits for none."""


def window(start: float, end: float, length: float, pad: float) -> tuple[float, float]:
    """The stretch of a source (of `length` s, 0 if unknown) shown around a clip."""
    pad = min(max(pad, 0.0), MAX_PAD_S) if math.isfinite(pad) else PAD_S
    begin = max(0.0, start - pad)
    stop = end + pad
    return begin, min(stop, length) if length > 0 else stop


def source_window(
    workspace: Workspace, clip_id: str, clip: dict[str, Any], source: dict[str, str], pad: float
) -> tuple[Path, float, float] | JSONResponse:
    """A clip's source media (a file in raw/) and the stretch of it shown around the clip
    (`window`), or the error to answer."""
    media = workspace.abs(source.get("media", "")).resolve()
    if not source.get("media") or not media.is_relative_to(workspace.raw.resolve()) or not media.is_file():
        return _error(404, f"the source media of {clip_id} is not in raw/: pull the source again")
    try:
        length = float(source.get("duration") or 0)
    except ValueError:
        length = 0.0
    begin, stop = window(clip["start"], clip["end"], length, pad)
    return media, begin, stop


def peaks(pcm: bytes, rate: int, per_s: int = PEAKS_PER_S) -> list[float]:
    """The largest |sample| of each 1/per_s s of mono s16le PCM, as a fraction of full scale."""
    samples = np.frombuffer(pcm[: len(pcm) // BYTES_PER_SAMPLE * BYTES_PER_SAMPLE], "<i2")
    size = max(1, rate // per_s)
    count = -(-len(samples) // size)
    padded = np.zeros(count * size, np.int32)
    padded[: len(samples)] = np.abs(samples.astype(np.int32))
    return np.round(padded.reshape(count, size).max(axis=1) / 32768.0, 3).tolist() if count else []


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": message, **extra}, status_code=status, headers={"Cache-Control": "no-store"}
    )


def bounds_router(
    workspace: Workspace, reviewer: str, row_of: Callable[[str], dict[str, Any] | None]
) -> APIRouter:
    """The editor's endpoints; `row_of(clip_id)` gives the page's row of a clip (or None)."""
    router = APIRouter()

    def source_of(source_id: str) -> dict[str, str] | None:
        return next((r for r in read_csv(workspace.sources_csv) if r.get("source_id") == source_id), None)

    def surroundings(clip_id: str, pad: float) -> tuple[dict[str, Any], float, float, bytes] | JSONResponse:
        """The clip's row, and its window of the source (begin, stop, PCM) on the cut's
        timeline, or the error to answer."""
        table = workspace.read_clip_table(columns=["clip_id", "source_id", "start", "end", "path"])
        found = table.filter(pc.equal(table["clip_id"], clip_id)).to_pylist()
        if not found:
            return _error(404, "no such clip")
        clip = found[0]
        placed = source_window(workspace, clip_id, clip, source_of(clip["source_id"]) or {}, pad)
        if isinstance(placed, JSONResponse):
            return placed
        media, begin, stop = placed
        rate = workspace.config.vad.sample_rate
        clip_file = workspace.abs(clip["path"]).resolve()
        refs = [(clip["start"], clip_file)] if clip_file.is_relative_to(workspace.clips.resolve()) else []
        try:
            pcm = exact_pcm(
                find_ffmpeg(workspace.config.ffmpeg), media, rate, begin, stop, refs, partial=True
            )
        except AccentdsError as exc:  # its reason names the file by its name only
            return _error(502, f"{exc}: pull the source again if it is damaged")
        return clip, begin, begin + len(pcm) / BYTES_PER_SAMPLE / rate, pcm

    @router.get("/api/clip/{clip_id}/wave", response_model=None)
    def wave(clip_id: str, pad: float = PAD_S) -> JSONResponse:
        """The clip's window of its source as peaks every 10 ms, with the source's other
        clips in it and whether the clip's boundaries were set by hand."""
        found = surroundings(clip_id, pad)
        if isinstance(found, JSONResponse):
            return found
        clip, begin, stop, pcm = found
        labels = fold(workspace.journal().for_clips([clip_id]), {clip_id}).get(clip_id, ClipLabels())
        table = workspace.read_clip_table(columns=["clip_id", "source_id", "start", "end"])
        mine = table.filter(pc.equal(table["source_id"], clip["source_id"])).to_pylist()
        neighbours = [
            {"clip_id": r["clip_id"], "start": r["start"], "end": r["end"]}
            for r in mine
            if r["clip_id"] != clip_id and r["end"] > begin and r["start"] < stop
        ]
        hand = any(
            h.source_id == clip["source_id"]
            and abs(h.start - clip["start"]) < 5e-4
            and abs(h.end - clip["end"]) < 5e-4
            for h in read_hand_clips(bounds_csv(workspace))
        )
        body = {
            "clip_id": clip_id,
            "start": clip["start"],
            "end": clip["end"],
            "version": labels.version,
            "begin": round(begin, 3),
            "stop": round(stop, 3),
            "per_s": PEAKS_PER_S,
            "peaks": peaks(pcm, workspace.config.vad.sample_rate),
            "neighbours": neighbours,
            "hand": hand,
            "min_clip_s": MIN_CLIP_S,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @router.get("/api/clip/{clip_id}/wave.wav", response_model=None)
    def wave_audio(clip_id: str, pad: float = PAD_S) -> Response:
        """The window /wave draws, as WAV: what the editor plays, sample for sample."""
        found = surroundings(clip_id, pad)
        if isinstance(found, JSONResponse):
            return found
        _, begin, _, pcm = found
        rate = workspace.config.vad.sample_rate
        return Response(
            wav_header(len(pcm), rate) + pcm,
            media_type="audio/wav",
            headers={"Cache-Control": "no-cache", "X-Context-Start": f"{begin:.3f}"},
        )

    @router.post("/api/clip/{clip_id}/bounds", response_model=None)
    def save_bounds(clip_id: str, body: BoundsBody) -> JSONResponse:
        """Re-cut the clip to start–end (and split it at split_at), refused (409) if its
        labels changed since `version`; answers with the new clips' rows."""

        def refuse(_: str) -> None:
            raise CutRunning(
                "a cut of this workspace is running: save the boundaries again when it has finished"
            )

        try:
            edit = edit_bounds(
                workspace,
                clip_id,
                body.start,
                body.end,
                body.split_at,
                body.version,
                reviewer,
                on_wait=refuse,
            )
        except UnknownClip:
            return _error(404, "no such clip (a cut may have replaced it): reload the page")
        except BoundsConflict as exc:
            current = row_of(clip_id) or {}
            return _error(409, str(exc), current=current, version=exc.version)
        except CutRunning as exc:
            return _error(503, str(exc))
        except AccentdsError as exc:
            return _error(400, str(exc))
        rows = [row_of(c.clip_id) for c in edit.clips]
        return JSONResponse(
            {"replaced": edit.replaced, "clips": [r for r in rows if r is not None]},
            headers={"Cache-Control": "no-store"},
        )

    return router

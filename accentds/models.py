"""Domain records. Times are float seconds; ids are strings built from what they describe."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from .urls import normalise_url

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def clip_id(source_id: str, start: float, end: float) -> str:
    """Deterministic clip id: `<source_id>-<start_ms:08d>-<end_ms:08d>`."""
    return f"{source_id}-{round(start * 1000):08d}-{round(end * 1000):08d}"


def safe_id(text: str) -> str:
    """Reduce text to the characters allowed in ids and file names."""
    return _UNSAFE.sub("_", text).strip("_") or "x"


@dataclass(frozen=True)
class Span:
    """A stretch of a source, in seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Source:
    """One pulled video or audio file (a row of manifests/sources.csv)."""

    source_id: str
    kind: str  # "file" or "url"
    origin: str
    media: str  # path of the pulled file, relative to the workspace
    duration: float
    sha256: str
    added_at: str
    title: str = ""
    uploader: str = ""
    upload_date: str = ""
    licence: str = ""
    subtitles: str = ""  # ";"-separated paths relative to the workspace
    other_urls: str = ""  # " "-separated: addresses whose download gave these same bytes

    def pulled_from(self, url: str) -> bool:
        """Whether `url`, however it is spelt, was pulled as this source (its origin, or a
        download of the same bytes)."""
        wanted = normalise_url(url)
        return wanted in {normalise_url(u) for u in (self.origin, *self.other_urls.split())}


@dataclass(frozen=True, slots=True)
class Clip:
    """One cut clip (a row of manifests/clips.parquet)."""

    clip_id: str
    source_id: str
    start: float
    end: float
    duration: float  # measured from the written file
    path: str  # relative to the workspace
    settings_id: str
    vad_aggressiveness: int
    vad_frame_ms: int
    vad_padding_ms: int
    vad_merge_gap_ms: int
    vad_min_clip_s: float
    vad_max_clip_s: float
    rms_dbfs: float
    peak_dbfs: float
    speech_ratio: float
    cut_at: str
    snr_db: float | None = None  # quality hints (accentds.quality); None for clips cut before them
    lufs: float | None = None
    clipping_ratio: float | None = None
    bandwidth_hz: float | None = None
    speech_prob: float | None = None  # the highest Silero probability over the clip; None without Silero


@dataclass(frozen=True)
class CutRecord:
    """How a source was last cut (a row of manifests/cuts.csv)."""

    source_id: str
    settings_id: str
    clips: int
    kept_s: float
    dropped_s: float
    cut_at: str
    note: str = ""


def field_names(cls: type) -> list[str]:
    """Column names of a record type, in declaration order."""
    return [f.name for f in fields(cls)]


def from_row(cls: type, row: dict[str, Any]) -> Any:
    """Build a record from a CSV/Parquet row, converting text to the field types."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in row:
            continue
        value = row[f.name]
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if kind == "float":
            value = float(value)
        elif kind == "int":
            value = int(value)
        elif kind == "str":
            value = "" if value is None else str(value)
        values[f.name] = value
    return cls(**values)


def pull_command(sources: Iterable[Source]) -> str:
    """The `accentds pull` that pulls these sources again, their origins quoted for the shell."""
    return shlex.join(["accentds", "pull", *(s.origin for s in sources)])

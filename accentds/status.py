"""Corpus totals: what `accentds status` and the one-line summary after each change show."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from .workspace import Workspace, build_manifest


@dataclass(frozen=True)
class Totals:
    """Clip count and seconds of the cut corpus."""

    clips: int
    seconds: float

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Status:
    """Where the corpus stands."""

    name: str
    sources: int
    sources_cut: int
    sources_stale: int  # cut with other settings than the current ones
    sources_no_speech: int
    pulled_s: float
    clips: int
    cut_s: float
    pending: tuple[int, float]
    accepted: tuple[int, float]
    rejected: tuple[int, float]
    target_minutes: float
    next_steps: tuple[str, ...]

    @property
    def progress(self) -> float:
        """Accepted minutes as a share of the target."""
        return self.accepted[1] / 60 / self.target_minutes if self.target_minutes else 0.0


def totals(workspace: Workspace) -> Totals:
    """Clips and seconds in manifests/clips.parquet."""
    table = workspace.read_clip_table(columns=["duration"])
    seconds = pc.sum(table["duration"]).as_py() or 0.0
    return Totals(table.num_rows, float(seconds))


def _newest_release_clips(workspace: Workspace) -> int | None:
    """How many clips the newest release holds (None when nothing is published)."""

    def key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.name.split("."))

    releases = [p for p in workspace.releases.glob("*.*.*") if re.fullmatch(r"\d+\.\d+\.\d+", p.name)]
    for folder in sorted(releases, key=key, reverse=True):
        try:
            record = json.loads((folder / "release.json").read_text(encoding="utf-8"))
            return int(record["total"]["clips"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def status(workspace: Workspace) -> Status:
    """Count sources, clips and minutes at each stage, and say what to run next."""
    sources = workspace.read_sources()
    cuts = workspace.read_cuts()
    current = workspace.config.vad.settings_id
    ids = {s.source_id for s in sources}
    cut_ids = {sid for sid, r in cuts.items() if sid in ids}
    stale = sum(1 for sid in cut_ids if cuts[sid].settings_id != current)
    no_speech = sum(1 for sid in cut_ids if cuts[sid].clips == 0)
    table = build_manifest(workspace).select(["status", "duration"])
    by_status: dict[str, tuple[int, float]] = {}
    for state in ("pending", "accepted", "rejected"):
        rows = table.filter(pc.equal(table["status"], state))
        by_status[state] = (rows.num_rows, float(pc.sum(rows["duration"]).as_py() or 0.0))
    steps = []
    if not sources:
        steps.append("accentds pull URL|FILE|FOLDER   (pulls and cuts new videos)")
    uncut = len(ids - cut_ids)
    if uncut or stale:
        steps.append(f"accentds cut   ({uncut} source(s) not cut, {stale} cut with older settings)")
    if by_status["pending"][0]:
        steps.append(f"accentds review   (listen to and label the {by_status['pending'][0]} pending clip(s))")
    accepted = by_status["accepted"][0]
    if accepted and accepted != _newest_release_clips(workspace):
        steps.append(f"accentds publish VERSION   ({accepted} accepted clip(s) not in a release as they are)")
    return Status(
        name=workspace.config.name,
        sources=len(sources),
        sources_cut=len(cut_ids),
        sources_stale=stale,
        sources_no_speech=no_speech,
        pulled_s=sum(s.duration for s in sources),
        clips=table.num_rows,
        cut_s=float(pc.sum(table["duration"]).as_py() or 0.0),
        pending=by_status["pending"],
        accepted=by_status["accepted"],
        rejected=by_status["rejected"],
        target_minutes=workspace.config.target_minutes,
        next_steps=tuple(steps),
    )

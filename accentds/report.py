"""Corpus report: minutes at each stage, breakdowns and warnings.

`report()` reads only the columns it needs from manifests/manifest.parquet (the joined view
every changing command rewrites) and summarises them with pyarrow.compute group-by
aggregations: a million clips take about 0.6 s (bench/bench_report.py). The result (`Report`) is
rendered as JSON, CSV, Markdown or rich tables (accentds/render.py), PNG plots or one
self-contained HTML page (accentds/plots.py).

Accepted minutes are split into publishable ones and those a release could not hold, with the
reason (accentds/publishable.py: deny list, licence, credit, empty transcript, an accent or
accent evidence [labels] does not list); progress toward `target_minutes` and the
`[report] region_targets` counts publishable minutes only.

Warnings name what to act on before publishing: a speaker or source holding too much of the
stage, thin accent regions, too many minutes carrying one quality flag, and duplicate groups
with more than one clip in the stage.

`since` (YYYY-MM-DD) limits the report to clips cut on or after that day (the `cut_at`
column, compared as UTC dates: a re-cut clip keeps the day its speech was first cut) and to sources pulled on or after it (`added_at`); published
releases are always counted whole. Everything clip-based follows it: stages, breakdowns,
warnings and the progress toward the targets.

manifests/history.csv (accentds/corpus_history.py) gets one line per changing command, so
growth can be followed day by day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import publishable
from .config import STATUSES
from .errors import AccentdsError
from .files import now_iso, read_csv
from .publish import list_releases, load_release
from .publishable import HeldBack
from .report_warnings import ReportWarning, duplicate_warnings, quality_warnings, share_warnings
from .views import build_manifest, refresh_manifest
from .workspace import Workspace

REPORT_STATUSES = (*STATUSES, "all")
BREAKDOWNS = ("accent", "speaker", "source", "licence", "split", "quality hints")
DEFAULT_MAX_SHARE = 0.5
DEFAULT_MIN_REGION_MINUTES = 5.0
DEFAULT_MAX_FLAGGED_SHARE = 0.2
UNPUBLISHED = "unpublished"
PUBLISHABLE = "publishable"  # the stage of accepted clips a release could hold
_COLUMNS = [
    "duration",
    "status",
    "speaker",
    "accent",
    "accent_evidence",
    "source_id",
    "licence",
    "cut_at",
    "quality_flags",
    "duplicate_group",
    "transcript",
]
_FREE_TEXT = ("duration", "transcript")  # columns not read dictionary-encoded
_BREAKDOWN_COLUMN = {
    "accent": "accent",
    "speaker": "speaker",
    "source": "source_id",
    "licence": "licence",
    "quality hints": "quality_flags",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HISTOGRAM_BIN_S = 0.5
_HISTOGRAM_MAX_BINS = 60


# -- records ------------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """Clips and seconds at one stage. `clips` is None for pulled audio (counted in sources)."""

    name: str
    clips: int | None
    seconds: float
    sources: int | None = None

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: clips, seconds, share of the stage's seconds, clip lengths,
    the seconds a release could hold and those it could not, by reason (see publishable)."""

    key: str
    clips: int
    seconds: float
    share: float
    mean_s: float
    min_s: float
    max_s: float
    publishable_seconds: float = 0.0
    held_back: tuple[tuple[str, float], ...] = ()  # (reason, seconds)

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def publishable_minutes(self) -> float:
        return self.publishable_seconds / 60


@dataclass(frozen=True)
class RegionTarget:
    """An accent region's `[report] region_targets` entry and its publishable accepted seconds."""

    region: str
    target_minutes: float
    publishable_seconds: float

    @property
    def progress(self) -> float:
        return self.publishable_seconds / 60 / self.target_minutes


@dataclass(frozen=True)
class Report:
    """What `report()` found. Seconds are kept exact; renderers round."""

    name: str
    generated_at: str
    status: str  # the stage broken down: pending, accepted, rejected or all
    since: str | None
    stages: tuple[Stage, ...]
    stage: Stage
    breakdowns: dict[str, tuple[Row, ...]]
    target_minutes: float
    accepted_seconds: float
    warnings: tuple[ReportWarning, ...]
    histogram: tuple[tuple[float, float, int], ...]  # (from s, to s, clips) of the stage
    release: str | None  # newest release, whose split assignment is used
    accents: tuple[str, ...] = ()  # the schema's accent regions
    max_share: float = DEFAULT_MAX_SHARE
    min_region_minutes: float = DEFAULT_MIN_REGION_MINUTES
    max_flagged_share: float = DEFAULT_MAX_FLAGGED_SHARE
    publishable_seconds: float = 0.0  # accepted seconds a release could hold
    held_back: tuple[HeldBack, ...] = ()  # accepted seconds it could not, by reason
    region_targets: tuple[RegionTarget, ...] = ()
    releases: tuple[tuple[str, str], ...] = ()  # (version, created_at), oldest first

    @property
    def progress(self) -> float:
        """Publishable accepted minutes as a share of the target."""
        return self.publishable_seconds / 60 / self.target_minutes if self.target_minutes else 0.0


# -- building the report ------------------------------------------------------------
def check_since(since: str | None) -> None:
    """Refuse a --since that is not a day written YYYY-MM-DD."""
    if since is None:
        return
    try:
        if not _DATE.match(since):
            raise ValueError
        date.fromisoformat(since)
    except ValueError:
        raise AccentdsError(f"bad date {since!r} for --since: give YYYY-MM-DD, such as 2024-05-01") from None


def _read_manifest(workspace: Workspace) -> pa.Table:
    """The needed manifest columns, from manifest.parquet brought up to date."""
    refresh_manifest(workspace)
    path = workspace.manifest_parquet
    if path.exists() and not workspace.views_behind:
        present = set(pq.read_schema(path).names)
        wanted = [c for c in _COLUMNS if c in present]
        # text columns read dictionary-encoded: many clips share few values, so this is ~8x faster
        table = pq.read_table(
            path, columns=wanted, read_dictionary=[c for c in wanted if c not in _FREE_TEXT]
        )
        table = table.unify_dictionaries()  # one dictionary per column across row groups
    else:
        table = build_manifest(workspace)
        table = table.select([c for c in _COLUMNS if c in table.column_names])
    for name in _COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * table.num_rows, pa.string()))
    table = table.select(_COLUMNS)
    return table.set_column(0, "duration", pc.cast(table["duration"], pa.float64()))


def _sum(values: pa.ChunkedArray | pa.Array) -> float:
    return float(pc.sum(values).as_py() or 0.0)


def _by_status(table: pa.Table) -> dict[str, tuple[int, float]]:
    """(clips, seconds) for each status, in one group-by."""
    grouped = table.group_by("status").aggregate([("duration", "count"), ("duration", "sum")])
    found = {
        s: (int(n), float(t or 0.0))
        for s, n, t in zip(
            grouped["status"].to_pylist(),
            grouped["duration_count"].to_pylist(),
            grouped["duration_sum"].to_pylist(),
            strict=True,
        )
    }
    return {s: found.get(s, (0, 0.0)) for s in STATUSES}


def _split_column(table: pa.Table, assignment: dict[str, str]) -> pa.ChunkedArray | pa.Array:
    """Each clip's split by its group (speaker, else `source:<id>`), else "unpublished"."""
    if not assignment or table.num_rows == 0:
        return pa.array([UNPUBLISHED] * table.num_rows, pa.string())
    speaker = pc.cast(table["speaker"], pa.string())
    by_source = pc.binary_join_element_wise("source:", pc.cast(table["source_id"], pa.string()), "")
    group = pc.if_else(pc.equal(speaker, ""), by_source, speaker)
    keys = pa.array(list(assignment), pa.string())
    values = pa.array(list(assignment.values()), pa.string())
    index = pc.index_in(group, value_set=keys)
    return pc.fill_null(pc.take(values, index), UNPUBLISHED)


def _held_by_key(held: pa.Table, column: str) -> dict[str, tuple[tuple[str, float], ...]]:
    """For each value of `column`, the seconds of the `held` clips (those that cannot be
    published), by their set of reasons (each clip counted once)."""
    if held.num_rows == 0:
        return {}
    grouped = held.group_by([column, "why"]).aggregate([("duration", "sum")])
    found: dict[str, dict[tuple[str, ...], float]] = {}
    for key, code, seconds in zip(
        grouped[column].to_pylist(),
        grouped["why"].to_pylist(),
        grouped["duration_sum"].to_pylist(),
        strict=True,
    ):
        found.setdefault(key or "", {})[publishable.reason_names(code)] = float(seconds)
    return {
        k: tuple((publishable.label(r), v[r]) for r in sorted(v, key=publishable.order))
        for k, v in found.items()
    }


def _breakdown(table: pa.Table, held: pa.Table, column: str, total: float) -> tuple[Row, ...]:
    """Rows per value of `column`, most minutes first (then by key); `held` holds the clips of
    `table` that cannot be published."""
    if table.num_rows == 0:
        return ()
    grouped = table.group_by(column).aggregate(
        [
            ("duration", "count"),
            ("duration", "sum"),
            ("duration", "mean"),
            ("duration", "min"),
            ("duration", "max"),
            ("publishable_duration", "sum"),
        ]
    )
    held_seconds = _held_by_key(held, column)
    rows = [
        Row(
            key=key or "",
            clips=int(n),
            seconds=float(s),
            share=float(s) / total if total else 0.0,
            mean_s=float(mean),
            min_s=float(low),
            max_s=float(high),
            publishable_seconds=float(ok),
            held_back=held_seconds.get(key or "", ()),
        )
        for key, n, s, mean, low, high, ok in zip(
            grouped[column].to_pylist(),
            grouped["duration_count"].to_pylist(),
            grouped["duration_sum"].to_pylist(),
            grouped["duration_mean"].to_pylist(),
            grouped["duration_min"].to_pylist(),
            grouped["duration_max"].to_pylist(),
            grouped["publishable_duration_sum"].to_pylist(),
            strict=True,
        )
    ]
    return tuple(sorted(rows, key=lambda r: (-r.seconds, r.key)))


def _with_reasons(workspace: Workspace, table: pa.Table) -> pa.Table:
    """`table` with `why` (for an accepted clip, the code of the reasons it could not be
    published, see publishable.reasons; 0 if it could and for every clip not accepted: only an
    accepted clip is held back) and `publishable_duration` (the duration of an accepted clip
    that could be published, else 0)."""
    accepted = pc.equal(table["status"], "accepted")
    why = publishable.reasons(table, publishable.rules(workspace))
    table = table.append_column("why", pc.if_else(accepted, why, pa.scalar(0, publishable.CODE)))
    ok = pc.and_(accepted, pc.equal(table["why"], 0))
    return table.append_column("publishable_duration", pc.if_else(ok, table["duration"], 0.0))


def _region_targets(workspace: Workspace, accepted: pa.Table) -> tuple[RegionTarget, ...]:
    targets = workspace.config.report.region_targets
    if not targets:
        return ()
    grouped = accepted.group_by("accent").aggregate([("publishable_duration", "sum")])
    seconds = dict(
        zip(grouped["accent"].to_pylist(), grouped["publishable_duration_sum"].to_pylist(), strict=True)
    )
    return tuple(
        RegionTarget(region, float(minutes), float(seconds.get(region) or 0.0)) for region, minutes in targets
    )


def _histogram(durations: pa.ChunkedArray | pa.Array) -> tuple[tuple[float, float, int], ...]:
    values = np.asarray(pc.fill_null(durations, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
    if values.size == 0:
        return ()
    top = float(values.max())
    bins = max(1, int(np.ceil(top / _HISTOGRAM_BIN_S)) if top > 0 else 1)
    width = _HISTOGRAM_BIN_S if bins <= _HISTOGRAM_MAX_BINS else top / _HISTOGRAM_MAX_BINS
    bins = min(bins, _HISTOGRAM_MAX_BINS)
    edges = np.arange(bins + 1, dtype=np.float64) * width
    edges[-1] = max(edges[-1], top)
    counts, _ = np.histogram(values, bins=edges)
    return tuple(
        (round(float(edges[i]), 3), round(float(edges[i + 1]), 3), int(counts[i])) for i in range(bins)
    )


def report(
    workspace: Workspace,
    status: str = "accepted",
    since: str | None = None,
    *,
    max_share: float = DEFAULT_MAX_SHARE,
    min_region_minutes: float = DEFAULT_MIN_REGION_MINUTES,
    max_flagged_share: float | None = None,
) -> Report:
    """Summarise the corpus: minutes and clips at each stage (pulled, cut, pending, accepted,
    rejected, and each published release), and for the `status` stage (pending, accepted,
    rejected or all) breakdowns by accent region, speaker, source, licence and split (from
    the newest release's assignment by group; "unpublished" otherwise).

    Warns when one named speaker or one source holds more than `max_share` of the stage's
    minutes; for each accent region of the schema with no minutes or fewer than
    `min_region_minutes`; for each quality flag other than `duplicate` (noisy, quiet,
    clipped, narrowband, little-speech) whose clips hold more than `max_flagged_share` of
    the stage's minutes (None: the workspace's `[report] max_flagged_share`); and once when
    some duplicate groups hold two or more of the stage's clips, giving the number of such
    groups and the minutes beyond the longest clip of each. `since` (YYYY-MM-DD) keeps only
    clips cut on or after that day and sources pulled on or after it; releases are counted
    whole.

    Progress, the `publishable` stage, each breakdown row and the `[report] region_targets`
    count the minutes a release could hold; the accepted minutes it could not are given with
    their reason (see accentds/publishable.py)."""
    if status not in REPORT_STATUSES:
        raise AccentdsError(f"unknown status {status!r}; give one of: {', '.join(REPORT_STATUSES)}")
    if max_flagged_share is None:
        max_flagged_share = workspace.config.report.max_flagged_share
    if not 0 < max_flagged_share <= 1:
        raise AccentdsError(
            f"max_flagged_share must be more than 0 and at most 1 (got {max_flagged_share:g})"
        )
    check_since(since)
    table = _read_manifest(workspace)
    sources = read_csv(workspace.sources_csv)
    if since is not None:
        table = table.filter(pc.greater_equal(table["cut_at"], since))
        sources = [s for s in sources if (s.get("added_at") or "") >= since]
    pulled = sum(float(s.get("duration") or 0.0) for s in sources)
    by_status = _by_status(table)
    table = _with_reasons(workspace, table)
    accepted = table.filter(pc.equal(table["status"], "accepted"))
    publishable_seconds = _sum(accepted["publishable_duration"])
    publishable_clips = accepted.num_rows - int(pc.sum(pc.not_equal(accepted["why"], 0)).as_py() or 0)
    stages = [
        Stage("pulled", None, pulled, sources=len(sources)),
        Stage("cut", table.num_rows, _sum(table["duration"])),
        *(Stage(s, *by_status[s]) for s in STATUSES),
        Stage(PUBLISHABLE, publishable_clips, publishable_seconds),
    ]
    versions = list_releases(workspace)
    releases = [load_release(workspace, v) for v in versions]
    stages += [Stage(f"published {r.version}", r.clips, r.seconds) for r in releases]
    assignment = releases[-1].assignment if releases else {}

    chosen = table if status == "all" else table.filter(pc.equal(table["status"], status))
    chosen = chosen.append_column("split", _split_column(chosen, assignment))
    stage = stages[1] if status == "all" else next(s for s in stages if s.name == status)
    total = stage.seconds
    held = chosen.filter(pc.not_equal(chosen["why"], 0))
    breakdowns = {
        name: _breakdown(chosen, held, _BREAKDOWN_COLUMN.get(name, name), total) for name in BREAKDOWNS
    }
    accents = tuple(workspace.config.labels.accents)
    warnings = (
        *share_warnings(
            breakdowns, total, accents, max_share, min_region_minutes, publishable=status == "accepted"
        ),
        *quality_warnings(breakdowns["quality hints"], total, max_flagged_share),
        *duplicate_warnings(chosen, total, status),
    )
    return Report(
        name=workspace.config.name,
        generated_at=now_iso(),
        status=status,
        since=since,
        stages=tuple(stages),
        stage=stage,
        breakdowns=breakdowns,
        target_minutes=workspace.config.target_minutes,
        accepted_seconds=by_status["accepted"][1],
        publishable_seconds=publishable_seconds,
        held_back=publishable.held_back(accepted, accepted["why"]),
        region_targets=_region_targets(workspace, accepted),
        releases=tuple((r.version, r.created_at) for r in releases),
        warnings=warnings,
        histogram=_histogram(chosen["duration"]),
        release=versions[-1] if versions else None,
        accents=accents,
        max_share=max_share,
        min_region_minutes=min_region_minutes,
        max_flagged_share=max_flagged_share,
    )

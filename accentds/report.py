"""Corpus report: minutes at each stage, breakdowns, warnings, history and plots.

`report()` reads only the columns it needs from manifests/manifest.parquet (the joined view
every changing command rewrites) and summarises them with pyarrow.compute group-by
aggregations, so a million clips take a fraction of a second. The result (`Report`) is
rendered as JSON, CSV, Markdown, rich tables, PNG plots or one self-contained HTML page.

Warnings name what to act on before publishing: a speaker or source holding too much of the
stage, thin accent regions, too many minutes carrying one quality flag, and duplicate groups
with more than one clip in the stage.

`since` (YYYY-MM-DD) limits the report to clips cut on or after that day (the `cut_at`
column, compared as UTC dates) and to sources pulled on or after it (`added_at`); published
releases are always counted whole. Everything clip-based follows it: stages, breakdowns,
warnings and the progress toward `target_minutes`.

manifests/history.csv gets one line per changing command (`append_history`): the time, the
command and the clips and minutes by status, so growth can be followed day by day.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .config import STATUSES
from .errors import AccentdsError
from .publish import list_releases, load_release
from .workspace import (
    QUALITY_FLAGS,
    Workspace,
    build_manifest,
    now_iso,
    read_csv,
    refresh_manifest,
    write_csv_atomic,
)

if TYPE_CHECKING:
    from rich.table import Table

REPORT_STATUSES = (*STATUSES, "all")
BREAKDOWNS = ("accent", "speaker", "source", "licence", "split", "quality hints")
DEFAULT_MAX_SHARE = 0.5
DEFAULT_MIN_REGION_MINUTES = 5.0
DEFAULT_MAX_FLAGGED_SHARE = 0.2
UNPUBLISHED = "unpublished"
HISTORY_NAME = "history.csv"
HISTORY_COLUMNS = [
    "time",
    "command",
    "pending_clips",
    "pending_minutes",
    "accepted_clips",
    "accepted_minutes",
    "rejected_clips",
    "rejected_minutes",
    "total_clips",
    "total_minutes",
]
CSV_COLUMNS = ["section", "key", "clips", "minutes", "share", "mean_s", "min_s", "max_s"]
_COLUMNS = [
    "duration",
    "status",
    "speaker",
    "accent",
    "source_id",
    "licence",
    "cut_at",
    "quality_flags",
    "duplicate_group",
]
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
_MAX_BARS = 30  # speakers shown in the bar plot


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
    """One line of a breakdown: clips, seconds, share of the stage's seconds, clip lengths."""

    key: str
    clips: int
    seconds: float
    share: float
    mean_s: float
    min_s: float
    max_s: float

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class ReportWarning:
    """Something to act on: a dominant speaker or source, a thin accent region, many minutes
    with one quality flag, or duplicate groups with repeats. For "duplicate", `key` is
    "duplicate" and `seconds` the repeats (beyond the longest clip of each group)."""

    kind: str  # "speaker", "source", "region", "quality" or "duplicate"
    key: str
    seconds: float
    share: float
    message: str


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

    @property
    def progress(self) -> float:
        """Accepted minutes as a share of the target."""
        return self.accepted_seconds / 60 / self.target_minutes if self.target_minutes else 0.0


# -- building the report ------------------------------------------------------------
def _check_since(since: str | None) -> None:
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
    if path.exists():
        present = set(pq.read_schema(path).names)
        wanted = [c for c in _COLUMNS if c in present]
        # text columns read dictionary-encoded: many clips share few values, so this is ~8x faster
        table = pq.read_table(path, columns=wanted, read_dictionary=[c for c in wanted if c != "duration"])
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


def _breakdown(table: pa.Table, column: str, total: float) -> tuple[Row, ...]:
    """Rows per value of `column`, most minutes first (then by key)."""
    if table.num_rows == 0:
        return ()
    grouped = table.group_by(column).aggregate(
        [
            ("duration", "count"),
            ("duration", "sum"),
            ("duration", "mean"),
            ("duration", "min"),
            ("duration", "max"),
        ]
    )
    rows = [
        Row(
            key=key or "",
            clips=int(n),
            seconds=float(s),
            share=float(s) / total if total else 0.0,
            mean_s=float(mean),
            min_s=float(low),
            max_s=float(high),
        )
        for key, n, s, mean, low, high in zip(
            grouped[column].to_pylist(),
            grouped["duration_count"].to_pylist(),
            grouped["duration_sum"].to_pylist(),
            grouped["duration_mean"].to_pylist(),
            grouped["duration_min"].to_pylist(),
            grouped["duration_max"].to_pylist(),
            strict=True,
        )
    ]
    return tuple(sorted(rows, key=lambda r: (-r.seconds, r.key)))


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


def _warnings(
    breakdowns: dict[str, tuple[Row, ...]],
    total: float,
    accents: tuple[str, ...],
    max_share: float,
    min_region_minutes: float,
) -> tuple[ReportWarning, ...]:
    found: list[ReportWarning] = []
    if total > 0:
        for kind in ("speaker", "source"):
            for row in breakdowns[kind]:
                if row.key and row.share > max_share:
                    found.append(
                        ReportWarning(
                            kind,
                            row.key,
                            row.seconds,
                            row.share,
                            f"{kind} {row.key!r} holds {row.share:.1%} of the minutes "
                            f"(more than {max_share:.0%})",
                        )
                    )
    seconds = {row.key: row.seconds for row in breakdowns["accent"]}
    for region in accents:
        have = seconds.get(region, 0.0)
        share = have / total if total else 0.0
        if have <= 0:
            found.append(
                ReportWarning("region", region, 0.0, 0.0, f"accent region {region!r} has no minutes")
            )
        elif have / 60 < min_region_minutes:
            found.append(
                ReportWarning(
                    "region",
                    region,
                    have,
                    share,
                    f"accent region {region!r} has only {have / 60:.2f} min "
                    f"(fewer than {min_region_minutes:g})",
                )
            )
    return tuple(found)


def _quality_warnings(hints: tuple[Row, ...], total: float, max_flagged_share: float) -> list[ReportWarning]:
    """One warning per quality flag other than `duplicate` whose clips hold more than
    `max_flagged_share` of `total` seconds; `hints` is the breakdown by whole flag string."""
    if total <= 0:
        return []
    seconds = dict.fromkeys(QUALITY_FLAGS, 0.0)
    for row in hints:
        for flag in set(row.key.split()):
            if flag in seconds:
                seconds[flag] += row.seconds
    found = []
    for flag in QUALITY_FLAGS:
        share = seconds[flag] / total
        if flag != "duplicate" and share > max_flagged_share:
            found.append(
                ReportWarning(
                    "quality",
                    flag,
                    seconds[flag],
                    share,
                    f"{share:.1%} of the minutes are flagged {flag!r} (more than {max_flagged_share * 100:g}%): "
                    "listen to them before accepting",
                )
            )
    return found


def _duplicate_warnings(chosen: pa.Table, total: float, status: str) -> list[ReportWarning]:
    """One warning when some duplicate group holds two or more of the `chosen` clips: the number
    of such groups and the seconds beyond the longest clip of each."""
    grouped = chosen.filter(pc.not_equal(chosen["duplicate_group"], "")).group_by("duplicate_group")
    grouped = grouped.aggregate([("duration", "count"), ("duration", "sum"), ("duration", "max")])
    repeated = grouped.filter(pc.greater_equal(grouped["duration_count"], 2))
    groups = repeated.num_rows
    if groups == 0:
        return []
    repeats = _sum(repeated["duration_sum"]) - _sum(repeated["duration_max"])
    holds = "group holds" if groups == 1 else "groups hold"
    clips = "clips" if status == "all" else f"{status} clips"
    return [
        ReportWarning(
            "duplicate",
            "duplicate",
            repeats,
            repeats / total if total else 0.0,
            f"{groups} duplicate {holds} 2 or more {clips} ({repeats / 60:.2f} min of repeats): "
            "keep one clip of each",
        )
    ]


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
    groups and the minutes beyond the longest clip of each. `since` (YYYY-MM-DD) keeps only clips cut on or after that day and sources
    pulled on or after it; releases are counted whole."""
    if status not in REPORT_STATUSES:
        raise AccentdsError(f"unknown status {status!r}; give one of: {', '.join(REPORT_STATUSES)}")
    if max_flagged_share is None:
        max_flagged_share = workspace.config.report.max_flagged_share
    if not 0 < max_flagged_share <= 1:
        raise AccentdsError(
            f"max_flagged_share must be more than 0 and at most 1 (got {max_flagged_share:g})"
        )
    _check_since(since)
    table = _read_manifest(workspace)
    sources = read_csv(workspace.sources_csv)
    if since is not None:
        table = table.filter(pc.greater_equal(table["cut_at"], since))
        sources = [s for s in sources if (s.get("added_at") or "") >= since]
    pulled = sum(float(s.get("duration") or 0.0) for s in sources)
    by_status = _by_status(table)
    stages = [
        Stage("pulled", None, pulled, sources=len(sources)),
        Stage("cut", table.num_rows, _sum(table["duration"])),
        *(Stage(s, *by_status[s]) for s in STATUSES),
    ]
    versions = list_releases(workspace)
    releases = [load_release(workspace, v) for v in versions]
    stages += [Stage(f"published {r.version}", r.clips, r.seconds) for r in releases]
    assignment = releases[-1].assignment if releases else {}

    chosen = table if status == "all" else table.filter(pc.equal(table["status"], status))
    chosen = chosen.append_column("split", _split_column(chosen, assignment))
    stage = stages[1] if status == "all" else next(s for s in stages if s.name == status)
    total = stage.seconds
    breakdowns = {name: _breakdown(chosen, _BREAKDOWN_COLUMN.get(name, name), total) for name in BREAKDOWNS}
    accents = tuple(workspace.config.labels.accents)
    warnings = (
        *_warnings(breakdowns, total, accents, max_share, min_region_minutes),
        *_quality_warnings(breakdowns["quality hints"], total, max_flagged_share),
        *_duplicate_warnings(chosen, total, status),
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
        warnings=warnings,
        histogram=_histogram(chosen["duration"]),
        release=versions[-1] if versions else None,
        accents=accents,
        max_share=max_share,
        min_region_minutes=min_region_minutes,
        max_flagged_share=max_flagged_share,
    )


# -- renderers ----------------------------------------------------------------------
def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def _row_dict(row: Row) -> dict[str, Any]:
    return {
        "key": row.key,
        "clips": row.clips,
        "seconds": _r(row.seconds),
        "minutes": _r(row.minutes, 6),
        "share": _r(row.share, 6),
        "mean_s": _r(row.mean_s),
        "min_s": _r(row.min_s),
        "max_s": _r(row.max_s),
    }


def _stage_dict(stage: Stage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "clips": stage.clips,
        "sources": stage.sources,
        "seconds": _r(stage.seconds),
        "minutes": _r(stage.minutes, 6),
    }


def to_dict(rep: Report) -> dict[str, Any]:
    """The report as plain data (the structure of `to_json`)."""
    return {
        "name": rep.name,
        "generated_at": rep.generated_at,
        "status": rep.status,
        "since": rep.since,
        "release": rep.release,
        "stages": [_stage_dict(s) for s in rep.stages],
        "stage": _stage_dict(rep.stage),
        "progress": {
            "target_minutes": rep.target_minutes,
            "accepted_minutes": _r(rep.accepted_seconds / 60, 6),
            "share": _r(rep.progress, 6),
        },
        "breakdowns": {name: [_row_dict(r) for r in rep.breakdowns[name]] for name in BREAKDOWNS},
        "warnings": [
            {
                "kind": w.kind,
                "key": w.key,
                "seconds": _r(w.seconds),
                "share": _r(w.share, 6),
                "message": w.message,
            }
            for w in rep.warnings
        ],
        "thresholds": {
            "max_share": rep.max_share,
            "min_region_minutes": rep.min_region_minutes,
            "max_flagged_share": rep.max_flagged_share,
        },
        "histogram": [{"from_s": a, "to_s": b, "clips": n} for a, b, n in rep.histogram],
    }


def to_json(rep: Report) -> str:
    """The report as JSON: fixed key order, seconds to the millisecond, minutes and shares to
    six decimals."""
    return json.dumps(to_dict(rep), indent=2, ensure_ascii=False) + "\n"


def _csv_rows(rep: Report) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for s in rep.stages:
        rows.append(["stage", s.name, "" if s.clips is None else s.clips, f"{s.minutes:.6f}", "", "", "", ""])
    rows.append(
        ["progress", f"accepted of {rep.target_minutes:g} min", "", f"{rep.accepted_seconds / 60:.6f}",
         f"{rep.progress:.6f}", "", "", ""]
    )  # fmt: skip
    for name in BREAKDOWNS:
        for r in rep.breakdowns[name]:
            rows.append(
                [name, r.key, r.clips, f"{r.minutes:.6f}", f"{r.share:.6f}",
                 f"{r.mean_s:.3f}", f"{r.min_s:.3f}", f"{r.max_s:.3f}"]
            )  # fmt: skip
    for w in rep.warnings:
        rows.append([f"warning:{w.kind}", w.key, "", f"{w.seconds / 60:.6f}", f"{w.share:.6f}", "", "", ""])
    return rows


def to_csv(rep: Report) -> str:
    """One table: section, key, clips, minutes, share, mean_s, min_s, max_s. Sections are
    `stage`, `progress`, the breakdowns (accent, speaker, source, licence, split) and
    `warning:<kind>`; cells that do not apply are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(rep))
    return buffer.getvalue()


def _key(key: str) -> str:
    return key or "(none)"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def _title(rep: Report) -> str:
    label = "all clips" if rep.status == "all" else f"{rep.status} clips"
    return label + (f" cut since {rep.since}" if rep.since else "")


def to_markdown(rep: Report) -> str:
    """The report as Markdown: stages, progress, warnings and one table per breakdown
    (minutes to two decimals, shares as percentages, clip lengths in seconds)."""
    lines = [
        f"# Corpus report: {_md_cell(rep.name)}",
        "",
        f"Generated {rep.generated_at}; {_title(rep)}.",
        "",
    ]
    lines += _md_table(
        ["stage", "clips", "minutes"],
        [[s.name, "" if s.clips is None else str(s.clips), f"{s.minutes:.2f}"] for s in rep.stages],
    )
    lines += [
        "",
        f"Progress: {rep.accepted_seconds / 60:.2f} of {rep.target_minutes:g} accepted minutes "
        f"({rep.progress:.1%}).",
        "",
    ]
    if rep.warnings:
        lines += ["## Warnings", ""] + [f"- {_md_cell(w.message)}" for w in rep.warnings] + [""]
    for name in BREAKDOWNS:
        lines += [f"## By {name}", ""]
        lines += _md_table(
            [name, "clips", "minutes", "share", "mean s", "min s", "max s"],
            [
                [_key(r.key), str(r.clips), f"{r.minutes:.2f}", f"{r.share:.1%}",
                 f"{r.mean_s:.3f}", f"{r.min_s:.3f}", f"{r.max_s:.3f}"]
                for r in rep.breakdowns[name]
            ],
        )  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def rich_tables(rep: Report) -> list[Table]:
    """Tables for the terminal: stages (with progress), warnings, then one per breakdown.
    Every value is shown as text (no rich markup is interpreted)."""
    from rich.table import Table
    from rich.text import Text

    stages = Table(title=f"{rep.name}: {_title(rep)}", box=None, pad_edge=False)
    for column, justify in (("stage", "left"), ("clips", "right"), ("minutes", "right")):
        stages.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in rep.stages:
        stages.add_row(Text(s.name), "" if s.clips is None else str(s.clips), f"{s.minutes:.2f}")
    stages.caption = f"target: {rep.accepted_seconds / 60:.2f} of {rep.target_minutes:g} accepted minutes ({rep.progress:.1%})"
    tables = [stages]
    if rep.warnings:
        warn = Table(title="warnings", box=None, pad_edge=False, show_header=False)
        warn.add_column("warning")
        for w in rep.warnings:
            warn.add_row(Text(w.message, style="yellow"))
        tables.append(warn)
    for name in BREAKDOWNS:
        table = Table(title=f"by {name}", box=None, pad_edge=False)
        table.add_column(name)
        for column in ("clips", "minutes", "share", "mean s", "min s", "max s"):
            table.add_column(column, justify="right")
        for r in rep.breakdowns[name]:
            table.add_row(
                Text(_key(r.key)), str(r.clips), f"{r.minutes:.2f}", f"{r.share:.1%}",
                f"{r.mean_s:.2f}", f"{r.min_s:.2f}", f"{r.max_s:.2f}",
            )  # fmt: skip
        tables.append(table)
    return tables


# -- history ------------------------------------------------------------------------
def history_csv(workspace: Workspace) -> Path:
    """manifests/history.csv: one line of totals per changing command."""
    return workspace.manifests / HISTORY_NAME


def append_history(workspace: Workspace, command: str, at: str | None = None) -> None:
    """Append one line to manifests/history.csv: the time (`at`, default now), the command and
    the clips and minutes by status, from manifest.parquet. One write on an O_APPEND file,
    fsynced, as labels._append_history does; the file only ever grows. Call it after the
    command has written the manifest and released the workspace lock."""
    table = _read_manifest(workspace).select(["status", "duration"])
    counts = _by_status(table)
    row: dict[str, Any] = {"time": at or now_iso(), "command": " ".join(command.split())}
    for state in STATUSES:
        clips, seconds = counts[state]
        row[f"{state}_clips"] = clips
        row[f"{state}_minutes"] = f"{seconds / 60:.6f}"
    row["total_clips"] = table.num_rows
    row["total_minutes"] = f"{_sum(table['duration']) / 60:.6f}"
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n").writerow(row)
    path = history_csv(workspace)
    if not path.exists():
        write_csv_atomic(path, HISTORY_COLUMNS, [])
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def history(workspace: Workspace) -> list[dict[str, Any]]:
    """Lines of manifests/history.csv, oldest first, with counts as int and minutes as float."""
    rows = []
    for raw in read_csv(history_csv(workspace)):
        row: dict[str, Any] = {"time": raw.get("time", ""), "command": raw.get("command", "")}
        for name in HISTORY_COLUMNS[2:]:
            value = raw.get(name) or "0"
            row[name] = int(value) if name.endswith("_clips") else float(value)
        rows.append(row)
    return rows


def growth_by_day(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last history line of each UTC day: date, minutes by status, total minutes and the
    change in accepted minutes since the previous day's last line (for the first day, since
    that day's first line)."""
    ordered = sorted(rows, key=lambda r: r["time"])  # stable: equal times keep file order
    last: dict[str, dict[str, Any]] = {}
    for row in ordered:
        last[row["time"][:10]] = row
    days = []
    previous = ordered[0]["accepted_minutes"] if ordered else 0.0
    for day, row in last.items():
        days.append(
            {
                "date": day,
                "pending_minutes": row["pending_minutes"],
                "accepted_minutes": row["accepted_minutes"],
                "rejected_minutes": row["rejected_minutes"],
                "total_minutes": row["total_minutes"],
                "delta_accepted_minutes": round(row["accepted_minutes"] - previous, 6),
            }
        )
        previous = row["accepted_minutes"]
    return days


# -- plots --------------------------------------------------------------------------
def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    """A matplotlib Figure on the Agg canvas (no pyplot, no global backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _barh(title: str, labels: list[str], minutes: list[float]) -> bytes:
    fig = _figure(7.0, max(2.5, 0.3 * len(labels) + 1.2))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    ax.barh(positions, minutes, color="#336699")
    ax.set_yticks(positions, labels=labels)
    ax.invert_yaxis()
    ax.set_xlabel("minutes")
    ax.set_title(title)
    return _png(fig)


def plot_pngs(workspace: Workspace, rep: Report) -> dict[str, bytes]:
    """The report's plots as PNG bytes by file name: clip durations, minutes over time (from
    manifests/history.csv, with the target), minutes per accent region and per speaker."""
    pngs: dict[str, bytes] = {}
    label = _title(rep)

    fig = _figure()
    ax = fig.add_subplot()
    if rep.histogram:
        ax.bar(
            [a for a, _, _ in rep.histogram],
            [n for _, _, n in rep.histogram],
            width=[b - a for a, b, _ in rep.histogram],
            align="edge",
            color="#336699",
            edgecolor="white",
        )
    ax.set_xlabel("clip length (s)")
    ax.set_ylabel("clips")
    ax.set_title(f"clip lengths: {label}")
    pngs["durations.png"] = _png(fig)

    fig = _figure()
    ax = fig.add_subplot()
    rows = history(workspace)
    if rows:
        times = [datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in rows]
        for state, colour in (("accepted", "#2a9d4b"), ("pending", "#e0a030"), ("rejected", "#c04040")):
            ax.step(times, [r[f"{state}_minutes"] for r in rows], where="post", label=state, color=colour)
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.text(0.5, 0.5, "no history yet", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(rep.target_minutes, linestyle="--", color="black", label=f"target {rep.target_minutes:g} min")
    ax.set_ylabel("minutes")
    ax.set_title("minutes over time")
    ax.legend(loc="upper left")
    pngs["minutes_over_time.png"] = _png(fig)

    seconds = {r.key: r.seconds for r in rep.breakdowns["accent"]}
    regions = list(rep.accents) + [k for k in seconds if k not in rep.accents]
    pngs["accents.png"] = _barh(
        f"minutes per accent region: {label}",
        [_key(k) for k in regions],
        [seconds.get(k, 0.0) / 60 for k in regions],
    )
    speakers = rep.breakdowns["speaker"][:_MAX_BARS]
    pngs["speakers.png"] = _barh(
        f"minutes per speaker: {label}", [_key(r.key) for r in speakers], [r.minutes for r in speakers]
    )
    return pngs


def write_plots(workspace: Workspace, rep: Report, folder: Path) -> list[Path]:
    """Write the plots (see `plot_pngs`) as PNG files into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in plot_pngs(workspace, rep).items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def _html_table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
    "td:not(:first-child){text-align:right}caption{text-align:left;font-weight:bold}"
    ".warn{color:#a05000}img{max-width:100%}"
)


def write_html(workspace: Workspace, rep: Report, path: Path) -> None:
    """Write one self-contained HTML page: the tables and the plots as base64 PNG data URIs;
    no external resources, every value escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(rep.name)} report</title><style>{_CSS}</style></head><body>",
        f"<h1>Corpus report: {e(rep.name)}</h1>",
        f"<p>Generated {e(rep.generated_at)}; {e(_title(rep))}.</p>",
        _html_table(
            ["stage", "clips", "minutes"],
            [[s.name, "" if s.clips is None else str(s.clips), f"{s.minutes:.2f}"] for s in rep.stages],
        ),
        f"<p>Progress: {rep.accepted_seconds / 60:.2f} of {e(f'{rep.target_minutes:g}')} accepted minutes "
        f"({rep.progress:.1%}).</p>",
    ]
    if rep.warnings:
        parts.append("<h2>Warnings</h2><ul>")
        parts += [f"<li class='warn'>{e(w.message)}</li>" for w in rep.warnings]
        parts.append("</ul>")
    for name in BREAKDOWNS:
        parts.append(
            _html_table(
                [name, "clips", "minutes", "share", "mean s", "min s", "max s"],
                [
                    [_key(r.key), str(r.clips), f"{r.minutes:.2f}", f"{r.share:.1%}",
                     f"{r.mean_s:.3f}", f"{r.min_s:.3f}", f"{r.max_s:.3f}"]
                    for r in rep.breakdowns[name]
                ],
                caption=f"by {name}",
            )
        )  # fmt: skip
    for name, data in plot_pngs(workspace, rep).items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(f"<figure><img alt='{e(name)}' src='{uri}'></figure>")
    parts.append("</body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")

"""The warnings of the corpus report: a speaker or source holding too much of the stage,
thin accent regions, too many minutes carrying one quality flag, and duplicate groups with
more than one clip in the stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from .views import QUALITY_FLAGS

if TYPE_CHECKING:
    from .report import Row


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


def _total(values: pa.ChunkedArray | pa.Array) -> float:
    return float(pc.sum(values).as_py() or 0.0)


def share_warnings(
    breakdowns: dict[str, tuple[Row, ...]],
    total: float,
    accents: tuple[str, ...],
    max_share: float,
    min_region_minutes: float,
    publishable: bool = False,
) -> tuple[ReportWarning, ...]:
    """A speaker or source holding more than `max_share` of `total` seconds, and each accent
    region of `accents` with no minutes or fewer than `min_region_minutes`. With `publishable`
    (the accepted stage), a region counts only the minutes a release could hold: those of a
    denied speaker, an unlicensed source and the like never fill it, and are named apart."""
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
    rows = {row.key: row for row in breakdowns["accent"]}
    for region in accents:
        row = rows.get(region)
        stage = row.seconds if row else 0.0
        have = (row.publishable_seconds if publishable else stage) if row else 0.0
        share = have / total if total else 0.0
        kind = "publishable " if publishable and stage > have else ""
        held = f"; {(stage - have) / 60:.2f} accepted min cannot be published" if kind else ""
        if have <= 0:
            found.append(
                ReportWarning(
                    "region",
                    region,
                    0.0,
                    0.0,
                    f"accent region {region!r} has no {kind}minutes" + (f" ({held[2:]})" if held else ""),
                )
            )
        elif have / 60 < min_region_minutes:
            found.append(
                ReportWarning(
                    "region",
                    region,
                    have,
                    share,
                    f"accent region {region!r} has only {have / 60:.2f} {kind}min "
                    f"(fewer than {min_region_minutes:g}{held})",
                )
            )
    return tuple(found)


def quality_warnings(hints: tuple[Row, ...], total: float, max_flagged_share: float) -> list[ReportWarning]:
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


def duplicate_warnings(chosen: pa.Table, total: float, status: str) -> list[ReportWarning]:
    """One warning when some duplicate group holds two or more of the `chosen` clips: the number
    of such groups and the seconds beyond the longest clip of each."""
    grouped = chosen.filter(pc.not_equal(chosen["duplicate_group"], "")).group_by("duplicate_group")
    grouped = grouped.aggregate([("duration", "count"), ("duration", "sum"), ("duration", "max")])
    repeated = grouped.filter(pc.greater_equal(grouped["duration_count"], 2))
    groups = repeated.num_rows
    if groups == 0:
        return []
    repeats = _total(repeated["duration_sum"]) - _total(repeated["duration_max"])
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

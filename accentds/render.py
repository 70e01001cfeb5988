"""The corpus report as JSON, CSV, Markdown and rich tables (the HTML page is in plots.py).

Each breakdown row shows its minutes, the share of them a release could hold ("publishable")
and what it could not hold, by reason ("not publishable"); progress counts publishable
minutes only.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from .publishable import describe
from .report import BREAKDOWNS, Report, Row, Stage

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

CSV_COLUMNS = [
    "section", "key", "clips", "minutes", "share", "mean_s", "min_s", "max_s", "publishable_minutes",
    "not_publishable",
]  # fmt: skip
BREAKDOWN_HEADER = ["clips", "minutes", "publishable", "share", "mean s", "min s", "max s", "not publishable"]


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def key_text(key: str) -> str:
    """A breakdown key as shown: "(none)" for the empty one."""
    return key or "(none)"


def held_text(row: Row, digits: int = 2) -> str:
    """`0.20 unlicensed source; 0.10 denied speaker`: the row's minutes a release could not hold."""
    return "; ".join(f"{seconds / 60:.{digits}f} {reason}" for reason, seconds in row.held_back)


def breakdown_cells(row: Row, digits: int = 3) -> list[str]:
    """The cells of one breakdown row after its key, in the order of BREAKDOWN_HEADER."""
    return [
        str(row.clips), f"{row.minutes:.2f}", f"{row.publishable_minutes:.2f}", f"{row.share:.1%}",
        f"{row.mean_s:.{digits}f}", f"{row.min_s:.{digits}f}", f"{row.max_s:.{digits}f}", held_text(row),
    ]  # fmt: skip


def title(rep: Report) -> str:
    """What the breakdowns cover: `accepted clips cut since 2024-05-01`."""
    label = "all clips" if rep.status == "all" else f"{rep.status} clips"
    return label + (f" cut since {rep.since}" if rep.since else "")


def progress_text(rep: Report) -> str:
    """`0.30 of 1 publishable minutes (30.0%); 0.20 accepted minutes cannot be published:
    unlicensed source 0.20 min`; with `since`, `0.17 publishable minutes cut since 2024-02-01:
    17.5% of the 1-minute target` (what those clips add, not where the corpus stands)."""
    if rep.since:  # not the corpus's progress: what the clips cut since then bring to it
        text = (
            f"{rep.publishable_seconds / 60:.2f} publishable minutes cut since {rep.since}: "
            f"{rep.progress:.1%} of the {rep.target_minutes:g}-minute target"
        )
    else:
        text = f"{rep.publishable_seconds / 60:.2f} of {rep.target_minutes:g} publishable minutes ({rep.progress:.1%})"
    if rep.held_back:
        held = sum(h.seconds for h in rep.held_back) / 60
        text += f"; {held:.2f} accepted minutes cannot be published: {describe(rep.held_back)}"
    return text


def region_rows(rep: Report) -> list[list[str]]:
    """Rows of region, publishable minutes, target minutes and progress."""
    return [
        [t.region, f"{t.publishable_seconds / 60:.2f}", f"{t.target_minutes:g}", f"{t.progress:.1%}"]
        for t in rep.region_targets
    ]


REGION_HEADER = ["accent region", "publishable minutes", "target", "progress"]


def stage_rows(rep: Report) -> list[list[str]]:
    """Rows of stage, clips and minutes."""
    return [[s.name, "" if s.clips is None else str(s.clips), f"{s.minutes:.2f}"] for s in rep.stages]


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
        "publishable_seconds": _r(row.publishable_seconds),
        "not_publishable": [{"reason": r, "seconds": _r(s)} for r, s in row.held_back],
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
            "publishable_minutes": _r(rep.publishable_seconds / 60, 6),
            "share": _r(rep.progress, 6),
            "not_publishable": [
                {"reason": h.reason, "clips": h.clips, "minutes": _r(h.minutes, 6)} for h in rep.held_back
            ],
        },
        "region_targets": [
            {
                "region": t.region,
                "target_minutes": t.target_minutes,
                "publishable_minutes": _r(t.publishable_seconds / 60, 6),
                "share": _r(t.progress, 6),
            }
            for t in rep.region_targets
        ],
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
    blank = ["", "", "", "", ""]
    rows: list[list[Any]] = []
    for s in rep.stages:
        rows.append(["stage", s.name, "" if s.clips is None else s.clips, f"{s.minutes:.6f}", *blank, ""])
    rows.append(
        ["progress", f"publishable of {rep.target_minutes:g} min", "", f"{rep.publishable_seconds / 60:.6f}",
         f"{rep.progress:.6f}", *blank]
    )  # fmt: skip
    for h in rep.held_back:
        rows.append(["not publishable", h.reason, h.clips, f"{h.minutes:.6f}", *blank, ""])
    for t in rep.region_targets:
        rows.append(
            ["region target", f"{t.region} of {t.target_minutes:g} min", "", f"{t.publishable_seconds / 60:.6f}",
             f"{t.progress:.6f}", *blank]
        )  # fmt: skip
    for name in BREAKDOWNS:
        for r in rep.breakdowns[name]:
            rows.append(
                [name, r.key, r.clips, f"{r.minutes:.6f}", f"{r.share:.6f}",
                 f"{r.mean_s:.3f}", f"{r.min_s:.3f}", f"{r.max_s:.3f}", f"{r.publishable_minutes:.6f}",
                 "; ".join(f"{reason}: {seconds / 60:.6f}" for reason, seconds in r.held_back)]
            )  # fmt: skip
    for w in rep.warnings:
        rows.append([f"warning:{w.kind}", w.key, "", f"{w.seconds / 60:.6f}", f"{w.share:.6f}", *blank])
    return rows


def to_csv(rep: Report) -> str:
    """One table: section, key, clips, minutes, share, mean_s, min_s, max_s,
    publishable_minutes, not_publishable (`reason: minutes; ...`). Sections are `stage`,
    `progress` (publishable minutes of the target), `not publishable` (accepted minutes by
    reason), `region target`, the breakdowns and `warning:<kind>`; cells that do not apply
    are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(rep))
    return buffer.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(rep: Report) -> str:
    """The report as Markdown: stages, progress, region targets, warnings and one table per
    breakdown (minutes to two decimals, shares as percentages, clip lengths in seconds)."""
    lines = [
        f"# Corpus report: {_md_cell(rep.name)}",
        "",
        f"Generated {rep.generated_at}; {title(rep)}.",
        "",
    ]
    lines += _md_table(["stage", "clips", "minutes"], stage_rows(rep))
    lines += ["", f"Progress: {_md_cell(progress_text(rep))}.", ""]
    if rep.region_targets:
        lines += [*_md_table(REGION_HEADER, region_rows(rep)), ""]
    if rep.warnings:
        lines += ["## Warnings", ""] + [f"- {_md_cell(w.message)}" for w in rep.warnings] + [""]
    for name in BREAKDOWNS:
        lines += [f"## By {name}", ""]
        lines += _md_table(
            [name, *BREAKDOWN_HEADER], [[key_text(r.key), *breakdown_cells(r)] for r in rep.breakdowns[name]]
        )
        lines.append("")
    return "\n".join(lines)


KEY_WIDTH = 32  # a longer breakdown key may be cut short on a narrow terminal


def rich_tables(rep: Report) -> list[Table]:
    """Tables for the terminal: stages (with progress), region targets, warnings, then one
    per breakdown. Every value is shown as text (no rich markup is interpreted)."""
    from rich.table import Table
    from rich.text import Text

    stages = Table(title=f"{rep.name}: {title(rep)}", box=None, pad_edge=False)
    for column, justify in (("stage", "left"), ("clips", "right"), ("minutes", "right")):
        stages.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in stage_rows(rep):
        stages.add_row(Text(row[0]), *row[1:])
    stages.caption = Text(f"target: {progress_text(rep)}")
    tables = [stages]
    if rep.region_targets:
        regions = Table(title="region targets", box=None, pad_edge=False)
        for i, column in enumerate(REGION_HEADER):
            regions.add_column(column, justify="left" if i == 0 else "right")
        for row in region_rows(rep):
            regions.add_row(Text(row[0]), *row[1:])
        tables.append(regions)
    if rep.warnings:
        warn = Table(title="warnings", box=None, pad_edge=False, show_header=False)
        warn.add_column("warning")
        for w in rep.warnings:
            warn.add_row(Text(w.message, style="yellow"))
        tables.append(warn)
    for name in BREAKDOWNS:
        table = Table(title=f"by {name}", box=None, pad_edge=False, collapse_padding=True)
        keys = [key_text(r.key) for r in rep.breakdowns[name]]
        # keys whole, on one line each: a source id cut short names no source, and "noisy quiet"
        # wrapped reads as two rows
        table.add_column(name, no_wrap=True, min_width=min(KEY_WIDTH, max(map(len, [name, *keys]))))
        rows = [breakdown_cells(r, digits=2) for r in rep.breakdowns[name]]
        for i, column in enumerate(BREAKDOWN_HEADER):
            # numbers and words whole (a `0.…` names no number); headers and reasons wrap at spaces
            width = max(
                len(word) for text in (column, *(cells[i] for cells in rows)) for word in text.split()
            )
            # "mean s" over two lines rather than a table wider than 80 columns
            table.add_column(
                column, justify="right", min_width=width, max_width=width if " s" in column else None
            )
        table.columns[-1].justify = "left"
        for r, cells in zip(rep.breakdowns[name], rows, strict=True):
            table.add_row(Text(key_text(r.key)), *cells[:-1], Text(cells[-1]))
        tables.append(table)
    return tables


def table_width(console: Console, table: Table) -> int:
    """The width to print `table` at: the console's, or the least that shows every cell at
    the minimum width it asks for (wider than a narrow terminal, which then wraps the lines,
    rather than cut numbers short)."""
    from rich.measure import Measurement

    wide = console.options.update_width(10_000)
    return max(console.width, Measurement.get(console, wide, table).minimum)

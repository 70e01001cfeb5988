"""Export the joined manifest (every clip with its duration, provenance and labels)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import AccentdsError
from .files import atomic_path, write_parquet
from .views import build_manifest, write_csv_table
from .workspace import Workspace

EXPORT_FORMATS = ("csv", "parquet", "jsonl")
WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers")  # files a spreadsheet saves as its own
KEPT = ("manifests", "clips", "raw", "releases")  # folders whose files accentds writes itself


def export_format(fmt: str | None, output: Path | None) -> str:
    """The format to write: `fmt`, else the one `output`'s suffix names, else csv. A suffix
    naming another format than `fmt` is refused (a .jsonl file holding CSV)."""
    named = output.suffix.lower().lstrip(".") if output else ""
    if fmt is None:
        return named if named in EXPORT_FORMATS else "csv"
    if named in EXPORT_FORMATS and named != fmt:
        raise AccentdsError(f"{output} ends in .{named} but --format is {fmt}: give one or the other")
    return fmt


def check_target(workspace: Workspace, output: Path) -> None:
    """Refuse to write an export over a folder or the workspace's own files (accentds.toml,
    manifests/, clips/, raw/, releases/): it would replace the labels or clips with it. A
    name a spreadsheet's workbook has (.xlsx, .ods, ...) is refused too: a spreadsheet
    refuses to open the text under it."""
    if output.resolve().is_dir():
        raise AccentdsError(f"{output} is a folder: give the name of a file to write")
    if output.suffix.lower() in WORKBOOKS:
        raise AccentdsError(
            f"{output} is named as a spreadsheet workbook, which the export is not (a spreadsheet "
            f"would refuse to open it): write it to {output.with_suffix('.csv').name}, which it opens"
        )
    refuse_kept(workspace, output, "the export")


def refuse_kept(workspace: Workspace, output: Path, what: str, instead: str = "") -> None:
    """Refuse `output` (a file or folder to write `what` to, such as "the report") inside the
    folders whose files accentds keeps, or over accentds.toml; `instead` is the name to suggest
    (by default `output`'s own)."""
    target, root = output.resolve(), workspace.root.resolve()
    inside = next((name for name in KEPT if target.is_relative_to(root / name)), None)
    if inside:
        raise AccentdsError(
            f"{output} is inside the workspace's {inside}/, whose files accentds keeps: write {what} "
            f"elsewhere, such as {instead or target.name} in the workspace folder"
        )
    if target == root / "accentds.toml":
        raise AccentdsError(f"{output} is the workspace's settings: write {what} to another file")


def export(workspace: Workspace, fmt: str, output: Path) -> int:
    """Write the joined manifest to `output` as csv, parquet or jsonl; return the row count."""
    if fmt not in EXPORT_FORMATS:
        raise AccentdsError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    check_target(workspace, output)
    table = build_manifest(workspace)
    with atomic_path(output) as tmp:
        if fmt == "csv":
            write_csv_table(table, tmp)
        elif fmt == "parquet":
            write_parquet(table, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as out:
                for row in table.to_pylist():
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return table.num_rows

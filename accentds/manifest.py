"""Export the joined manifest (every clip with its duration, provenance and labels)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import AccentdsError
from .views import build_manifest, write_csv_table
from .workspace import Workspace, atomic_path, write_parquet

EXPORT_FORMATS = ("csv", "parquet", "jsonl")


def export(workspace: Workspace, fmt: str, output: Path) -> int:
    """Write the joined manifest to `output` as csv, parquet or jsonl; return the row count."""
    if fmt not in EXPORT_FORMATS:
        raise AccentdsError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
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

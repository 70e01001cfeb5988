"""Files written whole or not at all, and manifest files read with a clear error: atomic
text, CSV and Parquet writes, CSV reading that names the line a hand edit broke."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import AccentdsError, DamagedManifest
from .models import from_row
from .procs import running
from .sheets import allow_long_fields

UNIQUE_COLUMNS = ("clip_id", "path")  # one value per clip: Parquet writes them without a dictionary
PARQUET_PAGE_BYTES = 1 << 14
PARQUET_BATCH_ROWS = 64


def sha256_file(path: Path) -> str:
    """The sha256 of a file's content, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def copy_hashed(source: Path, target: Path) -> str:
    """Copy a file's content to `target` and return the sha256 of what was copied."""
    digest = hashlib.sha256()
    with open(source, "rb") as handle, open(target, "wb") as out:
        while block := handle.read(1 << 20):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (to tell leftovers of killed runs from live ones);
    a killed process its parent has not reaped yet counts as gone."""
    return running(pid)


def now_iso() -> str:
    """The current UTC time, to the second, ISO 8601."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str, bom: bool = False) -> None:
    """Write text to `path` atomically (as UTF-8, after a byte order mark with `bom`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")


def write_csv_atomic(path: Path, columns: list[str], rows: list[dict[str, Any]], bom: bool = False) -> None:
    """Write rows as CSV (UTF-8, header first) atomically; with `bom`, after a byte order
    mark, so Excel reads the file as UTF-8 (without one it reads Windows-1252)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue(), bom)


def damaged(path: Path, why: object, line: int | None = None) -> AccentdsError:
    """The error for a manifest that cannot be read: which file, where, and what to do."""
    where = f"{path} line {line}" if line else str(path)
    return DamagedManifest(
        f"{where} cannot be read ({why}): it was edited by hand or damaged. Restore it from git "
        f"(`git checkout -- manifests/{path.name}`), or run `accentds doctor` to rebuild what can be rebuilt",
        where,
        str(why),
        path.name,
    )


def _is_conflict_mark(text: str | None) -> bool:
    """Whether `text` begins a line git leaves where a merge conflicts."""
    return bool(text) and (text.startswith(("<<<<<<< ", ">>>>>>> ")) or text.rstrip("\r\n") == "=======")


def conflict_line(path: Path) -> int | None:
    """The first line of `path` that git left to mark a merge conflict, if any."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return next((n for n, line in enumerate(handle, start=1) if _is_conflict_mark(line)), None)
    except OSError:
        return None


def merge_conflict(path: Path, line: int) -> AccentdsError:
    """The error for a manifest git could not merge: which line, and how to settle it."""
    where = f"{path} line {line}"
    return DamagedManifest(
        f"{where} holds a git merge conflict (the lines from <<<<<<< to >>>>>>>): both clones changed "
        f"it. Keep one side of each conflict and delete the marker lines, or keep one clone's file whole "
        f"(`git checkout --ours manifests/{path.name}` for this one's, `--theirs` for the other's), "
        "then run the command again",
        where,
        "a git merge conflict",
        path.name,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts; a missing file has no rows. One holding a git merge
    conflict is refused, its line named (its rows would be read as some of each side). A
    byte order mark (a spreadsheet's "CSV UTF-8", a labels export) is not read as text."""
    allow_long_fields()
    reader = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, strict=True)  # a stray quote would swallow later rows
            rows = list(reader)
            first = reader.fieldnames[0] if reader.fieldnames else None
            if first is not None and (
                _is_conflict_mark(first) or any(_is_conflict_mark(row.get(first)) for row in rows)
            ):
                raise merge_conflict(path, conflict_line(path) or 1)
            return rows
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise damaged(path, f"not UTF-8 at byte {exc.start}") from None
    except csv.Error as exc:
        raise damaged(path, exc, reader.line_num + 1 if reader else None) from None  # the row begun


def read_records(path: Path, kind: type) -> list[Any]:
    """The rows of a manifest CSV as records of `kind`, naming the line of a bad value."""
    records = []
    for line, row in enumerate(read_csv(path), start=2):
        try:
            records.append(from_row(kind, row))
        except (ValueError, TypeError) as exc:
            raise damaged(path, exc, line) from None
    return records


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a table as zstd Parquet with little memory whatever its size: text columns that
    repeat (not `UNIQUE_COLUMNS`) dictionary-encoded, the rest plain in small pages written
    as they fill. A dictionary-encoded column holds its pages until its dictionary is
    written, and the writer's buffers come from Arrow's default allocator (which
    `pyarrow.set_memory_pool` does not reach) and stay with the process: a dictionary for a
    column of unique values, or large pages and batches, would keep memory in proportion
    to the rows."""
    repeated = [
        f.name
        for f in table.schema
        if (pa.types.is_string(f.type) or pa.types.is_dictionary(f.type)) and f.name not in UNIQUE_COLUMNS
    ]
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=repeated,
        data_page_size=PARQUET_PAGE_BYTES,
        write_batch_size=PARQUET_BATCH_ROWS,
    )


def write_parquet_atomic(path: Path, table: pa.Table) -> None:
    """Write a table as Parquet atomically (see `write_parquet`)."""
    with atomic_path(path) as tmp:
        try:
            write_parquet(table, tmp)
        except OSError as exc:
            if exc.filename is None:  # pyarrow's errors name no file: a full disk names it
                exc.filename = str(tmp)
            raise

"""Workspaces from before the label journal: labels.csv and label_history.csv become
manifests/labels.jsonl once, with every recorded edit kept."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from .journal import LabelJournal, encode, fold, new_tx_id
from .sheets import allow_long_fields, read_sheet

if TYPE_CHECKING:
    from .workspace import Workspace


def migrate_labels(workspace: Workspace, journal: LabelJournal) -> int:
    """Write the journal from the old files (call under the lock); returns its records."""
    from .files import now_iso, write_text_atomic
    from .workspace import EDITABLE_FIELDS

    records: list[dict] = []
    if workspace.history_csv.exists():
        text = workspace.history_csv.read_text(encoding="utf-8-sig", errors="replace")
        allow_long_fields()
        for row in csv.DictReader(io.StringIO(text, newline="")):
            if not row.get("clip_id") or not row.get("field"):
                continue
            change = {"clip": row["clip_id"], "field": row["field"], "old": row.get("old") or ""}
            change["new"] = row.get("new") or ""
            edit = row.get("edit_id") or new_tx_id()
            if records and records[-1]["tx"] == edit:
                records[-1]["changes"].append(change)
                continue
            tx = {"tx": edit, "time": row.get("time") or "", "reviewer": row.get("reviewer") or ""}
            if row.get("undoes"):
                tx["undoes"] = row["undoes"]
            records.append(tx | {"changes": [change]})
    state = fold(records)
    changes = []
    if workspace.labels_csv.exists():
        for row in read_sheet(workspace.labels_csv).rows:
            cid = (row.get("clip_id") or "").strip()
            if not cid:
                continue
            have = state[cid].values if cid in state else {}
            for name in EDITABLE_FIELDS:
                value = row.get(name) or ""
                if name in row and value != have.get(name, ""):
                    changes.append({"clip": cid, "field": name, "old": have.get(name, ""), "new": value})
    if changes:
        why = "labels.csv as it stood when the label journal began"
        records.append({"tx": new_tx_id(), "time": now_iso(), "reviewer": "", "why": why, "changes": changes})
    write_text_atomic(journal.path, b"".join(encode(tx) for tx in records).decode("utf-8"))
    workspace.history_csv.unlink(missing_ok=True)
    return len(records)

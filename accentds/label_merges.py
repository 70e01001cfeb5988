"""Label edits that two clones made to one field of one clip, found once git merged their
journals (`merge=union`): both changed it from the same value, and the current label is the
edit merged last, whichever clone made it. Each is named, so that a person settles it.

In one workspace every edit starts from the value before it (a save based on an older value
is refused), so an edit whose old value is not the value it replaced came from another clone.
Two clones that set the same value do not differ, and setting the field after the merge, to
either value, settles it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from .journal import LabelJournal

_SCHEMA = pa.schema([
    ("time", pa.string()), ("reviewer", pa.string()),
    ("changes", pa.list_(pa.struct([
        ("clip", pa.string()), ("field", pa.string()), ("old", pa.string()), ("new", pa.string()),
    ]))),
])  # fmt: skip


@dataclass(frozen=True)
class MergedEdit:
    """One field of one clip that two clones changed from the same value."""

    clip_id: str
    field: str
    kept: str  # the value now: the edit git's merge put last
    kept_by: str
    lost: str  # the other clone's value, overridden by it
    lost_by: str


def merged_edits(journal: LabelJournal) -> list[MergedEdit]:
    """The fields whose last edit started from another value than the one it replaced (see the
    module), in clip order. Read on columns: a 100,000-clip journal costs a fraction of a second."""
    data = journal._bytes()
    data = data[: data.rfind(b"\n") + 1]
    if not data.strip():
        return []
    try:
        parsed = pajson.read_json(
            pa.BufferReader(data),
            parse_options=pajson.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return []  # a damaged line: the command reading the labels says which
    changes = parsed["changes"].combine_chunks()
    if len(changes) == 0:
        return []
    record = pc.list_parent_indices(changes).to_numpy()
    flat = pc.list_flatten(changes)
    if len(flat) < 2:
        return []
    clips = pc.dictionary_encode(flat.field("clip"))
    fields = pc.dictionary_encode(flat.field("field"))
    key = clips.indices.to_numpy().astype(np.int64) * len(fields.dictionary) + fields.indices.to_numpy()
    order = np.argsort(key, kind="stable")  # each clip's field, its edits in file order
    key = key[order]
    take = pa.array(order)
    old, new = flat.field("old").take(take), flat.field("new").take(take)
    same = key[1:] == key[:-1]  # the edit follows another of the same field
    last = np.append(key[1:] != key[:-1], True)[1:]  # and is that field's last
    started = pc.fill_null(pc.not_equal(old.slice(1), new.slice(0, len(new) - 1)), False).to_numpy(
        zero_copy_only=False
    )
    differs = pc.fill_null(pc.not_equal(new.slice(1), new.slice(0, len(new) - 1)), False).to_numpy(
        zero_copy_only=False
    )
    found = np.flatnonzero(same & last & started & differs) + 1
    reviewers = parsed["reviewer"].combine_chunks()
    edits = []
    for at in found.tolist():
        kept_at, lost_at = int(order[at]), int(order[at - 1])
        edits.append(
            MergedEdit(
                clip_id=flat.field("clip")[kept_at].as_py(),
                field=flat.field("field")[kept_at].as_py(),
                kept=new[at].as_py() or "",
                kept_by=reviewers[int(record[kept_at])].as_py() or "",
                lost=new[at - 1].as_py() or "",
                lost_by=reviewers[int(record[lost_at])].as_py() or "",
            )
        )
    return sorted(edits, key=lambda e: (e.clip_id, e.field))


def merged_fields(records: Iterable[dict]) -> set[tuple[str, str]]:
    """The (clip, field) pairs of `records` (oldest first) whose last edit is one of two clones'
    (see `merged_edits`): setting such a field is recorded even to the value it has, which keeps
    that value and settles it."""
    value: dict[tuple[str, str], str] = {}
    merged: set[tuple[str, str]] = set()
    for tx in records:
        for change in tx["changes"]:
            key = (change["clip"], change["field"])
            old, new = change.get("old"), change["new"]
            if key in value and old is not None and old != value[key] and new != value[key]:
                merged.add(key)
            else:
                merged.discard(key)
            value[key] = new
    return merged


def merged_edit_warnings(journal: LabelJournal) -> list[str]:
    """One warning naming the fields two clones changed (the first few), and how to settle them."""
    edits = merged_edits(journal)
    if not edits:
        return []
    first = edits[0]
    shown = "; ".join(
        f"{e.clip_id} {e.field} {json.dumps(e.kept, ensure_ascii=False)} ({e.kept_by or '?'}) over "
        f"{json.dumps(e.lost, ensure_ascii=False)} ({e.lost_by or '?'})"
        for e in edits[:3]
    ) + (f"; and {len(edits) - 3} more" if len(edits) > 3 else "")
    settle = _label_command(first)
    example = f", e.g. `{settle}`" if settle else ""
    return [
        f"{len(edits)} label(s) were changed in two clones from the same value, and git's merge kept the one "
        f"merged last: {shown}. Settle each by setting the value to keep (the kept one too){example}; "
        "`accentds labels history CLIP_ID` shows both"
    ]


def _label_command(edit: MergedEdit) -> str:
    """The `accentds label` that sets the value the merge overrode, where there is one."""
    if edit.field == "status":
        flag = {"accepted": "--accept", "rejected": "--reject", "pending": "--pending"}.get(edit.lost)
        return f"accentds label {edit.clip_id} {flag}" if flag else ""
    option = {"accent_evidence": "--evidence"}.get(edit.field, f"--{edit.field}")
    if edit.field not in ("transcript", "speaker", "accent", "accent_evidence", "note"):
        return ""
    return f"accentds label {edit.clip_id} {option} {shlex.quote(edit.lost)}"

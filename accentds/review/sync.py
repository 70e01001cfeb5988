"""The review page kept in step with the workspace: a cheap state to poll (a re-cut, labels
saved elsewhere), the rows changed since, where a re-cut clip's labels went, and bulk saves
and undo as single recorded changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..errors import AccentdsError
from ..journal import new_tx_id
from ..label_undo import moved_to, undo_tx
from ..labels import LabelConflict, set_labels
from ..workspace import Workspace

CLIP_ID = r"[A-Za-z0-9_-]{1,200}"
Rows = Callable[[Iterable[str]], list[dict[str, Any]]]


class BulkEdit(BaseModel):
    """The body of a bulk save: the fields to set on every clip, each with its loaded version."""

    values: dict[str, str]
    versions: dict[str, int]


class UndoRequest(BaseModel):
    """The body of an undo: the recorded change (as a save or bulk save returned it)."""

    tx: str


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def data_state(workspace: Workspace) -> dict[str, Any]:
    """What changes when the clips are re-cut (`clips`) or any label is saved (`labels`, the
    label journal's size: it only grows)."""
    try:
        info = workspace.clips_parquet.stat()
        clips = f"{info.st_mtime_ns:x}-{info.st_size:x}"
    except FileNotFoundError:
        clips = ""
    try:
        labels = workspace.labels_journal.stat().st_size
    except FileNotFoundError:
        labels = 0
    return {"clips": clips, "labels": labels}


def touched_since(workspace: Workspace, since: int, size: int) -> list[str]:
    """The clips named by journal lines between byte offsets `since` and `size`."""
    if size <= since:
        return []
    with open(workspace.labels_journal, "rb") as handle:
        handle.seek(since)
        data = handle.read(size - since)
    touched = []
    for line in data.splitlines():
        try:
            touched += [c["clip"] for c in json.loads(line)["changes"]]
        except (ValueError, KeyError, TypeError):
            continue
    return list(dict.fromkeys(touched))


def change_routes(
    workspace: Workspace, reviewer: str, rows: Rows, exists: Callable[[str], bool]
) -> APIRouter:
    """The routes of the page's changes: /api/state, /api/changes, /api/clip/…/moved,
    /api/bulk and /api/undo; `rows` gives the queue rows of clips, `exists` tells a clip
    of clips.parquet."""
    router = APIRouter()

    @router.get("/api/state")
    def current_state() -> JSONResponse:
        """A cheap check for changes: the clips' version and the label journal's size."""
        return _json(data_state(workspace))

    @router.get("/api/changes")
    def changes(since: int = 0) -> JSONResponse:
        """The rows of clips whose labels changed after journal offset `since` (a state's
        `labels`), with the state now; `reload` when the journal is not the one read."""
        now = data_state(workspace)
        if since < 0 or since > now["labels"]:
            return _json({"reload": True, "state": now})
        return _json({"clips": rows(touched_since(workspace, since, now["labels"])), "state": now})

    @router.get("/api/clip/{clip_id}/moved")
    def moved(clip_id: str) -> JSONResponse:
        """Where a clip that no longer exists went: the clip its labels moved to by a re-cut
        (followed through later re-cuts), or none (kept as orphans)."""
        if not re.fullmatch(CLIP_ID, clip_id):
            return _json({"error": "no such clip"}, 404)
        if exists(clip_id):
            return _json({"exists": True, "clip_id": clip_id})
        found = moved_to(workspace, clip_id)
        found["to"] = found["to"] if found["to"] and exists(found["to"]) else None
        return _json({"exists": False, "clip_id": clip_id, **found})

    @router.post("/api/bulk", response_model=None)
    def bulk(edit: BulkEdit) -> JSONResponse:
        """Set the same fields on many clips as one recorded change, refused (409) whole if
        any clip changed since the version the page sent."""
        ids = list(edit.versions)
        if not ids or not all(re.fullmatch(CLIP_ID, cid) for cid in ids):
            return _json({"error": "name the clips to change"}, 400)
        tx = new_tx_id()
        try:
            changed = set_labels(workspace, ids, edit.values, reviewer, versions=edit.versions, tx_id=tx)
        except LabelConflict as exc:
            return _json({"error": f"{exc}; nothing was changed", "clip_id": exc.clip_id}, 409)
        except AccentdsError as exc:
            return _json({"error": str(exc)}, 400)
        touched = len({c.clip_id for c in changed})
        state = data_state(workspace)
        return _json({"tx": tx if changed else "", "changed": touched, "clips": rows(ids), "state": state})

    @router.post("/api/undo", response_model=None)
    def undo(request: UndoRequest) -> JSONResponse:
        """Undo one change the page recorded (a save or a bulk save)."""
        try:
            changed = undo_tx(workspace, request.tx, reviewer)
        except AccentdsError as exc:
            return _json({"error": str(exc)}, 409)
        return _json({"clips": rows(c.clip_id for c in changed), "state": data_state(workspace)})

    return router

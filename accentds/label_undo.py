"""Undoing label changes: a clip's newest change, one recorded change (a page save, a bulk
action) or a whole `labels import`; each undo is itself a recorded change."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from .errors import AccentdsError
from .journal import ClipLabels, fold
from .labels import Change, _unknown, apply_edits, default_reviewer
from .workspace import DRAFT_DISMISSED, Workspace

MOVES = ("boundary edit of ", "split of ", "re-cut of ")  # records that moved labels between clips


def undo(workspace: Workspace, clip_id: str, reviewer: str = "") -> list[Change]:
    """Restore the values a clip had before its last change that is not undone yet."""
    with workspace.lock():
        records = workspace.journal().for_clips([clip_id])
        undone = {tx.get("undoes") for tx in records}
        edits = [tx for tx in records if not tx.get("undoes") and tx.get("tx") not in undone]
        if not edits:
            if not records and _unknown(workspace, [clip_id]):
                raise AccentdsError(f"unknown clip id(s): {clip_id}; `accentds labels list` shows them")
            raise AccentdsError(f"nothing to undo for {clip_id}")
        last = edits[-1]
        if str(last.get("why", "")).startswith(MOVES):
            raise AccentdsError(_no_undo_of_move(clip_id, last))
        restore = {c["field"]: c.get("old", "") for c in last["changes"] if c["clip"] == clip_id}
        return apply_edits(
            workspace,
            _keeping_drafts(records, {clip_id: restore}),
            reviewer or default_reviewer(),
            undoes=last.get("tx", ""),
        )


def _keeping_drafts(records: list[dict], restore: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """`restore` with each clip's draft dismissal as it is now where the undone change left
    it alone: an empty transcript put back shows the caption draft it showed before, instead
    of dismissing it as an empty transcript typed in would."""
    labels = fold(records, set(restore))
    for cid, values in restore.items():
        if values.get("transcript") == "" and DRAFT_DISMISSED not in values:
            values[DRAFT_DISMISSED] = labels.get(cid, ClipLabels()).values.get(DRAFT_DISMISSED, "")
    return restore


def _no_undo_of_move(clip_id: str, tx: dict) -> str:
    """Why `undo` leaves a boundary edit, split or re-cut alone: undone, it would clear the
    labels of the clip that holds the audio now (or put them back on a clip that is gone)."""
    what = str(tx["why"]).split(":", 1)[0]
    if any(c["clip"] == clip_id and c.get("new") for c in tx["changes"]):
        how = f"change its labels with `accentds label {clip_id} ...`"
    else:
        moved = sorted({c["clip"] for c in tx["changes"] if c["clip"] != clip_id and c.get("new")})
        how = f"its labels are on {', '.join(moved[:3])}{' ...' if len(moved) > 3 else ''} now"
    return (
        f"the newest change of {clip_id} is the {what}, which moved labels with the audio; "
        f"`labels undo` does not undo that: {how} (`accentds labels history {clip_id}` lists its changes)"
    )


def _touches(tx: dict, clips: set[str]) -> bool:
    return any(c["clip"] in clips for c in tx["changes"])


def undo_tx(workspace: Workspace, tx_id: str, reviewer: str = "") -> list[Change]:
    """Undo one recorded change (every clip it touched, as one record), refused if any of
    its clips was changed after it."""
    if not tx_id or not tx_id.isalnum():
        raise AccentdsError(f"no recorded change {tx_id!r}")
    with workspace.lock():
        journal = workspace.journal()
        records = journal.transactions()
        index = next((i for i, tx in enumerate(records) if tx.get("tx") == tx_id), None)
        if index is None:
            raise AccentdsError(f"no recorded change {tx_id!r}")
        if any(tx.get("undoes") == tx_id for tx in records[index + 1 :]):
            raise AccentdsError(f"change {tx_id} was undone already")
        target = records[index]
        clips = {c["clip"] for c in target["changes"]}
        # a later change undone since, and its undo, leave the clips as the target left them:
        # the review page's U undoes its last changes one after another
        after = records[index + 1 :]
        ids = {tx.get("tx") for tx in after}
        undone = {tx.get("undoes") for tx in after} & ids
        live = [tx for tx in after if tx.get("tx") not in undone and tx.get("undoes") not in ids]
        later = {c["clip"] for tx in live for c in tx["changes"]} & clips
        move = next(
            (tx for tx in live if str(tx.get("why", "")).startswith(MOVES) and _touches(tx, later)), None
        )
        if move is not None:  # `labels undo CLIP` leaves those alone too: say where the labels are
            what = str(move["why"]).split(":", 1)[0]
            moved = sorted({c["clip"] for c in move["changes"] if c["clip"] not in clips and c.get("new")})
            to = f" to {', '.join(moved[:3])}{' ...' if len(moved) > 3 else ''}" if moved else ""
            raise AccentdsError(f"the {what} since moved its labels with the audio{to}: change them there")
        if later:
            raise AccentdsError(
                f"{len(later)} clip(s) changed since ({', '.join(sorted(later)[:3])}); undo them one "
                "by one with `accentds labels undo CLIP`"
            )
        restore: dict[str, dict[str, str]] = {}
        for change in target["changes"]:
            restore.setdefault(change["clip"], {})[change["field"]] = change.get("old", "")
        return apply_edits(
            workspace, _keeping_drafts(records, restore), reviewer or default_reviewer(), undoes=tx_id
        )


def undo_last_import(workspace: Workspace, reviewer: str = "") -> list[Change]:
    """Undo the newest `labels import` not undone yet, every clip it changed as one record
    (refused, as `undo_tx`, if any of them changed since)."""
    records = workspace.journal().transactions()
    undone = {tx.get("undoes") for tx in records}
    imports = [
        tx for tx in records if str(tx.get("why", "")).startswith("import of ") and tx.get("tx") not in undone
    ]
    if not imports:
        raise AccentdsError("no labels import to undo")
    return undo_tx(workspace, imports[-1]["tx"], reviewer)


def replaced(workspace: Workspace, clip_ids: Iterable[str]) -> dict[str, tuple[str, list[str]]]:
    """For each of `clip_ids` that a boundary edit, split or re-cut replaced: what did ("boundary
    edit", "split" or "re-cut") and the clips its labels moved to (for a re-cut: not told)."""
    wanted = list(clip_ids)
    moves = [tx for tx in workspace.journal().for_clips(wanted) if str(tx.get("why")).startswith(MOVES)]
    found = {}
    for cid in wanted:
        mine = [tx for tx in moves if any(c["clip"] == cid for c in tx["changes"])]
        if mine:
            what = str(mine[-1]["why"]).split(" of ", 1)[0]
            to = sorted({c["clip"] for c in mine[-1]["changes"] if c["clip"] != cid and c.get("new")})
            found[cid] = (what, to if what != "re-cut" else [])
    return found


def moved_to(workspace: Workspace, clip_id: str) -> dict[str, Any]:
    """Where the labels of a clip went: the clip a re-cut moved them to (followed through
    later re-cuts), and why; `to` is None when no re-cut moved them."""
    journal = workspace.journal()
    at, why, seen = None, "", {clip_id}
    while True:
        found = None
        for tx in journal.for_clips([clip_id]):
            if not tx.get("why", "").startswith("re-cut of"):
                continue
            # a move clears each field of the old clip, then sets it on the new one
            for change, after in itertools.pairwise(tx["changes"]):
                if change["clip"] == clip_id and change["new"] == "" and after["clip"] != clip_id:
                    found, why = after["clip"], tx["why"].split(":", 1)[0]
                    break
        if found is None or found in seen:
            return {"to": at, "why": why}
        at = clip_id = found
        seen.add(found)

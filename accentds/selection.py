"""Which accepted clips may be published: the deny list and the allowed licences."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AccentdsError
from .files import now_iso, read_csv, write_csv_atomic
from .licences import normalise
from .privacy import speaker_key
from .views import build_manifest
from .workspace import Workspace

DENY_KINDS = ("source", "speaker")
DENY_FIELDS = ["kind", "value", "reason", "added_at"]


@dataclass(frozen=True)
class LeftOut:
    """A source or speaker whose accepted clips are not in a release, and why."""

    kind: str  # "source" or "speaker"
    value: str
    cause: str  # "licence" or "deny list"
    reason: str
    clips: int = 0
    seconds: float = 0.0
    # the other (cause, reason) pairs that also leave it out; its clips are counted once, here
    also: tuple[tuple[str, str], ...] = ()

    def described(self) -> str:
        """Every reason it is left out, the deny list's named as such: `on the deny list: ...;
        licence 'X' is not in [publish] allowed_licences`."""
        texts = []
        for cause, reason in ((self.cause, self.reason), *self.also):
            named = cause == "deny list" and reason != "on the deny list"
            texts.append(f"on the deny list: {reason}" if named else reason)
        return "; ".join(texts)


# -- the deny list -------------------------------------------------------------------
def deny_csv(workspace: Workspace) -> Path:
    """manifests/deny.csv: sources and speakers never to publish."""
    return workspace.manifests / "deny.csv"


def read_deny(workspace: Workspace) -> list[dict[str, str]]:
    """Rows of the deny list (kind, value, reason, added_at), oldest first, read as `deny`
    writes them: the kind in lower case, the name with single spaces. A hand-edited row
    that names no source or speaker is refused with its line: it would keep nothing out."""
    path = deny_csv(workspace)
    rows = []
    for line, row in enumerate(read_csv(path), start=2):
        kind = (row.get("kind") or "").strip().lower()
        value = " ".join((row.get("value") or "").split())
        if not kind and not value:
            continue  # a blank line
        if kind not in DENY_KINDS:
            what = f"the kind {row.get('kind') or ''!r} is neither source nor speaker"
        elif not value:
            what = f"no {kind} is named"
        else:
            rows.append({**row, "kind": kind, "value": value})
            continue
        raise AccentdsError(
            f"{path} line {line}: {what}, so the row keeps nothing out of releases: "
            "write it as kind,value,reason,added_at (kind source or speaker) or delete it"
        )
    return rows


def deny(workspace: Workspace, kind: str, value: str, reason: str) -> dict[str, str]:
    """Put a source (by id) or a speaker (by name) on the deny list: no later release holds
    their clips (the reason stays in deny.csv). Returns the row added."""
    kind = kind.strip().lower()
    if kind not in DENY_KINDS:
        raise AccentdsError(f"cannot deny a {kind!r}: give 'source' (a source id) or 'speaker' (a name)")
    value = " ".join(value.split())
    reason = " ".join(reason.split())
    if not value:
        raise AccentdsError(f"give the {kind} to deny")
    if not reason:
        raise AccentdsError("give a reason (--reason): it is kept in manifests/deny.csv, never published")
    with workspace.lock():
        rows = read_deny(workspace)
        for row in rows:
            if row["kind"] == kind and (
                row["value"] == value
                or (kind == "speaker" and speaker_key(row["value"]) == speaker_key(value))
            ):
                raise AccentdsError(
                    f"{kind} {value!r} is already on the deny list since {row.get('added_at') or '?'} "
                    f"({row.get('reason') or 'no reason'}); edit {deny_csv(workspace)} to change the reason"
                )
        if kind == "source":
            known = {s.source_id for s in workspace.read_sources()}
            if value not in known:
                raise AccentdsError(f"unknown source id {value!r}; `accentds status --sources` lists them")
        else:
            speakers = set(build_manifest(workspace)["speaker"].to_pylist()) - {""}
            speakers |= set(workspace.config.labels.speakers)
            if speaker_key(value) not in {speaker_key(s) for s in speakers}:
                listed = ", ".join(repr(s) for s in sorted(speakers)[:20]) or "none yet"
                raise AccentdsError(
                    f"no clip has the speaker {value!r} (speakers: {listed}); check the spelling"
                )
        row = {"kind": kind, "value": value, "reason": reason, "added_at": now_iso()}
        write_csv_atomic(deny_csv(workspace), DENY_FIELDS, [*rows, row])
    return row


def carry_deny(workspace: Workspace, old: str, new: str) -> bool:
    """Before speaker `old` is renamed to `new`: if `old` is denied (in any case), `new` is
    denied too, with the same reason (a merge says they are one person, so the takedown covers
    both). Returns whether `old` is denied; `drop_denied` removes its row once no clip has that
    name in any case."""
    with workspace.lock():
        rows = read_deny(workspace)
        hits = [r for r in rows if r["kind"] == "speaker" and speaker_key(r["value"]) == speaker_key(old)]
        if hits and not any(
            r["kind"] == "speaker" and speaker_key(r["value"]) == speaker_key(new) for r in rows
        ):
            write_csv_atomic(deny_csv(workspace), DENY_FIELDS, [*rows, {**hits[0], "value": new}])
    return bool(hits)


def drop_denied(workspace: Workspace, kind: str, value: str) -> None:
    """Take `value` off the deny list (a speaker renamed after `carry_deny`)."""
    with workspace.lock():
        rows = read_deny(workspace)
        kept = [r for r in rows if not (r["kind"] == kind and r["value"] == value)]
        if len(kept) != len(rows):
            write_csv_atomic(deny_csv(workspace), DENY_FIELDS, kept)


# -- choosing clips --------------------------------------------------------------------
def select_clips(
    rows: list[dict[str, Any]],
    denied: list[dict[str, str]],
    allowed_licences: Sequence[str],
    include_unlicensed: bool,
) -> tuple[list[dict[str, Any]], list[LeftOut], list[str]]:
    """Accepted clips that may be published; what was left out and why; the sources
    included although their licence is not allowed (only with include_unlicensed)."""
    denied_sources = {d["value"]: d.get("reason", "") for d in denied if d["kind"] == "source"}
    denied_speakers = {  # a denied "Anna" keeps "anna" out too
        speaker_key(d["value"]): (d["value"], d.get("reason", "")) for d in denied if d["kind"] == "speaker"
    }
    allowed = {normalise(name) for name in allowed_licences} - {None}
    kept: list[dict[str, Any]] = []
    counts: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    also: dict[tuple[str, str, str, str], set[tuple[str, str]]] = defaultdict(set)
    unlicensed: set[str] = set()
    for row in rows:
        if row["status"] != "accepted":
            continue
        source, speaker, licence = row["source_id"], row["speaker"], row["licence"]
        row["licence"] = normalise(licence) or licence  # published as its SPDX id
        reasons = []  # every reason, the first one counts the clip
        if source in denied_sources:
            reasons.append(("source", source, "deny list", denied_sources[source]))
        if speaker and speaker_key(speaker) in denied_speakers:
            name, reason = denied_speakers[speaker_key(speaker)]
            reasons.append(("speaker", name, "deny list", reason))
        if normalise(licence) not in allowed and not include_unlicensed:
            why = f"licence {licence!r} is not" if licence else "no licence is recorded, so it is not"
            reasons.append(("source", source, "licence", f"{why} in [publish] allowed_licences"))
        if not reasons:
            if normalise(licence) not in allowed:
                unlicensed.add(source)
            kept.append(row)
            continue
        key = reasons[0]
        counts[key][0] += 1
        counts[key][1] += float(row["duration"])
        also[key].update(r[2:] for r in reasons[1:] if r[:2] == key[:2])  # the same source's other reasons
    left = {
        key: LeftOut(*key, clips=int(n), seconds=round(s, 3), also=tuple(sorted(also[key])))
        for key, (n, s) in counts.items()
    }
    for entry in denied:  # the whole deny list is recorded, matching clips or not
        key = (entry["kind"], entry["value"], "deny list", entry.get("reason", ""))
        left.setdefault(key, LeftOut(*key))
    left_out = sorted(left.values(), key=lambda x: (x.kind, x.value, x.cause))
    return kept, left_out, sorted(unlicensed)

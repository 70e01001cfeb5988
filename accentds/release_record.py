"""What a release records of itself in release.json: the settings its clips were cut and
published with, its counts and minutes, its splits and what was left out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from . import __version__
from .card import Build, seconds_of
from .errors import AccentdsError
from .markup import release_minutes
from .privacy import speaker_key
from .selection import LeftOut, read_deny
from .splits import pending_moves, source_node, speaker_node, split_node
from .workspace import Workspace

VAD_COLUMNS = (
    "vad_aggressiveness",
    "vad_frame_ms",
    "vad_padding_ms",
    "vad_merge_gap_ms",
    "vad_min_clip_s",
    "vad_max_clip_s",
)


DETECTOR_SETTINGS = (
    "backend", "silero_threshold", "confirm_threshold", "min_clip_prob", "silero_max_gain_db", "music_noise_check"
)  # fmt: skip


def vad_settings(
    rows: Sequence[Mapping[str, Any]], recorded: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The distinct VAD settings the clips were cut with, and how many clips each; the
    detector and its thresholds from `recorded` (manifests/cut_settings.json), "" where a
    cut from before it left none."""
    counted: dict[tuple[Any, ...], int] = Counter(
        (row["settings_id"], *(row[c] for c in VAD_COLUMNS)) for row in rows
    )
    settings = []
    for key, clips in sorted(counted.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        entry = {"settings_id": key[0]}
        entry |= {c.removeprefix("vad_"): v for c, v in zip(VAD_COLUMNS, key[1:], strict=True)}
        entry |= {name: recorded.get(key[0], {}).get(name, "") for name in DETECTOR_SETTINGS}
        entry["clips"] = clips
        settings.append(entry)
    return settings


def by_group(nodes: Mapping[str, str], public: Callable[[str], str]) -> dict[str, str]:
    """node -> split as release.json keeps it: a speaker as the release names them, or `source:<id>`."""
    return {(n if n.startswith("source:") else public(split_node(n)[1])): s for n, s in nodes.items()}


def denied_rows(
    rows: Sequence[Mapping[str, Any]], denied: Sequence[Mapping[str, str]]
) -> list[Mapping[str, Any]]:
    """The clips of `rows` a takedown keeps out: of a source or a speaker (in any case) on the
    deny list, whatever their status (clips rejected before the deny were theirs too: their
    recording leaves the splits table, and the changelog does not list them)."""
    speakers = {speaker_key(d["value"]) for d in denied if d["kind"] == "speaker"}
    sources = {d["value"] for d in denied if d["kind"] == "source"}
    return [
        row
        for row in rows
        if row["source_id"] in sources or (row["speaker"] and speaker_key(row["speaker"]) in speakers)
    ]


def taken_down_copies(
    rows: Sequence[Mapping[str, Any]], kept: Sequence[Mapping[str, Any]], denied: Sequence[Mapping[str, str]]
) -> list[Mapping[str, Any]]:
    """The clips of `kept` in the duplicate group of a clip a takedown keeps out, by clip id."""
    taken = {r["duplicate_group"] for r in denied_rows(rows, denied) if r.get("duplicate_group")}
    return sorted((r for r in kept if r.get("duplicate_group") in taken), key=lambda r: r["clip_id"])


def copies_of_taken_down(
    rows: Sequence[Mapping[str, Any]],
    kept: Sequence[Mapping[str, Any]],
    denied: Sequence[Mapping[str, str]],
    force: bool,
) -> list[str]:
    """Refuse clips of the release that are copies (the same duplicate group) of clips a
    takedown keeps out: a re-upload of the recording, or of the voice under another name,
    would publish what was taken down. With `force`, one warning that counts them (the card
    names neither them nor what they copy)."""
    copies = taken_down_copies(rows, kept, denied)
    if not copies:
        return []
    if force:
        return [f"--force: {len(copies)} clip(s) published are copies of clips taken down"]
    sources = sorted({r["source_id"] for r in copies})
    shown = ", ".join(r["clip_id"] for r in copies[:3]) + (
        f" and {len(copies) - 3} more" if len(copies) > 3 else ""
    )
    raise AccentdsError(
        f"{len(copies)} accepted clip(s) are copies of clips on the deny list ({shown}; duplicate audio, "
        f"a re-upload?): publishing them would publish what was taken down. Deny their source too "
        f'(`accentds deny source {sources[0]} --reason "..."`'
        + (f", and {len(sources) - 1} more source(s)" if len(sources) > 1 else "")
        + ") or reject them, or publish with --force"
    )


def taken_down(
    rows: Sequence[Mapping[str, Any]],
    kept: Sequence[Mapping[str, Any]],
    denied: Sequence[Mapping[str, str]],
    nodes: Mapping[str, str],
) -> set[str]:
    """The nodes of `nodes` a takedown keeps out of a release's record: every speaker on the deny
    list (in any case) and source on it, and the speakers and sources whose accepted clips all
    went with them (a denied speaker's own recordings). `rows` are every clip, `kept` those
    published."""
    speakers = {speaker_key(d["value"]) for d in denied if d["kind"] == "speaker"}
    gone = {source_node(d["value"]) for d in denied if d["kind"] == "source"}
    for row in denied_rows(rows, denied):
        gone.add(source_node(row["source_id"]))
        if row["speaker"]:
            gone.add(speaker_node(row["speaker"]))
    for row in kept:  # a recording or a voice that still has clips here stays
        gone -= {source_node(row["source_id"]), speaker_node(row["speaker"])}
    named = {n for n in nodes if n.startswith("speaker:") and speaker_key(split_node(n)[1]) in speakers}
    return (gone | named) & set(nodes)


def _publishable_rows(manifest: pa.Table, why: pa.ChunkedArray | pa.Array) -> tuple[list[dict], list[dict]]:
    """Every clip of the joined manifest (the columns a takedown reads), and those a release
    could hold (`why`: each clip's reason code not to publish, 0 for none)."""
    rows = manifest.select(["clip_id", "status", "source_id", "speaker", "duplicate_group"]).to_pylist()
    kept = [
        r for r, reason in zip(rows, why.to_pylist(), strict=True) if r["status"] == "accepted" and not reason
    ]
    return rows, kept


def unreleased_moves(workspace: Workspace, manifest: pa.Table, why: pa.ChunkedArray | pa.Array) -> int:
    """How many of the moves made with `accentds splits move` since the last publish the next
    release lists: not those of a speaker or source taken down (see `taken_down`)."""
    moves = pending_moves(workspace)
    if not moves:
        return 0
    rows, kept = _publishable_rows(manifest, why)
    nodes = {f"{m['kind']}:{m['value']}": m["split"] for m in moves}
    gone = taken_down(rows, kept, read_deny(workspace), nodes)
    return sum(1 for m in moves if f"{m['kind']}:{m['value']}" not in gone)


def denied_copies(workspace: Workspace, manifest: pa.Table, why: pa.ChunkedArray | pa.Array) -> list:
    """The publishable clips that are copies of clips on the deny list: publish stops at them."""
    denied = read_deny(workspace)
    if not denied:
        return []
    rows, kept = _publishable_rows(manifest, why)
    return taken_down_copies(rows, kept, denied)


def record_json(
    workspace: Workspace,
    build: Build,
    created_at: str,
    previous: str | None,
    assignment: Mapping[str, str],
    include_unlicensed: bool,
    files: Mapping[str, Any],
    public: Callable[[str], str],
) -> dict[str, Any]:
    """The content of a release's release.json (its `files` given: their sizes and sha256s)."""
    publish_settings = {
        k: list(v) if isinstance(v, tuple) else v for k, v in asdict(workspace.config.publish).items()
    }
    seconds = round(seconds_of(build.rows), 3)
    return {
        "version": build.version,
        "created_at": created_at,
        "accentds_version": __version__,
        "previous_version": previous,
        "settings": {
            "sampling_rate": build.rate,
            "vad": build.vad,
            "publish": publish_settings,
            "include_unlicensed": include_unlicensed,
        },
        "counts": build.split_info,
        "total": {"clips": len(build.rows), "seconds": seconds, "minutes": release_minutes(seconds)},
        "splits": dict(sorted(by_group(assignment, public).items())),
        "left_out": _left_out_list(build.left_out, public),
        "unlicensed_included": build.unlicensed,
        "warnings": build.warnings,
        "files": dict(files),
    }


def _left_out_list(items: Sequence[LeftOut], public: Callable[[str], str]) -> list[dict[str, Any]]:
    """What release.json records as left out: not the speakers on the deny list, neither by id
    nor by their clips (a takedown leaves no trace of who it was, or of how much they said)."""
    return [left_out_entry(i, public) for i in items if not (i.kind == "speaker" and i.cause == "deny list")]


def left_out_entry(item: LeftOut, public: Callable[[str], str]) -> dict[str, Any]:
    """A left-out entry as release.json records it: a deny reason is typed by hand and may name
    someone, so it stays in deny.csv; `also` (the other reasons) only when there are some."""
    entry = asdict(item) | ({"value": public(item.value)} if item.kind == "speaker" else {})
    if item.cause == "deny list":
        entry["reason"] = "on the deny list"
    entry.pop("also")
    if item.also:
        entry["also"] = [[c, "on the deny list" if c == "deny list" else r] for c, r in item.also]
    return entry

"""Splits: which clips must share a split, and which split each group of them gets.

Clips are joined into groups that never straddle splits (union-find over speakers, sources
and duplicate groups): one speaker's clips, a source's clips, and everything a shared source
or a duplicate group (a re-upload of a recording) connects. Each speaker and source keeps the
split it was first published in: the split memory, manifests/splits.csv, is tracked with the
other manifests, so a fresh clone publishes the same splits. Only new groups are placed, by
minutes, towards the `[publish]` ratios; `accentds splits move` is the one way to move one."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AccentdsError
from .files import now_iso, read_csv, write_csv_atomic
from .views import build_manifest
from .workspace import Workspace

SPLITS = ("train", "validation", "test")
NODE_KINDS = ("speaker", "source")
SPLIT_FIELDS = ["kind", "value", "split", "previous", "version", "at", "reason"]
PLACED = "placed"


@dataclass(frozen=True)
class SplitGroup:
    """Clips that must share a split (a connected group of speakers and sources)."""

    name: str
    seconds: float
    accent: str


@dataclass(frozen=True)
class Conflict:
    """A group whose speakers and sources were published in different splits."""

    group: str
    known: dict[str, str]  # node ("speaker:<name>", "source:<id>") -> its recorded split
    chosen: str  # the split the group goes to with --force

    def describe(self, label: Any = str) -> str:
        parts = ", ".join(f"{label(n)} in {s}" for n, s in sorted(self.known.items()))
        return f"{parts} are now joined (by a shared source, speaker or duplicate recording)"


@dataclass(frozen=True)
class Placement:
    """Every node's split for a release, and the groups that could not keep theirs."""

    nodes: dict[str, str]  # node -> split
    conflicts: tuple[Conflict, ...] = ()
    group_of: dict[str, str] = field(default_factory=dict)  # node -> group name

    def split_of(self, row: Mapping[str, Any]) -> str:
        return self.nodes[source_node(row["source_id"])]


def group_name(row: Mapping[str, Any]) -> str:
    """A clip's speaker, else `source:<id>` (how the card and reports count voices)."""
    return row["speaker"] or f"source:{row['source_id']}"


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def speaker_node(name: str) -> str:
    return f"speaker:{name}"


def source_node(source_id: str) -> str:
    return f"source:{source_id}"


def split_node(node: str) -> tuple[str, str]:
    kind, _, value = node.partition(":")
    return kind, value


class _Joined:
    """Union-find over node names; the smallest name of a set is its root."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _nodes(row: Mapping[str, Any]) -> list[str]:
    nodes = [source_node(row["source_id"])]
    if row.get("speaker"):
        nodes.append(speaker_node(row["speaker"]))
    if row.get("duplicate_group"):
        nodes.append(f"duplicate:{row['duplicate_group']}")
    return nodes


def join(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], dict[str, SplitGroup]]:
    """The group of every speaker and source node of `rows` (joined by a shared clip, so by a
    shared source, a speaker in several sources, or a duplicate group), and each group with
    its minutes and main accent region. A group is named after its smallest node."""
    rows = list(rows)
    joined = _Joined()
    for row in rows:
        first, *others = _nodes(row)
        joined.find(first)
        for other in others:
            joined.union(first, other)
    roots = {n: joined.find(n) for n in joined.parent}
    names: dict[str, str] = {}  # root -> smallest speaker/source node
    for node in sorted(roots):
        if not node.startswith("duplicate:"):
            names.setdefault(roots[node], node)
    group_of = {n: names[r] for n, r in roots.items() if not n.startswith("duplicate:")}
    seconds: dict[str, float] = defaultdict(float)
    accents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        name = group_of[source_node(row["source_id"])]
        seconds[name] += float(row["duration"])
        accents[name][row["accent"]] += float(row["duration"])
    groups = {}
    for name, total in seconds.items():
        by_accent = accents[name]
        groups[name] = SplitGroup(name, total, min(by_accent, key=lambda a: (-by_accent[a], a)))
    return group_of, groups


def _published(
    rows: list[Mapping[str, Any]], memory: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, SplitGroup], dict[str, str], tuple[Conflict, ...]]:
    """`join` of `rows`, the split each group holds by the nodes of it that were published, and
    the groups whose published nodes lie in different splits (each put in the split that held
    most of its minutes)."""
    group_of, groups = join(rows)
    members: dict[str, list[str]] = defaultdict(list)
    for node, name in group_of.items():
        members[name].append(node)
    node_seconds: dict[str, float] = defaultdict(float)
    for row in rows:
        for node in _nodes(row)[:2]:
            node_seconds[node] += float(row["duration"])
    known: dict[str, str] = {}
    conflicts = []
    for name, nodes in sorted(members.items()):
        recorded = {n: memory[n] for n in nodes if memory.get(n) in SPLITS}
        held = {
            s: sum(node_seconds[n] for n, m in recorded.items() if m == s) for s in set(recorded.values())
        }
        if not held:
            continue
        chosen = max(held, key=lambda s: (held[s], -SPLITS.index(s)))
        known[name] = chosen
        if len(held) > 1:
            conflicts.append(Conflict(name, recorded, chosen))
    return group_of, groups, known, tuple(conflicts)


def straddling(rows: Iterable[Mapping[str, Any]], memory: Mapping[str, str]) -> tuple[Conflict, ...]:
    """The groups of `rows` whose published speakers and sources lie in different splits:
    what stops the next publish."""
    return _published(list(rows), memory)[3]


def place(
    rows: Iterable[Mapping[str, Any]], memory: Mapping[str, str], ratios: Mapping[str, float]
) -> Placement:
    """Give every speaker and source of `rows` a split: a group whose nodes were published
    keeps their split; new groups are placed by `assign_splits`. A group whose nodes were
    published in different splits is a conflict, put (for --force) in the split that held
    most of its minutes."""
    group_of, groups, known, conflicts = _published(list(rows), memory)
    assignment = assign_splits(groups, ratios, known)
    nodes = {node: assignment[name] for node, name in group_of.items()}
    return Placement(nodes, conflicts, group_of)


def assign_splits(
    groups: Mapping[str, SplitGroup],
    ratios: Mapping[str, float],
    known: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Give every group a split: known groups keep theirs; new ones are placed, larger first
    and accent regions taking turns, in the split most under its target minutes (overall
    plus within the group's accent region). With three or more groups, test and validation
    each get one when their ratio is not 0 (moving the smallest new group if need be).
    Deterministic: ties are broken by a sha256 of the group name."""
    known = {g: s for g, s in (known or {}).items() if s in SPLITS}
    total = sum(g.seconds for g in groups.values())
    target = {s: ratios[s] * total for s in SPLITS}
    current = dict.fromkeys(SPLITS, 0.0)
    region_total: dict[str, float] = defaultdict(float)
    region_current: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0.0))
    assignment: dict[str, str] = {}
    for group in groups.values():
        region_total[group.accent] += group.seconds
        if group.name in known:
            split = known[group.name]
            assignment[group.name] = split
            current[split] += group.seconds
            region_current[group.accent][split] += group.seconds
    new = [g for g in groups.values() if g.name not in assignment]
    by_region: dict[str, list[SplitGroup]] = defaultdict(list)
    for group in new:
        by_region[group.accent].append(group)
    for members in by_region.values():
        members.sort(key=lambda g: (-g.seconds, stable_hash(g.name)))
    regions = sorted(by_region, key=lambda r: (-sum(g.seconds for g in by_region[r]), stable_hash(r)))
    order = [
        by_region[region][turn]
        for turn in range(max((len(m) for m in by_region.values()), default=0))
        for region in regions
        if turn < len(by_region[region])
    ]
    for group in order:
        region = group.accent

        def score(split: str, region: str = region) -> tuple[float, int]:
            overall = target[split] - current[split]
            local = ratios[split] * region_total[region] - region_current[region][split]
            return overall + local, -SPLITS.index(split)

        split = max(SPLITS, key=score)
        assignment[group.name] = split
        current[split] += group.seconds
        region_current[region][split] += group.seconds
    if len(groups) >= 3:
        new_names = {g.name for g in new}
        for needed in ("test", "validation"):
            if ratios[needed] <= 0 or needed in assignment.values():
                continue
            members = Counter(assignment.values())
            donors = [
                groups[name]
                for name, split in assignment.items()
                if name in new_names and split != needed and members[split] > 1
            ]
            if donors:
                smallest = min(donors, key=lambda g: (g.seconds, stable_hash(g.name)))
                assignment[smallest.name] = needed
    return assignment


# -- the split memory: manifests/splits.csv ---------------------------------------------
def splits_csv(workspace: Workspace) -> Path:
    """manifests/splits.csv: every speaker's and source's split, one row per placement or move."""
    return workspace.manifests / "splits.csv"


def read_split_log(workspace: Workspace) -> list[dict[str, str]]:
    """The rows of the split memory, oldest first (a node's last row is its split). A row a
    hand edit left naming no speaker or source, or no split, is refused with its line: left
    out, its speaker could be placed in another split than the one published."""
    path, rows = splits_csv(workspace), []
    for line, row in enumerate(read_csv(path), start=2):
        kind, split = (row.get("kind") or "").strip().lower(), (row.get("split") or "").strip().lower()
        value = " ".join((row.get("value") or "").split())
        if not (kind or value or split):
            continue  # a blank line
        if kind in NODE_KINDS and value and split in SPLITS:
            rows.append({**row, "kind": kind, "value": value, "split": split})
            continue
        if kind not in NODE_KINDS:
            what = f"the kind {row.get('kind') or ''!r} is neither speaker nor source"
        elif not value:
            what = f"no {kind} is named"
        else:
            what = f"the split {row.get('split') or ''!r} is not train, validation or test"
        raise AccentdsError(
            f"{path} line {line}: {what}: mend the line as it was (`git diff -- manifests/splits.csv`); "
            "`accentds splits move` is the way to change a split"
        )
    return rows


def memory_of(log: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """node ("speaker:<name>", "source:<id>") -> its split, from the rows of the split memory."""
    return {f"{row['kind']}:{row['value']}": row["split"] for row in log}


def split_memory(workspace: Workspace) -> dict[str, str]:
    """Every published speaker's and source's split."""
    return memory_of(read_split_log(workspace))


def pending_moves(workspace: Workspace) -> list[dict[str, str]]:
    """Moves made with `accentds splits move` since the last publish."""
    return [row for row in read_split_log(workspace) if not row.get("version")]


def remember(workspace: Workspace, nodes: Mapping[str, str], version: str) -> None:
    """Add the splits a release gave to nodes the memory does not hold yet (a release made
    before the memory existed, or one whose publish was stopped before recording it)."""
    log = read_split_log(workspace)
    memory = memory_of(log)
    for node, split in sorted(nodes.items()):
        if split in SPLITS and node not in memory and split_node(node)[0] in NODE_KINDS:
            kind, value = split_node(node)
            log.append({"kind": kind, "value": value, "split": split, "version": version, "reason": PLACED})
    write_csv_atomic(splits_csv(workspace), SPLIT_FIELDS, log)


def record_placement(workspace: Workspace, placement: Placement, version: str, at: str) -> None:
    """After publishing `version` (under the lock): remember every node placed for the first
    time (or forced into another split), and stamp the moves made since the last version."""
    log = read_split_log(workspace)
    memory = memory_of(log)
    for row in log:
        row["version"] = row.get("version") or version
    for node, split in sorted(placement.nodes.items()):
        if memory.get(node) != split:
            kind, value = split_node(node)
            reason = "forced with --force" if node in memory else PLACED
            log.append(
                {
                    "kind": kind,
                    "value": value,
                    "split": split,
                    "previous": memory.get(node, ""),
                    "version": version,
                }
                | {"at": at, "reason": reason}
            )
    write_csv_atomic(splits_csv(workspace), SPLIT_FIELDS, log)


def move_split(
    workspace: Workspace, kind: str, value: str, split: str, reason: str
) -> list[tuple[str, str, str]]:
    """Move a published speaker or source, with everything its clips join it to, to `split`
    (the next release's changelog lists the move). Returns (node, old split, new split)."""
    kind, value, reason = kind.strip().lower(), " ".join(value.split()), " ".join(reason.split())
    if kind not in NODE_KINDS:
        raise AccentdsError(f"cannot move a {kind!r}: give 'speaker' (a name) or 'source' (a source id)")
    if split not in SPLITS:
        raise AccentdsError(f"unknown split {split!r}: give one of {', '.join(SPLITS)}")
    if not reason:
        raise AccentdsError("give a reason (--reason): the next release's changelog records it")
    node = f"{kind}:{value}"
    with workspace.lock():
        log = read_split_log(workspace)
        memory = memory_of(log)
        accepted = [r for r in build_manifest(workspace).to_pylist() if r["status"] == "accepted"]
        group_of, _ = join(accepted)
        group = group_of.get(node)
        nodes = sorted({n for n, g in group_of.items() if g == group} | {node})
        if not any(n in memory for n in nodes):
            raise AccentdsError(
                f"{kind} {value!r} has no split yet (manifests/splits.csv): it gets one when it is first published"
            )
        moves = [(n, memory[n], split) for n in nodes if n in memory and memory[n] != split]
        if not moves:
            raise AccentdsError(f"{kind} {value!r} and everything joined to it are in {split} already")
        at = now_iso()
        for moved, old, new in moves:
            k, v = split_node(moved)
            log.append(
                {
                    "kind": k,
                    "value": v,
                    "split": new,
                    "previous": old,
                    "version": "",
                    "at": at,
                    "reason": reason,
                }
            )
        write_csv_atomic(splits_csv(workspace), SPLIT_FIELDS, log)
    return moves


def check_merge(workspace: Workspace, old: str, new: str) -> None:
    """Refuse merging speaker `old` into `new` when they were published in different splits:
    it would move published clips between splits (and can leave a split empty)."""
    memory = split_memory(workspace)
    was, into = memory.get(speaker_node(old)), memory.get(speaker_node(new))
    if not was or not into or was == into:
        return
    others = [
        n for n, s in memory.items() if s == was and n.startswith("speaker:") and n != speaker_node(old)
    ]
    empties = "" if others else f", and leave {was} without any speaker"
    raise AccentdsError(
        f"speaker {old!r} is in the {was} split and {new!r} in {into} (manifests/splits.csv): merging them "
        f"would move {old!r}'s published clips from {was} into {into}{empties}. If they are one person, "
        f'first run `accentds splits move speaker {json_quote(old)} {into} --reason "..."` (the next '
        f"release's changelog records it), then rename; otherwise rename {old!r} to another name"
    )


def json_quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def rename_in_memory(workspace: Workspace, old: str, new: str) -> None:
    """The split memory follows a speaker's rename (the old name stays nowhere in it)."""
    with workspace.lock():
        log = read_split_log(workspace)
        hits = [row for row in log if row["kind"] == "speaker" and row["value"] == old]
        if not hits:
            return
        for row in hits:
            row["value"] = new
        write_csv_atomic(splits_csv(workspace), SPLIT_FIELDS, log)

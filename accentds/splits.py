"""Splits: which clips must share a split, and which split each group gets.

Clips are grouped by speaker (a clip without a speaker by its source), so no voice is heard in
two splits; a group keeps the split an earlier release gave it, and only new groups are
placed, by minutes, towards the `[publish]` ratios of accentds.toml."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitGroup:
    """Clips that must share a split: one speaker's, or one source's when unnamed."""

    name: str
    seconds: float
    accent: str


def group_name(row: Mapping[str, Any]) -> str:
    return row["speaker"] or f"source:{row['source_id']}"


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def groups_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, SplitGroup]:
    """Clips grouped by speaker (else source), each with its minutes and main accent region."""
    seconds: dict[str, float] = defaultdict(float)
    accents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        name = group_name(row)
        seconds[name] += float(row["duration"])
        accents[name][row["accent"]] += float(row["duration"])
    groups = {}
    for name, total in seconds.items():
        by_accent = accents[name]
        accent = min(by_accent, key=lambda a: (-by_accent[a], a))
        groups[name] = SplitGroup(name, total, accent)
    return groups


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


def inherit(
    groups: Mapping[str, SplitGroup],
    rows: Iterable[Mapping[str, Any]],
    known: Mapping[str, str],
    before: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """`known`, plus a split for each new group whose clips were published before (a speaker
    renamed, merged, or named for a source's clips): the split that held most of them."""
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0.0))
    for row in rows:
        old = before.get(row["clip_id"])
        if old and old["split"] in SPLITS:
            seconds[group_name(row)][old["split"]] += float(row["duration"])
    inherited = dict(known)
    for name in groups:
        if name not in known and name in seconds:
            by_split = seconds[name]
            inherited[name] = max(SPLITS, key=lambda s: (by_split[s], -SPLITS.index(s)))
    return inherited

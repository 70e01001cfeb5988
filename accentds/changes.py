"""What changed between two releases: clips added, removed, relabelled and moved."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import AccentdsError
from .files import sha256_file
from .markup import cell, code, minutes, plain, plain_table, release_minutes, table
from .releases import record_copy, release_dir
from .shards import OLD_NAMES
from .splits import SPLITS
from .workspace import Workspace

LABEL_FIELDS = ("transcript", "speaker", "accent", "accent_evidence")
# what else of a clip a release states and a changelog tells: a licence corrected since
COMPARED_FIELDS = (*LABEL_FIELDS, "licence")
# (clips gone, clips to stop at) -> each gone clip's new clip, as LabelJournal.recut_moves gives it
Recut = Callable[[Collection[str], Collection[str]], Mapping[str, str]]


@dataclass(frozen=True)
class Relabel:
    """One label field of one clip that differs between two releases."""

    clip_id: str
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ReleaseDiff:
    """What changed from release `old` to release `new`."""

    old: str
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    relabelled: tuple[Relabel, ...]
    moved: tuple[tuple[str, str, str], ...]  # (clip id, old split, new split)
    split_seconds: dict[str, tuple[float, float]]  # split -> (seconds in old, seconds in new)
    accent_seconds: dict[str, tuple[float, float]]  # accent region ("" = none) -> (old, new)
    added_seconds: float = 0.0
    removed_seconds: float = 0.0
    recut: tuple[tuple[str, str], ...] = ()  # (clip id in old, the clip a re-cut moved its labels to in new)

    @property
    def relabelled_by_field(self) -> dict[str, int]:
        """How many clips changed in each label field."""
        return dict(Counter(r.field for r in self.relabelled))

    @property
    def relabelled_clips(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.clip_id for r in self.relabelled))


# -- comparing -----------------------------------------------------------------------
def release_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """Every clip of a release folder (without audio) with its split, by clip id."""
    files = sorted((folder / "data").glob("*.parquet"))
    if not files:
        raise AccentdsError(f"{folder} holds no data/*.parquet files")
    rows: dict[str, dict[str, Any]] = {}
    for path in files:
        split = path.name.split("-", 1)[0]
        try:
            names = set(pq.read_schema(path).names)
            # releases before the Hub's column names hold `transcript` and `speaker`
            fields = {f: OLD_NAMES[f] if OLD_NAMES.get(f) in names else f for f in LABEL_FIELDS}
            if "licence" in names:  # a release of an older accentds may not state it
                fields["licence"] = "licence"
            table = pq.read_table(path, columns=["clip_id", *fields.values(), "duration"])
        except (OSError, pa.ArrowException) as exc:
            raise AccentdsError(f"cannot read {path}: {exc}") from None
        for row in table.to_pylist():
            for field, column in fields.items():
                row[field] = row.pop(column)
            row["split"] = split
            rows[row["clip_id"]] = row
    return rows


def diff_rows(
    old: str,
    new: str,
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    recut: Recut | None = None,
) -> ReleaseDiff:
    """What changed from the clips `before` to those `after`. `recut` gives, for clips of
    `before` no longer cut, the clip of `after` a re-cut moved their labels to: such a pair is
    compared as one clip (re-cut, and relabelled where its labels differ), not as one clip
    removed and another added."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    pairs: dict[str, str] = {}
    taken: set[str] = set()
    if recut is not None and added and removed:
        for gone, now in sorted(recut(set(removed), set(added)).items()):
            if now in after and now not in before and now not in taken:
                pairs[gone] = now
                taken.add(now)
    added = [c for c in added if c not in taken]
    removed = [c for c in removed if c not in pairs]
    relabelled = []
    moved = []
    same = [(c, c) for c in sorted(set(before) & set(after))]
    for was, clip in sorted([*same, *pairs.items()], key=lambda pair: pair[1]):
        for name in COMPARED_FIELDS:
            if name not in before[was] or name not in after[clip]:
                continue  # a release that does not state it
            if (before[was][name] or "") != (after[clip][name] or ""):
                relabelled.append(Relabel(clip, name, before[was][name] or "", after[clip][name] or ""))
        if before[was]["split"] != after[clip]["split"]:
            moved.append((clip, before[was]["split"], after[clip]["split"]))

    def totals(rows: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for row in rows.values():
            sums[row[key] or ""] += float(row["duration"])
        return sums

    old_split, new_split = totals(before, "split"), totals(after, "split")
    splits = [s for s in SPLITS if s in old_split or s in new_split]
    old_accent, new_accent = totals(before, "accent"), totals(after, "accent")
    accents = sorted(set(old_accent) | set(new_accent), key=lambda a: (a == "", a))
    return ReleaseDiff(
        old=old,
        new=new,
        added=tuple(added),
        removed=tuple(removed),
        relabelled=tuple(relabelled),
        moved=tuple(moved),
        split_seconds={s: (round(old_split.get(s, 0.0), 3), round(new_split.get(s, 0.0), 3)) for s in splits},
        accent_seconds={
            a: (round(old_accent.get(a, 0.0), 3), round(new_accent.get(a, 0.0), 3)) for a in accents
        },
        added_seconds=round(sum(float(after[c]["duration"]) for c in added), 3),
        removed_seconds=round(sum(float(before[c]["duration"]) for c in removed), 3),
        recut=tuple(sorted(pairs.items(), key=lambda pair: pair[1])),
    )


def diff(workspace: Workspace, v1: str, v2: str) -> ReleaseDiff:
    """What changed from release v1 to release v2: clips added and removed, clips re-cut (whose
    labels a re-cut moved to a new clip), labels changed (per field), clips that moved split,
    and minutes per split and per accent region."""
    before = release_rows(release_dir(workspace, v1))
    after = release_rows(release_dir(workspace, v2))
    return diff_rows(v1, v2, before, after, workspace.journal().recut_moves)


def _listed(items: Sequence[str], limit: int = 20) -> list[str]:
    lines = [f"- {item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"- ... and {len(items) - limit} more")
    return lines


def _change(before: float, after: float) -> str:
    """The change between two minute figures as shown: `+0.21`."""
    return f"{release_minutes(after) - release_minutes(before):+.2f}"


def render_diff(d: ReleaseDiff, markdown: bool = True, withheld: Collection[str] = ()) -> str:
    """A summary of a ReleaseDiff: Markdown for the card's changelog, or (`markdown=False`)
    plain text for the terminal (`accentds diff`), names as typed. Removed clips in `withheld`
    (taken down on request) are counted, never listed: their ids name the recording."""
    cell_, code_, table_ = (cell, code, table) if markdown else (plain, plain, plain_table)
    fields = ", ".join(f"{name} {count}" for name, count in sorted(d.relabelled_by_field.items()))
    lines = [
        f"Changes from {d.old} to {d.new}: {len(d.added)} clip(s) added ({minutes(d.added_seconds)} min), "
        f"{len(d.removed)} removed ({minutes(d.removed_seconds)} min), "
        + (f"{len(d.recut)} re-cut (the same speech, new boundaries), " if d.recut else "")
        + f"{len(d.relabelled_clips)} relabelled"
        + (f" ({fields})" if fields else "")
        + f", {len(d.moved)} moved split.",
        "",
        table_(
            ["split", f"{d.old} min", f"{d.new} min", "change"],
            [(s, minutes(a), minutes(b), _change(a, b)) for s, (a, b) in d.split_seconds.items()],
        ),
        "",
        table_(
            ["accent region", f"{d.old} min", f"{d.new} min", "change"],
            [
                (a or "(none)", minutes(x), minutes(y), _change(x, y))
                for a, (x, y) in d.accent_seconds.items()
            ],
        ),
    ]
    if d.relabelled:
        lines += ["", "Relabelled:", ""]
        lines += _listed(
            [
                f"{code_(r.clip_id)} {r.field}: {cell_(json.dumps(r.old, ensure_ascii=False))} → "
                f"{cell_(json.dumps(r.new, ensure_ascii=False))}"
                if r.field != "speaker"  # a changelog never says who a speaker was
                else f"{code_(r.clip_id)} speaker changed"
                for r in d.relabelled
            ]
        )
    if d.recut:
        lines += ["", "Re-cut (labels moved to the new clip):", ""]
        lines += _listed([f"{code_(a)} → {code_(b)}" for a, b in d.recut])
    if d.moved:
        lines += ["", "Moved split:", ""]
        lines += _listed([f"{code_(c)} {a} → {b}" for c, a, b in d.moved])
    if d.added:
        lines += ["", "Added:", ""]
        lines += _listed([code_(c) for c in d.added])
    if d.removed:
        taken = sum(1 for c in d.removed if c in withheld)
        lines += ["", "Removed:", ""]
        lines += _listed([code_(c) for c in d.removed if c not in withheld])
        lines += [f"- {taken} clip(s) taken down on request (not listed)"] if taken else []
    return "\n".join(lines)


def compare_with(
    previous: str | None,
    version: str,
    before: Mapping[str, Mapping[str, Any]],
    folder: Path,
    recut: Recut | None = None,
) -> ReleaseDiff | str | None:
    """What changed since the newest release: its diff with the one being built (`recut` as
    `diff_rows` takes it), why they cannot be compared, or None for a first release."""
    if not previous:
        return None
    if not before:
        return (
            f"Changes from {previous}: its release folder is not in this workspace (releases/ is not part "
            "of the tracked record), so its clips cannot be compared; every speaker and source kept the "
            "split recorded in manifests/splits.csv."
        )
    try:
        return diff_rows(previous, version, before, release_rows(folder), recut)
    except AccentdsError as exc:
        return f"Could not compare with {previous}: {exc}"


def same_data_as_recorded(workspace: Workspace, previous: str | None, folder: Path) -> bool:
    """Whether the data files built in `folder` are, byte for byte, those the tracked copy of
    `previous`'s release.json lists: the same clips, labels and splits, known without its folder
    (a clone has no releases/)."""
    if not previous:
        return False
    try:
        files = json.loads(record_copy(workspace, previous).read_text(encoding="utf-8"))["files"]
        theirs = {name: entry["sha256"] for name, entry in files.items() if name.startswith("data/")}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    ours = {
        p.relative_to(folder).as_posix(): sha256_file(p) for p in (folder / "data").glob("*") if p.is_file()
    }
    return bool(ours) and ours == theirs


def attribution_rows(card: str) -> dict[str, str]:
    """The rows of a dataset card's attribution table, by source id (its first column)."""
    parts = card.split("\n### Attribution\n", 1)
    if len(parts) < 2:
        return {}
    body = parts[1].split("\n## ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| source |")]
    return {line[2:].split(" | ", 1)[0]: line for line in rows}


def recredited(old_card: str, new_card: str) -> list[str]:
    """The sources in both cards whose credit (title, author, link, licence) differs."""
    before, after = attribution_rows(old_card), attribution_rows(new_card)
    return sorted(s for s in before.keys() & after.keys() if before[s] != after[s])


def nothing_new(
    previous: str | None,
    compared: ReleaseDiff | str | None,
    moves: Sequence[Mapping[str, str]],
    force: bool,
    same_data: bool = False,
    credited: Sequence[str] = (),
) -> list[str]:
    """A version holding the same clips, labels and splits as the one before it, and the same
    credit for their sources (`credited`: those whose credit changed), is refused (with
    `force`, one warning: a new card, say). `same_data`: its data files are those the tracked
    record of the one before lists, for when that release's folder is not here."""
    if moves or credited:
        return []
    if not same_data:
        if not isinstance(compared, ReleaseDiff):
            return []
        if compared.added or compared.removed or compared.relabelled or compared.moved or compared.recut:
            return []
    if not force:
        raise AccentdsError(
            f"nothing changed since {previous}: the same clips with the same labels and licences in the same splits; "
            "publish when there is something new, or with --force (for a new card, say)"
        )
    return [f"--force: nothing changed since {previous}"]


def changelog(
    compared: ReleaseDiff | str | None,
    moves: Sequence[Mapping[str, str]],
    withheld: Collection[str] = (),
    credited: Sequence[str] = (),
) -> str:
    """A release's changelog: what changed since the newest release, the clips `withheld` (taken
    down) not listed, the sources whose credit changed (`credited`) and the split moves."""
    if compared is None:
        return ""
    lines = [render_diff(compared, withheld=withheld) if isinstance(compared, ReleaseDiff) else compared]
    if credited:
        lines += ["", "Credit corrected (see the attribution table):", ""]
        lines += [f"- source {code(source)}" for source in credited]
    if moves:
        lines += ["", "Moved between splits with `accentds splits move`:", ""]
        lines += [
            f"- {row['kind']} {code(row['value'])}: {row['previous']} → {row['split']} ({cell(row['reason'])})"
            for row in moves
        ]
    return "\n".join(lines)

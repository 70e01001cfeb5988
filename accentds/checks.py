"""Checks a release's clips pass before publishing: transcripts that are there and plausible,
each recording once, and evaluation splits that measure more than one voice or accent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .config import LabelSchema
from .errors import AccentdsError
from .licences import Credit

# characters per second of a transcript (spaces included) outside which it is unlikely to be
# what the clip says: read speech runs at about 12-18
MIN_CHARS_PER_S = 3.0
MAX_CHARS_PER_S = 35.0
EVALUATION = ("validation", "test")


def _listed(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def transcript_checks(rows: Sequence[Mapping[str, Any]], force: bool) -> list[str]:
    """Refuse accepted clips without a transcript (with `force`, a warning); warn about
    transcripts whose characters per second are far from speech."""
    empty = sorted(r["clip_id"] for r in rows if not (r["transcript"] or "").strip())
    warnings = []
    if empty:
        what = f"{len(empty)} accepted clip(s) have no transcript ({_listed(empty)})"
        if not force:
            raise AccentdsError(
                f'{what}: give each its transcript (`accentds label CLIP_ID --transcript "..."`) or reject it, '
                "or publish with --force to publish them with an empty text"
            )
        warnings.append(f"--force: {what}; they are published with an empty text")
    odd = []
    for row in rows:
        text, seconds = (row["transcript"] or "").strip(), float(row["duration"])
        if text and seconds > 0 and not MIN_CHARS_PER_S <= len(text) / seconds <= MAX_CHARS_PER_S:
            odd.append(f"{row['clip_id']} ({len(text) / seconds:.1f}/s)")
    if odd:
        warnings.append(
            f"{len(odd)} transcript(s) have a number of characters per second far from speech (outside "
            f"{MIN_CHARS_PER_S:g}-{MAX_CHARS_PER_S:g}), so may not be what the clip says: {_listed(sorted(odd))}"
        )
    return warnings


def duplicate_checks(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Warn about duplicate groups (one recording uploaded twice, a repeated intro) of which
    more than one clip is published: the release would hold the same audio more than once."""
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get("duplicate_group"):
            groups[row["duplicate_group"]].append(row["clip_id"])
    repeated = sorted(sorted(ids) for ids in groups.values() if len(ids) > 1)
    if not repeated:
        return []
    shown = _listed([" = ".join(ids) for ids in repeated], limit=3)
    return [
        f"the audio of {len(repeated)} clip(s) is in the release more than once (duplicates of each other: "
        f"{shown}); keep one of each (`accentds label CLIP_ID --reject` the others)"
    ]


def schema_checks(rows: Sequence[Mapping[str, Any]], schema: LabelSchema, force: bool) -> list[str]:
    """Refuse accepted clips whose accent or accent evidence is not in [labels] (a typo in
    manifests/source_labels.csv, a region taken out of accentds.toml); with `force`, a warning."""
    found = []
    for name, allowed in (("accent", schema.accents), ("accent_evidence", schema.accent_evidence)):
        odd = sorted({r[name] for r in rows if r[name] and r[name] not in allowed})
        for value in odd:
            ids = sorted(r["clip_id"] for r in rows if r[name] == value)
            near = [a for a in allowed if a.casefold() == value.casefold()]
            found.append(
                f"{len(ids)} accepted clip(s) have the {name.replace('_', ' ')} {value!r} ({_listed(ids)})"
                + (f" (listed as {near[0]!r}: only the case differs)" if near else "")
            )
    if not found:
        return []
    what = "; ".join(found) + ", which [labels] of accentds.toml does not list"
    if force:
        return [f"--force: {what}; they are published so"]
    raise AccentdsError(
        f"{what}: set it with `accentds label CLIP_ID --accent ...` or, for a source's default, "
        "`accentds source set SOURCE_ID --accent ...`, or add it to [labels]; or publish with --force"
    )


def evaluation_checks(
    rows: Sequence[Mapping[str, Any]], ratios: Mapping[str, float] | None = None
) -> list[str]:
    """Warn about a validation or test split with one speaker or one accent region, when the
    release holds more: its scores would measure that one alone; and about one that `ratios`
    asks for but the groups could not fill."""
    voices: dict[str, set[str]] = defaultdict(set)
    accents: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        voices[row["split"]].add(row["speaker"] or f"source {row['source_id']}")
        accents[row["split"]].add(row["accent"] or "(none)")
    all_voices = set().union(*voices.values()) if voices else set()
    all_accents = set().union(*accents.values()) if accents else set()
    warnings = []
    for split in EVALUATION:
        if not voices.get(split):
            if rows and ratios and ratios.get(split, 0) > 0:
                warnings.append(
                    f"{split} is empty: clips that share a speaker or a source never straddle splits, and "
                    "these form too few groups; it fills as speakers and "
                    "sources of their own are accepted"
                )
            continue
        if len(voices[split]) == 1 and len(all_voices) > 1:
            [voice] = voices[split]
            warnings.append(f"{split} holds one speaker ({voice}): its scores measure that one voice")
        if len(accents[split]) == 1 and len(all_accents) > 1:
            [accent] = accents[split]
            warnings.append(
                f"{split} holds one accent region ({accent}) of the release's {len(all_accents)}: its scores "
                "say nothing about the others"
            )
    return warnings


def credited_speakers(
    names_published: bool, rows: Sequence[Mapping[str, Any]], credit: Mapping[str, Credit]
) -> list[str]:
    """With names unpublished, a source's credited author who is also a speaker of its clips
    (a vlogger, say) is named by the attribution table all the same: one warning, no name."""
    if names_published:
        return []

    def key(name: str) -> str:
        return " ".join(name.split()).casefold()

    speakers: dict[str, set[str]] = {}
    for row in rows:
        if row["speaker"]:
            speakers.setdefault(row["source_id"], set()).add(key(row["speaker"]))
    tied = [sid for sid, c in credit.items() if c.author and key(c.author) in speakers.get(sid, set())]
    if not tied:
        return []
    return [
        f"{len(tied)} source(s) credit an author who is also a speaker of their clips by name: the "
        "attribution table names them, so their speaker id can be tied to that name although "
        "speaker_names = false"
    ]


def rate_checks(
    rows: Sequence[Mapping[str, Any]], recorded: Mapping[str, Mapping[str, Any]], rate: int
) -> None:
    """Refuse clips cut at another rate than [audio] sample_rate (changed since they were cut),
    naming every source at once; `recorded` is manifests/cut_settings.json (a cut it does not
    hold is checked file by file as the release is written)."""
    odd = sorted(
        {
            r["source_id"]
            for r in rows
            if (recorded.get(r.get("settings_id") or "") or {}).get("sample_rate", rate) != rate
        }
    )
    if odd:
        raise AccentdsError(
            f"{len(odd)} source(s) were cut at another rate than [audio] sample_rate = {rate} of accentds.toml "
            f"({_listed(odd)}): run `accentds cut` to cut them again at {rate} Hz (their labels move to the "
            "new clips), then publish again"
        )

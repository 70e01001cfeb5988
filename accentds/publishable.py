"""Which clips may go into a release, and why the others may not.

An accepted clip is publishable unless its source is on the deny list ("denied source"), its
speaker is, in any case ("denied speaker"), its source's licence is not in `[publish] allowed_licences`
("unlicensed source"), its licence asks for a credit (an author and a title or page address) and
the credit is missing ("no author, title or url to credit"), or one part of it is ("no author to
credit", "no title or url to credit": `source set --author/--title/--url`), or it has no
transcript, not even a caption draft ("empty transcript"), or its accent or accent evidence is
one `[labels]` of accentds.toml does not list ("accent not in [labels]", "accent evidence not in
[labels]": a typo in manifests/source_labels.csv, a region taken out of accentds.toml; `publish`
refuses them). A clip held back for several reasons
is counted once, under all of them ("unlicensed source + empty transcript"). Reports and `status`
count progress in publishable minutes and show the accepted minutes held back with their reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .licences import credits, normalise
from .privacy import speaker_key
from .selection import read_deny
from .words import minutes_text
from .workspace import Workspace

DENIED_SOURCE = "denied source"
DENIED_SPEAKER = "denied speaker"
UNLICENSED = "unlicensed source"
NO_CREDIT = "no author, title or url to credit"
NO_AUTHOR = "no author to credit"
NO_TITLE = "no title or url to credit"
UNCREDITED = (NO_CREDIT, NO_AUTHOR, NO_TITLE)
EMPTY_TRANSCRIPT = "empty transcript"
ACCENT_UNLISTED = "accent not in [labels]"
EVIDENCE_UNLISTED = "accent evidence not in [labels]"
REASONS = (
    DENIED_SOURCE,
    DENIED_SPEAKER,
    UNLICENSED,
    *UNCREDITED,
    EMPTY_TRANSCRIPT,
    ACCENT_UNLISTED,
    EVIDENCE_UNLISTED,
)
# what `publish` refuses (without --force) instead of leaving the clips out
REFUSED = (*UNCREDITED, EMPTY_TRANSCRIPT, ACCENT_UNLISTED, EVIDENCE_UNLISTED)
# the type of a `reasons` code: one bit per reason (int16 holds 15)
CODE = pa.int16()
# The command that fixes each reason (the deny list is meant to hold clips back)
FIXES = {
    UNLICENSED: "set licences with `accentds source set ID --licence ...`, or list theirs in "
    "allowed_licences of accentds.toml",
    NO_CREDIT: 'credit the sources with `accentds source set ID --author "..." --title "..." --url https://...`',
    NO_AUTHOR: 'name the authors with `accentds source set ID --author "..."`',
    NO_TITLE: 'give a title or page with `accentds source set ID --title "..."` (or `--url https://...`)',
    EMPTY_TRANSCRIPT: "add transcripts with `accentds review`",
    ACCENT_UNLISTED: "set accents [labels] lists with `accentds label CLIP_ID --accent ...` (a source's "
    "default: `accentds source set SOURCE_ID --accent ...`), or add them to [labels] accents of accentds.toml",
    EVIDENCE_UNLISTED: "set accent evidence [labels] lists with `accentds label CLIP_ID --evidence ...` "
    "(a source's default: `accentds source set SOURCE_ID --evidence ...`), or add it to [labels] "
    "accent_evidence of accentds.toml",
}
COLUMNS = ("source_id", "speaker", "licence", "transcript", "accent", "accent_evidence")


@dataclass(frozen=True)
class Rules:
    """What a release may hold: the deny list, the allowed licences and the accents and accent
    evidence of [labels] (None: any)."""

    denied_sources: frozenset[str]
    denied_speakers: frozenset[str]
    allowed_licences: frozenset[str]
    uncredited: frozenset[tuple[str, str]] = frozenset()  # (source_id, reason): a credit it needs lacks
    accents: frozenset[str] | None = None
    accent_evidence: frozenset[str] | None = None

    def speaker_denied(self, name: str) -> bool:
        """Whether the deny list holds a speaker's name, whatever its case ("Anna" denies "anna")."""
        return speaker_key(name) in {speaker_key(denied) for denied in self.denied_speakers}

    def licence_allowed(self, licence: str) -> bool:
        """Whether a source's licence (as recorded, in any spelling `publish` reads) lets its
        clips be published."""
        found = normalise(licence)
        return found is not None and found in {normalise(name) for name in self.allowed_licences}


@dataclass(frozen=True)
class HeldBack:
    """Accepted clips that cannot be published, for the same reasons."""

    reasons: tuple[str, ...]  # in the order of REASONS
    clips: int
    seconds: float

    @property
    def reason(self) -> str:
        return label(self.reasons)

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def rules(workspace: Workspace) -> Rules:
    """The workspace's deny list (manifests/deny.csv), `[publish] allowed_licences` and the
    accents and accent evidence of `[labels]`."""
    denied = read_deny(workspace)
    credited = credits(workspace, [s.source_id for s in workspace.read_sources()])
    return Rules(
        denied_sources=frozenset(d["value"] for d in denied if d["kind"] == "source"),
        denied_speakers=frozenset(d["value"] for d in denied if d["kind"] == "speaker"),
        allowed_licences=frozenset(workspace.config.publish.allowed_licences),
        uncredited=frozenset(
            (sid, f"no {credit.missing} to credit")
            for sid, credit in credited.items()
            if credit.needs_attribution and not credit.complete
        ),
        accents=frozenset(workspace.config.labels.accents),
        accent_evidence=frozenset(workspace.config.labels.accent_evidence),
    )


def _is_in(column: pa.ChunkedArray, values: frozenset[str]) -> pa.ChunkedArray:
    """Whether each value of a text column (plain or dictionary-encoded) is in `values`;
    nulls count as "". A dictionary column is tested once per distinct value."""
    value_set = pa.array(sorted(values), pa.string())
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            words = pc.fill_null(pc.cast(chunk.dictionary, pa.string()), "")
            found = pc.fill_null(pc.take(pc.is_in(words, value_set=value_set), chunk.indices), "" in values)
        else:
            found = pc.is_in(pc.fill_null(pc.cast(chunk, pa.string()), ""), value_set=value_set)
        chunks.append(found)
    return pa.chunked_array(chunks, pa.bool_())


def _passes(column: pa.ChunkedArray, test: Callable[[str], bool]) -> pa.ChunkedArray:
    """Whether each value of a text column passes `test` (nulls are ""), calling `test` once
    per distinct value."""
    distinct = pc.unique(pc.fill_null(pc.cast(pc.unique(column), pa.string()), "")).to_pylist()
    return _is_in(column, frozenset(v for v in distinct if test(v)))


def _blank(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Whether each text is empty or only whitespace (null counts as empty)."""
    text = pc.fill_null(pc.cast(column, pa.string()), "")
    return pc.or_(pc.equal(text, ""), pc.utf8_is_space(text))


def reasons(table: pa.Table, found: Rules) -> pa.ChunkedArray:
    """For each clip of `table` (with the COLUMNS of the manifest), the code of the reasons it
    could not be published if accepted: 0 when it could, else one bit (`bit`) for each reason of
    REASONS that applies. Small integer codes (CODE) keep a million clips well under a second."""
    if table.num_rows == 0:
        return pa.chunked_array([], CODE)
    named = pc.invert(_is_in(table["speaker"], frozenset({""})))
    checks = [
        _is_in(table["source_id"], found.denied_sources),
        pc.and_(named, _passes(table["speaker"], found.speaker_denied)),
        pc.invert(_passes(table["licence"], found.licence_allowed)),
        *(
            _is_in(table["source_id"], frozenset(s for s, r in found.uncredited if r == why))
            for why in UNCREDITED
        ),
        _blank(table["transcript"]),
        _unlisted(table["accent"], found.accents),
        _unlisted(table["accent_evidence"], found.accent_evidence),
    ]
    none = pa.scalar(0, CODE)
    codes = pa.chunked_array([pa.array(np.zeros(table.num_rows, dtype=CODE.to_pandas_dtype()))])
    for reason, check in zip(REASONS, checks, strict=True):
        codes = pc.bit_wise_or(codes, pc.if_else(check, pa.scalar(bit(reason), CODE), none))
    return codes


def _unlisted(column: pa.ChunkedArray, allowed: frozenset[str] | None) -> pa.ChunkedArray:
    """Whether each value of a text column is set but not one of `allowed` (as `publish`
    compares them: exactly); all false when `allowed` is None."""
    if allowed is None:
        return pa.chunked_array([pa.array(np.zeros(len(column), dtype=bool))], pa.bool_())
    return pc.invert(_is_in(column, allowed | {""}))


def bit(reason: str) -> int:
    """The bit of a reason in a `reasons` code."""
    return 1 << REASONS.index(reason)


def reason_names(code: int) -> tuple[str, ...]:
    """The reasons a `reasons` code stands for, in the order of REASONS (none for 0: publishable)."""
    return tuple(r for r in REASONS if code & bit(r))


def held_back(table: pa.Table, codes: pa.ChunkedArray | pa.Array) -> tuple[HeldBack, ...]:
    """Clips and seconds of `table` (with a `duration` column) for each set of reasons in
    `codes` (from `reasons`): every clip counted once, the sets in the order of REASONS."""
    if table.num_rows == 0:
        return ()
    grouped = (
        pa.table({"code": codes, "duration": table["duration"]})
        .group_by("code")
        .aggregate([("duration", "count"), ("duration", "sum")])
    )
    found = {
        reason_names(int(code)): (int(n), float(s or 0.0))
        for code, n, s in zip(
            grouped["code"].to_pylist(),
            grouped["duration_count"].to_pylist(),
            grouped["duration_sum"].to_pylist(),
            strict=True,
        )
        if code
    }
    return tuple(HeldBack(r, *found[r]) for r in sorted(found, key=order))


def label(reasons: tuple[str, ...]) -> str:
    """A set of reasons as shown: `unlicensed source + empty transcript`."""
    return " + ".join(reasons)


def order(reasons: tuple[str, ...]) -> tuple[int, ...]:
    """Sets of reasons in the order of REASONS: `unlicensed source` before `unlicensed source +
    empty transcript` before `empty transcript`."""
    return tuple(REASONS.index(r) for r in reasons)


def fixable(held: tuple[HeldBack, ...]) -> tuple[HeldBack, ...]:
    """The clips a command can make publishable: held back for no reason the deny list gives."""
    return tuple(h for h in held if all(r in FIXES for r in h.reasons))


SOURCE_REASONS = (UNLICENSED, *UNCREDITED)  # fixed with `accentds source set ID`


def held_sources(table: pa.Table, codes: pa.ChunkedArray | pa.Array) -> dict[str, list[str]]:
    """The sources (ids, sorted) of the clips of `table` held back for each reason a
    `source set` fixes."""
    named = {}
    for reason in SOURCE_REASONS:
        hit = pc.not_equal(pc.bit_wise_and(codes, pa.scalar(bit(reason), CODE)), 0)
        ids = sorted(set(pc.filter(table["source_id"], hit).to_pylist()))
        if ids:
            named[reason] = ids
    return named


def fixes(held: tuple[HeldBack, ...], named: dict[str, list[str]] | None = None) -> str:
    """How to fix the reasons clips are held back for, in the order of REASONS ("" when none can be),
    with the sources to fix where `named` (from `held_sources`) gives them."""
    needed = {r for h in fixable(held) for r in h.reasons}
    return "; ".join(_named(FIXES[r], (named or {}).get(r, [])) for r in REASONS if r in needed)


def _named(fix: str, ids: list[str]) -> str:
    """A fix with the ID of its `source set` filled in: the one source, else the first few."""
    if len(ids) == 1:
        return fix.replace("source set ID ", f"source set {ids[0]} ")
    if ids:
        return fix + f" ({len(ids)} sources: {', '.join(ids[:3])}{', ...' if len(ids) > 3 else ''})"
    return fix


def describe(held: tuple[HeldBack, ...], digits: int = 2) -> str:
    """`unlicensed source 0.20 min, denied speaker 0.10 min` (empty when nothing is held back; a
    reason holding less than the `digits` show, with two: `empty transcript 0.04 min`)."""
    return ", ".join(f"{h.reason} {minutes_text(h.seconds, digits)}" for h in held)

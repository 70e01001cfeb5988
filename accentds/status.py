"""Corpus totals: what `accentds status` and the one-line summary after each change show.

Progress counts publishable minutes (accentds/publishable.py); the accepted minutes a release
could not hold are shown with their reason. The releases are listed, and what changed since
the newest one (accentds/since_release.py)
decides whether `accentds publish` is suggested, and with which counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from . import publishable
from .cut_commit import stale_settings
from .errors import AccentdsError
from .label_merges import merged_edit_warnings
from .licences import attribution_warnings
from .privacy import salt, salt_path, speaker_id, speaker_key
from .publish import list_releases
from .publishable import HeldBack
from .release_record import denied_copies, unreleased_moves
from .releases import recorded_releases
from .shards import check_clip_files
from .since_release import ReleaseSummary, SinceRelease, next_version, releases_here, since_release
from .splits import split_memory, straddling
from .views import build_manifest
from .words import counted, minutes_text
from .workspace import Workspace


@dataclass(frozen=True)
class Totals:
    """Clip count and seconds of the cut corpus."""

    clips: int
    seconds: float

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Status:
    """Where the corpus stands."""

    name: str
    sources: int
    sources_cut: int
    sources_stale: int  # cut with other settings than the current ones
    sources_no_speech: int
    pulled_s: float
    clips: int
    cut_s: float
    pending: tuple[int, float]
    accepted: tuple[int, float]
    rejected: tuple[int, float]
    target_minutes: float
    next_steps: tuple[str, ...]
    publishable: tuple[int, float] = (0, 0.0)  # accepted clips a release could hold
    held_back: tuple[HeldBack, ...] = ()  # accepted clips it could not, by reason
    releases: tuple[ReleaseSummary, ...] = ()  # oldest first
    since_release: SinceRelease | None = None  # None: nothing published yet
    warnings: tuple[str, ...] = ()  # what a hand edit of a manifest left to fix

    @property
    def progress(self) -> float:
        """Publishable accepted minutes as a share of the target."""
        return self.publishable[1] / 60 / self.target_minutes if self.target_minutes else 0.0


def totals(workspace: Workspace) -> Totals:
    """Clips and seconds in manifests/clips.parquet."""
    table = workspace.read_clip_table(columns=["duration"])
    seconds = pc.sum(table["duration"]).as_py() or 0.0
    return Totals(table.num_rows, float(seconds))


def _speaker_ids(workspace: Workspace) -> Callable[[str], str]:
    """A speaker's salted id as releases hold it; names as they are without a salt yet (status
    never makes one: the first publish does)."""
    if not salt_path(workspace).exists():
        return str
    key = salt(workspace)
    return lambda name: speaker_id(key, name)


def _publish_step(
    ready: tuple[int, float],
    held: tuple[HeldBack, ...],
    since: SinceRelease | None,
    named: dict[str, list[str]] | None = None,
) -> str | None:
    clips, seconds = ready
    if since is None:
        if clips:
            return f"accentds publish 1.0.0   ({counted(clips, 'publishable clip')}, {minutes_text(seconds)})"
        if held:
            fix = publishable.fixes(held, named)
            return f"nothing publishable yet ({publishable.describe(held, 1)})" + (f": {fix}" if fix else "")
        return None
    newest = since.version
    if since.absent:
        return (
            f"accentds publish {next_version(newest)}   (what changed since {newest} is not known here: "
            f"{since.error}; copy it here to compare)"
        )
    if since.error:
        return f"accentds verify {newest}   (it cannot be read: {since.error})"
    if not since.changed:
        return None
    if not clips and not since.include_unlicensed:  # publish would stop: a release holds clips
        fix = publishable.fixes(held, named) if held else ""
        why = f"{counted(since.dropped, 'clip')} of {newest} no longer publishable" + (
            f": {publishable.describe(held, 1)}" if held else ""
        )
        return f"nothing publishable for {next_version(newest)} ({why})" + (f": {fix}" if fix else "")
    parts = []
    if since.new_clips:
        parts.append(f"{counted(since.new_clips, 'new publishable clip')}, {minutes_text(since.new_seconds)}")
    if since.dropped:
        parts.append(f"{counted(since.dropped, 'clip')} of {newest} to leave out")
    if since.relabelled:
        parts.append(f"{since.relabelled} relabelled")
    if since.recut:
        parts.append(f"{since.recut} re-cut")
    if since.moved:
        parts.append(counted(since.moved, "split move"))
    flag = " --include-unlicensed" if since.include_unlicensed else ""
    return f"accentds publish {next_version(newest)}{flag}   ({'; '.join(parts)} since {newest})"


def _missing_files(workspace: Workspace, ready: pa.Table) -> str | None:
    """What to run before `publish` when clip files it would publish are gone (a clone without
    raw/ and clips/, files deleted by hand): publish would stop at them; None when all are there."""
    try:
        check_clip_files(workspace, ready.select(["path", "source_id"]).to_pylist())
    except AccentdsError as exc:
        return f"not yet publishable: {exc}"
    return None


def status(workspace: Workspace) -> Status:
    """Count sources, clips and minutes at each stage, the publishable minutes, the releases
    and what changed since the newest one, and say what to run next."""
    sources = workspace.read_sources()
    cuts = workspace.read_cuts()
    current = workspace.config.vad.settings_id
    ids = {s.source_id for s in sources}
    cut_ids = {sid for sid, r in cuts.items() if sid in ids}
    stale_ids = [sid for sid in cut_ids if cuts[sid].settings_id != current]
    no_speech = sum(1 for sid in cut_ids if cuts[sid].clips == 0)
    manifest = build_manifest(workspace)
    table = manifest.select(["status", "duration"])
    by_status: dict[str, tuple[int, float]] = {}
    for state in ("pending", "accepted", "rejected"):
        rows = table.filter(pc.equal(table["status"], state))
        by_status[state] = (rows.num_rows, float(pc.sum(rows["duration"]).as_py() or 0.0))
    why = publishable.reasons(manifest, publishable.rules(workspace))
    is_accepted = pc.equal(manifest["status"], "accepted")
    accepted = manifest.filter(is_accepted)
    held = publishable.held_back(accepted, pc.filter(why, is_accepted))
    named = publishable.held_sources(accepted, pc.filter(why, is_accepted))
    ready = (
        by_status["accepted"][0] - sum(h.clips for h in held),
        by_status["accepted"][1] - sum(h.seconds for h in held),
    )
    releases, newest, error = releases_here(workspace)
    since = None
    if newest is not None:
        journal = workspace.journal()
        since = since_release(
            manifest, why, newest, _speaker_ids(workspace), journal.recut_moves, journal.accepted_since
        )
        since = replace(since, moved=unreleased_moves(workspace, manifest, why))
    elif releases:
        version = releases[-1].version
        since = SinceRelease(version, error=error, absent=version not in list_releases(workspace))
    steps = []
    if not sources:
        steps.append("accentds pull URL|FILE|FOLDER   (pulls and cuts new videos)")
    uncut = len(ids - cut_ids)
    todo = ", ".join(  # only what there is: "0 cut with other settings (accentds.toml changed...)" misled
        filter(
            None,
            [
                f"{counted(uncut, 'source')} not cut" if uncut else "",
                f"{len(stale_ids)} cut with other settings "
                f"({stale_settings(workspace, (cuts[sid].settings_id for sid in stale_ids))})"
                if stale_ids
                else "",
            ],
        )
    )
    running = workspace.cutting()
    if running is not None:  # another `accentds cut` would only wait for it
        pid = f" (pid {running})" if running else ""
        steps.append(
            f"wait: a cut{pid} is running in this workspace now; the figures above grow as it records "
            f"each source{f'   ({todo})' if todo else ''}"
        )
    elif uncut or stale_ids:
        holding = pc.is_in(accepted["source_id"], pa.array(stale_ids, pa.string())) if stale_ids else None
        careful = (
            "; a re-cut that no longer matches accepted clips stops and names its `--force`"
            if holding is not None and pc.any(holding).as_py()
            else ""
        )
        steps.append(f"accentds cut   ({todo}{careful})")
    if by_status["pending"][0]:
        steps.append(
            f"accentds review   (listen to and label the {counted(by_status['pending'][0], 'pending clip')})"
        )
    step = _publish_step(ready, held, since, named)
    # held back for what publish refuses rather than leaves out: it stops at them
    stopping = tuple(h for h in held if set(h.reasons) <= set(publishable.REFUSED))
    if step and step.startswith("accentds publish") and step.endswith(")") and stopping:
        step = (
            f"{step[:-1]}; it stops at {sum(h.clips for h in stopping)} accepted clip(s) held back for "
            f"{', '.join(h.reason for h in stopping)}: fix them as above, or reject them)"
        )
    if step and step.startswith("accentds publish"):
        step = _missing_files(workspace, manifest.filter(pc.and_(is_accepted, pc.equal(why, 0)))) or step
    fixable = publishable.fixable(held)
    if fixable and not (step or "").startswith("nothing publishable"):  # else the step names the fixes
        steps.append(f"{publishable.fixes(fixable, named)}   ({publishable.describe(fixable, 1)} held back)")
    if step:
        steps.append(step)
        ready_rows = manifest.filter(pc.and_(is_accepted, pc.equal(why, 0)))
        columns = ["source_id", "speaker", "duplicate_group", "duration", "accent"]
        split_up = straddling(ready_rows.select(columns).to_pylist(), split_memory(workspace))
        copies = denied_copies(workspace, manifest, why)
        if copies:
            steps.append(
                f'accentds deny source {copies[0]["source_id"]} --reason "..."   (the next publish stops: '
                f"{len(copies)} accepted clip(s) are copies of clips on the deny list; `accentds publish VERSION "
                "--dry-run` names them)"
            )
        if split_up:
            steps.append(
                f"accentds splits move ...   (the next publish stops: {len(split_up)} group(s) of speakers "
                "and sources joined since lie in two splits; `accentds publish VERSION --dry-run` names them)"
            )
    return Status(
        name=workspace.config.name,
        sources=len(sources),
        sources_cut=len(cut_ids),
        sources_stale=len(stale_ids),
        sources_no_speech=no_speech,
        pulled_s=sum(s.duration for s in sources),
        clips=table.num_rows,
        cut_s=float(pc.sum(table["duration"]).as_py() or 0.0),
        pending=by_status["pending"],
        accepted=by_status["accepted"],
        rejected=by_status["rejected"],
        target_minutes=workspace.config.target_minutes,
        next_steps=tuple(steps),
        publishable=(ready[0], max(ready[1], 0.0)),
        held_back=held,
        releases=tuple(releases),
        since_release=since,
        warnings=(
            *attribution_warnings(workspace),
            *case_warnings(manifest["speaker"]),
            *merged_edit_warnings(workspace.journal()),
            *_unrecorded(workspace),
        ),
    )


def _unrecorded(workspace: Workspace) -> list[str]:
    """Release folders the tracked record lacks (a publish stopped between moving the folder
    into place and recording it, or one made before the record existed): a commit of manifests/
    now would leave clones without the version and its splits."""
    recorded = recorded_releases(workspace)
    missing = [v for v in list_releases(workspace) if v not in recorded]
    if not missing:
        return []
    one = len(missing) == 1
    it, its = ("it", "its") if one else ("them", "their")
    return [
        f"{', '.join(f'releases/{v}/' for v in missing)} {'is' if one else 'are'} not in manifests/releases.csv "
        f"(a publish stopped before recording {it}?), so a clone would not know {it}: `accentds publish "
        f"{missing[-1]}` records {it} and {its} splits; commit manifests/ after"
    ]


def case_warnings(speakers: pa.ChunkedArray) -> list[str]:
    """One warning per set of speaker names that differ only in case or spacing ("Anna" and
    "anna"): they count as two speakers (and may land in two splits) until renamed into one;
    nothing merges them silently. The rename suggested keeps the name with the most clips."""
    counts: dict[str, int] = {}
    for entry in pc.value_counts(pc.fill_null(pc.cast(speakers, pa.string()), "")).to_pylist():
        if entry["values"]:
            counts[entry["values"]] = entry["counts"]
    groups: dict[str, list[str]] = {}
    for name in counts:
        groups.setdefault(speaker_key(name), []).append(name)
    found = []
    for names in sorted(groups.values()):
        if len(names) < 2:
            continue
        names.sort(key=lambda n: (-counts[n], n))
        keep, *others = names
        listed = ", ".join(json.dumps(n, ensure_ascii=False) for n in sorted(names))
        renames = "; ".join(
            f"`accentds speakers rename {json.dumps(n, ensure_ascii=False)} {json.dumps(keep, ensure_ascii=False)}`"
            for n in others
        )
        found.append(
            f"the speakers {listed} differ only in case, so they count as {len(names)} speakers: if they are "
            f"one person, {renames}"
        )
    return found

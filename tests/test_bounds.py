"""Clip boundaries set by hand (accentds.bounds) on a real workspace: the bundled sample
pulled and cut, clips re-cut from the source with real ffmpeg."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile
from conftest import check_consistent, run_cli

from accentds.bounds import (
    BoundsConflict,
    UnknownClip,
    bounds_csv,
    set_bounds,
    split_clip,
)
from accentds.cut import cut
from accentds.errors import AccentdsError
from accentds.files import read_csv
from accentds.handcut import read_hand_clips
from accentds.labels import history, set_labels
from accentds.pull import pull
from accentds.views import refresh_manifest
from accentds.workspace import Workspace

LABELS = {"transcript": "It's a dreich day", "speaker": "Morag", "accent": "Glasgow", "status": "accepted"}


@pytest.fixture
def ws(sample_ws: Workspace) -> Workspace:
    return sample_ws


def samples(ws: Workspace, rel: str) -> np.ndarray:
    data, rate = soundfile.read(str(ws.abs(rel)), dtype="int16")
    assert rate == 16000 and data.ndim == 1
    return data


def manifest_row(ws: Workspace, clip_id: str) -> dict[str, str] | None:
    refresh_manifest(ws)
    return next((r for r in read_csv(ws.manifest_csv) if r["clip_id"] == clip_id), None)


def test_new_bounds_recut_the_clip_from_the_source_and_keep_its_labels(ws: Workspace) -> None:
    clips = ws.read_clips()
    old = clips[2]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    before = samples(ws, old.path)
    edit = set_bounds(ws, old.clip_id, old.start + 0.25, old.end + 0.3, expected_version=1, reviewer="ann")
    [new] = edit.clips
    assert (new.start, new.end) == (pytest.approx(old.start + 0.25), pytest.approx(old.end + 0.3))
    assert new.clip_id == f"{old.source_id}-{round(new.start * 1000):08d}-{round(new.end * 1000):08d}"
    info = soundfile.info(str(ws.abs(new.path)))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == round((new.end - new.start) * 16000)
    assert new.duration == pytest.approx(new.end - new.start, abs=1e-6)
    # the same samples the cut read: the old clip's from 0.25 s on are the new clip's first
    after = samples(ws, new.path)
    np.testing.assert_array_equal(after[: len(before) - 4000], before[4000:])
    assert not ws.abs(old.path).exists()
    assert old.clip_id not in {c.clip_id for c in ws.read_clips()}
    row = manifest_row(ws, new.clip_id)
    assert row is not None and manifest_row(ws, old.clip_id) is None
    assert float(row["duration"]) == pytest.approx(new.end - new.start, abs=1e-3)
    assert {k: row[k] for k in LABELS} == LABELS
    assert ws.read_labels()[old.clip_id]["status"] == ""  # moved, not copied
    assert any("boundary edit" in h["why"] for h in history(ws, new.clip_id))
    cuts = ws.read_cuts()[old.source_id]
    assert cuts.clips == 8 and cuts.kept_s == pytest.approx(
        sum(c.duration for c in ws.read_clips()), abs=0.01
    )
    [hand] = read_hand_clips(bounds_csv(ws))
    assert (hand.start, hand.end) == (new.start, new.end)
    assert (hand.region_start, hand.region_end) == (old.start, new.end)
    check_consistent(ws)


def test_split_gives_two_clips_that_both_keep_the_labels(ws: Workspace) -> None:
    old = ws.read_clips()[4]
    set_labels(ws, [old.clip_id], LABELS | {"note": "two sentences"}, "ann")
    at = round(old.start + 1.5, 3)
    edit = split_clip(ws, old.clip_id, at, expected_version=1)
    first, second = edit.clips
    assert (first.start, first.end, second.start, second.end) == (old.start, at, at, old.end)
    assert not ws.abs(old.path).exists()
    joined = np.concatenate([samples(ws, first.path), samples(ws, second.path)])
    assert len(joined) == round((old.end - old.start) * 16000)
    labels = ws.read_labels()
    for half in (first, second):
        row = manifest_row(ws, half.clip_id)
        assert row["transcript"] == LABELS["transcript"] and row["speaker"] == "Morag"
        assert row["accent"] == "Glasgow" and row["note"] == "two sentences"
        # each half's transcript has to be cut down to it before it is accepted again
        assert labels[half.clip_id]["status"] == "pending"
    assert len(ws.read_clips()) == 9
    assert len(read_hand_clips(bounds_csv(ws))) == 2
    check_consistent(ws)


def test_a_recut_with_other_settings_keeps_the_hand_edit(ws: Workspace) -> None:
    clips = ws.read_clips()
    old = clips[3]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    [new] = set_bounds(ws, old.clip_id, old.start + 0.2, old.end - 0.4).clips
    halves = split_clip(ws, clips[6].clip_id, round(clips[6].start + 1.2, 3)).clips
    other = ws.config.vad.with_overrides(padding_ms=400, merge_gap_ms=300)
    [result] = cut(ws, vad=other, workers=1, force=True)
    assert result.ok
    after = {c.clip_id: c for c in ws.read_clips()}
    assert new.clip_id in after and all(h.clip_id in after for h in halves)
    assert {k: ws.read_labels()[new.clip_id][k] for k in LABELS} == LABELS
    # what the person cut out of the clip stays out: no clip of the new cut reaches into it
    for clip in after.values():
        if clip.clip_id != new.clip_id:
            assert (
                clip.end <= old.start + 1e-6
                or clip.start >= old.end - 1e-6
                or clip.clip_id in {h.clip_id for h in halves}
            )
    assert ws.abs(new.path).is_file()
    assert len(samples(ws, new.path)) == round((new.end - new.start) * 16000)
    # and again with the same settings: nothing moves
    [again] = cut(ws, vad=other, workers=1, force=True)
    assert again.ok
    assert sorted(c.clip_id for c in ws.read_clips()) == sorted(after)
    check_consistent(ws)


def test_a_stale_version_is_refused_and_changes_nothing(ws: Workspace) -> None:
    old = ws.read_clips()[1]
    set_labels(ws, [old.clip_id], {"status": "accepted"}, "ann")
    set_labels(ws, [old.clip_id], {"speaker": "Morag"}, "bob")
    before = sorted(c.clip_id for c in ws.read_clips())
    with pytest.raises(BoundsConflict, match="changed elsewhere"):
        set_bounds(ws, old.clip_id, old.start, old.end + 0.2, expected_version=1)
    with pytest.raises(BoundsConflict):
        split_clip(ws, old.clip_id, old.start + 1, expected_version=0)
    assert sorted(c.clip_id for c in ws.read_clips()) == before
    assert ws.abs(old.path).is_file() and not bounds_csv(ws).exists()
    assert sorted(p.name for p in ws.abs(old.path).parent.iterdir()) == sorted(c + ".wav" for c in before)


@pytest.mark.parametrize(
    ("which", "start", "end", "message"),
    [
        (1, lambda c: c.start, lambda c: c.start, "must come after the start"),
        (1, lambda c: c.end, lambda c: c.start, "must come after the start"),
        (0, lambda c: -0.5, lambda c: c.end, "outside the source"),
        (-1, lambda c: c.start, lambda c: 40.0, "outside the source"),
        (1, lambda c: c.start, lambda c: c.start + 0.05, "too short"),
        (1, lambda c: c.start - 1.5, lambda c: c.end, "overlaps the clip"),
        (1, lambda c: c.end + 0.1, lambda c: c.end + 0.5, "does not overlap the clip"),
        (1, lambda c: float("nan"), lambda c: c.end, "numbers of seconds"),
    ],
)
def test_bad_bounds_are_refused_with_the_reason(ws: Workspace, which: int, start, end, message: str) -> None:
    clip = ws.read_clips()[which]
    with pytest.raises(AccentdsError, match=message):
        set_bounds(ws, clip.clip_id, start(clip), end(clip))
    assert len(ws.read_clips()) == 8 and ws.abs(clip.path).is_file()
    check_consistent(ws)


def test_a_split_outside_the_clip_or_of_an_unknown_clip_is_refused(ws: Workspace) -> None:
    clip = ws.read_clips()[2]
    with pytest.raises(AccentdsError, match="not inside the clip"):
        split_clip(ws, clip.clip_id, clip.end + 0.5)
    with pytest.raises(AccentdsError, match="too short"):
        split_clip(ws, clip.clip_id, clip.start + 0.1)
    with pytest.raises(UnknownClip, match="unknown clip id"):
        split_clip(ws, "file-000000000000-00000000-00001000", 0.5)
    with pytest.raises(UnknownClip, match="unknown clip id"):
        set_bounds(ws, "nope", 0, 1)
    assert len(ws.read_clips()) == 8


def test_an_edit_waits_for_no_running_cut_when_told_not_to(ws: Workspace) -> None:
    clip = ws.read_clips()[2]

    def refuse(why: str) -> None:
        raise AccentdsError("a cut is running: " + why)

    with ws.cut_lock(), pytest.raises(AccentdsError, match="a cut is running"):
        # the lock is per open file: a second open in this process blocks like another process
        set_bounds(ws, clip.clip_id, clip.start, clip.end + 0.1, on_wait=refuse)
    assert ws.abs(clip.path).is_file()


def test_an_edit_that_cannot_be_recorded_leaves_the_clip_and_its_labels(ws: Workspace) -> None:
    old = ws.read_clips()[2]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    # a directory where the clip table's temporary file goes: the write fails as on a full disk
    blocker = ws.manifests / f".clips.parquet.tmp{os.getpid()}"
    blocker.mkdir()
    try:
        with pytest.raises(AccentdsError, match="the clip is left as it was"):
            set_bounds(ws, old.clip_id, old.start, old.end + 0.2)
    finally:
        blocker.rmdir()
    assert old.clip_id in {c.clip_id for c in ws.read_clips()}
    assert {k: ws.read_labels()[old.clip_id][k] for k in LABELS} == LABELS
    assert not any(
        ws.read_labels()
        .get(f"{old.source_id}-{round(old.start * 1000):08d}-{round((old.end + 0.2) * 1000):08d}", {})
        .get(k)
        for k in LABELS
    )
    assert not bounds_csv(ws).exists()
    check_consistent(ws)
    assert sorted(p.name for p in ws.abs(old.path).parent.iterdir()) == sorted(
        c.clip_id + ".wav" for c in ws.read_clips()
    )


def test_the_cli_recuts_and_splits_with_one_line_each(ws: Workspace) -> None:
    clip = ws.read_clips()[2]
    done = run_cli(
        "clip",
        "bounds",
        clip.clip_id,
        "--start",
        f"{clip.start:.3f}",
        "--end",
        f"{clip.end + 0.2:.3f}",
        cwd=ws.root,
    )
    assert done.returncode == 0, done.stderr
    new = f"{clip.source_id}-{round(clip.start * 1000):08d}-{round((clip.end + 0.2) * 1000):08d}"
    assert done.stdout.strip() == f"{clip.clip_id} -> {new} ({clip.start:.3f}–{clip.end + 0.2:.3f} s)"
    done = run_cli("clip", "split", new, f"{clip.start + 1:.3f}", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(clip.source_id) == 3
    bad = run_cli("clip", "bounds", ws.read_clips()[0].clip_id, "--start", "3", "--end", "2", cwd=ws.root)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "Error: the end (2.000 s) must come after the start (3.000 s)"
    assert len(ws.read_clips()) == 9
    check_consistent(Workspace(ws.root))


def test_boundaries_set_back_give_the_clip_back_with_its_labels_once(ws: Workspace) -> None:
    from accentds.cut_commit import read_fingerprints

    old = ws.read_clips()[3]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    [moved] = set_bounds(ws, old.clip_id, old.start - 0.1, old.end).clips
    [back] = set_bounds(ws, moved.clip_id, old.start, old.end).clips
    assert back.clip_id == old.clip_id
    assert {k: ws.read_labels()[old.clip_id][k] for k in LABELS} == LABELS
    assert not any(ws.read_labels()[moved.clip_id][k] for k in LABELS)
    drafts = [r["clip_id"] for r in read_csv(ws.drafts_csv)]
    assert len(drafts) == len(set(drafts)) and moved.clip_id not in drafts
    prints = read_fingerprints(ws)["clip_id"].to_pylist()
    assert sorted(prints) == sorted(c.clip_id for c in ws.read_clips())
    [hand] = read_hand_clips(bounds_csv(ws))  # one row: the clip as it is now
    assert (hand.start, hand.end, hand.region_start) == (old.start, old.end, old.start - 0.1)
    check_consistent(ws)


def best_lag(a: np.ndarray, b: np.ndarray, reach: int = 800) -> int:
    """The shift of `b` against `a` where they match best (b[k:] against a)."""
    seg = a[4000:20000].astype(np.float64)
    scores = [float(seg @ b[4000 + k : 20000 + k].astype(np.float64)) for k in range(-reach, reach + 1)]
    return int(np.argmax(scores)) - reach


@pytest.mark.parametrize(
    ("name", "args"),
    [("talk.webm", ("-c:a", "libopus", "-b:a", "48k")), ("talk.m4a", ("-c:a", "aac", "-ar", "44100"))],
)
def test_recut_clips_sit_on_the_cut_timeline_for_opus_and_aac(
    workspace: Workspace, make_media, name: str, args: tuple[str, ...]
) -> None:
    """A decode after a seek lands 12 ms (Opus) to 23 ms (AAC at 44.1 kHz) off the timeline
    the cut reads; a re-cut clip must not move by that much against its own audio."""
    pull(workspace, [str(make_media(name, *args))], workers=1)
    cut(workspace, workers=1)
    old = workspace.read_clips()[2]
    before = samples(workspace, old.path)
    [longer] = set_bounds(workspace, old.clip_id, old.start - 0.1, old.end + 0.1).clips
    after = samples(workspace, longer.path)
    assert len(after) == round((longer.end - longer.start) * 16000)
    assert best_lag(before, after[1600:]) == 0  # the old clip's audio 0.1 s in, to the sample
    [shorter] = set_bounds(workspace, longer.clip_id, old.start, old.end - 0.5).clips
    inside = samples(workspace, shorter.path)  # sliced from the clip it was cut from, exactly
    np.testing.assert_array_equal(inside, after[1600 : 1600 + len(before) - 8000])
    other = workspace.config.vad.with_overrides(padding_ms=300)
    [result] = cut(workspace, vad=other, workers=1, force=True)
    assert shorter.clip_id in {c.clip_id for c in result.clips}
    again = samples(workspace, shorter.path)  # a re-cut keeps it where it was, to the sample
    assert len(again) == len(inside) and best_lag(before, again) == 0
    check_consistent(workspace)


def test_a_hand_clip_whose_file_is_gone_is_cut_again_on_the_timeline(
    workspace: Workspace, make_media
) -> None:
    pull(workspace, [str(make_media("talk.webm", "-c:a", "libopus", "-b:a", "48k"))], workers=1)
    cut(workspace, workers=1)
    old = workspace.read_clips()[1]
    before = samples(workspace, old.path)
    [hand] = set_bounds(workspace, old.clip_id, old.start + 0.2, old.end).clips
    workspace.abs(hand.path).unlink()  # a clone of the manifests, say, without the clips
    [result] = cut(workspace, workers=1, force=True)
    assert hand.clip_id in {c.clip_id for c in result.clips}
    again = samples(workspace, hand.path)
    assert len(again) == len(before) - 3200 and best_lag(before[3200:], again) == 0
    check_consistent(workspace)


def test_an_edit_killed_before_its_clips_were_recorded_gives_the_labels_back(ws: Workspace) -> None:
    """A kill after the labels moved but before clips.parquet named the new clips (here: the
    clip table put back as it was at that moment): the next command moves them back to the
    clip that is still there, and nothing is left as an orphan."""
    old = ws.read_clips()[2]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    before = ws.clips_parquet.read_bytes()
    set_bounds(ws, old.clip_id, old.start, old.end + 0.2)
    ws.clips_parquet.write_bytes(before)  # the journal has the move, the clip table does not
    assert not {k: v for k, v in ws.read_labels().get(old.clip_id, {}).items() if k in LABELS and v}
    done = run_cli("status", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert {k: Workspace(ws.root).read_labels()[old.clip_id][k] for k in LABELS} == LABELS
    orphans = run_cli("labels", "orphans", cwd=ws.root)
    assert orphans.returncode == 0 and LABELS["transcript"] not in orphans.stdout
    assert "interrupted" in history(Workspace(ws.root), old.clip_id)[-1]["why"]
    assert run_cli("status", cwd=ws.root).returncode == 0  # done once, not again
    assert sum("interrupted" in r["why"] for r in history(Workspace(ws.root), old.clip_id)) == len(LABELS)


def test_labels_undo_leaves_a_boundary_edit_and_a_split_with_their_labels(ws: Workspace) -> None:
    old = ws.read_clips()[3]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    [moved] = set_bounds(ws, old.clip_id, old.start + 0.1, old.end).clips
    refused = run_cli("labels", "undo", moved.clip_id, cwd=ws.root)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: the newest change of {moved.clip_id} is the boundary edit of ")
    assert f"`accentds label {moved.clip_id} ...`" in refused.stderr and len(refused.stderr.splitlines()) == 1
    gone = run_cli("labels", "undo", old.clip_id, cwd=ws.root)
    assert gone.returncode == 1 and f"its labels are on {moved.clip_id} now" in gone.stderr
    first, second = split_clip(ws, moved.clip_id, round(moved.start + 1, 3)).clips
    assert run_cli("labels", "undo", second.clip_id, cwd=ws.root).returncode == 1
    labels = ws.read_labels()
    for clip in (first, second):
        assert labels[clip.clip_id]["transcript"] == LABELS["transcript"]
        assert labels[clip.clip_id]["speaker"] == "Morag"
    assert not any(labels[c][k] for c in (old.clip_id, moved.clip_id) for k in LABELS)  # no orphans
    check_consistent(ws)


def test_editing_a_clip_again_by_its_old_id_names_the_clips_it_became(ws: Workspace) -> None:
    old = ws.read_clips()[4]
    set_labels(ws, [old.clip_id], LABELS, "ann")
    at = f"{old.start + 1:.3f}"
    assert run_cli("clip", "split", old.clip_id, at, cwd=ws.root).returncode == 0
    again = run_cli("clip", "split", old.clip_id, at, cwd=ws.root)
    first, second = (
        c.clip_id for c in ws.read_clips() if c.source_id == old.source_id and old.start <= c.start < old.end
    )
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"Error: clip {old.clip_id} no longer exists (split): it is {first} and {second} now"
    )


def test_bounds_equal_to_the_clips_own_say_so_and_change_nothing(ws: Workspace) -> None:
    """`clip bounds` with the clip's own start and end (to the millisecond) cuts, moves and
    records nothing, and says the bounds are unchanged instead of `X -> X`."""
    clip = ws.read_clips()[2]
    set_labels(ws, [clip.clip_id], LABELS, "ann")
    files = [ws.manifests / n for n in ("labels.jsonl", "history.csv", "clips.parquet")]
    before = [p.read_bytes() if p.exists() else None for p in files]
    wav = ws.abs(clip.path).stat().st_mtime_ns
    done = run_cli(
        "clip", "bounds", clip.clip_id, "--start", f"{clip.start + 0.0004:.4f}", "--end", f"{clip.end:.3f}",
        cwd=ws.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{clip.clip_id}: the bounds are unchanged ({clip.start:.3f}–{clip.end:.3f} s already); nothing was done"
    )
    assert [p.read_bytes() if p.exists() else None for p in files] == before
    assert ws.abs(clip.path).stat().st_mtime_ns == wav
    assert not bounds_csv(ws).exists()
    assert len(history(ws, clip.clip_id)) == len(LABELS)

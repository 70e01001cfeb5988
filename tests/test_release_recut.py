"""A source re-cut between two versions: its clips are told as re-cut in the next changelog and
in `accentds diff`, and a transcript corrected on a re-cut clip as relabelled, not as clips
removed and added."""

from __future__ import annotations

from conftest import run_cli
from releasing import NOW, manifest_of, speaker_source

from accentds.bounds import set_bounds
from accentds.changes import diff
from accentds.labels import set_labels
from accentds.publish import publish
from accentds.workspace import Workspace


def test_a_recut_and_a_relabel_of_a_recut_clip_show_in_the_next_changelog(ws: Workspace) -> None:
    publish(ws, "1.0.0", now=NOW)
    source = speaker_source(ws, "Morag")
    before = sorted(c for c, r in manifest_of(ws).items() if r["source_id"] == source)
    done = run_cli("cut", source, "--padding-ms", "260", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    after = sorted(c for c, r in manifest_of(ws).items() if r["source_id"] == source)
    assert len(after) == len(before) == 2 and not set(before) & set(after)
    set_labels(ws, after[:1], {"transcript": "A transcript the curator corrected."}, "ann")

    release = publish(ws, "1.1.0")
    changes = diff(ws, "1.0.0", "1.1.0")
    assert (changes.added, changes.removed) == ((), ())
    assert changes.recut == tuple(zip(before, after, strict=True))
    [relabel] = changes.relabelled
    assert (relabel.clip_id, relabel.field, relabel.new) == (
        after[0],
        "transcript",
        "A transcript the curator corrected.",
    )
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert (
        "Changes from 1.0.0 to 1.1.0: 0 clip(s) added (0.00 min), 0 removed (0.00 min), 2 re-cut (the same "
        "speech, new boundaries), 1 relabelled (transcript 1), 0 moved split." in card
    )
    assert f"- `{before[0]}` → `{after[0]}`" in card
    assert f'- `{after[0]}` transcript: "' in card and "Added:" not in card and "Removed:" not in card
    shown = run_cli("diff", "1.0.0", "1.1.0", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert "2 re-cut" in shown.stdout and f"{before[1]} → {after[1]}" in shown.stdout


def test_a_clip_re_cut_by_hand_is_re_cut_in_status_and_the_next_changelog(ws: Workspace) -> None:
    """A boundary edit (`clip bounds`, the review page's editor) after a release: status said its
    clip was "no longer publishable" and the changelog and `accentds diff` listed it as one clip
    removed and another added; it is the same speech, re-cut, its labels with it."""
    publish(ws, "1.0.0", now=NOW)
    source = speaker_source(ws, "Morag")
    old = min(c for c, r in manifest_of(ws).items() if r["source_id"] == source)
    row = manifest_of(ws)[old]
    [new] = [c.clip_id for c in set_bounds(ws, old, row["start"] + 0.05, row["end"] - 0.05).clips]
    status = run_cli("status", cwd=ws.root)
    assert "no longer publishable" not in status.stdout and "1 clip of 1.0.0 re-cut" in status.stdout, (
        status.stdout
    )
    release = publish(ws, "1.1.0")
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert "0 clip(s) added (0.00 min), 0 removed (0.00 min), 1 re-cut" in card
    assert f"- `{old}` → `{new}`" in card and "Removed:" not in card
    assert diff(ws, "1.0.0", "1.1.0").recut == ((old, new),)

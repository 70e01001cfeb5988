"""A source re-cut between two versions: its clips are told as re-cut in the next changelog and
in `accentds diff`, and a transcript corrected on a re-cut clip as relabelled, not as clips
removed and added."""

from __future__ import annotations

from conftest import run_cli
from releasing import NOW, manifest_of, speaker_source

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

"""`labels history` names a status as `label` and `labels undo` do."""

from __future__ import annotations

from conftest import run_cli

from accentds.workspace import Workspace


def test_history_shows_a_clip_never_given_a_status_as_pending(cut_ws: Workspace) -> None:
    clip = cut_ws.read_clips()[0].clip_id
    accepted = run_cli("label", clip, "--accept", cwd=cut_ws.root)
    assert "status: 'pending' -> 'accepted'" in accepted.stdout, accepted.stderr
    undone = run_cli("labels", "undo", clip, cwd=cut_ws.root)
    assert "status: 'accepted' -> 'pending'" in undone.stdout, undone.stderr
    shown = run_cli("labels", "history", clip, cwd=cut_ws.root).stdout.splitlines()
    assert [line.split("  ", 2)[2] for line in shown if "status:" in line] == [
        "status: 'pending' -> 'accepted'",
        "status: 'accepted' -> 'pending' (undo)",
    ]

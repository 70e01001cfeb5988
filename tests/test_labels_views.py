"""What `labels history` and `labels list` show, as a user reads them."""

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


def test_labels_list_lines_up_a_speaker_and_an_accent_of_several_words(cut_ws: Workspace) -> None:
    first, second = (clip.clip_id for clip in cut_ws.read_clips()[:2])
    assert run_cli(
        "label", first, "--speaker", "Morag MacLeod", "--accent", "Highlands & Islands", cwd=cut_ws.root
    )
    assert run_cli("label", second, "--speaker", "Ann", "--accent", "Fife", cwd=cut_ws.root).returncode == 0
    lines = run_cli("labels", "list", cwd=cut_ws.root).stdout.splitlines()
    one, two = (next(line for line in lines if line.startswith(c)) for c in (first, second))
    assert one.index("Morag MacLeod") == two.index("Ann")
    assert one.index("Highlands & Islands") == two.index("Fife")
    assert not any(line.endswith(" ") for line in lines)

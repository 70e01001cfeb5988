"""Counts in what the commands print read as English: one clip, two clips."""

from __future__ import annotations

import numpy as np
from conftest import MakeMedia, run_cli, sentence

from accentds.words import counted, plural
from accentds.workspace import Workspace


def test_counted_says_one_in_the_singular_and_any_other_count_in_the_plural() -> None:
    assert [counted(n, "clip") for n in (0, 1, 2)] == ["0 clips", "1 clip", "2 clips"]
    assert counted(1, "clip file") == "1 clip file" and plural(3, "is", "are") == "are"


def test_a_source_cut_into_one_clip_is_told_as_one_clip(
    workspace: Workspace, make_media: MakeMedia, speech: np.ndarray
) -> None:
    """`accentds pull` of a one-sentence recording printed "1 clips" and "corpus: 1 clips"."""
    media = make_media("one.wav", audio=sentence(speech, 0, pad=1.0))
    done = run_cli("pull", str(media), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [sid] = [s.source_id for s in workspace.read_sources()]
    assert len(workspace.read_clips()) == 1
    cut_line = next(line for line in done.stdout.splitlines() if line.startswith("cut "))
    assert cut_line.startswith(f"cut       {sid}     1 clip   "), cut_line
    assert "corpus: 1 clip, " in done.stdout
    listed = run_cli("labels", "list", cwd=workspace.root)
    assert listed.stdout.splitlines()[-1].startswith("1 clip, "), listed.stdout
    status = run_cli("status", cwd=workspace.root)
    assert "corpus: 1 clip, " in status.stdout and "label the 1 pending clip)" in status.stdout, status.stdout
    again = run_cli("cut", cwd=workspace.root)
    assert again.stdout.startswith("1 source already cut with these settings"), again.stdout

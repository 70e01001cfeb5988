"""`accentds label` of a clip id listed before a re-cut (in another terminal) names the clip
its labels moved to, instead of only "unknown clip id"."""

from __future__ import annotations

import dataclasses

from conftest import run_cli

from accentds.cut import cut
from accentds.workspace import Workspace


def test_labelling_a_clip_a_recut_replaced_names_where_its_labels_are(sample_ws: Workspace) -> None:
    old = sample_ws.read_clips()[2].clip_id
    done = run_cli("label", old, "--transcript", "aye", "--accept", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    vad = dataclasses.replace(sample_ws.config.vad, padding_ms=sample_ws.config.vad.padding_ms + 60)
    cut(Workspace(sample_ws.root), vad=vad, workers=1)
    [new] = [
        cid for cid, row in Workspace(sample_ws.root).read_labels().items() if row["transcript"] == "aye"
    ]
    assert new != old
    again = run_cli("label", old, "--speaker", "Morag", cwd=sample_ws.root)
    assert again.returncode == 1
    assert again.stderr == (
        f"Error: unknown clip id(s): {old}; {old} was replaced by a re-cut: its labels are on {new}: "
        "label that one (`accentds labels list` shows the clips)\n"
    )
    never = run_cli("label", old[:-1] + "9", "--speaker", "Morag", cwd=sample_ws.root)
    assert never.stderr == f"Error: unknown clip id(s): {old[:-1]}9; `accentds labels list` shows them\n"

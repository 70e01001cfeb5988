"""A re-cut with other settings moves labels only to the clip that is the same stretch of
speech: never a transcript or an `accepted` onto a clip joined with others or split in two
(the real cut of the bundled sample, the real label journal, the CLI)."""

from __future__ import annotations

from conftest import run_cli

from accentds.labels import orphans, set_labels
from accentds.workspace import Workspace


def _labels_at(ws: Workspace, start: float, end: float) -> dict[str, str]:
    """The id and labels of the clip that holds [start, end]."""
    [clip] = [c for c in ws.read_clips() if c.start <= start and end <= c.end]
    return {"status": "", "transcript": "", **ws.read_labels().get(clip.clip_id, {}), "clip_id": clip.clip_id}


def test_labels_follow_a_clip_whose_edges_move(cut_ws: Workspace) -> None:
    ws = cut_ws
    clip = ws.read_clips()[2]
    set_labels(ws, [clip.clip_id], {"status": "accepted", "transcript": "och aye"}, "ann")
    done = run_cli("cut", "--padding-ms", "260", "--force", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    row = _labels_at(ws, clip.start + 0.1, clip.end - 0.1)
    assert row["clip_id"] != clip.clip_id and (row["status"], row["transcript"]) == ("accepted", "och aye")
    assert not orphans(ws)
    # cut with other settings than accentds.toml's, with accepted clips: status says a plain
    # `accentds cut` may stop and why
    shown = run_cli("status", cwd=ws.root).stdout
    assert (
        "1 cut with other settings ([vad] padding_ms 260 → 200); a re-cut that no longer matches accepted"
        in shown
    )
    back = run_cli("cut", cwd=ws.root)
    assert back.returncode == 0, back.stderr
    assert _labels_at(ws, clip.start + 0.1, clip.end - 0.1)["transcript"] == "och aye"


def test_a_clip_joined_with_others_does_not_take_one_clips_transcript(cut_ws: Workspace) -> None:
    ws = cut_ws
    clips = ws.read_clips()
    short = clips[1]
    set_labels(ws, [short.clip_id], {"status": "accepted", "transcript": "wee"}, "ann")
    set_labels(ws, [clips[2].clip_id], {"status": "rejected"}, "ann")
    before = [c.clip_id for c in ws.read_clips()]
    joined = ["--merge-gap-ms", "3000", "--max-clip", "120"]
    refused = run_cli("cut", *joined, cwd=ws.root)
    assert refused.returncode == 1
    assert "kept the old clips" in refused.stderr and "joined with other clips" in refused.stderr
    assert [c.clip_id for c in ws.read_clips()] == before
    forced = run_cli("cut", *joined, "--force", cwd=ws.root)
    assert forced.returncode == 0, forced.stderr
    new = ws.read_clips()
    assert len(new) < len(clips), "the test needs a cut that joins clips"
    row = _labels_at(ws, short.start + 0.1, short.end - 0.1)
    # the joined clip used to come out accepted with the one word, or rejected
    assert row["status"] not in ("accepted", "rejected") and row["transcript"] != "wee", row
    assert set(orphans(ws)) == {short.clip_id, clips[2].clip_id}


def test_a_clip_split_in_two_does_not_keep_the_whole_transcript(cut_ws: Workspace) -> None:
    ws = cut_ws
    longest = max(ws.read_clips(), key=lambda c: c.duration)
    set_labels(ws, [longest.clip_id], {"status": "accepted", "transcript": "the whole sentence"}, "ann")
    split = ["--max-clip", f"{longest.duration * 0.55:.2f}", "--min-clip", "0.3"]
    refused = run_cli("cut", *split, cwd=ws.root)
    assert refused.returncode == 1 and "kept the old clips" in refused.stderr, refused.stderr
    forced = run_cli("cut", *split, "--force", cwd=ws.root)
    assert forced.returncode == 0, forced.stderr
    parts = [c for c in ws.read_clips() if c.start < longest.end and longest.start < c.end]
    assert len(parts) >= 2, "the test needs a cut that splits the clip"
    rows = ws.read_labels()
    assert all(rows.get(c.clip_id, {}).get("transcript") != "the whole sentence" for c in parts)
    assert set(orphans(ws)) == {longest.clip_id}


def test_cut_says_whose_labels_a_re_cut_moved(cut_ws: Workspace) -> None:
    """A re-cut (new settings, or a newer accentds) printed only `cut  SOURCE  8 clips`: the
    curator could not tell that the labels went with the new clips."""
    ws = cut_ws
    clips = ws.read_clips()
    set_labels(ws, [c.clip_id for c in clips[:3]], {"status": "accepted", "speaker": "Morag"}, "ann")
    done = run_cli("cut", "--padding-ms", "260", "--force", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    source = clips[0].source_id
    assert f"{source}  labels of 3 clips moved to the new clips that match them" in done.stdout
    again = run_cli("cut", "--padding-ms", "260", "--force", cwd=ws.root)  # the same clips: nothing moves
    assert again.returncode == 0, again.stderr
    assert "cut       " in again.stdout and "moved" not in again.stdout

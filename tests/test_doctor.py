"""Damaged and hand-edited manifests: one Error line naming the file, and `accentds doctor`
rebuilding what can be rebuilt."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE, run_cli

from accentds.labels import set_labels
from accentds.workspace import Workspace


def _error_line(done) -> str:
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), done.stderr
    return lines[0]


def test_a_truncated_clips_parquet_is_named_and_rebuilt(cut_ws: Workspace) -> None:
    before = {c.clip_id: c.duration for c in cut_ws.read_clips()}
    first = next(iter(before))
    set_labels(cut_ws, [first], {"status": "accepted", "transcript": "aye"}, "ann")
    data = cut_ws.clips_parquet.read_bytes()
    cut_ws.clips_parquet.write_bytes(data[: len(data) // 2])
    line = _error_line(run_cli("status", cwd=cut_ws.root))
    assert "clips.parquet" in line and "accentds doctor" in line
    fixed = run_cli("doctor", cwd=cut_ws.root)
    assert fixed.returncode == 0, fixed.stderr
    assert "rebuilt it from 8 clip files" in fixed.stdout
    ws = Workspace(cut_ws.root)
    after = {c.clip_id: c.duration for c in ws.read_clips()}
    assert after.keys() == before.keys()
    assert all(abs(after[k] - before[k]) < 0.01 for k in before)
    listed = run_cli("labels", "list", "--status", "accepted", cwd=cut_ws.root)
    assert listed.returncode == 0 and first in listed.stdout


def test_bad_values_in_sources_and_cuts_name_the_line(cut_ws: Workspace) -> None:
    text = cut_ws.sources_csv.read_text(encoding="utf-8")
    header, row = text.splitlines()[:2]
    cells = row.split(",")
    cells[header.split(",").index("duration")] = "about a minute"
    cut_ws.sources_csv.write_text(header + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    line = _error_line(run_cli("status", cwd=cut_ws.root))
    assert "sources.csv line 2" in line and "about a minute" in line
    cut_ws.sources_csv.write_text(text, encoding="utf-8")

    clips_before = cut_ws.clips_parquet.read_bytes()
    cuts = cut_ws.cuts_csv.read_text(encoding="utf-8")
    cut_ws.cuts_csv.write_bytes(cuts.replace("sample", "s\xe4mple").encode("latin-1") + b"\xff,1.0\n")
    line = _error_line(run_cli("cut", "--force", cwd=cut_ws.root))
    assert "cuts.csv" in line
    assert cut_ws.clips_parquet.read_bytes() == clips_before  # nothing half-committed


def test_doctor_cuts_a_clip_whose_file_is_gone_again_and_keeps_every_label(cut_ws: Workspace) -> None:
    # the source was cut with settings other than accentds.toml's: a re-cut would give other ids
    assert run_cli("cut", "--force", "--padding-ms", "100", cwd=cut_ws.root).returncode == 0
    ws = Workspace(cut_ws.root)
    clips = ws.read_clips()
    for clip in clips:
        set_labels(ws, [clip.clip_id], {"status": "accepted", "transcript": clip.clip_id[-8:]}, "ann")
    kept = {c.clip_id: ws.abs(c.path).read_bytes() for c in clips}
    gone = clips[2]
    ws.abs(gone.path).unlink()
    stray = ws.clips / clips[0].source_id / f"{clips[0].source_id}-00000001-00000002.wav"  # a killed cut's
    stray.write_bytes(b"RIFF")
    fixed = run_cli("doctor", cwd=ws.root)
    assert fixed.returncode == 0, fixed.stderr
    assert "1 clip file(s) were gone; cut them again from their sources" in fixed.stdout
    assert not stray.exists()
    ws = Workspace(cut_ws.root)
    assert [c.clip_id for c in ws.read_clips()] == list(kept)
    assert {c.clip_id: ws.abs(c.path).read_bytes() for c in ws.read_clips()} == kept  # the same samples
    labels = ws.read_labels()
    assert all(labels[c.clip_id]["transcript"] == c.clip_id[-8:] for c in clips)
    assert run_cli("labels", "orphans", cwd=ws.root).stdout.startswith("no orphaned labels")


def test_doctor_recuts_sources_whose_clip_files_and_media_are_gone(cut_ws: Workspace) -> None:
    clips = cut_ws.read_clips()
    cut_ws.abs(clips[2].path).unlink()
    media = cut_ws.abs(cut_ws.read_sources()[0].media)
    media.rename(media.with_name("elsewhere"))
    fixed = run_cli("doctor", cwd=cut_ws.root)
    assert fixed.returncode == 0, fixed.stderr
    assert "1 row(s) had no file" in fixed.stdout and "run `accentds cut`" in fixed.stdout
    media.with_name("elsewhere").rename(media)
    assert run_cli("cut", cwd=cut_ws.root).returncode == 0
    ws = Workspace(cut_ws.root)
    assert [c.clip_id for c in ws.read_clips()] == [c.clip_id for c in clips]
    assert all(ws.abs(c.path).is_file() for c in ws.read_clips())


def test_a_column_added_to_sources_csv_survives_the_next_write(cut_ws: Workspace) -> None:
    lines = cut_ws.sources_csv.read_text(encoding="utf-8").splitlines()
    sid = cut_ws.read_sources()[0].source_id
    cut_ws.sources_csv.write_text(
        "\n".join([lines[0] + ",my notes", lines[1] + ",filmed in Leith"]) + "\n", encoding="utf-8"
    )
    done = run_cli("source", "set", sid, "--licence", "CC-BY-4.0", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    text = cut_ws.sources_csv.read_text(encoding="utf-8")
    assert "my notes" in text.splitlines()[0] and "filmed in Leith" in text and "CC-BY-4.0" in text


def test_doctor_names_a_hand_kept_manifest_it_cannot_rebuild(cut_ws: Workspace) -> None:
    text = cut_ws.sources_csv.read_text(encoding="utf-8")
    cut_ws.sources_csv.write_text(text[: len(text) // 2], encoding="utf-8")
    told = _error_line(run_cli("status", cwd=cut_ws.root))
    assert "run `accentds doctor`" in told
    line = _error_line(run_cli("doctor", cwd=cut_ws.root))
    assert line.startswith(f"Error: {cut_ws.sources_csv}") and " cannot be read (" in line
    assert "doctor cannot rebuild it: restore it from git (`git checkout -- manifests/sources.csv`)" in line
    cut_ws.sources_csv.write_text(text, encoding="utf-8")
    bounds = cut_ws.manifests / "bounds.csv"
    bounds.write_text(
        "source_id,start,end,region_start,region_end,why,reviewer,edited_at\n"
        f"{cut_ws.read_sources()[0].source_id},abc,1.0,0.5,1.0,bounds,ann,2026-12-01T00:00:00Z\n"
    )
    line = _error_line(run_cli("doctor", cwd=cut_ws.root))
    assert line.startswith(f"Error: {bounds} line 2 cannot be read (") and "doctor cannot rebuild it" in line


def test_a_stray_quote_in_a_manifest_is_named_not_read_as_one_long_cell(cut_ws: Workspace) -> None:
    deny = cut_ws.manifests / "deny.csv"
    deny.write_text(
        'kind,value,reason,added_at\nspeaker,"Morag,asked,2026-12-01\nspeaker,Ailsa,asked,2026-12-01\n'
    )
    line = _error_line(run_cli("status", cwd=cut_ws.root))
    assert line.startswith(f"Error: {deny} line 2 cannot be read (unexpected end of data)")


def test_doctor_removes_stray_clip_files_but_leaves_other_files_in_clips_and_names_them(
    cut_ws: Workspace,
) -> None:
    clip = cut_ws.read_clips()[0]
    folder = cut_ws.abs(clip.path).parent
    copy = folder / "copy of a clip.wav"
    copy.write_bytes(cut_ws.abs(clip.path).read_bytes())
    mine = cut_ws.clips / "mine" / "take1.wav"
    mine.parent.mkdir()
    mine.write_bytes(b"RIFF")
    stray = folder / f"{clip.source_id}-00000001-00000002.wav"
    stray.write_bytes(b"RIFF")
    done = run_cli("doctor", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert copy.exists() and mine.exists() and not stray.exists()
    assert "removed 1 file no row names" in done.stdout
    assert "left alone 2 file(s) accentds did not write" in done.stdout and "take1.wav" in done.stdout
    assert run_cli("cut", "--force", cwd=cut_ws.root).returncode == 0
    assert copy.exists() and mine.exists()


def test_a_clone_without_audio_gets_it_back_by_pulling_the_same_file(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """A git clone holds the manifests, not raw/ or clips/. Doctor said "pulled again", but
    pulling the same file said "already pulled, nothing to do" and left raw/ empty, so the
    clone could never cut or publish: now the media is put back and the clips cut again."""
    set_labels(cut_ws, [c.clip_id for c in cut_ws.read_clips()[:2]], {"transcript": "kept words"})
    clone = tmp_path / "clone"
    shutil.copytree(cut_ws.root, clone, ignore=shutil.ignore_patterns("raw", "clips"))
    done = run_cli("pull", str(SAMPLE), cwd=clone)
    assert done.returncode == 0, done.stderr
    [source] = cut_ws.read_sources()
    assert f"restored  {source.source_id}" in done.stdout and "remade    8 clip files" in done.stdout
    ws = Workspace(clone)
    assert ws.read_sources() == cut_ws.read_sources()
    assert ws.abs(source.media).read_bytes() == SAMPLE.read_bytes()
    for clip in cut_ws.read_clips():
        assert ws.abs(clip.path).read_bytes() == cut_ws.abs(clip.path).read_bytes()
    assert ws.read_labels() == cut_ws.read_labels()
    again = run_cli("pull", str(SAMPLE), cwd=clone)
    assert again.returncode == 0 and "already pulled, nothing to do" in again.stdout

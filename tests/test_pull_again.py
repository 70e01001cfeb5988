"""Running pull and cut again on what was pulled and cut before, and the lists pull reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE, run_cli

from accentds.cli.shared import _corpus_line
from accentds.labels import read_source_defaults
from accentds.status import Totals
from accentds.workspace import Workspace


def test_a_licence_given_when_pulling_again_is_recorded_where_there_was_none(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    [source] = sample_ws.read_sources()
    assert source.licence == ""
    sid = source.source_id
    done = run_cli("pull", str(SAMPLE), "--licence", "CC-BY-4.0", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"have      {sid}  already pulled  {SAMPLE}",
        f"licence   {sid}  CC-BY-4.0",
    ]
    assert [s.licence for s in sample_ws.read_sources()] == ["CC-BY-4.0"]

    # a licence recorded before stays: the note says how to change it
    done = run_cli("pull", str(SAMPLE), "--licence", "CC0-1.0", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert [s.licence for s in sample_ws.read_sources()] == ["CC-BY-4.0"]
    assert done.stderr == (
        f"note      {sid} keeps its licence 'CC-BY-4.0'; "
        f"`accentds source set {sid} --licence CC0-1.0` changes it\n"
    )

    copy = shutil.copy(SAMPLE, tmp_path / "again.mp4")  # without options: nothing to do
    done = run_cli("pull", str(copy), cwd=sample_ws.root)
    assert done.stdout.splitlines()[0] == f"have      {sid}  already pulled, nothing to do  {copy}"


def test_a_list_may_note_after_a_path_and_quote_it_as_a_shell_does(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    talk = shutil.copy(SAMPLE, folder / "my talk.mp4")
    numbered = folder / "Episode #3.mp4"  # a name with a `#` is still taken whole
    numbered.write_bytes(Path(talk).read_bytes() + b"\0")
    listing = tmp_path / "tonight.txt"
    listing.write_text(
        f'"{talk}"  # from the ferry\n{numbered}   # the third\n{numbered}\n', encoding="utf-8"
    )
    done = run_cli("pull", "--from-file", str(listing), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert sorted(s.origin for s in workspace.read_sources()) == sorted([str(talk), str(numbered)])


def test_cut_explain_after_the_cut_names_the_dry_run_that_explains_it(sample_ws: Workspace) -> None:
    before = sample_ws.clips_parquet.read_bytes()
    done = run_cli("cut", "--explain", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    hint = "`accentds cut --explain --dry-run --force [SOURCE_ID...]` lists what the cut of"
    assert done.stdout.splitlines()[:3] == [
        "1 source already cut with these settings",
        "nothing to cut",
        f"{hint} sources cut before drops, writing nothing",
    ]
    done = run_cli("cut", "--explain", "--dry-run", "--force", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    [sid] = [s.source_id for s in sample_ws.read_sources()]
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"would cut {sid}     8 clips")
    assert lines[1].startswith("          dropped: ") or lines[1] == "          nothing dropped"
    assert sample_ws.clips_parquet.read_bytes() == before


def test_a_folder_pull_leaves_hidden_files_and_folders_out(workspace: Workspace, tmp_path: Path) -> None:
    """A folder copied from a Mac drive: `._talk.mp4` is metadata, `.Trashes/` was deleted."""
    drive = tmp_path / "drive"
    (drive / ".Trashes" / "501").mkdir(parents=True)
    talk = shutil.copy(SAMPLE, drive / "talk.mp4")
    (drive / "._talk.mp4").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X        " + bytes(4000))
    (drive / ".Trashes" / "501" / "old.mp4").write_bytes(SAMPLE.read_bytes() + b"\0")
    done = run_cli("pull", str(drive), "--no-cut", cwd=workspace.root)
    assert (done.returncode, done.stderr) == (0, "")
    assert [s.origin for s in workspace.read_sources()] == [str(talk)]
    named = run_cli("pull", str(drive / ".Trashes" / "501" / "old.mp4"), "--no-cut", cwd=workspace.root)
    assert named.returncode == 0, named.stderr  # named on its own, a hidden file is pulled
    assert len(workspace.read_sources()) == 2


def test_pulling_a_file_again_puts_back_media_deleted_from_raw(sample_ws: Workspace) -> None:
    """raw/ cleared to save space (or a clone without audio): the next pull of the file puts
    its media back, so the source can be re-cut, as `doctor` says."""
    [source] = sample_ws.read_sources()
    media = sample_ws.abs(source.media)
    media.unlink()
    doctor = run_cli("doctor", cwd=sample_ws.root)
    assert "they cannot be re-cut until pulled again" in doctor.stdout, doctor.stdout
    recut = run_cli("cut", "--force", cwd=sample_ws.root)
    assert recut.returncode == 1
    assert recut.stderr == (  # what to do, not "file not found: /the/workspace/raw/..."
        f"failed    {source.source_id}  its media {source.media} is missing: pull it again "
        f"(`accentds pull {SAMPLE}`)  {source.title}\n"
    )
    assert len(sample_ws.read_clips()) == 8  # its clips stay
    done = run_cli("pull", str(SAMPLE), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"restored  {source.source_id}  its media was missing from raw/: put back  {SAMPLE}"
    )
    assert media.read_bytes() == SAMPLE.read_bytes()
    assert [p.name for p in media.parent.iterdir() if p.name.startswith(".")] == []
    again = run_cli("cut", "--force", cwd=sample_ws.root)
    assert again.returncode == 0, again.stderr
    assert len(sample_ws.read_clips()) == 8


def test_pulling_again_what_a_pull_left_uncut_says_it_is_cut_now(workspace: Workspace) -> None:
    assert run_cli("pull", str(SAMPLE), "--no-cut", cwd=workspace.root).returncode == 0
    [sid] = [s.source_id for s in workspace.read_sources()]
    kept = run_cli("pull", str(SAMPLE), "--no-cut", cwd=workspace.root)  # not "nothing to do" either
    assert kept.stdout.splitlines()[0] == (
        f"have      {sid}  already pulled, not cut yet (`accentds cut` cuts it)  {SAMPLE}"
    )
    done = run_cli("pull", str(SAMPLE), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"have      {sid}  already pulled, not cut yet  {SAMPLE}"  # not "nothing to do"
    assert lines[1].startswith(f"cut       {sid}     8 clips")
    again = run_cli("pull", str(SAMPLE), cwd=workspace.root)
    assert again.stdout.splitlines()[0] == f"have      {sid}  already pulled, nothing to do  {SAMPLE}"


def test_two_copies_of_one_file_in_one_pull_are_named_as_such(workspace: Workspace, tmp_path: Path) -> None:
    """The copy pulled second is no source of its own: it is the other, cut in this run, not
    a source left uncut for later. Pulled side by side, either copy may be the one pulled."""
    copy = tmp_path / "copy of sample.mp4"
    copy.write_bytes(SAMPLE.read_bytes())
    done = run_cli("pull", str(SAMPLE), str(copy), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [sid] = [s.source_id for s in workspace.read_sources()]
    lines = done.stdout.splitlines()
    pulled = f"pulled    {sid}  0.6 min  "
    same = f"have      {sid}  already pulled, the same file as another in this pull  "
    assert lines[:2] in ([pulled + str(SAMPLE), same + str(copy)], [same + str(SAMPLE), pulled + str(copy)])
    assert lines[2].startswith(f"cut       {sid}     8 clips")


def test_a_speaker_given_when_pulling_again_fills_in_a_missing_one_and_keeps_one_set(
    sample_ws: Workspace,
) -> None:
    """A list pulled again with the next evening's --speaker used to relabel every source of
    earlier evenings on it, silently."""
    [source] = sample_ws.read_sources()
    sid = source.source_id
    done = run_cli("pull", str(SAMPLE), "--speaker", "Morag", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"have      {sid}  already pulled  {SAMPLE}",
        f"speaker   {sid}  Morag",
    ]
    assert read_source_defaults(sample_ws)[sid]["speaker"] == "Morag"

    done = run_cli("pull", str(SAMPLE), "--speaker", "Iain Ross", "--accent", "fife", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    defaults = read_source_defaults(sample_ws)[sid]
    assert (defaults["speaker"], defaults["accent"]) == ("Morag", "Fife")  # the accent it lacked
    assert done.stderr == (
        f"note      {sid} keeps its speaker 'Morag'; "
        f'`accentds source set {sid} --speaker "Iain Ross"` changes it\n'
    )
    assert f"accent    {sid}  Fife" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("before_s", "after_s", "line"),
    [
        (83.0, 80.5, "corpus: 22 clips, 1.3 min (-0.1 min)"),  # 1.383 -> 1.342: read (-0.0 min)
        (62.9, 65.5, "corpus: 22 clips, 1.1 min (+0.1 min)"),  # 1.048 -> 1.092: read (+0.0 min)
        (60.0, 61.0, "corpus: 22 clips, 1.0 min (+0.02 min)"),  # a change the minutes do not show
        (60.0, 60.0, "corpus: 22 clips, 1.0 min (+0.0 min)"),
        (0.0, 0.0, "corpus: 22 clips, 0.0 min (+0.0 min)"),
    ],
)
def test_the_corpus_line_changes_by_the_minutes_it_shows(
    before_s: float, after_s: float, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A re-cut that took the corpus from `1.4 min` to `1.3 min` said `(-0.0 min)`."""
    _corpus_line(Totals(22, before_s), Totals(22, after_s))
    assert capsys.readouterr().out == line + "\n"

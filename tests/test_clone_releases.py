"""Publishing again from a git clone of the workspace: no audio in it until the sources are
pulled again, and what that clone publishes."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from conftest import SAMPLE, run_cli
from releasing import manifest_of

from accentds.labels import set_labels
from accentds.words import counted
from accentds.workspace import Workspace


def _clone(ws: Workspace, where: Path) -> Path:
    """What `git clone` of the workspace gives: the manifests, no raw/, clips/ or releases/."""
    untracked = {ws.raw, ws.clips, ws.releases}
    shutil.copytree(
        ws.root, where, ignore=lambda folder, names: [n for n in names if Path(folder, n) in untracked]
    )
    return where


def test_a_clone_cuts_the_clips_of_an_aac_video_again_byte_for_byte_and_knows_nothing_is_new(
    workspace: Workspace, ffmpeg: str, tmp_path: Path
) -> None:
    """A clone put each AAC clip back from a decode after a seek, some of them samples or
    milliseconds off the first copy's: a release of the same clips from the clone was not
    refused as nothing new, and its shards differed from the release before."""
    video = tmp_path / "interview.m4a"  # as YouTube serves it: AAC at 44.1 kHz
    encode = [ffmpeg, "-v", "error", "-i", str(SAMPLE), "-vn", "-ar", "44100", "-c:a", "aac", "-b:a", "128k"]
    subprocess.run([*encode, str(video)], check=True)
    done = run_cli("pull", str(video), "--licence", "CC0-1.0", "--speaker", "Morag", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    clips = workspace.read_clips()
    assert len(clips) >= 4
    set_labels(workspace, [c.clip_id for c in clips], {"status": "accepted", "transcript": "aye"}, "ann")
    assert run_cli("publish", "1.0.0", cwd=workspace.root).returncode == 0

    clone = _clone(workspace, tmp_path / "clone")
    again = run_cli("pull", str(video), cwd=clone)
    assert again.returncode == 0, again.stderr
    assert f"remade    {counted(len(clips), 'clip file')}" in again.stdout
    for clip in clips:
        assert (clone / clip.path).read_bytes() == workspace.abs(clip.path).read_bytes(), clip.clip_id

    same = run_cli("publish", "1.1.0", cwd=clone)
    assert same.returncode == 1
    assert same.stderr.startswith("Error: nothing changed since 1.0.0"), same.stderr


def test_the_pull_a_clone_is_told_to_run_for_one_source_is_quoted_for_the_shell(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The command named for one source was the path as it is, so a file in "My Videos" or
    with an apostrophe gave a command the shell splits or refuses."""
    video = tmp_path / "My Videos" / "Angus's interview.mp4"
    video.parent.mkdir()
    shutil.copy(SAMPLE, video)
    done = run_cli("pull", str(video), "--licence", "CC0-1.0", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    clips = [c.clip_id for c in workspace.read_clips()]
    set_labels(workspace, clips, {"status": "accepted", "transcript": "aye"}, "ann")
    clone = _clone(workspace, tmp_path / "clone")
    for told in (run_cli("publish", "1.0.0", cwd=clone).stderr, run_cli("status", cwd=clone).stdout):
        assert "`accentds pull " in told, told
        command = told.split("`accentds pull ", 1)[1].split("`", 1)[0]
        assert shlex.split(command) == [str(video)], told


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    who = ["-c", "user.name=Curator", "-c", "user.email=curator@example.org"]
    return subprocess.run(["git", *who, *args], cwd=folder, capture_output=True, text=True)


def test_two_clones_that_each_published_are_told_of_the_merge_conflict_not_read_as_half_of_each(
    ws: Workspace, tmp_path: Path
) -> None:
    """Two clones each published 1.1.0; after the merge, releases.csv held git's conflict
    lines, which status and publish read without a word (the other clone's 1.1.0 taken as
    this one's) until the next publish rewrote the file and the conflict was gone."""
    assert run_cli("publish", "1.0.0", cwd=ws.root).returncode == 0
    assert _git(ws.root, "init", "-q").returncode == 0
    assert (
        _git(ws.root, "add", "-A").returncode == 0 and _git(ws.root, "commit", "-qm", "1.0.0").returncode == 0
    )
    accepted = sorted(c for c, row in manifest_of(ws).items() if row["status"] == "accepted")
    clones = [tmp_path / "a", tmp_path / "b"]
    for clone, clip in zip(clones, accepted, strict=False):
        shutil.copytree(ws.root, clone)
        assert run_cli("label", clip, "--transcript", f"words of {clone.name}", cwd=clone).returncode == 0
        done = run_cli("publish", "1.1.0", cwd=clone)
        assert done.returncode == 0, done.stderr
        assert (
            _git(clone, "add", "-A").returncode == 0 and _git(clone, "commit", "-qm", "1.1.0").returncode == 0
        )
    merged = _git(clones[0], "pull", "--no-rebase", str(clones[1]), "HEAD")
    assert "CONFLICT" in merged.stdout and "releases.csv" in merged.stdout, merged.stdout
    records = clones[0] / "manifests" / "releases.csv"
    marks = [
        n for n, line in enumerate(records.read_text().splitlines(), start=1) if line.startswith("<<<<<<<")
    ]
    for args in (("status",), ("publish", "1.2.0", "--dry-run"), ("publish", "1.2.0")):
        done = run_cli(*args, cwd=clones[0])
        assert done.returncode == 1, (args, done.stdout)
        [line] = done.stderr.splitlines()
        assert line.startswith(f"Error: {records} line {marks[0]} holds a git merge conflict"), line
        assert "git checkout --ours manifests/releases.csv" in line
    assert "<<<<<<<" in records.read_text() and not (clones[0] / "releases" / "1.2.0").exists()


def test_doctor_in_a_clone_keeps_the_clips_of_sources_not_pulled_there_yet(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """In a clone holding no audio, doctor dropped every clip of the sources not pulled there
    (a denied speaker's, one of rejected copies: those status does not ask to pull) from the
    tracked clips.parquet and marked them uncut in cuts.csv, so the clone's counts shrank and a
    commit took the clips out of the first copy's manifests too."""
    set_labels(cut_ws, [c.clip_id for c in cut_ws.read_clips()[:2]], {"transcript": "kept words"}, "ann")
    clone = _clone(cut_ws, tmp_path / "clone")
    tracked = {name: (cut_ws.manifests / name).read_bytes() for name in ("clips.parquet", "cuts.csv")}
    done = run_cli("doctor", cwd=clone)
    assert done.returncode == 0, done.stderr
    assert "never pulled here" in done.stdout and "row(s) had no file" not in done.stdout
    assert {name: (clone / "manifests" / name).read_bytes() for name in tracked} == tracked
    again = run_cli("pull", str(SAMPLE), cwd=clone)
    assert again.returncode == 0 and "remade    8 clip files" in again.stdout, again.stdout
    for clip in cut_ws.read_clips():
        assert (clone / clip.path).read_bytes() == cut_ws.abs(clip.path).read_bytes()
    assert Workspace(clone).read_labels() == cut_ws.read_labels()


def test_the_same_pull_again_goes_on_with_a_restore_interrupted_before_its_clips(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """A Ctrl-C after a clone's pull had put the media back but before it cut the clip files
    again said "run the same pull again to go on"; that pull said "already pulled, nothing to
    do" and left every clip file missing."""
    clone = _clone(cut_ws, tmp_path / "clone")
    assert run_cli("pull", str(SAMPLE), cwd=clone).returncode == 0
    for clip in cut_ws.read_clips():  # as the interrupted pull left them: media back, no clips
        (clone / clip.path).unlink()
    again = run_cli("pull", str(SAMPLE), cwd=clone)
    assert again.returncode == 0, again.stderr
    assert "remade    8 clip files" in again.stdout, again.stdout
    for clip in cut_ws.read_clips():
        assert (clone / clip.path).read_bytes() == cut_ws.abs(clip.path).read_bytes()
    assert "remade" not in run_cli("pull", str(SAMPLE), cwd=clone).stdout

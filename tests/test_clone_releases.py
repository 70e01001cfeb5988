"""Publishing again from a git clone of the workspace: no audio in it until the sources are
pulled again, and what that clone publishes."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from conftest import SAMPLE, run_cli

from accentds.labels import set_labels
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
    assert f"remade    {len(clips)} clip file(s)" in again.stdout
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

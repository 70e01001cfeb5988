"""A folder pull takes the media files people bring, not only the best-known kinds: camcorder
(.MTS, .m2ts, .MOD) and DVD (.VOB) video, QuickTime (.qt), phone voice memos (.amr, .caf, .3ga),
audiobooks (.m4b), Sun audio (.au)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import RATE, MakeMedia, check_consistent, run_cli

from accentds.workspace import Workspace

# name, ffmpeg output arguments, made with a picture
FORMATS = [
    ("00001.MTS", ["-c:v", "libx264", "-c:a", "aac", "-f", "mpegts"], True),
    ("clip.m2ts", ["-c:v", "libx264", "-c:a", "aac", "-f", "mpegts"], True),
    ("VTS_01_1.VOB", ["-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"], True),
    ("memo.amr", ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1"], False),
    ("memo.caf", ["-c:a", "pcm_s16le", "-f", "caf"], False),
    ("book.m4b", ["-c:a", "aac", "-f", "ipod"], False),
    ("Voice 001.3ga", ["-c:a", "aac", "-f", "3gp"], False),  # a Samsung phone's recorder
    ("lecture.au", ["-c:a", "pcm_s16be", "-f", "au"], False),
    ("MOV001.MOD", ["-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"], True),  # a JVC camcorder
    ("interview.qt", ["-c:v", "libx264", "-c:a", "aac", "-f", "mov"], True),
]


def test_a_folder_pull_takes_camcorder_dvd_and_voice_memo_files(
    workspace: Workspace, make_media: MakeMedia, speech: np.ndarray, tmp_path: Path
) -> None:
    folder = tmp_path / "from the camera"
    folder.mkdir()
    for n, (name, args, video) in enumerate(FORMATS):
        audio = np.roll(speech, n * RATE)  # other bytes each: a source each
        make_media(name, *args, audio=audio, video=video).rename(folder / name)
    (folder / "notes.txt").write_text("not media\n", encoding="utf-8")
    done = run_cli("pull", str(folder), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    pulled = sorted(Path(s.origin).name for s in workspace.read_sources())
    assert pulled == sorted(name for name, _, _ in FORMATS), done.stdout + done.stderr
    assert all(s.duration > 10 for s in workspace.read_sources())
    check_consistent(workspace)

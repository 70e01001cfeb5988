"""The CLI on a terminal: the progress bar of a pull and cut redrawn in place, and every line
printed while it shows (pulled, failed, cut, warning) on a line of its own, never stuck to the
bar. Runs the real command on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(*args: str, cwd: Path) -> tuple[int, list[str]]:
    """Run `accentds ARGS` with stdout and stderr on one pseudo-terminal (as in a shell); the
    exit code and the screen's lines as written, escape codes removed, split at CR and LF."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(ROOT)}
    env.pop("ACCENTDS_WORKSPACE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", *args],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    code = proc.wait(timeout=300)
    text = ANSI.sub("", written.decode("utf-8", "replace"))
    return code, [line for line in re.split(r"[\r\n]+", text) if line.strip()]


def test_a_failed_source_is_a_line_of_its_own_under_the_pull_bar(workspace, make_media, tmp_path):
    good = make_media("talk.mp3", "-c:a", "libmp3lame")
    folder = good.parent
    (folder / "notes.mp4").write_text("not a video\n", encoding="utf-8")
    (folder / "empty.mkv").write_bytes(b"")

    code, lines = run_on_terminal("pull", str(folder), "-j", "1", cwd=workspace.root)

    assert code == 1
    assert any(line.startswith("pulling 3 items") for line in lines)  # the bar was shown
    failed = [line for line in lines if "notes.mp4" in line or "empty.mkv" in line]
    assert len(failed) == 2
    for line in failed:
        assert line.startswith("failed    "), line
    assert any(line.startswith("pulled    file-") for line in lines)
    assert any(line.startswith("cut       file-") for line in lines)
    assert lines[-1] == "2 of 3 sources failed; the others are in the corpus"

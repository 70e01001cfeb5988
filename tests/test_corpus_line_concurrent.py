"""Two commands in two terminals: a pull that waits for another command's cut counts only its
own minutes in its `corpus: ... (+N min)` line, not those the other cut added meanwhile."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import soundfile
from conftest import RATE, run_cli
from proctree import descendants
from test_cli_signals import long_workspace, start

from accentds.workspace import Workspace

CORPUS = re.compile(r"^corpus: (\d+) clips, ([\d.]+) min \(([+-][\d.]+) min\)$", re.M)


def test_a_pull_waiting_for_another_cut_counts_only_its_own_minutes(
    tmp_path: Path, speech: np.ndarray
) -> None:
    ws = long_workspace(tmp_path, speech, sources=1, minutes=8)
    short = tmp_path / "short.wav"
    soundfile.write(str(short), (speech[: 40 * RATE] * 0.3).astype(np.int16), RATE, subtype="PCM_16")
    first = start("module", "cut", "--workers", "1", cwd=ws.root)
    deadline = time.monotonic() + 60
    while not descendants(first.pid):  # cutting: its ffmpeg decodes
        assert first.poll() is None and time.monotonic() < deadline, "the cut never got going"
        time.sleep(0.01)
    second = start("module", "pull", str(short), cwd=ws.root)
    first_out, first_err = first.communicate(timeout=300)
    second_out, second_err = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (first_err, second_err)
    assert "waiting" in second_err + second_out  # it did wait for the first cut
    long_s = sum(c.duration for c in ws.read_clips() if c.source_id != _short_id(ws, short))
    short_s = sum(c.duration for c in ws.read_clips() if c.source_id == _short_id(ws, short))
    assert long_s > 4 * 60 and 0 < short_s < 60
    added_first = float(CORPUS.search(first_out)[3])
    added_second = float(CORPUS.search(second_out)[3])
    assert added_first == round(long_s / 60, 1), first_out
    # the change of the minutes shown: from those the other cut left to those after this pull
    shown = float(f"{(long_s + short_s) / 60:.1f}") - float(f"{long_s / 60:.1f}")
    assert added_second == round(shown, 1), second_out
    assert float(CORPUS.search(second_out)[2]) == round((long_s + short_s) / 60, 1)


def _short_id(ws: Workspace, short: Path) -> str:
    return next(s.source_id for s in ws.read_sources() if Path(s.origin).name == short.name)


def test_a_re_cut_that_changes_the_minutes_a_little_says_by_how_much(cut_ws: Workspace) -> None:
    """8 clips 10 ms shorter each side: 0.16 s less, which one decimal would give as `-0.0 min`
    (no change, to a reader)."""
    before = sum(c.duration for c in cut_ws.read_clips())
    done = run_cli("cut", "--padding-ms", "190", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    change = sum(c.duration for c in cut_ws.read_clips()) - before
    assert -3.0 < change < 0  # under 0.05 min, so below one decimal
    line = done.stdout.splitlines()[-1]
    expected = f"{change / 60:+.2f} min" if round(abs(change) / 60, 2) else "-<0.01 min"
    assert line.endswith(f"({expected})"), line
    again = run_cli("cut", "--padding-ms", "190", cwd=cut_ws.root)
    assert again.stdout.splitlines()[-1].endswith("(+0.0 min)")  # nothing changed

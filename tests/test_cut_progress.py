"""On a terminal, the cut's bar moves with the minutes of audio cut, so a long source shows
its progress while it is cut (before, the bar counted sources: `0/1` until the end)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_cli_signals import long_workspace
from test_terminal_output import run_on_terminal

MINUTES = 10
SHOWN = re.compile(r"^cutting (\d+) sources?.*?(\d+\.\d) of (\d+\.\d) min")


@pytest.mark.parametrize(("sources", "workers"), [(1, "2"), (2, "2"), (2, "1")])
def test_the_cut_bar_moves_while_a_long_source_is_cut(
    tmp_path: Path, speech: np.ndarray, sources: int, workers: str
) -> None:
    ws = long_workspace(tmp_path, speech, sources=sources, minutes=MINUTES)
    code, lines = run_on_terminal("cut", "--workers", workers, cwd=ws.root)
    assert code == 0, lines
    first_done = next(i for i, line in enumerate(lines) if line.startswith("cut       file-"))
    shown = [SHOWN.match(line) for line in lines[:first_done]]
    told = [(int(m[1]), float(m[2]), float(m[3])) for m in shown if m]
    assert told and all(count == sources and total == MINUTES * sources for count, _, total in told), lines
    # before the first source is done: minutes between none and the run's, more than once (two
    # workers cut two sources together, so their sum may pass one source's before either ends)
    between = {done for _, done, _ in told if 0 < done < MINUTES * sources}
    assert len(between) >= 2, lines

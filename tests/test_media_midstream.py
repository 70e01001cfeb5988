"""Audio that changes or breaks mid-stream is cut to its end, as a player plays it: a sample
rate or channel layout that changes (two recordings joined into one file), a damaged stretch."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import RATE, MakeMedia, check_consistent, run_cli

from accentds.media import measure_audio
from accentds.workspace import Workspace

MP3 = ["-c:a", "libmp3lame", "-write_xing", "0", "-id3v2_version", "0"]  # frames only: joinable


def _joined(make_media: MakeMedia, speech: np.ndarray, second: list[str]) -> tuple[Path, float]:
    """An MP3 of the sample's first half at 22.05 kHz mono followed by its second half
    encoded with `second`, as `cat a.mp3 b.mp3` makes it; and where the second half starts."""
    half = len(speech) // 2
    one = make_media("one.mp3", "-ar", "22050", "-ac", "1", *MP3, audio=speech[:half])
    two = make_media("two.mp3", *second, *MP3, audio=speech[half:])
    joined = one.with_name("joined.mp3")
    joined.write_bytes(one.read_bytes() + two.read_bytes())
    return joined, half / RATE


def _cut_to_the_end(workspace: Workspace, path: Path, seconds: float, split_s: float) -> None:
    done = run_cli("pull", str(path), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [source] = workspace.read_sources()
    assert abs(source.duration - seconds) < 0.5, (source.duration, seconds, done.stderr)
    clips = workspace.read_clips()
    assert max(c.end for c in clips) > split_s + 5.0, [c.clip_id for c in clips]
    check_consistent(workspace)


@pytest.mark.parametrize(
    "second", [["-ar", "44100", "-ac", "1"], ["-ar", "22050", "-ac", "2"]], ids=["sample-rate", "channels"]
)
def test_a_sample_rate_or_channel_layout_that_changes_mid_stream_is_cut_to_the_end(
    workspace: Workspace, make_media: MakeMedia, speech: np.ndarray, ffmpeg: str, second: list[str]
) -> None:
    path, split_s = _joined(make_media, speech, second)
    seconds = len(speech) / RATE
    assert abs(measure_audio(path, ffmpeg) - seconds) < 0.5
    _cut_to_the_end(workspace, path, seconds, split_s)


def test_a_damaged_stretch_mid_file_loses_only_itself_and_keeps_the_timeline(
    workspace: Workspace, make_media: MakeMedia, speech: np.ndarray, ffmpeg: str
) -> None:
    whole = make_media("whole.mp4", "-c:a", "libmp3lame", video=True)
    data = bytearray(whole.read_bytes())
    middle = len(data) * 2 // 5
    data[middle : middle + 20000] = b"\xff" * 20000  # a damaged copy or download
    damaged = whole.with_name("damaged.mp4")
    damaged.write_bytes(bytes(data))
    seconds = len(speech) / RATE
    assert measure_audio(damaged, ffmpeg) > seconds - 0.5
    done = run_cli("pull", str(whole), str(damaged), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    by_origin = {Path(s.origin).name: s for s in workspace.read_sources()}
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    assert warning.startswith(
        f"warning   {by_origin['damaged.mp4'].source_id}  damaged or truncated media ("
    ), warning
    assert re.search(r": decoded on past it, cut the 3\d\.\d s that decode$", warning), warning
    assert by_origin["damaged.mp4"].duration > seconds - 0.5, done.stderr
    clips = workspace.read_clips()

    def last(name: str) -> tuple[float, float]:
        ours = [c for c in clips if c.source_id == by_origin[name].source_id]
        end = max(ours, key=lambda c: c.end)
        return end.start, end.end

    # the words after the damage are where a player plays them
    assert last("damaged.mp4") == pytest.approx(last("whole.mp4"), abs=0.05)
    check_consistent(workspace)

"""A whole MP3 without a frame count (a VBR one without its Xing header) that starts with
silence: ffmpeg guesses its length from its first frame's bitrate, far too long. It is no
truncated download: pulled from a file or a URL, it is cut with no warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import RATE, MakeMedia, run_cli
from test_url import Site, site

from accentds.workspace import Workspace

__all__ = ["site"]  # fixtures used here


def _silence_first(make_media: MakeMedia, speech: np.ndarray, name: str) -> Path:
    audio = np.concatenate([np.zeros(3 * RATE, dtype=np.int16), speech])
    return make_media(
        name, "-ar", "44100", "-c:a", "libmp3lame", "-q:a", "0", "-write_xing", "0", audio=audio
    )


def test_a_vbr_mp3_without_its_xing_header_is_no_truncated_download(
    site: Site, workspace: Workspace, make_media: MakeMedia, speech: np.ndarray
) -> None:
    path = _silence_first(make_media, speech, "talk.mp3")
    said = run_cli("pull", str(path), cwd=workspace.root)
    assert said.returncode == 0, said.stderr
    assert "warning" not in said.stderr and "truncated" not in said.stderr, said.stderr
    [source] = workspace.read_sources()
    assert abs(source.duration - (3 + len(speech) / RATE)) < 0.2
    _silence_first(make_media, speech[: -RATE // 2], "served.mp3").rename(site.root / "served.mp3")
    url = site.url("served.mp3")
    done = run_cli("pull", url, cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert [s.origin for s in workspace.read_sources()] == [source.origin, url]
    assert workspace.read_clips()

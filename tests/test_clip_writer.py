"""Clip files: a failed write loses nothing, a half-written file is never left behind."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from conftest import check_consistent

import accentds.cut as cutting
from accentds.config import VadSettings
from accentds.media import write_wav
from accentds.pull import pull
from accentds.workspace import Workspace


def test_a_failed_clip_write_fails_its_source_and_loses_nothing(
    workspace: Workspace, make_media, monkeypatch
):
    pull(workspace, [str(make_media("talk.wav"))], licence="CC0-1.0")
    [first] = cutting.cut(workspace, workers=1)
    assert first.ok and len(first.clips) > 3
    before = sorted(p.name for p in workspace.clips.rglob("*"))
    rows = workspace.read_clips()

    calls = []

    def disk_full_at_the_third(path: Path, pcm, rate: int) -> float:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_wav(path, pcm, rate)

    monkeypatch.setattr(cutting, "write_wav", disk_full_at_the_third)
    other = VadSettings(padding_ms=first.clips[0].vad_padding_ms + 60)  # other ids: new files
    [again] = cutting.cut(workspace, vad=other, workers=1, force=True)

    assert not again.ok and again.reason.startswith("No space left on device")
    assert len(calls) >= 3
    assert sorted(p.name for p in workspace.clips.rglob("*")) == before  # the new files are gone
    assert workspace.read_clips() == rows
    check_consistent(workspace)


def test_a_write_that_fails_midway_leaves_no_part_file(tmp_path: Path):
    class Unwritable:  # has a length, so the header is written; no bytes, so the data is not
        def __len__(self) -> int:
            return 3200

    with pytest.raises(TypeError):
        write_wav(tmp_path / "c.wav", Unwritable(), 16000)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []

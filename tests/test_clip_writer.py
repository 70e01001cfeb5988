"""Clip files are written on a thread beside the cutting: errors, waiting, and what is left."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import numpy as np
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


def test_the_cutting_waits_while_the_queue_is_full(tmp_path: Path, monkeypatch):
    release = threading.Event()
    started = []

    def slow(path: Path, pcm, rate: int) -> float:
        started.append(path)
        release.wait(10)
        return write_wav(path, pcm, rate)

    monkeypatch.setattr(cutting, "write_wav", slow)
    monkeypatch.setattr(cutting.ClipWriter, "PENDING_BYTES", 250)
    writer = cutting.ClipWriter(16000)
    clips = [np.full(50, k, "<i2") for k in range(6)]  # 100 bytes each
    submitted = []

    def cutting_side() -> None:
        for k, samples in enumerate(clips):
            writer.write(tmp_path / f"c{k}.wav", memoryview(samples.tobytes()))
            writer.flush()  # a batch of one
            submitted.append(k)

    thread = threading.Thread(target=cutting_side)
    thread.start()
    time.sleep(0.3)
    assert submitted == [0, 1] and len(started) == 1  # 300 bytes would pass 250: it waits
    assert thread.is_alive()
    release.set()
    thread.join(10)
    assert submitted == list(range(6))
    assert writer.close() == [50 / 16000] * 6
    for k, samples in enumerate(clips):
        data = (tmp_path / f"c{k}.wav").read_bytes()
        assert data[44:] == samples.tobytes()
    assert not list(tmp_path.glob("*.part"))


def test_batches_keep_the_order_of_the_clips(tmp_path: Path):
    writer = cutting.ClipWriter(16000)
    lengths = [160, 32, 480, 16, 800]
    for k, n in enumerate(lengths):
        writer.write(tmp_path / f"c{k}.wav", memoryview(np.full(n, k, "<i2").tobytes()))
        if k == 2:
            writer.flush()  # a batch of three; close hands over the last two
    assert writer.close() == [n / 16000 for n in lengths]
    for k, n in enumerate(lengths):
        assert (tmp_path / f"c{k}.wav").read_bytes()[44:] == np.full(n, k, "<i2").tobytes()


def test_a_write_that_fails_midway_leaves_no_part_file(tmp_path: Path):
    class Unwritable:  # has a length, so the header is written; no bytes, so the data is not
        def __len__(self) -> int:
            return 3200

    with pytest.raises(TypeError):
        write_wav(tmp_path / "c.wav", Unwritable(), 16000)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []

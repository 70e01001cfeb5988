"""A cut stopped while it records a source in the manifests (clips.parquet, drafts,
fingerprints, cuts.csv) leaves that source recorded whole or not at all: Ctrl-C waits for
the source's files, and after a `kill -9` the source is not marked as cut with the new
settings, so the next cut records it again. Before, Ctrl-C there left the source marked
as cut with the fingerprints (and caption drafts) of its old clips, which no later cut
with those settings replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from conftest import check_consistent, run_cli
from test_cli_signals import long_workspace

from accentds.words import counted
from accentds.workspace import Workspace

SOURCES = 4


def _fingerprints_match(ws: Workspace) -> None:
    """Every clip of clips.parquet has its fingerprint, and no fingerprint names a clip gone."""
    clips = set(pq.read_table(ws.manifests / "clips.parquet", columns=["clip_id"])["clip_id"].to_pylist())
    prints = set(
        pq.read_table(ws.manifests / "fingerprints.parquet", columns=["clip_id"])["clip_id"].to_pylist()
    )
    assert clips and prints == clips, (len(clips - prints), len(prints - clips))


def _cut_stopped_when_changed(
    ws: Workspace, watched: Path, how: signal.Signals
) -> subprocess.CompletedProcess:
    """Re-cut every source with other settings, stopped by `how` the moment `watched` changes
    (in the middle of a source's record)."""
    before = watched.stat().st_mtime_ns
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", "cut", "--padding-ms", "300", "--workers", "2"],
        cwd=ws.root,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while watched.stat().st_mtime_ns == before:
        assert proc.poll() is None and time.monotonic() < deadline, "the cut never recorded a source"
    if how == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
    else:
        os.kill(proc.pid, how)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _cut_once(tmp_path: Path, speech: np.ndarray) -> Workspace:
    ws = long_workspace(tmp_path, speech, sources=SOURCES, minutes=1)
    assert run_cli("cut", cwd=ws.root).returncode == 0
    _fingerprints_match(ws)
    return ws


def test_ctrl_c_while_a_source_is_recorded_waits_for_its_record(tmp_path: Path, speech: np.ndarray) -> None:
    ws = _cut_once(tmp_path, speech)
    old = ws.config.vad.settings_id
    stopped = _cut_stopped_when_changed(ws, ws.manifests / "clips.parquet", signal.SIGINT)
    assert stopped.returncode == 130, stopped.stderr
    _fingerprints_match(ws)
    check_consistent(ws, killed=True)
    recut = [sid for sid, c in ws.read_cuts().items() if c.settings_id != old]
    assert 0 < len(recut) < SOURCES
    done = run_cli("cut", "--padding-ms", "300", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert f"{counted(len(recut), 'source')} already cut with these settings" in done.stdout
    _fingerprints_match(ws)


def test_a_source_killed_while_recorded_is_recorded_by_the_next_cut(
    tmp_path: Path, speech: np.ndarray
) -> None:
    ws = _cut_once(tmp_path, speech)
    stopped = _cut_stopped_when_changed(ws, ws.manifests / "cuts.csv", signal.SIGKILL)
    assert stopped.returncode == -signal.SIGKILL
    done = run_cli("cut", "--padding-ms", "300", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    _fingerprints_match(ws)
    check_consistent(ws)

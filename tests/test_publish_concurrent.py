"""Two publishes of one workspace at once: the one that finishes second is refused when the
other recorded a version after it read the workspace, and leaves nothing behind; so is a
publish during which a `deny` or a `splits move` was run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from releasing import NOW, manifest_of

from accentds.changes import release_rows
from accentds.errors import AccentdsError
from accentds.labels import set_labels
from accentds.publish import publish
from accentds.releases import load_release, recorded_releases
from accentds.selection import deny
from accentds.splits import move_split, split_memory, splits_csv
from accentds.workspace import Workspace


def _stopped_while_building(ws: Workspace, version: str) -> subprocess.Popen:
    """`accentds publish VERSION` stopped (SIGSTOP) once it builds its release folder, before it
    moves it into place."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", "publish", version],
        cwd=ws.root,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(ws.releases.glob(f".building-{version}-*")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the publish never started building"
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGSTOP)
    assert not (ws.releases / version).exists(), "the publish finished before it could be stopped"
    return proc


def _resumed(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def released(ws: Workspace) -> Workspace:
    """1.0.0 published, and Callum's clips accepted since: something new for the next version."""
    publish(ws, "1.0.0", now=NOW)
    callum = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Callum")
    set_labels(ws, callum, {"status": "accepted"}, "ann")
    return ws


def test_a_version_published_meanwhile_makes_the_other_publish_run_again(released: Workspace) -> None:
    ws = released
    building = _stopped_while_building(ws, "2.1.0")
    try:
        publish(ws, "2.0.0")  # another terminal, while 2.1.0 is being built
    finally:
        done = _resumed(building)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "Error: 2.0.0 was published by another publish while 2.1.0 was being built; nothing of 2.1.0 was kept: "
        "run `accentds publish 2.1.0` again"
    ), done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(recorded_releases(ws)) == ["1.0.0", "2.0.0"]
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0", "2.0.0"]
    # run again, 2.1.0 is compared with 2.0.0: the same clips, so nothing is new
    with pytest.raises(AccentdsError, match=r"nothing changed since 2\.0\.0"):
        publish(ws, "2.1.0")


def test_a_lower_version_is_not_published_after_a_higher_one_made_meanwhile(released: Workspace) -> None:
    ws = released
    building = _stopped_while_building(ws, "2.0.0")
    try:
        publish(ws, "2.1.0")
    finally:
        done = _resumed(building)
    assert done.returncode == 1, done.stderr
    assert "Error: 2.1.0 was published by another publish while 2.0.0 was being built" in done.stderr
    assert "2.0.0 is not above it: publish 2.1.1, 2.2.0 or 3.0.0" in done.stderr, done.stderr
    assert sorted(recorded_releases(ws)) == ["1.0.0", "2.1.0"]
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0", "2.1.0"]


def test_a_deny_while_a_release_is_built_is_not_missed(released: Workspace) -> None:
    ws = released
    building = _stopped_while_building(ws, "1.1.0")
    try:
        deny(ws, "speaker", "Hamish", "asked to be removed")
    finally:
        done = _resumed(building)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "Error: manifests/deny.csv changed while 1.1.0 was being built (a `deny` was run meanwhile: the release "
        "would hold what it takes down); nothing of 1.1.0 was kept: run `accentds publish 1.1.0` again\n"
    )
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0"]
    again = publish(ws, "1.1.0")
    hamish = {c for c, r in manifest_of(ws).items() if r["speaker"] == "Hamish"}
    published = set(release_rows(again.path))
    assert hamish & set(release_rows(ws.releases / "1.0.0"))
    assert published and not hamish & published


def test_a_split_move_while_a_release_is_built_is_not_undone(released: Workspace) -> None:
    ws = released
    [(node, split)] = [(n, s) for n, s in split_memory(ws).items() if n == "speaker:Morag"]
    other = "test" if split != "test" else "validation"
    building = _stopped_while_building(ws, "1.1.0")
    try:
        move_split(ws, "speaker", "Morag", other, "a second recording session")
    finally:
        done = _resumed(building)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "Error: manifests/splits.csv changed while 1.1.0 was being built (a `splits move` or `speakers rename` was "
        "run meanwhile"
    ), done.stderr
    assert split_memory(ws)[node] == other and "forced with --force" not in splits_csv(ws).read_text()
    release = publish(ws, "1.1.0")
    assert release.assignment["Morag"] == other
    assert "a second recording session" in (release.path / "README.md").read_text(encoding="utf-8")
    assert load_release(ws, "1.1.0").assignment["Morag"] == other

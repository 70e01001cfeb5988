"""One cut at a time, kills at every write of a re-cut, labels that follow their clips, and an
interrupted pull finished by the next one."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile
from conftest import RATE, check_consistent, run_cli

from accentds.labels import orphans, set_labels
from accentds.workspace import Workspace, init_workspace

# runs the CLI and SIGKILLs it at its Nth rename, unlink or fsync (counting across threads);
# with KILL_AT=0 it prints how many there were
KILLER = """
import atexit, os, signal, sys, threading
at, count, lock = int(os.environ["KILL_AT"]), [0], threading.Lock()
def counted(real):
    def call(*args, **kwargs):
        with lock:
            count[0] += 1
            if count[0] == at:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
for name in ("replace", "unlink", "fsync"):
    setattr(os, name, counted(getattr(os, name)))
if not at:
    atexit.register(lambda: print(f"WRITES {count[0]}", file=sys.stderr))
sys.argv = ["accentds", *sys.argv[1:]]
from accentds.cli import main
main()
"""


def _sources(folder: Path, speech: np.ndarray, count: int, seconds: float = 40) -> list[Path]:
    folder.mkdir(exist_ok=True)
    long = np.tile(speech, int(seconds * RATE / len(speech)) + 1)[: int(seconds * RATE)]
    paths = []
    for k in range(count):
        path = folder / f"talk-{k}.wav"
        soundfile.write(str(path), (long * (0.5 + 0.1 * k)).astype(np.int16), RATE, subtype="PCM_16")
        paths.append(path)
    return paths


@pytest.fixture
def two_sources(tmp_path: Path, speech: np.ndarray) -> Workspace:
    ws, _ = init_workspace(tmp_path / "ws")
    done = run_cli("pull", *map(str, _sources(tmp_path / "media", speech, 2)), cwd=ws.root)
    assert done.returncode == 0, done.stderr
    return ws


def _rows_have_files(ws: Workspace) -> None:
    for table in (ws.clips_parquet, ws.manifest_parquet):
        for path in pq.read_table(table, columns=["path"])["path"].to_pylist():
            assert ws.abs(path).is_file(), f"{table.name} lists {path}, which is gone"


def _accepted(ws: Workspace) -> dict[str, str]:
    live = {c.clip_id for c in ws.read_clips()}
    return {
        cid: row["transcript"]
        for cid, row in ws.read_labels().items()
        if row["status"] == "accepted" and cid in live
    }


def _killed_run(root: Path, at: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILL_AT": str(at), "COLUMNS": "200"}
    env.pop("ACCENTDS_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-c", KILLER, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_kill_at_any_write_of_a_recut_leaves_every_row_with_its_file(
    two_sources: Workspace, tmp_path: Path
) -> None:
    ws = two_sources
    clips = ws.read_clips()
    set_labels(ws, [clips[1].clip_id], {"transcript": "och aye", "status": "accepted"}, "ann")
    set_labels(ws, [clips[-2].clip_id], {"transcript": "wee", "status": "accepted"}, "ann")
    recut = ("cut", "--padding-ms", "250", "--workers", "1")
    shutil.copytree(ws.root, tmp_path / "count")
    counted = _killed_run(tmp_path / "count", 0, *recut)
    assert counted.returncode == 0, counted.stderr
    writes = int(counted.stderr.rsplit("WRITES ", 1)[1])
    assert writes > 10
    points = sorted({round(k * (writes - 1) / 13) + 1 for k in range(14)})  # every write in bench/
    for at in points:
        trial = tmp_path / f"kill-{at}"
        shutil.copytree(ws.root, trial)
        tried = Workspace(trial)
        killed = _killed_run(trial, at, *recut)
        assert killed.returncode == -9, f"write {at} of {writes}: not killed ({killed.stderr[-300:]})"
        status = run_cli("status", cwd=trial)  # the next command, whatever it is, repairs the views
        assert status.returncode == 0, status.stderr
        _rows_have_files(tried)
        assert len(_accepted(tried)) == 2 or at == points[0], f"write {at}: {_accepted(tried)}"
        resumed = run_cli(*recut, cwd=trial)
        assert resumed.returncode == 0, f"write {at}: {resumed.stderr}"
        check_consistent(tried)
        _rows_have_files(tried)
        assert sorted(_accepted(tried).values()) == ["och aye", "wee"], f"write {at}"
        assert not orphans(tried), f"write {at}"
        on_disk = {tried.rel(p) for p in tried.clips.rglob("*.wav")}
        assert on_disk == {c.path for c in tried.read_clips()}, f"write {at}: orphan files left"
        assert not list(tried.manifests.glob(".*.tmp*")), f"write {at}: temp files left"


def test_a_recut_killed_after_moving_labels_gives_them_back_to_the_clips_still_there(
    two_sources: Workspace,
) -> None:
    """A re-cut records the labels it moves before it writes the clip table: killed between
    the two, the labels sat on clips that did not exist yet (accepted clips gone from every
    view) until the cut was run again. The next command now moves them back, in one undo
    record, and a new cut moves them anew."""
    import accentds.cut as cutting
    import accentds.cut_commit as committing
    from accentds.views import refresh_manifest

    ws = two_sources
    first, last = (s.source_id for s in ws.read_sources())  # the order the cut takes them in
    clips = ws.read_clips()
    och = [c for c in clips if c.source_id == first][1]
    wee = [c for c in clips if c.source_id == last][-2]
    set_labels(ws, [och.clip_id], {"transcript": "och aye", "status": "accepted"}, "ann")
    set_labels(ws, [wee.clip_id], {"transcript": "wee", "status": "accepted"}, "ann")
    real = committing.write_parquet_atomic

    def killed(path, table):
        if path == ws.clips_parquet:
            raise SystemExit("killed")  # as a SIGKILL would leave it: the journal written, no clip table
        real(path, table)

    committing.write_parquet_atomic = killed
    try:
        with pytest.raises(SystemExit):
            cutting.cut(ws, vad=ws.config.vad.with_overrides(padding_ms=250), workers=1)
    finally:
        committing.write_parquet_atomic = real
    assert list(_accepted(ws).values()) == ["wee"]  # "och aye" moved to a clip the table does not hold
    refresh_manifest(ws)
    assert sorted(_accepted(ws).values()) == ["och aye", "wee"]
    assert run_cli("cut", "--padding-ms", "250", "--workers", "1", cwd=ws.root).returncode == 0
    assert sorted(_accepted(ws).values()) == ["och aye", "wee"] and not orphans(ws)
    check_consistent(ws)


def test_two_cuts_at_once_take_turns(two_sources: Workspace) -> None:
    ws = two_sources
    env = {**os.environ, "COLUMNS": "200"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "accentds", "cut", "--force", *extra],
            cwd=ws.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in ([], ["--padding-ms", "250"])
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert any("waiting" in err and "another cut" in err for _, err in outputs), outputs
    check_consistent(ws)
    _rows_have_files(ws)
    on_disk = {ws.rel(p) for p in ws.clips.rglob("*.wav")}
    assert on_disk == {c.path for c in ws.read_clips()}
    assert len({c.settings_id for c in ws.read_clips()}) == 1


def test_a_pull_beside_a_cut_loses_no_file(
    two_sources: Workspace, tmp_path: Path, speech: np.ndarray
) -> None:
    ws = two_sources
    [extra] = _sources(tmp_path / "more", speech * 0.3, 1)
    cutting = subprocess.Popen(
        [sys.executable, "-m", "accentds", "cut", "--force"],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pulled = run_cli("pull", str(extra), cwd=ws.root)
    cutting.communicate(timeout=300)
    assert cutting.returncode == 0 and pulled.returncode == 0, pulled.stderr
    check_consistent(ws)
    assert len(ws.read_cuts()) == 3 and {c.source_id for c in ws.read_clips()} == set(ws.read_cuts())


def test_a_recut_that_would_orphan_accepted_clips_asks_for_force(two_sources: Workspace) -> None:
    ws = two_sources
    clip = ws.read_clips()[0]
    set_labels(ws, [clip.clip_id], {"status": "accepted", "transcript": "aye"}, "ann")
    before = [c.clip_id for c in ws.read_clips() if c.source_id == clip.source_id]
    refused = run_cli("cut", "--min-clip", "60", "--max-clip", "90", cwd=ws.root)
    assert refused.returncode == 1
    assert f"kept the old clips of {clip.source_id}" in refused.stderr and "--force" in refused.stderr
    assert [c.clip_id for c in ws.read_clips() if c.source_id == clip.source_id] == before
    check_consistent(ws)
    forced = run_cli("cut", "--min-clip", "60", "--max-clip", "90", "--force", cwd=ws.root)
    assert forced.returncode == 0, forced.stderr
    assert "1 labelled clip no longer exists" in forced.stderr
    assert "1 labelled clip no longer exists" in run_cli("status", cwd=ws.root).stderr
    listed = run_cli("labels", "orphans", cwd=ws.root)
    assert clip.clip_id in listed.stdout and "'aye'" in listed.stdout
    assert "transcript: '' -> 'aye'" in run_cli("labels", "history", clip.clip_id, cwd=ws.root).stdout
    check_consistent(ws)


def test_the_same_pull_again_cuts_what_an_interrupted_one_left(tmp_path: Path, speech: np.ndarray) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    paths = [str(p) for p in _sources(tmp_path / "media", speech, 2, seconds=15)]
    first = run_cli("pull", "--no-cut", *paths, cwd=ws.root)  # as if killed after pulling
    assert first.returncode == 0 and not ws.read_cuts()
    again = run_cli("pull", *paths, cwd=ws.root)
    assert again.returncode == 0, again.stderr
    assert len(ws.read_cuts()) == 2 and ws.read_clips()
    check_consistent(ws)


def test_the_next_command_removes_temp_files_of_killed_ones(cut_ws: Workspace) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    leftover = cut_ws.manifests / f".clips.parquet.tmp{dead.stdout.strip()}"
    leftover.write_bytes(b"PAR1 half")
    alive = cut_ws.manifests / f".sources.csv.tmp{os.getpid()}"  # a live writer's: kept
    alive.write_bytes(b"source_id")
    assert run_cli("status", cwd=cut_ws.root).returncode == 0
    assert not leftover.exists() and alive.exists()


# runs the CLI and SIGKILLs it as it makes sure of the file named by KILL_ON (before its rename)
KILL_ON = """
import os, signal, sys
real = os.fsync
def fsync(fd):
    if os.environ["KILL_ON"] in os.readlink(f"/proc/self/fd/{fd}"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(fd)
os.fsync = fsync
sys.argv = ["accentds", *sys.argv[1:]]
from accentds.cli import main
main()
"""


@pytest.mark.parametrize("view", ["manifest.csv", "labels.csv"])
def test_a_run_killed_before_a_view_is_renamed_leaves_it_taken_for_no_edit(
    sample_ws: Workspace, view: str
) -> None:
    """A view's record is written before the view: killed between the two, the view left in
    place no longer matched the record, and every later command said it was `changed by hand`,
    to import or delete, and never rewrote it."""
    from accentds.views import edited_views, refresh_manifest

    clip = sample_ws.read_clips()[0].clip_id
    env = {**os.environ, "KILL_ON": f"/.{view}.tmp"}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_ON, "label", clip, "--note", "checked"],
        cwd=sample_ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    ws = Workspace(sample_ws.root)
    assert edited_views(ws) == []
    refresh_manifest(ws)
    assert not ws.notices
    rows = pq.read_table(ws.manifest_parquet).to_pylist()
    assert [r["note"] for r in rows if r["clip_id"] == clip] == ["checked"]
    with open(ws.manifests / view, encoding="utf-8") as handle:
        assert [r["note"] for r in csv.DictReader(handle) if r["clip_id"] == clip] == ["checked"]

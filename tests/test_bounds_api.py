"""The review app's boundary editor API (accentds.review.edit) on a real workspace."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import soundfile

pytest.importorskip("fastapi", reason="the review app needs fastapi (pip install -e '.[test]')")

from conftest import fill_disk, small_disk
from fastapi.testclient import TestClient

from accentds.bounds import bounds_csv
from accentds.files import read_csv
from accentds.labels import set_labels
from accentds.review import create_app
from accentds.views import refresh_manifest
from accentds.workspace import Workspace

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def ws(sample_ws: Workspace) -> Workspace:
    return sample_ws


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    return TestClient(create_app(ws, reviewer="tester"))


def post(client: TestClient, clip_id: str, body: dict):
    return client.post(f"/api/clip/{clip_id}/bounds", json=body, headers=JSON)


def test_wave_gives_the_window_peaks_and_the_neighbours(ws: Workspace, client: TestClient) -> None:
    clips = ws.read_clips()
    clip = clips[3]
    body = client.get(f"/api/clip/{clip.clip_id}/wave").json()
    assert body["begin"] == pytest.approx(clip.start - 3) and body["stop"] == pytest.approx(clip.end + 3)
    assert len(body["peaks"]) == round((body["stop"] - body["begin"]) * 100)
    assert 0 < max(body["peaks"]) <= 1 and body["version"] == 0 and body["hand"] is False
    assert [n["clip_id"] for n in body["neighbours"]] == [clips[2].clip_id, clips[4].clip_id]
    # what the editor plays: the same window, with the clip's own samples where the clip is
    response = client.get(f"/api/clip/{clip.clip_id}/wave.wav?pad=3")
    assert response.headers["content-type"] == "audio/wav"
    assert float(response.headers["X-Context-Start"]) == pytest.approx(body["begin"])
    window, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
    assert rate == 16000 and len(window) == round((body["stop"] - body["begin"]) * 16000)
    own, _ = soundfile.read(str(ws.abs(clip.path)), dtype="int16")
    first = round(clip.start * 16000) - round(body["begin"] * 16000)
    assert (window[first : first + len(own)] == own).all()
    # and the context endpoint takes the same window with ?pad=
    response = client.get(f"/api/clip/{clip.clip_id}/context?pad=3")
    assert float(response.headers["X-Context-Start"]) == pytest.approx(body["begin"])
    info = soundfile.info(io.BytesIO(response.content))
    assert info.duration == pytest.approx(body["stop"] - body["begin"], abs=0.002)
    first = client.get(f"/api/clip/{clips[0].clip_id}/wave?pad=5").json()
    assert first["begin"] == 0.0  # the window stops at the source's edges
    assert (
        client.get(f"/api/clip/{clip.clip_id}/context").headers["X-Context-Start"] == f"{clip.start - 1:.3f}"
    )
    assert client.get("/api/clip/nope/wave").status_code == 404
    assert client.get("/api/clip/nope/wave.wav").status_code == 404


def test_saving_bounds_recuts_the_clip_and_answers_with_its_row(ws: Workspace, client: TestClient) -> None:
    clip = ws.read_clips()[2]
    set_labels(ws, [clip.clip_id], {"transcript": "Och aye", "status": "accepted"}, "ann")
    response = post(client, clip.clip_id, {"start": clip.start - 0.1, "end": clip.end - 0.5, "version": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    [row] = body["clips"]
    assert body["replaced"] == clip.clip_id
    assert (row["start"], row["end"]) == (pytest.approx(clip.start - 0.1), pytest.approx(clip.end - 0.5))
    assert row["transcript"] == "Och aye" and row["status"] == "accepted"
    info = soundfile.info(str(ws.root / "clips" / clip.source_id / f"{row['clip_id']}.wav"))
    assert info.duration == pytest.approx(clip.end - clip.start - 0.4, abs=1e-3)
    refresh_manifest(ws)
    joined = {r["clip_id"]: r for r in read_csv(ws.manifest_csv)}
    assert clip.clip_id not in joined and joined[row["clip_id"]]["transcript"] == "Och aye"
    assert client.get(f"/api/clip/{row['clip_id']}/wave").json()["hand"] is True
    assert client.get(f"/api/clip/{clip.clip_id}/audio").status_code == 404


def test_a_split_answers_with_both_halves(ws: Workspace, client: TestClient) -> None:
    clip = ws.read_clips()[5]
    set_labels(ws, [clip.clip_id], {"transcript": "Two bits", "speaker": "Morag"}, "ann")
    at = clip.start + 1.0
    body = {"start": clip.start, "end": clip.end, "split_at": at, "version": 1}
    rows = post(client, clip.clip_id, body).json()["clips"]
    assert [(r["start"], r["end"]) for r in rows] == [
        (pytest.approx(clip.start), pytest.approx(at)),
        (pytest.approx(at), pytest.approx(clip.end)),
    ]
    assert all(r["transcript"] == "Two bits" and r["speaker"] == "Morag" for r in rows)


def test_a_stale_version_is_409_and_changes_nothing(ws: Workspace, client: TestClient) -> None:
    clip = ws.read_clips()[1]
    set_labels(ws, [clip.clip_id], {"status": "rejected"}, "bob")
    response = post(client, clip.clip_id, {"start": clip.start, "end": clip.end + 0.2, "version": 0})
    assert response.status_code == 409
    assert response.json()["current"]["status"] == "rejected" and response.json()["version"] == 1
    assert clip.clip_id in {c.clip_id for c in ws.read_clips()} and not bounds_csv(ws).exists()


def test_bad_bounds_unknown_clips_and_a_running_cut(ws: Workspace, client: TestClient) -> None:
    clip = ws.read_clips()[1]
    response = post(client, clip.clip_id, {"start": clip.end, "end": clip.start, "version": 0})
    assert response.status_code == 400 and "must come after the start" in response.json()["error"]
    assert str(ws.root) not in response.text
    response = post(client, clip.clip_id, {"start": clip.start, "end": 99.0, "version": 0})
    assert response.status_code == 400 and "overlaps the clip" in response.json()["error"]
    assert post(client, "nope", {"start": 0, "end": 1, "version": 0}).status_code == 404
    assert post(client, clip.clip_id, {"start": "x", "end": 1, "version": 0}).status_code == 422
    with ws.cut_lock():
        response = post(client, clip.clip_id, {"start": clip.start, "end": clip.end + 0.1, "version": 0})
    assert response.status_code == 503 and "cut of this workspace is running" in response.json()["error"]
    # writes from other sites are refused as for labels
    forged = client.post(
        f"/api/clip/{clip.clip_id}/bounds",
        content=b'{"start": 1, "end": 2, "version": 0}',
        headers={"Content-Type": "text/plain"},
    )
    assert forged.status_code == 415
    assert len(ws.read_clips()) == 8


def test_the_editor_opens_on_a_clip_near_the_start_of_an_opus_source(
    workspace: Workspace, make_media
) -> None:
    """An Opus source's decode after a seek starts 12 ms into the timeline the cut reads:
    the window of a clip within 3 s of the start began before the first decoded sample, and
    the editor said "ffmpeg could not decode the source" for the first clips of every WebM."""
    from accentds.cut import cut
    from accentds.pull import pull

    pull(workspace, [str(make_media("talk.webm", "-c:a", "libopus", "-b:a", "48k"))], workers=1)
    cut(workspace, workers=1)
    first = workspace.read_clips()[0]
    assert first.start < 3.0
    client = TestClient(create_app(workspace, reviewer="tester"))
    wave = client.get(f"/api/clip/{first.clip_id}/wave")
    assert wave.status_code == 200, wave.text
    body = wave.json()
    assert body["begin"] == 0.0 and body["stop"] == pytest.approx(first.end + 3.0, abs=0.01)
    audio = client.get(f"/api/clip/{first.clip_id}/wave.wav")
    assert audio.status_code == 200
    samples, rate = soundfile.read(io.BytesIO(audio.content), dtype="int16")
    # the window holds the clip's own samples where the clip lies in it, to the sample
    clip, _ = soundfile.read(str(workspace.abs(first.path)), dtype="int16")
    at = round(first.start * rate)
    assert (samples[at : at + len(clip)] == clip).all()
    # and a boundary edit to the very start of the source is cut there
    edited = post(client, first.clip_id, {"start": 0.0, "end": first.end, "version": 0})
    assert edited.status_code == 200, edited.text
    [clip_row] = edited.json()["clips"]
    assert clip_row["start"] == 0.0


def test_a_split_on_a_full_disk_names_the_file_and_changes_nothing(sample_root: Path, tmp_path: Path) -> None:
    """The re-cut clip's WAV file cannot be written: the page is told why in one line (it
    showed "error 500", the terminal a traceback), and the clip stays as it was."""
    with small_disk(tmp_path / "small") as mount:
        ws = Workspace(Path(shutil.copytree(sample_root, mount / "ws")))
        clip = ws.read_clips()[2]
        client = TestClient(create_app(ws, reviewer="tester"))
        assert client.get("/api/queue").status_code == 200
        fill_disk(mount / "filler")
        middle = round((clip.start + clip.end) / 2, 3)
        body = {"start": clip.start, "end": clip.end, "split_at": middle, "version": 0}
        answer = post(client, clip.clip_id, body)
        assert answer.status_code == 507
        error = answer.json()["error"]
        assert error.startswith("No space left on device (clips/") and "free some space" in error
        assert str(mount) not in error  # the page is never told where the workspace lies
        (mount / "filler").unlink()
        assert [c.clip_id for c in Workspace(ws.root).read_clips()] == [c.clip_id for c in ws.read_clips()]
        assert clip.clip_id in {c.clip_id for c in Workspace(ws.root).read_clips()}


def test_undo_of_a_save_after_a_boundary_edit_says_where_the_labels_went(
    ws: Workspace, client: TestClient
) -> None:
    """U after accepting a clip and trimming it: the page said to run `accentds labels undo`
    on the old clip, which refuses too."""
    clip = ws.read_clips()[2]
    saved = client.post(
        f"/api/clip/{clip.clip_id}/labels",
        json={"values": {"status": "accepted"}, "version": 0},
        headers=JSON,
    )
    assert saved.status_code == 200
    tx = saved.json()["tx"]
    edited = post(client, clip.clip_id, {"start": clip.start + 0.1, "end": clip.end, "version": 1})
    assert edited.status_code == 200, edited.text
    [new] = edited.json()["clips"]
    undone = client.post("/api/undo", json={"tx": tx}, headers=JSON)
    assert undone.status_code == 409
    error = undone.json()["error"]
    assert f"boundary edit of {clip.clip_id}" in error and new["clip_id"] in error
    assert "labels undo" not in error
    assert Workspace(ws.root).read_labels()[new["clip_id"]]["status"] == "accepted"


def test_a_damaged_source_gives_the_editor_ffmpegs_reason(ws: Workspace, client: TestClient) -> None:
    """The editor said only "ffmpeg could not decode the source", not which file or why."""
    clip = ws.read_clips()[3]
    [source] = [r for r in read_csv(ws.sources_csv) if r["source_id"] == clip.source_id]
    media = ws.abs(source["media"])
    media.write_bytes(b"not a video" * 1000)
    (ws.clips / clip.source_id / f"{clip.clip_id}.wav").unlink()  # nothing to slice from
    wave = client.get(f"/api/clip/{clip.clip_id}/wave")
    assert wave.status_code == 502
    error = wave.json()["error"]
    assert media.name in error and "pull the source again" in error, error
    assert str(ws.root) not in error

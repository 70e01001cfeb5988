"""The review app's JSON API on a real workspace (the bundled sample pulled and cut)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import soundfile
from conftest import run_cli

pytest.importorskip("fastapi", reason="the review app needs fastapi (pip install -e '.[test]')")

from fastapi.testclient import TestClient

from accentds.cut import cut
from accentds.errors import AccentdsError
from accentds.files import read_csv, write_csv_atomic
from accentds.labels import list_labels, set_labels
from accentds.review import create_app, serve
from accentds.review.guard import SECURITY_HEADERS
from accentds.views import refresh_manifest, write_manifest
from accentds.workspace import DRAFT_FIELDS, Workspace

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def ws(sample_ws: Workspace) -> Workspace:
    return sample_ws


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    return TestClient(create_app(ws, reviewer="tester"))


def clip_ids(ws: Workspace) -> list[str]:
    return [c.clip_id for c in ws.read_clips()]  # ordered by source and start


def save(client: TestClient, clip_id: str, values: dict, version: int, **headers: str) -> Any:
    return client.post(
        f"/api/clip/{clip_id}/labels",
        json={"values": values, "version": version},
        headers={**JSON, **headers},
    )


def test_queue_order_progress_and_schema(ws: Workspace, client: TestClient) -> None:
    ids = clip_ids(ws)
    clips = {c.clip_id: c for c in ws.read_clips()}
    set_labels(ws, [ids[2]], {"status": "accepted", "speaker": "Morag"}, "someone")
    set_labels(ws, [ids[5]], {"status": "rejected"}, "someone")
    set_labels(ws, [ids[0]], {"status": "accepted", "accent": "Glasgow"}, "someone")
    body = client.get("/api/queue").json()
    order = [c["clip_id"] for c in body["clips"]]
    pending = [i for i in ids if i not in (ids[0], ids[2], ids[5])]
    assert order == [*pending, ids[0], ids[2], ids[5]]
    first = body["clips"][0]
    assert set(first) >= {
        "clip_id", "source_id", "start", "end", "duration", "status", "transcript", "transcript_is_draft",
        "speaker", "accent", "accent_evidence", "note", "version", "title",
    }  # fmt: skip
    assert first["status"] == "pending" and first["version"] == 0 and first["title"] == "sample"
    accepted_s = clips[ids[0]].duration + clips[ids[2]].duration
    progress = body["progress"]
    assert (progress["reviewed"], progress["total"], progress["accepted"], progress["rejected"]) == (
        3,
        8,
        2,
        1,
    )
    assert progress["accepted_minutes"] == pytest.approx(accepted_s / 60, abs=0.001)
    schema = body["schema"]
    assert schema["accents"] == list(ws.config.labels.accents)
    assert schema["accent_evidence"] == list(ws.config.labels.accent_evidence)
    assert schema["statuses"] == ["pending", "accepted", "rejected"]
    assert schema["speakers"] == ["Morag"]  # none in the schema, one in use
    assert body["sources"] == [{"source_id": clips[ids[0]].source_id, "title": "sample"}]

    # filters narrow the list; progress keeps counting everything but the status filter
    accepted = client.get("/api/queue", params={"status": "accepted"}).json()
    assert [c["clip_id"] for c in accepted["clips"]] == [ids[0], ids[2]]
    assert accepted["progress"]["total"] == 8
    by_speaker = client.get("/api/queue", params={"speaker": "Morag"}).json()
    assert [c["clip_id"] for c in by_speaker["clips"]] == [ids[2]]
    assert by_speaker["progress"] == {**by_speaker["progress"], "reviewed": 1, "total": 1, "accepted": 1}
    by_accent = client.get("/api/queue", params={"accent": "Glasgow"}).json()
    assert [c["clip_id"] for c in by_accent["clips"]] == [ids[0]]
    assert client.get("/api/queue", params={"source": "nope"}).json()["clips"] == []


def test_the_queue_filters_on_a_quality_flag(ws: Workspace, client: TestClient) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = clip_ids(ws)
    table = ws.read_clip_table()  # Silero was sure of every sample clip: make two unsure
    probs = [
        0.3 if cid in (ids[1], ids[4]) else p
        for cid, p in zip(ids, table["speech_prob"].to_pylist(), strict=True)
    ]
    table = table.set_column(table.column_names.index("speech_prob"), "speech_prob", pa.array(probs))
    pq.write_table(table, ws.clips_parquet)
    write_manifest(ws)
    body = client.get("/api/queue", params={"flag": "unconfirmed"}).json()
    assert [c["clip_id"] for c in body["clips"]] == [ids[1], ids[4]]
    assert body["progress"]["total"] == 2
    assert "unconfirmed" in body["schema"]["flags"]
    assert [r["clip_id"] for r in list_labels(ws, flag="unconfirmed")] == [ids[1], ids[4]]


def test_known_speakers_join_schema_and_use(ws: Workspace) -> None:
    labels = dataclasses.replace(ws.config.labels, speakers=("Ailsa", "Morag"))
    ws.config = dataclasses.replace(ws.config, labels=labels)
    set_labels(ws, [clip_ids(ws)[1]], {"speaker": "Hamish"}, "someone")
    set_labels(ws, [clip_ids(ws)[2]], {"speaker": "Morag"}, "someone")
    body = TestClient(create_app(ws)).get("/api/queue").json()
    assert body["schema"]["speakers"] == ["Ailsa", "Morag", "Hamish"]


def test_audio_is_the_clip_file(ws: Workspace, client: TestClient) -> None:
    clip = ws.read_clips()[3]
    response = client.get(f"/api/clip/{clip.clip_id}/audio")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content == ws.abs(clip.path).read_bytes()
    part = client.get(f"/api/clip/{clip.clip_id}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == ws.abs(clip.path).read_bytes()[:100]


@pytest.mark.parametrize("kind", ["audio", "context"])
def test_traversal_and_unknown_ids_are_404(ws: Workspace, client: TestClient, kind: str) -> None:
    toml = (ws.root / "accentds.toml").read_text()
    attempts = [
        f"/api/clip/..%2F..%2Faccentds.toml/{kind}",
        f"/api/clip/%2E%2E%2F%2E%2E%2Faccentds.toml/{kind}",
        f"/api/clip/..%2Fmanifests%2Fsources.csv/{kind}",
        f"/api/clip/%2E%2E/{kind}",
        f"/api/clip/../../accentds.toml/{kind}",
        f"/api/clip/clips/{ws.read_clips()[0].source_id}/{kind}",
        f"/api/clip/file-c2a69618a28d-00000000-00000001/{kind}",
        f"/api/clip/{ws.read_clips()[0].clip_id}..%2F/{kind}",
        f"/api/clip/%00/{kind}",
    ]
    for url in attempts:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "[corpus]" not in response.text and not response.content.startswith(b"RIFF"), url
        assert toml not in response.text


def test_clip_row_pointing_outside_clips_is_not_served(ws: Workspace, client: TestClient) -> None:
    clips = ws.read_clips()
    bad = [
        dataclasses.replace(clips[0], path="accentds.toml"),
        dataclasses.replace(clips[1], path="clips/../accentds.toml"),
        dataclasses.replace(clips[2], path="raw/" + clips[2].source_id + "/info.json"),
        dataclasses.replace(clips[3], path=str(ws.root / "manifests" / "sources.csv")),
    ]
    (ws.clips / "link.wav").symlink_to(ws.root / "accentds.toml")
    bad.append(dataclasses.replace(clips[4], path="clips/link.wav"))
    ws.write_clips(bad + clips[5:])
    for clip in bad:
        response = client.get(f"/api/clip/{clip.clip_id}/audio")
        assert response.status_code == 404, clip.path
        assert "[corpus]" not in response.text and "source_id" not in response.text
    assert client.get(f"/api/clip/{clips[5].clip_id}/audio").status_code == 200


def test_context_adds_a_second_each_side_except_at_the_edges(ws: Workspace, client: TestClient) -> None:
    clips = ws.read_clips()
    [source] = ws.read_sources()
    frame = ws.config.vad.frame_ms / 1000
    for clip in clips:
        response = client.get(f"/api/clip/{clip.clip_id}/context")
        assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
        audio, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
        assert rate == 16000 and audio.ndim == 1
        before = min(1.0, clip.start)
        after = min(1.0, source.duration - clip.end)
        assert len(audio) / rate == pytest.approx(before + clip.duration + after, abs=frame), clip.clip_id
        # the clip itself sits `before` seconds in
        own, _ = soundfile.read(str(ws.abs(clip.path)), dtype="int16")
        at = round(before * rate)
        inner = audio[at : at + len(own)].astype(np.int32)
        assert np.abs(inner - own[: len(inner)]).mean() < 0.05 * np.abs(own).mean()
    middle = clips[3]
    assert middle.start > 1.0 and middle.end + 1.0 < source.duration
    audio, rate = soundfile.read(io.BytesIO(client.get(f"/api/clip/{middle.clip_id}/context").content))
    assert len(audio) / rate == pytest.approx(middle.duration + 2.0, abs=frame)


def test_save_writes_labels_csv_and_manifest(ws: Workspace, client: TestClient) -> None:
    clip_id = clip_ids(ws)[1]
    values = {
        "transcript": "  Aye, it's braw  ",
        "speaker": "Morag",
        "accent": "Dundee",
        "status": "accepted",
    }
    response = save(client, clip_id, {**values, "note": "<b>loud</b>"}, 0)
    assert response.status_code == 200, response.text
    row = response.json()
    assert row["clip_id"] == clip_id and row["version"] == 1 and row["status"] == "accepted"
    assert row["transcript"] == "Aye, it's braw" and row["reviewer"] == "tester"
    refresh_manifest(ws)  # the views are rewritten when the server stops, or by the next command
    [label] = [r for r in read_csv(ws.labels_csv) if r["clip_id"] == clip_id]
    assert label["transcript"] == "Aye, it's braw" and label["speaker"] == "Morag"
    assert label["accent"] == "Dundee" and label["status"] == "accepted" and label["note"] == "<b>loud</b>"
    assert label["reviewer"] == "tester" and label["version"] == "1"
    [joined] = [r for r in read_csv(ws.manifest_csv) if r["clip_id"] == clip_id]
    assert joined["transcript"] == "Aye, it's braw" and joined["status"] == "accepted"
    assert joined["accent"] == "Dundee"
    again = save(client, clip_id, {"note": ""}, 1)
    assert again.status_code == 200 and again.json()["version"] == 2 and again.json()["note"] == ""
    assert client.get("/api/queue").json()["progress"]["reviewed"] == 1


def test_stale_version_is_a_conflict_with_the_current_values(ws: Workspace, client: TestClient) -> None:
    clip_id = clip_ids(ws)[2]
    assert save(client, clip_id, {"transcript": "theirs", "speaker": "Ailsa"}, 0).status_code == 200
    before = ws.labels_csv.read_bytes()
    response = save(client, clip_id, {"transcript": "mine"}, 0)
    assert response.status_code == 409
    body = response.json()
    assert body["version"] == 1 and "changed elsewhere" in body["error"]
    assert body["current"]["transcript"] == "theirs" and body["current"]["speaker"] == "Ailsa"
    assert body["current"]["version"] == 1 and body["current"]["clip_id"] == clip_id
    assert ws.labels_csv.read_bytes() == before
    assert save(client, clip_id, {"transcript": "mine"}, 1).json()["transcript"] == "mine"


def test_bad_values_are_400_with_what_is_allowed(ws: Workspace, client: TestClient) -> None:
    clip_id = clip_ids(ws)[0]
    before = ws.labels_csv.read_bytes()
    response = save(client, clip_id, {"accent": "Narnia"}, 0)
    assert response.status_code == 400
    message = response.json()["error"]
    assert "unknown accent 'Narnia'" in message
    assert all(repr(accent) in message for accent in ws.config.labels.accents)
    assert save(client, clip_id, {"status": "maybe"}, 0).status_code == 400
    assert save(client, clip_id, {"colour": "blue"}, 0).status_code == 400
    assert client.post(f"/api/clip/{clip_id}/labels", json={"values": {}}, headers=JSON).status_code == 422
    assert ws.labels_csv.read_bytes() == before


def test_unknown_clip_save_is_404(ws: Workspace, client: TestClient) -> None:
    for clip_id in ("file-c2a69618a28d-00000000-00000001", "..%2F..%2Faccentds", "%2E%2E"):
        assert save(client, clip_id, {"note": "x"}, 0).status_code == 404
    assert read_csv(ws.labels_csv) == []


def test_accepting_a_draft_confirms_it(ws: Workspace, client: TestClient) -> None:
    clip_id = clip_ids(ws)[4]
    write_csv_atomic(
        ws.drafts_csv,
        DRAFT_FIELDS,
        [{"clip_id": clip_id, "transcript_draft": "from captions", "draft_kind": "captions"}],
    )
    with ws.lock():
        write_manifest(ws)
    [row] = [c for c in client.get("/api/queue").json()["clips"] if c["clip_id"] == clip_id]
    assert row["transcript"] == "from captions" and row["transcript_is_draft"] is True
    saved = save(client, clip_id, {"status": "accepted"}, 0).json()
    assert saved["transcript"] == "from captions" and saved["transcript_is_draft"] is False


def test_security_headers_and_static_page(client: TestClient) -> None:
    for url in ("/", "/static/page.js", "/static/page.css", "/api/queue", "/api/clip/x/audio", "/nowhere"):
        response = client.get(url)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (url, name)
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "inline script (CSP forbids it)"
    assert not re.search(r"\son\w+=", page.text), "inline event handler"
    script = client.get("/static/page.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert client.get("/static/page.html").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_writes_from_other_sites_are_refused(ws: Workspace, client: TestClient) -> None:
    clip_id = clip_ids(ws)[0]
    assert save(client, clip_id, {"note": "x"}, 0, Origin="http://evil.example").status_code == 403
    assert save(client, clip_id, {"note": "x"}, 0, Origin="null").status_code == 403
    assert save(client, clip_id, {"note": "x"}, 0, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    form = client.post(
        f"/api/clip/{clip_id}/labels",
        content='{"values": {"note": "x"}, "version": 0}',
        headers={"Content-Type": "text/plain"},
    )
    assert form.status_code == 415
    assert read_csv(ws.labels_csv) == []
    ok = save(
        client, clip_id, {"note": "x"}, 0, Origin="http://testserver", **{"Sec-Fetch-Site": "same-origin"}
    )
    assert ok.status_code == 200


def test_host_header_is_checked_when_asked(ws: Workspace) -> None:
    client = TestClient(
        create_app(ws, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1:8000"
    )
    assert client.get("/api/queue").status_code == 200
    rebound = client.get("/api/queue", headers={"Host": "evil.example:8000"})
    assert rebound.status_code == 400 and "clips" not in rebound.text


def test_serve_refuses_remote_hosts_without_allow_remote(ws: Workspace) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.7", "example.com"):
        with pytest.raises(AccentdsError, match=r"refusing to serve.*--allow-remote"):
            serve(ws, host=host, open_browser=False)


@contextlib.contextmanager
def serving(ws: Workspace, listening: bool = True, **kwargs: Any) -> Iterator[tuple[str, str]]:
    """The real server in a thread: (the page's address, the address it listens on)."""
    said: dict[str, str] = {}
    ready, stop = threading.Event(), threading.Event()

    def on_ready(url: str) -> None:
        said["url"] = url
        ready.set()

    kwargs = {"open_browser": False, "on_ready": on_ready, "stop": stop, **kwargs}
    if listening:
        kwargs["on_listen"] = lambda address: said.setdefault("listening", address)
    thread = threading.Thread(target=serve, args=(ws,), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "server did not start"
        yield said["url"], said.get("listening", "")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def fetch(url: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes, Any]:
    """(status, body, headers) of a plain HTTP request, as curl would send it."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers


def test_serve_listens_on_a_free_loopback_port_until_stopped(ws: Workspace) -> None:
    with serving(ws) as (url, listening):
        parts = urlsplit(url)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{32}", url) and parts.port
        assert listening == f"127.0.0.1:{parts.port}"
        token = parts.query.removeprefix("token=")
        status, body, headers = fetch(f"http://{parts.netloc}/api/queue", **{"X-Accentds-Token": token})
        assert status == 200 and len(json.loads(body)["clips"]) == 8
        assert headers["X-Content-Type-Options"] == "nosniff"
        foreign = fetch(
            f"http://{parts.netloc}/api/queue", Host="evil.example", **{"X-Accentds-Token": token}
        )
        assert foreign[0] == 400


def test_without_the_token_nothing_is_read_or_written(ws: Workspace) -> None:
    """Another local process (plain curl) or a DNS-rebinding page has no token: it reads no
    clip and writes no label; the page's own address holds it and hands it on."""
    clip_id = clip_ids(ws)[0]
    with serving(ws, listening=False) as (url, _):
        parts = urlsplit(url)
        origin, token = f"http://{parts.netloc}", parts.query.removeprefix("token=")
        body = json.dumps({"values": {"transcript": "from curl"}, "version": 0}).encode()
        for path in ("/", "/api/queue", f"/api/clip/{clip_id}/audio", f"/api/clip/{clip_id}/context"):
            status, content, _ = fetch(origin + path)
            assert status == 401 and b"RIFF" not in content and b"clip_id" not in content, path
            assert b"open the address `accentds review` printed" in content
        assert fetch(f"{origin}/api/queue?token=wrong")[0] == 401
        write = f"{origin}/api/clip/{clip_id}/labels"
        assert fetch(write, body, **JSON)[0] == 401
        assert fetch(write, body, **JSON, **{"X-Accentds-Token": "wrong"})[0] == 401
        assert ws.read_labels() == {}

        # the printed address opens the page: the token comes back in the HTML and a cookie
        status, html, headers = fetch(url)
        assert status == 200 and f'<meta name="accentds-token" content="{token}">'.encode() in html
        cookie = headers["Set-Cookie"]
        assert f"={token}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = cookie.split(";", 1)[0]
        status, audio, _ = fetch(f"{origin}/api/clip/{clip_id}/audio", Cookie=jar)  # the <audio> element
        assert status == 200 and audio.startswith(b"RIFF")
        assert fetch(write, body, **JSON, Cookie=jar)[0] == 401  # a write needs the header
        assert ws.read_labels() == {}
        status, saved, _ = fetch(write, body, **JSON, **{"X-Accentds-Token": token})
        assert status == 200 and json.loads(saved)["transcript"] == "from curl"


def _can_bind(host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_network_bind_says_where_it_listens_and_needs_the_token(ws: Workspace, host: str) -> None:
    if not _can_bind(host):
        pytest.skip(f"this machine cannot listen on {host}")
    with serving(ws, host=host, allow_remote=True) as (url, listening):
        parts = urlsplit(url)
        shown = f"[{host}]" if ":" in host else host
        assert listening == f"{shown}:{parts.port}"
        assert parts.hostname not in ("127.0.0.1", "::1", "localhost")
        token = parts.query.removeprefix("token=")
        assert len(token) == 32
        loopback = f"http://127.0.0.1:{parts.port}"
        assert fetch(f"{loopback}/api/queue")[0] == 401
        assert fetch(f"{loopback}/api/queue", **{"X-Accentds-Token": token})[0] == 200
        rebound = fetch(
            f"{loopback}/api/queue", Host=f"evil.example:{parts.port}", **{"X-Accentds-Token": token}
        )
        assert rebound[0] == 400  # the Host check stays on
        status, _, _ = fetch(url)  # by the printed address itself
        assert status == 200


def test_review_on_the_network_needs_allow_remote(tmp_path: Path) -> None:
    init = run_cli("init", str(tmp_path / "ws"))
    assert init.returncode == 0, init.stderr
    try:
        done = run_cli(
            "--workspace", str(tmp_path / "ws"), "review", "--host", "0.0.0.0", "--no-browser", timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("review served on 0.0.0.0 without --allow-remote")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: refusing to serve the review page on 0.0.0.0") and "--allow-remote" in line


def first_lines(command: list[str], count: int) -> tuple[list[str], str]:
    """The first `count` lines a long-running command prints (fewer if it prints no more
    within 20 s), then Ctrl-C; and what it printed on stderr."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout.readline() for _ in range(count)))
    reader.start()
    reader.join(20)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=30)
    reader.join(5)
    return lines, errors


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_review_prints_the_address_it_listens_on(tmp_path: Path, host: str) -> None:
    if not _can_bind(host):
        pytest.skip(f"this machine cannot listen on {host}")
    assert run_cli("init", str(tmp_path / "ws")).returncode == 0
    command = [sys.executable, "-m", "accentds", "--workspace", str(tmp_path / "ws"), "review"]
    command += ["--host", host, "--allow-remote", "--no-browser"]
    lines, errors = first_lines(command, 2)
    shown = re.escape(f"[{host}]" if ":" in host else host)
    assert re.fullmatch(rf"listening on {shown}:\d+\n", lines[0]), lines
    port = int(lines[0].strip().rsplit(":", 1)[1])
    assert lines[1].startswith("review page: http://"), lines
    url = lines[1].split()[2]
    parts = urlsplit(url)
    assert parts.hostname and parts.hostname not in ("127.0.0.1", "::1", "localhost"), url
    assert parts.port == port and re.fullmatch(r"token=[\w-]{32}", parts.query), url
    assert "without encryption" in errors


def test_review_on_loopback_warns_of_nothing(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "ws")).returncode == 0
    command = [
        sys.executable,
        "-m",
        "accentds",
        "--workspace",
        str(tmp_path / "ws"),
        "review",
        "--no-browser",
    ]
    lines, errors = first_lines(command, 2)
    assert re.fullmatch(r"listening on 127\.0\.0\.1:\d+\n", lines[0]), lines
    assert re.fullmatch(
        r"review page: http://127\.0\.0\.1:\d+/\?token=[\w-]{32}  \(Ctrl-C to stop\)\n", lines[1]
    )
    assert errors.strip() == "Interrupted."


def test_context_errors_name_no_absolute_path(ws: Workspace) -> None:
    ws.config = dataclasses.replace(ws.config, ffmpeg=str(ws.root / "tools" / "ffmpeg"))
    missing = TestClient(create_app(ws)).get(f"/api/clip/{clip_ids(ws)[0]}/context")
    assert missing.status_code == 500 and "ffmpeg is not available" in missing.json()["error"]
    assert str(ws.root) not in missing.text and "/tmp" not in missing.text

    ws.config = dataclasses.replace(ws.config, ffmpeg=None)
    [source] = ws.read_sources()
    ws.abs(source.media).write_bytes(b"not audio at all" * 100)
    response = TestClient(create_app(ws)).get(f"/api/clip/{clip_ids(ws)[0]}/context")
    assert response.status_code == 502
    message = response.json()["error"]
    assert f"ffmpeg could not decode the source {source.media}: " in message  # relative to the workspace
    assert str(ws.root) not in message and "/tmp" not in message


def test_edits_name_a_reviewer_when_no_variable_names_one(ws: Workspace, monkeypatch) -> None:
    for name in ("ACCENTDS_REVIEWER", "USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    client = TestClient(create_app(ws))  # `accentds review` without --reviewer
    named = client.get("/api/queue").json()["reviewer"]
    assert named.strip()  # the login name, else the user id
    clip_id = clip_ids(ws)[0]
    saved = save(client, clip_id, {"note": "who?"}, 0).json()
    assert saved["reviewer"] == named == ws.read_labels()[clip_id]["reviewer"]


def test_bulk_save_is_one_change_refused_whole_when_stale_and_undone_whole(
    ws: Workspace, client: TestClient
) -> None:
    ids = clip_ids(ws)
    set_labels(ws, [ids[1]], {"speaker": "Morag"}, "someone")  # version 1 now
    stale = client.post(
        "/api/bulk", json={"values": {"status": "rejected"}, "versions": {ids[0]: 0, ids[1]: 0}}, headers=JSON
    )
    assert stale.status_code == 409 and stale.json()["clip_id"] == ids[1]
    assert ids[0] not in ws.read_labels()
    done = client.post(
        "/api/bulk", json={"values": {"status": "rejected"}, "versions": {ids[0]: 0, ids[1]: 1}}, headers=JSON
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["changed"] == 2 and {r["status"] for r in body["clips"]} == {"rejected"}
    since = body["state"]["labels"]
    assert client.get(f"/api/changes?since={since}").json()["clips"] == []
    undone = client.post("/api/undo", json={"tx": body["tx"]}, headers=JSON)
    assert undone.status_code == 200
    assert {r["status"] for r in undone.json()["clips"]} == {"pending"}
    assert ws.read_labels()[ids[1]]["speaker"] == "Morag"
    assert [r["clip_id"] for r in client.get(f"/api/changes?since={since}").json()["clips"]] == ids[:2]
    again = client.post("/api/undo", json={"tx": body["tx"]}, headers=JSON)
    assert again.status_code == 409 and "undone already" in again.json()["error"]
    # a change made after the one to undo blocks it, rather than being undone with it
    saved = save(client, ids[2], {"status": "accepted"}, 0).json()
    save(client, ids[2], {"note": "later"}, 1)
    blocked = client.post("/api/undo", json={"tx": saved["tx"]}, headers=JSON)
    assert blocked.status_code == 409 and "changed since" in blocked.json()["error"]


def test_moved_names_the_clip_a_recut_moved_labels_to(ws: Workspace, client: TestClient) -> None:
    old = clip_ids(ws)
    set_labels(ws, [old[3]], {"status": "accepted", "speaker": "Morag"}, "someone")
    state = client.get("/api/state").json()
    vad = dataclasses.replace(ws.config.vad, padding_ms=ws.config.vad.padding_ms + 60)
    cut(ws, vad=vad, workers=1)
    assert client.get("/api/state").json()["clips"] != state["clips"]
    [moved_to] = [cid for cid, row in ws.read_labels().items() if row["speaker"] == "Morag"]
    body = client.get(f"/api/clip/{old[3]}/moved").json()
    assert body == {
        "exists": False,
        "clip_id": old[3],
        "to": moved_to,
        "why": f"re-cut of {ws.read_sources()[0].source_id}",
    }
    assert client.get(f"/api/clip/{old[4]}/moved").json()["to"] is None
    assert client.get(f"/api/clip/{moved_to}/moved").json()["exists"] is True

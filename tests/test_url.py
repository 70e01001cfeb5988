"""Pulling URLs with the real yt-dlp from a loopback HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yt_dlp
from conftest import RATE, MakeMedia, check_consistent, run_cli
from proctree import cmdline, descendants, kill_all, wait_for_no_survivors

from accentds.cut import cut
from accentds.files import sha256_file
from accentds.models import Source
from accentds.pull import pull
from accentds.pull_url import _QuietLogger, _ydl_options
from accentds.workspace import Workspace, init_workspace

SENTENCES = 8
VTT = """WEBVTT

00:00:00.700 --> 00:00:04.643
Aye, it's a dreich morning, but the rain should clear by lunchtime.

00:00:05.843 --> 00:00:08.341
We're taking the ferry to Orkney on Saturday.
"""
PAGE = """<!doctype html>
<html><head><title>A talk</title></head>
<body>
<h1>A talk</h1>
<video controls width="64" height="48" src="talk.mp4">
  <track kind="subtitles" src="talk.en.vtt" srclang="en" label="English">
</video>
</body></html>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder and records every request line; logs nothing. A path in
    `slow` is sent 1 KB at a time, with a pause of that many seconds after each; a path in
    `broken` only half-way, with the whole file's Content-Length, then the connection
    closes (a server or network that drops a download); a path in `unsized` half-way too,
    with no Content-Length (nothing tells the client the file is not whole)."""

    requests: list[tuple[str, str]]
    slow: dict[str, float]
    broken: set[str]
    unsized: set[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        self.requests.append((self.command, self.path))
        return super().send_head()

    def do_GET(self) -> None:
        pause = self.slow.get(self.path)
        if pause is None and self.path not in self.broken | self.unsized:
            return super().do_GET()
        self.requests.append((self.command, self.path))
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(self.path))
        if self.path not in self.unsized:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if pause is None:  # broken
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        try:
            for start in range(0, len(data), 1024):
                self.wfile.write(data[start : start + 1024])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass  # the client gave up


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # yt-dlp closes its probe connection early: broken pipes are expected


class Site:
    """A folder served over HTTP on 127.0.0.1, with the requests it has answered."""

    def __init__(
        self,
        root: Path,
        port: int,
        requests: list[tuple[str, str]],
        slow: dict[str, float],
        broken: set[str] | None = None,
        unsized: set[str] | None = None,
    ) -> None:
        self.root = root
        self.port = port
        self.requests = requests
        self.slow = slow  # "/name" -> seconds of pause after each KB sent
        self.broken = broken if broken is not None else set()  # "/name" sent half-way
        self.unsized = unsized if unsized is not None else set()  # half-way, with no size

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def hits(self, name: str) -> int:
        return sum(1 for _, path in self.requests if path == f"/{name}")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    requests: list[tuple[str, str]] = []
    slow: dict[str, float] = {}
    broken: set[str] = set()
    unsized: set[str] = set()
    members = {"requests": requests, "slow": slow, "broken": broken, "unsized": unsized}
    handler = type("Handler", (_Handler,), members)
    server = _QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(root, server.server_address[1], requests, slow, broken, unsized)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose port is bound but never listens: connections are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/talk.mp4"
    finally:
        sock.close()


@pytest.fixture
def talk(site: Site, make_media: MakeMedia) -> Path:
    """talk.mp4 (the sample speech over a small picture) in the served folder."""
    made = make_media(
        "talk.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", video=True
    )
    target = site.root / "talk.mp4"
    made.replace(target)
    return target


def url_id(url: str) -> str:
    return "url-" + hashlib.sha256(url.encode()).hexdigest()[:12]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def only_source(ws: Workspace) -> Source:
    sources = ws.read_sources()
    assert len(sources) == 1, sources
    return sources[0]


def check_url_source(ws: Workspace, source: Source, url: str, media: Path, speech: np.ndarray) -> None:
    """A source pulled from `url` whose media is the served file `media`."""
    sid = url_id(url)
    assert source.source_id == sid
    assert source.kind == "url"
    assert source.origin == url
    assert source.media == f"raw/{sid}/source.mp4"
    assert source.sha256 == sha256(media)
    assert ws.abs(source.media).read_bytes() == media.read_bytes()
    assert abs(source.duration - len(speech) / RATE) < 0.05
    info = json.loads((ws.raw / sid / "info.json").read_text(encoding="utf-8"))
    assert info["webpage_url"] == url
    assert info["extractor_key"] in ("Generic", "HTML5MediaEmbed")
    assert not list(ws.raw.glob(".staging-*")), "staging folder left behind"


def test_pull_direct_media_url(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray, tmp_path: Path
) -> None:
    url = site.url("talk.mp4")
    sid = url_id(url)

    results = pull(workspace, [url], workers=1)
    assert [(r.item, r.status, r.reason) for r in results] == [(url, "pulled", "")]
    source = only_source(workspace)
    assert results[0].source == source
    check_url_source(workspace, source, url, talk, speech)
    assert source.title == "talk"  # the generic extractor names a direct link after its file
    assert source.subtitles == ""
    assert sorted(p.name for p in (workspace.raw / sid).iterdir()) == ["info.json", "source.mp4"]
    info = json.loads((workspace.raw / sid / "info.json").read_text(encoding="utf-8"))
    assert info["url"] == url
    assert info["ext"] == "mp4"
    assert info["direct"] is True
    # yt-dlp dates a direct link by its Last-Modified header (the served file's mtime)
    assert source.upload_date == time.strftime("%Y-%m-%d", time.gmtime(talk.stat().st_mtime))

    cuts = cut(workspace, [sid], workers=1)
    assert [(c.source_id, c.ok, len(c.clips)) for c in cuts] == [(sid, True, SENTENCES)]
    assert len(workspace.read_clips()) == SENTENCES
    check_consistent(workspace)

    cli_ws, _ = init_workspace(tmp_path / "cli-ws")
    done = run_cli("pull", url, cwd=cli_ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"pulled    {sid}  {len(speech) / RATE / 60:.1f} min  {url}" in done.stdout
    assert f"corpus: {SENTENCES} clips" in done.stdout
    cli_source = only_source(cli_ws)
    check_url_source(cli_ws, cli_source, url, talk, speech)
    assert cli_ws.read_cuts()[sid].clips == SENTENCES
    assert sorted(c.clip_id for c in cli_ws.read_clips()) == sorted(c.clip_id for c in cuts[0].clips)
    check_consistent(cli_ws)


def test_pull_html_page_with_video_and_subtitles(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    (site.root / "talk.en.vtt").write_text(VTT, encoding="utf-8")
    (site.root / "page.html").write_text(PAGE, encoding="utf-8")
    url = site.url("page.html")
    sid = url_id(url)

    results = pull(workspace, [url], workers=1)
    assert [(r.status, r.reason) for r in results] == [("pulled", "")]
    source = only_source(workspace)
    check_url_source(workspace, source, url, talk, speech)
    # yt-dlp's html5 embed extractor makes one entry per <video>, titled "<page title> (1)"
    # and on; the one video of a page has the page's title (its credit in a release)
    assert source.title == "A talk"
    assert source.subtitles == f"raw/{sid}/source.en.vtt"
    assert (workspace.raw / sid / "source.en.vtt").read_text(encoding="utf-8") == VTT
    assert sorted(p.name for p in (workspace.raw / sid).iterdir()) == [
        "info.json",
        "source.en.vtt",
        "source.mp4",
    ]
    info = json.loads((workspace.raw / sid / "info.json").read_text(encoding="utf-8"))
    assert info["_type"] == "video"
    assert info["extractor_key"] == "HTML5MediaEmbed"
    assert info["url"] == site.url("talk.mp4")
    assert info["subtitles"] == {"en": [{"url": site.url("talk.en.vtt"), "ext": "vtt"}]}
    assert site.hits("talk.en.vtt") == 1
    assert site.hits("page.html") == 1

    cuts = cut(workspace, [sid], workers=1)
    assert [(c.ok, len(c.clips)) for c in cuts] == [(True, SENTENCES)]
    check_consistent(workspace)


def test_pull_same_url_twice_needs_no_network(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    url = site.url("talk.mp4")
    sid = url_id(url)
    done = run_cli("pull", url, cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert site.hits("talk.mp4") >= 1
    sources_csv = workspace.sources_csv.read_bytes()
    clips = workspace.clips_parquet.read_bytes()
    seen = len(site.requests)

    again = pull(workspace, [url], workers=1)
    assert [(r.status, r.source.source_id if r.source else None) for r in again] == [("exists", sid)]
    done = run_cli("pull", url, cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert f"have      {sid}  already pulled, nothing to do  {url}" in done.stdout
    assert f"corpus: {SENTENCES} clips" in done.stdout
    assert "pulled " not in done.stdout
    assert site.requests[seen:] == []
    assert workspace.sources_csv.read_bytes() == sources_csv
    assert workspace.clips_parquet.read_bytes() == clips
    check_url_source(workspace, only_source(workspace), url, talk, speech)
    check_consistent(workspace)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("dead", "[Errno 111] Connection refused"),
        ("missing.mp4", "HTTP Error 404: File not found"),
    ],
)
def test_bad_url_fails_alone(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray, dead_url: str, bad: str, why: str
) -> None:
    bad_url = dead_url if bad == "dead" else site.url(bad)
    good_url = site.url("talk.mp4")
    done = run_cli("pull", bad_url, good_url, cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    prefix = f"failed    {bad_url}: "
    assert lines[0].startswith(prefix), lines
    assert "Unable to download webpage" in lines[0]
    assert why in lines[0]
    assert lines[1] == "1 of 2 sources failed; the others are in the corpus"
    assert f"pulled    {url_id(good_url)}" in done.stdout
    assert f"corpus: {SENTENCES} clips" in done.stdout
    source = only_source(workspace)
    check_url_source(workspace, source, good_url, talk, speech)
    assert workspace.read_cuts()[source.source_id].clips == SENTENCES
    assert {c.source_id for c in workspace.read_clips()} == {source.source_id}
    check_consistent(workspace)


def test_pull_from_file_with_url_and_comment(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray, tmp_path: Path
) -> None:
    url = site.url("talk.mp4")
    listing = tmp_path / "tonight.txt"
    listing.write_text(
        f"# talks to pull tonight\n\n  {url}  \n   # {site.url('other.mp4')}\n", encoding="utf-8"
    )
    done = run_cli("pull", "--from-file", str(listing), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"pulled    {url_id(url)}" in done.stdout
    assert f"corpus: {SENTENCES} clips" in done.stdout
    check_url_source(workspace, only_source(workspace), url, talk, speech)
    assert site.hits("other.mp4") == 0
    check_consistent(workspace)


TWO_VIDEOS = """<!doctype html>
<html><head><title>Two talks</title></head>
<body>
<video controls src="talk.mp4">
  <track kind="subtitles" src="talk.en.vtt" srclang="en" label="English">
</video>
<video controls src="other.mp4"></video>
</body></html>
"""


@pytest.fixture
def two_video_page(site: Site, talk: Path, make_media: MakeMedia, speech: np.ndarray) -> str:
    other = make_media("other.mp4", "-c:a", "aac", "-b:a", "64k", audio=speech[: 3 * RATE])
    other.replace(site.root / "other.mp4")
    (site.root / "talk.en.vtt").write_text(VTT, encoding="utf-8")
    (site.root / "two.html").write_text(TWO_VIDEOS, encoding="utf-8")
    return site.url("two.html")


def test_ytdlp_makes_a_playlist_of_a_page_with_two_videos(
    site: Site, two_video_page: str, ffmpeg: str
) -> None:
    """What pull_url is handed for such a page, with its own options (noplaylist does not apply)."""
    logger = _QuietLogger()
    with yt_dlp.YoutubeDL(_ydl_options(None, ffmpeg, logger)) as ydl:
        info = ydl.extract_info(two_video_page, download=False)
    assert info["_type"] == "playlist"
    assert info["title"] == "Two talks"
    assert info["webpage_url"] == two_video_page
    entries = list(info["entries"])
    assert [(e["id"], e["title"], e["url"]) for e in entries] == [
        ("two-1", "Two talks (1)", site.url("talk.mp4")),
        ("two-2", "Two talks (2)", site.url("other.mp4")),
    ]
    assert entries[0]["subtitles"] == {"en": [{"url": site.url("talk.en.vtt"), "ext": "vtt"}]}
    assert entries[1]["subtitles"] == {}
    assert logger.errors == []
    assert site.hits("talk.mp4") == site.hits("other.mp4") == 0  # nothing downloaded yet


def test_pulling_a_playlist_page_writes_nothing_outside_the_workspace(
    site: Site, two_video_page: str, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """yt-dlp writes a playlist's info.json even when only extracting: the probe must not."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    pull(workspace, [two_video_page], workers=1)
    assert list(elsewhere.iterdir()) == []
    assert not list(workspace.raw.glob(".staging-*"))
    assert not list(workspace.root.glob("*.json"))


def test_page_with_two_videos_does_not_silently_drop_one(
    site: Site, two_video_page: str, workspace: Workspace
) -> None:
    results = pull(workspace, [two_video_page], workers=1)
    assert [r.status for r in results] == ["pulled", "pulled"], [r.reason for r in results]
    assert site.hits("talk.mp4") == 1 and site.hits("other.mp4") == 1
    sources = workspace.read_sources()
    assert len({s.source_id for s in sources}) == 2
    assert all(s.origin.startswith(two_video_page + "#") for s in sources)
    assert {s.sha256 for s in sources} == {
        sha256_file(site.root / "talk.mp4"),
        sha256_file(site.root / "other.mp4"),
    }
    again = pull(workspace, [two_video_page], workers=1)
    assert [r.status for r in again] == ["exists", "exists"]


def test_missing_subtitle_file_does_not_fail_the_video(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    (site.root / "page.html").write_text(PAGE.replace("talk.en.vtt", "gone.en.vtt"), encoding="utf-8")
    url = site.url("page.html")
    [result] = pull(workspace, [url], workers=1)
    assert (result.status, result.reason) == ("pulled", ""), result.reason
    assert result.note.startswith("subtitles not downloaded") and "404" in result.note
    source = only_source(workspace)
    check_url_source(workspace, source, url, talk, speech)
    assert source.subtitles == ""


# -- deadlines -------------------------------------------------------------------------------
DEADLINE = 6


def _serve_slowly(site: Site, talk: Path) -> str:
    """A copy of the talk the server trickles out at about 10 KB/s (half a minute in all)."""
    shutil.copyfile(talk, site.root / "slow.mp4")
    site.slow["/slow.mp4"] = 0.1
    return site.url("slow.mp4")


def _deadline_reason(seconds: int) -> str:
    return f"not pulled within {seconds} s, the deadline per URL ([pull] url_timeout_s or --timeout)"


def test_a_url_past_its_deadline_fails_alone_and_leaves_nothing(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    slow, good = _serve_slowly(site, talk), site.url("talk.mp4")
    toml = workspace.root / "accentds.toml"
    toml.write_text(toml.read_text().replace("url_timeout_s = 1800", f"url_timeout_s = {DEADLINE}"))
    ws = Workspace(workspace.root)
    started = time.monotonic()
    results = pull(ws, [slow, good], workers=2)
    elapsed = time.monotonic() - started
    assert [(r.item, r.status, r.reason) for r in results] == [
        (slow, "failed", _deadline_reason(DEADLINE)),
        (good, "pulled", ""),
    ]
    assert DEADLINE <= elapsed < DEADLINE + 10
    assert site.hits("slow.mp4") >= 1  # its download had begun
    check_url_source(ws, only_source(ws), good, talk, speech)  # and no staging folder is left
    assert sorted(p.name for p in ws.raw.iterdir()) == [url_id(good)]


def test_the_timeout_option_names_the_url_and_the_deadline(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    slow, good = _serve_slowly(site, talk), site.url("talk.mp4")
    done = run_cli("pull", slow, good, "--timeout", str(DEADLINE), "--no-cut", cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"failed    {slow}: {_deadline_reason(DEADLINE)}",
        "1 of 2 sources failed; the others are in the corpus",
    ]
    assert f"pulled    {url_id(good)}" in done.stdout
    check_url_source(workspace, only_source(workspace), good, talk, speech)
    assert sorted(p.name for p in workspace.raw.iterdir()) == [url_id(good)]


def test_kill_9_of_a_pull_takes_its_url_process_with_it(site: Site, talk: Path, workspace: Workspace) -> None:
    slow = _serve_slowly(site, talk)
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", "pull", slow, "--no-cut"],
        cwd=workspace.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    known: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not list(workspace.raw.glob(".staging-*/*.part")):  # downloading
            assert proc.poll() is None and time.monotonic() < deadline, "the download never began"
            time.sleep(0.02)
        known = descendants(proc.pid)
        assert any("multiprocessing" in cmdline(pid) for pid in known), known
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        left = wait_for_no_survivors(known, None, 2.0)
        assert left == [], f"still running 2 s after the parent was killed: {left}"
    finally:
        proc.kill()
        proc.wait()
        kill_all(known)
    done = run_cli("pull", site.url("talk.mp4"), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert not list(workspace.raw.glob(".staging-*")), "the killed pull's staging folder is left"


# -- lists of URLs -----------------------------------------------------------------------------
def test_a_list_with_a_byte_order_mark_is_read(
    site: Site, talk: Path, workspace: Workspace, tmp_path: Path
) -> None:
    url = site.url("talk.mp4")
    listing = tmp_path / "tonight.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{url}\n".encode())
    done = run_cli("pull", "--from-file", str(listing), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert f"pulled    {url_id(url)}" in done.stdout


def test_a_list_not_in_utf8_gives_one_error_line(workspace: Workspace, tmp_path: Path) -> None:
    listing = tmp_path / "tonight.txt"
    listing.write_bytes("# talks\nhttp://127.0.0.1:9/caf\xe9.mp4\n".encode("latin-1"))
    done = run_cli("pull", "--from-file", str(listing), cwd=workspace.root)
    assert done.returncode == 1
    assert done.stderr == f"Error: {listing}, line 2: not UTF-8 text; save the list as UTF-8\n"
    assert done.stdout == ""


def test_ctrl_c_during_a_download_stops_it_cleanly(site: Site, talk: Path, workspace: Workspace) -> None:
    slow = _serve_slowly(site, talk)
    proc = subprocess.Popen(
        [sys.executable, "-m", "accentds", "pull", slow, "--no-cut"],
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    known: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not list(workspace.raw.glob(".staging-*/*.part")):  # downloading
            assert proc.poll() is None and time.monotonic() < deadline, "the download never began"
            time.sleep(0.02)
        known = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        kill_all(known)
    assert proc.returncode == 130, stderr
    assert stderr == "interrupted: what was pulled is saved; run the same pull again to go on\n"
    assert wait_for_no_survivors(known, None, 2.0) == []
    assert workspace.read_sources() == []
    assert not list(workspace.raw.iterdir()), "a half-pulled file is left"


def test_a_clone_without_audio_gets_a_urls_media_back_by_pulling_it_again(
    site: Site, talk: Path, workspace: Workspace, tmp_path: Path, make_media: MakeMedia
) -> None:
    """A URL a clone knows but whose media it lacks (raw/ is not in git) was "already pulled,
    nothing to do": it is downloaded again and put back when it is the same file."""
    url = site.url("talk.mp4")
    assert run_cli("pull", url, cwd=workspace.root).returncode == 0
    clone = tmp_path / "clone"
    shutil.copytree(workspace.root, clone, ignore=shutil.ignore_patterns("raw", "clips"))
    done = run_cli("pull", url, cwd=clone)
    assert done.returncode == 0, done.stderr
    source = only_source(workspace)
    assert f"restored  {source.source_id}" in done.stdout
    copy = Workspace(clone)
    assert copy.read_sources() == [source]
    assert copy.abs(source.media).read_bytes() == workspace.abs(source.media).read_bytes()
    assert all(
        copy.abs(c.path).read_bytes() == workspace.abs(c.path).read_bytes() for c in workspace.read_clips()
    )
    # a download that is not the file pulled before is not put in its place
    shutil.rmtree(clone / "raw")
    make_media("other.mp4", "-c:a", "aac", "-b:a", "48k").replace(talk)  # the site re-encoded it
    other = run_cli("pull", url, cwd=clone)
    assert other.returncode == 1
    assert "this download is not the file" in other.stderr and f"copy raw/{source.source_id}/" in other.stderr
    assert not (clone / "raw" / source.source_id).exists()

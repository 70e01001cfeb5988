"""What a user sees when a URL goes wrong: a broken connection, a subtitle track of no
language, an address that is not an http(s) URL, a video also pulled as a file, a page
with a video that is gone. Served from 127.0.0.1 only."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import MakeMedia, check_consistent, run_cli
from test_url import PAGE, VTT, Site, check_url_source, only_source, site, talk, url_id

from accentds.files import sha256_file
from accentds.pull import pull
from accentds.urls import normalise_url
from accentds.workspace import Workspace, init_workspace

__all__ = ["site", "talk"]  # fixtures used here


def test_a_broken_connection_is_named_and_the_same_pull_again_finishes(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    url = site.url("talk.mp4")
    site.broken.add("/talk.mp4")
    done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    size = talk.stat().st_size
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith(f"failed    {url}: Downloaded {size // 2} bytes, expected {size} bytes")
    assert lines[0].endswith("(the connection broke off; run the same pull again)")
    assert lines[1] == "the source failed"
    assert workspace.read_sources() == []
    assert list(workspace.raw.iterdir()) == [], "a half-downloaded file is left"

    site.broken.clear()
    done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert f"pulled    {url_id(url)}" in done.stdout
    check_url_source(workspace, only_source(workspace), url, talk, speech)
    check_consistent(workspace)


@pytest.mark.parametrize(
    ("name", "args", "damage"),
    [
        (  # its index up front, so the half decodes until its data stops
            "talk.mp4",
            ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart"],
            r"damaged or truncated media \(.+\)",
        ),
        ("talk.mp3", ["-c:a", "libmp3lame"], r"only 1\d\.\d s of the 34\.1 s the file's header gives decode"),
    ],
)
def test_a_download_cut_short_without_a_size_is_refused_and_the_same_pull_again_finishes(
    site: Site, workspace: Workspace, make_media: MakeMedia, name: str, args: list[str], damage: str
) -> None:
    """A server that sends no Content-Length and closes half-way: yt-dlp takes the half as the
    whole file. What the half itself shows (a decode that stops early, less audio than its
    header gives) refuses it, as a download whose size is known is refused."""
    video = name.endswith(".mp4")
    media = make_media(name, *args, video=video).replace(site.root / name)
    url = site.url(name)
    site.unsized.add(f"/{name}")
    done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    [line, total] = done.stderr.splitlines()
    assert re.fullmatch(
        rf"failed    {re.escape(url)}: {damage} \(the download stopped short\? run the same pull again; "
        r"if the file there is itself damaged, download it and pull the file, which is cut as far as it decodes\)",
        line,
    ), line
    assert total == "the source failed"
    assert workspace.read_sources() == [] and list(workspace.raw.iterdir()) == []

    site.unsized.clear()
    done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [source] = workspace.read_sources()
    assert source.sha256 == sha256_file(media) and abs(source.duration - 34.07) < 0.05


def test_a_subtitle_track_of_no_language_is_pulled_with_its_video(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray
) -> None:
    (site.root / "talk.en.vtt").write_text(VTT, encoding="utf-8")
    (site.root / "page.html").write_text(PAGE.replace(' srclang="en" label="English"', ""), encoding="utf-8")
    url = site.url("page.html")
    [result] = pull(workspace, [url], workers=1)
    assert (result.status, result.reason, result.note) == ("pulled", "", "")
    source = only_source(workspace)
    check_url_source(workspace, source, url, talk, speech)
    sid = url_id(url)
    assert source.subtitles == f"raw/{sid}/source.und.vtt"
    assert (workspace.raw / sid / "source.und.vtt").read_text(encoding="utf-8") == VTT


def test_an_address_that_is_not_an_http_url_says_what_to_do(
    site: Site, talk: Path, workspace: Workspace
) -> None:
    url = site.url("talk.mp4")
    shouted = url.replace("http://", "HTTP://")
    bare = url.removeprefix("http://")
    done = run_cli("pull", shouted, bare, "ftp://127.0.0.1/talk.mp4", "--no-cut", cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"pulled    {url_id(url)}" in done.stdout
    assert done.stderr.splitlines() == [
        f"failed    {bare}: no such file or folder; for a web address, put https:// in front: https://{bare}",
        "failed    ftp://127.0.0.1/talk.mp4: only http:// and https:// addresses can be pulled; "
        "download it, then pull the file",
        "2 of 3 sources failed; the others are in the corpus",
    ]
    assert len(workspace.read_sources()) == 1


def test_a_url_and_the_file_of_the_same_video_are_one_source(
    site: Site, talk: Path, workspace: Workspace, tmp_path: Path
) -> None:
    url = site.url("talk.mp4")
    [first] = pull(workspace, [url], workers=1)
    assert first.status == "pulled", first.reason
    done = run_cli("pull", str(talk), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    uncut = "not cut yet (`accentds cut` cuts it)"  # pulled by pull(), which does not cut
    assert f"have      {url_id(url)}  already pulled, {uncut}  {talk}" in done.stdout
    assert workspace.read_sources() == [first.source]
    assert [p.name for p in workspace.raw.iterdir()] == [url_id(url)]

    other, _ = init_workspace(tmp_path / "other")  # the file first, then its URL
    [file_first] = pull(other, [str(talk)], workers=1)
    [again] = pull(other, [url], workers=1)
    remembered = replace(file_first.source, other_urls=url)  # the next pull of it downloads nothing
    assert (again.status, again.source) == ("exists", remembered)
    assert other.read_sources() == [remembered]
    assert [p.name for p in other.raw.iterdir()] == [file_first.source.source_id]


def test_a_url_whose_download_was_a_pulled_file_is_not_downloaded_again(
    site: Site, talk: Path, workspace: Workspace
) -> None:
    [file_first] = pull(workspace, [str(talk)], workers=1)
    url = site.url("talk.mp4")
    sid = file_first.source.source_id
    for run in range(3):
        done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
        assert done.returncode == 0, done.stderr
        uncut = "not cut yet (`accentds cut` cuts it)"  # pulled by pull(), which does not cut
        assert f"have      {sid}  already pulled, {uncut}  {url}" in done.stdout, done.stdout
        if run == 0:
            first_hits = site.hits("talk.mp4")  # the one download that found the same bytes
            assert first_hits >= 1
        assert site.hits("talk.mp4") == first_hits, f"the address was fetched again on run {run + 1}"
    [source] = workspace.read_sources()
    assert (source.source_id, source.origin, source.other_urls) == (sid, file_first.source.origin, url)
    check_consistent(workspace)


def test_one_url_spelt_two_ways_is_one_source_named_as_typed(
    site: Site, talk: Path, workspace: Workspace
) -> None:
    """A space typed raw or as %20, %7E or ~, the scheme and host in capitals, the default
    port: one address, one source, fetched once."""
    shutil.copyfile(talk, site.root / "a b.mp4")
    (site.root / "~talk.mp4").write_bytes(talk.read_bytes() + b"\0")  # other bytes: another source
    base = site.url("")
    raw, tilde = base + "a b.mp4", base.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "%7etalk.mp4"
    done = run_cli("pull", raw, tilde, "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    spaced, home = base + "a%20b.mp4", base + "~talk.mp4"
    assert [line.rsplit("  ", 1)[1] for line in done.stdout.splitlines() if line.startswith("pulled")] == [
        raw,
        tilde,
    ]
    assert sorted((s.source_id, s.origin) for s in workspace.read_sources()) == sorted(
        [(url_id(spaced), spaced), (url_id(home), home)]
    )
    fetched = (site.hits("a%20b.mp4"), site.hits("~talk.mp4"))
    assert min(fetched) >= 1
    done = run_cli("pull", spaced, home, base + "%61%20b.mp4", "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert [line.split()[:2] for line in done.stdout.splitlines() if not line.startswith("corpus")] == [
        ["have", url_id(spaced)],
        ["have", url_id(home)],
    ], done.stdout  # the third is the first spelt a third way: pulled once per run
    assert (site.hits("a%20b.mp4"), site.hits("~talk.mp4")) == fetched
    assert len(workspace.read_sources()) == 2


def test_normalise_url() -> None:
    same = [
        "https://example.org/a b",
        "HTTPS://Example.ORG:443/a%20b",
        "https://example.org/%61%20b",
    ]
    assert {normalise_url(u) for u in same} == {"https://example.org/a%20b"}
    assert normalise_url("http://h:80") == "http://h/"
    assert normalise_url("http://h:8080/%7Eme/?q=%2f&r=é#x") == "http://h:8080/~me/?q=%2F&r=%C3%A9#x"
    assert normalise_url("http://h/a%2Fb") != normalise_url(
        "http://h/a/b"
    )  # a reserved character keeps its form


def test_a_video_of_a_page_that_is_gone_is_named_and_the_others_are_pulled(
    site: Site, talk: Path, workspace: Workspace
) -> None:
    page = '<html><head><title>Two</title></head><body><video src="{}"></video><video src="{}"></video>'
    (site.root / "two.html").write_text(page.format("gone.mp4", "talk.mp4"), encoding="utf-8")
    url = site.url("two.html")
    done = run_cli("pull", url, "--no-cut", cwd=workspace.root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"failed    {url}: {site.url('gone.mp4')}: unable to download video data: HTTP Error 404: "
        "File not found (nothing at this address: check it in a browser)",
        "1 of 2 sources failed; the others are in the corpus",
    ]
    assert [s.sha256 for s in workspace.read_sources()] == [sha256_file(talk)]


def test_a_url_in_a_list_may_be_followed_by_a_note(
    site: Site, talk: Path, workspace: Workspace, speech: np.ndarray, tmp_path: Path
) -> None:
    """`URL   # note` in a --from-file list pulls the URL (it was sent with the note and
    failed with a 404); a file name holding " #" is still taken whole."""
    url = site.url("talk.mp4")
    named = tmp_path / "Episode #3.mp4"
    named.write_bytes(talk.read_bytes() + b"\0")  # other bytes: another source
    listed = tmp_path / "tonight.txt"
    listed.write_text(f"# tonight\n{url}   # the ferry talk\n{named}\n", encoding="utf-8")
    done = run_cli("pull", "--from-file", str(listed), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(s.origin for s in workspace.read_sources()) == sorted([url, str(named)])
    check_consistent(workspace)


def test_an_empty_file_from_a_server_says_so(site: Site, workspace: Workspace) -> None:
    (site.root / "empty.mp4").write_bytes(b"")
    url = site.url("empty.mp4")
    done = run_cli("pull", url, cwd=workspace.root)
    assert done.returncode == 1, done.stdout
    assert done.stderr.splitlines()[0] == (
        f"failed    {url}: Did not get any data blocks "
        "(the server sent an empty file: check the address in a browser)"
    )
    assert workspace.read_sources() == []
    assert list(workspace.raw.iterdir()) == []


def test_a_voice_memo_yt_dlp_will_not_save_says_what_to_do(
    site: Site, workspace: Workspace, make_media: MakeMedia, speech: np.ndarray
) -> None:
    """A phone's .amr voice memo, which `pull` takes as a file: yt-dlp's own message asked for a
    bug report to yt-dlp."""
    memo = make_media("memo.amr", "-ar", "8000", "-c:a", "libopencore_amrnb", audio=speech[:16000])
    shutil.copy(memo, site.root / "memo.amr")
    url = site.url("memo.amr")
    done = run_cli("pull", url, cwd=workspace.root)
    assert done.returncode == 1, done.stdout
    assert done.stderr.splitlines()[0] == (
        f"failed    {url}: yt-dlp does not save .amr files from the web, an extension it does not know as "
        "safe: download it (curl -O URL) and pull the file"
    )
    assert workspace.read_sources() == [] and list(workspace.raw.iterdir()) == []

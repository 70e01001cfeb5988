"""Pulling a URL with yt-dlp: a video, or each video of a playlist or channel page, with its
subtitles and info.json, in a process of its own that is stopped when it outlives its
deadline (`[pull] url_timeout_s`), so that one slow URL fails alone."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import pull as pulling
from .captions import extract_embedded_subtitles
from .errors import AccentdsError, disk_full
from .files import now_iso, sha256_file
from .media import MediaError, audio_length, short_of_header
from .models import Source, safe_id
from .procs import die_with_parent
from .pull import SUBTITLE_EXTENSIONS, PullResult, _commit, _media_missing, _remove_dead_staging, _staging
from .urls import normalise_url
from .workspace import Workspace

_YOUTUBE = re.compile(
    r"^https?://(?:www\.|m\.|music\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|shorts/|live/|embed/)"
    r"|youtu\.be/)([A-Za-z0-9_-]{11})"
)


def url_source_id(url: str, info: dict[str, Any] | None = None) -> str:
    """`yt-<video id>` for YouTube, else `url-` and a hash of the page address."""
    match = _YOUTUBE.match(url)
    if match:
        return f"yt-{match.group(1)}"
    if info and info.get("extractor_key") == "Youtube" and info.get("id"):
        return f"yt-{safe_id(str(info['id']))}"
    page = normalise_url((info or {}).get("webpage_url") or url)
    return "url-" + hashlib.sha256(page.encode()).hexdigest()[:12]


class _QuietLogger:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)

    def error(self, msg: str) -> None:
        self.errors.append(msg)


def _ydl_options(folder: Path | None, ffmpeg: str, logger: _QuietLogger) -> dict[str, Any]:
    """yt-dlp options: probing only (folder None) or downloading media and info.json to folder."""
    options: dict[str, Any] = {
        "format": "bestaudio/best",
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": logger,
        "socket_timeout": 30,
        "retries": 3,
        "extractor_retries": 1,
        "ffmpeg_location": ffmpeg,
        "writesubtitles": False,
        "writeautomaticsub": False,
        "writeinfojson": folder is not None,
    }
    if folder is None:
        options["extract_flat"] = "in_playlist"
    else:
        options["outtmpl"] = {"default": str(folder / "source.%(ext)s")}
        options["paths"] = {"home": str(folder), "temp": str(folder)}
    return options


def _subtitle_options(folder: Path, ffmpeg: str, logger: _QuietLogger) -> dict[str, Any]:
    """Second pass: subtitles and auto-captions only; a failure here loses nothing else."""
    options = _ydl_options(folder, ffmpeg, logger)
    options.update(
        skip_download=True,
        writeinfojson=False,
        writesubtitles=True,
        writeautomaticsub=True,
        subtitleslangs=["en.*", "en", "und", "-live_chat"],
        subtitlesformat="vtt/srt/best",
        ignoreerrors=True,
    )
    return options


def _clean_error(message: str) -> str:
    """yt-dlp's message in one line, without its prefixes; its progress lines end in a
    carriage return, so the text may start on a later line."""
    for line in re.split(r"[\r\n]+", message):
        line = re.sub(r"^(ERROR|WARNING):\s*", "", line.strip())
        line = re.sub(r"^\[[^\]]+\]\s*", "", line)
        line = re.sub(r"^Got error:\s*", "", line)
        line = re.sub(r"^[^\s:]+:\s(?=Unable|HTTP|Requested|Video|This)", "", line)
        line = re.sub(r"\s*\(caused by .*\)$", "", line)
        if line:
            return line
    return "download failed"


_ADVICE = [
    (r"Downloaded \d+ bytes, expected|IncompleteRead|Connection (reset|aborted)|timed out",
     "the connection broke off; run the same pull again"),
    (r"HTTP Error (404|410)", "nothing at this address: check it in a browser"),
    (r"HTTP Error (401|403)", "the site refused the download: check the address, or sign-in"),
    (r"HTTP Error 5\d\d|Connection refused|Name or service not known|resolve|No route|unreachable",
     "the site did not answer: check the address and the network, then run the same pull again"),
    (r"Unsupported URL", "no video or audio found: give the address of a video's page or of the media file"),
    (r"Did not get any data blocks", "the server sent an empty file: check the address in a browser"),
]  # fmt: skip


_UNUSUAL = re.compile(r"extracted extension \('?([^')]*)'?\) is unusual")
_UNSAFE = "an extension it does not know as safe: download it (curl -O URL) and pull the file"
# a server that sends no size and closes half-way leaves a file yt-dlp takes as whole
_CUT_SHORT = (
    "the download stopped short? run the same pull again; if the file there is itself damaged, "
    "download it and pull the file, which is cut as far as it decodes"
)


def _failure(message: str, exc: BaseException | None = None) -> str:
    """The reason a URL failed, with what to do about it where that is known: of a
    DownloadError `exc`, from the error yt-dlp's own message hides (a full disk)."""
    cause = getattr(exc, "exc_info", None)
    cause = cause[1] if isinstance(cause, tuple) and len(cause) > 1 else None
    while isinstance(cause, BaseException):
        if isinstance(cause, OSError) and disk_full(cause):
            return pulling.DISK_FULL
        cause = cause.__cause__ or cause.__context__
    reason = _clean_error(message)
    if unusual := _UNUSUAL.search(reason):  # yt-dlp's own message asks for a bug report
        return f"yt-dlp does not save .{unusual.group(1)} files from the web, {_UNSAFE}"
    for pattern, advice in _ADVICE:
        if re.search(pattern, reason):
            return f"{reason} ({advice})"
    return reason


def _pulled_before(workspace: Workspace, url: str) -> Source | None:
    """The source this URL was pulled as, if it was (and its media is here: else it is
    downloaded again, to put the media back)."""
    known_id = url_source_id(url) if _YOUTUBE.match(url) else None
    for source in workspace.read_sources():
        if (source.pulled_from(url) or source.source_id == known_id) and not _media_missing(
            workspace, source
        ):
            return source
    return None


def pull_url(
    workspace: Workspace,
    url: str,
    ffmpeg: str,
    licence: str = "",
    on_result: Callable[[PullResult], None] | None = None,
) -> list[PullResult]:
    """Pull one URL with yt-dlp: audio only where the site offers it, subtitles, info.json.

    A page or playlist holding several videos gives one source per video; `on_result` is
    called with each result as it comes."""
    results = []
    for result in _url_results(workspace, url, ffmpeg, licence):
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _url_results(workspace: Workspace, url: str, ffmpeg: str, licence: str) -> Iterator[PullResult]:
    import yt_dlp

    source = _pulled_before(workspace, url)
    if source is not None:
        yield PullResult(url, "exists", source)
        return
    logger = _QuietLogger()
    try:
        with yt_dlp.YoutubeDL(_ydl_options(None, ffmpeg, logger)) as ydl:
            info = ydl.extract_info(url, download=False)
    except yt_dlp.utils.DownloadError as exc:
        yield PullResult(url, "failed", reason=_failure(str(exc)))
        return
    if not info:
        yield PullResult(url, "failed", reason="nothing to download at this address")
        return
    if info.get("_type") not in ("playlist", "multi_video"):
        yield _pull_entry(workspace, url, url, url_source_id(url, info), _page_title(info), ffmpeg, licence)
        return
    entries = [e for e in info.get("entries") or [] if e]
    if not entries:
        yield PullResult(url, "failed", reason="the page or playlist holds no videos")
    for entry in entries:
        entry_url = str(entry.get("webpage_url") or entry.get("url") or "")
        if entry.get("ie_key") == "Youtube" or entry.get("extractor_key") == "Youtube":
            source_id = f"yt-{safe_id(str(entry.get('id')))}"
        else:
            entry_url = entry_url if entry_url and entry_url != url else f"{url}#{entry.get('id')}"
            source_id = url_source_id(entry_url)
        result = _pull_entry(workspace, url, entry_url, source_id, entry, ffmpeg, licence)
        if result.status == "failed":  # which of the page's videos
            media = str(entry.get("url") or "") if entry_url.startswith(f"{url}#") else entry_url
            result = replace(result, reason=f"{media or entry_url}: {result.reason}")
        yield result


def _page_title(info: dict[str, Any]) -> dict[str, Any]:
    """yt-dlp titles the one <video> of a page `<page title> (1)`, numbered as if one of
    several: its title (status, the release's credits) is the page's."""
    title = str(info.get("title") or "")
    if info.get("extractor_key") == "HTML5MediaEmbed" and str(info.get("id")).endswith("-1"):
        return {**info, "title": title.removesuffix(" (1)")}
    return info


def _url_worker(out: Any, root: str, url: str, ffmpeg: str, licence: str, parent: int) -> None:
    """In a process of its own: pull `url`, sending ("result", PullResult) for each result
    and ("end", None) at the end through the connection `out`."""
    os.setpgid(0, 0)  # a group of its own, with what yt-dlp starts: stopped as one
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    try:
        pull_url(Workspace(Path(root)), url, ffmpeg, licence, lambda r: out.send(("result", r)))
    except OSError as exc:
        out.send(("result", PullResult(url, "failed", reason=pulling.os_failure(exc))))
    except Exception as exc:  # a failure of this URL alone
        out.send(("result", PullResult(url, "failed", reason=f"{type(exc).__name__}: {exc}")))
    out.send(("end", None))
    out.close()


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def pull_url_with_deadline(
    workspace: Workspace,
    url: str,
    ffmpeg: str,
    licence: str,
    timeout: float,
    stop: threading.Event | None = None,
) -> list[PullResult]:
    """`pull_url` in a process of its own, stopped after `timeout` seconds (or when `stop` is
    set): the URL then fails with the deadline as its reason, and nothing it had half-pulled
    stays behind. Sources it committed before stay."""
    source = _pulled_before(workspace, url)
    if source is not None:
        return [PullResult(url, "exists", source)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no locks held by threads
    incoming, out = context.Pipe(duplex=False)
    args = (out, str(workspace.root), url, ffmpeg, licence, os.getpid())
    worker = context.Process(target=_url_worker, args=args, name="accentds-pull", daemon=True)
    deadline = time.monotonic() + timeout
    worker.start()
    out.close()
    results: list[PullResult] = []
    ended = died = False
    try:
        while not ended and not (stop and stop.is_set()) and time.monotonic() < deadline:
            if not incoming.poll(min(0.1, max(0.0, deadline - time.monotonic()))):
                continue
            try:
                kind, result = incoming.recv()
            except EOFError:
                died = True
                break
            if kind == "end":
                ended = True
            else:
                results.append(result)
    finally:
        if ended:
            worker.join()
        else:
            _stop_worker(workspace, worker)
        incoming.close()
    if ended or (stop and stop.is_set() and not died):
        return results
    if died:
        why = f"the pull stopped unexpectedly (exit code {worker.exitcode})"
    else:
        why = f"not pulled within {_duration(timeout)}, the deadline per URL ([pull] url_timeout_s or --timeout)"
    return [*results, PullResult(url, "failed", reason=why)]


def _stop_worker(workspace: Workspace, worker: Any) -> None:
    """Kill a URL's process and what it started, never in the middle of a commit (the
    workspace lock waits for that), and remove its half-pulled files."""
    try:
        with workspace.lock():
            _kill_group(worker.pid)
    except AccentdsError:  # the lock is held too long: kill anyway
        _kill_group(worker.pid)
    worker.join()
    _remove_dead_staging(workspace, worker.pid)


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # its group, once it has made it
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _pull_entry(
    workspace: Workspace,
    item: str,
    origin: str,
    source_id: str,
    info: dict[str, Any],
    ffmpeg: str,
    licence: str,
) -> PullResult:
    import yt_dlp

    for source in workspace.read_sources():
        if (source.source_id == source_id or source.pulled_from(origin)) and not _media_missing(
            workspace, source
        ):
            return PullResult(item, "exists", source)
    _name_unnamed_subtitles(info)
    logger = _QuietLogger()
    staging = _staging(workspace)
    try:
        with yt_dlp.YoutubeDL(_ydl_options(staging, ffmpeg, logger)) as ydl:
            info = ydl.process_ie_result(info, download=True)
        media = _downloaded_media(staging, info)
        if media is None:
            return PullResult(item, "failed", reason="the download produced no media file")
        try:
            duration, damage = audio_length(media, ffmpeg, workspace.config.vad.sample_rate)
        except MediaError as exc:
            return PullResult(item, "failed", reason=str(exc))
        if damage := damage or short_of_header(media, ffmpeg, duration):
            return PullResult(item, "failed", reason=f"{damage} ({_CUT_SHORT})")
        final_media = staging / ("source" + media.suffix.lower())
        if media != final_media:
            media.rename(final_media)
        info_json = staging / "source.info.json"
        if info_json.exists():
            info_json.rename(staging / "info.json")
        sub_logger = _QuietLogger()
        with yt_dlp.YoutubeDL(_subtitle_options(staging, ffmpeg, sub_logger)) as ydl:
            ydl.process_ie_result(info, download=True)
        problems = sub_logger.errors + [w for w in sub_logger.warnings if "subtitle" in w.lower()]
        note = f"subtitles not downloaded: {_clean_error(problems[0])}" if problems else ""
        extract_embedded_subtitles(ffmpeg, final_media, staging)
        raw = f"raw/{source_id}"
        subtitles = sorted(p.name for p in staging.iterdir() if p.suffix.lower() in SUBTITLE_EXTENSIONS)
        source = Source(
            source_id=source_id,
            kind="url",
            origin=origin,
            media=f"{raw}/{final_media.name}",
            duration=round(duration, 3),
            sha256=sha256_file(final_media),
            added_at=now_iso(),
            title=str(info.get("title") or ""),
            uploader=str(info.get("uploader") or info.get("channel") or ""),
            upload_date=_iso_date(info.get("upload_date")),
            licence=licence or str(info.get("license") or ""),
            subtitles=";".join(f"{raw}/{name}" for name in subtitles),
        )
        return _commit(workspace, item, staging, source, note)
    except yt_dlp.utils.DownloadError as exc:
        return PullResult(item, "failed", reason=_failure(str(exc), exc))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _name_unnamed_subtitles(info: dict[str, Any]) -> None:
    """A subtitle track of no language (an HTML5 <track> without srclang) comes under the
    key None, on which yt-dlp fails to write info.json: it becomes `und`, and is pulled."""
    for field in ("subtitles", "automatic_captions"):
        tracks = info.get(field)
        if isinstance(tracks, dict) and None in tracks:
            tracks["und"] = [*tracks.get("und", []), *tracks.pop(None)]


def _iso_date(value: Any) -> str:
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if re.fullmatch(r"\d{8}", text) else text


def _downloaded_media(folder: Path, info: dict[str, Any]) -> Path | None:
    for download in info.get("requested_downloads") or []:
        path = Path(download.get("filepath") or "")
        if path.is_file():
            return path
    skip = (*SUBTITLE_EXTENSIONS, ".json", ".part", ".ytdl")
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.lower().endswith(skip)]
    return max(files, key=lambda p: p.stat().st_size) if files else None

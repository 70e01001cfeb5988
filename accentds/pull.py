"""Pull sources into the workspace: local files and folders by copy, URLs with yt-dlp
(`pull_url`).

Each source lands in raw/<source_id>/ (the media, its subtitles and info.json) and gets a
row in manifests/sources.csv. The folder is filled under a temporary name and moved into
place with its row under the workspace lock, so an interrupted pull leaves nothing half-done.

Each URL is pulled in a process of its own, so that a URL that takes longer than its
deadline (`[pull] url_timeout_s`) can be stopped: it fails alone and the others go on."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .captions import extract_embedded_subtitles
from .errors import AccentdsError, disk_full
from .files import copy_hashed, now_iso, sha256_file
from .media import MediaError, find_ffmpeg, measure_audio
from .models import Source, safe_id
from .procs import running
from .urls import normalise_url
from .views import refresh_manifest
from .workspace import Workspace

# video, also from camcorders (.mts, .m2ts; JVC's .mod, .tod), DVDs (.vob), broadcast and editing
# (.mxf, .dv), QuickTime (.qt) and RealMedia (.rm, .rmvb)
_VIDEO = (
    ".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".m2t",
    ".vob", ".mxf", ".dv", ".flv", ".f4v", ".3gp", ".3g2", ".wmv", ".asf", ".ogv", ".mod", ".tod", ".qt",
    ".rm", ".rmvb",
)  # fmt: skip
# audio, also phone voice memos (.amr, .awb, .caf, Samsung's .3ga), audiobooks (.m4b), web audio
# (.weba), Sun/NeXT audio of older corpora (.au)
_AUDIO = (
    ".mp3", ".m4a", ".m4b", ".aac", ".wav", ".flac", ".ogg", ".oga", ".opus", ".weba", ".wma", ".mka",
    ".aiff", ".aif", ".aifc", ".amr", ".awb", ".3ga", ".caf", ".ac3", ".mp2", ".wv", ".spx", ".au",
)  # fmt: skip
MEDIA_EXTENSIONS = frozenset(_VIDEO + _AUDIO)
SUBTITLE_EXTENSIONS = (".vtt", ".srt")


@dataclass(frozen=True)
class PullResult:
    """What happened to one item given to `pull`."""

    item: str
    status: str  # "pulled", "exists", "restored" (its media put back in raw/) or "failed"
    source: Source | None = None
    reason: str = ""
    note: str = ""  # a warning that did not stop the pull


def is_url(item: str) -> bool:
    return item[:8].lower().startswith(("http://", "https://"))


_WEB_ADDRESS = re.compile(r"^(?:www\.|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?/)")


def _missing(item: str) -> str:
    """Why `item`, neither a file nor an http(s) URL, cannot be pulled, and what to do."""
    link = Path(item).expanduser()
    if link.is_symlink():  # `ls` lists it
        return f"a link to {os.readlink(link)}, which is not there (on a drive not mounted?)"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", item):
        return "only http:// and https:// addresses can be pulled; download it, then pull the file"
    if _WEB_ADDRESS.match(item):
        return f"no such file or folder; for a web address, put https:// in front: https://{item}"
    return "no such file or folder"


def own_folders(workspace: Workspace) -> tuple[Path, ...]:
    """The workspace's folders of audio it made or holds, which a folder pull leaves out (the
    workspace in the folder pulled, or `accentds pull .` in it): raw/, clips/, releases/."""
    return tuple(folder.resolve() for folder in (workspace.raw, workspace.clips, workspace.releases))


def expand_items(
    items: Iterable[str], from_file: Path | None = None, leave_out: tuple[Path, ...] = ()
) -> list[str]:
    """URLs and files as given, folders replaced by their media files (recursively, sorted;
    hidden files and folders, and those in `leave_out`, left out)."""
    given = list(items)
    if from_file is not None:
        lines = _read_list(from_file)
        given += [_list_item(ln) for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    expanded: list[str] = []
    for item in given:
        path = Path(item).expanduser()
        if not is_url(item) and path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in MEDIA_EXTENSIONS
                and not _hidden(p.relative_to(path))
                and not any(p.resolve().is_relative_to(folder) for folder in leave_out)
            )
            expanded += found or [item]
        else:
            expanded.append(item)
    unique: dict[str, str] = {}  # one URL typed two ways is pulled once, as first typed
    for item in expanded:
        unique.setdefault(normalise_url(item) if is_url(item) else item, item)
    return list(unique.values())


DISK_FULL = "no space left on device: free some space and run the same pull again"


def os_failure(exc: OSError) -> str:
    """Why an OSError failed a pull, with what to do when the disk is full."""
    if disk_full(exc):
        return DISK_FULL
    return f"{exc.strerror or exc}"


def _hidden(relative: Path) -> bool:
    """Whether a file found in a folder is hidden, or in a hidden folder: a Mac's `._name.mp4`
    (metadata, no media), `.Trashes/`, `.git/`. Named on its own, such a file is pulled."""
    return any(part.startswith(".") for part in relative.parts)


def _list_item(line: str) -> str:
    """What a line of a `--from-file` list names: a URL may be followed by a `# note` (a URL
    holds no spaces). A path is taken whole ("Episode #3.mp4") where that file exists, else
    without a `# note` after it and without the quotes a shell or a file manager puts around
    a path ("/videos/my talk.mp4"); a line naming nothing is given as it is, to fail."""
    item = line.strip()
    noted = re.match(r"(\S+)\s+#", item)
    if noted and is_url(noted.group(1)):
        return noted.group(1)
    if is_url(item):
        return item
    cuts = [item, *(item[: m.start()] for m in re.finditer(r"\s+#", item))]
    for candidate in cuts:
        for path in (candidate, _unquoted(candidate)):
            if path and Path(path).expanduser().exists():
                return path
    return item


def _unquoted(text: str) -> str:
    """`text` without one pair of quotes around it ('...' or "...")."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _read_list(path: Path) -> list[str]:
    """The lines of a list of URLs and paths: UTF-8, a byte order mark allowed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AccentdsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AccentdsError(f"{path}, line {line}: not UTF-8 text; save the list as UTF-8") from None


def _staging(workspace: Workspace) -> Path:
    folder = workspace.raw / f".staging-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def _remove_dead_staging(workspace: Workspace, pid: int | None = None) -> None:
    """Remove staging folders of pulls that were killed (their process is gone), or those
    of the process `pid` (which is gone)."""
    for folder in workspace.raw.glob(".staging-*"):
        owner = folder.name.split("-")[1]
        if owner.isdigit() and (int(owner) == pid if pid else not running(int(owner))):
            shutil.rmtree(folder, ignore_errors=True)


def _sidecar_subtitles(path: Path) -> list[tuple[Path, str]]:
    """Subtitle files beside a media file: `name.srt`, `name.en.vtt`, ... with their language."""
    found = []
    for candidate in sorted(path.parent.glob(glob_escape(path.stem) + ".*")):
        if candidate.suffix.lower() not in SUBTITLE_EXTENSIONS or candidate == path:
            continue
        middle = candidate.name[len(path.stem) : -len(candidate.suffix)].strip(".")
        found.append((candidate, safe_id(middle) if middle else "und"))
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _same_source(sources: list[Source], source_id: str, sha256: str) -> Source | None:
    """The source of this id, or else of the same bytes (a URL's video pulled before as a
    file, or the other way round): one source, never two copies of its clips."""
    found = next((s for s in sources if s.source_id == source_id), None)
    return found or next((s for s in sources if sha256 and s.sha256 == sha256), None)


def _restore(workspace: Workspace, item: str, staging: Path, pulled: Source, known: Source) -> PullResult:
    """Put a filled staging folder in place of the raw/ folder of a known source whose media
    is missing (under the workspace lock), if it holds the same bytes; its row stays as it is."""
    if pulled.sha256 != known.sha256:
        shutil.rmtree(staging, ignore_errors=True)
        return PullResult(
            item,
            "failed",
            reason=f"its media is missing from raw/, and this download is not the file {known.source_id} was "
            f"pulled as (another sha256): copy raw/{known.source_id}/ from where it was pulled",
        )
    media = staging / Path(pulled.media).name
    if media.name != Path(known.media).name:
        media.rename(staging / Path(known.media).name)
    final = workspace.raw / known.source_id
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return PullResult(item, "restored", known)


def _commit(workspace: Workspace, item: str, staging: Path, source: Source, note: str = "") -> PullResult:
    """Move a filled staging folder to raw/<source_id> and add its row, atomically together."""
    with workspace.lock():
        sources = workspace.read_sources()
        same = _same_source(sources, source.source_id, source.sha256)
        if same is not None and _media_missing(workspace, same):
            return _restore(workspace, item, staging, source, same)
        if same is not None:
            shutil.rmtree(staging, ignore_errors=True)
            if source.kind == "url" and not same.pulled_from(source.origin):  # the next pull knows it
                urls = " ".join([*same.other_urls.split(), normalise_url(source.origin)])
                same = replace(same, other_urls=urls)
                workspace.write_sources([same if s.source_id == same.source_id else s for s in sources])
            return PullResult(item, "exists", same)
        final = workspace.raw / source.source_id
        if final.exists():  # left by an interrupted pull: it never got its row
            shutil.rmtree(final)
        os.replace(staging, final)
        workspace.write_sources([*sources, source])
    return PullResult(item, "pulled", source, note=note)


def _media_missing(workspace: Workspace, source: Source) -> bool:
    """Whether a known source's media file is absent from its raw/ folder (a clone of the
    workspace, whose raw/ git does not hold)."""
    folder = f"raw/{source.source_id}/"
    return source.media.startswith(folder) and not workspace.abs(source.media).is_file()


CHANGED = (
    "it changed while it was pulled (still being recorded, downloaded or copied?): "
    "pull it again once it is complete"
)


def _version(path: Path) -> tuple[int, int]:
    """A file's size and modification time: what a writer still at work on it changes."""
    seen = path.stat()
    return seen.st_size, seen.st_mtime_ns


def pull_file(workspace: Workspace, item: str, ffmpeg: str, licence: str = "") -> PullResult:
    """Pull one local media file."""
    path = Path(item).expanduser()
    if not path.exists():
        return PullResult(item, "failed", reason=_missing(item))
    if path.is_dir():
        return PullResult(item, "failed", reason="folder holds no media files")
    if path.stat().st_size == 0:
        return PullResult(item, "failed", reason="empty file (0 bytes)")
    if any(path.resolve().is_relative_to(folder) for folder in own_folders(workspace)[1:]):
        return PullResult(
            item, "failed", reason="a clip this workspace cut: pull the recording it was cut from"
        )
    before = _version(path)
    sha = sha256_file(path)
    source_id = f"file-{sha[:12]}"
    existing = _same_source(workspace.read_sources(), source_id, sha)
    if existing is not None and not _media_missing(workspace, existing):
        return PullResult(item, "exists", existing)
    staging = _staging(workspace)
    try:
        media = staging / ("source" + path.suffix.lower())
        copied = copy_hashed(path, media)  # a copy: later edits of the original cannot touch it
        failure, duration = "", 0.0
        try:  # the copy, which is what is cut
            duration = measure_audio(media, ffmpeg, workspace.config.vad.sample_rate)
        except MediaError as exc:
            failure = str(exc)
        if copied != sha or _version(path) != before:  # written to all along: not the file it will be
            failure = CHANGED
        if failure:
            return PullResult(item, "failed", reason=failure)
        subtitles = []
        for sub, lang in _sidecar_subtitles(path):
            target = staging / f"source.{lang}{sub.suffix.lower()}"
            shutil.copyfile(sub, target)
            subtitles.append(target.name)
        subtitles += [p.name for p in extract_embedded_subtitles(ffmpeg, media, staging)]
        origin = str(path.resolve())
        info = {"origin": origin, "file_name": path.name, "size": path.stat().st_size, "sha256": sha}
        (staging / "info.json").write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
        raw = f"raw/{source_id}"
        source = Source(
            source_id=source_id,
            kind="file",
            origin=origin,
            media=f"{raw}/{media.name}",
            duration=round(duration, 3),
            sha256=sha,
            added_at=now_iso(),
            title=path.stem,
            licence=licence,
            subtitles=";".join(f"{raw}/{name}" for name in subtitles),
        )
        return _commit(workspace, item, staging, source)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def pull(
    workspace: Workspace,
    items: Iterable[str],
    from_file: Path | None = None,
    licence: str = "",
    ffmpeg: str | None = None,
    workers: int = 2,
    on_result: Callable[[PullResult], None] | None = None,
    timeout: float | None = None,
) -> list[PullResult]:
    """Pull every item (URL, file or folder); a bad item fails alone with its reason, and
    so does a URL not pulled within `timeout` seconds (default: [pull] url_timeout_s)."""
    expanded = expand_items(items, from_file, own_folders(workspace))
    if not expanded:
        raise AccentdsError("nothing to pull: give URLs, files or folders (or --from-file LIST)")
    if timeout is not None and not timeout > 0:
        raise AccentdsError(f"the deadline per URL must be more than 0 seconds (got {timeout:g})")
    deadline = timeout or workspace.config.pull.url_timeout_s
    binary = find_ffmpeg(ffmpeg or workspace.config.ffmpeg)
    workspace.ensure_layout()
    refresh_manifest(workspace)
    _remove_dead_staging(workspace)
    stop = threading.Event()

    def one(item: str) -> list[PullResult]:
        if stop.is_set():
            return []
        try:
            if is_url(item):
                from .pull_url import pull_url_with_deadline  # it imports this module

                url = normalise_url(item)  # the source's address; the results name it as typed
                results = pull_url_with_deadline(workspace, url, binary, licence, deadline, stop)
                return [replace(r, item=item) if r.item == url else r for r in results]
            return [pull_file(workspace, item, binary, licence)]
        except OSError as exc:
            return [PullResult(item, "failed", reason=os_failure(exc))]

    results: list[PullResult] = []
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        for batch in pool.map(one, expanded):
            for result in batch:
                results.append(result)
                if on_result:
                    on_result(result)
    except BaseException:  # Ctrl-C: the URLs being pulled stop, their half-pulled files go
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results

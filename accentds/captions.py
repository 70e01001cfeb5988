"""Draft transcripts for clips from a source's subtitles.

Subtitles come from yt-dlp (manual subtitles and automatic captions, `source.<lang>.vtt`),
from files beside a pulled media file (`source.<lang>.srt`, `source.und.vtt`, ...) or from a
text subtitle track inside the media (`extract_embedded_subtitles`). One file is chosen per
source (`pick_subtitles`), parsed (`parse_subtitles`), cleaned of the repeats of YouTube-style
rolling auto-captions (`clean_rolling`), and each clip gets the text of the cues it holds
(`draft_for_span`, `drafts_for_clips`). Drafts are for a reviewer to correct, never labels."""

from __future__ import annotations

import html
import os
import re
import subprocess
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

from .errors import AccentdsError
from .procs import dies_with_us

MANUAL = "manual"
AUTO = "auto"
ENGLISH = frozenset(["en", "eng"])
UNDETERMINED = frozenset(["", "und"])
IMAGE_SUBTITLE_CODECS = frozenset(["dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle", "xsub"])

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d+))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?>")
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_STREAM = re.compile(r"^\s*Stream #0:(\d+)(\S*?):\s+Subtitle:\s+(\w+)", re.MULTILINE)
_EPS = 1e-6


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: text shown from `start` to `end` (seconds); lines joined by "\\n"."""

    start: float
    end: float
    text: str


# -- parsing -----------------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AccentdsError(f"cannot read subtitle file {path}: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _seconds(hours: str | None, minutes: str, secs: str, fraction: str | None) -> float:
    whole = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
    scale = 10 ** len(fraction or "")
    return (whole * scale + int(fraction or 0)) / scale  # 11.36 exactly as the float 11.36


def clean_text(text: str) -> str:
    """Cue text without tags (`<c>`, `<i>`, `<v Name>`, `<00:00:01.234>`, `{\\an8}`) and
    entities, each line's whitespace collapsed, empty lines dropped."""
    lines = []
    for line in text.split("\n"):
        line = _ASS_OVERRIDE.sub("", _TAG.sub("", line))
        line = _INVISIBLE.sub("", html.unescape(line))
        line = _SPACES.sub(" ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def parse_subtitles(path: Path) -> list[Cue]:
    """The cues of a WebVTT or SRT file, told apart by content (not extension), in time order.

    Handles a BOM, CRLF, UTF-16 and cp1252 files, `HH:MM:SS.mmm` and `MM:SS.mmm` times with a
    dot or comma, cue settings after the times, NOTE/STYLE/REGION blocks, cue identifiers and
    multi-line cues. Cues left without text after `clean_text` are dropped, and so are cues
    ending before they start. Raises AccentdsError for a file that is neither format."""
    text = _read_text(path).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    vtt = first.startswith("WEBVTT")
    if not vtt and not any(_TIMING.match(line) for line in lines):
        raise AccentdsError(
            f"{path} is not a WebVTT or SRT subtitle file (no WEBVTT header and no `start --> end` cue times)"
        )
    cues: list[Cue] = []
    current: list[Any] | None = None  # [start, end, raw text lines]

    def finish() -> None:
        if current is not None and current[1] >= current[0]:
            body = clean_text("\n".join(current[2]))
            if body:
                cues.append(Cue(current[0], current[1], body))

    for line in lines:
        timing = _TIMING.match(line)
        if timing:
            if current is not None:  # a cue not ended by a blank line: drop the next one's id
                body = current[2]
                if body and (
                    (not vtt and body[-1].strip().isdigit())
                    or (vtt and len(body) >= 2 and not body[-2].strip())
                ):
                    body.pop()
                finish()
            groups = timing.groups()
            current = [_seconds(*groups[:4]), _seconds(*groups[4:]), []]
        elif line == "" or (not vtt and not line.strip()):
            # in WebVTT only an empty line ends a cue: YouTube cues hold lines of one space
            finish()
            current = None
        elif current is not None:
            current[2].append(line)
        # other lines outside cues: header, NOTE/STYLE/REGION blocks, identifiers
    finish()
    return sorted(cues, key=lambda c: c.start)


# -- rolling auto-captions ------------------------------------------------------------------------------
def _overlap(before: list[str], after: list[str]) -> tuple[int, bool]:
    """How many lines at the top of `after` repeat the bottom of `before`: (count, grown),
    where `grown` means the last of them extends the bottom line of `before` with more words."""
    for k in range(min(len(before), len(after)), 0, -1):
        if before[-k:-1] != after[: k - 1]:
            continue
        if after[k - 1] == before[-1]:
            return k, False
        if after[k - 1].startswith(before[-1] + " "):
            return k, True
    return 0, False


def looks_rolling(cues: list[Cue]) -> bool:
    """Whether the cues look like rolling auto-captions: most cues start with the line(s)
    the cue before them ended with (YouTube's two-line roll, its 10 ms echo cues, roll-up
    TV captions, or a line growing word by word)."""
    if len(cues) < 3:
        return False
    rolls = sum(_overlap(a.text.split("\n"), b.text.split("\n"))[0] > 0 for a, b in pairwise(cues))
    return rolls >= 2 and 2 * rolls > len(cues) - 1


def clean_rolling(cues: list[Cue]) -> list[Cue]:
    """Rolling auto-captions with every spoken line once.

    A line keeps the timing of the cue in which it first appeared (it is being spoken
    then); cues that only repeat lines already shown (echo cues) vanish; a line that grows
    word by word is kept once, in full, from its first appearance to the end of its last
    growth. Cues that do not look rolling (`looks_rolling`) are returned unchanged."""
    if not looks_rolling(cues):
        return list(cues)
    out: list[Cue] = []
    before: list[str] = []
    for cue in cues:
        if not cue.text.strip():
            continue
        lines = cue.text.split("\n")
        shared, grown = _overlap(before, lines)
        if grown:  # the bottom line of `before` is always the last line put out: it grew
            last = out[-1]
            head = last.text.split("\n")[:-1]
            out[-1] = Cue(last.start, max(last.end, cue.end), "\n".join([*head, lines[shared - 1]]))
        new = lines[shared:]
        if new:
            out.append(Cue(cue.start, cue.end, "\n".join(new)))
        before = lines
    return out


# -- clip drafts ----------------------------------------------------------------------------------------
def _overlap_s(cue: Cue, start: float, end: float) -> float:
    return max(0.0, min(end, cue.end) - max(start, cue.start))


def _belongs(cue: Cue, start: float, end: float) -> bool:
    """A cue belongs to [start, end) when at least half of it lies inside (an exact half
    goes to the span holding the cue's start), or it covers at least half of the span."""
    if end <= start:
        return False
    duration = cue.end - cue.start
    if duration <= _EPS:
        return start <= cue.start < end
    inside = _overlap_s(cue, start, end)
    if inside <= 0:
        return False
    if 2 * inside > duration + _EPS:
        return True
    if abs(2 * inside - duration) <= _EPS and start <= cue.start:
        return True
    return 2 * inside >= (end - start) - _EPS


def _join(cues: list[Cue]) -> str:
    return " ".join(" ".join(c.text for c in cues).split())


def draft_for_span(cues: list[Cue], start: float, end: float) -> str:
    """The text of the cues belonging to [start, end), in order, joined with single spaces.

    A cue belongs to the span when at least half of the cue lies inside it, or it covers
    at least half of the span; a cue straddling two clips goes to the one holding most of
    it (an exact half to the earlier one). An empty span gives ""."""
    return _join([c for c in cues if _belongs(c, start, end)])


# -- choosing a file ------------------------------------------------------------------------------------
def subtitle_language(path: Path) -> str:
    """The language key in a subtitle file name: `en-GB` in `source.en-GB.vtt`, `eng` in
    `source.eng.track2.srt`; "und" when the name holds none."""
    parts = path.name.split(".")
    return parts[1] if len(parts) >= 3 and parts[1] else "und"


def _base_language(lang: str) -> str:
    return re.split(r"[-_]", lang.lower(), maxsplit=1)[0]


def _listed(subtitles_field: str) -> list[str]:
    return [part.strip() for part in subtitles_field.split(";") if part.strip()]


def _is_automatic(lang: str, info: dict[str, Any] | None) -> bool:
    if not info:
        return False
    automatic = info.get("automatic_captions") or {}
    manual = info.get("subtitles") or {}
    return lang in automatic and lang not in manual


def _candidates(
    workspace_root: Path, subtitles_field: str, info: dict[str, Any] | None
) -> list[tuple[Path, str, list[Cue]]]:
    """Every listed subtitle file that parses to cues, with its kind, best first."""
    ranked = []
    for rel in dict.fromkeys(_listed(subtitles_field)):
        path = workspace_root / rel
        try:
            cues = parse_subtitles(path)
        except AccentdsError:
            continue
        if not cues:
            continue
        lang = subtitle_language(path)
        base = _base_language(lang)
        kind = AUTO if _is_automatic(lang, info) or looks_rolling(cues) else MANUAL
        other_language = base not in ENGLISH and lang.lower() not in UNDETERMINED
        key = (other_language, kind == AUTO, base not in ENGLISH, lang.lower() != base, path.name)
        ranked.append((key, path, kind, cues))
    ranked.sort(key=lambda item: item[0])
    return [(path, kind, cues) for _, path, kind, cues in ranked]


def pick_subtitles(
    workspace_root: Path, subtitles_field: str, info: dict[str, Any] | None
) -> tuple[Path, str] | None:
    """The subtitle file to draft from, and whether it is "manual" or "auto"; None if none.

    `subtitles_field` is the `subtitles` column of sources.csv (";"-separated paths relative
    to the workspace); `info` is the source's raw/<id>/info.json, if any. A file is "auto"
    when its language key is only among info's `automatic_captions`, or its cues look like
    rolling auto-captions; `und` (a sidecar file of unknown language) counts as manual.
    Order: manual English, manual `und`, auto English, auto `und`, then other languages
    (manual before auto); ties go to the plain language code (`en` before `en-GB`, `en-orig`),
    then to the first file name in sorted order, whatever the order of the field. Files that are missing or do not
    parse as WebVTT/SRT, or hold no cues, are passed over."""
    candidates = _candidates(workspace_root, subtitles_field, info)
    return (candidates[0][0], candidates[0][1]) if candidates else None


def drafts_for_clips(
    workspace_root: Path,
    subtitles_field: str,
    info: dict[str, Any] | None,
    spans: list[tuple[str, float, float]],
) -> dict[str, tuple[str, str]]:
    """Draft transcripts for a source's clips: clip_id -> (text, "manual" | "auto").

    `spans` are (clip_id, start, end) in source seconds. The file is chosen by
    `pick_subtitles`; rolling auto-captions are cleaned first (`clean_rolling`). Each clip
    gets the cues `draft_for_span` gives it; a cue that belongs to no clip by that rule but
    overlaps some clips goes to the one it overlaps most, so no spoken text is lost between
    clips. Clips left without text are not in the result."""
    candidates = _candidates(workspace_root, subtitles_field, info)
    if not candidates or not spans:
        return {}
    _, kind, cues = candidates[0]
    cues = clean_rolling(cues)
    order = sorted(range(len(spans)), key=lambda i: spans[i][1])
    starts = [spans[i][1] for i in order]
    reach = list(accumulate((spans[i][2] for i in order), max))  # the latest end so far
    chosen: dict[int, list[int]] = {i: [] for i in range(len(spans))}
    for c, cue in enumerate(cues):
        j = bisect_right(starts, max(cue.start, cue.end))
        near = []  # the spans starting before the cue ends and ending after it starts
        while j > 0 and reach[j - 1] > cue.start:
            j -= 1
            near.append(order[j])
        near.sort()
        homes = [i for i in near if _belongs(cue, spans[i][1], spans[i][2])]
        if not homes and near:
            best, i = max((_overlap_s(cue, spans[i][1], spans[i][2]), -i) for i in near)
            homes = [-i] if best > 0 else []
        for i in homes:
            chosen[i].append(c)
    drafts = {}
    for i, (cid, _, _) in enumerate(spans):
        text = _join([cues[c] for c in chosen[i]])
        if text:
            drafts[cid] = (text, kind)
    return drafts


# -- subtitles inside the media -------------------------------------------------------------------------
def _subtitle_streams(listing: str) -> list[tuple[int, str, str]]:
    """(stream index, language or "und", codec) of each subtitle stream in `ffmpeg -i` output."""
    streams = []
    for match in _STREAM.finditer(listing):
        lang = re.search(r"\(([^)]*)\)", match.group(2))
        clean = re.sub(r"[^A-Za-z0-9-]", "", lang.group(1)) if lang else ""
        streams.append((int(match.group(1)), clean or "und", match.group(3)))
    return streams


def extract_embedded_subtitles(ffmpeg: str, media: Path, out_dir: Path) -> list[Path]:
    """Write each text subtitle track of `media` as `out_dir/source.<lang>.srt`; return them.

    The language is the track's tag as ffmpeg reports it (`eng`, ...; `und` without one); a
    second track of a language, or a name already taken in `out_dir` (a sidecar file), gets
    `source.<lang>.track<N>.srt` (N = ffmpeg's stream index). Image subtitles (DVD, Blu-ray,
    DVB bitmaps) are skipped, and so is a track that ffmpeg cannot convert or that converts to
    no cues. A file without subtitle tracks, or not readable as media, gives []. Each file is
    written under a temporary name first, so a kill leaves no half-written `source.*.srt`."""
    try:
        probe = subprocess.run(
            [ffmpeg, "-nostdin", "-hide_banner", "-i", str(media)],
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            preexec_fn=dies_with_us(),
        )
    except subprocess.TimeoutExpired:
        return []
    streams = _subtitle_streams(probe.stderr.decode("utf-8", errors="replace"))
    written: list[Path] = []
    for index, lang, codec in streams:
        if codec in IMAGE_SUBTITLE_CODECS:
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"source.{lang}.srt"
        if target.exists() or target in written:
            target = out_dir / f"source.{lang}.track{index}.srt"
        part = out_dir / f".{target.name}.part{os.getpid()}"
        try:
            done = subprocess.run(
                [ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(media),
                 "-map", f"0:{index}", "-c:s", "srt", "-f", "srt", str(part)],
                capture_output=True,
                timeout=600,
                stdin=subprocess.DEVNULL,
                preexec_fn=dies_with_us(),
            )  # fmt: skip
            if done.returncode != 0 or not part.is_file() or not parse_subtitles(part):
                continue
            os.replace(part, target)
            written.append(target)
        except (subprocess.TimeoutExpired, AccentdsError):
            continue
        finally:
            part.unlink(missing_ok=True)
    return written

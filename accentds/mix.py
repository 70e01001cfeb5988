"""How a file's audio becomes the one mono timeline every decode shares: from where it starts,
and from which channels."""

from __future__ import annotations

import re
import shlex
import struct
import subprocess
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .procs import dies_with_us

_START = re.compile(r"^\s*Duration: [^,\n]*, start: (-?\d+(?:\.\d+)?)", re.MULTILINE)
_AUDIO = re.compile(r"^\s*Stream #\d+:(\d+)\S*: Audio: (.*)$", re.MULTILINE)
_DURATION = re.compile(r"^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", re.MULTILINE)
_STREAM_START = re.compile(r", start (-?\d+(?:\.\d+)?)")
LATE_AUDIO_S = 0.1  # an audio stream starting later than this after the file is led by silence


@dataclass(frozen=True)
class Decoding:
    """Which audio of a file every decode takes, so that they all hear the same timeline.

    `stream`: the audio stream a player plays (the first marked default, else the first), as
    its number among the audio streams; `start_s`: the file's start time (ffmpeg's `start:`,
    from which `-ss` counts) where that stream starts more than LATE_AUDIO_S later (a video
    whose sound begins after its picture), else None; `lead_s`: how much later than that the
    stream starts (the silence that leads it); `mix`: see `mono_mix`; `demuxer`: options
    the file is read with (`-ignore_length` for a WAV whose samples run past the length its
    header gives, see `wav_runs_on`); `streams`: how many audio streams the file holds (the
    others are not cut)."""

    stream: int = 0
    start_s: float | None = None
    mix: str = ""
    lead_s: float = 0.0
    demuxer: tuple[str, ...] = ()  # options of the file's `-i`
    streams: int = 1  # audio streams in the file


def decoding(path: Path, ffmpeg: str) -> Decoding:
    """How to decode `path`: its played audio stream, from where, through which mix. Found
    once per file as it is on disk (the review page and hand re-cuts ask for every excerpt)."""
    try:
        seen = path.stat()
    except OSError:
        return _decoding(path, ffmpeg, None)
    return _decoding(path, ffmpeg, (seen.st_size, seen.st_mtime_ns, seen.st_ino))


def audio_streams(said: str) -> list[str]:
    """The audio streams ffmpeg's banner (`said`) lists, each as described, in file order (as
    `a:N` counts them); a stream listed twice (under each MPEG-TS program) counts once."""
    streams: dict[int, str] = {}
    for match in _AUDIO.finditer(said):
        streams.setdefault(int(match.group(1)), match.group(2))
    return [streams[index] for index in sorted(streams)]


def said_duration(said: str) -> float | None:
    """The `Duration:` ffmpeg's banner (`said`) gives, in seconds; None where it gives none."""
    match = _DURATION.search(said)
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3]) if match else None


@lru_cache(maxsize=256)
def _decoding(path: Path, ffmpeg: str, version: tuple[int, int, int] | None) -> Decoding:
    """`decoding` of `path` as it was when `version` (size, mtime, inode) was read."""
    command = [ffmpeg, "-nostdin", "-hide_banner", "-i", "file:" + str(path.absolute())]
    said = ""
    with suppress(OSError, subprocess.TimeoutExpired):
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=dies_with_us()
        )
        said = done.stderr.decode("utf-8", "replace")
    described = audio_streams(said)
    stream = next((n for n, text in enumerate(described) if "(default)" in text), 0)
    start_s = None
    lead_s = 0.0
    file_start = _START.search(said)
    ours = _STREAM_START.search(described[stream]) if described else None
    if file_start and ours and float(ours.group(1)) - float(file_start.group(1)) > LATE_AUDIO_S:
        start_s = float(file_start.group(1))
        lead_s = float(ours.group(1)) - start_s
    demuxer = ("-ignore_length", "1") if wav_runs_on(path) else ()
    mix = mono_mix(path, ffmpeg, stream, demuxer=demuxer, duration_s=said_duration(said) or 0.0)
    return Decoding(stream, start_s, mix, lead_s, demuxer, max(1, len(described)))


def other_streams_note(how: Decoding, media: Path) -> str:
    """What a file of several audio streams (languages, commentary, each microphone of a
    recorder or of OBS) tells the user: which one was cut, and how to cut another."""
    if how.streams < 2:
        return ""
    other = 1 if how.stream == 0 else 0
    return (
        f"it holds {how.streams} audio streams: cut stream {how.stream + 1}, the one players play; "
        f"to cut another, take it out (`ffmpeg -i {shlex.quote(str(media.absolute()))} -map 0:a:{other} -c copy stream{other + 1}.mka`) "
        "and pull that"
    )


def wav_data(path: Path) -> tuple[int, int, int] | None:
    """Where a RIFF/WAVE file's `data` chunk starts, the size its header gives it and the
    `fmt ` byte rate (0 where no `fmt ` came before it); None for other files."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = 0
            for _ in range(64):  # chunks before `data`: fmt, LIST, fact, ...
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"fmt ":
                    fmt = f.read(size + size % 2)
                    byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) >= 12 else 0
                elif name == b"data":
                    return f.tell(), size, byte_rate
                else:
                    f.seek(size + size % 2, 1)
    except OSError:
        return None
    return None


_CHUNK_NAME = re.compile(rb"[A-Za-z0-9 _-]{4}")


def wav_runs_on(path: Path) -> bool:
    """Whether a WAV file's samples run on past the size its header gives its `data` chunk
    (a recorder that stopped updating its header, a WAV over 4 GiB whose size wrapped round):
    more bytes follow it that are no further chunk. ffmpeg stops at that size."""
    found = wav_data(path)
    if found is None or found[1] in (0, 0xFFFFFFFF):  # left open: ffmpeg reads to the end
        return False
    start, size, _ = found
    end = start + size + size % 2
    try:
        total = path.stat().st_size
        with open(path, "rb") as f:
            f.seek(end)
            after = f.read(8)
    except OSError:
        return False
    if total - end < 1024:  # a byte or two of padding, a small trailing chunk cut short
        return False
    if len(after) == 8 and _CHUNK_NAME.fullmatch(after[:4]):
        return end + 8 + struct.unpack("<I", after[4:])[0] > total  # a chunk too long: samples
    return True


CANCEL_DB = 20.0  # the side (L - R) this much louder than the mid (L + R): channels that cancel
FIRST_CHANNEL = "pan=mono|c0=c0,"
DC_LEVEL = 0.01  # a mean sample beyond this share of full scale: a DC offset, removed
NO_DC = "highpass=f=20,"  # below the lowest voice (~70 Hz); a bare DC step makes every clip click


PROBE_WINDOWS = 8  # of WINDOW_S seconds each, spread over what follows the first probe_s seconds
WINDOW_S = 10.0


def mono_mix(
    path: Path,
    ffmpeg: str,
    stream: int = 0,
    probe_s: float = 60.0,
    demuxer: tuple[str, ...] = (),
    duration_s: float = 0.0,
) -> str:
    """The filters to put before the mix to mono, judged on the first `probe_s` seconds and, of
    a file of `duration_s` seconds that is longer, PROBE_WINDOWS stretches spread over the rest
    (a recorder left running in silence before the talk): FIRST_CHANNEL where the two channels
    of a stereo stream cancel in their sum (one a phase-inverted copy of the other, a wiring
    mistake that leaves a mono mix silent), NO_DC where the audio sits off zero (a faulty sound
    card or preamp), else ""."""
    windows = [(0.0, probe_s)]
    if duration_s > probe_s + WINDOW_S:
        step = (duration_s - probe_s) / PROBE_WINDOWS
        windows += [(probe_s + step * (k + 0.5) - WINDOW_S / 2, WINDOW_S) for k in range(PROBE_WINDOWS)]
    inputs: list[str] = []
    for at, length in windows:
        inputs += ["-ss", f"{at:.3f}", "-t", f"{length:g}", *demuxer, "-i", "file:" + str(path.absolute())]
    graph = (
        "".join(
            f"[{k}:a:{stream}]aresample=8000,aformat=sample_fmts=s16:channel_layouts=stereo[w{k}];"
            for k in range(len(windows))
        )
        + "".join(f"[w{k}]" for k in range(len(windows)))
        + f"concat=n={len(windows)}:v=0:a=1[out]"
    )
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", *inputs, "-filter_complex", graph,
        "-map", "[out]", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=dies_with_us()
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    pairs = (
        np.frombuffer(done.stdout[: len(done.stdout) // 4 * 4], dtype="<i2").reshape(-1, 2).astype(np.float64)
    )
    if not len(pairs):
        return ""
    mid = float(np.mean((pairs[:, 0] + pairs[:, 1]) ** 2))
    side = float(np.mean((pairs[:, 0] - pairs[:, 1]) ** 2))
    audible = side > 4 * (32768 * 10 ** (-60 / 20)) ** 2  # louder than -60 dBFS
    channel = FIRST_CHANNEL if audible and side > mid * 10 ** (CANCEL_DB / 10) else ""
    heard = pairs[:, 0] if channel else pairs.mean(axis=1)
    return (NO_DC if abs(float(heard.mean())) > DC_LEVEL * 32768 else "") + channel

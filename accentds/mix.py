"""How a file's audio becomes the one mono timeline every decode shares: from where it starts,
and from which channels."""

from __future__ import annotations

import re
import subprocess
from contextlib import suppress
from pathlib import Path

import numpy as np

from .procs import dies_with_us

_START = re.compile(r"^\s*Duration: [^,\n]*, start: (-?\d+(?:\.\d+)?)", re.MULTILINE)
_AUDIO_START = re.compile(r"^\s*Stream #\d+:\d+\S*: Audio: .*, start (-?\d+(?:\.\d+)?)", re.MULTILINE)
LATE_AUDIO_S = 0.1  # an audio stream starting later than this after the file is led by silence


def late_audio_start(path: Path, ffmpeg: str) -> float | None:
    """The file's start time (ffmpeg's `start:`, from which `-ss` counts) where its first audio
    stream starts more than LATE_AUDIO_S later (`-itsoffset`, a video whose sound begins after
    its picture); None for every other file, whose audio starts with it (encoder delays of a few
    ms aside, which the decoders handle)."""
    command = [ffmpeg, "-nostdin", "-hide_banner", "-i", "file:" + str(path.absolute())]
    with suppress(OSError, subprocess.TimeoutExpired):
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=dies_with_us()
        )
        said = done.stderr.decode("utf-8", "replace")
        start, audio = _START.search(said), _AUDIO_START.search(said)
        if start and audio and float(audio.group(1)) - float(start.group(1)) > LATE_AUDIO_S:
            return float(start.group(1))
    return None


CANCEL_DB = 20.0  # the side (L - R) this much louder than the mid (L + R): channels that cancel
FIRST_CHANNEL = "pan=mono|c0=c0,"


def mono_mix(path: Path, ffmpeg: str, probe_s: float = 60.0) -> str:
    """The filter to put before the mix to mono: FIRST_CHANNEL where the two channels of a
    stereo stream cancel in their sum (one a phase-inverted copy of the other, a wiring
    mistake that leaves a mono mix silent; judged on its first `probe_s` seconds), else ""."""
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-t", f"{probe_s:g}",
        "-i", "file:" + str(path.absolute()), "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-ac", "2", "-ar", "8000", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
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
    return FIRST_CHANNEL if audible and side > mid * 10 ** (CANCEL_DB / 10) else ""

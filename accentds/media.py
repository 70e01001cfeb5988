"""ffmpeg at the edge: find it, stream any media file as mono 16-bit PCM, write WAV clips."""

from __future__ import annotations

import fcntl
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import AccentdsError

PIPE_SIZE = 1 << 20
QUEUE_CHUNKS = 16  # chunks decoded ahead of the consumer: 7.5 MB, 4 min of audio, in a cut
BYTES_PER_SAMPLE = 2
_TRUNCATED = re.compile(
    r"ended prematurely|partial file|truncat|Invalid data found|Error submitting packet"
    r"|corrupt|Input buffer exhausted",
    re.IGNORECASE,
)
_NO_AUDIO = re.compile(r"matches no streams|for option 'map'|does not contain any stream", re.I)


class MediaError(AccentdsError):
    """A media file that cannot be used, with the reason in one line."""


def find_ffmpeg(explicit: str | None = None) -> str:
    """The ffmpeg to use: `explicit`, else ffmpeg on PATH, else the imageio-ffmpeg binary."""
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise AccentdsError(f"ffmpeg not found at {explicit!r}: fix --ffmpeg or [audio] ffmpeg")
        return found
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a dependency of accentds
        raise AccentdsError("no ffmpeg: install ffmpeg or `pip install imageio-ffmpeg`") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def decode_command(ffmpeg: str, path: Path, rate: int) -> list[str]:
    """ffmpeg arguments that decode the first audio stream of `path` to mono s16le on stdout.

    `-flush_packets 0` lets ffmpeg fill its buffer before writing: on a pipe it otherwise
    writes every packet (~700 bytes) with its own system call."""
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-i", str(path),
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(rate),
        "-f", "s16le", "-acodec", "pcm_s16le", "-flush_packets", "0", "pipe:1",
    ]  # fmt: skip


def _reason(path: Path, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if _NO_AUDIO.search(stderr):
        return "no audio stream"
    if "Error opening input" in stderr or "moov atom not found" in stderr:
        return "not a readable media file (corrupt, truncated or not audio/video)"
    if _TRUNCATED.search(stderr):
        first = next((line for line in lines if _TRUNCATED.search(line)), lines[0])
        return f"damaged or truncated media ({_strip_ffmpeg_prefix(first)})"
    return "ffmpeg failed: " + (_strip_ffmpeg_prefix(lines[-1]) if lines else "no message")


def _strip_ffmpeg_prefix(line: str) -> str:
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", line)


@contextmanager
def pcm_stream(
    path: Path, ffmpeg: str, rate: int = 16000, chunk_bytes: int = 1 << 18
) -> Iterator[Iterator[bytes]]:
    """Decode `path` and yield an iterator of PCM chunks (mono s16le at `rate`).

    Every chunk but the last is exactly `chunk_bytes` long. Problems found by ffmpeg
    (no audio stream, corrupt or truncated data) raise MediaError when the stream ends."""
    if not path.is_file():
        raise MediaError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise MediaError("empty file (0 bytes)")
    proc = subprocess.Popen(
        decode_command(ffmpeg, path, rate),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        process_group=0,  # Ctrl-C is for accentds to handle: it stops ffmpeg itself
    )
    assert proc.stdout is not None and proc.stderr is not None
    with suppress(OSError):  # a larger pipe keeps ffmpeg running while clips are written
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()

    # A reader thread keeps the pipe drained, so ffmpeg decodes while this process works.
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()

    def reader() -> None:
        read = proc.stdout.read
        try:
            while not stop.is_set():
                data = read(chunk_bytes)
                if not data:
                    break
                ready.put(data)
        except (OSError, ValueError):
            pass
        finally:
            ready.put(None)

    pump = threading.Thread(target=reader, daemon=True)
    pump.start()

    def chunks() -> Iterator[bytes]:
        while (data := ready.get()) is not None:
            yield data

    finished = False
    try:
        yield chunks()
        finished = True
    finally:
        if not finished:
            stop.set()
            proc.kill()
            while pump.is_alive():  # unblock a reader waiting on a full queue
                with suppress(queue.Empty):
                    ready.get(timeout=0.05)
        pump.join()
        proc.stdout.close()
        code = proc.wait()
        drain.join()
        proc.stderr.close()
    stderr = b"".join(errors).decode("utf-8", "replace")
    if code != 0 or _TRUNCATED.search(stderr) or _NO_AUDIO.search(stderr):
        raise MediaError(_reason(path, stderr))


def measure_audio(path: Path, ffmpeg: str, rate: int = 16000) -> float:
    """Duration in seconds of the audio ffmpeg decodes from `path` (a full decode)."""
    total = 0
    with pcm_stream(path, ffmpeg, rate, chunk_bytes=1 << 20) as chunks:
        for chunk in chunks:
            total += len(chunk)
    if total == 0:
        raise MediaError("no audio decoded (the audio stream is empty)")
    return total / BYTES_PER_SAMPLE / rate


def wav_header(size: int, rate: int) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV file holding `size` bytes of samples."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, 1, 1, rate, rate * BYTES_PER_SAMPLE,
        BYTES_PER_SAMPLE, 16, b"data", size,
    )  # fmt: skip


def write_wav(path: Path, pcm: bytes | bytearray | memoryview, rate: int) -> float:
    """Write mono 16-bit PCM as a WAV file and return its duration, measured from the written
    file's size. A half-written file never has the final name."""
    header = wav_header(len(pcm), rate)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as out:
        out.write(header)
        out.write(pcm)
    data = os.stat(part).st_size - len(header)
    os.replace(part, path)
    return data / BYTES_PER_SAMPLE / rate

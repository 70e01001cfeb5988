"""ffmpeg at the edge: find it, stream any media file as mono 16-bit PCM, write WAV clips."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import AccentdsError
from .mix import Decoding, audio_streams, decoding, said_duration, wav_data, wav_runs_on
from .procs import SocketProcess, dies_with_us

QUEUE_BYTES = 4 << 20  # decoded ahead of the consumer (at least two chunks): 2 min of audio
BYTES_PER_SAMPLE = 2
_TRUNCATED = re.compile(
    r"ended prematurely|partial file|truncat|Invalid data found|Error submitting packet"
    r"|corrupt|Input buffer exhausted",
    re.IGNORECASE,
)
_CUT_OFF = re.compile(r"ended prematurely|partial file|truncat", re.IGNORECASE)  # the file's end is lost
_OPTION_SPECIAL = "\\':"
_GRAPH_SPECIAL = "\\'[],;"
_NO_AUDIO = re.compile(r"matches no streams|for option 'map'|does not contain any stream", re.I)


class MediaError(AccentdsError):
    """A media file that cannot be used (whole, or past `decoded_s` seconds that did decode),
    with the reason in one line."""

    def __init__(self, message: str, decoded_s: float = 0.0, went_on: bool = False) -> None:
        super().__init__(message)
        self.decoded_s = decoded_s
        self.went_on = went_on  # the decode went on past the damage


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


def _escape(text: str, special: str) -> str:
    """`text` with a backslash before each character of `special` (ffmpeg's filter graph
    syntax has two levels: option values, then the graph)."""
    return "".join("\\" + c if c in special else c for c in text)


def decode_command(
    ffmpeg: str,
    path: Path,
    rate: int,
    output: str = "pipe:1",
    container: str = "s16le",
    how: Decoding | None = None,
) -> list[str]:
    """ffmpeg arguments that decode an audio stream of `path` to mono 16-bit PCM.

    `how` (see `decoding`; default: the first audio stream, as it is) names the stream and puts
    the PCM on the file's timeline, as a player and `excerpt_command` (`-ss`) see it: an audio
    stream that starts later than the video is led by silence, not moved earlier.

    The file is read by an `amovie` source inside one filter graph, which hands on frames
    of ten seconds: with `-i`, ffmpeg 7 and later pass every ~1,000-sample frame between
    their demuxer, decoder, filter, encoder and muxer threads, which costs three times the
    CPU of the decode itself (two thirds of it in futex calls). The PCM is the same, byte
    for byte. One-second frames still made ~21,000 context switches per hour of audio and
    cost 0.2 CPU-s more than ten-second ones (2,100); 30 s frames were slower again.
    `-flush_packets 0` lets ffmpeg fill its buffer before writing: on a pipe it otherwise
    writes every packet with its own system call."""
    source = "file:" + str(path.absolute())
    how = how or Decoding()
    if how.demuxer:  # options `amovie` cannot pass on in every ffmpeg: read through `-i`
        return [
            ffmpeg, "-nostdin", "-hide_banner", "-v", "error", *how.demuxer, "-i", source,
            "-map", f"0:a:{how.stream}", "-vn", "-sn", "-dn",
            "-af", f"{how.mix}aresample={rate},aformat=sample_fmts=s16:channel_layouts=mono",
            "-f", container, "-acodec", "pcm_s16le", "-flush_packets", "0", "-y", output,
        ]  # fmt: skip
    options = f"filename={_escape(source, _OPTION_SPECIAL)}:s={_escape(f'a:{how.stream}', _OPTION_SPECIAL)}"
    first = "" if how.start_s is None else f":first_pts={round(how.start_s * rate)}"
    mix = how.mix
    graph = (
        f"amovie={_escape(options, _GRAPH_SPECIAL)},{mix}aresample={rate}{first},"
        f"aformat=sample_fmts=s16:channel_layouts=mono,asetnsamples=n={rate * 10}:p=0"
    )
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-f", "lavfi", "-i", graph,
        "-f", container, "-acodec", "pcm_s16le", "-flush_packets", "0", "-y", output,
    ]  # fmt: skip


def excerpt_command(
    ffmpeg: str, path: Path, rate: int, start: float, length: float, how: Decoding | None = None
) -> list[str]:
    """ffmpeg arguments that decode `length` seconds of an audio stream of `path`
    from `start` (an accurate seek) to mono s16le on stdout; where the audio starts after
    `start`, silence leads up to it. `how` is `decoding(path)`, so that the excerpt is the
    audio `cut` heard (default: the first audio stream, as it is)."""
    how = how or Decoding()
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-ss", f"{start:.3f}",
        "-t", f"{length:.3f}", *how.demuxer, "-i", str(path), "-map", f"0:a:{how.stream}", "-vn", "-sn", "-dn",
        "-af", f"{how.mix}aresample=first_pts=0", "-ac", "1", "-ar", str(rate), "-f", "s16le",
        "-acodec", "pcm_s16le", "pipe:1",
    ]  # fmt: skip


def _reason(path: Path, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if _NO_AUDIO.search(stderr):
        return "no audio stream"
    if "moov atom not found" in stderr and _starts_as_mp4(path):
        return (
            "an MP4/MOV without its index (moov atom), which such a file keeps at its end: "
            "a truncated download? download it again"
        )
    if "Error opening input" in stderr:
        return "not a readable media file (corrupt, truncated or not audio/video)"
    if _TRUNCATED.search(stderr):
        first = next((line for line in lines if _TRUNCATED.search(line)), lines[0])
        return f"damaged or truncated media ({_strip_ffmpeg_prefix(first)})"
    return "ffmpeg failed: " + (_strip_ffmpeg_prefix(lines[-1]) if lines else "no message")


def _starts_as_mp4(path: Path) -> bool:
    """Whether the file begins as an MP4/MOV does (its `ftyp` box), whatever came after."""
    try:
        with path.open("rb") as f:
            return f.read(8)[4:8] == b"ftyp"
    except OSError:
        return False


def _strip_ffmpeg_prefix(line: str) -> str:
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", line)


def resampled_command(ffmpeg: str, path: Path, rate: int, how: Decoding) -> list[str]:
    """ffmpeg arguments that decode what `decode_command` does through `-i`, whose filter graph
    is built again where the audio changes its sample rate or channel layout mid-stream (two
    recordings joined into one file), and which decodes on past damaged packets, where `amovie`
    stops at both. Its PCM is `decode_command`'s without the silence that leads a late audio
    stream (`how.lead_s`)."""
    # a gap in the timestamps (packets lost to damage) is filled with silence, as it plays
    resample = f"aresample={rate}:min_comp=0.05:min_hard_comp=0.05"
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", *how.demuxer,
        "-i", "file:" + str(path.absolute()), "-map", f"0:a:{how.stream}", "-vn", "-sn", "-dn",
        "-af", f"{how.mix}{resample},aformat=sample_fmts=s16:channel_layouts=mono",
        "-f", "s16le", "-acodec", "pcm_s16le", "-flush_packets", "0", "-y", "pipe:1",
    ]  # fmt: skip


_FORMAT_CHANGE = re.compile(r"(Sample rate|Channel layout) change is not supported")


@contextmanager
def pcm_stream(
    path: Path,
    ffmpeg: str,
    rate: int = 16000,
    chunk_bytes: int = 1 << 18,
    first_bytes: int = 0,
    how: Decoding | None = None,
) -> Iterator[Iterator[bytes]]:
    """Decode `path` and yield an iterator of PCM chunks (mono s16le at `rate`; `how` is
    `decoding(path)`, found here when not given).

    Every chunk but the last is exactly `chunk_bytes` long; the first is `first_bytes` long
    when that is given, so that work on large chunks can start sooner. Audio that is damaged or
    changes its sample rate or channel layout mid-stream is decoded on through
    `resampled_command` from where `decode_command` stopped. Problems found by ffmpeg (no audio
    stream, corrupt or truncated data) raise MediaError when the stream ends."""
    if not path.is_file():
        raise MediaError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise MediaError("empty file (0 bytes)")
    how = how or decoding(path, ffmpeg)
    decoders = [SocketProcess(decode_command(ffmpeg, path, rate, how=how))]

    # A reader thread keeps the socket drained, so ffmpeg decodes while this process works.
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=max(2, QUEUE_BYTES // chunk_bytes))
    stop = threading.Event()

    received = [0]
    first = [0]  # bytes the first decoder gave, where a second one went on

    def switched(got: int) -> bool:
        """After the first decoder's end: where it stopped at damage or a change of format,
        go on with `resampled_command`, which decodes past both, its first `got` bytes (less
        the lead) skipped."""
        code, stderr = decoders[0].finish()
        stopped = code != 0 or _TRUNCATED.search(stderr) or _FORMAT_CHANGE.search(stderr)
        if len(decoders) > 1 or stop.is_set() or not stopped or _NO_AUDIO.search(stderr):
            return False
        decoders.append(SocketProcess(resampled_command(ffmpeg, path, rate, how)))
        if stop.is_set():  # the consumer stopped meanwhile
            decoders[-1].proc.kill()
        skip = max(0, got - round(how.lead_s * rate) * BYTES_PER_SAMPLE)
        while skip > 0 and (data := decoders[-1].sock.recv(min(skip, 1 << 20))):
            skip -= len(data)
        first[0] = got
        return True

    def reader() -> None:
        size = first_bytes or chunk_bytes
        data = b""
        try:
            while not stop.is_set():
                more = decoders[-1].sock.recv(size - len(data), socket.MSG_WAITALL)
                if more:  # a signal may cut the wait short
                    data += more
                    if len(data) < size:
                        continue
                elif not (len(decoders) == 1 and switched(received[0] + len(data))):
                    break  # the end
                if len(data) == size:
                    received[0] += len(data)
                    ready.put(data)
                    data, size = b"", chunk_bytes
            if data:
                received[0] += len(data)
                ready.put(data)
        except (OSError, ValueError):
            pass
        finally:
            if len(decoders) > 1:  # started by this thread: it may not outlive it (see procs)
                decoders[-1].finish()
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
            for decoder in list(decoders):
                decoder.proc.kill()
            while pump.is_alive():  # unblock a reader waiting on a full queue
                with suppress(queue.Empty):
                    ready.get(timeout=0.05)
        pump.join()
        results = [decoder.finish() for decoder in decoders]
    # where the second decoder gave nothing more, the first one's end is the file's; where it
    # went on, what stopped the first (damage, not a change of format) still tells of damage
    went_on = len(results) > 1 and received[0] > first[0]
    code, stderr = results[-1] if went_on else results[0]
    if went_on:
        stderr += "\n" + results[0][1]
        went_on = not _CUT_OFF.search(results[-1][1])  # past a damaged stretch, to the end
    if code != 0 and finished and not received[0]:  # it failed to open `path`
        stderr = _open_errors(ffmpeg, path) or stderr
    if code != 0 or _TRUNCATED.search(stderr) or _NO_AUDIO.search(stderr):
        decoded = 0.0 if _NO_AUDIO.search(stderr) else received[0] / BYTES_PER_SAMPLE / rate
        raise MediaError(_reason(path, stderr), decoded_s=decoded if finished else 0.0, went_on=went_on)


def _open_errors(ffmpeg: str, path: Path) -> str:
    """What ffmpeg says when it opens `path` with `-i`: the `amovie` source logs why it
    found no audio stream below the error level, and `-i` names it as an error."""
    command = [*excerpt_command(ffmpeg, path, 16000, 0.0, 0.01)[:-1], "-f", "null", "-"]
    with suppress(OSError, subprocess.TimeoutExpired):
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=dies_with_us()
        )
        return done.stderr.decode("utf-8", "replace")
    return ""


_ESTIMATED = "Estimating duration from bitrate"
_PICTURE = re.compile(r"^\s*Stream #.*: Video: (?!.*\(attached pic\)).*$", re.MULTILINE)


def header_duration(path: Path, ffmpeg: str) -> float | None:
    """The duration the file's header gives, None where it gives none: a WAV file's data chunk
    size (ffmpeg estimates a WAV's duration from the file's size, so a WAV cut short looks
    whole to it), else ffmpeg's `Duration:` where it is not an estimate."""
    declared = wav_declared_duration(path)
    if declared is not None:
        return declared
    command = [ffmpeg, "-nostdin", "-hide_banner", "-i", str(path)]
    try:
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=dies_with_us()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    said = done.stderr.decode("utf-8", "replace")
    duration = said_duration(said)
    several = len(audio_streams(said)) > 1
    if duration is None or _PICTURE.search(said) or several or _ESTIMATED in said:
        # a file's duration is its longest stream's: a video's often the picture's, that of a
        # file of several audio streams maybe another one than the one cut; an MP3 without a
        # frame count (a VBR one without its Xing header, MP3s joined) gets its size over its
        # first frame's bitrate, far too long where it starts with silence
        return None
    return duration


def wav_declared_duration(path: Path) -> float | None:
    """Seconds of audio a RIFF/WAVE file's `data` chunk says it holds (from its `fmt ` byte
    rate); None for other files, and where the size is left open (0 or 0xFFFFFFFF, as a
    writer that streams leaves it) or runs on past the header's (`wav_runs_on`)."""
    found = wav_data(path)
    if found is None or not found[2] or found[1] in (0, 0xFFFFFFFF) or wav_runs_on(path):
        return None
    return found[1] / found[2]


def measure_audio(path: Path, ffmpeg: str, rate: int = 16000) -> float:
    """Duration in seconds of the audio ffmpeg decodes from `path` (a full decode); of a
    damaged or truncated file, the part that decodes."""
    return audio_length(path, ffmpeg, rate)[0]


def audio_length(path: Path, ffmpeg: str, rate: int = 16000) -> tuple[float, str]:
    """`measure_audio`, and why the decode stopped early ("" where it did not): ffmpeg's
    reason for a damaged or truncated file whose start decodes."""
    total = 0
    damage = ""
    try:
        with pcm_stream(path, ffmpeg, rate, chunk_bytes=1 << 20) as chunks:
            for chunk in chunks:
                total += len(chunk)
    except MediaError as exc:
        if not exc.decoded_s:
            raise
        damage = str(exc)
    if total == 0:
        raise MediaError("no audio decoded (the audio stream is empty)")
    return total / BYTES_PER_SAMPLE / rate, damage


def short_of_header(path: Path, ffmpeg: str, decoded_s: float) -> str:
    """What shows that `path` was cut short although it decodes without an error (ffmpeg says
    nothing of an MP3 or M4A cut short): less audio than its header gives. "" where it is not."""
    expected = header_duration(path, ffmpeg)
    if expected and decoded_s < expected - max(1.0, 0.02 * expected):
        return f"only {decoded_s:.1f} s of the {expected:.1f} s the file's header gives decode"
    return ""


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
    try:
        with open(part, "wb") as out:
            out.write(header)
            out.write(pcm)
        data = os.stat(part).st_size - len(header)
        os.replace(part, path)
    except BaseException as exc:
        part.unlink(missing_ok=True)  # a full disk leaves nothing half-written behind
        if isinstance(exc, OSError) and exc.filename is None:  # a failed write names no file
            exc.filename = str(path)
        raise
    return data / BYTES_PER_SAMPLE / rate

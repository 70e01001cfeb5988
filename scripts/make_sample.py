"""Generate the bundled sample video (``samples/``) with espeak-ng and ffmpeg.

Each sentence is synthesised separately, trimmed of espeak-ng's own silence,
resampled to 16 kHz and joined with pauses of known length, so the subtitle
cue times are exact. A faint fixed-seed noise floor keeps the gaps from being
digital silence. Run: ``python scripts/make_sample.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "samples"

SAMPLE_RATE = 16_000
VOICE = "en-gb-scotland"
FALLBACK_VOICE = "en-gb"
SPEED_WPM = 150
LEAD_IN_S = 0.7
TAIL_S = 1.0
# Pause after sentence i (between i and i + 1); one fewer than SENTENCES.
PAUSES_S = (1.2, 0.8, 1.5, 1.0, 1.6, 0.9, 1.3)
TRIM_THRESHOLD_DBFS = -40.0
NOISE_DBFS = -60.0
NOISE_SEED = 20240601
VIDEO_SOURCE = "color=c=0x1d3557:s=160x90:r=5"
AUDIO_BITRATE = "32k"

SENTENCES = (
    "Aye, it's a dreich morning, but the rain should clear by lunchtime.",
    "We're taking the ferry to Orkney on Saturday.",
    "The crossing can be a wee bit choppy if the wind picks up.",
    "Last week I walked up Arthur's Seat with my sister.",
    "You can see the whole of Edinburgh from the top.",
    "It was blowing a gale, so we didnae stay long.",
    "Afterwards we had a pot of tea and some shortbread.",
    "Come round on Sunday and I'll put the kettle on.",
)

# One millisecond in samples: every segment is padded to whole milliseconds
# so cue boundaries are exact at millisecond precision.
MS = SAMPLE_RATE // 1000


@dataclass(frozen=True)
class Cue:
    """One subtitle cue, times in whole milliseconds."""

    start_ms: int
    end_ms: int
    text: str


def run_ffmpeg(*args: str) -> None:
    """Run the ffmpeg binary bundled with the imageio-ffmpeg wheel."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    quiet = ("-hide_banner", "-loglevel", "error", "-y")
    subprocess.run([exe, *quiet, *args], check=True)


def pick_voice() -> str:
    """Return ``VOICE`` if espeak-ng has it, else ``FALLBACK_VOICE``."""
    listing = subprocess.run(["espeak-ng", "--voices=en"], check=True, capture_output=True, text=True).stdout
    names = {line.split()[1] for line in listing.splitlines()[1:] if line.strip()}
    if VOICE in names:
        return VOICE
    print(f"voice {VOICE!r} missing, using {FALLBACK_VOICE!r}", file=sys.stderr)
    return FALLBACK_VOICE


def synthesise(text: str, voice: str, work: Path, index: int) -> np.ndarray:
    """Speak ``text`` and return it as float32 mono at ``SAMPLE_RATE``."""
    raw = work / f"s{index:02d}_raw.wav"
    wav = work / f"s{index:02d}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-w", str(raw), text],
        check=True,
    )
    run_ffmpeg(
        "-i",
        str(raw),
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "pcm_f32le",
        str(wav),
    )
    audio, sr = sf.read(wav, dtype="float32", always_2d=False)
    assert sr == SAMPLE_RATE, sr
    return audio


def trim(audio: np.ndarray) -> np.ndarray:
    """Cut leading/trailing samples below the threshold, pad to whole ms."""
    threshold = 10 ** (TRIM_THRESHOLD_DBFS / 20)
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        raise RuntimeError("espeak-ng produced silence")
    core = audio[loud[0] : loud[-1] + 1]
    pad = (-core.size) % MS
    return np.concatenate([core, np.zeros(pad, dtype=np.float32)])


def silence(seconds: float) -> np.ndarray:
    """Return ``seconds`` of zeros, rounded to whole milliseconds."""
    return np.zeros(round(seconds * 1000) * MS, dtype=np.float32)


def build_track(voice: str, work: Path) -> tuple[np.ndarray, list[Cue]]:
    """Assemble the full audio track and its cues."""
    parts: list[np.ndarray] = [silence(LEAD_IN_S)]
    cues: list[Cue] = []
    pos = parts[0].size
    pauses = (*PAUSES_S, TAIL_S)
    assert len(pauses) == len(SENTENCES)
    for index, (text, pause) in enumerate(zip(SENTENCES, pauses, strict=True)):
        speech = trim(synthesise(text, voice, work, index))
        cues.append(Cue(pos // MS, (pos + speech.size) // MS, text))
        gap = silence(pause)
        parts += [speech, gap]
        pos += speech.size + gap.size
    track = np.concatenate(parts)
    rng = np.random.default_rng(NOISE_SEED)
    noise_rms = 10 ** (NOISE_DBFS / 20)
    track = track + rng.normal(0.0, noise_rms, track.size).astype(np.float32)
    return np.clip(track, -1.0, 1.0), cues


def timestamp(ms: int, sep: str) -> str:
    """Format milliseconds as ``HH:MM:SS<sep>mmm``."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def write_srt(cues: list[Cue], path: Path) -> None:
    """Write cues as SubRip."""
    blocks = [
        f"{i}\n{timestamp(c.start_ms, ',')} --> {timestamp(c.end_ms, ',')}\n{c.text}\n"
        for i, c in enumerate(cues, 1)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")


def write_vtt(cues: list[Cue], path: Path) -> None:
    """Write cues as WebVTT."""
    blocks = [f"{timestamp(c.start_ms, '.')} --> {timestamp(c.end_ms, '.')}\n{c.text}\n" for c in cues]
    path.write_text("WEBVTT\n\n" + "\n".join(blocks), encoding="utf-8")


def write_json(cues: list[Cue], voice: str, duration_ms: int, path: Path) -> None:
    """Write cue list and generation parameters for tests."""
    data = {
        "video": "sample.mp4",
        "voice": voice,
        "sample_rate": SAMPLE_RATE,
        "duration": duration_ms / 1000,
        "cues": [{"start": c.start_ms / 1000, "end": c.end_ms / 1000, "text": c.text} for c in cues],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_readme(voice: str, path: Path) -> None:
    """Write a short description of the sample."""
    path.write_text(
        "# Sample video\n\n"
        "`sample.mp4` is a short synthetic clip for tests and demos: eight English\n"
        f"sentences spoken by espeak-ng (voice `{voice}`) with pauses of known\n"
        "length, over a plain coloured picture. `sample.srt` / `sample.vtt` hold one\n"
        "cue per sentence (also embedded as a soft subtitle track); `sample.json`\n"
        "lists the same cues (`start`, `end` in seconds, `text`).\n\n"
        "Licence: the generated speech, video and subtitles are released under\n"
        "CC0-1.0 (public domain dedication).\n\n"
        "Regenerate (needs `espeak-ng` on PATH):\n\n"
        "    python scripts/make_sample.py\n",
        encoding="utf-8",
    )


def encode_mp4(audio_wav: Path, srt: Path, duration_ms: int, out: Path) -> None:
    """Mux a generated picture, AAC audio and soft subtitles into ``out``."""
    duration = f"{duration_ms / 1000:.3f}"
    run_ffmpeg(
        *("-f", "lavfi", "-t", duration, "-i", VIDEO_SOURCE),
        *("-i", str(audio_wav), "-i", str(srt)),
        *("-map", "0:v", "-map", "1:a", "-map", "2:s"),
        *("-c:v", "libx264", "-preset", "veryslow", "-tune", "stillimage"),
        *("-crf", "30", "-pix_fmt", "yuv420p", "-threads", "1"),
        *("-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "1"),
        *("-ar", str(SAMPLE_RATE)),
        *("-c:s", "mov_text", "-metadata:s:s:0", "language=eng"),
        *("-metadata:s:a:0", "language=eng"),
        *("-t", duration, "-map_metadata", "-1"),
        *("-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"),
        *("-movflags", "+faststart", str(out)),
    )


def main() -> None:
    """Generate everything under ``samples/``."""
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng not found on PATH (apt-get install espeak-ng)")
    OUT_DIR.mkdir(exist_ok=True)
    voice = pick_voice()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        track, cues = build_track(voice, work)
        duration_ms = track.size // MS
        audio_wav = work / "track.wav"
        sf.write(audio_wav, track, SAMPLE_RATE, subtype="PCM_16")
        srt = OUT_DIR / "sample.srt"
        write_srt(cues, srt)
        write_vtt(cues, OUT_DIR / "sample.vtt")
        write_json(cues, voice, duration_ms, OUT_DIR / "sample.json")
        write_readme(voice, OUT_DIR / "README.md")
        encode_mp4(audio_wav, srt, duration_ms, OUT_DIR / "sample.mp4")
    print(f"voice {voice}, duration {duration_ms / 1000:.3f} s, {len(cues)} cues")
    for cue in cues:
        print(f"  {cue.start_ms / 1000:7.3f} - {cue.end_ms / 1000:7.3f}  {cue.text}")


if __name__ == "__main__":
    main()

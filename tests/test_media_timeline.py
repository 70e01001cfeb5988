"""Clip times are on the source's own timeline, as a player shows it, also where its audio
stream starts later than its picture (`ffmpeg -itsoffset`, common in screen and phone
recordings) or where the whole file starts later than 0 (MPEG-TS)."""

import re
import subprocess

import numpy as np
import pytest
import soundfile
from conftest import CUES, RATE, run_cli, sentence

from accentds.cut import cut
from accentds.handcut import source_pcm
from accentds.pull import pull

OFFSET = 1.5  # the audio stream starts this late
LEAD = 1.0  # silence before the sentence, inside the audio stream


def _late_audio(ffmpeg, speech, tmp_path, name, codec):
    """A video whose audio stream starts OFFSET s after its picture, holding one sentence
    LEAD s into the audio; returns (path, the sentence as written)."""
    words = sentence(speech, 1, pad=0.0)
    audio = np.concatenate([np.zeros(int(LEAD * RATE), np.int16), words, np.zeros(RATE, np.int16)])
    wav = tmp_path / "audio.wav"
    soundfile.write(str(wav), audio, RATE, subtype="PCM_16")
    seconds = OFFSET + len(audio) / RATE
    out = tmp_path / name
    command = [
        ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:s=64x48:r=5:d={seconds:.3f}",
        "-itsoffset", str(OFFSET), "-i", str(wav), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-c:a", codec, str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    said = subprocess.run([ffmpeg, "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    start = re.search(r"Audio: .*, start (\d+\.\d+)", said)
    assert start and abs(float(start.group(1)) - OFFSET) < 0.1, said  # the audio does start late
    return out, words


@pytest.mark.parametrize(("name", "codec"), [("late.mkv", "flac"), ("late.mp4", "aac")])
def test_clip_times_count_from_the_start_of_the_video(name, codec, workspace, speech, ffmpeg, tmp_path):
    path, words = _late_audio(ffmpeg, speech, tmp_path, name, codec)
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(workspace, workers=1)
    [clip] = result.clips
    truth = OFFSET + LEAD  # where the sentence is heard when the video plays
    assert clip.start <= truth <= clip.start + 0.4, clip
    assert truth + len(words) / RATE <= clip.end <= truth + len(words) / RATE + 0.5, clip
    held = soundfile.read(str(workspace.abs(clip.path)), dtype="int16")[0].astype(float)
    expected = np.zeros(len(held))
    at = round((truth - clip.start) * RATE)
    expected[at : at + len(words)] = words[: len(held) - at]
    similarity = held @ expected / np.sqrt((held @ held) * (expected @ expected))
    assert similarity > 0.9, similarity
    # a re-cut by hand from the same times hears the same audio, also before the audio starts
    again = np.frombuffer(source_pcm(ffmpeg, workspace.abs(pulled.source.media), RATE, 0.5, clip.end), "<i2")
    assert len(again) == round(clip.end * RATE) - round(0.5 * RATE)
    onset = np.argmax(np.abs(again) > 1000) / RATE + 0.5
    first = np.argmax(np.abs(words) > 1000) / RATE + truth
    assert abs(onset - first) < 0.05, (onset, first)


def test_a_file_whose_timeline_starts_late_is_not_padded(workspace, speech, ffmpeg, tmp_path):
    path = tmp_path / "broadcast.ts"
    words = sentence(speech, 2, pad=0.5)
    wav = tmp_path / "audio.wav"
    soundfile.write(str(wav), words, RATE, subtype="PCM_16")
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(wav), "-c:a", "mp2", "-f", "mpegts", str(path)],
        check=True,
        capture_output=True,
    )
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    assert abs(pulled.source.duration - len(words) / RATE) < 0.1, pulled.source
    [result] = cut(workspace, workers=1)
    [clip] = result.clips
    assert clip.start <= 0.5 <= clip.start + 0.4 and clip.end > 0.5 + CUES[2]["end"] - CUES[2]["start"]


def test_clip_bounds_before_a_late_audio_stream_starts(workspace, speech, ffmpeg, tmp_path):
    path, _ = _late_audio(ffmpeg, speech, tmp_path, "late.mkv", "libopus")
    done = run_cli("--workspace", str(workspace.root), "pull", str(path))
    assert done.returncode == 0, done.stderr
    [clip] = workspace.read_clips()
    done = run_cli(
        "--workspace",
        str(workspace.root),
        "clip",
        "bounds",
        clip.clip_id,
        "--start",
        "1.0",
        "--end",
        f"{clip.end:.3f}",
    )
    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr

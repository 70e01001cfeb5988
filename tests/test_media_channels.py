"""Stereo whose two channels cancel in a mono mix (one is the other phase-inverted, a wiring
mistake of some recorders and lavalier adapters) is cut from one channel, with a warning;
other stereo is mixed to mono as before."""

import subprocess

import numpy as np
import pytest
import soundfile
from conftest import CUES, RATE

from accentds.cut import cut
from accentds.handcut import source_pcm
from accentds.mix import FIRST_CHANNEL, decoding, mono_mix
from accentds.pull import pull

SENTENCES = 3


def _first_sentences(speech):
    return speech[: round((CUES[SENTENCES - 1]["end"] + 0.5) * RATE)]


def _stereo(left, right):
    return np.stack([left, right], axis=1).astype(np.int16)


def _rms_db(samples):
    return 20 * np.log10(max(np.sqrt(np.mean(samples.astype(float) ** 2)) / 32768, 1e-9))


@pytest.mark.parametrize(
    ("name", "args", "lead_s"),
    [
        ("inverted.wav", (), 0),
        ("inverted.m4a", ("-c:a", "aac"), 0),
        ("inverted after a silence.wav", (), 75),  # a recorder left running before the talk
    ],
)
def test_phase_inverted_stereo_is_cut_from_one_channel(
    name, args, lead_s, workspace, make_media, speech, ffmpeg
):
    words = np.concatenate([np.zeros(lead_s * RATE, np.int16), _first_sentences(speech)])
    path = make_media(name, *args, audio=_stereo(words, -np.maximum(words, -32767)))
    assert decoding(path, ffmpeg).mix == FIRST_CHANNEL
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(workspace, workers=1)
    assert len(result.clips) == SENTENCES, result
    assert "phase-inverted" in result.warning and "no speech" not in result.warning, result.warning
    for clip, cue in zip(result.clips, CUES, strict=False):
        assert clip.start <= cue["start"] + lead_s and cue["end"] + lead_s <= clip.end, (clip, cue)
        assert clip.rms_dbfs > -40, clip
    # a hand re-cut and the review page's context hear the same channel
    media = workspace.abs(pulled.source.media)
    again = np.frombuffer(source_pcm(ffmpeg, media, RATE, lead_s, lead_s + 3.0), "<i2")
    assert _rms_db(again) > -40


@pytest.mark.parametrize(
    "channels",
    [
        "same",  # ordinary stereo of a mono recording
        "left-only",
        "independent",  # two different signals: a stereo recording
    ],
)
def test_other_stereo_is_mixed_to_mono(channels, make_media, speech, ffmpeg):
    words = _first_sentences(speech)
    right = {
        "same": words,
        "left-only": np.zeros_like(words),
        "independent": np.roll(words, RATE // 3),
    }[channels]
    path = make_media(f"{channels}.wav", audio=_stereo(words, right))
    assert mono_mix(path, ffmpeg) == ""


def test_mono_and_silent_files_are_mixed_as_they_are(make_media, speech, ffmpeg):
    assert mono_mix(make_media("mono.wav", audio=_first_sentences(speech)), ffmpeg) == ""
    silent = np.zeros((RATE, 2), dtype=np.int16)
    assert mono_mix(make_media("silent.wav", audio=silent), ffmpeg) == ""


def test_the_audio_stream_a_player_plays_is_cut(workspace, speech, ffmpeg, tmp_path):
    """A file whose first audio stream is silent (another language's track left empty, a muted
    camera microphone) and whose speech is the stream marked default, which players play."""
    words = _first_sentences(speech)
    wav = tmp_path / "words.wav"
    soundfile.write(str(wav), words, RATE, subtype="PCM_16")
    path = tmp_path / "two tracks.mkv"
    command = [
        ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"anullsrc=r={RATE}:cl=mono", "-i", str(wav),
        "-map", "0:a", "-map", "1:a", "-t", f"{len(words) / RATE:.3f}", "-c:a", "flac",
        "-disposition:a:0", "0", "-disposition:a:1", "default", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(workspace, workers=1)
    assert len(result.clips) == SENTENCES, result
    # the user learns of the other stream, and how to cut it
    assert result.warning == (
        "it holds 2 audio streams: cut stream 2, the one players play; to cut another, take it out "
        f"(`ffmpeg -i {workspace.abs(pulled.source.media)} -map 0:a:0 -c copy stream1.mka`) and pull that"
    )
    clip = result.clips[0]
    again = source_pcm(ffmpeg, workspace.abs(pulled.source.media), RATE, clip.start, clip.end)
    assert _rms_db(np.frombuffer(again, "<i2")) > -40  # a hand re-cut hears the same stream


def test_a_dc_offset_is_removed_from_the_clips(workspace, make_media, speech, ffmpeg):
    """A recording sitting at +40% of full scale (a faulty preamp): its clips hold the speech
    around zero, so they do not click where they start and end, and their level is the speech's."""
    words = _first_sentences(speech).astype(float) * 0.5
    path = make_media("offset.wav", audio=(words + 0.4 * 32768).astype(np.int16))
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(workspace, workers=1)
    assert len(result.clips) == SENTENCES, result
    for clip, cue in zip(result.clips, CUES, strict=False):
        held = soundfile.read(str(workspace.abs(clip.path)), dtype="int16")[0]
        assert abs(held.mean()) < 100 and abs(int(held[0])) < 1000, (clip, held[:4])
        spoken = words[round(cue["start"] * RATE) : round(cue["end"] * RATE)]
        assert abs(clip.rms_dbfs - _rms_db(spoken)) < 3, (clip, _rms_db(spoken))

"""Pull and cut end to end on media made here with real ffmpeg, through the library and the CLI.

The speech is the bundled sample: 8 sentences whose times are in samples/sample.json, so every
good source must cut into exactly 8 clips, clip i holding sentence i."""

import csv
import json
import re
import struct
import subprocess
import threading

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile
from conftest import RATE, ROOT, check_consistent, put_labels, run_cli

from accentds.cut import cut
from accentds.files import read_csv, sha256_file
from accentds.handcut import source_pcm
from accentds.labels import history, orphans
from accentds.media import pcm_stream, wav_declared_duration
from accentds.models import clip_id
from accentds.pull import pull
from accentds.status import status, totals
from accentds.views import refresh_manifest

CUES = json.loads((ROOT / "samples" / "sample.json").read_text(encoding="utf-8"))["cues"]
SENTENCES = len(CUES)
SOURCE_ID = re.compile(r"file-[0-9a-f]{12}")
CLIP_ID = re.compile(r"(file-[0-9a-f]{12})-(\d{8})-(\d{8})")
MP4 = ("-c:v", "libx264", "-c:a", "aac", "-shortest")


# -- helpers ---------------------------------------------------------------------------------
def seconds(samples, rate=RATE):
    return len(samples) / rate


def pull_one(ws, path, expected_s):
    """Pull one file; check its result, id, files and sources.csv row; return the Source."""
    [result] = pull(ws, [str(path)], workers=1)
    assert (result.status, result.reason) == ("pulled", ""), result
    source = result.source
    assert SOURCE_ID.fullmatch(source.source_id)
    assert source.source_id == "file-" + sha256_file(path)[:12]
    assert source.sha256 == sha256_file(path)
    assert source.media == f"raw/{source.source_id}/source{path.suffix.lower()}"
    assert ws.abs(source.media).read_bytes() == path.read_bytes()
    assert (source.kind, source.origin, source.title) == ("file", str(path.resolve()), path.stem)
    info = json.loads((ws.raw / source.source_id / "info.json").read_text(encoding="utf-8"))
    assert info["file_name"] == path.name
    [row] = [r for r in read_csv(ws.sources_csv) if r["source_id"] == source.source_id]
    assert abs(float(row["duration"]) - expected_s) < 0.05, row["duration"]
    return source


def check_sentence_clips(ws, source):
    """The source's clips: one per sentence, each holding its sentence and no other."""
    clips = [c for c in ws.read_clips() if c.source_id == source.source_id]
    assert len(clips) == SENTENCES
    for k, (clip, cue) in enumerate(zip(clips, CUES, strict=True)):
        match = CLIP_ID.fullmatch(clip.clip_id)
        assert match and match.group(1) == source.source_id, clip.clip_id
        assert clip.clip_id == clip_id(source.source_id, clip.start, clip.end)
        assert (int(match.group(2)), int(match.group(3))) == (
            round(clip.start * 1000),
            round(clip.end * 1000),
        )
        assert clip.path == f"clips/{source.source_id}/{clip.clip_id}.wav"
        assert clip.start <= cue["start"] and cue["end"] <= clip.end, (k, clip, cue)
        if k + 1 < len(CUES):
            assert clip.end <= CUES[k + 1]["start"], (k, clip)
        assert clip.rms_dbfs > -40, clip
        assert clip.speech_ratio > 0.5, clip
    return clips


def tree(folder):
    """Every file below `folder` with its size and modification time."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def manifest_bytes(ws):
    """The manifests' content (lock files and the views' digests aside), views up to date."""
    refresh_manifest(ws)
    return {
        p.name: p.read_bytes() for p in sorted(ws.manifests.iterdir()) if p.is_file() and p.name[0] != "."
    }


def wav_stems(ws, source_id):
    return {p.stem for p in (ws.clips / source_id).glob("*.wav")}


def probe(ffmpeg, path):
    """ffmpeg's description of a file's streams (stderr of `ffmpeg -i`)."""
    return subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def channel_rms_dbfs(ffmpeg, path, channel):
    command = [ffmpeg, "-v", "error", "-i", str(path), "-af", f"pan=mono|c0={channel}"]
    raw = subprocess.run(
        [*command, "-ar", str(RATE), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    return 20 * np.log10(max(np.sqrt(np.mean(samples**2)) / 32768, 1e-9))


# -- formats -----------------------------------------------------------------------------------
def _mp4(make_media, speech, ffmpeg):
    return make_media("talk.mp4", *MP4, video=True)


def _mkv_opus(make_media, speech, ffmpeg):
    return make_media("talk.mkv", "-c:v", "libx264", "-c:a", "libopus", "-shortest", video=True)


def _webm_vp8_opus(make_media, speech, ffmpeg):
    return make_media("talk.webm", "-c:v", "libvpx", "-c:a", "libopus", "-shortest", video=True)


def _webm_audio_only(make_media, speech, ffmpeg):
    return make_media("voice.webm", "-c:a", "libopus")


def _mp3(make_media, speech, ffmpeg):
    return make_media("talk.mp3", "-c:a", "libmp3lame")


def _wav(make_media, speech, ffmpeg):
    return make_media("talk.wav")


def _wav_8k(make_media, speech, ffmpeg):
    path = make_media("phone.wav", "-ar", "8000")
    assert soundfile.info(str(path)).samplerate == 8000
    return path


def _surround_centre_only(make_media, speech, ffmpeg):
    six = np.zeros((len(speech), 6), dtype=np.int16)
    six[:, 2] = speech  # FC of 5.1 (FL FR FC LFE BL BR)
    path = make_media("surround.mp4", *MP4, "-ar", "48000", "-channel_layout", "5.1", audio=six, video=True)
    assert re.search(r"Audio: .*48000 Hz, 5\.1", probe(ffmpeg, path))
    assert channel_rms_dbfs(ffmpeg, path, "FC") > -30  # the speech is in the centre ...
    assert channel_rms_dbfs(ffmpeg, path, "FL") < -80  # ... and only there
    return path


def _unicode_name(make_media, speech, ffmpeg):
    return make_media("Glasgow talk – ùnicode.mp4", *MP4, video=True)


def _filter_graph_syntax_name(make_media, speech, ffmpeg):
    return make_media("it's [a], b; c:d \\ e=f.mp4", *MP4, video=True)


FORMATS = {
    "mp4-h264-aac": _mp4,
    "mkv-h264-opus": _mkv_opus,
    "webm-vp8-opus": _webm_vp8_opus,
    "webm-opus-audio-only": _webm_audio_only,
    "mp3": _mp3,
    "wav": _wav,
    "wav-8khz": _wav_8k,
    "mp4-48khz-5.1-centre-only": _surround_centre_only,
    "spaces-and-unicode-name": _unicode_name,
    "filter-graph-syntax-in-name": _filter_graph_syntax_name,
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_pull_and_cut_each_format(kind, workspace, make_media, speech, ffmpeg):
    path = FORMATS[kind](make_media, speech, ffmpeg)
    source = pull_one(workspace, path, seconds(speech))
    [result] = cut(workspace, workers=1)
    assert (result.source_id, result.ok, result.reason) == (source.source_id, True, "")
    clips = check_sentence_clips(workspace, source)
    assert abs(result.audio_s - seconds(speech)) < 0.05
    assert abs(result.kept_s - sum(c.duration for c in clips)) < 1e-9
    check_consistent(workspace)


@pytest.mark.parametrize("kind", list(FORMATS))
def test_decode_gives_the_same_pcm_as_a_plain_input_decode(kind, make_media, speech, ffmpeg):
    path = FORMATS[kind](make_media, speech, ffmpeg)
    with pcm_stream(path, ffmpeg, RATE, chunk_bytes=1 << 16) as chunks:
        received = list(chunks)
    assert all(len(c) == 1 << 16 for c in received[:-1]) and 0 < len(received[-1]) <= 1 << 16
    ours = b"".join(received)
    plain = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    assert len(ours) > RATE and ours == plain


def test_decode_with_a_short_first_chunk(make_media, ffmpeg):
    path = make_media("talk.mp3", "-c:a", "libmp3lame")
    with pcm_stream(path, ffmpeg, RATE, chunk_bytes=1 << 16) as chunks:
        whole = b"".join(chunks)
    with pcm_stream(path, ffmpeg, RATE, chunk_bytes=1 << 16, first_bytes=4000) as chunks:
        received = list(chunks)
    assert len(received[0]) == 4000 and all(len(c) == 1 << 16 for c in received[1:-1])
    assert b"".join(received) == whole


# -- pulling the same thing again -------------------------------------------------------------
def test_pulling_the_same_file_twice_changes_nothing(workspace, make_media, speech, tmp_path):
    path = make_media("talk.wav")
    source = pull_one(workspace, path, seconds(speech))
    cut(workspace, workers=1)
    before = (manifest_bytes(workspace), tree(workspace.raw), tree(workspace.clips))

    again = pull(workspace, [str(path)], workers=1)
    assert [(r.status, r.source, r.reason) for r in again] == [("exists", source, "")]
    # the same bytes under another name are the same source
    other = tmp_path / "elsewhere" / "renamed copy.wav"
    other.parent.mkdir()
    other.write_bytes(path.read_bytes())
    assert [(r.status, r.source) for r in pull(workspace, [str(other)])] == [("exists", source)]
    assert cut(workspace, workers=1) == []  # already cut with these settings
    assert (manifest_bytes(workspace), tree(workspace.raw), tree(workspace.clips)) == before


def test_the_same_bytes_twice_in_one_batch_make_one_source(workspace, make_media, tmp_path):
    path = make_media("talk.mp3", "-c:a", "libmp3lame")
    copy = tmp_path / "copy.mp3"
    copy.write_bytes(path.read_bytes())
    results = pull(workspace, [str(path), str(copy)], workers=2)
    assert sorted(r.status for r in results) == ["exists", "pulled"]
    assert results[0].source == results[1].source
    assert [s.source_id for s in workspace.read_sources()] == [results[0].source.source_id]
    assert sorted(p.name for p in workspace.raw.iterdir()) == [results[0].source.source_id]


# -- folders and lists ---------------------------------------------------------------------------
def test_folder_pull_is_recursive_and_takes_media_files_only(workspace, make_media, speech, tmp_path):
    top = tmp_path / "talks"
    (top / "sub" / "deeper").mkdir(parents=True)
    (top / "empty").mkdir()
    make_media("a.wav").rename(top / "a.wav")
    make_media("b.mp3", "-c:a", "libmp3lame").rename(top / "sub" / "b.MP3")
    make_media("c.mkv", "-c:a", "libopus").rename(top / "sub" / "deeper" / "c.mkv")
    (top / "notes.txt").write_text("not media\n", encoding="utf-8")
    (top / "cover.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    (top / "sub" / "README").write_text("no extension\n", encoding="utf-8")

    results = pull(workspace, [str(top), str(top / "empty")], workers=2)
    media = sorted(str(p) for p in [top / "a.wav", top / "sub" / "b.MP3", top / "sub" / "deeper" / "c.mkv"])
    assert [(r.item, r.status) for r in results] == [(m, "pulled") for m in media] + [
        (str(top / "empty"), "failed")
    ]
    assert results[-1].reason == "folder holds no media files"
    sources = workspace.read_sources()
    assert sorted(s.origin for s in sources) == media
    assert all(abs(s.duration - seconds(speech)) < 0.05 for s in sources)
    assert {s.media.rsplit("/", 1)[1] for s in sources} == {"source.wav", "source.mp3", "source.mkv"}

    results = cut(workspace, workers=2)
    assert sorted((r.ok, len(r.clips)) for r in results) == [(True, SENTENCES)] * 3
    for source in sources:
        check_sentence_clips(workspace, source)
    check_consistent(workspace)


def test_pull_from_file_list(workspace, make_media, tmp_path):
    first = make_media("first talk.wav")
    second = make_media("second.mp3", "-c:a", "libmp3lame")
    listing = tmp_path / "tonight.txt"
    listing.write_text(
        f"# tonight's talks\n\n{first}\n   # {tmp_path / 'skipped.wav'}\n  {second}  \n\n",
        encoding="utf-8",
    )
    done = run_cli("pull", "--from-file", str(listing), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    pulled = [line for line in done.stdout.splitlines() if line.startswith("pulled")]
    assert sorted(line.rsplit("  ", 1)[1] for line in pulled) == sorted([str(first), str(second)])
    assert done.stdout.splitlines()[-1].startswith(f"corpus: {2 * SENTENCES} clips, ")
    assert sorted(s.origin for s in workspace.read_sources()) == sorted([str(first), str(second)])
    check_consistent(workspace)


# -- bad sources in a batch -----------------------------------------------------------------------
def _empty(make_media, folder):
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def _random_bytes(make_media, folder):
    path = folder / "noise bytes.mp4"
    path.write_bytes(np.random.default_rng(1).bytes(64_000))
    return path


def _half(path, name):
    data = path.read_bytes()
    out = path.with_name(name)
    out.write_bytes(data[: len(data) // 2])
    return out


def _truncated_mp4(make_media, folder):
    whole = make_media("whole.mp4", *MP4, "-movflags", "+faststart", video=True)
    return _half(whole, "truncated.mp4")


def _truncated_mkv(make_media, folder):
    whole = make_media("whole.mkv", "-c:v", "libx264", "-c:a", "libopus", "-shortest", video=True)
    return _half(whole, "truncated.mkv")


def _mp4_without_its_end(make_media, folder):
    whole = make_media("whole index at the end.mp4", *MP4, video=True)  # no +faststart: moov last
    return _half(whole, "index lost.mp4")


def _no_audio(make_media, folder):
    return make_media("silent film.mp4", "-map", "1:v", "-c:v", "libx264", video=True)


def _missing(make_media, folder):
    return folder / "not here.mp4"


BAD = {
    "empty-file": (_empty, re.escape("empty file (0 bytes)")),
    "random-bytes": (
        _random_bytes,
        re.escape("not a readable media file (corrupt, truncated or not audio/video)"),
    ),
    "video-without-audio": (_no_audio, re.escape("no audio stream")),
    "mp4-index-lost": (
        _mp4_without_its_end,
        re.escape(
            "an MP4/MOV without its index (moov atom), which such a file keeps at its end: "
            "a truncated download? download it again"
        ),
    ),
    "missing-path": (_missing, re.escape("no such file or folder")),
}


@pytest.fixture
def good_pair(make_media):
    return make_media("good one.wav"), make_media("good two.mp3", "-c:a", "libmp3lame")


def test_a_pull_where_every_source_fails_does_not_speak_of_others(workspace, tmp_path):
    for names, last in (
        (["nope.wav"], "the source failed"),
        (["nope.wav", "gone.mp3"], "all 2 sources failed"),
    ):
        paths = [str(tmp_path / name) for name in names]
        done = run_cli("pull", *paths, cwd=workspace.root)
        assert done.returncode == 1
        *failures, said = done.stderr.splitlines()
        assert (
            sorted(failures) == sorted(f"failed    {p}: no such file or folder" for p in paths)
            and said == last
        )


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_source_fails_alone_in_a_batch(kind, workspace, make_media, good_pair, tmp_path):
    build, reason = BAD[kind]
    bad = build(make_media, tmp_path / "media")
    good1, good2 = good_pair
    done = run_cli("pull", str(good1), str(bad), str(good2), cwd=workspace.root)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert re.fullmatch(rf"failed    {re.escape(str(bad))}: {reason}", lines[0]), lines[0]
    assert lines[1] == "1 of 3 sources failed; the others are in the corpus"
    out = done.stdout.splitlines()
    assert sum(line.startswith("pulled ") for line in out) == 2
    assert sum(bool(re.match(rf"cut +{SOURCE_ID.pattern} +{SENTENCES} clips", line)) for line in out) == 2
    assert out[-1].startswith(f"corpus: {2 * SENTENCES} clips, "), done.stdout
    sources = workspace.read_sources()
    assert sorted(s.origin for s in sources) == sorted([str(good1), str(good2)])
    assert sorted(p.name for p in workspace.raw.iterdir()) == sorted(s.source_id for s in sources)
    for source in sources:
        check_sentence_clips(workspace, source)
    check_consistent(workspace)


@pytest.fixture
def silence_batch(workspace, make_media, good_pair):
    """`accentds pull good silent good`, where the silent file holds 10 s of digital silence."""
    silent = make_media("quiet room.wav", audio=np.zeros(10 * RATE, dtype=np.int16))
    good1, good2 = good_pair
    done = run_cli("pull", str(good1), str(silent), str(good2), cwd=workspace.root)
    [source] = [s for s in workspace.read_sources() if s.origin == str(silent)]
    return done, source


@pytest.mark.parametrize("build", [_truncated_mp4, _truncated_mkv], ids=["faststart-mp4", "mkv"])
def test_a_truncated_file_is_cut_as_far_as_it_decodes(build, workspace, make_media, speech, tmp_path):
    bad = build(make_media, tmp_path / "media")
    done = run_cli("pull", str(bad), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [source] = workspace.read_sources()
    assert 1.0 < source.duration < seconds(speech) - 1.0  # the part that decodes
    # the words in brackets are ffmpeg's own and differ between ffmpeg versions
    warning = rf"warning +{source.source_id} +damaged or truncated media \(.+\): cut the first ([0-9.]+) s, which decode(; the last clip, .+, stops where the sound does)?"
    [line] = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    match = re.fullmatch(warning, line)
    assert match and abs(float(match.group(1)) - source.duration) < 0.1, line
    clips = workspace.read_clips()
    assert clips and all(c.end <= source.duration + 1e-6 for c in clips)
    whole = [cue for cue in CUES if cue["end"] < source.duration - 0.5]
    assert len(clips) >= len(whole) >= 2  # every sentence before the damage is cut
    check_consistent(workspace)


@pytest.mark.parametrize(("kind", "codec"), [("mp3", ["-c:a", "libmp3lame"]), ("wav", [])])
def test_a_file_cut_short_is_cut_with_a_warning_though_ffmpeg_says_nothing(
    workspace, make_media, speech, kind, codec
):
    """ffmpeg decodes half an MP3 or half a WAV without a word (it reads a WAV's duration from
    the file's size); the header's length (a WAV's data chunk) tells what is missing."""
    bad = _half(make_media(f"whole.{kind}", *codec), f"half.{kind}")
    done = run_cli("pull", str(bad), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [source] = workspace.read_sources()
    [line] = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    match = re.fullmatch(
        rf"warning +{source.source_id} +only ([0-9.]+) s of the ([0-9.]+) s the file's header gives decode "
        r"\(a truncated download\?\): cut what decodes",
        line,
    )
    assert match, line
    assert abs(float(match.group(1)) - source.duration) < 0.1
    assert abs(float(match.group(2)) - seconds(speech)) < 1.0
    assert workspace.read_clips()
    check_consistent(workspace)


def test_a_download_that_stops_mid_sentence_names_its_last_clip(workspace, make_media):
    """A WAV whose data stops inside a sentence (its header gives the whole length): the last
    clip ends where the sound does, in the middle of a word, and the warning names it so a
    reviewer knows which clip to listen to the end of. A download that stops in a pause
    leaves whole clips, and the warning names none."""
    whole = make_media("whole.wav")
    inside, pause = (CUES[2]["start"] + CUES[2]["end"]) / 2, (CUES[2]["end"] + CUES[3]["start"]) / 2
    for name, at in (("mid-sentence.wav", inside), ("in-a-pause.wav", pause)):
        cut_at = whole.with_name(name)
        cut_at.write_bytes(whole.read_bytes()[: 44 + round(at * RATE) * 2])
        done = run_cli("pull", str(cut_at), cwd=workspace.root)
        assert done.returncode == 0, done.stderr
        [source] = [s for s in workspace.read_sources() if s.origin == str(cut_at)]
        [line] = [line for line in done.stderr.splitlines() if source.source_id in line and "warning" in line]
        clips = sorted(
            (c for c in workspace.read_clips() if c.source_id == source.source_id), key=lambda c: c.start
        )
        assert "(a truncated download?): cut what decodes" in line, line
        if at == inside:
            last = clips[-1]
            assert line.endswith(
                f"; the last clip, {last.clip_id} (from {last.start:.1f} s), stops where the sound does"
            )
            assert abs(last.end - at) < 0.05
        else:
            assert "last clip" not in line, line
    check_consistent(workspace)


@pytest.mark.parametrize("kind", ["mp4", "mkv"])
def test_a_video_whose_picture_outlasts_its_sound_is_no_truncated_download(
    workspace, make_media, ffmpeg, speech, kind
):
    """A whole video whose picture runs on after the sound ends (an outro, an editor's
    leftover frames): the container's duration is the picture's, so it says nothing of
    missing audio, and pulling it warns of nothing."""
    sound = make_media("sound.wav")
    video = sound.with_name(f"video.{kind}")
    picture = f"color=c=black:s=64x48:r=5:d={seconds(speech) + 8:.3f}"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-i", str(sound),
         "-c:v", "mpeg4", "-c:a", "aac", str(video)],
        check=True, capture_output=True,
    )  # fmt: skip
    done = run_cli("pull", str(video), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("warning")], done.stderr
    [source] = workspace.read_sources()
    assert abs(source.duration - seconds(speech)) < 0.2
    assert workspace.read_clips()


def test_a_file_whose_other_audio_stream_is_longer_is_no_truncated_download(
    workspace, make_media, speech, ffmpeg
):
    """Speech in the stream players play, a longer stream beside it (a second microphone left
    running): the file's duration is the longer one's, which was taken for a download cut short."""
    spoken = speech[: round(CUES[1]["end"] * RATE) + RATE // 2]
    words = make_media("words.wav", audio=spoken)
    longer = make_media("room.wav", audio=np.zeros(len(spoken) + 8 * RATE, np.int16))
    path = words.with_name("two microphones.m4a")
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(words), "-i", str(longer), "-map", "0:a", "-map", "1:a",
         "-c:a", "aac", "-disposition:a:0", "default", "-disposition:a:1", "0", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    [pulled] = pull(workspace, [str(path)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(workspace, workers=1)
    assert result.clips and "truncated" not in result.warning and "header" not in result.warning, result


def test_silent_source_is_pulled_but_cuts_to_no_speech(silence_batch, workspace):
    done, silent = silence_batch
    assert done.returncode == 0, done.stderr  # no speech is an outcome, not a failure
    assert abs(silent.duration - 10.0) < 0.05
    assert f"pulled    {silent.source_id}" in done.stdout
    said = [line for line in (done.stdout + done.stderr).splitlines() if "no speech found" in line]
    assert len(said) == 1 and silent.source_id in said[0], done.stdout + done.stderr
    assert said[0].startswith("warning") and "failed" not in done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"corpus: {2 * SENTENCES} clips, ")
    record = workspace.read_cuts()[silent.source_id]
    assert (record.clips, record.kept_s, record.note) == (0, 0.0, "no speech found")
    again = run_cli("cut", "--force", cwd=workspace.root)  # a later re-cut exits 0 too
    assert again.returncode == 0, again.stderr
    st = status(workspace)
    assert (st.sources, st.sources_cut, st.sources_no_speech, st.clips) == (3, 3, 1, 2 * SENTENCES)
    assert not any(c.source_id == silent.source_id for c in workspace.read_clips())
    check_consistent(workspace)


def test_cut_failure_reason_is_on_stderr(silence_batch):
    done, silent = silence_batch
    assert any(silent.source_id in line and "no speech found" in line for line in done.stderr.splitlines())


# -- cut: dry run, re-cut, labels -------------------------------------------------------------------
def test_cut_dry_run_writes_nothing(workspace, make_media, speech):
    source = pull_one(workspace, make_media("talk.mp4", *MP4, video=True), seconds(speech))
    before = (manifest_bytes(workspace), tree(workspace.clips))
    done = run_cli("cut", "--dry-run", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(re.match(rf"would cut {source.source_id} +{SENTENCES} clips", line) for line in lines)
    assert lines[-1].startswith(f"dry run: would make {SENTENCES} clips, ")
    assert lines[-1].endswith("; nothing written")
    assert (manifest_bytes(workspace), tree(workspace.clips)) == before
    assert not list(workspace.clips.rglob("*.wav"))
    assert status(workspace).sources_cut == 0


def test_recut_with_a_smaller_maximum_replaces_the_clips(workspace, make_media, speech):
    source = pull_one(workspace, make_media("talk.wav"), seconds(speech))
    cut(workspace, workers=1)
    old = {c.clip_id for c in workspace.read_clips()}
    assert wav_stems(workspace, source.source_id) == old

    done = run_cli("cut", "--max-clip", "2", "--force", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    clips = workspace.read_clips()
    new = {c.clip_id for c in clips}
    assert new != old
    assert wav_stems(workspace, source.source_id) == new  # nothing of the old cut is left
    assert not list(workspace.clips.rglob("*.part"))
    max_s = 66 * 30 / 1000  # 2 s in whole 30 ms frames
    assert all(0.3 <= c.duration <= max_s + 1e-9 for c in clips), [c.duration for c in clips]
    assert len(clips) >= 2 * SENTENCES  # every sentence is longer than 2 s
    settings = workspace.config.vad.with_overrides(max_clip_s=2.0)
    assert {(c.settings_id, c.vad_max_clip_s) for c in clips} == {(settings.settings_id, 2.0)}
    assert workspace.read_cuts()[source.source_id].settings_id == settings.settings_id
    assert status(workspace).sources_stale == 1
    assert done.stdout.splitlines()[-1].startswith(f"corpus: {len(clips)} clips, ")
    check_consistent(workspace)


def test_recut_with_more_padding_widens_every_clip(workspace, make_media, speech):
    source = pull_one(workspace, make_media("talk.mp3", "-c:a", "libmp3lame"), seconds(speech))
    cut(workspace, workers=1)
    old = check_sentence_clips(workspace, source)
    [result] = cut(workspace, vad=workspace.config.vad.with_overrides(padding_ms=300), workers=1)
    assert result.ok
    new = check_sentence_clips(workspace, source)
    for before, after in zip(old, new, strict=True):
        assert after.start < before.start and after.end > before.end
        assert after.vad_padding_ms == 300
    assert wav_stems(workspace, source.source_id) == {c.clip_id for c in new}
    assert not {c.clip_id for c in old} & {c.clip_id for c in new}
    check_consistent(workspace)


def _manifest_rows(ws):
    with open(ws.manifest_csv, newline="", encoding="utf-8") as handle:
        return {row["clip_id"]: row for row in csv.DictReader(handle)}


def test_label_survives_a_recut_with_identical_settings(workspace, make_media, speech):
    pull_one(workspace, make_media("talk.wav"), seconds(speech))
    cut(workspace, workers=1)
    clips = workspace.read_clips()
    chosen = clips[2]
    label = {
        "clip_id": chosen.clip_id,
        "transcript": CUES[2]["text"],
        "speaker": "spk-1",
        "accent": "Glasgow",
        "accent_evidence": "self-described",
        "status": "accepted",
        "reviewer": "tester",
        "updated_at": "2024-05-21T20:00:00Z",
    }
    put_labels(workspace, [label])
    labels_before = workspace.read_labels()

    done = run_cli("cut", "--force", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert [c.clip_id for c in workspace.read_clips()] == [c.clip_id for c in clips]
    rows = _manifest_rows(workspace)
    assert sorted(rows) == sorted(c.clip_id for c in clips)
    for name, value in label.items():
        assert rows[chosen.clip_id][name] == value, name
    assert {rows[c.clip_id]["status"] for c in clips if c is not chosen} == {"pending"}
    assert workspace.read_labels() == labels_before
    st = status(workspace)
    assert st.accepted[0] == 1 and abs(st.accepted[1] - chosen.duration) < 1e-3
    assert st.pending[0] == SENTENCES - 1

    # a cut with other settings drops the clip id; its labels move to the clip now covering it
    cut(workspace, vad=workspace.config.vad.with_overrides(padding_ms=300), workers=1)
    rows = _manifest_rows(workspace)
    assert chosen.clip_id not in rows
    [moved] = [r for r in rows.values() if r["status"] == "accepted"]
    assert float(moved["start"]) < chosen.start and float(moved["end"]) > chosen.end
    for name in ("transcript", "speaker", "accent", "accent_evidence"):
        assert moved[name] == label[name], name
    assert "re-cut" in history(workspace, moved["clip_id"])[-1]["why"]
    assert not orphans(workspace)
    check_consistent(workspace)


# -- status ----------------------------------------------------------------------------------------------
def test_status_totals_match_the_clips(workspace, make_media, speech):
    sources = [
        pull_one(workspace, make_media("one.wav"), seconds(speech)),
        pull_one(workspace, make_media("two.webm", "-c:a", "libopus"), seconds(speech)),
    ]
    cut(workspace, workers=2)
    table = pq.read_table(workspace.clips_parquet)
    total = sum(table["duration"].to_pylist())
    assert table.num_rows == 2 * SENTENCES
    st = status(workspace)
    assert abs(st.cut_s - total) < 1e-3
    assert abs(totals(workspace).seconds - total) < 1e-3
    assert (st.clips, totals(workspace).clips) == (2 * SENTENCES, 2 * SENTENCES)
    assert st.pending == (2 * SENTENCES, pytest.approx(total, abs=1e-3))
    assert (st.sources, st.sources_cut, st.sources_stale, st.sources_no_speech) == (2, 2, 0, 0)
    assert abs(st.pulled_s - sum(s.duration for s in sources)) < 1e-6
    kept = sum(r.kept_s for r in workspace.read_cuts().values())
    assert abs(kept - total) < 2e-3  # cuts.csv keeps 3 decimals per source

    done = run_cli("status", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^cut +{2 * SENTENCES} +{total / 60:.1f}$", done.stdout, re.M), done.stdout


# -- the pull through the CLI, twice --------------------------------------------------------------------
def test_cli_pull_of_a_unicode_name_twice(workspace, make_media):
    path = make_media("Glasgow talk – ùnicode.mp4", *MP4, video=True)
    first = run_cli("pull", str(path), cwd=workspace.root)
    assert first.returncode == 0, first.stderr
    [source] = workspace.read_sources()
    assert source.title == "Glasgow talk – ùnicode"
    assert f"pulled    {source.source_id}  0.6 min  {path}" in first.stdout.splitlines()
    assert first.stdout.splitlines()[-1].startswith(f"corpus: {SENTENCES} clips, ")
    check_sentence_clips(workspace, source)
    before = (manifest_bytes(workspace), tree(workspace.raw), tree(workspace.clips))

    second = run_cli("pull", str(path), cwd=workspace.root)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == (
        f"have      {source.source_id}  already pulled, nothing to do  {path}"
    )
    assert second.stdout.splitlines()[-1].startswith(f"corpus: {SENTENCES} clips, ")
    assert second.stdout.splitlines()[-1].endswith("(+0.0 min)")
    assert (manifest_bytes(workspace), tree(workspace.raw), tree(workspace.clips)) == before
    check_consistent(workspace)


# -- known bugs --------------------------------------------------------------------------------------------
def test_pulled_media_does_not_change_with_the_original(workspace, make_media, speech):
    path = make_media("talk.wav")
    source = pull_one(workspace, path, seconds(speech))
    with open(path, "r+b") as handle:  # edit the original in place
        handle.seek(10_000)
        handle.write(bytes(1000))
    assert sha256_file(workspace.abs(source.media)) == source.sha256


def test_a_copy_damaged_after_the_pull_is_cut_as_far_as_it_decodes(workspace, make_media, speech):
    path = make_media("talk.mkv", "-c:a", "libopus")
    source = pull_one(workspace, path, seconds(speech))
    media = workspace.abs(source.media)
    data = media.read_bytes()
    media.unlink()  # a new file: the original (maybe hard-linked) stays whole
    media.write_bytes(data[: len(data) * 3 // 4])  # the raw copy gets damaged after the pull
    [result] = cut(workspace, workers=1)
    assert result.ok and result.warning.startswith("damaged or truncated media"), result
    assert 0 < len(workspace.read_clips()) < SENTENCES
    assert all(c.end <= result.audio_s + 1e-6 for c in workspace.read_clips())
    check_consistent(workspace)


def test_a_file_still_being_written_while_pulled_fails_and_keeps_nothing(workspace, make_media, speech):
    """A recording or download still in progress: what was hashed, measured and copied would be
    three different files, the source's id and sha256 not those of its media."""
    whole = make_media("whole.wav").read_bytes()
    path = make_media("recording.wav", audio=speech[: RATE // 2])
    stop = threading.Event()

    def record() -> None:  # a recorder appending its audio as it goes, until the pull ends
        with open(path, "ab") as out:
            while not stop.wait(0.001):
                out.write(whole[44:3244])
                out.flush()

    writer = threading.Thread(target=record)
    writer.start()
    try:
        [result] = pull(workspace, [str(path)], workers=1)
    finally:
        stop.set()
        writer.join()
    assert result.status == "failed" and "changed while it was pulled" in result.reason, result
    assert workspace.read_sources() == [] and not [p for p in workspace.raw.iterdir() if p.is_dir()]


def _with_data_size(path, seconds_given):
    """`path` (a 16 kHz mono 16-bit WAV) with its header giving its data chunk `seconds_given`."""
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = struct.pack("<I", round(seconds_given * RATE) * 2)
    path.write_bytes(bytes(data))
    return path


def test_a_wav_whose_header_gives_less_than_it_holds_is_cut_whole(workspace, make_media, speech, ffmpeg):
    """A recorder that stopped updating its header (or a WAV over 4 GiB, whose size wraps
    round): ffmpeg stops where the header says, and the rest of the speech was lost unsaid."""
    path = _with_data_size(make_media("recorder.wav"), 5.0)
    source = pull_one(workspace, path, seconds(speech))
    [result] = cut(workspace, workers=1)
    assert result.ok and not result.warning and abs(result.audio_s - seconds(speech)) < 0.05, result
    clips = check_sentence_clips(workspace, source)
    last = clips[-1]  # a hand re-cut and the review page's context hear it too
    again = np.frombuffer(source_pcm(ffmpeg, workspace.abs(source.media), RATE, last.start, last.end), "<i2")
    assert len(again) == round((last.end - last.start) * RATE) and np.abs(again).max() > 3000


def test_a_wav_with_a_chunk_after_its_samples_is_read_as_its_header_gives(make_media, ffmpeg):
    path = make_media(
        "tagged.wav", "-metadata", "title=Morag", "-write_bext", "0", audio=np.full(RATE, 1000, np.int16)
    )
    data = path.read_bytes()
    info = b"INFO" + b"INAM" + struct.pack("<I", 2000) + bytes(2000)
    path.write_bytes(data + b"LIST" + struct.pack("<I", len(info)) + info)
    assert wav_declared_duration(path) == 1.0
    with pcm_stream(path, ffmpeg, RATE) as chunks:
        assert len(b"".join(chunks)) == 2 * RATE


def test_a_link_to_a_file_not_there_says_so(workspace, tmp_path):
    """A link into a drive not mounted: `ls` lists it, and "no such file or folder" was all it said."""
    link = tmp_path / "talk.mp4"
    link.symlink_to(tmp_path / "usb" / "talk.mp4")
    [result] = pull(workspace, [str(link)], workers=1)
    assert (result.status, result.reason) == (
        "failed",
        f"a link to {tmp_path}/usb/talk.mp4, which is not there (on a drive not mounted?)",
    )


def test_a_folder_pull_leaves_out_the_workspace_in_it(workspace, make_media, speech):
    """`accentds pull .` in the workspace (or of a folder holding it) pulled every clip the
    workspace had cut as a new source, to be cut again: the corpus counted its speech twice."""
    path = make_media("talk.wav", audio=speech[: round(CUES[1]["end"] * RATE) + RATE // 2])
    path.rename(workspace.root / "talk.wav")
    [first] = pull(workspace, [str(workspace.root)], workers=1)
    assert first.status == "pulled", first
    cut(workspace, workers=1)
    clips = workspace.read_clips()
    assert len(clips) == 2 and len(pull(workspace, [str(workspace.root)], workers=1)) == 1
    again = run_cli("pull", str(workspace.root.parent), "--no-cut", cwd=workspace.root)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("have ") and len(workspace.read_sources()) == 1, (
        again.stdout
    )
    [named] = pull(workspace, [str(workspace.abs(clips[0].path))], workers=1)
    assert (named.status, named.reason) == (
        "failed",
        "a clip this workspace cut: pull the recording it was cut from",
    )
    assert len(workspace.read_sources()) == 1 and workspace.read_clips() == clips

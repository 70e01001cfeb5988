"""The acoustic check after the VAD: music and noise give no clips, speech keeps its clips,
sentences over a music bed stay whole, boundaries sit in pauses, and `cut --explain` says
what was dropped and why."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import soundfile
from conftest import RATE, check_consistent, run_cli

from accentds import quality
from accentds.acoustic import BACKGROUND, REASONS, BlockAnalysis, SpeechCheck, bridge_gaps
from accentds.config import VadSettings
from accentds.cut import cut
from accentds.finder import SpeechFinder
from accentds.pull import pull
from accentds.vad import WebrtcDetector

FRAME = RATE * 30 // 1000


def _level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x * (10 ** (dbfs / 20) / np.sqrt(np.mean(x**2)))


def chords(seconds: float, seed: int = 0) -> np.ndarray:
    """Held chords of harmonic notes (organ-like), a new chord every 1.5–3 s."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    at = 0
    while at < len(out):
        n = int(rng.uniform(1.5, 3) * RATE)
        t = np.arange(n) / RATE
        root = 110 * 2 ** (rng.integers(0, 12) / 12)
        env = np.minimum(t / 0.05, 1) * np.minimum((t[-1] - t) / 0.05 + 1e-3, 1)
        for step in (0, 4, 7, 12):
            f = root * 2 ** (step / 12)
            out[at : at + n] += env[: len(out) - at] * sum(
                np.sin(2 * np.pi * f * k * t[: len(out) - at]) / k for k in range(1, 8) if f * k < 7000
            )
        at += n
    return out


def plucks(seconds: float, seed: int = 1) -> np.ndarray:
    """Plucked notes on a beat (piano-like), with a kick drum."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE) + RATE)
    beat = int(0.4 * RATE)
    t = np.arange(2 * beat) / RATE
    for at in range(0, int(seconds * RATE), beat):
        f = 220 * 2 ** (rng.choice([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
        out[at : at + len(t)] += np.exp(-t / 0.4) * sum(
            np.sin(2 * np.pi * f * k * t) / k for k in range(1, 8)
        )
        kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t[:1600] / 0.03)) * t[:1600]) * np.exp(-t[:1600] / 0.08)
        out[at : at + 1600] += kick
    return out[: int(seconds * RATE)]


def band(seconds: float, seed: int = 4) -> np.ndarray:
    """A band: kick, snare and hi-hat on the beat, a bass line, piano notes and chords over it."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n + 3 * RATE)
    beat = 60 / rng.uniform(80, 140)

    def note(f: float, length: float, decay: float, bright: float) -> np.ndarray:
        t = np.arange(int(length * RATE)) / RATE
        tone = sum(
            np.sin(2 * np.pi * f * k * t) * bright ** (k - 1) / k for k in range(1, 10) if f * k < 7800
        )
        return tone * np.minimum(t / 0.01, 1) * np.exp(-t / decay)

    def add(x: np.ndarray, at: float) -> None:
        i = int(at * RATE)
        out[i : i + len(x)] += x[: len(out) - i]

    root = 110 * 2 ** (rng.integers(0, 12) / 12)
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    t = 0.0
    while t < seconds:  # piano: single notes and chords
        steps = scale[rng.integers(0, 8, 3)]
        for d in steps if rng.random() < 0.4 else steps[:1]:
            add(0.3 * note(root * 2 * 2 ** (d / 12), beat * 2, rng.uniform(0.3, 0.9), 0.5), t)
        t += beat * rng.choice([0.5, 1, 1])
    tt = np.arange(int(0.15 * RATE)) / RATE
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tt / 0.03)) * tt) * np.exp(-tt / 0.08)
    t, k = 0.0, 0
    while t < seconds:  # drums and bass
        add(0.8 * kick, t)
        if k % 2:
            add(0.4 * rng.standard_normal(1920) * np.exp(-np.arange(1920) / 600), t)
        hat = np.diff(rng.standard_normal(641)) * np.exp(-np.arange(640) / 150)
        add(0.15 * hat, t)
        add(0.1 * hat, t + beat / 2)
        add(0.5 * note(root / 2 * 2 ** (scale[rng.integers(0, 5)] / 12), beat, 0.4, 0.3), t)
        t += beat
        k += 1
    return out[:n]


def pink(seconds: float, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spec = np.fft.rfft(rng.standard_normal(n))
    return np.fft.irfft(spec / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20)), n)


def white(seconds: float, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE))


def pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


MUSIC_AND_NOISE = pytest.mark.parametrize(
    "make",
    [chords, plucks, band, pink, white],
    ids=["held chords", "plucked notes and drums", "band", "pink noise", "white noise"],
)

# the hand-made check runs after webrtcvad alone, for a cut without a neural model
CHECK = VadSettings(backend="webrtc", music_noise_check=True, min_clip_s=1.0)
ALONE = VadSettings(backend="webrtc", music_noise_check=False, min_clip_s=1.0)


def run_finder(samples: np.ndarray, vad: VadSettings, chunk_frames: int = 512) -> tuple[SpeechFinder, list]:
    """The pipeline `cut` runs, fed int16 samples in chunks: the finder and its clips."""
    finder = SpeechFinder(vad)
    data = samples[: len(samples) // FRAME * FRAME].tobytes()
    size = finder.frame_bytes * chunk_frames
    found = []
    for at in range(0, len(data), size):
        found += finder.feed(data[at : at + size])[0]
    return finder, found + finder.finish()


def clips_of(samples: np.ndarray, vad: VadSettings | None = None) -> list[tuple[float, float]]:
    _, found = run_finder(samples, vad or CHECK)
    return [(c.start * 0.03, c.end * 0.03) for c in found]


def sentences(speech: np.ndarray) -> list[tuple[float, float]]:
    """Where the sample speaks: runs of 10 ms frames above -50 dBFS, joined across gaps < 0.3 s."""
    hop = RATE // 100
    x = speech[: len(speech) // hop * hop].astype(np.float64).reshape(-1, hop) / 32768
    loud = 10 * np.log10(np.mean(x**2, axis=1) + 1e-12) > -50
    spans: list[list[float]] = []
    for i in np.flatnonzero(loud):
        t = i / 100
        if spans and t - spans[-1][1] < 0.3:
            spans[-1][1] = t + 0.01
        else:
            spans.append([t, t + 0.01])
    return [(a, b) for a, b in spans if b - a > 0.3]


@MUSIC_AND_NOISE
def test_music_and_noise_alone_give_no_clips(make):
    audio = pcm16(_level(make(30.0), -20))
    assert clips_of(audio, ALONE), "the VAD alone should take this for speech"
    assert clips_of(audio) == []


def test_speech_keeps_every_sentence(speech):
    truth = sentences(speech)
    clips = clips_of(speech)
    assert len(truth) == 8
    for a, b in truth:
        assert any(c <= a + 0.05 and b - 0.05 <= d for c, d in clips), (a, b, clips)


def test_speech_over_a_music_bed_is_cut_without_the_bed(speech):
    bed = _level(chords(len(speech) / RATE, seed=5), -31)  # 12 dB under the speech (-19 dBFS)
    mixed = pcm16(speech / 32768 + bed[: len(speech)])
    truth = sentences(speech)
    clips = clips_of(mixed)
    for a, b in truth:
        assert any(c <= a + 0.1 and b - 0.1 <= d for c, d in clips), (a, b, clips)
    speech_s = sum(b - a for a, b in truth)
    kept_s = sum(d - c for c, d in clips)
    raw_s = sum(d - c for c, d in clips_of(mixed, ALONE))
    assert kept_s < speech_s + len(truth) * 2 * 0.3  # speech, its padding and little more
    assert raw_s > kept_s + 4  # the VAD alone keeps the bed between sentences


def quiet_word_end_over_a_bed(
    speech: np.ndarray, bed: np.ndarray | None
) -> tuple[np.ndarray, tuple[float, float]]:
    """The sample's second and third sentences made one: the second ends in a 0.4 s tail
    20 dB down (a quiet word end, 8 dB under the bed), then the third follows at once; over
    `bed` 12 dB under the speech (None: no bed). Returns the PCM and the sentence's span (s)."""
    (a, b), (c, d) = sentences(speech)[1:3]
    first = speech[int(a * RATE) : int(b * RATE)] / 32768
    tail = first[-int(0.4 * RATE) :] * 0.1
    second = speech[int(c * RATE) : int(d * RATE)] / 32768
    pause = np.zeros(RATE)
    x = np.concatenate([pause, first, tail, second, pause])
    span = (1.0, (len(x) - RATE) / RATE)
    if bed is not None:
        x = x + _level(bed, -31)[: len(x)]
    return pcm16(x), span


@pytest.mark.parametrize("make", [chords, plucks], ids=["held chords", "plucked notes and drums"])
def test_quiet_word_ends_over_a_music_bed_do_not_split_the_sentence(speech, make):
    alone, _ = quiet_word_end_over_a_bed(speech, None)
    assert len(clips_of(alone, ALONE)) == 1, "one utterance to the VAD"
    mixed, span = quiet_word_end_over_a_bed(speech, make(30.0))
    clips = clips_of(mixed)
    assert len(clips) == 1, clips
    (c, d), (a, b) = clips[0], span
    assert c <= a + 0.1 and b - 0.1 <= d, (clips, span)
    assert d - c < b - a + 1.0  # the sentence and its padding, not the bed around it


def frames_of(text: str) -> tuple[np.ndarray, np.ndarray]:
    """VAD flags and reasons from a string: X kept, . not speech to the VAD, b background,
    m music (one frame each)."""
    codes = {"X": 0, ".": 0, "b": BACKGROUND, "m": REASONS.index("music")}
    return np.array([ch != "." for ch in text]), np.array([codes[ch] for ch in text], np.int8)


@pytest.mark.parametrize(
    "text, bridged",
    [
        ("X" * 10 + "b" * 15 + "X" * 10, True),  # a quiet word end of 0.45 s
        ("X" * 10 + "b" * 7 + "." * 4 + "b" * 2 + "X" * 10, True),  # VAD silence inside
        ("X" * 10 + "b" * 21 + "X" * 10, False),  # longer than BRIDGE_S: a pause
        ("X" * 10 + "b" * 6 + "m" * 3 + "b" * 6 + "X" * 10, False),  # music in the gap
        ("b" * 4 + "X" * 5 + "b" * 4 + "X" * 2 + "b" * 10 + "X" * 10, False),  # weak left side
        ("X" * 10 + "b" * 10 + "X" * 3 + "m" * 14, False),  # weak right side
        ("b" * 10 + "X" * 10, False),  # no speech before
    ],
)
def test_only_short_background_gaps_inside_speech_are_bridged(text, bridged):
    vad, why = frames_of(text)
    out = bridge_gaps(vad, why, bridge=20, side=17, side_kept=8)
    if bridged:
        assert not (out == BACKGROUND).any()
        assert np.array_equal(out[why != BACKGROUND], why[why != BACKGROUND])
    else:
        assert np.array_equal(out, why), (text, out)


def test_clip_boundaries_fall_in_pauses_and_padding_stays_out_of_neighbours(speech):
    # the sample's sentences with pauses of 0.5 s (shorter than 2 × padding + merge gap)
    truth = sentences(speech)
    parts, spans, at = [], [], 0.0
    gap = np.zeros(int(0.5 * RATE), np.int16)
    for a, b in truth:
        piece = speech[int(a * RATE) : int(b * RATE)]
        parts += [piece, gap]
        spans.append((at, at + len(piece) / RATE))
        at += (len(piece) + len(gap)) / RATE
    audio = np.concatenate([gap, *parts])
    spans = [(a + 0.5, b + 0.5) for a, b in spans]
    clips = clips_of(audio, CHECK.with_overrides(merge_gap_ms=300, max_clip_s=8))
    for c, d in clips:
        for a, b in spans:
            assert not a + 0.06 < c < b - 0.06, f"clip starts inside speech at {c:.2f} ({a:.2f}-{b:.2f})"
            assert not a + 0.06 < d < b - 0.06, f"clip ends inside speech at {d:.2f} ({a:.2f}-{b:.2f})"
    for (_, d), (c2, _) in itertools.pairwise(clips):
        assert d <= c2, "clips overlap: padding ran into the neighbour"


@pytest.mark.parametrize("scene", ["plucks under the sample", "quiet word end over chords"])
def test_the_check_decides_the_same_whatever_the_chunking(speech, scene):
    if scene == "plucks under the sample":
        audio = pcm16(speech / 32768 + _level(plucks(len(speech) / RATE), -35)[: len(speech)])
    else:  # a gap is bridged, so bridging must not depend on the chunks either
        audio = quiet_word_end_over_a_bed(speech, chords(30.0, seed=5))[0]
    audio = audio[: len(audio) // FRAME * FRAME]
    flags = WebrtcDetector(2, RATE, 30).detect(audio.tobytes())[0]
    results = []
    for chunk in (len(flags), 512, 37, 1):
        check, analysis = SpeechCheck(RATE, 30), BlockAnalysis(RATE)
        kept, why = [], []
        for i in range(0, len(flags), chunk):
            blocks = analysis.push(audio[i * FRAME : (i + chunk) * FRAME])
            k, w = check.push(blocks, flags[i : i + chunk])
            kept.append(k)
            why.append(w)
        k, w = check.finish(analysis.finish())
        results.append((np.concatenate([*kept, k]), np.concatenate([*why, w])))
    first = results[0]
    assert len(first[0]) == len(flags)
    for kept, why in results[1:]:
        assert np.array_equal(kept, first[0]) and np.array_equal(why, first[1])
    assert set(np.unique(first[1])) <= set(range(len(REASONS)))


def test_cut_explain_names_the_music_it_dropped(workspace, make_media, speech):
    music = pcm16(_level(chords(12.0), -22))
    audio = np.concatenate([speech[: 8 * RATE], music, speech[8 * RATE : 16 * RATE]])
    media = make_media("talk with jingle.mp4", "-c:a", "aac", audio=audio)
    pull(workspace, [str(media)], licence="CC0-1.0")
    done = run_cli(
        "cut", "--explain", "--workers", "1", "--backend", "webrtc", "--music-noise-check", cwd=workspace.root
    )
    assert done.returncode == 0, done.stderr
    assert "music-like" in done.stdout, done.stdout
    # the source's line counts all audio outside the clips (silence too) as "not kept"; only
    # what the VAD heard and no clip kept is called dropped
    [cut_line] = [ln for ln in done.stdout.splitlines() if ln.startswith("cut ")]
    assert (
        re.search(r" clips +\d+\.\d min kept +\d+\.\d min not kept ", cut_line) and "dropped" not in cut_line
    )
    assert re.search(r"^ +dropped: [\d.]+ s ", done.stdout, re.M)
    # each reason is explained once, and each passage names its reason
    assert done.stdout.count("music-like") == 1, done.stdout
    line = next(ln for ln in done.stdout.splitlines() if re.match(r" +\d:\d\d:\d\d\.\d–.* music$", ln))
    start = line.split()[0].split("–")[0]
    minutes, seconds = start.split(":")[1:]
    assert 7.0 <= int(minutes) * 60 + float(seconds) <= 9.5  # the jingle starts at 8 s
    check_consistent(workspace)
    for clip in workspace.read_clips():
        assert clip.end <= 8.5 or clip.start >= 19.5, f"clip over the jingle: {clip.start}-{clip.end}"


def test_a_music_only_source_is_reported_and_gets_no_clips(workspace, make_media):
    media = make_media("jingle.mp3", audio=pcm16(_level(plucks(20.0), -18)))
    pull(workspace, [str(media)], licence="CC0-1.0")
    results = cut(workspace, workers=1, vad=CHECK)
    [source] = workspace.read_sources()
    assert [(r.ok, r.warning) for r in results] == [
        (
            True,
            "no speech found: the VAD heard 20.0 s, none kept (20.0 s music; "
            f"`accentds cut {source.source_id} --force --dry-run --explain` lists where)",
        )
    ]
    assert sum(end - start for start, end, reason in results[0].drops if reason in ("music", "steady")) > 10
    assert workspace.read_clips() == []


def test_quality_hints_reach_the_manifest_and_a_reupload_is_grouped(workspace, make_media, speech):
    import pyarrow.parquet as pq

    original = make_media("talk.mp4", "-c:a", "aac", audio=speech)
    quieter = (speech * 0.7).astype(np.int16)  # -3 dB, re-encoded with another codec
    reupload = make_media("talk again.webm", "-c:a", "libopus", "-b:a", "32k", audio=quieter)
    pull(workspace, [str(original), str(reupload)], licence="CC0-1.0")
    results = cut(workspace, workers=1)
    assert all(r.ok for r in results) and all(len(r.clips) == 8 for r in results)
    check_consistent(workspace)
    rows = pq.read_table(workspace.manifest_parquet).to_pylist()
    assert len(rows) == 16
    for row in rows:
        assert row["snr_db"] > 15 and -40 < row["lufs"] < -10 and row["clipping_ratio"] == 0
        assert row["bandwidth_hz"] > 3800
        assert row["quality_flags"] == "duplicate", row
        # measured from the streamed blocks, they agree with the measures on the clip's file
        audio, rate = soundfile.read(workspace.root / row["path"], dtype="int16")
        assert row["lufs"] == pytest.approx(quality.lufs(audio, rate), abs=0.3)
        assert row["bandwidth_hz"] == pytest.approx(quality.bandwidth_hz(audio, rate), rel=0.05)
    groups: dict[str, set[str]] = {}
    for row in rows:
        groups.setdefault(row["duplicate_group"], set()).add(row["source_id"])
    assert len(groups) == 8 and all(len(sources) == 2 for sources in groups.values())

"""Silero VAD with the real model shipped in accentds, run by onnxruntime, on real audio."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from accentds.errors import AccentdsError
from accentds.silero import SileroDetector, find_model, hysteresis
from accentds.vad import WebrtcDetector

MODEL = find_model()

RATE = 16000


def frame_db(samples: np.ndarray, n: int) -> np.ndarray:
    """Per-frame rms in dBFS."""
    frames = samples[: len(samples) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10((frames**2).mean(axis=1) / 32768.0**2 + 1e-10)


def whole(samples: np.ndarray, n: int) -> bytes:
    return samples[: len(samples) // n * n].astype("<i2").tobytes()


def detect_in_chunks(detector, pcm: bytes, sizes) -> list[bool]:
    """Flags of `pcm` fed in chunks of the given numbers of frames (cycled)."""
    flags: list[bool] = []
    pos, k = 0, 0
    while pos < len(pcm):
        chunk = pcm[pos : pos + sizes[k % len(sizes)] * detector.frame_bytes]
        got, power, peaks = detector.detect(chunk)
        assert len(got) == len(power) == len(peaks) == len(chunk) // detector.frame_bytes
        flags += got
        pos, k = pos + len(chunk), k + 1
    return flags


@pytest.fixture(scope="module")
def speech_8k(ffmpeg: str, speech: np.ndarray) -> np.ndarray:
    """The sample speech at 8 kHz (ffmpeg's resampler)."""
    out = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "s16le",
            "-ar",
            "16000",
            "-ac",
            "1",
            "-i",
            "-",
            "-ar",
            "8000",
            "-f",
            "s16le",
            "-",
        ],
        input=speech.tobytes(),
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, "<i2")


def test_the_model_ships_with_accentds_and_runs_without_torch():
    assert MODEL.name == "silero_vad.onnx" and MODEL.is_file()
    assert (MODEL.parent / "LICENSE.silero_vad").read_text().startswith("MIT License")
    code = (
        "import sys; from accentds.silero import SileroDetector; "
        "SileroDetector(0.5, 16000, 30).detect(bytes(960 * 20)); "
        "assert 'torch' not in sys.modules and 'silero_vad' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_speech_is_found_where_the_sample_speaks(speech: np.ndarray, frame_ms: int):
    detector = SileroDetector(0.5, RATE, frame_ms)
    n = detector.frame_samples
    flags = np.array(detector.detect(whole(speech, n))[0])
    loud = frame_db(speech, n) > -45  # the sample's pauses sit near -60 dBFS, its speech above -45
    assert (flags == loud).mean() >= 0.90  # measured: 0.93 (10 ms) to 0.94 (30 ms)
    assert flags[loud].mean() >= 0.97  # measured: 0.997 of the loud frames are speech
    # inside the pauses between sentences (away from their edges) nothing is speech
    quiet = ~loud
    edges = np.convolve(loud, np.ones(2 * (150 // frame_ms) + 1), mode="same") > 0
    inside = quiet & ~edges
    assert inside.sum() > 0.5 * 1000 / frame_ms  # at least half a second of such pause
    assert flags[inside].mean() <= 0.02  # measured: 0


def test_same_flags_and_levels_as_the_webrtc_detector_shape(speech: np.ndarray):
    silero, webrtc = SileroDetector(0.5, RATE, 30), WebrtcDetector(2, RATE, 30)
    assert (silero.rate, silero.frame_samples, silero.frame_bytes) == (RATE, 480, 960)
    assert (silero.frame_samples, silero.frame_bytes) == (webrtc.frame_samples, webrtc.frame_bytes)
    pcm = whole(speech, 480)
    flags, power, peaks = silero.detect(bytearray(pcm))
    _, power_w, peaks_w = webrtc.detect(memoryview(pcm))
    assert isinstance(flags, list) and all(isinstance(f, bool) for f in flags)
    assert power.dtype == np.float64
    np.testing.assert_array_equal(power, power_w)
    np.testing.assert_array_equal(peaks, peaks_w)


def test_the_model_is_called_as_the_wheels_sequence_model_computes_it(speech: np.ndarray):
    """The wheel's batched model (every window after the last 64 samples of the one before,
    its state as h and c) is documented to give the streaming model's probabilities exactly."""
    import onnxruntime

    path = MODEL.parent / "silero_vad_16k_sequence.onnx"
    if not path.is_file():
        pytest.skip("this silero-vad wheel has no sequence model")
    audio = speech.astype(np.float32) / 32768.0
    count = -(-len(audio) // 512)
    windows = np.zeros((count, 512), np.float32)
    windows.reshape(-1)[: len(audio)] = audio
    inputs = np.zeros((count, 576), np.float32)
    inputs[:, 64:] = windows
    inputs[1:, :64] = windows[:-1, -64:]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    zeros = np.zeros((1, 1, 128), np.float32)
    expected = session.run(["speech_probs"], {"input": inputs, "h": zeros, "c": zeros})[0]
    probs = SileroDetector(0.5, RATE, 30).probabilities(audio)
    assert len(probs) == count
    np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_hysteresis_enters_at_the_threshold_and_leaves_below_the_lower_one():
    probs = [0.1, 0.5, 0.4, 0.36, 0.35, 0.34, 0.4, 0.49, 0.6, 0.2]
    flags, speaking = hysteresis(probs, 0.5, 0.35)
    assert "".join("X" if f else "." for f in flags) == ".XXXX...X."
    assert not speaking
    flags, speaking = hysteresis([0.4, 0.3, 0.9], 0.5, 0.35, speaking=True)  # state carried in
    assert flags.tolist() == [True, False, True] and speaking


@pytest.mark.parametrize(("rate", "frame_ms"), [(RATE, 10), (RATE, 30), (8000, 20)])
def test_a_frame_is_speech_when_a_window_overlapping_it_is(speech: np.ndarray, rate: int, frame_ms: int):
    samples = speech if rate == RATE else speech[::2]
    detector = SileroDetector(0.5, rate, frame_ms)
    n, size = detector.frame_samples, detector.window
    pcm = whole(samples, n)
    flags = detector.detect(pcm)[0]
    probs = SileroDetector(0.5, rate, frame_ms).probabilities(np.frombuffer(pcm, "<i2") / 32768.0)
    windows, _ = hysteresis(probs, 0.5, 0.35)
    expected = [bool(windows[k * n // size : (k * n + n - 1) // size + 1].any()) for k in range(len(flags))]
    assert flags == expected
    assert any(a != b for a, b in zip(flags[1:], flags[:-1], strict=True))  # not all alike


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_chunks_of_512_frames_give_the_flags_of_the_whole_signal(speech: np.ndarray, frame_ms: int):
    n = RATE * frame_ms // 1000
    pcm = whole(speech, n)
    expected = SileroDetector(0.5, RATE, frame_ms).detect(pcm)[0]
    assert detect_in_chunks(SileroDetector(0.5, RATE, frame_ms), pcm, [512]) == expected


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_odd_chunks_give_one_flag_per_frame_and_differ_only_at_their_edges(speech: np.ndarray, frame_ms: int):
    n = RATE * frame_ms // 1000
    pcm = whole(speech, n)
    expected = SileroDetector(0.5, RATE, frame_ms).detect(pcm)[0]
    sizes = [1, 7, 511, 3, 100, 2, 513, 37]
    got = detect_in_chunks(SileroDetector(0.5, RATE, frame_ms), pcm, sizes)
    assert len(got) == len(expected)
    # only a frame reaching into the window left incomplete at the end of a chunk is decided
    # without its real samples; a window (32 ms) holds at most 4 frames of 10 ms
    ends, pos, k = set(), 0, 0
    while pos < len(expected):
        pos += sizes[k % len(sizes)]
        ends.update(range(pos - 4, pos))
        k += 1
    differ = {i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b}
    assert differ <= ends
    assert len(differ) <= 0.01 * len(expected)  # measured on this sample: none at all


def test_a_chunk_may_hold_no_frame():
    detector = SileroDetector(0.5, RATE, 30)
    flags, power, peaks = detector.detect(b"")
    assert flags == [] and len(power) == 0 and len(peaks) == 0


def test_white_noise_is_not_speech():
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 10 ** (-20 / 20) * 32768, RATE * 20)
    noise = np.clip(noise, -32768, 32767).astype("<i2")
    for rate, samples in ((RATE, noise), (8000, noise[::2])):
        detector = SileroDetector(0.5, rate, 30)
        flags = detector.detect(whole(samples, detector.frame_samples))[0]
        assert np.mean(flags) <= 0.02  # measured: 0 (highest window probability 0.04)


def test_a_chord_of_sines_is_not_speech():
    t = np.arange(RATE * 20) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0, 523.25))  # C major
    chord = (chord / np.abs(chord).max() * 0.5 * 32767).astype("<i2")
    detector = SileroDetector(0.5, RATE, 30)
    flags = detector.detect(whole(chord, 480))[0]
    # measured: 0 (highest window probability 0.013); music with voice-like timbre can fool
    # Silero, so allow a little
    assert np.mean(flags) <= 0.05


def test_8khz_works(speech: np.ndarray, speech_8k: np.ndarray):
    detector = SileroDetector(0.5, 8000, 30)
    assert (detector.frame_samples, detector.frame_bytes) == (240, 480)
    flags = np.array(detector.detect(whole(speech_8k, 240))[0])
    loud = frame_db(speech_8k, 240) > -45
    assert (flags == loud).mean() >= 0.90  # measured: 0.93
    at_16k = np.array(SileroDetector(0.5, RATE, 30).detect(whole(speech, 480))[0])
    size = min(len(flags), len(at_16k))
    assert (flags[:size] == at_16k[:size]).mean() >= 0.95  # measured: 0.99
    chunked = detect_in_chunks(SileroDetector(0.5, 8000, 30), whole(speech_8k, 240), [512])
    assert chunked == flags.tolist()


def test_a_higher_threshold_finds_no_more_speech(speech: np.ndarray):
    pcm = whole(speech, 480)
    low = np.array(SileroDetector(0.3, RATE, 30).detect(pcm)[0])
    high = np.array(SileroDetector(0.9, RATE, 30).detect(pcm)[0])
    assert high.sum() <= low.sum()


def test_other_rates_are_refused():
    with pytest.raises(AccentdsError, match=r"8000 or 16000 Hz.*44100"):
        SileroDetector(0.5, 44100, 30)


def test_a_missing_model_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(
        AccentdsError, match=r"Silero VAD model not found: .*nowhere\.onnx.*vad\.silero_model"
    ):
        find_model(str(missing))
    with pytest.raises(AccentdsError, match="not found"):
        SileroDetector(0.5, RATE, 30, model_path=str(missing))


def test_a_given_model_path_is_used():
    assert find_model(str(MODEL)) == MODEL
    detector = SileroDetector(0.5, RATE, 20, model_path=str(MODEL))
    assert detector.model == MODEL


def test_a_missing_model_file_is_named(tmp_path):
    with pytest.raises(AccentdsError, match=r"not found: .*nowhere\.onnx \(vad\.silero_model"):
        find_model(tmp_path / "nowhere.onnx")


def far_and_quiet(speech: np.ndarray, seed: int = 1) -> np.ndarray:
    """The sample as a far microphone in a quiet room hears it: reverberant (RT60 0.8 s),
    30 dB down (about -50 LUFS), over a noise floor at -60 dBFS."""
    x = speech.astype(np.float64)
    t = np.arange(round(0.9 * RATE)) / RATE
    rng = np.random.default_rng(seed)
    room = rng.normal(size=len(t)) * np.exp(-6.9 * t / 0.8) * 0.25
    room[0] = 1.0
    wet = np.convolve(x, room)[: len(x)]
    wet *= np.sqrt(np.mean(x**2) / np.mean(wet**2)) * 10 ** (-30 / 20)
    floor = rng.normal(size=len(x)) * 32768 * 10 ** (-60 / 20)
    return np.clip(np.rint(wet + floor), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("frame_ms", [10, 30])
def test_a_quiet_stream_is_raised_alike_in_any_chunks(speech: np.ndarray, frame_ms: int):
    """The gain follows the stream's frames, not its chunks, and raises quiet speech: Silero
    is surer of it raised than as recorded."""
    n = RATE * frame_ms // 1000
    pcm = whole(far_and_quiet(speech), n)
    raised = SileroDetector(0.5, RATE, frame_ms, max_gain_db=20)
    expected = raised.detect(pcm)[0]
    assert detect_in_chunks(SileroDetector(0.5, RATE, frame_ms, max_gain_db=20), pcm, [512]) == expected
    as_recorded = SileroDetector(0.5, RATE, frame_ms).frame_probs(pcm)
    louder = SileroDetector(0.5, RATE, frame_ms, max_gain_db=20).frame_probs(pcm)
    assert np.mean(louder >= 0.5) > np.mean(as_recorded >= 0.5) + 0.1

"""Silero VAD without torch: Silero's ONNX model (MIT licence, shipped in `accentds/data/`
with its licence) run with onnxruntime alone.

The model is called exactly as Silero's own `OnnxWrapper` calls it: windows of 512 samples at
16 kHz (256 at 8 kHz), each preceded by the last 64 (32) samples of the window before it
(zeros before the first), with the recurrent state (2, 1, 128) carried from window to window.

Windows do not line up with frames (10, 20 or 30 ms), so a frame is speech when any window
overlapping it is speech, and a window is speech by the hysteresis of `get_speech_timestamps`:
speech starts at a probability of at least `threshold` and ends below `threshold - 0.15`
(0.01 at least).

Silero hears speech less well the quieter it is: at 10 dB below the benchmark's level (a
median of -36.5 LUFS, a quiet vlog or a far microphone) its recall fell from 99.6 % to 97.6 %
and a far-field file lost 61 % of its speech. So a quiet stream is raised before the model
hears it, by up to `max_gain_db`: each frame by what brings the stream's recent loud level to
LEVEL_TARGET_DBFS. That level follows the loudest frame at once and falls by
LEVEL_RELEASE_DB_PER_S after it, so a bang keeps the gain down for a while and speech in a
quiet recording raises it within seconds. Only the model hears the raised sound."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AccentdsError

MODEL = Path(__file__).parent / "data" / "silero_vad.onnx"  # Silero VAD v6, opset 16, both rates
WINDOWS = {16000: (512, 64), 8000: (256, 32)}  # rate: (window samples, context samples)
STATE_SHAPE = (2, 1, 128)
LEVEL_TARGET_DBFS = -20.0  # the recent loudest frame's power is raised up to this
LEVEL_RELEASE_DB_PER_S = 2.0  # how fast that level forgets a loud frame
INSTALL_HINT = "reinstall accentds: `pip install accentds` brings onnxruntime and the model"


def find_model(path: str | Path | None = None) -> Path:
    """The Silero ONNX model: `path` when given, else the one shipped with accentds."""
    model = Path(path).expanduser() if path else MODEL
    if not model.is_file():
        if path:
            raise AccentdsError(
                f"Silero VAD model not found: {model} (vad.silero_model must name an existing .onnx file)"
            )
        raise AccentdsError(f"the Silero VAD model {model} is missing: {INSTALL_HINT}")
    return model


def open_session(sample_rate: int, model_path: str | None = None) -> tuple[Any, Path]:
    """An onnxruntime session of the Silero model (one thread: each worker runs its own)."""
    if sample_rate not in WINDOWS:
        allowed = " or ".join(str(rate) for rate in sorted(WINDOWS))
        raise AccentdsError(f"Silero VAD works at {allowed} Hz, not {sample_rate} Hz")
    model = find_model(model_path)
    try:
        import onnxruntime
    except ImportError as exc:  # installed but broken
        raise AccentdsError(f"onnxruntime cannot be imported ({exc}): {INSTALL_HINT}") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise AccentdsError(f"cannot load the Silero VAD model {model}: {exc}") from exc
    return session, model


def hysteresis(
    probs: Sequence[float] | np.ndarray, threshold: float, neg_threshold: float, speaking: bool = False
) -> tuple[np.ndarray, bool]:
    """Speech flag of each window as `get_speech_timestamps` decides it: speech starts at a
    probability of at least `threshold` and lasts until one below `neg_threshold`. `speaking`
    is the state before the first window; the state after the last is returned too."""
    flags = np.zeros(len(probs), bool)
    for k, prob in enumerate(np.asarray(probs, np.float64).tolist()):  # compared as Python floats
        speaking = prob >= neg_threshold if speaking else prob >= threshold
        flags[k] = speaking
    return flags, speaking


class SileroDetector:
    """Silero VAD over whole frames of mono s16le PCM, with per-frame energy and peak.

    Same interface as `accentds.vad.WebrtcDetector`. `detect` is called on consecutive
    chunks of one stream; the model state, the context samples, the samples of the window
    not yet complete and the hysteresis state carry over from call to call. Frames that
    overlap the incomplete window at the end of a call are decided with that window
    zero-padded, run on a copy of the state; the next call runs it again with its real
    samples. Chunks whose length is a multiple of the window (512 frames of any length
    are) thus give exactly the flags of the whole stream in one call."""

    def __init__(
        self,
        threshold: float,
        sample_rate: int,
        frame_ms: int,
        model_path: str | None = None,
        max_gain_db: float = 0.0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise AccentdsError(f"the silero VAD threshold must be between 0 and 1, not {threshold}")
        self.session, model = open_session(sample_rate, model_path)
        self.model = model
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01)  # as get_speech_timestamps
        self.rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self.frame_bytes = self.frame_samples * 2
        self.max_gain_db = max_gain_db
        self.window, self.context = WINDOWS[sample_rate]
        self._sr = np.array(sample_rate, dtype=np.int64)
        self._state = np.zeros(STATE_SHAPE, np.float32)  # after the last complete window
        self._last = np.zeros(self.context, np.float32)  # its last `context` samples
        self._pending = np.zeros(0, np.float32)  # samples of the window not yet complete
        self._speaking = False  # hysteresis state after the last complete window
        self._frame = 0  # frames of the stream so far
        self._loudest = -np.inf  # the highest frame level (dB) plus its frame index times the release

    def reset(self) -> None:
        """Forget the stream: the next `detect` starts a new one."""
        self._state = np.zeros(STATE_SHAPE, np.float32)
        self._last = np.zeros(self.context, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._speaking = False
        self._frame = 0
        self._loudest = -np.inf

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability of each window of a whole stream (float samples in [-1, 1]), the
        last window zero-padded, as the wheel's `get_speech_timestamps` computes them. The
        detector starts afresh, before and after."""
        self.reset()
        probs, _, _ = self._run(np.asarray(samples, np.float32))
        tail = len(samples) % self.window
        if tail:
            probs = np.append(probs, self._run_tail(self._pending))
        self.reset()
        return probs

    def detect(self, pcm: bytes | bytearray | memoryview) -> tuple[list[bool], np.ndarray, np.ndarray]:
        """For each whole frame of `pcm` (its length a multiple of a frame): the speech flag,
        the mean power (in squared full-scale units) and the peak sample magnitude."""
        flags, _, power, peaks = self.analyse(pcm)
        return flags.tolist(), power, peaks

    def analyse(
        self, pcm: bytes | bytearray | memoryview
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For each whole frame of `pcm`: the speech flag (hysteresis), the highest speech
        probability of the windows overlapping it, the mean power and the peak magnitude."""
        n = self.frame_samples
        samples = np.frombuffer(pcm, dtype="<i2").reshape(-1, n)
        power = np.einsum("ij,ij->i", samples, samples, dtype=np.float64) / (n * 32768.0**2)
        if not len(samples):
            return np.zeros(0, bool), np.zeros(0, np.float32), power, np.zeros(0, np.int32)
        peaks = np.maximum(samples.max(axis=1).astype(np.int32), -samples.min(axis=1).astype(np.int32))
        del samples  # holds the caller's buffer
        flags, probs = self._frames(pcm)
        return flags, probs, power, peaks

    def frame_probs(self, pcm: bytes | bytearray | memoryview) -> np.ndarray:
        """The highest speech probability of the windows overlapping each whole frame of `pcm`
        (`analyse` without the levels, for a caller that has them)."""
        return self._frames(pcm)[1]

    # -- internals ------------------------------------------------------------
    def _frames(self, pcm: bytes | bytearray | memoryview) -> tuple[np.ndarray, np.ndarray]:
        """Each whole frame's speech flag and highest window probability; the stream moves on."""
        n = self.frame_samples
        samples = np.frombuffer(pcm, dtype="<i2")
        frames = len(samples) // n
        if not frames:
            return np.zeros(0, bool), np.zeros(0, np.float32)
        offset = len(self._pending)  # samples before this call's first frame in the first window
        whole = samples[: frames * n].astype(np.float32)
        if self.max_gain_db > 0:
            whole *= np.repeat(self._gains(whole.reshape(frames, n)), n)
        audio = np.concatenate((self._pending, whole / 32768.0))
        del samples, whole  # the first holds the caller's buffer
        probs, speech, rest = self._run(audio)
        if len(rest):  # decide the frames that reach into the incomplete window, provisionally
            tail_prob = self._run_tail(rest)
            tail, _ = hysteresis([tail_prob], self.threshold, self.neg_threshold, self._speaking)
            speech = np.append(speech, tail)
            probs = np.append(probs, np.float32(tail_prob))
        # frame k covers samples [offset + k*n, offset + (k+1)*n) of `audio`: one window or two
        starts = offset + np.arange(frames) * n
        first, last = starts // self.window, (starts + n - 1) // self.window
        counts = np.concatenate(([0], np.cumsum(speech, dtype=np.int64)))
        flags = (counts[last + 1] - counts[first]) > 0
        return flags, np.maximum(probs[first], probs[last])

    def _gains(self, frames: np.ndarray) -> np.ndarray:
        """Each frame's gain: what raises the stream's recent loud level (its loudest frame,
        falling by LEVEL_RELEASE_DB_PER_S since) to LEVEL_TARGET_DBFS, at most max_gain_db,
        never below 1. It depends on the stream's frames alone, not on how it is chunked."""
        power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / (frames.shape[1] * 32768.0**2)
        level = 10 * np.log10(power + 1e-12)
        release = LEVEL_RELEASE_DB_PER_S * frames.shape[1] / self.rate  # dB per frame
        ramp = release * (self._frame + np.arange(len(frames)))
        loudest = np.maximum(np.maximum.accumulate(level + ramp), self._loudest)  # level_j + ramp_j
        self._loudest, self._frame = float(loudest[-1]), self._frame + len(frames)
        gain_db = np.clip(LEVEL_TARGET_DBFS - (loudest - ramp), 0.0, self.max_gain_db)
        return (10 ** (gain_db / 20)).astype(np.float32)

    def _run(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the complete windows of `audio` (which starts at a window boundary) through the
        model and commit the state after them; return their probabilities, their hysteresis
        flags and the samples left over (kept for the next call)."""
        size, ctx = self.window, self.context
        count = len(audio) // size
        rest = audio[count * size :]
        probs = np.empty(count, np.float32)
        speech = np.zeros(count, bool)
        if count:
            windows = audio[: count * size].reshape(count, size)
            inputs = np.empty((count, ctx + size), np.float32)  # each window after its context
            inputs[:, ctx:] = windows
            inputs[0, :ctx] = self._last
            inputs[1:, :ctx] = windows[:-1, -ctx:]
            run, state, sr = self.session.run, self._state, self._sr
            for k in range(count):
                out, state = run(None, {"input": inputs[k : k + 1], "state": state, "sr": sr})
                probs[k] = out[0, 0]
            speech, self._speaking = hysteresis(probs, self.threshold, self.neg_threshold, self._speaking)
            self._state = state
            self._last = windows[-1, -ctx:].copy()
        self._pending = rest.copy()
        return probs, speech, rest

    def _run_tail(self, rest: np.ndarray) -> float:
        """Probability of the incomplete window `rest`, zero-padded, from the committed state;
        the state is left as it was."""
        size, ctx = self.window, self.context
        inputs = np.zeros((1, ctx + size), np.float32)
        inputs[0, :ctx] = self._last
        inputs[0, ctx : ctx + len(rest)] = rest
        out, _ = self.session.run(None, {"input": inputs, "state": self._state.copy(), "sr": self._sr})
        return float(out[0, 0])

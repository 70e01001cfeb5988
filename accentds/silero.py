"""The Silero VAD backend: the Silero ONNX model run with onnxruntime alone (no torch).

The model comes from the `silero-vad` wheel, installed without its dependencies so that torch
stays out; the package itself is never imported (its `__init__` imports torch), only its data
folder is read. The model is called exactly as the wheel's `OnnxWrapper` calls it: windows of
512 samples at 16 kHz (256 at 8 kHz), each preceded by the last 64 (32) samples of the window
before it (zeros before the first), with the recurrent state (2, 1, 128) carried from window to
window.

Windows do not line up with frames (10, 20 or 30 ms), so a frame is speech when any window
overlapping it is speech, and a window is speech by the hysteresis of `get_speech_timestamps`:
speech starts at a probability of at least `threshold` and ends below `threshold - 0.15`
(0.01 at least)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import AccentdsError

MODEL_NAME = "silero_vad.onnx"  # the wheel's opset-16 model, the one that takes both rates
WINDOWS = {16000: (512, 64), 8000: (256, 32)}  # rate: (window samples, context samples)
STATE_SHAPE = (2, 1, 128)
INSTALL_HINT = (
    "install it with `pip install 'accentds[silero]'` and `pip install --no-deps silero-vad` "
    "(or set vad.silero_model to the path of a Silero VAD .onnx model)"
)


def find_model(path: str | Path | None = None) -> Path:
    """The Silero ONNX model: `path` when given, else the one inside the installed silero-vad wheel."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise AccentdsError(
            f"the silero VAD backend needs onnxruntime, which is not installed: {INSTALL_HINT}"
        )
    if path:
        model = Path(path).expanduser()
        if not model.is_file():
            raise AccentdsError(
                f"Silero VAD model not found: {model} (vad.silero_model must name an existing .onnx file)"
            )
        return model
    spec = importlib.util.find_spec("silero_vad")  # finds the package without importing it
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        model = Path(folder) / "data" / MODEL_NAME
        if model.is_file():
            return model
    where = f" (looked in {', '.join(folders)})" if folders else ""
    raise AccentdsError(f"the Silero VAD model {MODEL_NAME} was not found{where}: {INSTALL_HINT}")


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
        self, threshold: float, sample_rate: int, frame_ms: int, model_path: str | None = None
    ) -> None:
        if sample_rate not in WINDOWS:
            allowed = " or ".join(str(rate) for rate in sorted(WINDOWS))
            raise AccentdsError(f"the silero VAD backend works at {allowed} Hz, not {sample_rate} Hz")
        if not 0.0 < threshold < 1.0:
            raise AccentdsError(f"the silero VAD threshold must be between 0 and 1, not {threshold}")
        model = find_model(model_path)
        try:
            import onnxruntime
        except ImportError as exc:  # installed but broken
            raise AccentdsError(f"onnxruntime cannot be imported ({exc}): {INSTALL_HINT}") from exc

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one worker per core runs its own detector
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise AccentdsError(f"cannot load the Silero VAD model {model}: {exc}") from exc
        self.model = model
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01)  # as get_speech_timestamps
        self.rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self.frame_bytes = self.frame_samples * 2
        self.window, self.context = WINDOWS[sample_rate]
        self._sr = np.array(sample_rate, dtype=np.int64)
        self._state = np.zeros(STATE_SHAPE, np.float32)  # after the last complete window
        self._last = np.zeros(self.context, np.float32)  # its last `context` samples
        self._pending = np.zeros(0, np.float32)  # samples of the window not yet complete
        self._speaking = False  # hysteresis state after the last complete window

    def reset(self) -> None:
        """Forget the stream: the next `detect` starts a new one."""
        self._state = np.zeros(STATE_SHAPE, np.float32)
        self._last = np.zeros(self.context, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._speaking = False

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
        n = self.frame_samples
        samples = np.frombuffer(pcm, dtype="<i2").reshape(-1, n)
        frames = len(samples)
        power = np.einsum("ij,ij->i", samples, samples, dtype=np.float64) / (n * 32768.0**2)
        if frames:
            peaks = np.maximum(samples.max(axis=1).astype(np.int32), -samples.min(axis=1).astype(np.int32))
        else:
            peaks = np.zeros(0, np.int32)
            return [], power, peaks
        offset = len(self._pending)  # samples before this call's first frame in the first window
        audio = np.concatenate((self._pending, samples.reshape(-1).astype(np.float32) / 32768.0))
        del samples  # holds the caller's buffer
        _, speech, rest = self._run(audio)
        if len(rest):  # decide the frames that reach into the incomplete window, provisionally
            tail, _ = hysteresis([self._run_tail(rest)], self.threshold, self.neg_threshold, self._speaking)
            speech = np.append(speech, tail)
        # frame k covers samples [offset + k*n, offset + (k+1)*n) of `audio`
        starts = offset + np.arange(frames) * n
        first, last = starts // self.window, (starts + n - 1) // self.window
        counts = np.concatenate(([0], np.cumsum(speech, dtype=np.int64)))
        flags = (counts[last + 1] - counts[first]) > 0
        return flags.tolist(), power, peaks

    # -- internals ------------------------------------------------------------
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

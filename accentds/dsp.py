"""Small signal helpers shared by the clip measures (`quality`) and the fingerprints
(`fingerprints`): int16 samples, their full scale, the Hann window, the FFT batch size."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

FULL_SCALE = 32768.0

CHUNK = 1 << 15  # samples per batch of FFT frames: small temporaries avoid page-fault costs


@lru_cache(maxsize=16)
def hann_energy(n: int) -> float:
    """Sum of squares of the n-point Hann window (with FULL_SCALE = 1)."""
    return float(np.sum(hann(n) ** 2))


@lru_cache(maxsize=16)
def hann(n: int) -> np.ndarray:
    """Hann window of n points (the n + 2 point window without its zero ends)."""
    return np.hanning(n + 2)[1:-1]


def as_int16(samples: np.ndarray) -> np.ndarray:
    """Samples as a 1-D int16 array (a view when they already are one)."""
    x = np.asarray(samples).ravel()
    if x.dtype != np.int16:
        x = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    return x

"""Clip quality measures and fingerprints on synthetic signals with known answers and on the
bundled sample's speech (cut into sentences with the cue times of samples/sample.json)."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import noisy_copy, random_fingerprints

from accentds import quality as q
from accentds.acoustic import BlockAnalysis
from accentds.cut import cut
from accentds.pull import pull
from accentds.quality import (
    DUPLICATE_THRESHOLD,
    Quality,
    bandwidth_hz,
    clipping_ratio,
    fingerprint,
    fingerprint_params,
    grid_offset,
    group_duplicates,
    k_weighting,
    lufs,
    measure,
    similarity,
    snr_db,
)

RATE = 16000
CUES = json.loads((Path(__file__).resolve().parent.parent / "samples" / "sample.json").read_text())["cues"]


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def sine(freq: float, seconds: float, amplitude: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def sentence(speech: np.ndarray, i: int, pad: float = 0.2, shift_ms: float = 0.0) -> np.ndarray:
    """Sentence i of the sample with `pad` seconds either side, cut `shift_ms` later."""
    shift = round(shift_ms * RATE / 1000)
    start = max(0, round((CUES[i]["start"] - pad) * RATE) + shift)
    return speech[start : round((CUES[i]["end"] + pad) * RATE) + shift]


def degrade(x: np.ndarray, seed: int, gain_db: float = -3.0, snr: float = 30.0) -> np.ndarray:
    """A "re-encoded" copy: gain change plus white noise at `snr` dB below the clip's power."""
    rng = np.random.default_rng(seed)
    y = x.astype(np.float64) * 10 ** (gain_db / 20)
    noise = rng.normal(size=len(y)) * np.sqrt(np.mean(y**2)) * 10 ** (-snr / 20)
    return to_int16(y + noise)


def low_pass(x: np.ndarray, cutoff: float, rate: int = RATE) -> np.ndarray:
    spectrum = np.fft.rfft(x.astype(np.float64))
    spectrum[np.fft.rfftfreq(len(x), 1 / rate) > cutoff] = 0
    return to_int16(np.fft.irfft(spectrum, len(x)))


def burst_mix(snr: float, kind: str, seed: int, frame_ms: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Signal bursts (whole frames, flagged) plus white noise; SNR = burst power / noise power."""
    rng = np.random.default_rng(seed)
    n = RATE * frame_ms // 1000
    flags = np.zeros(300, dtype=bool)
    at = 5
    while at < len(flags) - 5:
        run = int(rng.integers(8, 20))
        flags[at : at + run] = rng.random() < 0.5
        at += run
    length = len(flags) * n
    if kind == "sine":
        signal = np.sqrt(2) * np.sin(2 * np.pi * 300 * np.arange(length) / RATE)
    else:
        signal = low_pass(rng.normal(size=length) * 3000, 3000).astype(np.float64)
        signal /= signal.std()
    signal *= np.repeat(flags, n)
    signal /= np.sqrt(np.mean(signal[np.repeat(flags, n)] ** 2))  # burst power 1
    amplitude = 3000.0
    noise = rng.normal(size=length) * amplitude * 10 ** (-snr / 20)
    return to_int16(signal * amplitude + noise), flags


def resample_through(ffmpeg: str, x: np.ndarray, rate: int) -> np.ndarray:
    """x sent through `rate` Hz and back to 16 kHz by ffmpeg (a telephone-band copy for 8000)."""

    def convert(data: bytes, src: int, dst: int) -> bytes:
        command = [ffmpeg, "-v", "error", "-f", "s16le", "-ar", str(src), "-ac", "1", "-i", "-"]
        command += ["-ar", str(dst), "-f", "s16le", "-"]
        return subprocess.run(command, input=data, capture_output=True, check=True).stdout

    back = convert(convert(x.tobytes(), RATE, rate), rate, RATE)
    return np.frombuffer(back, dtype="<i2").copy()


# -- SNR -----------------------------------------------------------------------
def with_noise(x: np.ndarray, snr: float, seed: int, colour: str = "white") -> np.ndarray:
    """x plus steady Gaussian noise (white, or pink-ish: low-passed at 1 kHz) at `snr` dB below
    the clip's mean power."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=len(x))
    if colour == "low":
        noise = low_pass(noise * 3000, 1000).astype(np.float64)
    clean = x.astype(np.float64)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2)) * 10 ** (-snr / 20)
    return to_int16(clean + noise)


@pytest.mark.parametrize("colour", ["white", "low"])
def test_snr_of_speech_with_noise_at_a_known_snr(speech, colour):
    # the failure: the noisy copy read a higher SNR than the clean speech
    for i in (1, 4, 6):
        x = sentence(speech, i)
        readings = [snr_db(with_noise(x, snr, seed=i, colour=colour), RATE) for snr in (0, 10, 20)]
        assert readings[:2] == pytest.approx([0, 10], abs=3.0)
        # at 20 dB the sample's own noise floor (22-32 dB as read) counts too
        assert 14 < readings[2] < 23
        assert readings[0] < readings[1] < readings[2] < snr_db(x, RATE)  # more noise, lower SNR


def test_snr_edge_cases():
    bursts = to_int16(np.tile(np.r_[sine(440, 0.3, 8000), np.zeros(RATE // 5)], 4))
    assert snr_db(bursts, RATE) == q.SNR_MAX_DB  # digital silence between the bursts
    noise = to_int16(np.random.default_rng(0).normal(size=RATE) * 1000)
    assert snr_db(noise, RATE) < 3  # steady noise alone: no signal above it
    assert snr_db(np.zeros(RATE, np.int16), RATE) == q.SNR_MIN_DB
    assert snr_db(np.zeros(0, np.int16), RATE) == q.SNR_MIN_DB
    assert q.SNR_MIN_DB <= snr_db(noise[:7], RATE) <= q.SNR_MAX_DB
    assert measure(noise, RATE).snr_db == round(snr_db(noise, RATE), 2)


# -- loudness ------------------------------------------------------------------
def test_k_weighting_at_48k_matches_the_published_coefficients():
    (b1, a1), (b2, a2) = k_weighting(48000)
    assert b1 == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-9)
    assert a1 == pytest.approx([1.0, -1.69065929318241, 0.73248077421585], abs=1e-9)
    assert b2 == pytest.approx([1.0, -2.0, 1.0])
    assert a2 == pytest.approx([1.0, -1.99004745483398, 0.99007225036621], abs=1e-9)


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
@pytest.mark.parametrize(("peak_dbfs", "expected"), [(0.0, -3.01), (-20.0, -23.01)])
def test_lufs_of_a_997_hz_sine(rate, peak_dbfs, expected):
    x = to_int16(sine(997, 5.0, 32767 * 10 ** (peak_dbfs / 20), rate))
    assert lufs(x, rate) == pytest.approx(expected, abs=0.1)


def test_lufs_gates_silence_and_quiet_parts():
    loud = to_int16(sine(997, 8.0, 3276.7))
    # the three blocks across the edge still pass the gates, as BS.1770 has it: -0.08 LU
    with_silence = np.r_[loud, np.zeros(8 * RATE, np.int16)]
    assert lufs(with_silence, RATE) == pytest.approx(lufs(loud, RATE), abs=0.1)
    with_quiet = np.r_[loud, to_int16(sine(997, 8.0, 32.767))]  # 40 dB down: relative gate
    assert lufs(with_quiet, RATE) == pytest.approx(lufs(loud, RATE), abs=0.1)
    expected = lufs(loud, RATE) + 10 * np.log10((1 + 1 / 16) / 2)  # 12 dB down: kept
    assert lufs(np.r_[loud, loud // 4], RATE) == pytest.approx(expected, abs=0.05)
    assert lufs(np.zeros(3 * RATE, np.int16), RATE) == q.LUFS_FLOOR
    assert lufs(np.zeros(0, np.int16), RATE) == q.LUFS_FLOOR
    assert lufs(np.ones(RATE, np.int16), RATE) == q.LUFS_FLOOR  # DC: the high pass removes it
    assert lufs(loud[:1000], RATE) == pytest.approx(-23.0, abs=0.3)  # shorter than one block


def reference_lufs(x: np.ndarray, rate: int) -> float:
    """BS.1770 by the letter: both biquads run sample by sample, then blocks and gates."""
    y = x.astype(np.float64) / 32768
    for b, a in k_weighting(rate):
        out = np.zeros_like(y)
        x1 = x2 = y1 = y2 = 0.0
        for k, v in enumerate(y.tolist()):
            o = b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, v, y1, o
            out[k] = o
        y = out
    block, step = round(0.4 * rate), round(0.1 * rate)
    z = np.array([np.mean(y[s : s + block] ** 2) for s in range(0, len(y) - block + 1, step)])
    z = z[-0.691 + 10 * np.log10(z) > -70]
    z = z[-0.691 + 10 * np.log10(z) > -0.691 + 10 * np.log10(z.mean()) - 10]
    return -0.691 + 10 * np.log10(z.mean())


@pytest.mark.parametrize("rate", [8000, 16000])
def test_lufs_matches_a_direct_implementation_on_speech(speech, rate):
    x = speech[: 6 * RATE : RATE // rate]  # decimated for the 8 kHz case: only a test signal
    assert lufs(x, rate) == pytest.approx(reference_lufs(x, rate), abs=0.01)


# -- loudness and bandwidth from the streamed blocks ---------------------------------
def stream_blocks(x: np.ndarray, chunk: int = 4800) -> tuple[q.SpectraStore, list]:
    """Run x through BlockAnalysis in chunks, as the cut does; the store and every Blocks."""
    analysis = BlockAnalysis(RATE)
    store = q.SpectraStore(analysis.size)
    seen = []
    for i in range(0, len(x), chunk):
        seen.append(analysis.push(x[i : i + chunk]))
    seen.append(analysis.finish())
    for blocks in seen:
        store.add(blocks.loudness, blocks.spectrum)
    return store, seen


def test_loudness_and_bandwidth_from_blocks_match_the_direct_measures(speech):
    for amplitude in (3276.7, 16383.5):
        x = to_int16(sine(997, 8.0, amplitude))
        span = stream_blocks(x)[0].span(0, len(x))
        assert q.lufs_of_blocks(span.loudness, span.size, RATE) == pytest.approx(lufs(x, RATE), abs=0.02)
    for i in range(8):
        start, end = round((CUES[i]["start"] - 0.2) * RATE), round((CUES[i]["end"] + 0.2) * RATE)
        span = stream_blocks(speech)[0].span(start, end)
        x = speech[start:end]
        assert q.lufs_of_blocks(span.loudness, span.size, RATE) == pytest.approx(lufs(x, RATE), abs=0.2)
        assert q.bandwidth_of_spectrum(span.spectrum, RATE, span.size) == pytest.approx(
            bandwidth_hz(x, RATE), abs=150
        )
    noise = to_int16(np.random.default_rng(1).normal(size=5 * RATE) * 3000)
    for x, low, high in ((noise, 7800, 8000), (low_pass(noise, 4000), 3800, 4200)):
        span = stream_blocks(x)[0].span(0, len(x))
        assert low <= q.bandwidth_of_spectrum(span.spectrum, RATE, span.size) <= high
        assert q.lufs_of_blocks(span.loudness, span.size, RATE) == pytest.approx(lufs(x, RATE), abs=0.1)


def test_measure_takes_loudness_and_bandwidth_from_blocks_when_they_cover_400_ms(speech):
    x = speech[: 3 * RATE]
    span = stream_blocks(x)[0].span(0, len(x))
    result = measure(x, RATE, blocks=span)
    assert result.lufs == round(q.lufs_of_blocks(span.loudness, span.size, RATE), 2)
    assert result.bandwidth_hz == round(q.bandwidth_of_spectrum(span.spectrum, RATE, span.size))
    assert result.lufs != round(lufs(x, RATE), 2)  # else the test could not tell the paths apart
    short = stream_blocks(x)[0].span(0, 11 * 512)  # 11 blocks: less than one gating block
    assert measure(x[: 11 * 512], RATE, blocks=short) == measure(x[: 11 * 512], RATE)


def test_block_analysis_does_not_depend_on_the_chunking(speech):
    x = speech[: 7 * RATE + 123]
    first = stream_blocks(x, chunk=len(x))[1]
    whole = {
        f: np.concatenate([getattr(b, f) for b in first]) for f in ("energy", "flatness", "flux", "loudness")
    }
    assert len(whole["energy"]) == -(-len(x) // 512)  # the last partial block, zero-padded
    for chunk in (4800, 1000, 511):
        seen = stream_blocks(x, chunk)[1]
        for field, expected in whole.items():
            got = np.concatenate([getattr(b, field) for b in seen])
            assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), field
        spectra = np.concatenate([b.spectrum for b in seen])
        assert np.array_equal(spectra, np.concatenate([b.spectrum for b in first]))


def test_spectra_store_spans_whole_blocks_and_forgets_the_past():
    rng = np.random.default_rng(3)
    loudness, spectrum = rng.random(5000), rng.random((5000, 257)).astype(np.float32)
    store = q.SpectraStore(512)
    at = forgotten = 0
    while at < len(loudness):
        k = int(rng.integers(1, 300))
        store.add(loudness[at : at + k], spectrum[at : at + k])
        at = min(at + k, len(loudness))
        start = int(rng.integers(forgotten * 512, at * 512))
        end = int(rng.integers(start, at * 512 + 1))
        span = store.span(start, end)
        lo, hi = -(-start // 512), max(-(-start // 512), end // 512)
        assert np.array_equal(span.loudness, loudness[lo:hi])
        assert np.allclose(span.spectrum, spectrum[lo:hi].sum(axis=0, dtype=np.float64))
        forgotten = max(forgotten, at - int(rng.integers(0, 200)))
        store.forget(forgotten)
        assert len(store.loudness) <= 2048  # what is forgotten does not pile up
    assert len(store.span(0, 10 * 512).loudness) == 0  # long forgotten


# -- clipping ------------------------------------------------------------------
def test_clipping_ratio_of_a_hard_clipped_sine():
    x = to_int16(sine(200, 2.0, 2 * 32768))
    assert clipping_ratio(x) == pytest.approx(2 / 3, abs=0.01)


@pytest.mark.parametrize("block", [1, 2, 3, 4, 12])
def test_cumulative_energy_is_exact_at_the_extremes(block):
    from accentds.quality import _cumulative_energy

    x = np.random.default_rng(block).integers(-32768, 32768, 4000).astype(np.int16)
    x[:100] = -32768  # whole blocks of the largest square
    count = len(x) // block
    expected = np.cumsum((x[: count * block].astype(np.int64) ** 2).reshape(count, block).sum(axis=1))
    assert np.array_equal(_cumulative_energy(x, count, block), expected)


@pytest.mark.parametrize("amplitude", [20000, 32766, 2 * 32768])
def test_measure_given_the_peak_gives_the_same_clipping_ratio(amplitude):
    x = to_int16(sine(200, 2.0, amplitude))
    x[5] = -x[5]  # the peak as the detector gives it: the largest |sample|, as int
    peak = int(np.abs(x.astype(np.int32)).max())
    with_peak = measure(x, RATE, peak=peak)
    assert with_peak == measure(x, RATE)
    assert (with_peak.clipping_ratio > 0) == (amplitude > 32768)


def test_clipping_ratio_ignores_lone_peaks():
    assert clipping_ratio(to_int16(sine(200, 1.0, 20000))) == 0.0
    assert clipping_ratio(to_int16(sine(997, 1.0, 32767))) == 0.0  # full-scale peaks, unclipped
    x = np.zeros(100, np.int16)
    x[[10, 30, 50]] = [32767, -32768, 32766]
    assert clipping_ratio(x) == 0.0
    x[[60, 61, 80, 81, 82, 99]] = [32767, 32766, -32767, -32768, -32768, 32767]
    assert clipping_ratio(x) == pytest.approx(5 / 100)
    x[[0, 1]] = [-32768, 32767]  # opposite extremes side by side are not a clipped run
    assert clipping_ratio(x) == pytest.approx(5 / 100)
    assert clipping_ratio(np.zeros(0, np.int16)) == 0.0
    assert clipping_ratio(np.array([32767], np.int16)) == 0.0
    assert clipping_ratio(np.array([32767, 32767], np.int16)) == 1.0


# -- bandwidth -----------------------------------------------------------------
def test_bandwidth_tells_full_band_from_4_khz_audio():
    noise = to_int16(np.random.default_rng(1).normal(size=5 * RATE) * 3000)
    assert bandwidth_hz(noise, RATE) > 7000
    assert 3800 <= bandwidth_hz(low_pass(noise, 4000), RATE) <= 4200
    assert bandwidth_hz(noise[:100], RATE) > 6000  # shorter than one frame


def test_bandwidth_of_speech_and_telephone_speech(speech, ffmpeg):
    phone = resample_through(ffmpeg, speech, 8000)
    for i in range(0, 8, 2):
        assert bandwidth_hz(sentence(speech, i), RATE) > 6000
        assert 3400 <= bandwidth_hz(sentence(phone, i), RATE) <= 4000
    assert 4400 <= bandwidth_hz(resample_through(ffmpeg, speech, 11025), RATE) <= 5500


def test_bandwidth_edge_cases():
    assert bandwidth_hz(np.zeros(0, np.int16), RATE) == 0.0
    assert bandwidth_hz(np.zeros(RATE, np.int16), RATE) == 0.0
    assert bandwidth_hz(np.full(RATE, 100, np.int16), RATE) == 0.0  # DC only


# -- measure -------------------------------------------------------------------
def test_measure_rounds_and_combines(speech):
    x = sentence(speech, 0)
    result = measure(x, RATE)
    assert isinstance(result, Quality)
    assert result.snr_db == round(snr_db(x, RATE), 2)
    assert result.lufs == round(lufs(x, RATE), 2)
    assert result.clipping_ratio == 0.0
    assert result.bandwidth_hz == round(bandwidth_hz(x, RATE))
    assert 30 < result.snr_db < 50 and -25 < result.lufs < -15  # the sample's faint noise floor
    with pytest.raises(AttributeError):
        result.lufs = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("length", [0, 1, 10, 479, 1000])
def test_measure_and_fingerprint_never_fail_on_tiny_or_silent_clips(length):
    for x in (np.zeros(length, np.int16), to_int16(sine(440, length / RATE, 5000))):
        result = measure(x, RATE)
        assert q.SNR_MIN_DB <= result.snr_db <= q.SNR_MAX_DB
        assert result.lufs >= q.LUFS_FLOOR
        assert result.clipping_ratio == 0.0 and 0.0 <= result.bandwidth_hz <= RATE / 2
        assert fingerprint(x, RATE).dtype == np.uint32
    assert measure(np.zeros(length, np.int16), RATE) == Quality(q.SNR_MIN_DB, q.LUFS_FLOOR, 0.0, 0.0)


# -- fingerprints --------------------------------------------------------------
def test_fingerprint_shape_and_params(speech):
    assert fingerprint_params(16000) == (1024, 512)
    assert fingerprint_params(8000) == (512, 256)
    assert fingerprint_params(48000) == (3072, 1536)  # 32 ms hops at any rate
    fp = fingerprint(speech[: 15 * RATE], RATE)
    assert fp.dtype == np.uint32 and fp.ndim == 1
    assert 450 <= len(fp) <= 470  # a few hundred for 15 s
    assert fp.max() < 1 << 16
    assert len(fingerprint(np.zeros(1024 + 511, np.int16), RATE)) == 0
    assert not fingerprint(np.zeros(RATE, np.int16), RATE).any()  # silence: all "quiet"
    quiet = to_int16(np.random.default_rng(0).normal(size=RATE) * 0.5)  # below -90 dBFS
    assert not fingerprint(quiet, RATE).any()


def test_grid_offset_follows_the_content(speech):
    x = sentence(speech, 2)
    _, hop = fingerprint_params(RATE)
    base = grid_offset(x, RATE)
    for shift in (7, 100, 250, 333, 1601):
        moved = grid_offset(x[shift:], RATE)
        assert min((moved - base + shift) % hop, (base - shift - moved) % hop) <= 3
    assert grid_offset(np.zeros(RATE, np.int16), RATE) == 0
    assert grid_offset(np.zeros(3, np.int16), RATE) == 0


def brute_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """similarity by its definition, one alignment at a time."""
    need = max(int(np.ceil(0.6 * min(len(a), len(b)))), q.FP_MIN_FRAMES)
    best = 0.0
    for lag in range(-len(a) + 1, len(b)):
        lo, hi = max(0, -lag), min(len(a), len(b) - lag)
        if hi - lo < need:
            continue
        x, y = a[lo:hi], b[lo + lag : hi + lag]
        both = (x != 0) & (y != 0)
        if both.sum() >= q.FP_MIN_COMPARED:
            errors = sum(bin(int(v)).count("1") for v in (x ^ y)[both])
            best = max(best, 1 - errors / (16 * both.sum()))
    return best


def test_similarity_equals_its_definition():
    rng = np.random.default_rng(3)
    for la, lb in [(40, 40), (30, 90), (120, 50), (200, 201)]:
        a = rng.integers(0, 1 << 16, la, dtype=np.uint32)
        b = rng.integers(0, 1 << 16, lb, dtype=np.uint32)
        b[10 : 10 + min(la, lb) // 2] = a[: min(la, lb) // 2]  # a partly shared stretch
        a[rng.random(la) < 0.2] = 0
        assert similarity(a, b) == pytest.approx(brute_similarity(a, b), abs=1e-12)
        assert similarity(a, b) == pytest.approx(similarity(b, a), abs=1e-12)
        lags = np.arange(-la + 1, lb)
        full = q._similarity_at(a, b, lags)
        assert full == pytest.approx(similarity(a, b), abs=1e-12)
        # `enough` stops at the first lag that reaches it: never reached, every lag is tried
        assert q._similarity_at(a, b, lags, enough=full + 0.01) == full
        first = next(x for x in (q._similarity_at(a, b, [k]) for k in lags.tolist()) if x > 0)
        assert q._similarity_at(a, b, lags, enough=0.01) == first < full


def test_similarity_of_identical_unrelated_and_too_short():
    rng = np.random.default_rng(4)
    a = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    b = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    assert similarity(a, a) == 1.0
    assert 0.45 < similarity(a, b) < 0.56
    assert similarity(a[:20], a[:20]) == 0.0  # below the minimum overlap
    assert similarity(np.zeros(300, np.uint32), np.zeros(300, np.uint32)) == 0.0
    assert similarity(a[:0], a) == 0.0
    # max_shift limits the alignments tried
    assert similarity(a[50:], a[:250], max_shift=10) < 0.6
    assert similarity(a[50:], a[:250], max_shift=50) == 1.0


def test_a_degraded_copy_matches_and_other_sentences_do_not(speech):
    fps = [fingerprint(sentence(speech, i), RATE) for i in range(8)]
    for i in range(8):
        for shift_ms in (7, -7, 16):
            copy = degrade(sentence(speech, i, shift_ms=shift_ms), seed=i)
            assert similarity(fps[i], fingerprint(copy, RATE)) >= DUPLICATE_THRESHOLD + 0.1
        assert similarity(fps[i], fingerprint(degrade(sentence(speech, i), i, -6.0, 20.0), RATE)) > 0.8
    for i in range(8):
        for j in range(i + 1, 8):
            assert 0.5 <= similarity(fps[i], fps[j]) < DUPLICATE_THRESHOLD - 0.05


def test_a_copy_cut_with_other_boundaries_matches(speech):
    for i in (1, 4, 6):
        a = fingerprint(sentence(speech, i, pad=0.1), RATE)
        for pad, shift_ms in ((0.4, 3), (0.25, 11), (0.1, 250)):
            copy = degrade(sentence(speech, i, pad=pad, shift_ms=shift_ms), seed=i)
            assert similarity(a, fingerprint(copy, RATE)) >= DUPLICATE_THRESHOLD


def test_silence_and_quiet_noise_match_nothing(speech):
    fps = [fingerprint(sentence(speech, i), RATE) for i in range(8)]
    silence = fingerprint(np.zeros(3 * RATE, np.int16), RATE)
    hiss = fingerprint(to_int16(np.random.default_rng(5).normal(size=3 * RATE) * 20), RATE)
    other_hiss = fingerprint(to_int16(np.random.default_rng(6).normal(size=3 * RATE) * 20), RATE)
    for fp in fps:
        assert similarity(silence, fp) == 0.0
        assert similarity(hiss, fp) < 0.6
    assert similarity(silence, silence) == 0.0
    assert similarity(hiss, other_hiss) < 0.6


# -- grouping ------------------------------------------------------------------
def test_group_duplicates_finds_the_repeated_sentence_only(speech):
    rng = np.random.default_rng(8)
    clips = {f"a-{i}": sentence(speech, i) for i in range(4)}
    clips["b-0"] = degrade(sentence(speech, 0, pad=0.3, shift_ms=7), seed=1)
    clips |= {f"b-{i}": degrade(sentence(speech, i), seed=i) for i in range(4, 8)}
    clips["a-silence"] = np.zeros(2 * RATE, np.int16)
    clips["b-silence"] = np.zeros(3 * RATE, np.int16)
    clips["a-hiss"] = to_int16(rng.normal(size=2 * RATE) * 5)
    clips["b-hiss"] = to_int16(rng.normal(size=2 * RATE) * 5)
    fps = {clip: fingerprint(x, RATE) for clip, x in clips.items()}
    assert group_duplicates(fps) == {"a-0": "a-0", "b-0": "a-0"}


def test_group_duplicates_joins_groups_and_names_them_by_smallest_id(speech):
    x = sentence(speech, 3)
    fps = {
        "z": fingerprint(x, RATE),
        "m": fingerprint(degrade(x, 1), RATE),
        "q": fingerprint(degrade(sentence(speech, 3, shift_ms=20), 2, -2.0), RATE),
        "k": fingerprint(sentence(speech, 5), RATE),
        "c": fingerprint(degrade(sentence(speech, 5, pad=0.3), 3), RATE),
        "a": fingerprint(sentence(speech, 6), RATE),
    }
    assert group_duplicates(fps) == {"m": "m", "q": "m", "z": "m", "c": "c", "k": "c"}
    assert group_duplicates(fps, threshold=1.01) == {}
    assert group_duplicates({}) == {}
    assert group_duplicates({"x": fps["z"]}) == {}
    assert group_duplicates({"x": np.zeros(0, np.uint32), "y": np.zeros(5, np.uint32)}) == {}


def random_collection(count: int, length: int, planted: int, seed: int) -> tuple[dict, list]:
    """Random 16-bit sub-fingerprints with quiet runs and one very common value, plus planted
    copies (10 % of bits flipped, shifted by 3 hops)."""
    rng = np.random.default_rng(seed)
    fps = random_fingerprints(rng, count, length, 60, "c{:06d}")
    pairs = []
    for k in range(planted):
        source = f"c{k * 7:06d}"
        fps[f"d{k:06d}"] = noisy_copy(rng, fps[source], 3)
        pairs.append((source, f"d{k:06d}"))
    return fps, pairs


def test_group_duplicates_does_not_chain():
    # a ≈ b and b ≈ c, but a and c differ in 40 % of their bits: c must not join a's group
    rng = np.random.default_rng(11)
    a = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    moved = np.zeros(300, bool)
    moved[rng.permutation(300)[:120]] = True  # 40 % of the values
    c = np.where(moved, a ^ np.uint32(0xFFFF), a)
    b = np.where(moved & (np.arange(300) % 2 == 0), c, a)  # half way between them
    assert similarity(a, b) == pytest.approx(0.8, abs=0.03) and similarity(b, c) == pytest.approx(
        0.8, abs=0.03
    )
    assert similarity(a, c) < 0.65
    assert group_duplicates({"a": a, "b": b, "c": c}, threshold=0.75) == {"a": "a", "b": "a"}
    # a clip joins the representative it is most like
    d = np.where(moved & (np.arange(300) % 4 == 1), c, a)  # 90 % like a
    assert group_duplicates({"a": a, "b": b, "c": c, "d": d}, threshold=0.75) == {k: "a" for k in "abd"}


def test_group_duplicates_when_keys_repeat_only_inside_one_clip():
    # a clip repeating one pattern shares keys with itself only: no candidate pair at all
    looped = np.tile(np.array([0x1234, 0x5678, 0x9ABC, 0x0F0F], np.uint32), 40)
    other = np.random.default_rng(4).integers(1, 1 << 16, 160).astype(np.uint32)
    assert group_duplicates({"a": looped, "b": other}) == {}
    assert group_duplicates({"a": looped, "b": looped.copy()}) == {"a": "a", "b": "a"}


def test_group_duplicates_scales_to_many_clips():
    fps, pairs = random_collection(20000, 300, planted=40, seed=9)
    groups = group_duplicates(fps)
    assert groups == {clip: source for source, copy in pairs for clip in (source, copy)}


def test_group_duplicates_ignores_overfull_keys():
    rng = np.random.default_rng(10)
    shared = rng.integers(1, 1 << 16, 300, dtype=np.uint32)
    fps = {f"c{i:03d}": shared.copy() for i in range(5)}
    assert set(group_duplicates(fps).values()) == {"c000"}
    assert group_duplicates(fps, max_bucket=4) == {}


def test_group_duplicates_finds_copies_that_share_no_exact_key():
    # one bit flipped in 3 values of every 4 (as a low-bitrate codec flips many bits): no two
    # values 1-3 hops apart are both intact, so no index key of two values is shared exactly
    rng = np.random.default_rng(12)
    a = rng.integers(1, 1 << 16, 60, dtype=np.uint32)
    flips = np.uint32(1) << rng.integers(0, 16, 60).astype(np.uint32)
    b = np.where(np.arange(60) % 4 == 0, a, a ^ flips)
    other = rng.integers(1, 1 << 16, 60, dtype=np.uint32)
    assert similarity(a, b) == pytest.approx(1 - 45 / 960)
    assert group_duplicates({"a": a, "b": b, "c": other}) == {"a": "a", "b": "a"}
    # two bits off in every key: not found (the index's limit), however similar
    c = a ^ flips
    assert similarity(a, c) == pytest.approx(15 / 16) and group_duplicates({"a": a, "c": c}) == {}


def test_clips_too_short_to_compare_are_never_grouped():
    rng = np.random.default_rng(13)
    short = rng.integers(1, 1 << 16, q.FP_MIN_FRAMES - 1, dtype=np.uint32)
    assert group_duplicates({"a": short, "b": short.copy()}, threshold=0.0) == {}


# -- SNR from the source's pauses ------------------------------------------------
def test_cut_reads_intermittent_noise_from_the_pauses_around_each_clip(workspace, make_media, speech):
    """Bursts of noise (0.25 s every 1.3 s, a hen or a bark) at 5 dB SNR: the in-clip estimate
    sees the quiet moments between bursts as the floor and reads the clips 15 dB too clean or
    more; the source's pauses (webrtcvad may take a burst for speech, Silero does not) give
    the noise's mean power."""
    x = speech.astype(np.float64)
    t = np.arange(len(x)) / RATE
    bursts = np.random.default_rng(0).normal(size=len(x)) * ((t % 1.3) < 0.25)
    truth = 5.0
    bursts *= np.sqrt(np.mean(x**2) * 10 ** (-truth / 10) / np.mean(bursts**2))
    mix = np.clip(np.rint(x + bursts), -32768, 32767).astype(np.int16)
    pull(workspace, [str(make_media("hens.wav", audio=mix))], workers=1)
    [result] = cut(workspace, workers=1)
    assert result.ok and len(result.clips) >= 4
    for clip in result.clips:
        samples, _ = soundfile.read(str(workspace.abs(clip.path)), dtype="int16")
        assert snr_db(samples, RATE) > truth + 10  # the old estimate, from the clip alone
        assert abs(clip.snr_db - truth) < 3.5, clip


def test_snr_with_a_noise_spectrum(speech):
    """A given noise spectrum replaces the in-clip estimate; one on another grid is ignored."""
    x = sentence(speech, 0)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=len(x)) * 300
    n = q._snr_frame(RATE)
    frames = noise[: len(noise) // n * n].reshape(-1, n) * np.hanning(n)
    spectrum = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    mix = np.clip(np.rint(x + noise[: len(x)]), -32768, 32767).astype(np.int16)
    truth = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / 300**2)
    assert abs(snr_db(mix, RATE, spectrum) - truth) < 1.0
    assert snr_db(mix, RATE, spectrum[:-1]) == snr_db(mix, RATE)
    assert measure(mix, RATE, noise=spectrum).snr_db == round(snr_db(mix, RATE, spectrum), 2)


def test_cut_reads_the_snr_of_speech_broken_by_short_pauses(workspace, make_media, speech):
    """Speech in pieces of 0.45 s with 0.3 s pauses (shorter than the merge gap, so inside
    one clip), in steady noise 10 dB below the speech: the SNR of a recording is its speech
    level against its noise, so the pauses inside a clip must not pull the speech power
    down (they made the clips read about 3 dB noisier than the speech is)."""
    piece, pause = round(0.45 * RATE), np.zeros(round(0.3 * RATE))
    parts, speaking = [np.zeros(RATE)], []
    for cue in CUES:
        x = speech[round(cue["start"] * RATE) : round(cue["end"] * RATE)].astype(np.float64)
        for at in range(0, len(x), piece):
            parts += [x[at : at + piece], pause]
            speaking.append(x[at : at + piece])
        parts.append(np.zeros(round(1.5 * RATE)))
    clean = np.concatenate(parts)
    truth = 10.0
    noise = np.random.default_rng(3).normal(size=len(clean))
    noise *= np.sqrt(np.mean(np.concatenate(speaking) ** 2) * 10 ** (-truth / 10))
    mix = np.clip(np.rint(clean + noise), -32768, 32767).astype(np.int16)
    pull(workspace, [str(make_media("broken.wav", audio=mix))], workers=1)
    [result] = cut(workspace, workers=1)
    assert result.ok and len(result.clips) >= 4
    errors = [clip.snr_db - truth for clip in result.clips]
    assert abs(float(np.mean(errors))) < 1.6, errors  # the speech level (it read 2.7 dB low)
    assert max(abs(e) for e in errors) < 2.5, errors


def test_anything_that_went_through_8_khz_is_narrowband(ffmpeg, speech):
    """Telephone and 8 kHz audio hold nothing above 4 kHz, whatever fills the band below it:
    noise through 8 kHz reads 3.8-4 kHz (real phone clips up to 3.84 kHz), over 3,800."""
    from accentds.config import QualitySettings

    limit = QualitySettings().min_bandwidth_hz
    noise = np.random.default_rng(2).normal(size=10 * RATE) * 3000
    noisy_speech = to_int16(speech[: 10 * RATE].astype(np.float64) + noise * 0.3)
    noise = to_int16(noise)
    for x in (noise, noisy_speech):
        assert bandwidth_hz(resample_through(ffmpeg, x, 8000), RATE) < limit
    assert bandwidth_hz(noisy_speech, RATE) > limit + 2000

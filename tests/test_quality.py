"""Clip quality measures on synthetic signals with known answers and on the bundled sample's
speech (cut into sentences with the cue times of samples/sample.json)."""

import subprocess

import numpy as np
import pytest
import soundfile
from conftest import CUES, RATE, sentence, to_int16

from accentds import quality as q
from accentds.acoustic import BlockAnalysis
from accentds.cut import cut
from accentds.fingerprints import fingerprint
from accentds.pull import pull
from accentds.quality import (
    Quality,
    bandwidth_hz,
    clipping_ratio,
    k_weighting,
    lufs,
    measure,
    snr_db,
)


def sine(freq: float, seconds: float, amplitude: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


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


def test_snr_leaves_out_a_dc_offset_and_rumble(workspace, make_media, speech):
    """Speech 12 dB above steady noise, recorded with a DC offset and a 15 Hz rumble as loud
    as the speech: neither is noise anyone hears, and counted as noise they made the clips
    read about 10 dB noisier than they sound."""
    x = speech.astype(np.float64)
    noise = np.random.default_rng(4).normal(size=len(x))
    truth = 12.0
    noise *= np.sqrt(np.mean(x**2) * 10 ** (-truth / 10))
    t = np.arange(len(x)) / RATE
    inaudible = 2000 + 2000 * np.sin(2 * np.pi * 15 * t)
    mix = np.clip(np.rint(x + noise + inaudible), -32768, 32767).astype(np.int16)
    assert abs(snr_db(mix, RATE) - snr_db(to_int16(x + noise), RATE)) < 1.0
    pull(workspace, [str(make_media("offset.wav", audio=mix))], workers=1)
    [result] = cut(workspace, workers=1)
    assert result.ok and len(result.clips) >= 3
    errors = [clip.snr_db - truth for clip in result.clips]
    assert abs(float(np.mean(errors))) < 2.0, errors

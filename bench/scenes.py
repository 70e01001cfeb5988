"""Test scenes with known truth for the segmentation benchmark.

Speech comes from espeak-ng voices (en-gb-scotland first among them); noise and music are
synthesised with numpy. Every scene is 16 kHz float audio plus the spans of its utterances
(the audible part of each sentence, word gaps included). Scenes are deterministic for a seed.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

RATE = 16000

SENTENCES = (
    "Och aye, the weather in Glasgow has been dreich all week.",
    "We took the ferry from Oban over to Mull on Saturday morning.",
    "My granny aye says a wee cup of tea sorts everything out.",
    "The bus to Edinburgh was late again, so we walked along the canal.",
    "There is a braw view from the top of Arthur's Seat.",
    "He works on the rigs, two weeks on and two weeks off.",
    "Dinnae fash yersel, we will get there in plenty of time.",
    "The loch was that still you could see the hills in it.",
    "She studied at Aberdeen and then moved down to Dundee.",
    "They were singing and dancing at the ceilidh until two in the morning.",
    "Can you pass me the butter and the oatcakes, please?",
    "The midges at Glencoe in August are something else entirely.",
    "I have lived in Paisley for nearly forty years now.",
    "Football on a Saturday is a serious business round here.",
    "The distillery tour ended with a dram by the fire.",
    "Our school trip went to Stirling Castle and the Wallace Monument.",
    "It was pure baltic on the beach at Portobello.",
    "He said he would phone back after his tea, but he never did.",
    "The train through the Highlands is the bonniest journey I know.",
    "We bought fish and chips in Anstruther and ate them by the harbour.",
    "Shetland ponies are smaller than you would think.",
    "The kids were building a snowman in the back garden.",
    "My brother plays the bagpipes in a band from Fife.",
    "Rain or shine, the market opens every Thursday at eight.",
    "She told me the whole story of the shipyards on the Clyde.",
    "Mind and lock the door when you leave the house.",
    "That new cafe on Byres Road does a grand bowl of soup.",
    "The storm brought down three trees along the river path.",
    "We climbed Ben Nevis in the fog and saw nothing at all.",
    "Hogmanay in the city is loud, cold and brilliant.",
    "The tattie scones were still warm from the pan.",
    "I lost my gloves somewhere between Leith and the Meadows.",
    "Reading the old letters, she could hear her grandfather's voice.",
    "The lighthouse keeper kept a diary for thirty years.",
    "Our neighbour grows leeks that win prizes every autumn.",
    "A piper played as the boats came back into the harbour.",
    "We waited an hour for a table, and it was worth it.",
    "The library in the village is open on Tuesdays and Fridays.",
    "Salmon were jumping below the falls at Pitlochry.",
    "He speaks Gaelic with his mother and English at work.",
)
VOICES = (
    "en-gb-scotland",
    "en-gb-scotland+m3",
    "en-gb-scotland+f2",
    "en-gb-scotland+f4",
    "en-gb-scotland+m7",
    "en-gb",
    "en-gb-x-rp+f3",
    "en-us+m2",
    "en-029",
    "en-gb-x-gbclan+f1",
)


@dataclass
class Scene:
    """One test recording: audio, the true utterance spans, what kind of scene it is."""

    name: str
    kind: str  # clean | noisy | music-bed | interlude | monologue | blips | music-only | noise-only
    audio: np.ndarray  # float32, 16 kHz
    utterances: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE

    def pcm16(self) -> np.ndarray:
        return np.clip(np.round(self.audio * 32767), -32768, 32767).astype(np.int16)


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One sentence from espeak-ng, resampled to 16 kHz, trimmed to its audible part."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is missing: apt-get install espeak-ng")
    wav = subprocess.run(
        [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    # espeak-ng writes a 44-byte WAV header then 22050 Hz mono s16le
    x = np.frombuffer(wav[44 : 44 + (len(wav) - 44) // 2 * 2], dtype="<i2").astype(np.float64) / 32768
    n_out = round(len(x) * RATE / 22050)
    spec = np.fft.rfft(x)
    y = np.fft.irfft(spec[: n_out // 2 + 1], n_out) * (n_out / len(x))
    frame = RATE // 100
    rms = np.sqrt(np.mean(y[: len(y) // frame * frame].reshape(-1, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms) > 20 * np.log10(rms.max()) - 40)
    return y[loud[0] * frame : (loud[-1] + 1) * frame].astype(np.float32)


def _level(x: np.ndarray, rms_db: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12
    return (x * (10 ** (rms_db / 20) / rms)).astype(np.float32)


def _coloured(n: int, rng: np.random.Generator, slope: float) -> np.ndarray:
    """Gaussian noise whose power falls as 1/f**slope (1 = pink, 2 = brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
    return np.fft.irfft(spec / f ** (slope / 2), n).astype(np.float32)


def noise(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Stationary or crowd-like noise at unit-ish level (rescaled by the caller)."""
    n = int(seconds * RATE)
    if kind == "white":
        return rng.standard_normal(n).astype(np.float32)
    if kind == "pink":
        return _coloured(n, rng, 1.0)
    if kind == "brown":
        return _coloured(n, rng, 2.0)
    if kind == "hum":  # mains hum with harmonics over a little noise (an engine, a fan)
        t = np.arange(n) / RATE
        hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in range(1, 12))
        pink = _coloured(n, rng, 1.0)
        return (hum + 0.3 * pink / np.std(pink)).astype(np.float32)
    if kind == "applause":  # dense random claps: short decaying noise bursts
        out = np.zeros(n, np.float32)
        clap = rng.standard_normal(int(0.012 * RATE)) * np.exp(-np.arange(int(0.012 * RATE)) / 60)
        for start in rng.integers(0, n - len(clap), int(seconds * 40)):
            out[start : start + len(clap)] += clap * rng.uniform(0.3, 1.0)
        return out
    if kind == "crowd":  # a cheering crowd: band noise with slow swells, plus applause
        band = _coloured(n, rng, 0.5)
        swell = np.interp(
            np.arange(n),
            np.linspace(0, n, int(seconds * 1.5) + 2),
            rng.uniform(0.3, 1, int(seconds * 1.5) + 2),
        )
        mix = band / np.std(band) * swell + noise("applause", seconds, rng) * 0.7
        return mix.astype(np.float32)
    raise ValueError(kind)


NOISES = ("white", "pink", "brown", "hum", "applause", "crowd")

_SCALE = np.array([0, 2, 4, 5, 7, 9, 11, 12])


def _note(freq: float, seconds: float, decay: float, bright: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.zeros_like(t)
    for k in range(1, 10):
        if freq * k < RATE / 2 - 200:
            tone += np.sin(2 * np.pi * freq * k * t * (1 + rng.uniform(-1e-4, 1e-4))) * bright ** (k - 1) / k
    env = np.minimum(t / 0.01, 1.0) * np.exp(-t / decay)
    return tone * env


def music(style: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Synthetic music: 'piano' (plucked notes and chords), 'pad' (held chords),
    'band' (drums, bass and chords), 'fiddle' (a fast reel with vibrato)."""
    n = int(seconds * RATE)
    out = np.zeros(n + RATE * 3)
    root = 110 * 2 ** (rng.integers(0, 12) / 12)
    beat = 60 / rng.uniform(80, 140)

    def add(x: np.ndarray, at: float) -> None:
        i = int(at * RATE)
        if i < n:
            out[i : i + len(x)] += x[: len(out) - i]

    if style in ("piano", "band"):
        t = 0.0
        while t < seconds:
            degree = _SCALE[rng.integers(0, len(_SCALE), 3)]
            for d in degree if rng.random() < 0.4 else degree[:1]:
                add(_note(root * 2 * 2 ** (d / 12), beat * 2, rng.uniform(0.3, 0.9), 0.5, rng) * 0.3, t)
            t += beat * rng.choice([0.5, 1, 1])
    if style == "pad":
        t = 0.0
        while t < seconds:
            length = rng.uniform(2, 4)
            for d in _SCALE[[0, 2, 4]] + rng.integers(0, 5):
                x = _note(root * 2 ** (d / 12), length + 0.5, 50.0, 0.7, rng)
                x *= np.minimum(np.arange(len(x)) / (0.3 * RATE), 1) * np.minimum(
                    (len(x) - np.arange(len(x))) / (0.3 * RATE), 1
                )
                add(x * 0.25, t)
            t += length
    if style == "band":
        t, k = 0.0, 0
        kick_t = np.arange(int(0.15 * RATE)) / RATE
        kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-kick_t / 0.03)) * kick_t) * np.exp(-kick_t / 0.08)
        while t < seconds:
            add(kick * 0.8, t)
            if k % 2 == 1:
                add(
                    rng.standard_normal(int(0.12 * RATE)) * np.exp(-np.arange(int(0.12 * RATE)) / 600) * 0.4,
                    t,
                )
            hat = np.diff(rng.standard_normal(int(0.04 * RATE) + 1)) * np.exp(
                -np.arange(int(0.04 * RATE)) / 150
            )
            add(hat * 0.15, t)
            add(hat * 0.1, t + beat / 2)
            add(_note(root / 2 * 2 ** (_SCALE[rng.integers(0, 5)] / 12), beat, 0.4, 0.3, rng) * 0.5, t)
            t += beat
            k += 1
    if style == "fiddle":
        t = 0.0
        step = beat / 3
        while t < seconds:
            f = root * 4 * 2 ** (_SCALE[rng.integers(0, len(_SCALE))] / 12)
            tt = np.arange(int(step * RATE * 1.1)) / RATE
            vib = f * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * tt))
            phase = 2 * np.pi * np.cumsum(vib) / RATE
            saw = sum(np.sin(k * phase) / k for k in range(1, 12) if f * k < 7600)
            env = np.minimum(tt / 0.015, 1) * np.minimum((len(tt) - np.arange(len(tt))) / (0.015 * RATE), 1)
            add(saw * env * 0.3, t)
            t += step
    return out[:n].astype(np.float32)


MUSIC = ("piano", "pad", "band", "fiddle")


class SceneBuilder:
    """Lays sentences and gaps end to end and records where each sentence lies."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parts: list[np.ndarray] = []
        self.length = 0
        self.utterances: list[tuple[float, float]] = []

    def gap(self, seconds: float) -> None:
        n = int(seconds * RATE)
        self.parts.append(np.zeros(n, np.float32))
        self.length += n

    def add(self, x: np.ndarray, speech: bool) -> None:
        if speech:
            self.utterances.append((self.length / RATE, (self.length + len(x)) / RATE))
        self.parts.append(x.astype(np.float32))
        self.length += len(x)

    def sentence(self, level_db: float | None = None) -> None:
        text = SENTENCES[self.rng.integers(0, len(SENTENCES))]
        voice = VOICES[self.rng.integers(0, len(VOICES))]
        x = espeak(text, voice, int(self.rng.integers(140, 190)), int(self.rng.integers(30, 70)))
        self.add(_level(x, level_db if level_db is not None else self.rng.uniform(-30, -20)), speech=True)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


def _mix(speech: np.ndarray, other: np.ndarray, snr_db: float, speech_rms_db: float) -> np.ndarray:
    """`other` scaled so that speech (its active part at `speech_rms_db`) is `snr_db` above it."""
    other = np.pad(other[: len(speech)], (0, max(0, len(speech) - len(other))))
    return speech + _level(other, speech_rms_db - snr_db)


def build_scenes(seed: int = 2, scale: float = 1.0) -> list[Scene]:
    """The benchmark's scenes. `scale` (0–1) shortens every scene for a quick run."""
    rng = np.random.default_rng(seed)
    scenes: list[Scene] = []
    count = max(3, int(14 * scale))

    def talk(sentences: int, pauses: tuple[float, float], level: float | None = None) -> SceneBuilder:
        b = SceneBuilder(rng)
        b.gap(rng.uniform(0.5, 1.5))
        for _ in range(sentences):
            b.sentence(level)
            b.gap(rng.uniform(*pauses))
        return b

    b = talk(count, (0.7, 2.5))
    scenes.append(Scene("clean", "clean", b.audio(), b.utterances))
    for snr, kind in ((20, "white"), (10, "pink"), (10, "crowd"), (5, "brown"), (10, "hum"), (5, "applause")):
        b = talk(count, (0.7, 2.5), level=-22)
        x = b.audio()
        scenes.append(
            Scene(
                f"{kind} noise {snr} dB",
                "noisy",
                _mix(x, noise(kind, len(x) / RATE, rng), snr, -22),
                b.utterances,
            )
        )
    for style, snr in (("pad", 12), ("piano", 12), ("band", 15), ("fiddle", 15)):
        b = talk(count, (0.7, 2.5), level=-22)
        x = b.audio()
        scenes.append(
            Scene(
                f"{style} bed {snr} dB under",
                "music-bed",
                _mix(x, music(style, len(x) / RATE, rng), snr, -22),
                b.utterances,
            )
        )
    b = SceneBuilder(rng)
    for k, style in enumerate(MUSIC):
        b.gap(rng.uniform(0.7, 1.5))
        for _ in range(max(2, count // 4)):
            b.sentence()
            b.gap(rng.uniform(0.7, 1.5))
        b.add(
            _level(music(style, rng.uniform(8, 20) * max(scale, 0.3), rng), rng.uniform(-24, -16)),
            speech=False,
        )
        if k == len(MUSIC) - 1:
            b.gap(1.0)
    scenes.append(Scene("speech with music interludes", "interlude", b.audio(), b.utterances))
    b = SceneBuilder(rng)
    b.gap(1.0)
    for _ in range(2):
        for _ in range(max(4, int(12 * scale))):
            b.sentence(-22)
            b.gap(rng.uniform(0.12, 0.35))
        b.gap(1.5)
    scenes.append(Scene("long monologues", "monologue", b.audio(), b.utterances))
    b = SceneBuilder(rng)
    b.gap(1.0)
    for _ in range(count):
        b.sentence()
        b.gap(rng.uniform(0.4, 1.2))
        kind = rng.integers(0, 4)
        if kind == 0:  # click
            x = np.zeros(160, np.float32)
            x[0] = 0.8
        elif kind == 1:  # beep
            x = np.sin(2 * np.pi * 1000 * np.arange(int(0.15 * RATE)) / RATE).astype(np.float32) * 0.3
        elif kind == 2:  # knock
            t = np.arange(int(0.12 * RATE)) / RATE
            x = (np.sin(2 * np.pi * 90 * t) * np.exp(-t / 0.02) * 0.7).astype(np.float32)
        else:  # a short burst of noise (a cough, a door)
            x = _level(
                rng.standard_normal(int(0.25 * RATE)).astype(np.float32)
                * np.hanning(int(0.25 * RATE)).astype(np.float32),
                -20,
            )
        b.add(x, speech=False)
        b.gap(rng.uniform(0.4, 1.2))
    scenes.append(Scene("speech with blips", "blips", b.audio(), b.utterances))
    seconds = 60 * max(scale, 0.25)
    for style in MUSIC:
        scenes.append(Scene(f"music only: {style}", "music-only", _level(music(style, seconds, rng), -20)))
    for kind in NOISES:
        scenes.append(Scene(f"noise only: {kind}", "noise-only", _level(noise(kind, seconds, rng), -24)))
    return scenes

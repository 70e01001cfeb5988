"""accentds.toml: corpus name, target minutes, audio and VAD settings, label schema."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import AccentdsError

CONFIG_NAME = "accentds.toml"

SCOTTISH_ACCENTS = (
    "Glasgow",
    "Edinburgh",
    "Dundee",
    "Aberdeen & North-East (Doric)",
    "Highlands & Islands",
    "Fife",
    "Ayrshire",
    "Borders",
    "Orkney & Shetland",
    "other Scottish",
    "not Scottish",
)
ACCENT_EVIDENCE = ("self-described", "reviewer-judged", "from the source")
STATUSES = ("pending", "accepted", "rejected")
VAD_RATES = (8000, 16000, 32000, 48000)
BACKENDS = ("webrtc+silero", "webrtc", "silero")


@dataclass(frozen=True)
class VadSettings:
    """How speech is found and cut into clips."""

    aggressiveness: int = 2
    frame_ms: int = 30
    padding_ms: int = 200
    merge_gap_ms: int = 400
    min_clip_s: float = 0.3
    max_clip_s: float = 15.0
    sample_rate: int = 16000
    # "webrtc+silero": webrtcvad's speech confirmed by Silero VAD (accentds.confirm);
    # "webrtc": webrtcvad alone, no neural model; "silero": Silero VAD alone
    backend: str = "webrtc+silero"
    silero_model: str = ""  # a path to a Silero ONNX model; default: the one shipped with accentds
    silero_threshold: float = 0.5  # Silero is sure of speech from here
    confirm_threshold: float = 0.25  # webrtcvad speech Silero gives less than this is dropped
    min_clip_prob: float = 0.3  # a clip Silero never gives this much is dropped
    # the acoustic check after the VAD that rejects music and noise (accentds.acoustic)
    music_noise_check: bool = False
    min_flux: float = 0.15
    max_flatness: float = 0.45
    min_modulation_db: float = 5.0
    above_floor_db: float = 5.0

    def __post_init__(self) -> None:
        problems = []
        if self.backend not in BACKENDS:
            problems.append(f"backend must be one of {', '.join(BACKENDS)} (got {self.backend!r})")
        elif "silero" in self.backend and self.sample_rate not in (8000, 16000):
            problems.append(
                f"the {self.backend} backend needs sample_rate 8000 or 16000 (got {self.sample_rate})"
            )
        if not 0 < self.silero_threshold < 1:
            problems.append(f"silero_threshold must be between 0 and 1 (got {self.silero_threshold})")
        for name in ("confirm_threshold", "min_clip_prob"):
            if not 0 <= getattr(self, name) <= self.silero_threshold:
                problems.append(f"{name} must be between 0 and silero_threshold (got {getattr(self, name)})")
        if self.aggressiveness not in (0, 1, 2, 3):
            problems.append(f"aggressiveness must be 0, 1, 2 or 3 (got {self.aggressiveness})")
        if self.frame_ms not in (10, 20, 30):
            problems.append(f"frame_ms must be 10, 20 or 30 (got {self.frame_ms})")
        if self.sample_rate not in VAD_RATES:
            rates = ", ".join(map(str, VAD_RATES))
            problems.append(f"sample_rate must be one of {rates} (got {self.sample_rate})")
        if self.padding_ms < 0 or self.merge_gap_ms < 0:
            problems.append("padding_ms and merge_gap_ms must be 0 or more")
        if self.min_clip_s < 0 or self.max_clip_s <= 0:
            problems.append("min_clip_s must be 0 or more and max_clip_s more than 0")
        elif self.max_clip_s < max(self.min_clip_s, 2 * self.frame_ms / 1000):
            problems.append(f"max_clip_s ({self.max_clip_s}) must be at least min_clip_s ({self.min_clip_s})")
        if problems:
            raise AccentdsError("bad VAD settings: " + "; ".join(problems))

    @property
    def settings_id(self) -> str:
        """Short stable hash of these settings: clips cut with equal settings share it."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]

    def with_overrides(self, **overrides: Any) -> VadSettings:
        """A copy with the given fields replaced; None values are ignored."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)


@dataclass(frozen=True)
class LabelSchema:
    """What a label may hold."""

    accents: tuple[str, ...] = SCOTTISH_ACCENTS
    accent_evidence: tuple[str, ...] = ACCENT_EVIDENCE
    statuses: tuple[str, ...] = STATUSES
    speakers: tuple[str, ...] = ()


DEFAULT_LICENCES = (
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-3.0",
    "CC-BY-SA-3.0",
    "Creative Commons Attribution license (reuse allowed)",
)


@dataclass(frozen=True)
class PublishSettings:
    """How releases are built."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1
    allowed_licences: tuple[str, ...] = DEFAULT_LICENCES
    max_shard_mb: int = 300
    license: str = "cc-by-4.0"  # the dataset card's licence

    def __post_init__(self) -> None:
        ratios = (self.train, self.validation, self.test)
        if any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
            raise AccentdsError(f"[publish] train + validation + test must add up to 1 (got {sum(ratios):g})")
        if self.max_shard_mb <= 0:
            raise AccentdsError("[publish] max_shard_mb must be more than 0")


@dataclass(frozen=True)
class ReportSettings:
    """Thresholds of the warnings `accentds report` gives."""

    max_share: float = 0.5  # one speaker or source holding more than this share of the minutes
    min_region_minutes: float = 5.0  # accent regions of the schema with fewer minutes than this
    max_flagged_share: float = 0.2  # clips with one quality flag holding more than this share

    def __post_init__(self) -> None:
        if not 0 < self.max_share <= 1:
            raise AccentdsError(
                f"[report] max_share must be more than 0 and at most 1 (got {self.max_share:g})"
            )
        if self.min_region_minutes < 0:
            raise AccentdsError("[report] min_region_minutes must be 0 or more")
        if not 0 < self.max_flagged_share <= 1:
            raise AccentdsError(
                f"[report] max_flagged_share must be more than 0 and at most 1 (got {self.max_flagged_share:g})"
            )


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the quality hints shown in review and reports (clips are never dropped)."""

    min_snr_db: float = 15.0  # estimated SNR below this: "noisy"
    min_lufs: float = -40.0  # loudness below this: "quiet"
    max_clipping_ratio: float = 0.001  # share of clipped samples above this: "clipped"
    min_bandwidth_hz: float = 3800.0  # upper frequency below this (telephone, 8 kHz audio): "narrowband"
    min_speech_ratio: float = 0.5  # share of VAD speech frames below this: "little-speech"
    min_speech_prob: float = 0.5  # Silero's highest probability over a clip below this: "unconfirmed"
    duplicate_similarity: float = 0.80  # fingerprint similarity from which clips are duplicates

    def __post_init__(self) -> None:
        if not 0 < self.duplicate_similarity <= 1:
            raise AccentdsError("[quality] duplicate_similarity must be more than 0 and at most 1")
        if not all(
            0 <= v <= 1 for v in (self.max_clipping_ratio, self.min_speech_ratio, self.min_speech_prob)
        ):
            raise AccentdsError(
                "[quality] max_clipping_ratio, min_speech_ratio and min_speech_prob must be between 0 and 1"
            )


@dataclass(frozen=True)
class Config:
    """Everything accentds.toml says."""

    name: str = "corpus"
    description: str = ""
    language: str = "en"
    target_minutes: float = 600.0
    ffmpeg: str | None = None
    vad: VadSettings = field(default_factory=VadSettings)
    labels: LabelSchema = field(default_factory=LabelSchema)
    publish: PublishSettings = field(default_factory=PublishSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)


def _toml_list(items: tuple[str, ...]) -> str:
    inner = "".join(f"    {json.dumps(item)},\n" for item in items)
    return "[\n" + inner + "]"


def render_config(name: str, target_minutes: float = 600.0) -> str:
    """The text of a fresh accentds.toml."""
    vad = VadSettings()
    return f"""\
# accentds workspace settings. Every command reads this file; `accentds cut --help`
# lists the per-run overrides of the [vad] settings.

[corpus]
name = {json.dumps(name)}
description = "Scottish-accented English speech cut from videos"
language = "en"
target_minutes = {target_minutes:g}

[audio]
sample_rate = {vad.sample_rate}        # clips are mono 16-bit WAV at this rate
# ffmpeg = "/usr/bin/ffmpeg"   # default: --ffmpeg, else ffmpeg on PATH, else the bundled one

[vad]
aggressiveness = {vad.aggressiveness}        # webrtcvad 0 (keeps most) .. 3 (strictest)
frame_ms = {vad.frame_ms}             # 10, 20 or 30
padding_ms = {vad.padding_ms}          # audio kept before and after speech
merge_gap_ms = {vad.merge_gap_ms}        # pauses shorter than this stay inside one clip
min_clip_s = {vad.min_clip_s:g}           # shorter clips are dropped
max_clip_s = {vad.max_clip_s:g}          # longer speech is split at its quietest pause
backend = "{vad.backend}"  # webrtcvad confirmed by Silero VAD; or "webrtc" (no neural model) or "silero"
# silero_model = "/path/to/silero_vad.onnx"   # default: the model shipped with accentds
silero_threshold = {vad.silero_threshold:g}     # Silero is sure of speech from this probability
confirm_threshold = {vad.confirm_threshold:g}   # webrtcvad speech Silero gives less than this is dropped
min_clip_prob = {vad.min_clip_prob:g}      # a clip Silero never gives this much is dropped (`cut --explain`)
# A hand-made acoustic check after the VAD (off by default): it vetoes steady tones, flat
# spectra and sound no louder than the background, and loses speech in loud noise.
music_noise_check = false
min_flux = {vad.min_flux:g}            # spectral change per 32 ms below this: music-like (held tones)
max_flatness = {vad.max_flatness:g}        # spectral flatness above this: noise-like
min_modulation_db = {vad.min_modulation_db:g}     # energy swing over ~1 s below this: no syllable rhythm
above_floor_db = {vad.above_floor_db:g}        # quieter than this over the background: not speech

[publish]
train = 0.8                # split ratios by minutes; a speaker never spans two splits
validation = 0.1
test = 0.1
max_shard_mb = 300
license = "cc-by-4.0"      # licence named in the dataset card
allowed_licences = {_toml_list(DEFAULT_LICENCES)}

[report]
max_share = 0.5            # warn when one speaker or source holds more than this share of the minutes
min_region_minutes = 5     # warn about accent regions of [labels] with fewer minutes than this
max_flagged_share = 0.2    # warn when clips with one quality flag (noisy, quiet, ...) hold more than this share

[quality]
# hints shown in review and reports; no clip is dropped for them
min_snr_db = 15            # estimated SNR below this: noisy
min_lufs = -40             # loudness (LUFS) below this: quiet
max_clipping_ratio = 0.001 # share of clipped samples above this: clipped
min_bandwidth_hz = 3800    # no sound above this frequency (telephone, 8 kHz audio): narrowband
min_speech_ratio = 0.5     # share of speech frames below this: little-speech
min_speech_prob = 0.5      # Silero VAD never this sure of speech in the clip: unconfirmed
duplicate_similarity = 0.8   # audio fingerprint similarity from which clips count as duplicates

[labels]
accents = {_toml_list(SCOTTISH_ACCENTS)}
accent_evidence = {_toml_list(ACCENT_EVIDENCE)}
speakers = []
"""


def _section(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise AccentdsError(f"{path}: [{key}] must be a table")
    return value


def load_config(path: Path) -> Config:
    """Read accentds.toml; unknown keys are refused so typos do not pass silently."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccentdsError(f"{path} is missing: run `accentds init` to create it") from None
    except tomllib.TOMLDecodeError as exc:
        raise AccentdsError(f"{path} is not valid TOML: {exc}") from None
    corpus = _section(data, "corpus", path)
    audio = _section(data, "audio", path)
    vad_data = dict(_section(data, "vad", path))
    labels = _section(data, "labels", path)
    publish = _section(data, "publish", path)
    report_data = _section(data, "report", path)
    quality_data = _section(data, "quality", path)
    quality_names = {f.name for f in fields(QualitySettings)}
    if set(quality_data) - quality_names:
        raise AccentdsError(
            f"{path}: unknown [quality] keys {sorted(set(quality_data) - quality_names)}; "
            f"allowed: {', '.join(sorted(quality_names))}"
        )
    unknown_report = set(report_data) - {f.name for f in fields(ReportSettings)}
    if unknown_report:
        raise AccentdsError(
            f"{path}: unknown [report] keys {sorted(unknown_report)}; "
            "allowed: max_share, min_region_minutes, max_flagged_share"
        )
    vad_fields = {f.name for f in fields(VadSettings)}
    unknown = set(vad_data) - vad_fields
    if unknown:
        allowed = ", ".join(sorted(vad_fields - {"sample_rate"}))
        raise AccentdsError(f"{path}: unknown [vad] keys {sorted(unknown)}; allowed: {allowed}")
    if "sample_rate" in audio:
        vad_data["sample_rate"] = audio["sample_rate"]
    try:
        vad = VadSettings(**vad_data)
        schema = LabelSchema(
            accents=tuple(labels.get("accents", SCOTTISH_ACCENTS)),
            accent_evidence=tuple(labels.get("accent_evidence", ACCENT_EVIDENCE)),
            speakers=tuple(labels.get("speakers", ())),
        )
        defaults = PublishSettings()
        publishing = PublishSettings(
            train=float(publish.get("train", defaults.train)),
            validation=float(publish.get("validation", defaults.validation)),
            test=float(publish.get("test", defaults.test)),
            allowed_licences=tuple(publish.get("allowed_licences", defaults.allowed_licences)),
            max_shard_mb=int(publish.get("max_shard_mb", defaults.max_shard_mb)),
            license=str(publish.get("license", defaults.license)),
        )
        report_defaults = ReportSettings()
        reporting = ReportSettings(
            max_share=float(report_data.get("max_share", report_defaults.max_share)),
            min_region_minutes=float(
                report_data.get("min_region_minutes", report_defaults.min_region_minutes)
            ),
            max_flagged_share=float(report_data.get("max_flagged_share", report_defaults.max_flagged_share)),
        )
        return Config(
            name=str(corpus.get("name", "corpus")),
            description=str(corpus.get("description", "")),
            language=str(corpus.get("language", "en")),
            target_minutes=float(corpus.get("target_minutes", 600)),
            ffmpeg=audio.get("ffmpeg"),
            vad=vad,
            labels=schema,
            publish=publishing,
            report=reporting,
            quality=QualitySettings(**{k: float(v) for k, v in quality_data.items()}),
        )
    except (TypeError, ValueError) as exc:
        raise AccentdsError(f"{path}: {exc}") from None

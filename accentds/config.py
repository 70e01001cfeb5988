"""The settings accentds.toml holds: corpus name, target minutes, audio and VAD settings,
label schema, and the [publish], [report], [quality] and [pull] settings.

Each settings class refuses impossible values when it is made, each named with the key it is
about; config_file.py writes and reads the file itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

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
DEFAULT_URL_TIMEOUT_S = 1800.0
DEFAULT_MAX_TRANSCRIPT_CHARS = 2000
MAX_GAP_MS = 60_000  # the most [vad] padding_ms and merge_gap_ms may be

Problem = tuple[str, str]  # (the key a problem is about, a sentence saying what is wrong)
RegionTargets = tuple[tuple[str, float], ...]  # a TOML table: accent region = minutes


class SettingsError(AccentdsError):
    """Settings that cannot be used; `problems` holds each with the key it is about."""

    def __init__(self, prefix: str, problems: list[Problem]) -> None:
        super().__init__(prefix + "; ".join(text for _, text in problems))
        self.problems = problems


class _Checked:
    """A settings dataclass that refuses impossible values when it is made."""

    _prefix: ClassVar[str]

    def __post_init__(self) -> None:
        found = self.problems()
        if found:
            raise SettingsError(self._prefix, found)

    def problems(self) -> list[Problem]:
        raise NotImplementedError


@dataclass(frozen=True)
class VadSettings(_Checked):
    """How speech is found and cut into clips."""

    _prefix: ClassVar[str] = "bad VAD settings: "

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
    silero_max_gain_db: float = 20.0  # Silero hears a quiet source raised by up to this (0: as recorded)
    # the acoustic check after the VAD that rejects music and noise (accentds.acoustic)
    music_noise_check: bool = False
    min_flux: float = 0.15
    max_flatness: float = 0.45
    min_modulation_db: float = 5.0
    above_floor_db: float = 5.0

    def problems(self) -> list[Problem]:
        """What is impossible about these settings (nothing: an empty list)."""
        found: list[Problem] = []
        if self.backend not in BACKENDS:
            found.append(("backend", f"backend must be one of {', '.join(BACKENDS)} (got {self.backend!r})"))
        elif "silero" in self.backend and self.sample_rate in VAD_RATES and self.sample_rate > 16000:
            found.append(
                (
                    "sample_rate",
                    f"the {self.backend} backend needs sample_rate 8000 or 16000 (got {self.sample_rate})",
                )
            )
        if not 0 < self.silero_threshold < 1:
            found.append(
                (
                    "silero_threshold",
                    f"silero_threshold must be between 0 and 1 (got {self.silero_threshold})",
                )
            )
        for name in ("confirm_threshold", "min_clip_prob"):
            if not 0 <= getattr(self, name) <= self.silero_threshold:
                found.append(
                    (name, f"{name} must be between 0 and silero_threshold (got {getattr(self, name)})")
                )
        if not 0 <= self.silero_max_gain_db <= 60:
            found.append(
                (
                    "silero_max_gain_db",
                    f"silero_max_gain_db must be between 0 and 60 (got {self.silero_max_gain_db})",
                )
            )
        if self.aggressiveness not in (0, 1, 2, 3):
            found.append(
                ("aggressiveness", f"aggressiveness must be 0, 1, 2 or 3 (got {self.aggressiveness})")
            )
        if self.frame_ms not in (10, 20, 30):
            found.append(("frame_ms", f"frame_ms must be 10, 20 or 30 (got {self.frame_ms})"))
        if self.sample_rate not in VAD_RATES:
            rates = ", ".join(map(str, VAD_RATES))
            found.append(("sample_rate", f"sample_rate must be one of {rates} (got {self.sample_rate})"))
        for name in ("padding_ms", "merge_gap_ms", "min_clip_s", "min_flux"):
            if getattr(self, name) < 0:
                found.append((name, f"{name} must be 0 or more (got {getattr(self, name)})"))
            elif name.endswith("_ms") and getattr(self, name) > MAX_GAP_MS:
                found.append(
                    (name, f"{name} must be at most {MAX_GAP_MS} (one minute; got {getattr(self, name)})")
                )
        if self.max_clip_s <= 0:
            found.append(("max_clip_s", f"max_clip_s must be more than 0 (got {self.max_clip_s})"))
        elif self.max_clip_s < max(self.min_clip_s, 2 * self.frame_ms / 1000):
            found.append(
                (
                    "max_clip_s",
                    f"max_clip_s ({self.max_clip_s}) must be at least min_clip_s ({self.min_clip_s})",
                )
            )
        if not 0 < self.max_flatness <= 1:
            found.append(
                ("max_flatness", f"max_flatness must be more than 0 and at most 1 (got {self.max_flatness})")
            )
        return found

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
class LabelSchema(_Checked):
    """What a label may hold."""

    _prefix: ClassVar[str] = "[labels] "

    accents: tuple[str, ...] = SCOTTISH_ACCENTS
    accent_evidence: tuple[str, ...] = ACCENT_EVIDENCE
    statuses: tuple[str, ...] = STATUSES
    speakers: tuple[str, ...] = ()
    max_transcript_chars: int = DEFAULT_MAX_TRANSCRIPT_CHARS  # a longer transcript is refused

    def problems(self) -> list[Problem]:
        """Empty or repeated names (a label could not tell them apart), a limit below 1."""
        found: list[Problem] = []
        if self.max_transcript_chars < 1:
            found.append(
                (
                    "max_transcript_chars",
                    f"max_transcript_chars must be more than 0 (got {self.max_transcript_chars})",
                )
            )
        for name in ("accents", "accent_evidence", "statuses", "speakers"):
            values: tuple[str, ...] = getattr(self, name)
            if not values and name != "speakers":  # a label could take no value at all
                like = {"accents": SCOTTISH_ACCENTS, "accent_evidence": ACCENT_EVIDENCE}.get(name, STATUSES)
                found.append((name, f'{name} must name at least one value, like ["{like[0]}"]'))
            if any(not v.strip() for v in values):
                found.append((name, f"{name} must not hold an empty name"))
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                found.append((name, f"{name} names {', '.join(map(json.dumps, repeated))} more than once"))
        return found


DEFAULT_LICENCES = (
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-3.0",
    "CC-BY-SA-3.0",
    "Creative Commons Attribution license (reuse allowed)",
)


@dataclass(frozen=True)
class PublishSettings(_Checked):
    """How releases are built."""

    _prefix: ClassVar[str] = "[publish] "

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1
    allowed_licences: tuple[str, ...] = DEFAULT_LICENCES
    max_shard_mb: int = 300
    license: str = ""  # no longer used: the card's licence comes from the clips'
    speaker_names: bool = False  # publish speakers' names instead of their salted ids
    gated: str = ""  # "", "auto" or "manual": the Hub asks who wants the data before giving it
    gated_prompt: str = ""  # what the Hub's access form says
    gated_fields: tuple[str, ...] = ()  # what the access form asks, one text field each

    def problems(self) -> list[Problem]:
        """Impossible split ratios, shard sizes and licences."""
        from .licences import known_list, normalise  # licences reads workspaces, which read settings

        found: list[Problem] = []
        for name in ("train", "validation", "test"):
            if getattr(self, name) < 0:
                found.append((name, f"{name} must be 0 or more (got {getattr(self, name):g})"))
        total = self.train + self.validation + self.test
        if not found and abs(total - 1.0) > 1e-6:
            found.append(("train", f"train + validation + test must add up to 1 (got {total:g})"))
        if self.max_shard_mb <= 0:
            found.append(("max_shard_mb", f"max_shard_mb must be more than 0 (got {self.max_shard_mb})"))
        if self.gated not in ("", "auto", "manual"):
            found.append(("gated", f'gated must be "", "auto" or "manual" (got {json.dumps(self.gated)})'))
        if any(not v.strip() for v in self.gated_fields):
            found.append(("gated_fields", "gated_fields must not hold an empty name"))
        if any(not v.strip() for v in self.allowed_licences):
            found.append(("allowed_licences", "allowed_licences must not hold an empty name"))
        unknown = [v for v in self.allowed_licences if v.strip() and normalise(v) is None]
        if unknown:
            found.append(
                (
                    "allowed_licences",
                    f"allowed_licences holds unknown licence(s) {', '.join(map(json.dumps, unknown))}: give SPDX "
                    f"ids such as {known_list()}, or other",
                )
            )
        return found


@dataclass(frozen=True)
class ReportSettings(_Checked):
    """Thresholds of the warnings `accentds report` gives."""

    _prefix: ClassVar[str] = "[report] "

    max_share: float = 0.5  # one speaker or source holding more than this share of the minutes
    min_region_minutes: float = 5.0  # accent regions of the schema with fewer minutes than this
    max_flagged_share: float = 0.2  # clips with one quality flag holding more than this share
    region_targets: RegionTargets = ()  # (accent region, publishable minutes wanted)

    def problems(self) -> list[Problem]:
        """Shares outside (0, 1], negative minutes, region targets that are no targets."""
        found: list[Problem] = []
        for region, minutes in self.region_targets:
            if not region.strip():
                found.append(("region_targets", "region_targets must not name an empty region"))
            elif not minutes > 0:
                found.append(
                    (
                        "region_targets",
                        f"region_targets[{json.dumps(region)}] must be more than 0 (got {minutes:g})",
                    )
                )
        for name in ("max_share", "max_flagged_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                found.append((name, f"{name} must be more than 0 and at most 1 (got {value:g})"))
        if self.min_region_minutes < 0:
            found.append(
                (
                    "min_region_minutes",
                    f"min_region_minutes must be 0 or more (got {self.min_region_minutes:g})",
                )
            )
        return found


@dataclass(frozen=True)
class QualitySettings(_Checked):
    """Thresholds of the quality hints shown in review and reports (clips are never dropped)."""

    _prefix: ClassVar[str] = "[quality] "

    min_snr_db: float = 15.0  # estimated SNR below this: "noisy"
    min_lufs: float = -40.0  # loudness below this: "quiet"
    max_clipping_ratio: float = 0.001  # share of clipped samples above this: "clipped"
    min_bandwidth_hz: float = 4000.0  # upper frequency below this (telephone, 8 kHz audio): "narrowband"
    min_speech_ratio: float = 0.5  # share of VAD speech frames below this: "little-speech"
    min_speech_prob: float = 0.5  # Silero's highest probability over a clip below this: "unconfirmed"
    duplicate_similarity: float = 0.80  # fingerprint similarity from which clips are duplicates

    def problems(self) -> list[Problem]:
        """Ratios and probabilities outside [0, 1], negative frequencies, a loudness above 0 LUFS."""
        found: list[Problem] = []
        if self.min_lufs > 0:
            found.append(
                (
                    "min_lufs",
                    f"min_lufs must be 0 or less: loudness in LUFS is never above 0, full scale (got {self.min_lufs:g})",
                )
            )
        if not 0 < self.duplicate_similarity <= 1:
            found.append(
                (
                    "duplicate_similarity",
                    f"duplicate_similarity must be more than 0 and at most 1 (got {self.duplicate_similarity:g})",
                )
            )
        for name in ("max_clipping_ratio", "min_speech_ratio", "min_speech_prob"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                found.append((name, f"{name} must be between 0 and 1 (got {value:g})"))
        if self.min_bandwidth_hz < 0:
            found.append(
                ("min_bandwidth_hz", f"min_bandwidth_hz must be 0 or more (got {self.min_bandwidth_hz:g})")
            )
        return found


@dataclass(frozen=True)
class PullSettings(_Checked):
    """How sources are pulled."""

    _prefix: ClassVar[str] = "[pull] "

    url_timeout_s: float = DEFAULT_URL_TIMEOUT_S  # a URL not pulled by then fails (the others go on)

    def problems(self) -> list[Problem]:
        """A deadline that is not in the future."""
        if self.url_timeout_s <= 0:
            return [("url_timeout_s", f"url_timeout_s must be more than 0 (got {self.url_timeout_s:g})")]
        return []


@dataclass(frozen=True)
class Config(_Checked):
    """Everything accentds.toml says."""

    _prefix: ClassVar[str] = "[corpus] "

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
    pull: PullSettings = field(default_factory=PullSettings)

    def problems(self) -> list[Problem]:
        """An empty corpus name or language, a target that is no target."""
        found: list[Problem] = []
        for name in ("name", "language"):
            if not getattr(self, name).strip():
                found.append((name, f"{name} must not be empty"))
        if not self.target_minutes > 0:
            found.append(
                ("target_minutes", f"target_minutes must be more than 0 (got {self.target_minutes:g})")
            )
        if self.ffmpeg is not None and not self.ffmpeg.strip():
            found.append(("ffmpeg", "ffmpeg must not be empty (leave it out to use the default)"))
        return found

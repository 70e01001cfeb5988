"""accentds.toml: corpus name, target minutes, audio and VAD settings, label schema.

Settings are strict: an unknown section or key, a value of the wrong type and an impossible
value are refused, each named with the file, line, section and key it is about."""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
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
        """Ratios and probabilities outside [0, 1], negative frequencies."""
        found: list[Problem] = []
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


def _toml_list(items: tuple[str, ...]) -> str:
    inner = "".join(f"    {json.dumps(item)},\n" for item in items)
    return "[\n" + inner + "]"


def render_config(name: str, target_minutes: float = 600.0) -> str:
    """The text of a fresh accentds.toml; refused (AccentdsError) if it would not load."""
    vad = VadSettings()
    text = f"""\
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
speaker_names = false      # true publishes speakers' names (only with each one's consent); else salted ids
gated = ""                 # "auto" or "manual": the Hub asks who wants the data before giving it
gated_prompt = ""          # what the Hub's access form says, e.g. the terms of use
gated_fields = []          # what the form asks, e.g. ["Name", "Affiliation"]
allowed_licences = {_toml_list(DEFAULT_LICENCES)}

[report]
max_share = 0.5            # warn when one speaker or source holds more than this share of the minutes
min_region_minutes = 5     # warn about accent regions of [labels] with fewer minutes than this
max_flagged_share = 0.2    # warn when clips with one quality flag (noisy, quiet, ...) hold more than this share
# publishable minutes wanted per accent region of [labels], drawn on the accents plot,
# such as {{ "Glasgow" = 60, "Edinburgh" = 60, "Highlands & Islands" = 30 }}
region_targets = {{}}

[quality]
# hints shown in review and reports; no clip is dropped for them
min_snr_db = 15            # estimated SNR below this: noisy
min_lufs = -40             # loudness (LUFS) below this: quiet
max_clipping_ratio = 0.001 # share of clipped samples above this: clipped
min_bandwidth_hz = 4000    # no sound above this frequency (telephone, 8 kHz audio): narrowband
min_speech_ratio = 0.5     # share of speech frames below this: little-speech
min_speech_prob = 0.5      # Silero VAD never this sure of speech in the clip: unconfirmed
duplicate_similarity = 0.8   # audio fingerprint similarity from which clips count as duplicates

[pull]
url_timeout_s = {DEFAULT_URL_TIMEOUT_S:g}     # a URL not pulled within this many seconds fails; the others go on

[labels]
accents = {_toml_list(SCOTTISH_ACCENTS)}
accent_evidence = {_toml_list(ACCENT_EVIDENCE)}
speakers = []
max_transcript_chars = {DEFAULT_MAX_TRANSCRIPT_CHARS}   # a longer transcript is refused (page, label, labels import)
"""
    parse_config(text)
    return text


# -- reading accentds.toml ---------------------------------------------------------------

# each section of the file: the dataclass its keys fill (keys named as the fields), or for
# [corpus] and [audio], the keys and where they go
_CORPUS_KEYS = {"name": str, "description": str, "language": str, "target_minutes": float}
_AUDIO_KEYS = {"sample_rate": int, "ffmpeg": str}
# statuses are accentds's own
_LABEL_KEYS = ("accents", "accent_evidence", "speakers", "max_transcript_chars")
_CLASSES: dict[str, type] = {
    "vad": VadSettings,
    "labels": LabelSchema,
    "publish": PublishSettings,
    "report": ReportSettings,
    "quality": QualitySettings,
    "pull": PullSettings,
}


def _keys(section: str) -> dict[str, Any]:
    """The keys a section may hold, with the type of each."""
    if section == "corpus":
        return _CORPUS_KEYS
    if section == "audio":
        return _AUDIO_KEYS
    cls = _CLASSES[section]
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    if section == "vad":
        names.remove("sample_rate")  # [audio] sample_rate
    if section == "labels":
        names = list(_LABEL_KEYS)
    return {name: hints[name] for name in names}


SECTIONS = ("corpus", "audio", "vad", "labels", "publish", "report", "quality", "pull")


def _show(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool | str | list):
        try:
            return json.dumps(value, ensure_ascii=False)
        except TypeError:
            pass
    return str(value)


def _convert(key: str, value: Any, kind: Any) -> tuple[Any, str]:
    """`value` as a `kind` (int, float, str, bool or tuple[str, ...]), else a sentence why not."""
    got = f"(got {_show(value)})"
    if kind is bool:
        return (value, "") if isinstance(value, bool) else (None, f"{key} must be true or false {got}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, ""
        return None, f"{key} must be a whole number {got}"
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value), ""
            return None, f"{key} must be a finite number {got}"
        return None, f"{key} must be a number {got}"
    if kind is str:
        return (value, "") if isinstance(value, str) else (None, f"{key} must be a string in quotes {got}")
    if kind == RegionTargets:
        return _region_targets(key, value)
    # tuple[str, ...]: a TOML list of strings
    if isinstance(value, str):
        return None, f'{key} must be a list of strings, like ["{value}"] (got the string {_show(value)})'
    if not isinstance(value, list):
        return None, f"{key} must be a list of strings {got}"
    for number, item in enumerate(value, 1):
        if not isinstance(item, str):
            return None, f"{key} must be a list of strings (item {number} is {_show(item)})"
    return tuple(value), ""


def _region_targets(key: str, value: Any) -> tuple[Any, str]:
    """A TOML table of accent region = minutes as (region, minutes) pairs, else why not."""
    if not isinstance(value, dict):
        return None, (
            f'{key} must be a table of accent region = minutes, like {{ "Glasgow" = 60 }} (got {_show(value)})'
        )
    pairs = []
    for region, minutes in value.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
            return None, f"{key}[{json.dumps(region)}] must be a number of minutes (got {_show(minutes)})"
        pairs.append((region, float(minutes)))
    return tuple(pairs), ""


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")


def _line_of(text: str, section: str | None, key: str | None = None) -> int | None:
    """The line number of `[section]` (key None) or of `key = ` inside it (section None:
    before any section), as far as a plain reading of the text finds them."""
    current: str | None = None
    quoted = re.escape(key or "")
    assignment = re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).strip("\"'")
            if key is None and current == section:
                return number
        elif key is not None and current == section and assignment.match(line):
            return number
    return None


def _suggest(name: str, allowed: list[str], shape: str = "{}") -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    return f" (did you mean {shape.format(close[0])}?)" if close else ""


class _Problems:
    """Problems found in one file, each with its line, section and key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.found: list[tuple[float, str]] = []  # (line, problem)

    def add(self, sentence: str, section: str | None, key: str | None, named: bool = True) -> None:
        """`sentence` about `key` of [section] (section None: a key outside any section; key
        None: the section's own line), after `[section] ` unless the sentence names it."""
        line = _line_of(self.text, section, key)
        where = f"line {line}: " if line else ""
        text = where + (f"[{section}] " if named and section and key else "") + sentence
        self.found.append((line or math.inf, text))

    def add_all(self, section: str, error: SettingsError) -> None:
        for key, sentence in error.problems:
            if key in _AUDIO_KEYS:  # checked with [vad] or [corpus], written under [audio]
                self.add(sentence, "audio", key)
            else:
                self.add(sentence, section, key)

    def raise_any(self) -> None:
        if self.found:
            found = sorted(self.found, key=lambda item: item[0])  # in the file's order
            raise AccentdsError(f"{self.path}: " + "; ".join(text for _, text in found))


def _read_text(path: Path) -> str:
    """The file as text: UTF-8, a byte order mark allowed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AccentdsError(f"{path} is missing: run `accentds init` to create it") from None
    except OSError as exc:
        raise AccentdsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AccentdsError(f"{path}, line {line}: not UTF-8 text; save the file as UTF-8") from None


def _check_section(section: str, table: Any, problems: _Problems) -> dict[str, Any]:
    """The keys of one section converted to their types; what is wrong goes to `problems`."""
    if section not in SECTIONS:
        if isinstance(table, dict):
            listed = ", ".join(f"[{s}]" for s in SECTIONS)
            hint = _suggest(section, list(SECTIONS), "[{}]")
            problems.add(f"unknown section [{section}]{hint}; allowed: {listed}", section, None)
        else:
            problems.add(
                f"{section} is outside any section: settings go under a [section] line", None, section
            )
        return {}
    if not isinstance(table, dict):
        problems.add(
            f"[{section}] must be one table: a line [{section}] with its keys below it", None, section
        )
        return {}
    allowed = _keys(section)
    unknown = [key for key in table if key not in allowed]
    if unknown:
        hint = _suggest(unknown[0], list(allowed))
        if section == "vad" and "sample_rate" in unknown:
            hint = " (sample_rate goes under [audio])"
        listed = ", ".join(sorted(allowed))
        sentence = f"unknown [{section}] keys {sorted(unknown)}{hint}; allowed: {listed}"
        problems.add(sentence, section, unknown[0], named=False)
    values = {}
    for key, value in table.items():
        if key in allowed:
            converted, why = _convert(key, value, allowed[key])
            if why:
                problems.add(why, section, key)
            else:
                values[key] = converted
    return values


def _build(values: dict[str, dict[str, Any]], problems: _Problems) -> Config:
    """The settings objects of checked values; their impossible values go to `problems`."""
    corpus = {**values["corpus"], "ffmpeg": values["audio"].get("ffmpeg")}
    try:
        Config(**corpus)
    except SettingsError as exc:
        problems.add_all("corpus", exc)
    made: dict[str, Any] = {}
    for section, cls in _CLASSES.items():
        given = dict(values[section])
        if section == "vad" and "sample_rate" in values["audio"]:
            given["sample_rate"] = values["audio"]["sample_rate"]
        try:
            made[section] = cls(**given)
        except SettingsError as exc:
            problems.add_all(section, exc)
    if "labels" in made and "report" in made:
        accents = list(made["labels"].accents)
        for region, _ in made["report"].region_targets:
            if region not in accents:
                hint = _suggest(region, accents, '"{}"')
                problems.add(
                    f"region_targets names {json.dumps(region)}, not an accent region of [labels] accents{hint}",
                    "report",
                    "region_targets",
                )
    problems.raise_any()
    return Config(**corpus, **made)


def load_config(path: Path) -> Config:
    """Read accentds.toml. Unknown sections and keys, values of the wrong type and impossible
    values are refused, all of them in one message naming the file, line, section and key."""
    return parse_config(_read_text(path), path)


def parse_config(text: str, path: Path = Path(CONFIG_NAME)) -> Config:
    """The settings the text of an accentds.toml holds (`path` names it in messages)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccentdsError(f"{path} is not valid TOML: {exc}") from None
    problems = _Problems(path, text)
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for section, table in data.items():
        checked = _check_section(section, table, problems)
        if section in values:
            values[section] = checked  # without the keys of the wrong type: their defaults stand in
    return _build(values, problems)

"""accentds.toml on disk: the text of a fresh one (`render_config`), and reading one into a
`Config` (`load_config`, `parse_config`).

Reading is strict: an unknown section or key, a value of the wrong type and an impossible
value are refused, all of them in one message naming the file, line, section and key each is
about."""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from .config import (
    ACCENT_EVIDENCE,
    CONFIG_NAME,
    DEFAULT_LICENCES,
    DEFAULT_MAX_TRANSCRIPT_CHARS,
    DEFAULT_URL_TIMEOUT_S,
    SCOTTISH_ACCENTS,
    Config,
    LabelSchema,
    PublishSettings,
    PullSettings,
    QualitySettings,
    RegionTargets,
    ReportSettings,
    SettingsError,
    VadSettings,
)
from .errors import AccentdsError


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
silero_max_gain_db = {vad.silero_max_gain_db:g}   # Silero hears a quiet source raised by up to this (0: as recorded)
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


def cut_setting(name: str) -> str:
    """A cut setting (a field of VadSettings) as accentds.toml holds it: `[vad] padding_ms`,
    `[audio] sample_rate`."""
    return f"[{'audio' if name in _AUDIO_KEYS else 'vad'}] {name}"


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


_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _line_of(text: str, section: str | None, key: str | None = None) -> int | None:
    """The line number of `[section]` (key None) or of `key = ` inside it (section None:
    before any section), as far as a plain reading of the text finds them. A key written as
    a table of its own (`[publish.extra]`) or as a dotted key (`extra.name = 1`) is found too."""
    current: str | None = None
    quoted = re.escape(key or "")
    assignment = re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*[=.]""")
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            parts = [part.strip().strip("\"'") for part in header.group(1).split(".")]
            current = ".".join(parts)
            if key is None and current == section:
                return number
            if key is not None and section is not None and parts[:2] == [section, key]:
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

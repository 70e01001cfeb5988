"""The dataset card of a release: YAML metadata for the Hub, then a summary for people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .errors import AccentdsError
from .licences import KNOWN, Credit
from .markup import cell, code, minutes, table, to_yaml
from .selection import LeftOut
from .shards import VALUE_COLUMNS, features_json
from .splits import SPLITS, group_name
from .words import counted
from .workspace import Workspace

TEMPLATE = "card.md"
GAP_MINUTES = 5.0  # accent regions with less than this are listed as gaps in the card
# YAML keys the release's data decides: card.md can neither replace nor extend them
DATA_KEYS = ("license", "configs", "dataset_info", "size_categories")


def _size_category(count: int) -> str:
    """The Hub's size category for a number of rows."""
    names = ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]
    for power, name in enumerate(names, start=3):
        if count < 10**power:
            return name
    return "n>1T"


def _card_yaml(
    workspace: Workspace,
    rate: int,
    split_info: dict[str, dict[str, Any]],
    total_clips: int,
    licence: Mapping[str, Any],
) -> dict[str, Any]:
    """The card's YAML header: what the Hub shows and what `load_dataset` reads (the data
    files of each non-empty split, and the features and split sizes it checks)."""
    config = workspace.config
    splits = [s for s in SPLITS if split_info.get(s, {}).get("clips")]
    features: list[dict[str, Any]] = [{"name": "audio", "dtype": {"audio": {"sampling_rate": rate}}}]
    features += [{"name": n, "dtype": features_json(rate)[n]["dtype"]} for n, _ in VALUE_COLUMNS]
    header: dict[str, Any] = {**licence, "language": [config.language]}
    if config.language == "en":
        header["language_details"] = ["en-GB-scotland"]  # BCP 47: Scottish Standard English
    if config.publish.gated_prompt:
        header["extra_gated_prompt"] = config.publish.gated_prompt
    if config.publish.gated_fields:
        header["extra_gated_fields"] = dict.fromkeys(config.publish.gated_fields, "text")
    header |= {
        "pretty_name": config.name,
        "task_categories": ["automatic-speech-recognition"],
        "tags": ["audio", "speech", "accent", "scottish-english"],
        "size_categories": [_size_category(total_clips)],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits],
            }
        ],
        "dataset_info": {
            "features": features,
            "splits": [
                {"name": s, "num_bytes": split_info[s]["num_bytes"], "num_examples": split_info[s]["clips"]}
                for s in splits
            ],
            "download_size": sum(split_info[s]["download_size"] for s in splits),
            "dataset_size": sum(split_info[s]["num_bytes"] for s in splits),
        },
    }
    return header


@dataclass
class Build:
    """What a release being built holds, for its card and record."""

    version: str
    rows: list[dict[str, Any]]  # kept clips, each with its `split`
    split_info: dict[str, dict[str, Any]]
    left_out: list[LeftOut]
    unlicensed: list[str]
    vad: list[dict[str, Any]]
    rate: int
    changelog: str = ""
    warnings: list[str] = field(default_factory=list)
    credits: dict[str, Credit] = field(default_factory=dict)  # source id -> licence and attribution
    licence: dict[str, Any] = field(default_factory=dict)  # the card's licence fields

    @property
    def splits(self) -> list[str]:
        """The splits that hold clips, in order."""
        return [s for s in SPLITS if self.split_info.get(s, {}).get("clips")]


def seconds_of(rows: Iterable[Mapping[str, Any]]) -> float:
    return sum(float(r["duration"]) for r in rows)


def _by(rows: Iterable[dict[str, Any]], key: Any) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _card_intro(workspace: Workspace, build: Build) -> list[str]:
    config = workspace.config
    lines = [f"# {config.name} {build.version}", ""]
    if config.description:
        lines += [config.description, ""]
    return [
        *lines,
        f"{counted(len(build.rows), 'clip')}, {minutes(seconds_of(build.rows))} minutes of speech: {build.rate} Hz "
        "mono 16-bit WAV embedded in Parquet, each with its transcript, speaker, accent region and the "
        f"evidence for it. Every clip was accepted by a human reviewer. Built with accentds {__version__}.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("ORG/NAME")  # this dataset\'s Hub repository: the newest version',
        f'ds = load_dataset("ORG/NAME", revision="{build.version}")  # exactly this version (a tag)',
        'ds = load_dataset("path/to/this/folder")  # a local copy',
        "```",
        "",
        'With `datasets` 4 or later and torchcodec installed (`pip install "datasets[audio]"`), a row\'s '
        f"`audio` is decoded to samples at {build.rate} Hz. Without torchcodec, read the WAV bytes yourself:",
        "",
        "```python",
        "import io",
        "",
        "import soundfile",
        "from datasets import Audio",
        "",
        'train = ds["train"].cast_column("audio", Audio(decode=False))',
        'samples, rate = soundfile.read(io.BytesIO(train[0]["audio"]["bytes"]))',
        "```",
        "",
        "`text` is the transcript; `text_origin` says who wrote it: `person` (a reviewer typed or corrected "
        "it), `captions` or `automatic captions` (the source's subtitles, as a reviewer accepted them). "
        "`speaker_id` names the speaker, `accent` the accent region and `accent_evidence` how it is known. "
        "`audio` holds the WAV file's bytes and a file name (`<clip_id>.wav`); `duration`, `start` and "
        "`end` are seconds, `start`/`end` within the source. `origin` is the source's URL, or `file` "
        "for a local recording.",
    ]


def _card_splits(build: Build) -> list[str]:
    by_split = _by(build.rows, lambda r: r["split"])
    rows = [
        (s, len(by_split[s]), minutes(seconds_of(by_split[s])), len({group_name(r) for r in by_split[s]}))
        for s in build.splits
    ]
    return [
        "## Splits",
        "",
        "No speaker, no recording and no copy of a recording is in two splits: clips are placed in groups "
        "joined by speaker, by source and by duplicate audio (a re-upload goes with the original). Every "
        "speaker and source keeps its split from one version to the next; a move is listed in the changelog.",
        "",
        table(["split", "clips", "minutes", "speakers or sources"], rows),
    ]


def _card_accents(build: Build) -> list[str]:
    rows = []
    for accent, mine in sorted(
        _by(build.rows, lambda r: r["accent"]).items(), key=lambda kv: (kv[0] == "", kv[0])
    ):
        per_split = _by(mine, lambda r: r["split"])
        rows.append(
            [
                accent or "(none)",
                len(mine),
                minutes(seconds_of(mine)),
                *(minutes(seconds_of(per_split[s])) for s in build.splits),
            ]
        )
    return [
        "## Accent regions",
        "",
        table(["accent region", "clips", "minutes", *(f"{s} min" for s in build.splits)], rows),
    ]


def _card_speakers(build: Build) -> list[str]:
    rows = []
    for name, mine in sorted(_by(build.rows, group_name).items()):
        accents = sorted({r["accent"] for r in mine if r["accent"]})
        shown = name if mine[0]["speaker"] else f"(unnamed, {name})"
        rows.append(
            [shown, ", ".join(accents) or "(none)", mine[0]["split"], len(mine), minutes(seconds_of(mine))]
        )
    return ["## Speakers", "", table(["speaker", "accent region", "split", "clips", "minutes"], rows)]


def _card_sources(build: Build) -> list[str]:
    rows = []
    for source, mine in sorted(_by(build.rows, lambda r: r["source_id"]).items()):
        first, credit = mine[0], build.credits.get(source)
        rows.append(
            [
                source,
                first["origin"] if first["origin"] != "file" else "local file",
                credit.title if credit else "",
                credit.author if credit else "",
                first["licence"] or "(none recorded)",
                len(mine),
                minutes(seconds_of(mine)),
            ]
        )
    licences = sorted({r["licence"] for r in build.rows if r["licence"]})
    lines = [
        "## Sources and licences",
        "",
        "Each clip keeps the licence of its source (the `licence` column); "
        + (
            f"this release holds {', '.join(code(x) for x in licences)}." if licences else "none is recorded."
        ),
        "",
        table(["source", "origin", "title", "author", "licence", "clips", "minutes"], rows),
    ]
    if build.unlicensed:
        listed = ", ".join(code(s) for s in build.unlicensed)
        clips = sum(1 for r in build.rows if r["source_id"] in set(build.unlicensed))
        claim = (
            "so this card claims no licence (`unknown`): check the rights to those clips before any use"
            if build.licence.get("license") == "unknown"
            else "although [publish] allowed_licences does not list their licence"
        )
        lines += [
            "",
            f"**{clips} clip(s) are published with `--include-unlicensed`** (sources {listed}), {claim}.",
        ]
    lines += _card_attribution(build)
    left = [
        f"- source {code(item.value)}: {cell(item.reason)} ({counted(item.clips, 'clip')}, {minutes(item.seconds)} min)"
        for item in build.left_out
        if item.cause == "licence"
    ]
    sources = [item for item in build.left_out if item.cause == "deny list" and item.kind == "source"]
    if sources:  # no ids here: the card is public; release.json has the list
        left.append(
            f"- {counted(len(sources), 'source')} on the deny list ({counted(sum(i.clips for i in sources), 'clip')}, "
            f"{minutes(sum(i.seconds for i in sources))} min)"
        )
    speakers = sum(1 for item in build.left_out if item.cause == "deny list" and item.kind == "speaker")
    if speakers:  # a takedown: neither who nor how much of them
        left.append(f"- {counted(speakers, 'speaker')} on the deny list")
    return [*lines, "", "## Left out", "", *(left or ["Nothing accepted was left out."])]


def _card_attribution(build: Build) -> list[str]:
    """The credit every source whose licence asks for attribution must be given."""
    needed = [c for c in build.credits.values() if c.needs_attribution]
    if not needed:
        return []
    rows = []
    for credit in needed:
        known = KNOWN.get(credit.licence)
        name = known.spdx if known else credit.licence_name or credit.licence
        link = known.url if known else credit.licence_url
        rows.append([credit.source_id, credit.title, credit.author, credit.url, f"{name} {link}".strip()])
    return [
        "",
        "### Attribution",
        "",
        "Credit these works when you use or share clips from them:",
        "",
        table(["source", "title", "author", "link", "licence"], rows),
    ]


def _card_privacy(workspace: Workspace, build: Build) -> list[str]:
    """What the release holds about people, and how they can have it removed."""
    names = workspace.config.publish.speaker_names
    who = (
        "Speakers are named as they agreed to be named."
        if names
        else "Speakers are named by stable ids (`spk-` and a salted hash): their names are not published, "
        "and an id cannot be recomputed from a name."
    )
    videos = len({r["source_id"] for r in build.rows if r["origin"] != "file"})
    files = len({r["source_id"] for r in build.rows if r["origin"] == "file"})
    denied = [item for item in build.left_out if item.cause == "deny list"]
    return [
        "## Personal and sensitive information",
        "",
        "- Every clip is a recording of a person's voice, which can identify them, and its accent region says "
        "where they come from. Use the data to build and evaluate speech technology, never to identify, "
        "track or profile the people speaking.",
        f"- {who} A speaker keeps one id (and split) from one version to the next, unless the curators "
        "correct the speaker's name: the id follows the name, so the changelog then shows the speaker's clips "
        "as relabelled (the split stays).",
        "- Transcripts are what was said, and can mention people and places.",
        f"- The recordings are {videos} video(s) published on their sites and {files} recording(s) given to "
        "the curators; where a recording came from is in the sources table above.",
        f"- A speaker or source is removed from every later version on request ({len(denied)} so far); "
        "ask the dataset's maintainers.",
    ]


DETECTORS = {  # backend -> how the card says it found the speech
    "webrtc+silero": "webrtcvad heard the speech and Silero VAD confirmed it (a frame was kept where "
    "webrtcvad heard speech and Silero gave it at least the confirm threshold, or Silero was sure of it; "
    "clips Silero never gave its sure threshold were flagged for the reviewer)",
    "webrtc": "webrtcvad found the speech",
    "silero": "Silero VAD found the speech",
}


def _card_cutting(build: Build) -> list[str]:
    headers = [
        "settings", "detector", "VAD aggressiveness", "Silero confirm / sure", "frame ms", "padding ms",
        "merge gap ms", "min clip s", "max clip s", "clips",
    ]  # fmt: skip
    keys = ["settings_id", "backend", "aggressiveness", "silero", "frame_ms", "padding_ms", "merge_gap_ms"]
    keys += ["min_clip_s", "max_clip_s", "clips"]
    rows = []
    for v in build.vad:
        neural = v.get("backend") in ("webrtc+silero", "silero")
        silero = f"{v['confirm_threshold']} / {v['silero_threshold']}" if neural else ""
        rows.append(
            [{"silero": silero, "backend": v.get("backend") or "not recorded"}.get(k, v.get(k)) for k in keys]
        )
    used = list(dict.fromkeys(v.get("backend") or "" for v in build.vad))
    found = (
        "; ".join(
            DETECTORS.get(
                b, "a voice activity detector found the speech (a cut from before its detector was recorded)"
            )
            for b in used
        )
        or "a voice activity detector found the speech"
    )
    return [
        "## How the clips were cut",
        "",
        f"ffmpeg decoded each source's audio (the stream a player plays) to {build.rate} Hz mono, and {found}: speech runs "
        "separated by pauses shorter than the merge gap form one clip, padded on each side; clips shorter "
        "than the minimum were dropped and longer speech was split at its quietest "
        f"pause. Cut and published with accentds {__version__}.",
        "",
        table(headers, rows),
    ]


def _card_gaps(workspace: Workspace, build: Build) -> list[str]:
    seconds = {a: seconds_of(mine) for a, mine in _by(build.rows, lambda r: r["accent"]).items()}
    gaps = [a for a in workspace.config.labels.accents if seconds.get(a, 0.0) / 60 < GAP_MINUTES]
    lines = [f"- {cell(a)}: {minutes(seconds.get(a, 0.0))} min" for a in gaps]
    unlabelled = sum(1 for r in build.rows if not r["accent"])
    if unlabelled:
        lines.append(f"- {unlabelled} clip(s) have no accent region")
    unnamed = sum(1 for r in build.rows if not r["speaker"])
    if unnamed:
        lines.append(f"- {unnamed} clip(s) have no named speaker")
    intro = (
        f"Accent regions with less than {GAP_MINUTES:g} minutes:" if gaps else "No accent region is short."
    )
    return ["## Known gaps", "", intro, "", *lines]


def card(workspace: Workspace, build: Build) -> str:
    """The dataset card: YAML metadata for the Hub, then a summary for people."""
    header = _card_yaml(workspace, build.rate, build.split_info, len(build.rows), build.licence)
    metadata, template = read_template(workspace)
    for key, value in metadata.items():
        if key not in header:
            header[key] = value
        elif key not in DATA_KEYS and isinstance(header[key], list) and isinstance(value, list):
            header[key] = header[key] + [v for v in value if v not in header[key]]  # more tags, say
    sections = [
        _card_intro(workspace, build),
        _card_splits(build),
        _card_accents(build),
        _card_speakers(build),
        _card_sources(build),
        _card_privacy(workspace, build),
        _card_cutting(build),
        _card_gaps(workspace, build),
        *([[extra]] if (extra := template.strip()) else []),
        ["## Changelog", "", build.changelog or "First release."],
        *([["## Warnings", "", *(f"- {cell(w)}" for w in build.warnings)]] if build.warnings else []),
    ]
    body = "\n\n".join("\n".join(lines) for lines in sections)
    return f"---\n{to_yaml(header)}\n---\n\n{body}\n"


def template_path(workspace: Workspace) -> Path:
    """card.md in the workspace: sections (and YAML keys) every release's card carries."""
    return workspace.root / TEMPLATE


def read_template(workspace: Workspace) -> tuple[dict[str, Any], str]:
    """The card template's YAML keys and Markdown; nothing when there is no card.md."""
    path = template_path(workspace)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise AccentdsError(f"{path} cannot be read ({exc}): save it as UTF-8 text, or remove it") from None
    from huggingface_hub import DatasetCard  # parses the YAML header as the Hub does

    try:
        parsed = DatasetCard(text)
    except ValueError as exc:
        raise AccentdsError(f"{path}: its YAML header cannot be read ({exc}); fix it or remove it") from None
    return parsed.data.to_dict(), parsed.text

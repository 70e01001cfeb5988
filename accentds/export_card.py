"""The dataset card of a release written in another layout (`publish --format nemo` or
`audiofolder`): the release's card, so its licences, the attribution its sources ask for and
what it leaves out travel with the files, told how to load this folder rather than the Hub
repository or the Parquet release."""

from __future__ import annotations

from collections.abc import Sequence

from .markup import to_yaml

# the card's YAML keys that describe the Parquet files, not an export of them
PARQUET_KEYS = ("configs", "dataset_info")
EXPORT_NOTES = {
    "nemo": "This folder holds version {version} for NVIDIA NeMo: `audio/<split>/<clip_id>.wav` and one "
    "`<split>_manifest.jsonl` per split (`audio_filepath` relative to this folder, `duration`, `text`, "
    "`speaker`, `accent`, `clip_id`).",
    "audiofolder": "This folder holds version {version} as a Hugging Face audiofolder: `<split>/<clip_id>.wav` "
    "and `<split>/metadata.{metadata}`; load it as the Loading section shows. Its columns `transcript` and "
    "`speaker` are what the release calls `text` and `speaker_id`.",
}
LABELS = (
    "`text_origin` says who wrote the transcript: `person` (a reviewer typed or corrected it), `captions` or "
    "`automatic captions` (the source's subtitles, as a reviewer accepted them). `accent` is the accent region "
    "and `accent_evidence` how it is known; `duration`, `start` and `end` are seconds, `start`/`end` within the "
    "source; `origin` is the source's URL, or `file` for a local recording."
)


def _audiofolder(splits: Sequence[str], rate: str, metadata: str) -> list[str]:
    listed = ", ".join(f'"{s}"' for s in splits)
    reader = "json" if metadata == "jsonl" else "csv"
    return [
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("audiofolder", data_dir="path/to/this/folder")',
        "```",
        "",
        f"A row's `audio` is decoded to samples{rate} by torchcodec, which `datasets` 4 and later need to load "
        'any folder of audio files: `pip install "datasets[audio]"` (it brings torch). Without it, '
        "`load_dataset(\"audiofolder\", ...)` stops (`please install 'torchcodec'`); read the labels and "
        "the WAV files yourself:",
        "",
        *_read_with_soundfile(
            f'str(folder / split / "metadata.{metadata}")',
            reader,
            f'folder / "{splits[0]}" / ds["{splits[0]}"][0]["file_name"]',
            listed,
        ),
        "",
        "`file_name` is the clip's WAV file in its split's folder (`audio` when loaded as an audiofolder); "
        "`transcript` is what was said and `speaker` names the speaker. " + LABELS,
    ]


def _read_with_soundfile(split_file: str, reader: str, first_clip: str, listed: str) -> list[str]:
    """Code that loads each split's table with `datasets` and reads its first clip's WAV
    file with soundfile (no torchcodec needed)."""
    return [
        "```python",
        "from pathlib import Path",
        "",
        "import soundfile",
        "from datasets import load_dataset",
        "",
        'folder = Path("path/to/this/folder")',
        f"files = {{split: {split_file} for split in [{listed}]}}",
        f'ds = load_dataset("{reader}", data_files=files)',
        f"samples, rate = soundfile.read({first_clip})",
        "```",
    ]


def _nemo(splits: Sequence[str], rate: str) -> list[str]:
    listed = ", ".join(f'"{s}"' for s in splits)
    return [
        "Give NeMo a split's manifest, e.g. `model.train_ds.manifest_filepath=path/to/this/folder/"
        f"{splits[0]}_manifest.jsonl`: each `audio_filepath` is relative to this folder, where NeMo finds it "
        f"beside the manifest. The clips are mono 16-bit WAV{rate}. With `datasets`:",
        "",
        *_read_with_soundfile(
            'str(folder / f"{split}_manifest.jsonl")',
            "json",
            f'folder / ds["{splits[0]}"][0]["audio_filepath"]',
            listed,
        ),
        "",
        "`duration` is the WAV file's length in seconds, `text` what was said, `speaker` names the speaker and "
        "`accent` is the accent region; the other labels are in the release's Parquet files.",
    ]


def _replace_loading(body: str, section: list[str]) -> str:
    """`body` with its `## Loading` section (up to the next `## `) replaced by `section`,
    or with `section` put before its first other section where it has none."""
    new = "\n".join(["## Loading", "", *section]) + "\n"
    start = body.find("\n## Loading\n")
    if start < 0:
        start = body.find("\n## ")
        return f"{body.rstrip()}\n\n{new}" if start < 0 else f"{body[: start + 1]}{new}\n{body[start + 1 :]}"
    end = body.find("\n## ", start + 1)
    return f"{body[: start + 1]}{new}" + ("" if end < 0 else f"\n{body[end + 1 :]}")


def export_card(
    text: str, version: str, fmt: str, splits: Sequence[str], rate: int | None, metadata: str = "jsonl"
) -> str:
    """The card of a release exported as `fmt`: the release's card `text` without the YAML
    keys that describe the Parquet files (`datasets` would look for them), with a note on this
    folder's layout first and a Loading section for it. Raises ValueError for a card whose
    YAML header cannot be read."""
    from huggingface_hub import DatasetCard  # parses the YAML header as the Hub does

    card = DatasetCard(text)
    header = {k: v for k, v in card.data.to_dict().items() if k not in PARQUET_KEYS}
    note = EXPORT_NOTES[fmt].format(version=version, metadata=metadata)
    top = f"---\n{to_yaml(header)}\n---\n\n" if header else ""
    at = f" at {rate} Hz" if rate else ""
    section = _nemo(splits, at) if fmt == "nemo" else _audiofolder(splits, at, metadata)
    body = card.text.strip().replace(" WAV embedded in Parquet,", " WAV files,")
    title, _, rest = body.partition("\n")
    body = f"{title}\n\n{note}\n{rest}" if title.startswith("# ") else f"{note}\n\n{body}"
    return f"{top}{_replace_loading(body, section).rstrip()}\n"

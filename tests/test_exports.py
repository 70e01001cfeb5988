"""What a NeMo or audiofolder export of a real release carries for the people who get it:
the release's card (licences, the attribution CC-BY asks for, what was left out), and every
label the Parquet release has, `text_origin` included."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import datasets
import pytest
from conftest import run_cli
from releasing import NOW, front_matter, speaker_source

from accentds.labels import set_source_licence
from accentds.publish import publish
from accentds.workspace import Workspace

CREDIT = "| Ferry talk | Hamish Ross | https://example.org/ferry | CC-BY-4.0"


@pytest.fixture
def released(ws: Workspace) -> Workspace:
    hamish = speaker_source(ws, "Hamish")
    set_source_licence(ws, hamish, "CC-BY-4.0")
    done = run_cli(
        "source", "set", hamish, "--author", "Hamish Ross", "--title", "Ferry talk",
        "--url", "https://example.org/ferry", cwd=ws.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    publish(ws, "1.0.0", now=NOW)
    return ws


@pytest.mark.parametrize("fmt", ["nemo", "audiofolder"])
def test_an_export_carries_the_card_with_its_licences_and_attribution(
    released: Workspace, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / fmt
    done = run_cli("publish", "1.0.0", "--format", fmt, "--output", str(out), cwd=released.root)
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["license"] == ["cc-by-4.0", "cc0-1.0"]
    assert "configs" not in front_matter(card)  # those name the Parquet files, not this folder
    assert "### Attribution" in card and CREDIT in card
    assert "## Left out" in card and "version 1.0.0" in card


def test_an_audiofolder_export_loads_as_a_folder_with_every_label(
    released: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    if importlib.util.find_spec("torchcodec") is None:
        # datasets 5 imports torchcodec in Audio.encode_example even for a file path, which it
        # then stores untouched as {"bytes": None, "path": path}; do just that without it.
        encode = datasets.Audio.encode_example

        def encode_path(self, value):
            return {"bytes": None, "path": value} if isinstance(value, str) else encode(self, value)

        monkeypatch.setattr(datasets.Audio, "encode_example", encode_path)
    out = tmp_path / "af"
    done = run_cli("publish", "1.0.0", "--format", "audiofolder", "--output", str(out), cwd=released.root)
    assert done.returncode == 0, done.stderr
    release = json.loads((released.releases / "1.0.0" / "release.json").read_text(encoding="utf-8"))
    for how in ("folder", "audiofolder"):  # with the card beside the data too
        cache = str(tmp_path / f"cache-{how}")
        loaded = (
            datasets.load_dataset(str(out), cache_dir=cache)
            if how == "folder"
            else datasets.load_dataset("audiofolder", data_dir=str(out), cache_dir=cache)
        )
        assert {s: len(part) for s, part in loaded.items()} == {
            s: c["clips"] for s, c in release["counts"].items() if c["clips"]
        }
        rows = [r for part in loaded.values() for r in part.remove_columns("audio")]
        assert {r["text_origin"] for r in rows} == {"person"}  # a reviewer typed every transcript


def _loading_code(card: str, folder: Path) -> list[str]:
    """The Python blocks of a card's Loading section, pointed at `folder`."""
    section = card.split("\n## Loading\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    return [block.replace("path/to/this/folder", str(folder)) for block in blocks]


@pytest.mark.parametrize("fmt", ["nemo", "audiofolder"])
def test_an_exports_card_says_how_to_load_that_export_and_its_code_runs(
    released: Workspace, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card of an export showed the Hub's `load_dataset("ORG/NAME")` and the Parquet
    release's audio bytes, neither of which loads the folder it is in."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / fmt
    done = run_cli("publish", "1.0.0", "--format", fmt, "--output", str(out), cwd=released.root)
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "ORG/NAME" not in card and "embedded in Parquet" not in card
    blocks = _loading_code(card, out)
    assert blocks, card
    release = json.loads((released.releases / "1.0.0" / "release.json").read_text(encoding="utf-8"))
    clips = {s: c["clips"] for s, c in release["counts"].items() if c["clips"]}
    if fmt == "audiofolder":
        assert (
            'load_dataset("audiofolder", data_dir=' in blocks[0] and 'pip install "datasets[audio]"' in card
        )
        if importlib.util.find_spec("torchcodec") is None:
            blocks = blocks[1:]  # the first needs torchcodec: the next is the way without it
    for block in blocks:
        scope: dict[str, object] = {}
        exec(compile(block, f"{fmt} card", "exec"), scope)  # the card's own example, as a reader runs it
        loaded = scope["ds"]
        assert {s: len(part) for s, part in loaded.items()} == clips
        if "samples" in scope:
            assert scope["rate"] == 16000 and len(scope["samples"]) > 0


def test_an_export_is_refused_in_the_folder_of_published_versions(released: Workspace) -> None:
    """An export written to releases/1.1.0 was listed as a damaged release 1.1.0: `status`
    suggested restoring it and `report` stopped."""
    target = released.releases / "1.1.0"
    done = run_cli("publish", "1.0.0", "--format", "nemo", "--output", str(target), cwd=released.root)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {target} is inside ")
    assert "choose a folder outside it" in done.stderr and not target.exists()
    report = run_cli("report", cwd=released.root)
    assert report.returncode == 0, report.stderr


@pytest.mark.parametrize("fmt", ["nemo", "wav"])
def test_an_export_that_cannot_be_written_stops_before_the_version_is_published(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    """`publish 1.0.0 --format nemo --output FOLDER` published 1.0.0 and only then said the
    folder was not empty (or the format unknown): the version was taken, the export not made."""
    out = tmp_path / "exports"
    (out / "0.9.0").mkdir(parents=True)
    done = run_cli("publish", "1.0.0", "--format", fmt, "--output", str(out), cwd=ws.root)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    expected = f"{out} already exists and is not empty" if fmt == "nemo" else "unknown format 'wav'"
    assert line.startswith(f"Error: {expected}"), line
    assert not (ws.releases / "1.0.0").exists() and not (ws.manifests / "releases.csv").exists()
    assert "published" not in done.stdout
    done = run_cli("publish", "1.0.0", "--format", "nemo", "--output", str(out / "1.0.0"), cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert (ws.releases / "1.0.0").is_dir() and (out / "1.0.0" / "train_manifest.jsonl").is_file()


def test_an_export_killed_before_leaves_no_hidden_copy_once_exported_again(
    released: Workspace, tmp_path: Path
) -> None:
    """A `kill -9` during an export left its hidden `.NAME.tmpPID` folder of WAV files beside
    the output for good: a release's worth of audio no command removed."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has any more
    left = tmp_path / f".nemo.tmp{gone.pid}"
    (left / "audio" / "train").mkdir(parents=True)
    (left / "audio" / "train" / "half.wav").write_bytes(b"RIFF")
    running = tmp_path / f".nemo.tmp{os.getpid()}"  # another export, still running
    running.mkdir()
    done = run_cli(
        "publish", "1.0.0", "--format", "nemo", "--output", str(tmp_path / "nemo"), cwd=released.root
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nemo" / "train_manifest.jsonl").is_file()
    assert not left.exists() and running.is_dir()


@pytest.mark.parametrize("kept", ["manifests", "clips", "raw"])
def test_an_export_is_refused_in_the_folders_accentds_keeps(released: Workspace, kept: str) -> None:
    """An export into manifests/ put the release's WAV files where git tracks the labels (a
    `git add -A` committed the audio), and one into clips/ or raw/ mixed it with the cut's."""
    target = released.root / kept / "nemo"
    done = run_cli("publish", "1.0.0", "--format", "nemo", "--output", str(target), cwd=released.root)
    assert done.returncode == 1, done.stdout
    [line] = done.stderr.splitlines()
    assert (
        line.startswith(f"Error: {target} is inside {released.root / kept}")
        and "choose a folder outside it" in line
    )
    assert not target.exists()

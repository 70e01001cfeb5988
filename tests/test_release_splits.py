"""Splits a trainer can trust: remembered in the tracked manifests (a fresh clone publishes the
same splits), never straddled by a speaker, a source or a re-encoded copy of a recording,
and changed only by `accentds splits move`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli
from releasing import (
    NOW,
    check_against_workspace,
    load,
    manifest_of,
    named,
    set_ratios,
    speaker_files,
    speaker_source,
)

from accentds.cut import cut
from accentds.errors import AccentdsError
from accentds.labels import rename_speaker, set_labels
from accentds.publish import publish
from accentds.pull import pull
from accentds.releases import verify
from accentds.splits import move_split, split_memory, splits_csv
from accentds.workspace import Workspace


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _fresh_clone(ws: Workspace, target: Path) -> Workspace:
    """What a curator on another machine has: a git clone of the workspace (manifests, settings)
    plus its audio (raw/, clips/) copied beside it; no releases/."""
    _git("init", "-q", cwd=ws.root)
    _git("add", "-A", cwd=ws.root)
    _git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "corpus", cwd=ws.root)
    _git("clone", "-q", str(ws.root), str(target), cwd=ws.root.parent)
    for folder in ("raw", "clips"):
        shutil.copytree(ws.root / folder, target / folder)
    assert not (target / "releases").exists()
    return Workspace(target)


def _away_from(split: str) -> dict[str, float]:
    """Ratios under which a new group would be placed in another split than `split`."""
    return {"train": 0.05, "validation": 0.05, "test": 0.9} if split == "train" else {
        "train": 0.9, "validation": 0.05, "test": 0.05,
    }  # fmt: skip


def test_a_fresh_clone_publishes_the_same_splits(ws: Workspace, tmp_path: Path) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    assert splits_csv(ws).is_file() and (ws.manifests / "releases.csv").is_file()
    clone = _fresh_clone(ws, tmp_path / "clone")
    # ratios that would place everyone differently, and a new speaker
    set_ratios(clone, {"train": 0.2, "validation": 0.1, "test": 0.7})
    clone = Workspace(clone.root)
    callum = sorted(c for c, r in manifest_of(clone).items() if r["speaker"] == "Callum")
    set_labels(clone, callum, {"status": "accepted"})
    second = publish(clone, "1.1.0", now=NOW)
    assert {g: second.assignment[g] for g in first.assignment} == first.assignment
    assert second.previous == "1.0.0"
    splits = load(second.path, tmp_path / "cache")
    check_against_workspace(clone, splits)
    for split, rows in named(clone, splits).items():
        assert all(first.assignment.get(r["speaker_id"], split) == split for r in rows)
    card = (second.path / "README.md").read_text(encoding="utf-8")
    assert "First release." not in card and "Changes from 1.0.0" in card


def test_a_reencoded_copy_lands_in_the_originals_split(
    ws: Workspace, tmp_path: Path, speech, ffmpeg: str
) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    morag = first.assignment["Morag"]
    set_ratios(ws, _away_from(morag))
    ws = Workspace(ws.root)
    # the same recording re-uploaded: re-encoded to Opus, no speaker set
    original = speaker_files(tmp_path, speech)["Morag"]
    copy = tmp_path / "reupload.ogg"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(original), "-c:a", "libopus", "-b:a", "24k", str(copy)], check=True
    )
    [pulled] = pull(ws, [str(copy)], licence="CC0-1.0")
    cut(ws)
    copies = sorted(c.clip_id for c in ws.read_clips() if c.source_id == pulled.source.source_id)
    assert copies
    set_labels(ws, copies, {"status": "accepted", "transcript": "A copy.", "accent": "Glasgow"})
    manifest = manifest_of(ws)
    assert all(manifest[c]["duplicate_group"] for c in copies)  # found as duplicates of Morag's clips
    second = publish(ws, "1.1.0", now=NOW)
    assert second.assignment[f"source:{pulled.source.source_id}"] == morag
    # both copies are published: the curator and the card's readers are told which
    [warning] = [w for w in second.warnings if "more than once" in w]
    assert all(f"= {c}" in warning or f"{c} =" in warning for c in copies) and "--reject" in warning
    assert warning in (second.path / "README.md").read_text(encoding="utf-8").replace("\\", "")
    splits = load(second.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    assert set(copies) <= {r["clip_id"] for r in splits[morag]}


def test_a_merge_that_would_empty_test_is_refused_and_splits_move_is_recorded(
    ws: Workspace, tmp_path: Path
) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    by_split = {s: g for g, s in first.assignment.items() if not g.startswith("source:")}
    tested, trained = by_split["test"], by_split["train"]
    with pytest.raises(AccentdsError, match=r"from test into train, and leave test without any speaker"):
        rename_speaker(ws, tested, trained)
    assert {r["speaker"] for r in manifest_of(ws).values()} >= {tested, trained}  # nothing changed
    refused = run_cli("speakers", "rename", tested, trained, cwd=ws.root)
    assert refused.returncode == 1 and "accentds splits move speaker" in refused.stderr
    assert "Traceback" not in refused.stderr
    # relabelling the clips one by one joins the two groups: publishing refuses, --force records it
    clips = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == tested)
    set_labels(ws, clips, {"speaker": trained})
    # status says so before publish stops (it used to suggest publishing)
    shown = run_cli("status", cwd=ws.root).stdout
    assert (
        "the next publish stops: 1 group(s) of speakers and sources joined since lie in two splits" in shown
    )
    with pytest.raises(AccentdsError, match=r"straddle splits.*accentds splits move"):
        publish(ws, "1.1.0")
    forced = publish(ws, "1.1.0", force=True, now=NOW)
    assert forced.warnings and "--force" in forced.warnings[0]
    assert "## Warnings" in (forced.path / "README.md").read_text(encoding="utf-8")
    splits = load(forced.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    assert set(clips) <= {r["clip_id"] for r in splits["train"]}


def test_splits_move_is_the_way_to_move_a_speaker(ws: Workspace, tmp_path: Path) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    by_split = {s: g for g, s in first.assignment.items() if not g.startswith("source:")}
    tested, trained = by_split["test"], by_split["train"]
    with pytest.raises(AccentdsError, match="give a reason"):
        move_split(ws, "speaker", tested, "train", " ")
    with pytest.raises(AccentdsError, match="has no split yet"):
        move_split(ws, "speaker", "Callum", "train", "x")
    moved = run_cli("splits", "move", "speaker", tested, "train", "--reason", "one person", cwd=ws.root)
    assert moved.returncode == 0, moved.stderr
    memory = split_memory(ws)
    assert memory[f"speaker:{tested}"] == "train"
    assert memory[f"source:{speaker_source(ws, tested)}"] == "train"  # with everything joined to it
    assert rename_speaker(ws, tested, trained) == 2
    second = publish(ws, "1.1.0", now=NOW)
    assert not any("--force" in w for w in second.warnings)
    card = (second.path / "README.md").read_text(encoding="utf-8")
    assert "Moved between splits with `accentds splits move`" in card and "(one person)" in card
    assert "test → train" in card
    check_against_workspace(ws, load(second.path, tmp_path / "cache"))
    assert "before" not in splits_csv(ws).read_text(encoding="utf-8") and tested not in splits_csv(
        ws
    ).read_text(encoding="utf-8")  # the memory follows the rename


def test_a_release_the_record_missed_is_recorded_before_the_next(ws: Workspace, tmp_path: Path) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    # as a publish stopped right after its folder was renamed into place (or made before the
    # tracked record existed) leaves it: the folder, no record
    for path in (splits_csv(ws), ws.manifests / "releases.csv", ws.manifests / "releases" / "1.0.0.json"):
        path.unlink()
    set_ratios(ws, {"train": 0.2, "validation": 0.1, "test": 0.7})
    second = publish(Workspace(ws.root), "1.1.0", now=NOW, force=True)  # the same clips again
    assert {g: second.assignment[g] for g in first.assignment} == first.assignment
    assert (ws.manifests / "releases" / "1.0.0.json").is_file() and verify(ws, "1.0.0") == []
    check_against_workspace(ws, load(second.path, tmp_path / "cache"))


def test_publishing_the_same_version_again_records_a_release_the_record_missed(ws: Workspace) -> None:
    """A publish killed right after its folder was moved into place leaves no record: the same
    command again was refused and left it unrecorded, so a commit (and a clone) lacked the
    version and its splits until some later version was published. Later it recorded the
    version but still answered with an error, as if the publish had failed."""
    publish(ws, "1.0.0", now=NOW)
    recorded = {p: p.read_text() for p in (splits_csv(ws), ws.manifests / "releases" / "1.0.0.json")}
    for path in (splits_csv(ws), ws.manifests / "releases.csv", ws.manifests / "releases" / "1.0.0.json"):
        path.unlink()
    again = run_cli("publish", "1.0.0", cwd=ws.root)
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == (
        "published 1.0.0: it was built before the stop and is now recorded in manifests/releases.csv "
        "(its splits in manifests/splits.csv)\n"
    )
    copy = ws.manifests / "releases" / "1.0.0.json"
    assert copy.read_text() == recorded[copy] and verify(ws, "1.0.0") == []
    placed = [row.split(",")[:3] for row in splits_csv(ws).read_text().splitlines()]
    assert placed == [row.split(",")[:3] for row in recorded[splits_csv(ws)].splitlines()]
    assert run_cli("publish", "1.0.0", cwd=ws.root).stderr.endswith("publish a new version\n")


def test_status_names_a_release_the_record_missed_and_the_publish_that_records_it(ws: Workspace) -> None:
    """A publish stopped right after its folder was moved into place left the version out of
    the tracked record, and status said nothing: a commit then left clones without it."""
    publish(ws, "1.0.0", now=NOW)
    for path in (splits_csv(ws), ws.manifests / "releases.csv", ws.manifests / "releases" / "1.0.0.json"):
        path.unlink()
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    told = " ".join((shown.stdout + shown.stderr).split())
    assert (
        "Warning: releases/1.0.0/ is not in manifests/releases.csv (a publish stopped before recording it?), so "
        "a clone would not know it: `accentds publish 1.0.0` records it and its splits; "
        "commit manifests/ after"
    ) in told, told
    assert run_cli("publish", "1.0.0", cwd=ws.root).returncode == 0  # recorded
    again = run_cli("status", cwd=ws.root)
    assert again.returncode == 0 and "releases.csv" not in again.stdout + again.stderr
    assert verify(ws, "1.0.0") == [] and split_memory(ws)


def test_a_hand_edited_split_memory_is_read_as_written_or_refused_by_line(ws: Workspace) -> None:
    publish(ws, "1.0.0", now=NOW)
    memory = split_memory(ws)
    text = splits_csv(ws).read_text(encoding="utf-8")
    lines = text.splitlines()
    kind, value, split, *rest = lines[1].split(",")
    lines[1] = ",".join([kind.title(), f" {value} ", split.upper(), *rest])  # a spreadsheet's way
    splits_csv(ws).write_text("\n".join([*lines, ",,,,,,"]) + "\n", encoding="utf-8")
    assert split_memory(ws) == memory
    lines[1] = ",".join([kind, value, split[:-1] + "x", *rest])
    splits_csv(ws).write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in (("status",), ("publish", "1.1.0", "--dry-run")):
        done = run_cli(*command, cwd=ws.root)
        assert done.returncode == 1, done.stdout
        assert done.stderr.startswith(
            f"Error: {splits_csv(ws)} line 2: the split '{split[:-1]}x' is not train"
        )

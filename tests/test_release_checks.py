"""Checks before and after publishing: transcripts, evaluation splits, version order, an
edited release.json, and pushing an older version over a newer one on the Hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from unittest import mock

import huggingface_hub
import pytest
from conftest import run_cli
from huggingface_hub.hf_api import GitRefInfo, GitRefs
from releasing import NOW, check_against_workspace, load, manifest_of

from accentds import hub
from accentds.checks import evaluation_checks
from accentds.errors import AccentdsError
from accentds.labels import set_labels
from accentds.publish import publish
from accentds.releases import verify
from accentds.workspace import Workspace


def test_an_accepted_clip_without_a_transcript_is_refused(ws: Workspace, tmp_path: Path) -> None:
    morag = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Morag")
    set_labels(ws, morag[:1], {"transcript": "   "})
    assert manifest_of(ws)[morag[0]]["transcript"].strip() == ""
    with pytest.raises(AccentdsError, match=rf"1 accepted clip\(s\) have no transcript \({morag[0]}\)"):
        publish(ws, "1.0.0")
    assert not (ws.releases / "1.0.0").exists()
    refused = run_cli("publish", "1.0.0", cwd=ws.root)
    assert refused.returncode == 1 and "accentds label CLIP_ID --transcript" in refused.stderr
    forced = run_cli("publish", "1.0.0", "--force", cwd=ws.root)
    assert forced.returncode == 0, forced.stderr
    assert "Warning: --force: 1 accepted clip(s) have no transcript" in forced.stderr
    card = (ws.releases / "1.0.0" / "README.md").read_text(encoding="utf-8")
    assert "## Warnings" in card and "have no transcript" in card
    check_against_workspace(ws, load(ws.releases / "1.0.0", tmp_path / "cache"))


def test_implausible_transcripts_and_one_voice_evaluation_splits_are_warned_about(ws: Workspace) -> None:
    ailsa = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Ailsa")
    set_labels(ws, ailsa[:1], {"transcript": "Aye."})  # a sentence of several seconds
    release = publish(ws, "1.0.0", now=NOW)
    odd = [w for w in release.warnings if "characters per second far from speech" in w]
    assert len(odd) == 1 and ailsa[0] in odd[0]
    # three speakers, one in each split: validation and test each measure one voice
    assert any(w.startswith("validation holds one speaker") for w in release.warnings)
    assert any(w.startswith("test holds one speaker") for w in release.warnings)
    rows = [
        {"split": "train", "speaker": "a", "source_id": "s1", "accent": "Fife"},
        {"split": "train", "speaker": "b", "source_id": "s2", "accent": "Glasgow"},
        {"split": "test", "speaker": "c", "source_id": "s3", "accent": "Glasgow"},
        {"split": "test", "speaker": "d", "source_id": "s4", "accent": "Glasgow"},
    ]
    assert evaluation_checks(rows) == [
        "test holds one accent region (Glasgow) of the release's 2: its scores say nothing about the others"
    ]


def test_an_evaluation_split_the_groups_cannot_fill_is_warned_about() -> None:
    """One interview with several speakers is one group: everything goes to train, and the
    user is told why validation and test are empty rather than finding out from the card."""
    rows = [{"split": "train", "speaker": name, "source_id": "s1", "accent": "Fife"} for name in "abc"]
    ratios = {"train": 0.8, "validation": 0.1, "test": 0.1}
    warnings = evaluation_checks(rows, ratios)
    assert [w.split(":")[0] for w in warnings] == ["validation is empty", "test is empty"]
    assert "share a speaker or a source" in warnings[0]
    assert evaluation_checks(rows, {"train": 1.0, "validation": 0.0, "test": 0.0}) == []


def test_a_version_not_above_the_newest_is_refused(ws: Workspace) -> None:
    publish(ws, "1.1.0", now=NOW)
    for version in ("1.0.0", "1.0.9"):
        with pytest.raises(AccentdsError, match=r"is not above 1\.1\.0.*publish 1\.1\.1, 1\.2\.0 or 2\.0\.0"):
            publish(ws, version)
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.1.0"]


def test_a_version_published_from_another_clone_is_refused_as_published_not_as_not_above_itself(
    ws: Workspace,
) -> None:
    """Where releases/ lacks the folder (a clone), publishing the newest version again said
    "1.1.0 is not above 1.1.0"."""
    publish(ws, "1.1.0", now=NOW)
    shutil.rmtree(ws.releases)  # as a clone gets the workspace
    done = run_cli("publish", "1.1.0", "--dry-run", cwd=ws.root)
    assert done.returncode == 1
    assert done.stderr == (
        "Error: 1.1.0 was published already (manifests/releases.csv) and never changes: publish 1.1.1, 1.2.0 "
        "or 2.0.0\n"
    )


def test_verify_catches_an_edited_release_json_and_says_what_changed(ws: Workspace) -> None:
    release = publish(ws, "1.0.0", now=NOW)
    assert verify(ws, "1.0.0") == []
    path = release.path / "release.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    group, split = next(iter(record["splits"].items()))
    other = "train" if split != "train" else "test"
    record["splits"][group] = other  # an edited split map: every file still matches it
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    problems = verify(ws, "1.0.0")
    assert len(problems) == 1  # the changes are part of the one problem
    lines = problems[0].splitlines()
    assert lines[0] == "changed: release.json (its sha256 differs from releases.csv in manifests/)"
    assert f'  splits.{group}: "{split}" -> "{other}"' in lines
    checked = run_cli("verify", "1.0.0", cwd=ws.root)
    assert checked.returncode == 1 and f"splits.{group}" in checked.stderr
    assert (
        "Error: release 1.0.0 has 1 problem: copy manifests/releases/1.0.0.json to "
        "releases/1.0.0/release.json\n" in checked.stderr
    )


def test_verify_names_every_damaged_file_and_how_to_restore_it(ws: Workspace) -> None:
    """With release.json gone, the files are still checked against the tracked copy."""
    release = publish(ws, "1.0.0", now=NOW)
    shards = sorted(p.relative_to(release.path).as_posix() for p in (release.path / "data").glob("*.parquet"))
    flipped = release.path / shards[0]
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    (release.path / shards[1]).unlink()
    (release.path / "data" / "stray.parquet").write_bytes(b"stray")
    (release.path / "release.json").unlink()
    assert verify(ws, "1.0.0") == [
        "missing: release.json",
        f"changed: {shards[0]} (its sha256 differs from release.json)",
        f"missing: {shards[1]}",
        "extra: data/stray.parquet (not in release.json)",
    ]
    checked = run_cli("verify", "1.0.0", cwd=ws.root)
    assert checked.returncode == 1
    assert checked.stderr.splitlines()[-1] == (
        "Error: release 1.0.0 has 4 problems: copy manifests/releases/1.0.0.json to "
        f"releases/1.0.0/release.json; restore {shards[0]}, {shards[1]} from a copy of releases/1.0.0/ "
        "(a backup, or the Hub's tag 1.0.0 if it was pushed), or publish a new version; "
        "delete data/stray.parquet"
    )


def test_pushing_an_older_version_over_a_newer_one_is_refused(ws: Workspace) -> None:
    release = publish(ws, "1.0.0", now=NOW)
    api = mock.create_autospec(huggingface_hub.HfApi, instance=True)
    api.repo_exists.return_value = True
    api.list_repo_files.return_value = ["README.md"]
    api.list_repo_refs.return_value = GitRefs(
        branches=[],
        converts=[],
        tags=[GitRefInfo(name=t, ref=f"refs/tags/{t}", target_commit="b" * 40) for t in ("1.1.0", "v-old")],
    )
    with pytest.raises(AccentdsError, match=r"already holds 1\.1\.0, newer than 1\.0\.0.*--force"):
        hub.push(release.path, "scots-lab/scottish-english", "1.0.0", api=api)
    api.upload_folder.assert_not_called()
    plan = hub.plan_push(release.path, "scots-lab/scottish-english", "1.0.0", api=api, force=True)
    assert plan.tags == ["1.1.0", "v-old"]


def test_a_push_without_a_token_or_with_a_bad_name_stops_before_anything_is_built(
    ws: Workspace, tmp_path: Path
) -> None:
    """One Error line naming what to do; no release built, nothing recorded, the Hub not asked."""
    nowhere = {
        "HF_HOME": str(tmp_path / "hf"),  # no saved login
        "HF_TOKEN": "",
        "HF_ENDPOINT": "http://127.0.0.1:9",  # were the Hub contacted, the connection is refused
    }
    records = ("releases.csv", "splits.csv", "releases")
    before = {
        name: (ws.manifests / name).exists() and (ws.manifests / name).stat().st_mtime_ns for name in records
    }
    for repo, message in (
        ("scots-lab/scottish-english", "no Hugging Face token found; log in with `hf auth login`"),
        ("scottish-english", "is not a Hub dataset name: use ORG/NAME"),
    ):
        refused = run_cli("publish", "1.0.0", "--to-hub", repo, cwd=ws.root, env=nowhere)
        assert refused.returncode == 1
        assert refused.stderr.startswith("Error: ") and message in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert not (ws.releases / "1.0.0").exists()
        assert before == {
            name: (ws.manifests / name).exists() and (ws.manifests / name).stat().st_mtime_ns
            for name in records
        }

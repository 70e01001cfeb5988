"""No names that should be gone: speakers are salted ids unless names may be published, and a
renamed or denied name appears in no published file (data, card, release.json, changelog)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from unittest import mock

import huggingface_hub
import pytest
from conftest import run_cli
from huggingface_hub.hf_api import CommitInfo
from releasing import NOW, check_against_workspace, front_matter, load, manifest_of

from accentds import hub
from accentds.config_file import load_config
from accentds.errors import AccentdsError
from accentds.labels import rename_speaker, set_labels
from accentds.privacy import salt, speaker_id
from accentds.publish import publish
from accentds.selection import deny
from accentds.workspace import Workspace


def _settings(ws: Workspace, **values: str) -> Workspace:
    config = ws.root / "accentds.toml"
    text = config.read_text(encoding="utf-8")
    for key, value in values.items():
        start = text.index(f"\n{key} = ") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{key} = {value}" + text[end:]
    config.write_text(text, encoding="utf-8")
    return Workspace(ws.root)


def _published_text(folder: Path, cache: Path) -> str:
    """Everything a release publishes, as text: its files and every loaded value."""
    files = [p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()]
    rows = [str(r) for split in load(folder, cache).values() for r in split]
    return "\n".join(files + rows)


def test_a_rename_leaves_no_old_name_in_any_published_file(ws: Workspace, tmp_path: Path) -> None:
    ws = _settings(ws, speaker_names="true")  # the curator had every speaker's consent
    first = publish(ws, "1.0.0", now=NOW)
    assert "Morag" in _published_text(first.path, tmp_path / "c1")
    rename_speaker(ws, "Morag", "spk-007")  # she withdrew consent to her name
    ailsa = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Ailsa")
    set_labels(ws, ailsa, {"speaker": "A. Smith"})  # renamed clip by clip, not with `speakers rename`
    deny(ws, "speaker", "Hamish", "Hamish Reid asked to be removed")  # a reason naming him
    second = publish(ws, "1.1.0", now=NOW)
    text = _published_text(second.path, tmp_path / "c2")
    assert "Morag" not in text and "Hamish" not in text and "Ailsa" not in text
    assert "spk-007" in text and "speaker changed" in text  # the changelog counts, never names
    check_against_workspace(ws, load(second.path, tmp_path / "c3"))
    assert second.assignment["spk-007"] == first.assignment["Morag"]
    card = (second.path / "README.md").read_text(encoding="utf-8")  # says what a rename does to an id
    assert "unless the curators correct the speaker's name: the id follows the name" in card


def test_speakers_are_salted_ids_unless_names_may_be_published(ws: Workspace, tmp_path: Path) -> None:
    deny(ws, "speaker", "Hamish", "asked to be removed")
    release = publish(ws, "1.0.0", now=NOW)
    text = _published_text(release.path, tmp_path / "cache")
    names = {r["speaker"] for r in manifest_of(ws).values() if r["speaker"]}
    assert names and not any(name in text for name in names)
    key = salt(ws)
    assert (
        speaker_id(key, "Morag") in text and speaker_id(key, "Hamish") not in text
    )  # denied: not even an id
    assert not any(hashlib.sha256(n.encode()).hexdigest()[:12] in text for n in names)  # not recomputable
    assert key.decode() not in text  # the salt stays in the workspace
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert "## Personal and sensitive information" in card and "salted hash" in card
    assert release.assignment["Morag"] in ("train", "validation", "test")  # named again in the workspace


def test_hub_gating_comes_from_the_settings(ws: Workspace) -> None:
    ws = _settings(
        ws, gated='"auto"', gated_prompt='"For speech research only."', gated_fields='["Name", "Affiliation"]'
    )
    release = publish(ws, "1.0.0", now=NOW)
    meta = front_matter((release.path / "README.md").read_text(encoding="utf-8"))
    assert meta["extra_gated_prompt"] == "For speech research only."
    assert meta["extra_gated_fields"] == {"Name": "text", "Affiliation": "text"}
    api = mock.create_autospec(huggingface_hub.HfApi, instance=True)
    api.repo_exists.return_value = False
    api.upload_folder.return_value = CommitInfo(
        commit_url="https://huggingface.co/datasets/o/n/commit/" + "a" * 40,
        commit_message="",
        commit_description="",
        oid="a" * 40,
    )
    hub.push(release.path, "scots-lab/scottish-english", "1.0.0", api=api)
    api.update_repo_settings.assert_called_once_with(
        "scots-lab/scottish-english", gated="auto", repo_type="dataset"
    )
    assert "gated (auto)" in hub.render_plan(hub.plan_push(release.path, "scots-lab/x", "1.0.0"))
    with pytest.raises(AccentdsError, match=r'gated must be "", "auto" or "manual"'):
        load_config(_settings(ws, gated='"yes"').root / "accentds.toml")


def test_publish_warns_on_the_terminal_of_speaker_names_differing_in_case(
    ws: Workspace, tmp_path: Path
) -> None:
    """ "Morag" and "morag" are published as two speakers, maybe in two splits: publish says
    so (as status does) with the rename that joins them, and no file of the release names them."""
    hamish = sorted(c for c, r in manifest_of(ws).items() if r["speaker"] == "Hamish")
    set_labels(ws, hamish, {"speaker": "morag"})
    done = run_cli("publish", "1.0.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert (
        'Warning: the speakers "Morag", "morag" differ only in case, so they count as 2 speakers: if they are '
        'one person, `accentds speakers rename "morag" "Morag"`'
    ) in done.stderr.replace("\n", " ")
    text = _published_text(ws.releases / "1.0.0", tmp_path / "cache")
    assert "Morag" not in text and "morag" not in text

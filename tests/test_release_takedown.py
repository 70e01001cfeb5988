"""A takedown: after `accentds deny speaker`, the next release holds no trace of the speaker
(no clip, no row, no salted id in its splits table or left-out list, no name, no recording of
theirs in its splits table), while the releases made before stay exactly as published."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from releasing import NOW, check_against_workspace, load, manifest_of, speaker_source

from accentds.privacy import salt, speaker_id
from accentds.publish import publish
from accentds.releases import verify
from accentds.workspace import Workspace


def _every_byte(folder: Path, cache: Path) -> str:
    """Every file of a release as text, and every value `datasets` loads from it."""
    files = [p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()]
    rows = [str(r) for split in load(folder, cache).values() for r in split]
    return "\n".join(files + rows)


def test_a_denied_speaker_leaves_no_trace_in_the_next_release(ws: Workspace, tmp_path: Path) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    hamish = speaker_id(salt(ws), "Hamish")
    source = speaker_source(ws, "Hamish")  # his recording, which holds only his clips
    assert hamish in first.assignment.values() or "Hamish" in first.assignment
    before = {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()}
    assert hamish in _every_byte(first.path, tmp_path / "c1")

    other = next(s for s in ("train", "validation", "test") if s != first.assignment["Hamish"])
    done = run_cli("splits", "move", "speaker", "Hamish", other, "--reason", "Hamish moved", cwd=ws.root)
    assert done.returncode == 0, done.stderr  # a move the next changelog would list, by his id
    done = run_cli("deny", "speaker", "hamish", "--reason", "Hamish Reid asked to be removed", cwd=ws.root)
    assert done.returncode == 0, done.stderr  # any case of the name takes him down
    done = run_cli("publish", "1.1.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    # the curator sees it on the terminal, by the id his clips had (not that of "hamish")
    assert f"left out   speaker {hamish}: on the deny list (2 clips)" in done.stdout

    second = ws.releases / "1.1.0"
    text = _every_byte(second, tmp_path / "c2")
    typed = speaker_id(salt(ws), "hamish")  # the name as the deny list has it
    assert hamish not in text and typed not in text and "Hamish" not in text and "hamish" not in text
    record = json.loads((second / "release.json").read_text(encoding="utf-8"))
    assert f"source:{source}" not in record["splits"]  # nor the recording that held only his clips
    assert [item["kind"] for item in record["left_out"]] == ["source"]  # the unlicensed one, not him
    card = (second / "README.md").read_text(encoding="utf-8")
    assert "- 1 speaker(s) on the deny list\n" in card  # neither who nor how much he said
    # the changelog does not list his clips, whose ids name his recording
    assert source not in card and "- 2 clip(s) taken down on request (not listed)" in card
    shown = run_cli("diff", "1.0.0", "1.1.0", cwd=ws.root)  # the curator's own diff lists them
    assert shown.returncode == 0 and source in shown.stdout
    loaded = load(second, tmp_path / "c3")
    check_against_workspace(ws, loaded)
    ids = {r["clip_id"] for rows in loaded.values() for r in rows}
    assert ids and not any(manifest_of(ws)[c]["speaker"] == "Hamish" for c in ids)
    # the others keep their splits; the earlier release is untouched and still verifies
    for name in ("Morag", "Ailsa"):
        assert record["splits"][speaker_id(salt(ws), name)] == first.assignment[name]
    assert {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()} == before
    assert verify(ws, "1.0.0") == [] and verify(ws, "1.1.0") == []


def test_a_denied_speakers_clips_rejected_before_the_deny_leave_no_trace_either(
    ws: Workspace, tmp_path: Path
) -> None:
    """A curator rejected a speaker's clips (copies of another recording, say) and the speaker
    then asked to be removed: the next release kept their recording in its splits table and
    listed its clips, whose ids name it, in the changelog."""
    first = publish(ws, "1.0.0", now=NOW)
    source = speaker_source(ws, "Hamish")
    assert any(row["source_id"] == source for row in manifest_of(ws).values())
    hamish = [c for c, row in manifest_of(ws).items() if row["speaker"] == "Hamish"]
    done = run_cli("label", *hamish, "--reject", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    done = run_cli("deny", "speaker", "Hamish", "--reason", "asked to be removed", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    done = run_cli("publish", "1.1.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr

    second = ws.releases / "1.1.0"
    record = json.loads((second / "release.json").read_text(encoding="utf-8"))
    assert f"source:{source}" not in record["splits"]
    assert speaker_id(salt(ws), "Hamish") not in record["splits"]
    card = (second / "README.md").read_text(encoding="utf-8")
    assert source not in card and "- 2 clip(s) taken down on request (not listed)" in card
    assert source not in _every_byte(second, tmp_path / "c")
    assert (
        f"source:{source}" in json.loads((first.path / "release.json").read_text(encoding="utf-8"))["splits"]
    )

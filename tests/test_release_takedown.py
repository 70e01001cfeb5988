"""A takedown: after `accentds deny speaker`, the next release holds no trace of the speaker
(no clip, no row, no salted id in its splits table or left-out list, no name, no recording of
theirs in its splits table), while the releases made before stay exactly as published."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
from conftest import run_cli
from releasing import NOW, check_against_workspace, load, manifest_of, speaker_files, speaker_source

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
    assert "- 1 speaker on the deny list\n" in card  # neither who nor how much he said
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


def test_a_copy_of_a_denied_speakers_recording_under_another_name_is_not_published(
    ws: Workspace, tmp_path: Path, speech: np.ndarray, ffmpeg: str
) -> None:
    """A re-upload of a denied speaker's recording, labelled with their name spelt otherwise,
    was published whole after the deny (and placed in another split than theirs): the duplicate
    groups knew it was the same audio."""
    morag = speaker_files(tmp_path, speech)["Morag"]
    copy = tmp_path / "reupload.mp3"
    encode = [ffmpeg, "-v", "error", "-i", str(morag), "-c:a", "libmp3lame", "-b:a", "64k", str(copy)]
    subprocess.run(encode, check=True)
    done = run_cli("pull", str(copy), "--licence", "CC0-1.0", "--speaker", "M. Morag", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    copies = [c for c, row in manifest_of(ws).items() if row["speaker"] == "M. Morag"]
    assert copies and all(manifest_of(ws)[c]["duplicate_group"] for c in copies)
    for clip in copies:
        assert run_cli("label", clip, "--transcript", "Copied words", "--accept", cwd=ws.root).returncode == 0
    assert run_cli("deny", "speaker", "Morag", "--reason", "asked", cwd=ws.root).returncode == 0

    refused = run_cli("publish", "1.0.0", cwd=ws.root)
    assert refused.returncode == 1 and not (ws.releases / "1.0.0").exists()
    [line] = refused.stderr.splitlines()
    source = manifest_of(ws)[copies[0]]["source_id"]
    assert line.startswith(f"Error: {len(copies)} accepted clip(s) are copies of clips on the deny list"), (
        line
    )
    assert f"`accentds deny source {source} --reason" in line

    shown = run_cli("status", cwd=ws.root)  # status names the deny the publish needs
    assert f"next: accentds deny source {source} --reason" in shown.stdout, shown.stdout
    assert (
        f"(the next publish stops: {len(copies)} accepted clip(s) are copies of clips on the deny"
        in shown.stdout
    )

    done = run_cli("deny", "source", source, "--reason", "a copy of a recording taken down", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    done = run_cli("publish", "1.0.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert "deny source" not in run_cli("status", cwd=ws.root).stdout
    loaded = load(ws.releases / "1.0.0", tmp_path / "c")
    ids = {r["clip_id"] for rows in loaded.values() for r in rows}
    assert ids and not ids & set(copies) and not any(c.startswith(source) for c in ids)
    assert not any(manifest_of(ws)[c]["speaker"] == "Morag" for c in ids)


def test_moving_a_denied_speaker_does_not_promise_a_changelog_line(ws: Workspace) -> None:
    """`splits move` of a speaker on the deny list said the next changelog lists the move;
    no release holds them, so none does (and publish said nothing changed)."""
    first = publish(ws, "1.0.0", now=NOW)
    assert run_cli("deny", "speaker", "Hamish", "--reason", "asked", cwd=ws.root).returncode == 0
    other = next(s for s in ("train", "validation", "test") if s != first.assignment["Hamish"])
    done = run_cli("splits", "move", "speaker", "Hamish", other, "--reason", "x", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert "changelog lists the move" not in done.stdout
    assert "no release lists the move: the speaker is on the deny list" in done.stdout
    elsewhere = next(s for s in ("train", "validation", "test") if s != first.assignment["Morag"])
    done = run_cli("splits", "move", "speaker", "Morag", elsewhere, "--reason", "x", cwd=ws.root)
    assert done.returncode == 0 and "the next release's changelog lists the move" in done.stdout


def test_a_release_from_before_a_deny_is_not_handed_out_again(ws: Workspace, tmp_path: Path) -> None:
    """`publish 1.0.0 --format nemo` (or `--to-hub`) of a release made before a speaker was denied
    wrote their clips out again without a word; it is refused (a warning in a dry run), --force
    writes it."""
    publish(ws, "1.0.0", now=NOW)
    assert run_cli("deny", "speaker", "hamish", "--reason", "asked", cwd=ws.root).returncode == 0
    out = tmp_path / "nemo"
    done = run_cli("publish", "1.0.0", "--format", "nemo", "--output", str(out), cwd=ws.root)
    said = "release 1.0.0 holds 2 clips of a speaker or source put on the deny list after it was published"
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {said}: writing it as nemo"), done.stderr
    assert not out.exists()
    plan = run_cli("publish", "1.0.0", "--to-hub", "org/corpus", "--dry-run", cwd=ws.root)
    assert plan.returncode == 0 and f"Warning: {said}: pushing it to the Hub" in plan.stderr
    forced = run_cli("publish", "1.0.0", "--format", "nemo", "--output", str(out), "--force", cwd=ws.root)
    assert forced.returncode == 0 and f"Warning: {said}" in forced.stderr
    hamish = speaker_id(salt(ws), "Hamish")
    assert hamish in "".join(p.read_text() for p in out.glob("*_manifest.jsonl"))

"""The publish commands as a user runs them on the bundled sample."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import SAMPLE, fill_disk, run_cli, small_disk
from releasing import speaker_source

from accentds.privacy import salt, speaker_id
from accentds.workspace import Workspace, init_workspace


def test_publish_verify_diff_and_other_formats(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    root = ws.root
    assert run_cli("pull", str(SAMPLE), "--speaker", "Morag", "--accent", "Fife", cwd=root).returncode == 0
    ids = [c.clip_id for c in ws.read_clips()]
    assert run_cli("label", *ids, "--accept", cwd=root).returncode == 0
    refused = run_cli("publish", "0.1.0", cwd=root)
    assert refused.returncode == 1 and "no licence is recorded" in refused.stderr
    source = ws.read_sources()[0].source_id
    assert run_cli("source", "set", source, "--licence", "CC0-1.0", cwd=root).returncode == 0
    assert (
        "next: accentds publish 1.0.0   (8 publishable clips, 0.5 min)" in run_cli("status", cwd=root).stdout
    )
    tracked = {p: p.read_bytes() for p in (root / "manifests").rglob("*") if p.is_file()}
    preview = run_cli("publish", "0.1.0", "--dry-run", cwd=root)  # before anything is frozen
    assert preview.returncode == 0, preview.stderr
    assert (
        "train " in preview.stdout
        and "dry run: 0.1.0 would hold 8 clips, 0.47 min; nothing kept" in preview.stdout
    )
    assert "Warning:" in preview.stderr  # one speaker: the evaluation splits say nothing of others
    assert not (root / "releases").exists() or not any((root / "releases").iterdir())
    kept = {p: p.read_bytes() for p in (root / "manifests").rglob("*") if p.is_file()}
    assert kept.pop(root / "manifests" / "speaker_salt.txt")  # made once, the first time ids are needed
    assert kept == tracked
    done = run_cli("publish", "0.1.0", cwd=root)
    assert done.returncode == 0, done.stderr
    assert preview.stderr == done.stderr  # the same warnings
    assert "accentds publish" not in run_cli("status", cwd=root).stdout
    assert "published 0.1.0: 8 clips, 0.47 min" in done.stdout
    assert (
        run_cli("verify", "0.1.0", cwd=root).stdout.strip()
        == "release 0.1.0: every file matches release.json"
    )
    again = run_cli("publish", "0.1.0", cwd=root)
    assert again.returncode == 1 and "exists and is immutable" in again.stderr
    assert run_cli("label", ids[1], "--transcript", "We're off to Orkney.", cwd=root).returncode == 0
    assert run_cli("publish", "0.2.0", cwd=root).returncode == 0
    changes = run_cli("diff", "0.1.0", "0.2.0", cwd=root)
    assert "1 relabelled (transcript 1)" in changes.stdout
    card = (root / "releases" / "0.2.0" / "README.md").read_text()
    assert "1 relabelled" in card
    # the sample's captions, accepted as they were, and the one transcript a reviewer typed
    shards = sorted((root / "releases" / "0.2.0" / "data").glob("*.parquet"))
    rows = [
        r for shard in shards for r in pq.read_table(shard, columns=["clip_id", "text_origin"]).to_pylist()
    ]
    origins = {r["clip_id"]: r["text_origin"] for r in rows}
    assert origins.pop(ids[1]) == "person" and set(origins.values()) == {"captions"}
    plan = run_cli("publish", "0.2.0", "--to-hub", "my-org/scottish", "--dry-run", cwd=root)
    assert plan.returncode == 0 and "dry run: nothing contacted" in plan.stdout
    assert "tag          0.2.0" in plan.stdout
    out = tmp_path / "nemo"
    assert run_cli("publish", "0.2.0", "--format", "nemo", "-o", str(out), cwd=root).returncode == 0
    lines = [
        json.loads(line) for f in sorted(out.glob("*_manifest.jsonl")) for line in f.read_text().splitlines()
    ]
    assert len(lines) == 8 and {line["speaker"] for line in lines} == {speaker_id(salt(ws), "Morag")}
    assert "We're off to Orkney." in {line["text"] for line in lines}
    # a flipped byte is found and named
    shard = next((root / "releases" / "0.1.0" / "data").glob("*.parquet"))
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    bad = run_cli("verify", "0.1.0", cwd=root)
    assert bad.returncode == 1 and shard.name in bad.stderr


def test_a_full_disk_while_publishing_names_the_shard_keeps_nothing_and_the_next_publish_works(
    tmp_path: Path,
) -> None:
    """Arrow's write error names no file: the error line named none. Nothing of the release is
    left behind, and once there is room the same command publishes it."""
    with small_disk(tmp_path / "small") as mount:
        ws, _ = init_workspace(mount / "ws")
        root = ws.root
        assert (
            run_cli("pull", str(SAMPLE), "--licence", "CC0-1.0", "--speaker", "Morag", cwd=root).returncode
            == 0
        )
        ids = [c.clip_id for c in ws.read_clips()]
        assert run_cli("label", *ids, "--transcript", "Aye.", "--accept", cwd=root).returncode == 0
        assert run_cli("publish", "1.0.0", "--dry-run", cwd=root).returncode == 0  # the salt, the views
        tracked = {p: p.read_bytes() for p in (root / "manifests").rglob("*") if p.is_file()}
        fill_disk(mount / "filler")
        failed = run_cli("publish", "1.0.0", cwd=root)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
        [line] = [line for line in failed.stderr.splitlines() if line.startswith("Error:")]
        assert re.fullmatch(
            rf"Error: no space left on device writing {root}/releases/\S+/data/train-00000-of-00001\.parquet: "
            "free some space and run the command again",
            line,
        ), line
        assert list((root / "releases").iterdir()) == []
        assert {p: p.read_bytes() for p in (root / "manifests").rglob("*") if p.is_file()} == tracked
        (mount / "filler").unlink()
        done = run_cli("publish", "1.0.0", cwd=root)
        assert done.returncode == 0, done.stderr
        assert run_cli("verify", "1.0.0", cwd=root).returncode == 0


def test_a_hand_edited_deny_list_keeps_its_speaker_out_or_names_its_bad_line(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    root = ws.root
    assert (
        run_cli("pull", str(SAMPLE), "--speaker", "Morag Ross", "--licence", "CC0-1.0", cwd=root).returncode
        == 0
    )
    assert run_cli("label", *[c.clip_id for c in ws.read_clips()], "--accept", cwd=root).returncode == 0
    deny_csv = root / "manifests" / "deny.csv"
    deny_csv.write_text("kind,value,reason,added_at\nSpeaker, Morag  Ross ,asked,2026-12-01\n\n")
    status = run_cli("status", cwd=root)
    assert status.returncode == 0, status.stderr
    assert "not publishable: 0.5 min accepted (denied speaker 0.5 min)" in status.stdout
    preview = run_cli("publish", "0.1.0", "--dry-run", cwd=root)
    assert preview.returncode == 1 and "nothing to publish" in preview.stderr
    deny_csv.write_text("kind,value,reason,added_at\nperson,Morag Ross,asked,2026-12-01\n")
    for command in (("status",), ("publish", "0.1.0", "--dry-run")):
        bad = run_cli(*command, cwd=root)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr
        assert bad.stderr.strip() == (
            f"Error: {deny_csv} line 2: the kind 'person' is neither source nor speaker, so the row "
            "keeps nothing out of releases: write it as kind,value,reason,added_at (kind source or "
            "speaker) or delete it"
        )


def test_an_accent_outside_the_label_schema_is_not_published_without_force(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    root = ws.root
    assert run_cli("pull", str(SAMPLE), "--licence", "CC0-1.0", cwd=root).returncode == 0
    source = ws.read_sources()[0].source_id
    assert run_cli("source", "set", source, "--accent", "Fife", cwd=root).returncode == 0
    assert run_cli("label", *[c.clip_id for c in ws.read_clips()], "--accept", cwd=root).returncode == 0
    defaults = root / "manifests" / "source_labels.csv"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace(",Fife,", ",Fiffe,"), encoding="utf-8")
    refused = run_cli("publish", "0.1.0", cwd=root)
    assert refused.returncode == 1 and not (root / "releases" / "0.1.0").exists()
    assert refused.stderr.startswith("Error: 8 accepted clip(s) have the accent 'Fiffe' (")
    assert "`accentds source set SOURCE_ID --accent ...`" in refused.stderr
    forced = run_cli("publish", "0.1.0", "--force", cwd=root)
    assert forced.returncode == 0 and "--force: 8 accepted clip(s) have the accent 'Fiffe'" in forced.stderr


def _release(root: Path, version: str, rows: list[dict]) -> None:
    data = root / "releases" / version / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), data / "train-00000-of-00001.parquet")


def test_diff_shows_names_on_the_terminal_as_typed_not_escaped_for_markdown(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    row = {"clip_id": "c_1", "speaker_id": "s", "accent_evidence": "", "duration": 6.0}
    _release(ws.root, "1.0.0", [{**row, "text": "a *bold* | b", "accent": "North_East|*Coast*"}])
    _release(ws.root, "1.1.0", [{**row, "text": "a_b [c]", "accent": "North_East|*Coast*"}])
    shown = run_cli("diff", "1.0.0", "1.1.0", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert "\\" not in shown.stdout and "`" not in shown.stdout, shown.stdout
    assert re.search(r"^North_East\|\*Coast\*\s+0\.10\s+0\.10\s+\+0\.00$", shown.stdout, re.M), shown.stdout
    assert '- c_1 transcript: "a *bold* | b" → "a_b [c]"' in shown.stdout


def test_a_missing_clip_file_names_the_command_that_brings_it_back(tmp_path: Path) -> None:
    """publish said `cut --force SOURCE` for a missing clip file, which re-cuts a whole source
    with today's settings and fails outright in a clone, whose raw/ holds no media."""
    import shutil

    ws, _ = init_workspace(tmp_path / "ws")
    root = ws.root
    pulled = run_cli(
        "pull", str(SAMPLE), "--speaker", "Morag", "--accent", "Fife", "--licence", "CC0-1.0", cwd=root
    )
    assert pulled.returncode == 0, pulled.stderr
    assert run_cli("label", *[c.clip_id for c in ws.read_clips()], "--accept", cwd=root).returncode == 0
    clip = ws.read_clips()[3]
    ws.abs(clip.path).unlink()
    gone = run_cli("publish", "1.0.0", "--dry-run", cwd=root)
    assert gone.returncode == 1
    assert gone.stderr.strip() == (
        f"Error: clip file {clip.path} is missing: run `accentds doctor` to cut it again from its source "
        "(same start, end and labels), then publish again"
    )
    assert run_cli("doctor", cwd=root).returncode == 0
    assert run_cli("publish", "1.0.0", "--dry-run", cwd=root).returncode == 0
    shutil.rmtree(root / "raw")
    shutil.rmtree(root / "clips")  # as in a git clone
    clone = run_cli("publish", "1.0.0", "--dry-run", cwd=root)
    assert clone.returncode == 1 and len(clone.stderr.strip().splitlines()) == 1
    assert "and so is its source's media raw/" in clone.stderr
    assert f"pull the source again (`accentds pull {SAMPLE.resolve()}`)" in clone.stderr


def test_a_sample_rate_changed_since_the_cut_names_every_source_and_plain_cut(tmp_path: Path) -> None:
    """[audio] sample_rate changed after the cut: publish named one clip and `accentds cut
    --force` of its one source, then the next source on the next try, and so on."""
    ws, _ = init_workspace(tmp_path / "ws")
    root = ws.root
    other = tmp_path / "other.mp4"
    other.write_bytes(SAMPLE.read_bytes() + b"\0")  # another file: another source
    pulled = run_cli("pull", str(SAMPLE), str(other), "--speaker", "Morag", "--accent", "Fife", cwd=root)
    assert pulled.returncode == 0, pulled.stderr
    ids = [c.clip_id for c in ws.read_clips()]
    sources = sorted(s.source_id for s in ws.read_sources())
    assert len(sources) == 2
    for source in sources:
        assert run_cli("source", "set", source, "--licence", "CC0-1.0", cwd=root).returncode == 0
    assert (
        run_cli("label", *ids, "--accept", "--transcript", "Aye, it's a dreich day", cwd=root).returncode == 0
    )
    toml = root / "accentds.toml"
    text = toml.read_text(encoding="utf-8")
    assert "sample_rate = 16000 " in text
    toml.write_text(text.replace("sample_rate = 16000 ", "sample_rate = 8000 ", 1), encoding="utf-8")
    refused = run_cli("publish", "1.0.0", "--dry-run", cwd=root)
    assert refused.returncode == 1
    assert (
        f"Error: 2 source(s) were cut at another rate than [audio] sample_rate = 8000 of accentds.toml "
        f"({sources[0]}, {sources[1]}): run `accentds cut` to cut them again at 8000 Hz" in refused.stderr
    )
    assert run_cli("cut", cwd=root).returncode == 0
    tried = run_cli("publish", "1.0.0", "--dry-run", cwd=root)
    assert tried.returncode == 0, tried.stderr
    assert "dry run: 1.0.0 would hold" in tried.stdout


def test_a_clone_without_audio_is_told_every_source_to_pull_again_at_once(ws: Workspace) -> None:
    """A fresh clone (no raw/, no clips/) named one missing clip and its one source per
    publish: a corpus of many sources took as many rounds of publish and pull."""
    shutil.rmtree(ws.raw)
    shutil.rmtree(ws.clips)
    done = run_cli("publish", "1.0.0", "--dry-run", cwd=ws.root)
    assert done.returncode == 1 and done.stderr.count("Error:") == 1 and "Traceback" not in done.stderr
    kept = {s.source_id: s.origin for s in ws.read_sources() if s.licence}  # Callum's clips are pending
    kept.pop(speaker_source(ws, "Callum"))
    command = re.search(r"`(accentds pull [^`]*)`", done.stderr)
    assert command and "pull their 3 sources again" in done.stderr, done.stderr
    assert sorted(shlex.split(command[1])[2:]) == sorted(kept.values())
    pulled = run_cli(*shlex.split(command[1])[1:], cwd=ws.root)
    assert pulled.returncode == 0, pulled.stderr
    done = run_cli("publish", "1.0.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr


def test_status_in_a_clone_without_audio_names_the_pull_before_publish(ws: Workspace) -> None:
    """`status` in a fresh clone (no raw/, no clips/) suggested `accentds publish`, which then
    stopped at the missing clip files."""
    before = run_cli("status", cwd=ws.root)
    assert before.returncode == 0 and "next: accentds publish 1.0.0" in before.stdout, before.stdout
    shutil.rmtree(ws.raw)
    shutil.rmtree(ws.clips)
    done = run_cli("status", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert "accentds publish 1.0.0" not in done.stdout, done.stdout
    command = re.search(r"`(accentds pull [^`]*)`", done.stdout)
    assert command and "not yet publishable" in done.stdout, done.stdout
    pulled = run_cli(*shlex.split(command[1])[1:], cwd=ws.root)
    assert pulled.returncode == 0, pulled.stderr
    assert "next: accentds publish 1.0.0" in run_cli("status", cwd=ws.root).stdout


def test_publishing_where_the_release_before_is_missing_says_its_changelog_cannot_list_changes(
    ws: Workspace,
) -> None:
    """In a clone (no releases/), the next version's changelog can only say that it could not
    compare with the one before; the curator was not told, before or after publishing."""
    assert run_cli("publish", "1.0.0", cwd=ws.root).returncode == 0
    shutil.rmtree(ws.releases)  # as a clone gets the workspace
    clip = next(c.clip_id for c in ws.read_clips())
    assert run_cli("label", clip, "--transcript", "Words heard again.", cwd=ws.root).returncode == 0
    preview = run_cli("publish", "1.1.0", "--dry-run", cwd=ws.root)
    assert preview.returncode == 0, preview.stderr
    assert (
        "Warning: releases/1.0.0/ is not in this workspace (releases/ is not tracked: a clone?), so the changelog "
        "of 1.1.0 would not list what changed since 1.0.0: copy releases/1.0.0/ here from where it was published "
        "before you publish"
    ) in " ".join(preview.stderr.split())
    done = run_cli("publish", "1.1.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    told = " ".join(done.stderr.split())
    assert "so the changelog of 1.1.0 does not list what changed since 1.0.0" in told
    assert "`accentds diff 1.0.0 1.1.0` lists it where both folders are" in told
    card = (ws.releases / "1.1.0" / "README.md").read_text(encoding="utf-8")
    assert "its release folder is not in this workspace" in card
    again = run_cli("publish", "1.2.0", "--dry-run", cwd=ws.root)  # 1.1.0 is here: nothing to say
    assert "is not in this workspace" not in again.stderr

"""Releases: Hugging Face layout loaded by `datasets` as a consumer would, speaker-disjoint and
stable splits, licences and the deny list, the card, verify, diff, determinism, atomicity."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import RATE, run_cli
from huggingface_hub import DatasetCard
from releasing import (
    NOW,
    RATIOS,
    check_against_workspace,
    front_matter,
    load,
    manifest_of,
    named,
    other_source,
    set_ratios,
    sha256,
    speaker_source,
)

from accentds import __version__
from accentds import publish as publishing
from accentds.changes import diff, render_diff
from accentds.errors import AccentdsError
from accentds.labels import set_labels
from accentds.markup import to_yaml
from accentds.privacy import salt, speaker_id
from accentds.publish import publish
from accentds.releases import load_release, verify
from accentds.selection import deny, read_deny
from accentds.shards import plan_shards
from accentds.splits import SplitGroup, assign_splits
from accentds.workspace import Workspace, init_workspace


# -- the release as a consumer sees it ----------------------------------------------------
def test_release_loads_with_datasets_and_matches_the_clips(ws: Workspace, tmp_path: Path) -> None:
    release = publish(ws, "1.0.0", now=NOW)
    folder = ws.releases / "1.0.0"
    assert release.path == folder and release.created_at == NOW and release.previous is None
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "release.json",
    ]
    splits = load(folder, tmp_path / "cache")
    check_against_workspace(ws, splits)
    published = {r["clip_id"] for rows in splits.values() for r in rows}
    manifest = manifest_of(ws)
    expected = {c for c, r in manifest.items() if r["status"] == "accepted" and r["licence"] == "CC0-1.0"}
    assert published == expected and len(published) == 6  # Callum pending, the unlicensed source left out
    assert {s: len(rows) for s, rows in splits.items()} == {s: release.splits[s].clips for s in splits}
    # three speakers: each split gets one, and the release records who went where
    assert {split: {r["speaker_id"] for r in rows} for split, rows in named(ws, splits).items()} == {
        split: {g for g, s in release.assignment.items() if s == split and not g.startswith("source:")}
        for split in splits
    }
    assert all(len(rows) == 2 for rows in splits.values())
    # the Parquet metadata alone gives `datasets` the Audio feature, as if datasets wrote it
    schema = pq.read_schema(folder / "data/train-00000-of-00001.parquet")
    assert json.loads(schema.metadata[b"huggingface"])["info"]["features"]["audio"] == {
        "sampling_rate": RATE,
        "_type": "Audio",
    }
    assert datasets.Features.from_arrow_schema(schema)["audio"] == datasets.Audio(sampling_rate=RATE)


def test_card_metadata_parses_and_matches_the_data(ws: Workspace) -> None:
    release = publish(ws, "1.0.0", now=NOW)
    card = (release.path / "README.md").read_text(encoding="utf-8")
    meta = front_matter(card)
    assert meta["license"] == "cc0-1.0" and meta["language"] == ["en"]
    assert meta["language_details"] == ["en-GB-scotland"] and meta["pretty_name"] == "test-corpus"
    assert meta["task_categories"] == ["automatic-speech-recognition"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")],
        }
    ]
    info = meta["dataset_info"]
    assert info["features"][0] == {"name": "audio", "dtype": {"audio": {"sampling_rate": RATE}}}
    assert [f["name"] for f in info["features"]] == [
        "audio", "text", "speaker_id", "accent", "accent_evidence", "text_origin", "duration", "clip_id",
        "source_id", "origin", "licence", "start", "end",
    ]  # fmt: skip
    assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
        name: stats.clips for name, stats in release.splits.items()
    }
    assert info["download_size"] == sum(
        (release.path / f).stat().st_size for stats in release.splits.values() for f in stats.files
    )
    # the body: minutes per split, accent and speaker; sources; cutting; gaps; changelog
    for text in (
        "| train | 2 | ",
        "| Glasgow | 4 | ",
        "| Fife | 2 | ",
        f"| {speaker_id(salt(ws), 'Morag')} | Glasgow | ",
        "| local file | — | — | CC0-1.0 | 2 | ",
        "| webrtc+silero | 2 | 0.25 / 0.5 | 30 | 200 | 400 | 0.3 | 15.0 | 6 |",
        "webrtcvad heard the speech and Silero VAD confirmed it",
        f"accentds {__version__}",
        "Accent regions with less than 5 minutes:",
        "- Edinburgh: 0.00 min",
        "- Glasgow: 0.",
        "no licence is recorded",
        "## Changelog\n\nFirst release.",
    ):
        assert text in card, text
    assert "Callum" not in card  # pending clips are not published
    [vad] = json.loads((release.path / "release.json").read_text(encoding="utf-8"))["settings"]["vad"]
    assert (vad["backend"], vad["confirm_threshold"], vad["silero_threshold"]) == ("webrtc+silero", 0.25, 0.5)
    assert ws.read_cut_settings()[vad["settings_id"]]["min_clip_prob"] == vad["min_clip_prob"] == 0.3
    parsed = DatasetCard(card).data  # the Hub's own parser agrees
    assert parsed.license == "cc0-1.0" and parsed.pretty_name == "test-corpus"


def test_card_yaml_and_tables_survive_awkward_text(ws: Workspace) -> None:
    awkward = {"a": "yes", "b": "1.0", "c": 'x: "y"\n#z', "d": "ünï — ok", "e": [], "f": {}, "g": None}
    awkward |= {"h": [{"i": [1, 2.5], "j": True}, "-"], "k": "data/train-*", "l": "a #b", "m": "~"}
    assert yaml.safe_load(to_yaml(awkward)) == awkward
    config = ws.root / "accentds.toml"
    config.write_text(
        config.read_text()
        .replace('name = "test-corpus"', 'name = "Scots: \\"braw\\" #1"')
        .replace("speaker_names = false", "speaker_names = true"),  # names may be published
        encoding="utf-8",
    )
    ws = Workspace(ws.root)
    ailsa = [c for c, r in manifest_of(ws).items() if r["speaker"] == "Ailsa"]
    set_labels(ws, ailsa, {"speaker": "Ailsa <b>|</b> Mac"})
    card = (publish(ws, "1.0.0").path / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["pretty_name"] == 'Scots: "braw" #1'
    assert "| Ailsa &lt;b&gt;\\|&lt;/b&gt; Mac | Fife | " in card and "<b>" not in card


# -- splits ------------------------------------------------------------------------------
def _groups(sizes: dict[str, tuple[float, str]]) -> dict[str, SplitGroup]:
    return {name: SplitGroup(name, seconds, accent) for name, (seconds, accent) in sizes.items()}


def test_assign_splits_is_deterministic_close_to_the_ratios_and_spreads_accents() -> None:
    rng = random.Random(7)
    sizes = {
        f"speaker{i:02d}": (rng.uniform(30, 600), ["Glasgow", "Fife", "Dundee"][i % 3]) for i in range(30)
    }
    first = assign_splits(_groups(sizes), RATIOS)
    shuffled = list(sizes.items())
    rng.shuffle(shuffled)
    assert assign_splits(_groups(dict(shuffled)), RATIOS) == first  # input order does not matter
    total = sum(s for s, _ in sizes.values())
    for split, ratio in RATIOS.items():
        share = sum(sizes[g][0] for g, s in first.items() if s == split) / total
        assert abs(share - ratio) < 0.05, (split, share)
    for accent in ("Glasgow", "Fife", "Dundee"):  # ten speakers each: every split hears each region
        assert {first[g] for g, (_, a) in sizes.items() if a == accent} == set(RATIOS)


def test_assign_splits_keeps_known_groups_and_fills_test() -> None:
    equal = _groups({name: (60.0, "Glasgow") for name in "ABCD"})
    placed = assign_splits(equal, RATIOS)
    assert sorted(placed.values()) == ["test", "train", "train", "validation"]
    assert sorted(assign_splits(_groups({"A": (60.0, ""), "B": (60.0, "")}), RATIOS).values()) == [
        "train",
        "train",
    ]  # too few groups to hold out any
    known = {"A": "test", "B": "test", "C": "validation"}
    again = assign_splits(equal, RATIOS, known)
    assert {g: again[g] for g in known} == known and again["D"] == "train"


def test_plan_shards_are_contiguous_and_under_the_limit() -> None:
    sizes = [100, 300, 50, 200, 250, 100, 400]
    shards = plan_shards(sizes, 500)
    assert shards == [range(0, 3), range(3, 5), range(5, 7)]
    assert all(sum(sizes[i] for i in shard) <= 500 for shard in shards)
    assert plan_shards([1, 10, 2], 6) == [range(0, 1), range(1, 2), range(2, 3)]  # 10 alone
    assert plan_shards([5], 1_000) == [range(0, 1)] and plan_shards([], 10) == []


def test_second_version_keeps_speakers_in_their_splits_and_diff_shows_changes(
    ws: Workspace, tmp_path: Path
) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    check_against_workspace(ws, load(first.path, tmp_path / "cache"))
    manifest = manifest_of(ws)
    callum = sorted(c for c, r in manifest.items() if r["speaker"] == "Callum")
    morag = sorted(c for c, r in manifest.items() if r["speaker"] == "Morag")
    set_labels(ws, callum, {"status": "accepted"})
    set_labels(ws, morag[:1], {"transcript": "Aye, it's a dreich morning."})
    # ratios that would place everyone differently: known speakers must not move
    set_ratios(ws, {"train": 0.2, "validation": 0.1, "test": 0.7})
    ws = Workspace(ws.root)
    second = publish(ws, "1.1.0", now=NOW)
    assert second.previous == "1.0.0"
    assert {g: second.assignment[g] for g in first.assignment} == first.assignment
    callum_source = f"source:{speaker_source(ws, 'Callum')}"
    assert set(second.assignment) == set(first.assignment) | {"Callum", callum_source}
    splits = load(second.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    for split, rows in named(ws, splits).items():
        assert all(first.assignment.get(r["speaker_id"], second.assignment["Callum"]) == split for r in rows)

    changes = diff(ws, "1.0.0", "1.1.0")
    assert changes.added == tuple(callum) and changes.removed == () and changes.moved == ()
    assert [(r.clip_id, r.field, r.new) for r in changes.relabelled] == [
        (morag[0], "transcript", "Aye, it's a dreich morning.")
    ]
    assert changes.relabelled_by_field == {"transcript": 1}
    callum_split = second.assignment["Callum"]
    old, new = changes.split_seconds[callum_split]
    assert new - old == pytest.approx(sum(manifest[c]["duration"] for c in callum), abs=0.002)
    assert changes.accent_seconds["Fife"][1] > changes.accent_seconds["Fife"][0]
    text = render_diff(changes)
    assert "2 clip(s) added" in text and "1 relabelled (transcript 1)" in text and callum[0] in text
    card = (second.path / "README.md").read_text(encoding="utf-8")
    assert "Changes from 1.0.0 to 1.1.0: 2 clip(s) added" in card
    assert json.loads((second.path / "release.json").read_text())["previous_version"] == "1.0.0"
    assert verify(ws, "1.0.0") == [] and verify(ws, "1.1.0") == []


# -- refusals --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "version", ["v1", "1.2", "v1.2.0", "1.2.0.1", "01.2.0", "1.2.0-rc1", "", "1.x.0", "1.2.0\n"]
)
def test_bad_versions_are_refused(ws: Workspace, version: str) -> None:
    with pytest.raises(AccentdsError, match=r"bad version .*MAJOR\.MINOR\.PATCH such as 1\.0\.0"):
        publish(ws, version)
    assert list(ws.releases.iterdir()) == []


def test_publishing_a_version_twice_is_refused(ws: Workspace) -> None:
    publish(ws, "1.0.0", now=NOW)
    before = {p: p.read_bytes() for p in (ws.releases / "1.0.0").rglob("*") if p.is_file()}
    with pytest.raises(
        AccentdsError, match=r"release 1\.0\.0 exists and is immutable; publish a new version"
    ):
        publish(ws, "1.0.0")
    assert {p: p.read_bytes() for p in (ws.releases / "1.0.0").rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0"]


def test_a_version_with_nothing_new_is_refused_unless_forced(ws: Workspace) -> None:
    """The same clips, labels and splits as the newest release: refused, nothing written;
    --force publishes it (a new card, say) and says so in the card."""
    publish(ws, "1.0.0", now=NOW)
    with pytest.raises(AccentdsError, match=r"nothing changed since 1\.0\.0: .+ or with --force"):
        publish(ws, "1.0.1", now=NOW)
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0"]
    forced = publish(ws, "1.0.1", now=NOW, force=True)
    assert "--force: nothing changed since 1.0.0" in (forced.path / "README.md").read_text(encoding="utf-8")
    clip = next(c for c, row in manifest_of(ws).items() if row["status"] == "accepted")
    set_labels(ws, [clip], {"transcript": "Other words"}, "ann")
    assert publish(ws, "1.0.2", now=NOW).path.name == "1.0.2"


def test_nothing_new_is_refused_in_a_clone_without_the_release_folder(ws: Workspace) -> None:
    """A clone has no releases/: the newest release's data files, as its tracked release.json
    records them, tell that nothing changed (a second copy of 1.0.0 was published as 1.1.0)."""
    publish(ws, "1.0.0", now=NOW)
    shutil.rmtree(ws.releases)
    with pytest.raises(AccentdsError, match=r"nothing changed since 1\.0\.0: .+ or with --force"):
        publish(ws, "1.1.0", now=NOW)
    assert list(ws.releases.iterdir()) == []
    forced = publish(ws, "1.1.0", now=NOW, force=True)
    assert "--force: nothing changed since 1.0.0" in (forced.path / "README.md").read_text(encoding="utf-8")
    shutil.rmtree(ws.releases)
    clip = next(c for c, row in manifest_of(ws).items() if row["status"] == "accepted")
    set_labels(ws, [clip], {"transcript": "Other words"}, "ann")
    assert publish(ws, "1.2.0", now=NOW).path.name == "1.2.0"


def test_empty_release_is_refused(tmp_path: Path) -> None:
    empty, _ = init_workspace(tmp_path / "empty")
    with pytest.raises(AccentdsError, match=r"nothing to publish in 1\.0\.0: no clip is accepted yet"):
        publish(empty, "1.0.0")
    assert list(empty.releases.iterdir()) == []


# -- licences and the deny list ------------------------------------------------------------
def test_unlicensed_sources_are_left_out_unless_asked(ws: Workspace, tmp_path: Path) -> None:
    other = other_source(ws)
    other_clips = {c for c, r in manifest_of(ws).items() if r["source_id"] == other}
    strict = publish(ws, "1.0.0", now=NOW)
    [left] = strict.left_out
    assert (left.kind, left.value, left.cause) == ("source", other, "licence")
    assert "no licence is recorded" in left.reason and "allowed_licences" in left.reason
    assert left.clips == len(other_clips) and left.seconds > 0
    assert strict.unlicensed_included == ()
    loose = publish(ws, "1.1.0", include_unlicensed=True, now=NOW)
    assert loose.left_out == () and loose.unlicensed_included == (other,)
    assert loose.assignment[f"source:{other}"] in ("train", "validation", "test")  # grouped by source
    splits = load(loose.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    assert other_clips <= {r["clip_id"] for rows in splits.values() for r in rows}
    record = json.loads((loose.path / "release.json").read_text())
    assert record["settings"]["include_unlicensed"] is True and record["unlicensed_included"] == [other]
    assert "--include-unlicensed" in (loose.path / "README.md").read_text()
    # naming the source's speaker later keeps their clips in the split they had, even when the
    # ratios now ask for another
    set_labels(ws, sorted(other_clips), {"speaker": "Isla"})
    was = loose.assignment[f"source:{other}"]
    set_ratios(ws, {"train": 0.1, "validation": 0.1, "test": 0.8} if was == "train" else RATIOS)
    named = publish(Workspace(ws.root), "1.2.0", include_unlicensed=True, now=NOW)
    assert named.assignment["Isla"] == loose.assignment[f"source:{other}"]
    changes = diff(ws, "1.1.0", "1.2.0")
    assert changes.moved == () and changes.relabelled_by_field == {"speaker": len(other_clips)}


def test_deny_list_leaves_sources_and_speakers_out_of_every_later_release(
    ws: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(AccentdsError, match="give 'source'"):
        deny(ws, "clip", "x", "because")
    with pytest.raises(AccentdsError, match="no clip has the speaker 'Hamsh'"):
        deny(ws, "speaker", "Hamsh", "typo")
    with pytest.raises(AccentdsError, match="unknown source id 'file-nope'"):
        deny(ws, "source", "file-nope", "typo")
    with pytest.raises(AccentdsError, match="give a reason"):
        deny(ws, "speaker", "Hamish", "  ")
    row = deny(ws, "speaker", "Hamish", "asked to be removed on 2026-01-01")
    assert (row["kind"], row["value"]) == ("speaker", "Hamish")
    with pytest.raises(AccentdsError, match="already on the deny list"):
        deny(ws, "speaker", "Hamish", "again")
    assert [(r["kind"], r["value"], r["reason"]) for r in read_deny(ws)] == [
        ("speaker", "Hamish", "asked to be removed on 2026-01-01")
    ]
    release = publish(ws, "1.0.0", now=NOW)
    assert "Hamish" not in release.assignment
    hashed = speaker_id(salt(ws), "Hamish")  # the name is not republished, nor a hash anyone can recompute
    assert hashlib.sha256(b"Hamish").hexdigest()[:12] not in hashed
    denied = [item for item in release.left_out if item.cause == "deny list"]
    assert [(d.kind, d.value, d.reason, d.clips) for d in denied] == [
        ("speaker", hashed, "on the deny list", 2)
    ]  # the reason, typed by hand, stays in deny.csv: it may name someone
    text = (release.path / "release.json").read_text()
    record = json.loads(text)
    assert [item["kind"] for item in record["left_out"]] == ["source"]  # the unlicensed one
    assert "Hamish" not in text and hashed not in text  # a takedown republishes neither name nor id
    card = (release.path / "README.md").read_text()
    assert "Hamish" not in card and "- 1 speaker on the deny list\n" in card  # nor how much he said
    # two speakers left: too few to hold any out, so the release has a train split only
    splits = load(release.path, tmp_path / "cache")
    assert list(splits) == ["train"] and {r["speaker_id"] for r in named(ws, splits)["train"]} == {
        "Morag",
        "Ailsa",
    }
    assert [c["data_files"] for c in front_matter(card)["configs"]] == [
        [{"split": "train", "path": "data/train-*"}]
    ]
    # denying the only licensed source leaves nothing: refused, saying why
    for source in ws.read_sources():
        if source.licence == "CC0-1.0":
            deny(ws, "source", source.source_id, "rights withdrawn")
    accepted = sum(1 for r in manifest_of(ws).values() if r["status"] == "accepted")
    with pytest.raises(
        AccentdsError, match=rf"nothing to publish in 1\.1\.0: all {accepted} accepted clips were left"
    ):
        publish(ws, "1.1.0")
    assert sorted(p.name for p in ws.releases.iterdir()) == ["1.0.0"]


def test_a_source_left_out_for_several_reasons_lists_them_all_and_counts_its_clips_once(
    ws: Workspace,
) -> None:
    other = other_source(ws)  # no licence recorded
    clips = sum(1 for r in manifest_of(ws).values() if r["source_id"] == other and r["status"] == "accepted")
    deny(ws, "source", other, "rights withdrawn")
    done = run_cli("publish", "1.0.0", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("left out")]
    assert lines == [
        f"left out   source {other}: on the deny list; no licence is recorded, so it is "
        f"not in [publish] allowed_licences ({clips} clips)"
    ]
    record = json.loads((ws.releases / "1.0.0" / "release.json").read_text())
    [item] = record["left_out"]
    assert (item["cause"], item["reason"], item["clips"]) == ("deny list", "on the deny list", clips)
    assert item["also"] == [["licence", "no licence is recorded, so it is not in [publish] allowed_licences"]]
    assert sum(i["clips"] for i in record["left_out"]) == clips
    [loaded] = load_release(ws, "1.0.0").left_out
    assert loaded.also == (("licence", item["also"][0][1]),)


def test_nothing_to_publish_for_want_of_a_licence_names_the_command_that_records_one(ws: Workspace) -> None:
    """Every accepted clip of a source with no licence recorded: the refusal said only to add
    "their licence" to allowed_licences, when there was none to add."""
    other = other_source(ws)  # no licence recorded
    for source in ws.read_sources():
        if source.source_id != other:
            deny(ws, "source", source.source_id, "rights withdrawn")
    done = run_cli("publish", "1.0.0", cwd=ws.root)
    assert done.returncode == 1, done.stdout
    assert f"record a source's licence with `accentds source set {other} --licence CC-BY-4.0`" in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error: nothing to publish in 1.0.0")


# -- verify, determinism, atomicity -------------------------------------------------------
def test_verify_names_changed_missing_and_extra_files(ws: Workspace) -> None:
    release = publish(ws, "1.0.0", now=NOW)
    assert verify(ws, "1.0.0") == []
    shard = release.path / release.splits["train"].files[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    assert verify(ws, "1.0.0") == [
        f"changed: {release.splits['train'].files[0]} (its sha256 differs from release.json)"
    ]
    (release.path / "README.md").unlink()
    (release.path / "data" / "notes.txt").write_text("hello")
    problems = verify(ws, "1.0.0")
    assert "missing: README.md" in problems and "extra: data/notes.txt (not in release.json)" in problems
    with pytest.raises(AccentdsError, match=r"no release 2\.0\.0 .*published: 1\.0\.0"):
        verify(ws, "2.0.0")


def test_rebuilding_a_version_gives_byte_identical_parquet(ws: Workspace) -> None:
    first = publish(ws, "1.0.0", now=NOW)
    hashes = {name: entry["sha256"] for name, entry in first.files.items()}
    moved = ws.root / "moved-away"
    shutil.move(first.path, moved)
    # forget it was published (a version is never published twice), keeping the split memory
    (ws.manifests / "releases.csv").unlink()
    shutil.rmtree(ws.manifests / "releases")
    second = publish(ws, "1.0.0", now="2027-05-06T07:08:09Z")
    assert {name: sha256(second.path / name) for name in hashes} == hashes  # data/ and the card
    assert any(name.startswith("data/") for name in hashes)
    old = json.loads((moved / "release.json").read_text())
    new = json.loads((second.path / "release.json").read_text())
    assert old.pop("created_at") == NOW and new.pop("created_at") == "2027-05-06T07:08:09Z"
    assert old == new


def test_small_shards_and_a_failed_build_leave_no_half_release(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = ws.releases / ".building-1.0.0-999999999-0badf00d"  # left by a killed publish
    (dead / "data").mkdir(parents=True)
    monkeypatch.setattr(publishing, "card", _boom)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(ws, "1.0.0")
    assert list(ws.releases.iterdir()) == []  # neither the dead build nor a half release
    monkeypatch.undo()
    monkeypatch.setattr(publishing, "MB", 1_000)  # 300 kB shards
    release = publish(ws, "1.0.0", include_unlicensed=True, now=NOW)
    files = [f for stats in release.splits.values() for f in stats.files]
    assert len(files) > 3 and f"data/train-00000-of-{len(release.splits['train'].files):05d}.parquet" in files
    splits = load(release.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    assert sum(len(rows) for rows in splits.values()) == release.clips > 6
    assert load_release(ws, "1.0.0") == release and verify(ws, "1.0.0") == []


def _boom(*args: object, **kwargs: object) -> str:
    raise RuntimeError("disk full")


# -- Hub conventions -------------------------------------------------------------------------
def test_hub_column_names_loading_guide_and_a_card_template_that_survives(
    ws: Workspace, tmp_path: Path
) -> None:
    (ws.root / "card.md").write_text(
        "---\nannotations_creators:\n- expert-generated\npretty_name: not this one\n"
        "tags:\n- scots\n- audio\nlicense: mit\n---\n\n"
        "## Citation\n\nCite the Scots voices corpus.\n",
        encoding="utf-8",
    )
    for version in ("1.0.0", "1.1.0"):
        release = publish(ws, version, now=NOW, force=version != "1.0.0")  # the same clips: a new card
        card = (release.path / "README.md").read_text(encoding="utf-8")
        meta = front_matter(card)
        assert meta["annotations_creators"] == ["expert-generated"]  # the template's keys are added
        assert meta["pretty_name"] == "test-corpus"  # ... but never replace the generated ones
        assert meta["tags"] == ["audio", "speech", "accent", "scottish-english", "scots"]  # lists grow
        assert meta["license"] == "cc0-1.0"  # what the clips' licences give, whatever card.md says
        assert "## Citation\n\nCite the Scots voices corpus." in card  # in every version's card
        assert f'load_dataset("ORG/NAME", revision="{version}")' in card
        assert 'cast_column("audio", Audio(decode=False))' in card and "torchcodec" in card
    splits = load(release.path, tmp_path / "cache")
    row = splits["train"][0]
    assert {"text", "speaker_id", "accent", "text_origin"} <= set(row) and "transcript" not in row
    assert {r["text_origin"] for rows in splits.values() for r in rows} == {"person"}  # typed by a reviewer
    check_against_workspace(ws, splits)
    assert diff(ws, "1.0.0", "1.1.0").relabelled == ()

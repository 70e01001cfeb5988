"""`status` lists the releases, says what changed since the newest one and suggests publishing
only when there is something new, with the right counts (real cut, publish and release files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import put_labels, run_cli

from accentds.labels import rename_speaker, set_labels, set_source_licence
from accentds.licences import set_attribution
from accentds.markup import minutes
from accentds.publish import deny, publish
from accentds.status import SinceRelease, next_version, status
from accentds.workspace import Workspace


def _label(ws: Workspace, clip_ids: list[str], at: str, **values: str) -> None:
    put_labels(ws, [{"clip_id": c, **values, "updated_at": at} for c in clip_ids])


def _publish_steps(ws: Workspace) -> list[str]:
    return [s for s in status(ws).next_steps if "publish" in s]


def test_status_lists_releases_and_suggests_publish_only_with_something_new(cut_ws: Workspace) -> None:
    clips = {c.clip_id: c for c in cut_ws.read_clips()}
    ids = list(clips)
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:4], "2024-01-01T10:00:00Z", status="accepted", speaker="Morag", accent="Glasgow")
    _label(cut_ws, ids[4:5], "2024-01-01T10:00:00Z", status="accepted", speaker="Iain", accent="Fife")
    deny(cut_ws, "speaker", "Iain", "asked to be left out")
    four = sum(clips[c].duration for c in ids[:4])
    st = status(cut_ws)
    assert st.releases == () and st.since_release is None
    assert st.publishable == (4, pytest.approx(four))
    assert _publish_steps(cut_ws) == [f"accentds publish 1.0.0   (4 publishable clips, {four / 60:.1f} min)"]

    publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    st = status(cut_ws)
    assert [(r.version, r.created_at, r.clips) for r in st.releases] == [("1.0.0", "2024-01-02T00:00:00Z", 4)]
    assert st.releases[0].seconds == pytest.approx(four, abs=1e-3)
    assert st.since_release == SinceRelease("1.0.0")
    # 5 accepted clips against 4 released used to suggest publishing forever
    assert _publish_steps(cut_ws) == []
    shown = run_cli("status", cwd=cut_ws.root)
    assert shown.returncode == 0, shown.stderr
    assert f"  1.0.0  2024-01-02  4 clips  {minutes(four)} min" in shown.stdout
    assert (
        "since 1.0.0: 0 clips accepted, 0 rejected, 0 relabelled; 0.0 min publishable not yet released"
        in (shown.stdout)
    )
    assert "accentds publish" not in shown.stdout

    _label(cut_ws, ids[5:7], "2024-01-03T10:00:00Z", status="accepted")  # new
    _label(cut_ws, ids[:1], "2024-01-03T10:00:00Z", status="rejected")  # in 1.0.0
    _label(cut_ws, ids[1:2], "2024-01-03T10:00:00Z", transcript="Aye, it's dreich")  # in 1.0.0
    new = sum(clips[c].duration for c in ids[5:7])
    since = status(cut_ws).since_release
    assert since == SinceRelease("1.0.0", accepted=2, rejected=1, relabelled=1, new_clips=2,
                                 new_seconds=pytest.approx(new), dropped=1)  # fmt: skip
    assert _publish_steps(cut_ws) == [
        f"accentds publish 1.1.0   (2 new publishable clips, {new / 60:.1f} min; 1 clip of 1.0.0 to leave "
        "out; 1 relabelled since 1.0.0)"
    ]
    shown = run_cli("status", cwd=cut_ws.root).stdout
    assert "since 1.0.0: 2 clips accepted, 1 rejected, 1 relabelled;" in shown

    publish(cut_ws, "1.1.0", now="2024-01-04T00:00:00Z")
    st = status(cut_ws)
    assert [(r.version, r.clips) for r in st.releases] == [("1.0.0", 4), ("1.1.0", 5)]
    assert st.since_release == SinceRelease("1.1.0") and _publish_steps(cut_ws) == []


def test_a_renamed_speaker_or_new_evidence_is_a_change_status_suggests_publishing(cut_ws: Workspace) -> None:
    """A release names speakers by salted id: a rename changes the id (as `diff` shows), so
    status counts it as relabelled and suggests the next version, as for a changed evidence."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:2], "2024-01-01T10:00:00Z", status="accepted", speaker="Morag", accent="Glasgow")
    _label(cut_ws, ids[2:3], "2024-01-01T10:00:00Z", status="accepted", speaker="Iain", accent="Fife")
    publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    assert status(cut_ws).since_release == SinceRelease("1.0.0") and _publish_steps(cut_ws) == []

    rename_speaker(cut_ws, "Morag", "Morag MacLeod")
    assert status(cut_ws).since_release == SinceRelease("1.0.0", relabelled=2)
    assert _publish_steps(cut_ws) == ["accentds publish 1.1.0   (2 relabelled since 1.0.0)"]
    _label(cut_ws, ids[2:3], "2024-01-03T10:00:00Z", accent_evidence="self-described")
    assert status(cut_ws).since_release == SinceRelease("1.0.0", relabelled=3)
    publish(cut_ws, "1.1.0", now="2024-01-04T00:00:00Z")
    assert status(cut_ws).since_release == SinceRelease("1.1.0") and _publish_steps(cut_ws) == []


def test_a_release_with_unlicensed_clips_is_compared_as_it_was_published(cut_ws: Workspace) -> None:
    ids = [c.clip_id for c in cut_ws.read_clips()]
    _label(cut_ws, ids[:3], "2024-01-01T10:00:00Z", status="accepted")
    assert status(cut_ws).publishable[0] == 0
    assert _publish_steps(cut_ws)[0].startswith("nothing publishable yet (unlicensed source ")
    publish(cut_ws, "1.0.0", include_unlicensed=True, now="2024-01-02T00:00:00Z")
    st = status(cut_ws)
    assert st.since_release == SinceRelease("1.0.0", include_unlicensed=True)
    assert _publish_steps(cut_ws) == []
    _label(cut_ws, ids[3:4], "2024-01-03T10:00:00Z", status="accepted")
    assert _publish_steps(cut_ws)[0].startswith("accentds publish 1.1.0 --include-unlicensed   (1 new ")
    # a clip without a transcript is not publishable, --include-unlicensed or not
    _label(cut_ws, ids[4:5], "2024-01-03T10:00:00Z", status="accepted")
    set_labels(cut_ws, ids[4:5], {"transcript": ""})  # its caption draft dismissed
    assert _publish_steps(cut_ws)[0].startswith("accentds publish 1.1.0 --include-unlicensed   (1 new ")


def test_a_missing_credit_says_which_part_is_missing_and_how_to_give_it(cut_ws: Workspace) -> None:
    """A CC BY source's clips are held back until its credit names an author and a title or
    page; status says which of them is missing and points at the `source set` options that add
    it, not at --licence (the licence is set)."""
    source = cut_ws.read_sources()[0].source_id
    set_source_licence(cut_ws, source, "CC-BY-4.0")
    _label(cut_ws, [c.clip_id for c in cut_ws.read_clips()][:1], "2024-01-01T10:00:00Z", status="accepted")

    def step() -> str:
        [found] = _publish_steps(cut_ws)
        assert "--licence" not in found
        return found

    assert step().startswith("nothing publishable yet (no author, title or url to credit ")
    assert step().endswith(f': credit the sources with `accentds source set {source} --author "..." --title "..." '
                           '--url https://...`')  # fmt: skip
    set_attribution(cut_ws, source, {"author": "Morag"})
    assert step().startswith("nothing publishable yet (no title or url to credit ")
    assert f"`accentds source set {source} --title" in step()
    set_attribution(cut_ws, source, {"author": "", "url": "https://example.org/a"})
    assert step().startswith("nothing publishable yet (no author to credit ")
    assert step().endswith(f'`accentds source set {source} --author "..."`')
    shown = run_cli("status", cwd=cut_ws.root).stdout
    assert "not publishable: 0.1 min accepted (no author to credit 0.1 min)" in shown
    set_attribution(cut_ws, source, {"author": "Morag"})
    assert step().startswith("accentds publish 1.0.0   (1 publishable clip,")


def test_status_says_the_publish_it_suggests_stops_at_clips_without_a_transcript(cut_ws: Workspace) -> None:
    """A clip held back for what publish refuses (no transcript) instead of leaving out: the
    suggested publish says it stops there, and it does."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:3], "2024-01-01T10:00:00Z", status="accepted", speaker="Morag", accent="Glasgow")
    set_labels(cut_ws, ids[:3], {"transcript": "Aye."})
    set_labels(cut_ws, ids[2:3], {"transcript": ""})
    [step] = _publish_steps(cut_ws)
    assert step.startswith("accentds publish 1.0.0   (2 publishable clips")
    assert step.endswith(
        "it stops at 1 accepted clip(s) held back for empty transcript: fix them as above, or reject them)"
    )
    refused = run_cli("publish", "1.0.0", "--dry-run", cwd=cut_ws.root)
    assert refused.returncode == 1 and "1 accepted clip(s) have no transcript" in refused.stderr
    set_labels(cut_ws, ids[2:3], {"status": "rejected"})
    [step] = _publish_steps(cut_ws)
    assert step.startswith("accentds publish 1.0.0   (2 publishable clips") and "stops" not in step


def test_an_unreadable_release_asks_for_verify(cut_ws: Workspace) -> None:
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:2], "2024-01-01T10:00:00Z", status="accepted")
    release = publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    for path in (release.path / "data").glob("*.parquet"):
        path.write_bytes(b"not parquet")
    st = status(cut_ws)
    assert st.since_release is not None and "cannot read" in st.since_release.error
    assert _publish_steps(cut_ws) == []
    assert [s for s in st.next_steps if s.startswith("accentds verify 1.0.0")]
    (release.path / "release.json").write_text("{", encoding="utf-8")
    st = status(cut_ws)
    assert [(r.version, r.clips) for r in st.releases] == [("1.0.0", 0)]
    assert st.since_release is not None and "cannot be read" in st.since_release.error
    assert [s for s in st.next_steps if s.startswith("accentds verify 1.0.0   (it cannot be read")]
    shown = run_cli("status", cwd=cut_ws.root)
    assert shown.returncode == 0 and "  1.0.0  ?" in shown.stdout


def test_a_clone_without_the_release_folders_lists_the_tracked_releases(cut_ws: Workspace) -> None:
    """releases/ is not tracked: a fresh clone knows its versions from manifests/releases.csv.
    status listed none and suggested `publish 1.0.0`, which publish refuses there; diff and
    verify said the version was never published."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:2], "2024-01-01T10:00:00Z", status="accepted")
    release = publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    shutil.rmtree(cut_ws.releases)  # as a clone gets the workspace
    st = status(cut_ws)
    assert [(r.version, r.created_at, r.clips) for r in st.releases] == [("1.0.0", "2024-01-02T00:00:00Z", 2)]
    assert st.releases[0].seconds == pytest.approx(release.seconds)
    [step] = _publish_steps(cut_ws)
    assert step.startswith("accentds publish 1.1.0   (what changed since 1.0.0 is not known here: ")
    for command in (["diff", "1.0.0", "1.0.0"], ["verify", "1.0.0"]):
        shown = run_cli(*command, cwd=cut_ws.root)
        assert shown.returncode == 1
        assert "release 1.0.0 was published (manifests/releases.csv) but its folder" in shown.stderr
        assert "copy releases/1.0.0/ here" in shown.stderr


def test_next_version() -> None:
    assert (next_version("1.0.0"), next_version("2.3.4")) == ("1.1.0", "2.4.0")


def test_clips_accepted_in_the_second_a_release_was_made_count_as_accepted_since(cut_ws: Workspace) -> None:
    """A clip accepted while `publish` ran, in the same second, is not in the release: status
    counted it among the new publishable clips but not among those accepted since."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:2], "2024-01-01T10:00:00Z", status="accepted")
    publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    _label(cut_ws, ids[2:5], "2024-01-02T00:00:00Z", status="accepted")
    since = status(cut_ws).since_release
    assert since is not None and (since.accepted, since.new_clips) == (3, 3)


def test_a_held_back_clip_changed_since_a_release_is_not_counted_as_accepted_since(cut_ws: Workspace) -> None:
    """A note on a clip accepted long before the release but held back (a denied speaker's), or a
    re-cut moving its labels, made status say "1 clip accepted" since the release."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(cut_ws, ids[:2], "2024-01-01T10:00:00Z", status="accepted", speaker="Morag", accent="Glasgow")
    _label(cut_ws, ids[2:3], "2024-01-01T10:00:00Z", status="accepted", speaker="Iain", accent="Fife")
    deny(cut_ws, "speaker", "Iain", "asked to be left out")
    publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    _label(cut_ws, ids[2:3], "2024-01-03T10:00:00Z", note="consent form checked")
    shown = run_cli("status", cwd=cut_ws.root)
    assert "since 1.0.0: 0 clips accepted, 0 rejected" in shown.stdout, shown.stdout
    _label(cut_ws, ids[2:3], "2024-01-04T10:00:00Z", status="rejected")
    _label(cut_ws, ids[2:3], "2024-01-05T10:00:00Z", status="accepted")  # accepted again since: counted
    since = status(cut_ws).since_release
    assert since is not None and (since.accepted, since.new_clips) == (1, 0)


def _released(cut_ws: Workspace, accepted: int) -> tuple[list[str], Path, str]:
    """The first `accepted` clips accepted (CC0, one speaker and accent) and published as
    1.0.0: every clip id, the accentds.toml path and its text."""
    ids = [c.clip_id for c in cut_ws.read_clips()]
    set_source_licence(cut_ws, cut_ws.read_sources()[0].source_id, "CC0-1.0")
    _label(
        cut_ws, ids[:accepted], "2024-01-01T10:00:00Z", status="accepted", speaker="Morag", accent="Glasgow"
    )
    publish(cut_ws, "1.0.0", now="2024-01-02T00:00:00Z")
    toml = cut_ws.root / "accentds.toml"
    return ids, toml, toml.read_text(encoding="utf-8")


def test_a_recut_after_a_release_is_counted_as_re_cut_not_as_clips_left_out(cut_ws: Workspace) -> None:
    """After [vad] changed and `cut` moved the labels to the new clips, status said every
    released clip was no longer publishable and its new clip accepted since the release."""
    ids, toml, text = _released(cut_ws, 4)
    assert "padding_ms = 200 " in text
    toml.write_text(text.replace("padding_ms = 200 ", "padding_ms = 350 ", 1), encoding="utf-8")
    done = run_cli("cut", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    ws = Workspace(cut_ws.root)
    now = {c.clip_id for c in ws.read_clips()}
    assert not now & set(ids[:4])  # the released clips were replaced by the re-cut
    assert status(ws).since_release == SinceRelease("1.0.0", recut=4)
    shown = run_cli("status", cwd=ws.root).stdout
    assert (
        "since 1.0.0: 0 clips accepted, 0 rejected, 0 relabelled; 0.0 min publishable not yet released; "
        "4 clips of 1.0.0 re-cut" in shown
    )
    assert "no longer publishable" not in shown and "to leave out" not in shown
    assert "accentds publish 1.1.0   (4 re-cut since 1.0.0)" in shown

    moved = ws.journal().recut_moves(ids[:4])
    assert set(moved) == set(ids[:4]) and set(moved.values()) <= now
    _label(ws, [moved[ids[0]]], "2024-01-03T10:00:00Z", transcript="Aye, it's dreich")
    _label(ws, [moved[ids[1]]], "2024-01-03T10:00:00Z", status="rejected")
    since = status(ws).since_release
    assert since == SinceRelease("1.0.0", rejected=1, relabelled=1, dropped=1, recut=3)


def test_status_suggests_no_publish_when_no_clip_is_publishable_any_more(cut_ws: Workspace) -> None:
    """With the released clips' licence taken out of [publish] allowed_licences, status
    suggested `accentds publish 1.1.0`, which stops: a release of no clips is refused."""
    _, toml, text = _released(cut_ws, 3)
    start = text.index("allowed_licences = [")
    end = text.index("]", start) + 1
    toml.write_text(text[:start] + 'allowed_licences = ["CC-BY-4.0"]' + text[end:], encoding="utf-8")
    ws = Workspace(cut_ws.root)
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert "accentds publish" not in shown.stdout
    assert (
        "next: nothing publishable for 1.1.0 (3 clips of 1.0.0 no longer publishable: unlicensed source"
        in shown.stdout
    )
    assert shown.stdout.count("allowed_licences of accentds.toml") == 1  # the fix is named once
    tried = run_cli("publish", "1.1.0", "--dry-run", cwd=ws.root)
    assert tried.returncode == 1 and "Error: nothing to publish in 1.1.0" in tried.stderr


def test_a_split_move_since_the_newest_release_is_something_new_status_suggests_publishing(
    ws: Workspace,
) -> None:
    """After `accentds splits move`, status said nothing had changed and suggested no publish,
    although the publish it stayed quiet about was taken (the move is in its changelog)."""
    first = publish(ws, "1.0.0", now="2026-01-02T00:00:00Z")
    split = first.assignment["Morag"]
    other = next(s for s in ("train", "validation", "test") if s != split)
    done = run_cli("splits", "move", "speaker", "Morag", other, "--reason", "balance", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert "; 2 split moves not yet released" in shown.stdout
    assert "next: accentds publish 1.1.0   (2 split moves since 1.0.0)" in shown.stdout
    assert run_cli("publish", "1.1.0", cwd=ws.root).returncode == 0
    shown = run_cli("status", cwd=ws.root)
    assert "split move" not in shown.stdout and "accentds publish" not in shown.stdout

    # a move of a speaker taken down since is in no release: nothing to publish for it
    done = run_cli("deny", "speaker", "Hamish", "--reason", "asked", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert run_cli("publish", "1.2.0", cwd=ws.root).returncode == 0
    hamish = first.assignment["Hamish"]
    elsewhere = next(s for s in ("train", "validation", "test") if s != hamish)
    done = run_cli("splits", "move", "speaker", "Hamish", elsewhere, "--reason", "x", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    shown = run_cli("status", cwd=ws.root)
    assert "split move" not in shown.stdout and "accentds publish" not in shown.stdout
    refused = run_cli("publish", "1.3.0", "--dry-run", cwd=ws.root)
    assert refused.returncode == 1 and "nothing changed since 1.2.0" in refused.stderr

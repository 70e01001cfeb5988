"""What `status` (and `report`) say about labels and manifests `publish` would refuse or read
differently: an accent or accent evidence `[labels]` does not list, attribution.csv rows that
clash or name no source, speaker names that differ only in case."""

from __future__ import annotations

import json

import pytest
from conftest import clip_record, put_labels, run_cli

from accentds.errors import AccentdsError
from accentds.files import write_csv_atomic
from accentds.licences import ATTRIBUTION_FIELDS
from accentds.models import Source
from accentds.report import report
from accentds.selection import deny, read_deny, select_clips
from accentds.status import status
from accentds.views import build_manifest, write_manifest
from accentds.workspace import SOURCE_LABEL_FIELDS, Workspace

# (source, duration s, accent)
CLIPS = [("src-a", 4.0, "Glasgow"), ("src-a", 5.0, "Glasgo"), ("src-b", 6.0, ""), ("src-b", 3.0, "Orkny")]


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """Two CC0 sources, every clip accepted with a transcript; one clip has a misspelt accent.
    src-b's clips take their evidence from the source's defaults."""
    added = "2024-01-01T09:00:00Z"
    workspace.write_sources(
        [
            Source(
                sid,
                "file",
                f"/v/{sid}.mp4",
                f"raw/{sid}.m4a",
                60.0,
                "0" * 64,
                added,
                title=sid,
                licence="CC0-1.0",
            )
            for sid in ("src-a", "src-b")
        ]
    )
    clips, labels, start = [], [], 0.0
    for source, seconds, accent in CLIPS:
        clip = clip_record(source, start, seconds)
        start += 20.0
        clips.append(clip)
        workspace.abs(clip.path).parent.mkdir(parents=True, exist_ok=True)
        workspace.abs(clip.path).write_bytes(b"")  # publish checks the file is there
        labels.append({"clip_id": clip.clip_id, "status": "accepted", "accent": accent, "transcript": "aye"})
    workspace.write_clips(clips)
    put_labels(workspace, labels)
    write_manifest(workspace)
    return workspace


def _evidence(ws: Workspace, value: str) -> None:
    """src-b's accent evidence, as a hand edit of manifests/source_labels.csv writes it."""
    row = dict.fromkeys(SOURCE_LABEL_FIELDS, "") | {"source_id": "src-b", "accent_evidence": value}
    write_csv_atomic(ws.source_labels_csv, SOURCE_LABEL_FIELDS, [row])
    write_manifest(ws)


def test_an_accent_labels_does_not_list_is_held_back_with_its_fix(ws: Workspace) -> None:
    """Clips with the accents "Glasgo" and "Orkny" are not publishable (publish refuses them):
    status and report hold them back, and status says how to fix them instead of suggesting a
    publish of them."""
    st = status(ws)
    assert [(h.reason, h.clips, h.seconds) for h in st.held_back] == [("accent not in [labels]", 2, 8.0)]
    assert st.publishable == (2, pytest.approx(10.0))
    [fix] = [s for s in st.next_steps if "[labels]" in s and not s.startswith("accentds publish")]
    assert "`accentds label CLIP_ID --accent ...`" in fix and "[labels] accents of accentds.toml" in fix
    assert "(accent not in [labels] 0.1 min held back)" in fix
    assert any(
        s.startswith("accentds publish 1.0.0   (2 publishable clips, 0.2 min; it stops at 2 accepted clip(s)")
        for s in st.next_steps
    )

    rep = report(ws)
    assert [(h.reason, h.clips) for h in rep.held_back] == [("accent not in [labels]", 2)]
    assert {r.key: r.held_back for r in rep.breakdowns["accent"]}["Glasgo"] == (
        ("accent not in [labels]", 5.0),
    )
    shown = run_cli("report", "--format", "json", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["progress"]["not_publishable"] == [
        {"reason": "accent not in [labels]", "clips": 2, "minutes": round(8.0 / 60, 6)}
    ]


def test_a_misspelt_accent_evidence_in_source_labels_is_reported(ws: Workspace) -> None:
    """An evidence typed by hand into manifests/source_labels.csv ("self-decribed") makes every
    clip of that source unpublishable; status names it and its fix, with the accent it shares a
    clip with counted once under both."""
    _evidence(ws, "self-decribed")
    st = status(ws)
    assert [(h.reason, h.clips, h.seconds) for h in st.held_back] == [
        ("accent not in [labels]", 1, 5.0),
        ("accent not in [labels] + accent evidence not in [labels]", 1, 3.0),
        ("accent evidence not in [labels]", 1, 6.0),
    ]
    [fix] = [s for s in st.next_steps if "--evidence" in s]
    assert "[labels] accent_evidence of accentds.toml" in fix
    line = run_cli("status", cwd=ws.root)
    assert line.returncode == 0, line.stderr
    assert "accent evidence not in [labels] 0.1 min" in line.stdout

    _evidence(ws, "self-described")  # fixed: only the misspelt accents are held back
    assert [(h.reason, h.clips) for h in status(ws).held_back] == [("accent not in [labels]", 2)]


def test_a_second_attribution_row_for_a_source_is_refused_and_an_unknown_source_warned(ws: Workspace) -> None:
    """A hand-edited manifests/attribution.csv with two rows for one source stops status with
    the line of the second (which credit holds would be a guess); a row for a source the
    workspace does not hold is a warning naming its line."""
    path = ws.manifests / "attribution.csv"
    rows = [
        {"source_id": "src-a", "author": "Morag", "title": "Talk"},
        {"source_id": "src-z", "author": "Iain", "title": "Walk"},
        {"source_id": "src-a", "author": "Ewan", "title": "Talk"},
    ]
    write_csv_atomic(path, ATTRIBUTION_FIELDS, [dict.fromkeys(ATTRIBUTION_FIELDS, "") | r for r in rows])
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [
        f"Error: {path} line 4: a second row for source 'src-a' (the first is line 2), so which credit "
        "holds is unclear: keep the right one and delete the other"
    ]

    write_csv_atomic(path, ATTRIBUTION_FIELDS, [dict.fromkeys(ATTRIBUTION_FIELDS, "") | r for r in rows[:2]])
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.strip().splitlines() == [
        f"Warning: {path} line 3: 'src-z' is not a source of this workspace, so its credit is not used: "
        "correct the id (`accentds status --sources` lists them) or delete the row"
    ]


def test_speaker_names_differing_in_case_are_warned_about_and_denied_together(ws: Workspace) -> None:
    """ "Anna" and "anna" count as two speakers until renamed into one (status says how, and
    merges nothing itself); a denied "Anna" keeps "anna" out of releases too, also after the
    rename."""
    by_start = {c.start: c.clip_id for c in ws.read_clips()}
    names = {0.0: "Anna", 20.0: "Anna", 40.0: "anna", 60.0: "Iain"}
    put_labels(ws, [{"clip_id": by_start[t], "speaker": n, "accent": "Glasgow"} for t, n in names.items()])
    write_manifest(ws)
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.strip().splitlines() == [
        'Warning: the speakers "Anna", "anna" differ only in case, so they count as 2 speakers: if they are '
        'one person, `accentds speakers rename "anna" "Anna"`'
    ]
    assert sorted(set(build_manifest(ws)["speaker"].to_pylist())) == ["Anna", "Iain", "anna"]  # not merged

    deny(ws, "speaker", "Anna", "asked to be removed")
    assert [(h.reason, h.clips) for h in status(ws).held_back] == [("denied speaker", 3)]
    assert [(h.reason, h.clips) for h in report(ws).held_back] == [("denied speaker", 3)]
    rows = build_manifest(ws).to_pylist()
    kept, left_out, _ = select_clips(rows, read_deny(ws), ws.config.publish.allowed_licences, False)
    assert sorted(r["speaker"] for r in kept) == ["Iain"]
    assert [(x.value, x.clips) for x in left_out] == [("Anna", 3)]
    with pytest.raises(AccentdsError, match="already on the deny list"):
        deny(ws, "speaker", "ANNA", "again")

    shown = run_cli("speakers", "rename", "Anna", "anna", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert "'anna' is on the deny list (asked to be removed)" in shown.stdout
    assert [(h.reason, h.clips) for h in status(Workspace(ws.root)).held_back] == [("denied speaker", 3)]
    assert status(Workspace(ws.root)).warnings == ()


def test_an_accent_listed_in_another_case_is_named_when_publish_refuses_it(ws: Workspace) -> None:
    """[labels] accents rewritten as "glasgow": publish said clips of 'Glasgow' have an accent
    [labels] does not list, and the curator saw it listed."""
    from accentds.checks import schema_checks

    toml = ws.root / "accentds.toml"
    text = toml.read_text(encoding="utf-8")
    assert '"Glasgow",' in text
    toml.write_text(text.replace('"Glasgow",', '"glasgow",', 1), encoding="utf-8")
    schema = Workspace(ws.root).config.labels
    rows = build_manifest(ws).to_pylist()
    with pytest.raises(AccentdsError) as refused:
        schema_checks([r for r in rows if r["accent"] == "Glasgow"], schema, force=False)
    assert "have the accent 'Glasgow' (" in str(refused.value)
    assert "(listed as 'glasgow': only the case differs)" in str(refused.value)
    with pytest.raises(AccentdsError) as refused:
        schema_checks([r for r in rows if r["accent"] == "Glasgo"], schema, force=False)
    assert "only the case differs" not in str(refused.value)  # a misspelling is not a case

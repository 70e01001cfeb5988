"""The label journal: one durable record per change, torn tails repaired, spreadsheets
read in their dialects and never taken for the truth, clones merged by git."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fill_disk, run_cli, small_disk

from accentds.files import read_csv
from accentds.journal import LabelJournal
from accentds.label_sheets import export_labels, import_labels
from accentds.label_undo import undo
from accentds.labels import history, set_labels
from accentds.views import refresh_manifest
from accentds.workspace import Workspace


def _ids(ws: Workspace) -> list[str]:
    return [c.clip_id for c in ws.read_clips()]


def _journal_lines(ws: Workspace) -> list[dict]:
    data = ws.labels_journal.read_bytes()
    assert data.endswith(b"\n"), "the journal ends in a torn line"
    return [json.loads(line) for line in data.splitlines()]


def _label_all(ws: Workspace, ids: list[str]) -> dict[str, dict[str, str]]:
    for n, cid in enumerate(ids):
        done = run_cli(
            "label", cid, "--transcript", f"phrase {n}", "--speaker", f"spk-{n}", "--accept", cwd=ws.root
        )
        assert done.returncode == 0, done.stderr
    return {cid: row for cid, row in Workspace(ws.root).read_labels().items() if row["status"]}


def test_a_spreadsheet_save_of_labels_csv_loses_no_label(cut_ws: Workspace) -> None:
    ids = _ids(cut_ws)
    before = _label_all(cut_ws, ids[:3])
    assert len(before) == 3
    # Excel's "CSV UTF-8" with a BOM, ';' between cells and CRLF line ends, one cell edited
    rows = list(read_csv(cut_ws.labels_csv))
    assert len(rows) == 3
    rows[0]["transcript"] = "edited in the spreadsheet"
    lines = [";".join(rows[0])] + [";".join(r.values()) for r in rows]
    saved = "\ufeff" + "\r\n".join(lines) + "\r\n"
    cut_ws.labels_csv.write_bytes(saved.encode("utf-8"))

    done = run_cli("label", ids[3], "--reject", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert "changed by hand" in done.stderr and "labels import" in done.stderr
    after = Workspace(cut_ws.root).read_labels()
    for cid, row in before.items():  # every label kept, the spreadsheet's edit not applied
        assert {k: after[cid][k] for k in ("transcript", "speaker", "status")} == {
            k: row[k] for k in ("transcript", "speaker", "status")
        }
    assert after[ids[3]]["status"] == "rejected"
    assert cut_ws.labels_csv.read_bytes() == saved.encode("utf-8")  # the edited view is left alone

    imported = run_cli("labels", "import", str(cut_ws.labels_csv), cwd=cut_ws.root)
    assert imported.returncode == 0, imported.stderr
    assert Workspace(cut_ws.root).read_labels()[ids[0]]["transcript"] == "edited in the spreadsheet"
    rewritten = cut_ws.labels_csv.read_bytes()
    assert not rewritten.startswith(b"\xef\xbb\xbf") and b"rejected" in rewritten  # a view again
    assert "changed by hand" not in run_cli("status", cwd=cut_ws.root).stderr


def test_import_reads_spreadsheet_dialects(cut_ws: Workspace, tmp_path: Path) -> None:
    ids = _ids(cut_ws)
    sheet = tmp_path / "sheet.csv"
    text = "clip_id;status;speaker;accent\r\n" + "".join(
        f"{cid};{status};Mòrag;{accent}\r\n"
        for cid, status, accent in ((ids[0], "Accepted", "glasgow"), (ids[1], "REJECTED", "FIFE"))
    )
    sheet.write_bytes(text.encode("cp1252"))
    warnings: list[str] = []
    changes = import_labels(cut_ws, sheet, "ann", warn=warnings.append)
    assert warnings and "not UTF-8" in warnings[0] and "sheet.csv" in warnings[0]
    labels = cut_ws.read_labels()
    assert (labels[ids[0]]["status"], labels[ids[0]]["accent"], labels[ids[0]]["speaker"]) == (
        "accepted",
        "Glasgow",
        "Mòrag",
    )
    assert (labels[ids[1]]["status"], labels[ids[1]]["accent"]) == ("rejected", "Fife")
    assert len({c.clip_id for c in changes}) == 2
    assert len(_journal_lines(cut_ws)) == 1  # one import, one record

    sheet.write_text("\ufeffclip_id,status\nnot-a-clip,accepted\n" + f"{ids[2]},maybe\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"row 2: unknown clip id 'not-a-clip'.*\n.*row 3: unknown status"):
        import_labels(cut_ws, sheet)


def test_a_torn_last_line_is_cut_off_and_undo_stays_right(cut_ws: Workspace) -> None:
    first, second = _ids(cut_ws)[:2]
    set_labels(cut_ws, [first], {"transcript": "one"}, "ann")
    set_labels(cut_ws, [first], {"transcript": "two", "status": "accepted"}, "ann")
    with open(cut_ws.labels_journal, "ab") as handle:  # a crash mid-append
        handle.write(b'{"tx": "torn", "time": "2026", "changes": [{"clip": "' + first.encode())
    assert cut_ws.read_labels()[first]["transcript"] == "two"  # readers skip the torn line
    set_labels(cut_ws, [second], {"speaker": "Morag"}, "ann")
    assert [tx["tx"] != "torn" for tx in _journal_lines(cut_ws)] == [True, True, True]
    undo(cut_ws, first, "ann")
    row = cut_ws.read_labels()[first]
    assert (row["transcript"], row["status"]) == ("one", "")
    assert [h["new"] for h in history(cut_ws, first)] == ["one", "two", "accepted", "one", ""]


def _limited(size: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_write_that_fails_halfway_saves_nothing_and_undo_stays_right(cut_ws: Workspace) -> None:
    first, second = _ids(cut_ws)[:2]
    assert run_cli("label", first, "--transcript", "och aye", cwd=cut_ws.root).returncode == 0
    assert run_cli("label", first, "--accept", cwd=cut_ws.root).returncode == 0
    size = cut_ws.labels_journal.stat().st_size
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("ACCENTDS_WORKSPACE", None)
    failed = subprocess.run(
        [sys.executable, "-m", "accentds", "label", second, "--note", "x" * 4000, "--accept"],
        cwd=cut_ws.root,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limited(size + 100),  # the disk fills 100 bytes into the new line
    )
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("Error:") and "labels.jsonl" in failed.stderr, failed.stderr
    assert cut_ws.labels_journal.stat().st_size == size  # nothing half-written
    assert second not in Workspace(cut_ws.root).read_labels()
    assert run_cli("labels", "undo", first, cwd=cut_ws.root).returncode == 0
    row = Workspace(cut_ws.root).read_labels()[first]
    assert (row["transcript"], row["status"]) == ("och aye", "")
    assert len(_journal_lines(cut_ws)) == 3


def test_a_full_disk_during_label_loses_nothing(cut_ws: Workspace, tmp_path: Path) -> None:
    with small_disk(tmp_path / "small") as mount:
        ws_path = mount / "ws"
        shutil.copytree(cut_ws.root, ws_path)
        first, second = _ids(cut_ws)[:2]
        assert run_cli("label", first, "--transcript", "aye", "--accept", cwd=ws_path).returncode == 0
        fill_disk(mount / "filler")
        failed = run_cli("label", second, "--note", "y" * 20000, cwd=ws_path)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
        assert "no space left" in failed.stderr.lower(), failed.stderr
        ws = Workspace(ws_path)
        assert second not in ws.read_labels() and ws.read_labels()[first]["status"] == "accepted"
        (mount / "filler").unlink()
        assert run_cli("label", second, "--reject", cwd=ws_path).returncode == 0
        assert run_cli("labels", "undo", second, cwd=ws_path).returncode == 0
        assert run_cli("labels", "undo", first, cwd=ws_path).returncode == 0
        labels = Workspace(ws_path).read_labels()
        assert labels[second]["status"] == "" and labels[first]["transcript"] == ""


def test_an_old_workspace_keeps_its_labels_and_history(cut_ws: Workspace) -> None:
    first, second = _ids(cut_ws)[:2]
    fields = ["time", "edit_id", "clip_id", "field", "old", "new", "reviewer", "undoes"]
    history_rows = [
        ["2024-01-01T10:00:00Z", "e1", first, "transcript", "", "aye", "ann", ""],
        ["2024-01-01T10:00:00Z", "e1", first, "status", "", "accepted", "ann", ""],
        ["2024-01-01T11:00:00Z", "e2", first, "status", "accepted", "", "ann", "e1"],
    ]
    (cut_ws.manifests / "label_history.csv").write_text(
        "\n".join(",".join(r) for r in [fields, *history_rows]) + "\n", encoding="utf-8"
    )
    cut_ws.labels_csv.write_text(
        "clip_id,transcript,speaker,accent,accent_evidence,status,note,reviewer,updated_at,version\n"
        f"{first},aye,,,,,,ann,2024-01-01T11:00:00Z,2\n{second},,Morag,,,accepted,,bob,,1\n",
        encoding="utf-8",
    )
    cut_ws.labels_journal.unlink(missing_ok=True)
    done = run_cli("status", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    ws = Workspace(cut_ws.root)
    labels = ws.read_labels()
    assert (labels[first]["transcript"], labels[first]["status"]) == ("aye", "")
    assert (labels[second]["speaker"], labels[second]["status"]) == ("Morag", "accepted")
    assert [h["edit_id"] for h in history(ws, first)] == ["e1", "e1", "e2"]
    assert not (ws.manifests / "label_history.csv").exists()


def test_two_clones_that_labelled_clips_merge_without_hand_editing(cut_ws: Workspace, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }

    def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)

    refresh_manifest(cut_ws)
    git("init", "-q", "-b", "main", cwd=cut_ws.root)
    git("add", "-A", cwd=cut_ws.root)
    git("commit", "-qm", "corpus", cwd=cut_ws.root)
    tracked = git("ls-files", cwd=cut_ws.root).stdout.split()
    assert "manifests/manifest.csv" not in tracked and "manifests/labels.csv" not in tracked
    ids = _ids(cut_ws)
    one, two = tmp_path / "one", tmp_path / "two"
    git("clone", "-q", str(cut_ws.root), str(one), cwd=tmp_path)
    git("clone", "-q", str(cut_ws.root), str(two), cwd=tmp_path)
    for clone, chosen in ((one, ids[:3]), (two, ids[3:6])):
        for cid in chosen:
            done = run_cli("label", cid, "--transcript", f"said in {clone.name}", "--accept", cwd=clone)
            assert done.returncode == 0, done.stderr
        changed = {line[3:] for line in git("status", "--porcelain", cwd=clone).stdout.splitlines()}
        assert changed == {"manifests/labels.jsonl", "manifests/history.csv"}  # no view in git
        git("add", "-A", cwd=clone)
        git("commit", "-qm", f"labels from {clone.name}", cwd=clone)
    git("pull", "-q", "--no-rebase", str(two), "main", cwd=one)  # no conflict to resolve
    labels = Workspace(one).read_labels()
    assert {cid for cid, row in labels.items() if row["status"] == "accepted"} == set(ids[:6])
    assert all(labels[cid]["transcript"] == "said in two" for cid in ids[3:6])
    assert len(LabelJournal(one / "manifests" / "labels.jsonl").transactions()) == 6


def test_a_label_save_reads_only_its_clip(cut_ws: Workspace) -> None:
    """A save's cost does not grow with the journal: the lines of other clips are not parsed."""
    first = _ids(cut_ws)[0]
    with cut_ws.lock():  # 20,000 edits of clips that are not this one
        lines = [
            {
                "tx": f"t{n}",
                "time": "",
                "reviewer": "",
                "changes": [{"clip": f"gone-{n}", "field": "note", "old": "", "new": "x"}],
            }
            for n in range(20000)
        ]
        cut_ws.journal().append(lines)
    assert cut_ws.journal().for_clips([first]) == []
    set_labels(cut_ws, [first], {"note": "mine"}, expected_version=0)
    assert [tx["changes"][0]["new"] for tx in cut_ws.journal().for_clips([first])] == ["mine"]
    export = cut_ws.root / "all.csv"
    assert export_labels(cut_ws, export) == 8


def test_the_column_fold_gives_what_the_record_fold_gives(tmp_path: Path) -> None:
    """Views and reports read the labels folded in columns; a save checks its clip's version
    with the record fold. Both must agree on every clip, field, version, reviewer and time."""
    import random

    from accentds.journal import fold, new_tx_id
    from accentds.workspace import EDITABLE_FIELDS

    rng = random.Random(7)
    clips = [f"src-{n:03d}" for n in range(40)]
    fields = [*EDITABLE_FIELDS, "unknown_field"]
    records = []
    for n in range(400):
        picked = rng.sample(clips, rng.choice([1, 1, 1, 2, 5]))
        changes = [
            {
                "clip": cid,
                "field": rng.choice(fields),
                "old": "",
                "new": rng.choice(["", "aye", "wee", f"v{n}"]),
            }
            for cid in picked
            for _ in range(rng.choice([1, 1, 2]))
        ]
        records.append(
            {
                "tx": new_tx_id(),
                "time": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
                "reviewer": f"r{n % 3}",
                "changes": changes,
            }
        )
        if n % 50 == 0:
            records[-1]["why"] = "an import"
    journal = LabelJournal(tmp_path / "labels.jsonl")
    journal.append(records)
    with open(journal.path, "ab") as handle:
        handle.write(b'{"tx": "torn", "changes": [{"clip": "src-000", "fie')
    expected = fold(journal.transactions())
    table = journal.table(EDITABLE_FIELDS)
    assert table["clip_id"].to_pylist() == sorted(expected)
    for row in table.to_pylist():
        state = expected[row["clip_id"]]
        assert row == {
            "clip_id": row["clip_id"],
            **{name: state.values.get(name, "") for name in EDITABLE_FIELDS},
            "reviewer": state.reviewer,
            "updated_at": state.updated_at,
            "version": str(state.version),
        }
    assert LabelJournal(tmp_path / "none.jsonl").table(EDITABLE_FIELDS).num_rows == 0


def test_a_damaged_journal_line_is_named_by_every_reader(tmp_path: Path) -> None:
    from accentds.errors import AccentdsError
    from accentds.workspace import EDITABLE_FIELDS

    journal = LabelJournal(tmp_path / "labels.jsonl")
    journal.append(
        [
            {
                "tx": "a",
                "time": "t",
                "reviewer": "r",
                "changes": [{"clip": "c", "field": "status", "new": "accepted"}],
            }
        ]
    )
    with open(journal.path, "ab") as handle:
        handle.write(b'{"tx": "b", "changes": [{"clip": "c", "field": "status"}]}\n')
    with pytest.raises(AccentdsError, match="line 2"):
        journal.table(EDITABLE_FIELDS)


def test_the_labels_view_imports_back_with_clips_that_have_no_status(cut_ws: Workspace) -> None:
    """labels.csv lists a clip given only a transcript with an empty status: importing the
    view (after a spreadsheet edit) reads that as the pending it shows, not as a bad value."""
    ids = _ids(cut_ws)
    assert run_cli("label", ids[0], "--transcript", "only words", cwd=cut_ws.root).returncode == 0
    assert run_cli("label", ids[1], "--accept", "--transcript", "och aye", cwd=cut_ws.root).returncode == 0
    rows = list(read_csv(cut_ws.labels_csv))
    assert [r["status"] for r in rows if r["clip_id"] == ids[0]] == [""]
    text = cut_ws.labels_csv.read_text(encoding="utf-8").replace("och aye", "och aye the noo")
    cut_ws.labels_csv.write_text(text, encoding="utf-8")
    done = run_cli("labels", "import", str(cut_ws.labels_csv), cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    labels = Workspace(cut_ws.root).read_labels()
    assert labels[ids[1]]["transcript"] == "och aye the noo"
    assert labels[ids[0]]["transcript"] == "only words" and labels[ids[0]]["status"] == ""


def test_the_labels_view_imported_unchanged_changes_nothing(cut_ws: Workspace) -> None:
    """labels.csv holds typed words only: a labelled clip whose transcript is still its caption
    draft has an empty transcript cell there, which is not an edit that clears the draft."""
    ids = _ids(cut_ws)
    drafts = {r["clip_id"]: r["transcript_draft"] for r in read_csv(cut_ws.drafts_csv)}
    assert drafts.get(ids[0]), "the sample's captions draft every clip"
    assert run_cli("label", ids[0], "--reject", cwd=cut_ws.root).returncode == 0
    text = cut_ws.labels_csv.read_text(encoding="utf-8")
    cut_ws.labels_csv.write_text(text.replace("\n", "\r\n"), encoding="utf-8")  # saved again
    before = len(_journal_lines(cut_ws))
    done = run_cli("labels", "import", str(cut_ws.labels_csv), cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert len(_journal_lines(cut_ws)) == before
    refresh_manifest(Workspace(cut_ws.root))
    row = next(r for r in read_csv(cut_ws.manifest_csv) if r["clip_id"] == ids[0])
    assert row["transcript"] == drafts[ids[0]]

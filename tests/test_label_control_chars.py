"""Label values holding control characters (ESC, NUL, BEL: pasted from a terminal, a
subtitle file, or sent by a remote reviewer) are refused wherever labels are written: the
review page's save, `accentds label` and `labels import`. Listed later, an escape sequence
would recolour or rewrite the terminal of whoever runs `accentds labels list`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import run_cli
from fastapi.testclient import TestClient

from accentds.errors import AccentdsError
from accentds.labels import set_labels
from accentds.review import create_app
from accentds.workspace import Workspace

ESCAPE = "Aye \x1b[2J\x1b[31mcleared"


def test_the_review_page_refuses_a_transcript_with_an_escape_sequence(cut_ws: Workspace) -> None:
    clip_id = cut_ws.read_clips()[0].clip_id
    client = TestClient(create_app(cut_ws, reviewer="tester"))
    answer = client.post(f"/api/clip/{clip_id}/labels", json={"values": {"transcript": ESCAPE}, "version": 0})
    assert answer.status_code == 400
    assert "control character U+001B" in answer.json()["error"]
    assert clip_id not in Workspace(cut_ws.root).read_labels()
    # a speaker name with a NUL, a note with a bell
    for name, value in (("speaker", "Morag\x00"), ("note", "ding\x07")):
        answer = client.post(f"/api/clip/{clip_id}/labels", json={"values": {name: value}, "version": 0})
        assert answer.status_code == 400, name
    # words in any script, emoji and their joiners, and right-to-left marks are words
    fine = "Aye \u200fשלום\u200f مرحبا 👩\u200d👩\u200d👧 “quoted”"
    answer = client.post(f"/api/clip/{clip_id}/labels", json={"values": {"transcript": fine}, "version": 0})
    assert answer.status_code == 200 and answer.json()["transcript"] == fine


def test_label_and_import_refuse_control_characters(cut_ws: Workspace, tmp_path: Path) -> None:
    clip_id = cut_ws.read_clips()[0].clip_id
    with pytest.raises(AccentdsError, match="control character"):
        set_labels(cut_ws, [clip_id], {"transcript": ESCAPE}, "tester")
    done = run_cli("label", clip_id, "--transcript", ESCAPE, cwd=cut_ws.root)
    assert done.returncode != 0
    assert done.stderr.startswith("Error:") and "U+001B" in done.stderr and "Traceback" not in done.stderr
    sheet = tmp_path / "sheet.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip_id", "transcript", "version"])
        writer.writerow([clip_id, ESCAPE, "0"])
    done = run_cli("labels", "import", str(sheet), cwd=cut_ws.root)
    assert done.returncode != 0 and "row 2" in done.stderr and "U+001B" in done.stderr
    assert clip_id not in Workspace(cut_ws.root).read_labels()
    listed = run_cli("labels", "list", cwd=cut_ws.root)
    assert "\x1b" not in listed.stdout

"""Limits on what a label may hold: a transcript longer than [labels] max_transcript_chars is
refused by the review server, `accentds label` and `labels import` alike, and an over-long
value already in the labels (from before the limit) never makes a later command fail."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import put_labels, run_cli

from accentds.workspace import Workspace

pytest.importorskip("fastapi", reason="the review app needs fastapi")

from fastapi.testclient import TestClient

from accentds.review import create_app

HUGE = 200_000  # over csv's default field limit of 131,072 characters
JSON = {"Content-Type": "application/json"}


def _ids(ws: Workspace) -> list[str]:
    return [c.clip_id for c in ws.read_clips()]


def _journal(ws: Workspace) -> bytes:
    return ws.labels_journal.read_bytes() if ws.labels_journal.exists() else b""


def test_the_server_refuses_an_over_long_transcript(cut_ws: Workspace) -> None:
    clip = _ids(cut_ws)[0]
    client = TestClient(create_app(cut_ws, reviewer="tester"))
    before = _journal(cut_ws)
    body = {"values": {"transcript": "a" * 2001, "status": "accepted"}, "version": 0}
    response = client.post(f"/api/clip/{clip}/labels", json=body, headers=JSON)
    assert response.status_code == 400
    message = response.json()["error"]
    assert "transcript is 2,001 characters long; the limit is 2,000" in message
    assert "max_transcript_chars" in message
    assert _journal(cut_ws) == before
    body["values"]["transcript"] = "a" * 2000
    assert client.post(f"/api/clip/{clip}/labels", json=body, headers=JSON).status_code == 200


def test_label_and_import_refuse_an_over_long_transcript(cut_ws: Workspace, tmp_path: Path) -> None:
    clip = _ids(cut_ws)[1]
    before = _journal(cut_ws)
    done = run_cli("label", clip, "--transcript", "b" * 2001, cwd=cut_ws.root)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: transcript is 2,001 characters long; the limit is 2,000")
    sheet = tmp_path / "labels.csv"
    assert run_cli("labels", "export", str(sheet), cwd=cut_ws.root).returncode == 0
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows[3]["transcript"] = "c" * 5000
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = run_cli("labels", "import", str(sheet), cwd=cut_ws.root)
    assert done.returncode == 1
    assert "row 5: transcript is 5,000 characters long; the limit is 2,000" in done.stderr
    assert _journal(cut_ws) == before


def test_the_limit_is_set_in_accentds_toml(cut_ws: Workspace) -> None:
    toml = cut_ws.root / "accentds.toml"
    text = toml.read_text(encoding="utf-8")
    assert "max_transcript_chars = 2000" in text
    toml.write_text(
        text.replace("max_transcript_chars = 2000", "max_transcript_chars = 10"), encoding="utf-8"
    )
    clip = _ids(cut_ws)[0]
    assert run_cli("label", clip, "--transcript", "ten chars!", cwd=cut_ws.root).returncode == 0
    done = run_cli("label", clip, "--transcript", "eleven char", cwd=cut_ws.root)
    assert done.returncode == 1 and "the limit is 10 ([labels] max_transcript_chars" in done.stderr


def test_an_over_long_transcript_from_old_data_breaks_nothing(cut_ws: Workspace, tmp_path: Path) -> None:
    first, second = _ids(cut_ws)[:2]
    put_labels(cut_ws, [{"clip_id": first, "transcript": "x" * HUGE, "note": "=1+1"}])  # before the limit
    for command in (["status"], ["labels", "list"], ["labels", "history", first]):
        done = run_cli(*command, cwd=cut_ws.root)
        assert done.returncode == 0, (command, done.stderr)
    done = run_cli("label", first, "--accept", "--speaker", "Morag", cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert run_cli("label", second, "--transcript", "aye", cwd=cut_ws.root).returncode == 0
    client = TestClient(create_app(cut_ws, reviewer="tester"))
    response = client.post(
        f"/api/clip/{first}/labels", json={"values": {"note": "long"}, "version": 2}, headers=JSON
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["transcript"]) == HUGE
    assert client.get("/api/queue").status_code == 200
    # the views and a spreadsheet of them read back
    sheet = tmp_path / "labels.csv"
    assert run_cli("labels", "export", str(sheet), cwd=cut_ws.root).returncode == 0
    done = run_cli("labels", "import", str(sheet), cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    assert "0 changes" in done.stdout
    labels = Workspace(cut_ws.root).read_labels()
    assert len(labels[first]["transcript"]) == HUGE and labels[first]["status"] == "accepted"
    assert labels[first]["note"] == "long" and labels[second]["transcript"] == "aye"


def test_an_old_workspace_with_an_over_long_label_opens(cut_ws: Workspace) -> None:
    """A workspace from before the label journal: its labels.csv (here without a
    label_history.csv) holds a field over csv's default limit."""
    first = _ids(cut_ws)[0]
    cut_ws.labels_csv.write_text(
        "clip_id,transcript,speaker,accent,accent_evidence,status,note,reviewer,updated_at,version\n"
        f"{first},{'y' * HUGE},,,,accepted,,ann,2024-01-01T11:00:00Z,1\n",
        encoding="utf-8",
    )
    cut_ws.labels_journal.unlink(missing_ok=True)
    done = run_cli("labels", "history", first, cwd=cut_ws.root)
    assert done.returncode == 0, done.stderr
    labels = Workspace(cut_ws.root).read_labels()
    assert len(labels[first]["transcript"]) == HUGE and labels[first]["status"] == "accepted"


def test_the_server_refuses_a_write_too_big_to_be_a_label(cut_ws: Workspace) -> None:
    clip = _ids(cut_ws)[0]
    client = TestClient(create_app(cut_ws, reviewer="tester"))
    body = {"values": {"note": "n" * 2_000_000}, "version": 0}
    response = client.post(f"/api/clip/{clip}/labels", json=body, headers=JSON)
    assert response.status_code == 413 and "1,048,576 bytes at most" in response.json()["error"]
    chunked = client.post(
        f"/api/clip/{clip}/labels", content=iter([b'{"values": {"note": "x"}, "version": 0}']), headers=JSON
    )
    assert chunked.status_code == 411
    assert _journal(cut_ws) == b""

"""Each command that changes the corpus adds one line to manifests/history.csv."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import SAMPLE, run_cli

from accentds.corpus_history import HISTORY_COLUMNS, history_csv
from accentds.files import read_csv, write_csv_atomic
from accentds.workspace import init_workspace


def test_changing_commands_append_history(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    history = ws.manifests / "history.csv"

    def lines() -> list[dict[str, str]]:
        return read_csv(history)

    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0
    assert [row["command"] for row in lines()] == ["pull"]
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0  # nothing new: no line
    assert run_cli("status", cwd=ws.root).returncode == 0
    assert len(lines()) == 1
    clip = ws.read_clips()[0].clip_id
    assert run_cli("label", clip, "--accept", cwd=ws.root).returncode == 0
    assert run_cli("labels", "undo", clip, cwd=ws.root).returncode == 0
    assert run_cli("cut", "--force", cwd=ws.root).returncode == 0
    rows = lines()
    assert [row["command"] for row in rows] == ["pull", "label", "labels undo", "cut"]
    accepted = [float(row["accepted_minutes"]) for row in rows]
    assert accepted[0] == 0 and accepted[1] > 0 and accepted[2] == 0
    shown = run_cli("report", "--history", cwd=ws.root)
    assert shown.returncode == 0 and "accepted 0.0 min" in shown.stdout


def test_a_pull_that_only_cuts_what_an_earlier_pull_left_adds_a_line(tmp_path: Path) -> None:
    """A pull whose sources were all pulled before (with --no-cut, or by a pull killed before
    it cut them) still cuts them, and the history's newest line holds those clips."""
    ws, _ = init_workspace(tmp_path / "ws")
    assert run_cli("pull", str(SAMPLE), "--no-cut", cwd=ws.root).returncode == 0
    again = run_cli("pull", str(SAMPLE), cwd=ws.root)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("have ")
    clips = ws.read_clips()
    assert clips
    rows = read_csv(ws.manifests / "history.csv")
    assert [row["command"] for row in rows] == ["pull", "pull"]
    assert int(rows[-1]["total_clips"]) == int(rows[-1]["pending_clips"]) == len(clips)
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0  # nothing to pull or cut: no line
    assert len(read_csv(ws.manifests / "history.csv")) == 2


def test_report_history_in_every_format_gives_the_same_days(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    empty = run_cli("report", "--history", "--format", "json", cwd=ws.root)
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0
    clip = ws.read_clips()[0].clip_id
    assert run_cli("label", clip, "--accept", cwd=ws.root).returncode == 0

    def shown(fmt: str) -> str:
        done = run_cli("report", "--history", "--format", fmt, cwd=ws.root)
        assert done.returncode == 0, done.stderr
        return done.stdout

    days = json.loads(shown("json"))
    assert len(days) == 1 and days[0]["accepted_minutes"] > 0
    assert days[0]["total_minutes"] == pytest.approx(sum(c.duration for c in ws.read_clips()) / 60, abs=1e-6)
    rows = list(csv.DictReader(io.StringIO(shown("csv"))))
    assert [row["date"] for row in rows] == [days[0]["date"]]
    assert float(rows[0]["accepted_minutes"]) == pytest.approx(days[0]["accepted_minutes"], abs=1e-6)
    markdown = shown("markdown").splitlines()
    assert markdown[0].startswith("| date | accepted minutes |") and markdown[2].startswith(
        f"| {days[0]['date']} |"
    )
    assert shown("table").startswith(f"{days[0]['date']}  accepted ")


def test_report_history_keeps_the_days_since_and_refuses_what_it_cannot_show(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    lines = [("2024-05-01T09:00:00Z", 1.0), ("2024-05-02T09:00:00Z", 1.5), ("2024-05-03T09:00:00Z", 2.25)]
    write_csv_atomic(
        history_csv(ws),
        HISTORY_COLUMNS,
        [{"time": t, "command": "label", "accepted_minutes": m, "total_minutes": m} for t, m in lines],
    )
    since = run_cli("report", "--history", "--since", "2024-05-02", "--format", "json", cwd=ws.root)
    assert since.returncode == 0, since.stderr
    days = [(d["date"], d["accepted_minutes"], d["delta_accepted_minutes"]) for d in json.loads(since.stdout)]
    # growth since the day before; today the workspace holds no clips, which the last line shows
    today = days[-1][0]
    assert today == datetime.now(UTC).date().isoformat()
    assert days == [("2024-05-02", 1.5, 0.5), ("2024-05-03", 2.25, 0.75), (today, 0.0, -2.25)]
    later = run_cli("report", "--history", "--since", "2099-01-01", cwd=ws.root)
    assert (later.returncode, later.stdout) == (
        0,
        f"no history since 2099-01-01 (the last day is {today})\n",
    )

    for option, value in (("--plots", "plots"), ("--html", "page.html"), ("--status", "accepted")):
        refused = run_cli("report", "--history", option, value, cwd=ws.root)
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"Error: {option} does not go with --history: ")
        assert not (ws.root / value).exists()


def test_history_follows_the_publishable_minutes_through_every_command_that_moves_them(
    tmp_path: Path,
) -> None:
    """A licence set on a source makes its accepted clips publishable and a deny takes them out
    again: each adds a history line with the publishable minutes, as `report` counts them."""
    ws, _ = init_workspace(tmp_path / "ws")
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0
    clip = ws.read_clips()[0]
    done = run_cli("label", clip.clip_id, "--transcript", "Och aye.", "--accept", cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert run_cli("source", "set", clip.source_id, "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    assert run_cli("deny", "source", clip.source_id, "--reason", "taken down", cwd=ws.root).returncode == 0
    [day] = json.loads(run_cli("report", "--history", "--format", "json", cwd=ws.root).stdout)
    assert day["publishable_minutes"] == 0 and day["accepted_minutes"] > 0
    middle = f"{(clip.start + clip.end) / 2:.3f}"
    assert run_cli("clip", "split", clip.clip_id, middle, cwd=ws.root).returncode == 0
    rows = read_csv(history_csv(ws))
    assert [row["command"] for row in rows] == ["pull", "label", "source set", "deny", "clip split"]
    assert [int(row["publishable_clips"]) for row in rows] == [0, 0, 1, 0, 0]  # no licence, CC0, denied
    assert float(rows[2]["publishable_minutes"]) == pytest.approx(clip.duration / 60, abs=1e-5)
    assert float(rows[3]["accepted_minutes"]) == pytest.approx(clip.duration / 60, abs=1e-5)
    assert float(rows[4]["accepted_minutes"]) == 0  # an accepted clip's halves are pending again


def test_a_history_begun_without_publishable_columns_keeps_its_lines_and_gains_them(tmp_path: Path) -> None:
    """history.csv written before it had publishable columns: its lines are read as they were
    (publishable unknown), and lines appended to it carry the publishable figures."""
    ws, _ = init_workspace(tmp_path / "ws")
    old = HISTORY_COLUMNS[:-2]
    write_csv_atomic(
        history_csv(ws),
        old,
        [{"time": "2024-05-01T09:00:00Z", "command": "label", "accepted_minutes": 1.5, "total_minutes": 2}],
    )
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0
    clip = ws.read_clips()[0]
    assert run_cli("source", "set", clip.source_id, "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    assert run_cli("label", clip.clip_id, "--transcript", "Aye.", "--accept", cwd=ws.root).returncode == 0
    assert history_csv(ws).read_text().splitlines()[0] == ",".join(old)  # the header stays as written
    shown = run_cli("report", "--history", "--format", "json", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    first, today = json.loads(shown.stdout)
    assert (first["date"], first["accepted_minutes"], first["publishable_minutes"]) == (
        "2024-05-01",
        1.5,
        None,
    )
    assert today["publishable_minutes"] == pytest.approx(clip.duration / 60, abs=1e-5)
    assert today["total_minutes"] == pytest.approx(sum(c.duration for c in ws.read_clips()) / 60, abs=1e-5)
    table = run_cli("report", "--history", cwd=ws.root).stdout.splitlines()
    assert table[0].endswith("publishable –") and table[1].endswith(f"publishable {clip.duration / 60:.1f}")
    csv_rows = list(
        csv.DictReader(io.StringIO(run_cli("report", "--history", "--format", "csv", cwd=ws.root).stdout))
    )
    assert [row["publishable_minutes"] != "" for row in csv_rows] == [False, True]

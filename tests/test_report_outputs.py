"""What `report` and `status` write where: the plots and page, the minutes of each source."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import SAMPLE, run_cli

from accentds.media import find_ffmpeg
from accentds.workspace import Workspace, init_workspace


def test_plots_into_a_file_or_html_onto_a_folder_is_refused_before_the_report(sample_ws: Workspace) -> None:
    root = sample_ws.root
    (root / "notes.txt").write_text("mine\n", encoding="utf-8")
    (root / "pages").mkdir()
    done = run_cli("report", "--plots", "notes.txt", cwd=root)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "Error: --plots takes a folder (made if missing), and notes.txt is a file\n"
    done = run_cli("report", "--html", "pages", cwd=root)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "Error: --html takes a file name, and pages is a folder: give pages/report.html\n"
    assert (root / "notes.txt").read_text(encoding="utf-8") == "mine\n" and not list(
        (root / "pages").iterdir()
    )
    done = run_cli("report", "--plots", "plots", "--html", "pages/report.html", cwd=root)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (root / "plots").iterdir())[0] == "accents.png"
    assert (root / "pages" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_writes_nothing_into_the_folders_accentds_keeps(sample_ws: Workspace) -> None:
    """`report --html manifests/r.html` wrote the page among the manifests git tracks (which
    `export` refuses), and --plots clips/ put PNGs among the clips."""
    root = sample_ws.root
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    refused = {
        ("--html", "manifests/r.html"): "manifests/r.html is inside the workspace's manifests/, whose files "
        "accentds keeps: write the report elsewhere, such as r.html in the workspace folder",
        ("--plots", "clips/plots"): "clips/plots is inside the workspace's clips/, whose files accentds "
        "keeps: write the plots elsewhere, such as plots/ in the workspace folder",
        ("--plots", "releases"): "releases is inside the workspace's releases/, whose files accentds keeps: "
        "write the plots elsewhere, such as plots/ in the workspace folder",
        (
            "--html",
            "accentds.toml",
        ): "accentds.toml is the workspace's settings: write the report to another file",
    }
    for (option, path), message in refused.items():
        done = run_cli("report", option, path, "--format", "json", cwd=root)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"Error: {message}\n")
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == before
    done = run_cli("report", "--html", "r.html", "--format", "json", cwd=root)
    assert done.returncode == 0 and (root / "r.html").is_file(), done.stderr


def test_status_sources_gives_each_source_its_pulled_and_its_clip_minutes(sample_ws: Workspace) -> None:
    done = run_cli("status", "--sources", cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("source "))
    assert lines[header].split() == [
        "source",
        "pulled",
        "min",
        "clips",
        "clip",
        "min",
        "title",
        "/",
        "origin",
    ]
    [source] = sample_ws.read_sources()
    clips = sample_ws.read_clips()
    row = lines[header + 1].split()
    assert row[:4] == [
        source.source_id,
        f"{source.duration / 60:.1f}",
        str(len(clips)),
        f"{sum(c.duration for c in clips) / 60:.1f}",
    ]
    assert row[1] != row[3]  # the sample's 0.6 pulled minutes hold 0.5 minutes of clips


def _flags(root: Path) -> dict[str, int]:
    done = run_cli("report", "--status", "all", "--format", "json", cwd=root)
    assert done.returncode == 0, done.stderr
    return {row["key"]: row["clips"] for row in json.loads(done.stdout)["breakdowns"]["quality hints"]}


def test_an_8_khz_workspace_flags_no_clip_narrowband(tmp_path: Path) -> None:
    """At 8 kHz no clip holds sound above 4 kHz: `narrowband` would flag every one."""
    ws, _ = init_workspace(tmp_path / "ws")
    toml = ws.root / "accentds.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("sample_rate = 16000", "sample_rate = 8000"))
    assert run_cli("pull", str(SAMPLE), cwd=ws.root).returncode == 0
    assert len(ws.read_clips()) == 8
    assert not [key for key in _flags(ws.root) if "narrowband" in key]
    # at 16 kHz the same sample sent through a telephone band is narrowband
    other, _ = init_workspace(tmp_path / "other")
    phone = tmp_path / "phone.wav"
    subprocess.run(
        [
            find_ffmpeg(),
            "-v",
            "error",
            "-i",
            str(SAMPLE),
            "-vn",
            "-af",
            "lowpass=3000,lowpass=3000",
            str(phone),
        ],
        check=True,
    )
    assert run_cli("pull", str(phone), cwd=other.root).returncode == 0
    assert (
        sum(n for key, n in _flags(other.root).items() if "narrowband" in key) == len(other.read_clips()) > 0
    )


def test_a_narrow_terminal_shows_each_breakdown_key_whole_on_one_line(sample_ws: Workspace) -> None:
    """A source id cut to `file-c2a6…` names no source, and a speaker wrapped onto two lines
    reads as two rows: keys stay whole; the other columns give way."""
    clips = sorted(c.clip_id for c in sample_ws.read_clips())
    speaker = "Morag MacDonald-Fraser of Auchtermuchty"[:32]
    labelled = run_cli("label", *clips, "--speaker", speaker, "--accept", cwd=sample_ws.root)
    assert labelled.returncode == 0, labelled.stderr
    [source] = sample_ws.read_sources()
    done = run_cli("report", cwd=sample_ws.root, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith(f"{source.source_id} ")], done.stdout
    assert [line for line in lines if line.startswith(f"{speaker} ")], done.stdout


def test_a_narrow_terminal_shows_every_figure_and_header_word_whole(sample_ws: Workspace) -> None:
    """With a long key shown whole, the figures beside it were cut to `3.…` and the headers to
    `cl…`: a figure and a header word are never cut short; the reasons wrap."""
    clips = sorted(c.clip_id for c in sample_ws.read_clips())
    speaker = "Morag MacDonald-Fraser of Auchtermuchty"[:32]
    labelled = run_cli("label", *clips, "--speaker", speaker, "--accept", cwd=sample_ws.root)
    assert labelled.returncode == 0, labelled.stderr
    done = run_cli("report", cwd=sample_ws.root, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout, done.stdout
    [row] = [line for line in done.stdout.splitlines() if line.startswith(f"{speaker} ")]
    figures = row[len(speaker) :].split()
    assert figures[0] == str(len(clips)) and figures[3] == "100.0%", row


def test_plots_of_a_name_the_font_cannot_draw_print_no_python_warning(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    clips = sorted(c.clip_id for c in sample_ws.read_clips())
    labelled = run_cli("label", *clips, "--speaker", "李明", "--accept", cwd=sample_ws.root)
    assert labelled.returncode == 0, labelled.stderr
    done = run_cli("report", "--plots", str(tmp_path / "plots"), cwd=sample_ws.root)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "plots.py" not in done.stderr, done.stderr
    assert (tmp_path / "plots" / "speakers.png").stat().st_size > 0

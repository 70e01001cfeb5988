"""What `report` and `status` write where: the plots and page, the minutes of each source."""

from __future__ import annotations

from conftest import run_cli

from accentds.workspace import Workspace


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

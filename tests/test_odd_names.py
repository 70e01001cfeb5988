"""File names and titles holding a new line or a terminal's escape codes, printed by pull,
cut, status and report: shown escaped on their one line, as `bad\\nname`, `\\x1b`."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE, run_cli

from accentds.words import shown
from accentds.workspace import Workspace

ODD = "talk\nsecond line\x1b[31mred\x1b[0m"
SHOWN = "talk\\nsecond line\\x1b[31mred\\x1b[0m"


def test_shown_escapes_control_characters_as_python_writes_them() -> None:
    assert shown(ODD) == SHOWN
    assert shown("Müller – ferry.mp4") == "Müller – ferry.mp4"
    assert shown("a\u202eb\u2028c\x7f\x9b") == "a\\u202eb\\u2028c\\x7f\\x9b"
    assert shown("one\ntwo\x1b", keep="\n") == "one\ntwo\\x1b"


def test_an_odd_file_name_is_printed_escaped_on_its_line(workspace: Workspace, tmp_path: Path) -> None:
    media = Path(shutil.copy(SAMPLE, tmp_path / f"{ODD}.mp4"))
    done = run_cli("pull", str(media), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [sid] = [s.source_id for s in workspace.read_sources()]
    out = done.stdout + done.stderr
    assert "\x1b" not in out and "second line" not in out.replace(SHOWN, "")
    lines = done.stdout.splitlines()
    assert f"pulled    {sid}  0.6 min  {media.parent}/{SHOWN}.mp4" in lines, lines
    assert any(line.startswith(f"cut       {sid}") and line.endswith(f"  {SHOWN}") for line in lines), lines

    status = run_cli("status", "--sources", cwd=workspace.root)
    assert "\x1b" not in status.stdout and SHOWN in status.stdout, status.stdout
    assert next(line for line in status.stdout.splitlines() if "second line" in line).startswith(sid)

    page = f"r\x1b[2J{ODD}.html"  # a name that would clear the screen
    report = run_cli("report", "--html", page, cwd=workspace.root)
    assert report.returncode == 0, report.stderr
    assert report.stderr == f"wrote r\\x1b[2J{SHOWN}.html\n"
    assert (workspace.root / page).is_file()

    missing = run_cli("pull", str(tmp_path / f"gone{ODD}.mp4"), cwd=workspace.root)
    assert missing.returncode == 1 and "\x1b" not in missing.stderr
    assert missing.stderr.splitlines()[0] == f"failed    {tmp_path}/gone{SHOWN}.mp4: no such file or folder"


def test_a_file_name_starting_with_a_dash_gets_a_hint_how_to_give_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    """`accentds pull -dash.opus` said only "No such option: -d"."""
    shutil.copy(SAMPLE, workspace.root / "-dash.opus")
    done = run_cli("pull", "-dash.opus", "--no-cut", cwd=workspace.root)
    assert done.returncode == 2 and not workspace.read_sources()
    assert done.stderr.splitlines()[-1] == (
        "Error: No such option: -d (to name the file -dash.opus, write ./-dash.opus, or put -- before it: "
        "-- -dash.opus)"
    )
    done = run_cli("pull", "--no-cut", "--", "-dash.opus", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert [s.origin for s in workspace.read_sources()] == [str(workspace.root / "-dash.opus")]
    typo = run_cli("pull", "--lisence", "CC0-1.0", "x.mp4", cwd=workspace.root)
    assert typo.stderr.splitlines()[-1] == "Error: No such option: --lisence (Possible options: --licence)"


def test_a_name_holding_emoji_codes_is_printed_as_it_is(workspace: Workspace, tmp_path: Path) -> None:
    """`chat :fire: at 10:a:1.mp4` was printed as `chat 🔥 at 10🅰1.mp4`, in messages too."""
    media = Path(shutil.copy(SAMPLE, tmp_path / "chat :fire: at 10:a:1.mp4"))
    done = run_cli("pull", str(media), "--no-cut", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    [sid] = [s.source_id for s in workspace.read_sources()]
    assert f"pulled    {sid}  0.6 min  {media}" in done.stdout.splitlines(), done.stdout
    status = run_cli("status", "--sources", cwd=workspace.root)
    assert "chat :fire: at 10:a:1" in status.stdout, status.stdout

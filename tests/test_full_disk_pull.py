"""A full disk while pulling files and URLs: each fails with one line that says to free some
space and pull again, and the same pull then finishes."""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLE, check_consistent, fill_disk, run_cli, small_disk
from test_url import Site, site, talk

from accentds.workspace import Workspace, init_workspace

__all__ = ["site", "talk"]  # fixtures used here

ADVICE = "no space left on device: free some space and run the same pull again"


def test_a_full_disk_while_pulling_says_to_free_space_and_pull_again(
    site: Site, talk: Path, tmp_path: Path
) -> None:
    local = tmp_path / "my talk.mp4"
    local.write_bytes(SAMPLE.read_bytes())
    url = site.url("talk.mp4")
    with small_disk(tmp_path / "small", "16m") as mount:
        ws, _ = init_workspace(mount / "ws", name="small")
        fill_disk(mount / "filler")
        done = run_cli("pull", str(local), url, cwd=ws.root)
        assert done.returncode == 1, done.stdout
        assert "Traceback" not in done.stderr, done.stderr
        failed = sorted(line for line in done.stderr.splitlines() if line.startswith("failed"))
        assert failed == sorted(f"failed    {item}: {ADVICE}" for item in (str(local), url)), done.stderr
        assert Workspace(ws.root).read_sources() == []
        assert [p.name for p in ws.raw.iterdir()] == []  # no half-copied file is left
        (mount / "filler").unlink()
        again = run_cli("pull", str(local), url, cwd=ws.root)
        assert again.returncode == 0, again.stderr
        assert len(Workspace(ws.root).read_sources()) == 2
        check_consistent(Workspace(ws.root))

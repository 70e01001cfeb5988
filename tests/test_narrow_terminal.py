"""On a narrow terminal (COLUMNS=60) or piped, outputs keep what a user must type back whole."""

from __future__ import annotations

from conftest import run_cli

from accentds.workspace import Workspace


def test_status_sources_keeps_every_source_id_whole_at_60_columns(sample_ws: Workspace) -> None:
    [source] = sample_ws.read_sources()
    done = run_cli("status", "--sources", cwd=sample_ws.root, env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith(source.source_id[:8])]
    assert row.split()[0] == source.source_id  # the id `accentds source set ID` takes

"""The `source set` a status step suggests names the sources it is for."""

from __future__ import annotations

from conftest import run_cli
from releasing import other_source

from accentds.workspace import Workspace


def test_status_names_the_sources_to_give_a_licence(ws: Workspace) -> None:
    other = other_source(ws)  # the one pulled without a licence
    cleared = [s.source_id for s in ws.read_sources() if s.licence == "CC0-1.0"][:2]
    for source in cleared:
        assert run_cli("source", "set", source, "--licence", "", cwd=ws.root).returncode == 0
    unlicensed = sorted([*cleared, other])
    shown = run_cli("status", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    [step] = [line for line in shown.stdout.splitlines() if "set licences with" in line]
    assert f"allowed_licences of accentds.toml (3 sources: {', '.join(unlicensed)})" in step
    assert run_cli("source", "set", unlicensed[0], "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    assert run_cli("source", "set", unlicensed[1], "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    shown = run_cli("status", cwd=ws.root).stdout
    assert f"set licences with `accentds source set {unlicensed[2]} --licence ...`" in shown

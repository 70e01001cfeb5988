"""Naming a release that does not exist: the message suggests only what can be done."""

from __future__ import annotations

from conftest import run_cli
from releasing import other_source

from accentds.workspace import Workspace


def test_diff_against_an_unpublished_older_version_does_not_suggest_publishing_it(ws: Workspace) -> None:
    assert run_cli("source", "set", other_source(ws), "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    published = run_cli("publish", "1.0.0", cwd=ws.root)
    assert published.returncode == 0, published.stderr
    older = run_cli("diff", "0.9.0", "1.0.0", cwd=ws.root)
    assert older.returncode == 1
    assert older.stderr.startswith("Error: no release 0.9.0 in ") and "(published: 1.0.0)" in older.stderr
    assert "accentds publish 0.9.0" not in older.stderr  # refused: not above 1.0.0
    newer = run_cli("verify", "1.1.0", cwd=ws.root)
    assert newer.returncode == 1 and "`accentds publish 1.1.0` makes it" in newer.stderr

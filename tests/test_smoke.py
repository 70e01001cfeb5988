from pathlib import Path

from conftest import SAMPLE, check_consistent, run_cli


def test_pull_and_cut_sample(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    done = run_cli("pull", str(SAMPLE), "--licence", "CC0-1.0", cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "corpus: 8 clips" in done.stdout
    from accentds.workspace import Workspace

    check_consistent(Workspace(ws))

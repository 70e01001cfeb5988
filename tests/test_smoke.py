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


def test_the_repository_is_the_scottish_corpus_workspace() -> None:
    """The committed accentds.toml is the corpus's own: it loads, and it names the corpus and
    its Scottish accent regions (a test or tool run in the repository must not rewrite it)."""
    from accentds.config import CONFIG_NAME
    from accentds.config_file import load_config

    root = Path(__file__).resolve().parent.parent
    config = load_config(root / CONFIG_NAME)
    assert config.name == "scottish-english"
    assert {"Glasgow", "Edinburgh"} <= set(config.labels.accents)
    assert config.report.max_flagged_share == 0.2  # the file shows every [report] threshold

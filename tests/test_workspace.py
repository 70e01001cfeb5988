"""Workspace finding, init, settings, export and leftovers of killed pulls."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE, run_cli

from accentds.config import VadSettings
from accentds.config_file import load_config
from accentds.errors import AccentdsError
from accentds.files import read_csv, write_parquet_atomic
from accentds.manifest import export
from accentds.pull import pull
from accentds.workspace import FINGERPRINT_SCHEMA, Workspace, init_workspace


def test_init_makes_layout_and_keeps_existing_settings(tmp_path: Path) -> None:
    ws, created = init_workspace(tmp_path / "c", name="my corpus", target_minutes=90)
    assert created
    for folder in ("raw", "clips", "manifests", "releases"):
        assert (ws.root / folder).is_dir()
    for name in (
        "sources.csv",
        "cuts.csv",
        "labels.csv",
        "clips.parquet",
        "manifest.csv",
        "manifest.parquet",
    ):
        assert (ws.manifests / name).exists(), name
    assert "/raw/" in (ws.root / ".gitignore").read_text()
    assert ws.config.name == "my corpus" and ws.config.target_minutes == 90
    assert "Doric" in " ".join(ws.config.labels.accents)
    toml = ws.root / "accentds.toml"
    toml.write_text(toml.read_text().replace("target_minutes = 90", "target_minutes = 120"))
    again, created = init_workspace(ws.root)
    assert not created and again.config.target_minutes == 120


def test_find_by_option_env_and_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, _ = init_workspace(tmp_path / "corpus")
    deep = ws.root / "clips" / "x" / "y"
    deep.mkdir(parents=True)
    monkeypatch.delenv("ACCENTDS_WORKSPACE", raising=False)
    assert Workspace.find(start=deep).root == ws.root
    assert Workspace.find(ws.root).root == ws.root
    monkeypatch.setenv("ACCENTDS_WORKSPACE", str(ws.root))
    assert Workspace.find(start=tmp_path).root == ws.root
    monkeypatch.delenv("ACCENTDS_WORKSPACE")
    with pytest.raises(AccentdsError, match="accentds init"):
        Workspace.find(start=tmp_path)
    with pytest.raises(AccentdsError, match="not an accentds workspace"):
        Workspace.find(tmp_path / "nowhere")


def test_cli_without_workspace_says_what_to_do(tmp_path: Path) -> None:
    done = run_cli("status", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no accentds workspace")
    assert "accentds init" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_given_as_the_workspace_is_refused_without_a_failing_suggestion(tmp_path: Path) -> None:
    """A workspace path that is a file (or lies inside one) is said to be a file, by every command
    and by init, which used to fail with a bare "File exists" after status suggested running it."""
    clip = tmp_path / "some" / "file.wav"
    clip.parent.mkdir()
    clip.write_bytes(b"RIFF")
    for path, said in (
        (clip, f"{clip} is a file, not a workspace folder; "),
        (clip / "ws", f"{clip / 'ws'} cannot be a workspace folder: {clip} is a file; "),
    ):
        for args in (["-w", str(path), "status"], ["init", str(path)]):
            done = run_cli(*args, cwd=tmp_path)
            assert done.returncode == 1, done.stdout
            assert done.stderr.startswith(f"Error: {said}"), done.stderr
            assert len(done.stderr.strip().splitlines()) == 1 and "accentds init" not in done.stderr
        assert run_cli("status", cwd=tmp_path, env={"ACCENTDS_WORKSPACE": str(path)}).stderr.startswith(
            f"Error: {said}"
        )
    assert clip.read_bytes() == b"RIFF"


def test_workspace_option_before_or_after_the_command(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "corpus")
    for args in (["-w", str(ws.root), "status"], ["status", "--workspace", str(ws.root)]):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "corpus: 0 clips, 0.0 min" in done.stdout
    env = {"ACCENTDS_WORKSPACE": str(ws.root)}
    assert run_cli("status", cwd=tmp_path, env=env).returncode == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("aggressiveness = 2", "aggressiveness = 7"),
            "aggressiveness must be 0, 1, 2 or 3",
        ),
        (lambda t: t.replace("frame_ms = 30", "frame_ms = 25"), "frame_ms must be 10, 20 or 30"),
        (lambda t: t.replace("\n[vad]\n", "\n[vad]\npadding = 3\n"), "unknown [vad] keys ['padding']"),
        (lambda t: t.replace("sample_rate = 16000", "sample_rate = 44100"), "sample_rate must be one of"),
        (lambda t: t.replace("max_clip_s = 15", "max_clip_s = 0.2"), "must be at least min_clip_s"),
        (lambda t: t + "\n[vad\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(workspace: Workspace, edit, message: str) -> None:
    toml = workspace.root / "accentds.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(AccentdsError) as caught:
        load_config(toml)
    assert message in str(caught.value)
    done = run_cli("status", cwd=workspace.root)
    assert done.returncode == 1 and message in done.stderr


def test_settings_id_changes_with_any_setting() -> None:
    base = VadSettings()
    assert base.settings_id == VadSettings().settings_id
    variants = [
        base.with_overrides(**{k: v})
        for k, v in [("aggressiveness", 3), ("padding_ms", 150), ("max_clip_s", 12.0)]
    ]
    assert len({base.settings_id, *(v.settings_id for v in variants)}) == 4
    assert base.with_overrides(aggressiveness=None) == base


def test_export_formats_agree(workspace: Workspace, tmp_path: Path) -> None:
    pull(workspace, [str(SAMPLE)])
    assert run_cli("cut", cwd=workspace.root).returncode == 0
    rows = {}
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp_path / f"m.{fmt}"
        done = run_cli("export", "--format", fmt, "-o", str(out), cwd=workspace.root)
        assert done.returncode == 0, done.stderr
        assert f"wrote 8 clips to {out}" in done.stdout
        if fmt == "csv":
            rows[fmt] = [(r["clip_id"], round(float(r["duration"]), 3), r["status"]) for r in read_csv(out)]
        elif fmt == "parquet":
            table = pq.read_table(out).to_pylist()
            rows[fmt] = [(r["clip_id"], round(r["duration"], 3), r["status"]) for r in table]
        else:
            lines = [json.loads(line) for line in out.read_text().splitlines()]
            rows[fmt] = [(r["clip_id"], round(r["duration"], 3), r["status"]) for r in lines]
    assert rows["csv"] == rows["parquet"] == rows["jsonl"]
    assert len(rows["csv"]) == 8 and {r[2] for r in rows["csv"]} == {"pending"}
    assert run_cli("export", "--format", "xml", cwd=workspace.root).returncode == 1
    with pytest.raises(AccentdsError, match="unknown format"):
        export(workspace, "xml", tmp_path / "x")


def test_killed_pull_leftovers_are_cleaned(workspace: Workspace) -> None:
    dead = workspace.raw / ".staging-999999999-abc"
    dead.mkdir()
    (dead / "source.mp4").write_bytes(b"half")
    live = workspace.raw / f".staging-{os.getpid()}-def"
    live.mkdir()
    [first] = pull(workspace, [str(SAMPLE)], workers=1)
    # a pull killed after moving its folder but before writing its row left raw/<id> behind
    sources_csv = workspace.sources_csv.read_text().splitlines()[0] + "\n"
    workspace.sources_csv.write_text(sources_csv)
    (workspace.raw / first.source.source_id / "stray").write_text("x")
    [again] = pull(workspace, [str(SAMPLE)], workers=1)
    assert again.status == "pulled"
    assert not dead.exists() and live.exists()
    assert sorted(p.name for p in (workspace.raw / again.source.source_id).iterdir()) == [
        "info.json", "source.eng.srt", "source.mp4", "source.und.srt", "source.und.vtt",
    ]  # fmt: skip


def test_status_counts_and_next_steps(workspace: Workspace) -> None:
    done = run_cli("status", cwd=workspace.root)
    assert "next: accentds pull" in done.stdout
    pull(workspace, [str(SAMPLE)])
    done = run_cli("status", "--sources", cwd=workspace.root)
    assert "1 source not cut" in done.stdout and "not cut" in done.stdout
    assert run_cli("cut", cwd=workspace.root).returncode == 0
    done = run_cli("status", cwd=workspace.root)
    assert "accentds review   (listen to and label the 8 pending clips)" in done.stdout
    assert "corpus: 8 clips, 0.5 min" in done.stdout
    toml = workspace.root / "accentds.toml"
    toml.write_text(toml.read_text().replace("padding_ms = 200", "padding_ms = 100"))
    done = run_cli("status", cwd=workspace.root)
    assert "1 cut with other settings ([vad] padding_ms 200 → 100)" in done.stdout
    assert "sources: 1 pulled (0.6 min), 1 cut, 1 cut with other settings\n" in done.stdout
    # sample_rate sits under [audio], and status named it a "[vad] setting"
    toml.write_text(toml.read_text().replace("sample_rate = 16000", "sample_rate = 8000"))
    done = run_cli("status", cwd=workspace.root)
    assert (
        "1 cut with other settings ([vad] padding_ms 200 → 100; [audio] sample_rate 16000 → 8000)"
        in done.stdout
    )
    toml.write_text(toml.read_text().replace("sample_rate = 8000", "sample_rate = 16000"))
    again = run_cli("cut", cwd=workspace.root)
    assert again.returncode == 0 and "cut       file-" in again.stdout
    assert "0 sources not cut" not in run_cli("status", cwd=workspace.root).stdout


def test_views_are_rewritten_for_new_fingerprints_only(workspace: Workspace) -> None:
    """duplicates.csv is made from fingerprints.parquet: with neither (a generated file deleted,
    or a workspace from before duplicates), commands leave the views as they are and write no
    duplicates.csv. Fingerprints newer than duplicates.csv have the next command group them
    and rewrite the views, once."""
    views = (workspace.manifest_parquet, workspace.manifest_csv, workspace.labels_csv)

    def written() -> list[tuple[int, int]]:
        return [(p.stat().st_ino, p.stat().st_mtime_ns) for p in views]

    assert run_cli("report", cwd=workspace.root).returncode == 0  # the first starts the label journal
    workspace.duplicates_csv.unlink(missing_ok=True)
    before = written()
    for _ in range(2):
        assert run_cli("report", cwd=workspace.root).returncode == 0
        assert written() == before
    assert not workspace.duplicates_csv.exists()
    write_parquet_atomic(workspace.fingerprints_parquet, FINGERPRINT_SCHEMA.empty_table())
    assert run_cli("report", cwd=workspace.root).returncode == 0
    assert workspace.duplicates_csv.exists() and written() != before
    before = written()
    assert run_cli("report", cwd=workspace.root).returncode == 0
    assert written() == before


def test_a_new_workspace_has_a_journal_and_its_first_command_rewrites_nothing(tmp_path: Path) -> None:
    """`init` starts the label journal: the first command after it has no labels to migrate
    and leaves the views `init` wrote as they are."""
    assert run_cli("init", str(tmp_path / "ws")).returncode == 0
    ws = Workspace(tmp_path / "ws")
    assert ws.labels_journal.exists() and ws.labels_journal.read_text() == ""
    views = (ws.manifest_parquet, ws.manifest_csv, ws.labels_csv)
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in views]
    assert run_cli("status", cwd=ws.root).returncode == 0
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in views] == before


def test_export_takes_its_format_from_the_file_name_and_never_writes_over_the_workspace(
    workspace: Workspace, tmp_path: Path
) -> None:
    pull(workspace, [str(SAMPLE)])
    assert run_cli("cut", cwd=workspace.root).returncode == 0
    out = tmp_path / "corpus.jsonl"
    assert run_cli("export", "-o", str(out), cwd=workspace.root).returncode == 0
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 8
    mixed = run_cli("export", "--format", "csv", "-o", str(out), cwd=workspace.root)
    assert mixed.returncode == 1 and "ends in .jsonl but --format is csv" in mixed.stderr
    journal = workspace.labels_journal.read_bytes()
    kept = {p: p.read_bytes() for p in workspace.manifests.rglob("*") if p.is_file()}
    for command in (
        ["export", "--format", "jsonl", "-o", "manifests/labels.jsonl"],
        ["export", "-o", "clips/all.csv"],
        ["labels", "export", "manifests/labels.jsonl"],
        ["export", "-o", "accentds.toml"],
    ):
        refused = run_cli(*command, cwd=workspace.root)
        assert refused.returncode == 1, command
        assert refused.stderr.startswith("Error: ") and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert workspace.labels_journal.read_bytes() == journal
    assert {p: p.read_bytes() for p in workspace.manifests.rglob("*") if p.is_file()} == kept
    assert not (workspace.clips / "all.csv").exists()


def test_a_folder_of_a_workspace_given_as_the_workspace_names_the_workspace(tmp_path: Path) -> None:
    """`--workspace WS/manifests` said to run `accentds init WS/manifests`, and that init made
    a second workspace inside the first one's manifests/ folder."""
    ws, _ = init_workspace(tmp_path / "my corpus")
    (ws.releases / "0.1.0").mkdir()
    for inner in (ws.manifests, ws.releases / "0.1.0"):
        shown = run_cli("--workspace", str(inner), "status", cwd=tmp_path)
        assert shown.returncode == 1
        assert f"folder of the workspace {ws.root}: give that one, `--workspace '{ws.root}'`" in shown.stderr
        assert "accentds init" not in shown.stderr
    made = run_cli("init", str(ws.manifests), cwd=tmp_path)
    assert made.returncode == 1 and "lies in the manifests/ folder of the workspace" in made.stderr
    assert not (ws.manifests / "accentds.toml").exists() and not (ws.manifests / "raw").exists()
    # a new folder beside them is a new workspace, its path quoted to be pasted
    shown = run_cli("--workspace", "my corpus/demo", "status", cwd=tmp_path)
    assert "run `accentds init 'my corpus/demo'` first" in shown.stderr
    made = run_cli("init", "my corpus/demo", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (ws.root / "demo" / "accentds.toml").is_file()


def test_status_names_the_vad_settings_a_source_was_cut_with_that_differ_now(workspace: Workspace) -> None:
    """Opened with a newer accentds, an unchanged accentds.toml said every source was "cut with
    other [vad] settings (accentds.toml changed, or an earlier accentds cut it)" without saying
    which setting: the curator could not tell a typo from an upgrade."""
    pull(workspace, [str(SAMPLE)])
    assert run_cli("cut", cwd=workspace.root).returncode == 0
    (cut,) = workspace.read_cuts().values()
    recorded = json.loads(workspace.cut_settings_json.read_text(encoding="utf-8"))
    # as an accentds from before silero_max_gain_db recorded its cut
    older = {k: v for k, v in recorded[cut.settings_id].items() if k != "silero_max_gain_db"}
    workspace.cut_settings_json.write_text(json.dumps({"0a1b2c3d4e": older}), encoding="utf-8")
    text = workspace.cuts_csv.read_text(encoding="utf-8")
    workspace.cuts_csv.write_text(text.replace(cut.settings_id, "0a1b2c3d4e"), encoding="utf-8")
    toml = workspace.root / "accentds.toml"
    toml.write_text(toml.read_text().replace("merge_gap_ms = 400", "merge_gap_ms = 300"))
    done = run_cli("status", cwd=workspace.root)
    assert (
        "1 cut with other settings ([vad] merge_gap_ms 400 → 300; [vad] silero_max_gain_db = 20.0 is new "
        "since they were cut)" in done.stdout
    )
    workspace.cut_settings_json.unlink()  # an accentds from before cut_settings.json
    done = run_cli("status", cwd=workspace.root)
    assert "1 cut with other settings (settings of an earlier accentds, which did not record them)" in (
        done.stdout
    )

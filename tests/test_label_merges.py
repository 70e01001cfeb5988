"""Two people label in two git clones of the workspace and merge: a field both changed from the
same value is named by `status` and `publish`, and setting it settles it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from conftest import run_cli

from accentds.label_merges import merged_edits
from accentds.workspace import Workspace


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    who = ["-c", "user.name=Curator", "-c", "user.email=curator@example.org"]
    done = subprocess.run(["git", *who, *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def _label(root: Path, *args: str) -> None:
    done = run_cli("label", *args, cwd=root)
    assert done.returncode == 0, done.stderr
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "labels")


def test_a_label_changed_in_two_clones_is_named_after_the_merge_until_settled(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    """git's union merge of the journal kept the edit merged last and dropped the other clone's
    without a word: which transcript a release held depended on who merged."""
    ws = sample_ws
    first, second, third = (c.clip_id for c in ws.read_clips()[:3])
    source = ws.read_sources()[0].source_id
    assert run_cli("source", "set", source, "--licence", "CC0-1.0", cwd=ws.root).returncode == 0
    assert run_cli("label", second, "--transcript", "Aye.", cwd=ws.root).returncode == 0
    _git(ws.root, "init", "-q")
    _git(ws.root, "add", "-A")
    _git(ws.root, "commit", "-qm", "cut")
    other = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(ws.root), str(other))  # as the README says: no audio in it
    _label(other, first, "--transcript", "Ann's words", "--reviewer", "ann")
    _label(other, second, "--accept", "--reviewer", "ann")
    _label(ws.root, first, "--transcript", "Bob's $words", "--reviewer", "bob")
    _label(ws.root, second, "--accept", "--reviewer", "bob")  # the same value twice: no conflict
    _label(ws.root, third, "--accent", "Fife", "--reviewer", "bob")
    _git(ws.root, "pull", "-q", "--no-rebase", str(other), "HEAD")

    edits = merged_edits(ws.journal())
    [edit] = edits
    assert (edit.clip_id, edit.field, edit.kept, edit.kept_by, edit.lost, edit.lost_by) == (
        first,
        "transcript",
        "Ann's words",
        "ann",
        "Bob's $words",
        "bob",
    )
    settle = f"accentds label {first} --transcript 'Bob'\"'\"'s $words'"
    for command in (("status",), ("publish", "1.0.0", "--dry-run")):
        done = run_cli(*command, cwd=ws.root)
        told = " ".join((done.stdout + done.stderr).split())
        assert (
            f"Warning: 1 label(s) were changed in two clones from the same value, and git's merge kept the one "
            f'merged last: {first} transcript "Ann\'s words" (ann) over "Bob\'s $words" (bob).'
        ) in told, (command, told)
        assert f"e.g. `{settle}`" in told
    assert (
        merged_edits(Workspace(other).journal()) == []
    )  # the clone that did not merge has nothing to settle
    assert "two clones" not in run_cli("status", cwd=other).stdout

    command = settle.replace("accentds", f"{shlex.quote(sys.executable)} -m accentds", 1)
    done = subprocess.run(command, shell=True, cwd=ws.root, capture_output=True, text=True)  # as typed
    assert done.returncode == 0, done.stderr
    assert merged_edits(ws.journal()) == []
    assert "Bob's $words" in run_cli("labels", "list", cwd=ws.root).stdout
    # keeping the value the merge kept is recorded, and settles it as well
    _git(ws.root, "checkout", "-q", "HEAD", "--", "manifests/labels.jsonl")
    assert len(merged_edits(ws.journal())) == 1
    _label(ws.root, first, "--transcript", "Ann's words")
    assert merged_edits(ws.journal()) == []
    assert "two clones" not in run_cli("status", cwd=ws.root).stdout

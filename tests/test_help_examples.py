"""Every `--help` example is one whole line a user can copy, also on a narrow terminal."""

from __future__ import annotations

import shlex

import pytest
import typer.core
import typer.main
from conftest import run_cli

from accentds.cli import app


def _commands(group: typer.core.TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _examples(help_text: str) -> list[str]:
    """The lines of the help's Example(s) section, blank ones left out."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() in ("Example:", "Examples:"))
    section = []
    for line in lines[start + 1 :]:
        if line.startswith(("Arguments:", "Options:")):
            break
        if line.strip():
            section.append(line.strip())
    return section


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_examples_stay_whole_lines_at_60_columns(command: tuple[str, ...]) -> None:
    done = run_cli(*command, "--help", env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    examples = _examples(done.stdout)
    assert examples, done.stdout
    for line in examples:
        assert line.startswith(f"accentds {' '.join(command)}"), f"a wrapped example line: {line!r}"
        words = shlex.split(line.split("   #")[0])  # unbalanced quotes raise
        assert words[: 1 + len(command)] == ["accentds", *command]
    assert "\b" not in done.stdout

"""Markdown and YAML for dataset cards and changelogs: safe table cells, tables, block YAML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./*-]*$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (strings quoted unless plainly safe)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{_yaml_scalar(key)}:")
                lines.append(to_yaml(item, indent + 2 if isinstance(item, Mapping) else indent))
            else:
                empty = "{}" if isinstance(item, Mapping) else "[]" if isinstance(item, list) else None
                lines.append(f"{pad}{_yaml_scalar(key)}: {empty or _yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping | list) and item:
                inner = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {inner[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


_URL = re.compile(r"https?://[^\s<>|\\`*\[\]~]+")
_MARKED = re.compile(r"[\\`*_\[\]~|]")  # what makes code, emphasis, links or column breaks
_BLOCK = re.compile(r"^(\d+[.)]|[#+-])(?=\s|$)")  # a heading or list item when it starts a line


def cell(value: Any) -> str:
    """Text shown as typed in a Markdown table cell or list item: no HTML, entity, emphasis,
    link, code span or column break of its own. A web address alone is left as it is, so the
    Hub still links it."""
    text = " ".join(str(value).split())
    if _URL.fullmatch(text):
        return text
    text = _BLOCK.sub(lambda m: m[1][:-1] + "\\" + m[1][-1], _MARKED.sub(lambda m: "\\" + m[0], text))
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(old, new)
    return text or "—"


def code(value: Any) -> str:
    """A code span showing `value` as typed, however many backticks it holds."""
    text = " ".join(str(value).split()) or "—"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def plain(value: Any) -> str:
    """Text shown as typed on a terminal: its whitespace collapsed, nothing escaped."""
    return " ".join(str(value).split()) or "—"


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table for the terminal: columns aligned, every cell as typed."""
    grid = [list(headers), *([plain(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in grid) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in grid)


def release_minutes(seconds: float) -> float:
    """Minutes as every report of a release gives them (card, changelog, release.json,
    `status`, `report`, `publish`): the seconds to the millisecond, as release.json records
    them, then the minutes to two decimals. One rounding, so the figures never differ by 0.01."""
    return round(round(seconds, 3) / 60, 2)


def minutes(seconds: float) -> str:
    """`release_minutes` as text: `0.55`."""
    return f"{release_minutes(seconds):.2f}"

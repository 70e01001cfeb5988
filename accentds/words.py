"""Words as people read them in what the commands print: counts ("1 clip", "2 clips") and
names that hold control characters ("bad\\nname.mp4")."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional overrides
# and isolates (which reorder the text shown after them)
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`noun` for one, `many` (or `noun` + "s") for any other count."""
    return noun if count == 1 else (many or f"{noun}s")


def counted(count: int, noun: str, many: str | None = None) -> str:
    """The count and its noun: `counted(1, "clip")` is "1 clip", `counted(3, "clip")` "3 clips"."""
    return f"{count} {plural(count, noun, many)}"


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def shown(text: str, keep: str = "") -> str:
    """`text` with its control characters written as Python writes them in a string (`\\n`,
    `\\x1b`), those in `keep` left as they are: a file name or title that holds a new line
    stays on its line, and one with a terminal's escape codes does not act on the terminal."""
    if keep:
        return "".join(
            part if part in keep else _CONTROLS.sub(_escaped, part)
            for part in re.split(f"([{re.escape(keep)}])", text)
        )
    return _CONTROLS.sub(_escaped, text)

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


def minutes_text(seconds: float, digits: int = 1) -> str:
    """Minutes as a total is shown: `2.1 min`; some seconds too few for `digits` decimals with
    two (`0.04 min`), or `<0.01 min`, never `0.0 min`, which reads as none."""
    value = seconds / 60
    if abs(seconds) < 0.0005 or round(abs(value), digits):
        return f"{value:.{digits}f} min"
    return f"{value:.2f} min" if round(abs(value), 2) else "<0.01 min"


def change_text(seconds: float, digits: int = 1) -> str:
    """A change of minutes: `+2.1 min`; one too small for `digits` decimals with two (`-0.04
    min`), or `-<0.01 min`, never `-0.0 min`, which would read as no change; `+0.0 min` only
    for none."""
    if abs(seconds) < 0.0005:  # clip times are kept to the millisecond
        return f"{0:+.{digits}f} min"
    return ("+" if seconds > 0 else "-") + minutes_text(abs(seconds), digits)

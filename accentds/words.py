"""Counts as people write them: "1 clip", "2 clips", "0 clips"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`noun` for one, `many` (or `noun` + "s") for any other count."""
    return noun if count == 1 else (many or f"{noun}s")


def counted(count: int, noun: str, many: str | None = None) -> str:
    """The count and its noun: `counted(1, "clip")` is "1 clip", `counted(3, "clip")` "3 clips"."""
    return f"{count} {plural(count, noun, many)}"

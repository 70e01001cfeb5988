"""The exception accentds raises on purpose, its kind for a manifest that cannot be read, and
how a full disk is told."""

import errno


class AccentdsError(Exception):
    """A problem the user can fix; the message says what to do next."""


class DamagedManifest(AccentdsError):
    """A manifest file that cannot be read: `where` is the file (and line), `why` the reason,
    `name` the file's name."""

    def __init__(self, message: str, where: str, why: str, name: str = "") -> None:
        super().__init__(message)
        self.where, self.why, self.name = where, why, name


def disk_full(exc: OSError) -> str:
    """Why a write failed for want of space ("no space left on device", "disk quota exceeded"),
    or "" for any other OSError."""
    return {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}.get(
        exc.errno or 0, ""
    )

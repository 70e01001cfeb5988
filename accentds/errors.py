"""The exception accentds raises on purpose, and its kind for a manifest that cannot be read."""


class AccentdsError(Exception):
    """A problem the user can fix; the message says what to do next."""


class DamagedManifest(AccentdsError):
    """A manifest file that cannot be read: `where` is the file (and line), `why` the reason,
    `name` the file's name."""

    def __init__(self, message: str, where: str, why: str, name: str = "") -> None:
        super().__init__(message)
        self.where, self.why, self.name = where, why, name

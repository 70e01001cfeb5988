"""The one exception accentds raises on purpose."""


class AccentdsError(Exception):
    """A problem the user can fix; the message says what to do next."""

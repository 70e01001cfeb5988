"""accentds: curate a speech corpus of accented English cut from videos."""

__version__ = "0.1.0"

"""accentds: curate a speech corpus of accented English cut from videos."""

import os

# Nothing here gains from threaded BLAS, and its idle threads spin on the cores that ffmpeg
# and the cut workers need: one BLAS thread, unless the user asked for more.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

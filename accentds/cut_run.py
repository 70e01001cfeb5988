"""The worker processes of a cut: one source each, the longest first, and how far each has
got (the seconds of its audio cut so far, in an array the workers share with the parent), so
a long source shows progress while it is cut, not only when it is done."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, MutableSequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import VadSettings
    from .cut import SourceCut
    from .models import Source

Progress = Callable[[float], None]  # told the seconds of audio cut so far

_shared: MutableSequence[float] | None = None  # in a worker: the run's seconds cut, per source


def _start_worker(shared: MutableSequence[float] | None = None) -> None:
    """A worker leaves Ctrl-C to the parent, dies of SIGTERM quietly, and dies with the
    parent; it tells the parent how far it got through `shared`."""
    global _shared
    from .procs import die_with_parent

    _shared = shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, which raises
    die_with_parent()


def reporter(slot: int) -> Progress | None:
    """In a worker of `run_all`: what records the seconds cut of the source in `slot`."""
    shared = _shared
    if shared is None or slot < 0:
        return None

    def report(seconds: float) -> None:
        shared[slot] = seconds

    return report


def default_workers() -> int:
    """One worker per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_all(
    finish: Callable[[SourceCut], None],
    todo: list[Source],
    root: str,
    vad: VadSettings,
    ffmpeg: str,
    dry_run: bool,
    workers: int | None,
    executor: Executor | None,
    on_progress: Progress | None = None,
) -> None:
    """Cut every source of `todo` in worker processes (or here, for one); `finish` each result.
    `on_progress` is told the seconds of audio cut so far, of all sources together."""
    from .cut import SourceCut, cut_source

    workers = max(1, workers or default_workers())
    if executor is None and (workers == 1 or len(todo) == 1):
        before = 0.0  # the seconds of the sources done
        for source in todo:
            told = (lambda seconds, b=before: on_progress(b + seconds)) if on_progress else None
            result = cut_source(root, source, vad, ffmpeg, not dry_run, progress=told)
            before += result.audio_s
            finish(result)
        return
    own = executor is None
    shared = multiprocessing.Array("d", len(todo), lock=False) if own else None
    pool = executor or ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), initializer=_start_worker, initargs=(shared,)
    )
    futures: dict[Future[SourceCut], Source] = {}
    try:
        # longest first keeps all workers busy to the end
        for slot, source in enumerate(sorted(todo, key=lambda s: -s.duration)):
            futures[pool.submit(cut_source, root, source, vad, ffmpeg, not dry_run, slot if own else -1)] = (
                source
            )
        pending = set(futures)
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            if on_progress and shared is not None:
                on_progress(sum(shared))
            for future in sorted(done, key=lambda f: futures[f].source_id):
                pending.discard(future)
                try:
                    result = future.result()
                except Exception as exc:  # a crashed worker fails its source only
                    result = SourceCut(futures[future].source_id, ok=False, reason=f"worker failed: {exc}")
                finish(result)
    except BaseException:
        for future in futures:
            future.cancel()
        if own:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if own:
        pool.shutdown()

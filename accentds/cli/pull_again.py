"""What `pull --licence/--speaker/--accent` does to sources pulled before: it fills in what
they lack and keeps what they have, with a note naming the `source set` that changes it."""

from __future__ import annotations

from dataclasses import replace

from rich.markup import escape

from ..labels import read_source_defaults, set_source_defaults, validate
from ..pull import PullResult
from ..views import write_manifest
from ..workspace import Workspace
from .shared import err, out


def _pulled_before(results: list[PullResult], known: set[str]) -> set[str]:
    return {
        r.source.source_id
        for r in results
        if r.source is not None and r.status in ("exists", "restored") and r.source.source_id in known
    }


def licence_pulled_before(ws: Workspace, results: list[PullResult], licence: str) -> None:
    """--licence for sources pulled before: given to each that has none; one that has another
    keeps it, and a note says how to change it."""
    wanted = {r.source.source_id for r in results if r.status == "exists" and r.source is not None}
    if not wanted:
        return
    with ws.lock():
        sources = ws.read_sources()
        empty = {s.source_id for s in sources if s.source_id in wanted and not s.licence}
        if empty:
            ws.write_sources([replace(s, licence=licence) if s.source_id in empty else s for s in sources])
            write_manifest(ws)
    for source in sources:
        if source.source_id in empty:
            out.print(f"licence   {source.source_id}  {escape(licence)}")
        elif source.source_id in wanted and source.licence != licence:
            _keeps(source.source_id, "licence", source.licence, licence)


def defaults_of_pulled(
    ws: Workspace, results: list[PullResult], known: set[str], speaker: str | None, accent: str | None
) -> None:
    """--speaker / --accent: the defaults of every source pulled now; a source pulled before
    gets those it has none of, and keeps one it has (a list pulled again with another
    evening's speaker must not relabel the clips of earlier evenings)."""
    given = validate(
        ws.config.labels, {k: v for k, v in (("speaker", speaker), ("accent", accent)) if v is not None}
    )
    if not given:
        return
    before = _pulled_before(results, known)
    had = read_source_defaults(ws)
    done: set[str] = set()
    for result in results:
        if result.source is None or result.status not in ("pulled", "exists", "restored"):
            continue
        sid = result.source.source_id
        if sid in done:
            continue
        done.add(sid)
        if sid not in before:
            set_source_defaults(ws, sid, **given)
            continue
        current = had.get(sid, {})
        empty = {k: v for k, v in given.items() if v and not current.get(k)}
        if empty:
            set_source_defaults(ws, sid, **empty)
            for key, value in empty.items():
                out.print(f"{key:<9} {sid}  {escape(value)}")
        for key, value in given.items():
            if key not in empty and current.get(key, "") != value:
                _keeps(sid, key, current.get(key, ""), value)


def _keeps(sid: str, key: str, kept: str, given: str) -> None:
    """The note for a source that keeps the `key` it has rather than the one given."""
    quoted = f'"{given}"' if any(c.isspace() for c in given) else given
    err.print(
        f"[yellow]note[/]      {sid} keeps its {key} {escape(repr(kept))}; "
        f"`accentds source set {sid} --{key} {escape(quoted)}` changes it"
    )

"""The review page: a local web app to listen to clips and label them from the keyboard.

`create_app` builds the FastAPI app (a JSON API plus one static page); `serve` runs it with
uvicorn, on a loopback port unless told otherwise. The page is static: it fetches JSON and
shows every string with textContent or a form field's value, so nothing from the corpus is
ever parsed as HTML.

The requests it answers are checked first (`guard`: the access token `serve` makes for each
run, the Host header, where a write comes from); `server` runs it.

Writes go through `labels.set_labels` with the version the page loaded, so an edit made
against a clip someone else changed meanwhile is refused (409) with the current values,
never applied over them."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel

from ..errors import AccentdsError, disk_full
from ..files import read_csv
from ..journal import as_table, fold, new_tx_id
from ..labels import LabelConflict, default_reviewer, set_labels
from ..media import BYTES_PER_SAMPLE, excerpt_command, find_ffmpeg, wav_header
from ..mix import decoding
from ..views import QUALITY_FLAGS, build_manifest
from ..workspace import DRAFT_DISMISSED, EDITABLE_FIELDS, Workspace
from .edit import bounds_router, source_window
from .guard import MAX_BODY, Guard, json_error, token_cookie
from .sync import change_routes, data_state

HERE = Path(__file__).resolve().parent
STATIC_FILES = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
STATIC_FILES |= {
    name: STATIC_FILES["page.js"] for name in ("core.js", "queue.js", "clip.js", "save.js", "bounds.js")
}
STATIC_FILES |= {"bounds.css": STATIC_FILES["page.css"]}
CONTEXT_S = 1.0
CONTEXT_RATE = 16000
QUEUE_FIELDS = (
    "clip_id", "source_id", "start", "end", "duration", "status", "transcript", "transcript_is_draft", "transcript_draft",
    "speaker", "accent", "accent_evidence", "note", "version", "title", "reviewer", "updated_at",
    "speech_ratio", "snr_db", "lufs", "clipping_ratio", "bandwidth_hz", "quality_flags", "duplicate_group",
)  # fmt: skip
_CLIP_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


class LabelEdit(BaseModel):
    """The body of a save: the fields to set and the clip version the page loaded."""

    values: dict[str, str]
    version: int


def _queue_row(row: dict[str, Any]) -> dict[str, Any]:
    values = {name: row.get(name) for name in QUEUE_FIELDS}
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}


def _sort_key(row: dict[str, Any]) -> tuple[bool, str, float]:
    return (row["status"] != "pending", row["source_id"], row["start"])


def _wav_bytes(pcm: bytes, rate: int) -> bytes:
    """Mono 16-bit PCM wrapped in a WAV header."""
    return wav_header(len(pcm), rate) + pcm


def _inside(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder.resolve()) and path.is_file()


def create_app(
    workspace: Workspace,
    reviewer: str = "",
    allowed_hosts: Iterable[str] | None = None,
    token: str | None = None,
) -> FastAPI:
    """The review app for `workspace`; edits are recorded under `reviewer` (default:
    $ACCENTDS_REVIEWER, else the login name).

    `allowed_hosts` limits the Host header to these names (`serve` passes the names the
    server is reached by); None accepts any. With `token`, every request must carry it."""
    app = FastAPI(title="accentds review", docs_url=None, redoc_url=None, openapi_url=None)
    schema = workspace.config.labels
    max_body = max(MAX_BODY, 16 * schema.max_transcript_chars)  # the longest transcript, escaped
    app.add_middleware(Guard, allowed_hosts=allowed_hosts, token=token, max_body=max_body)
    reviewer = reviewer or default_reviewer()

    def relative(message: str) -> str:
        """`message` with the workspace's paths made relative to it (a page is never told
        where the workspace lies)."""
        for root in sorted({str(workspace.root), str(workspace.root.resolve())}, key=len, reverse=True):
            message = message.replace(root + "/", "").replace(root, ".")
        return message

    @app.exception_handler(OSError)
    def os_error(_: Request, exc: OSError) -> JSONResponse:
        """A full disk (or another OSError) under a save, a split, a re-cut: one line naming
        the file for the page to show, not a 500 and a traceback in the terminal."""
        named = relative(str(exc.filename)) if exc.filename is not None else ""
        reason = exc.strerror or str(exc) or type(exc).__name__
        full = disk_full(exc)
        advice = ": free some space, then save again" if full else ""
        return json_error(507 if full else 500, f"{reason}{f' ({named})' if named else ''}{advice}")

    @app.exception_handler(AccentdsError)
    def accentds_error(_: Request, exc: AccentdsError) -> JSONResponse:
        """A manifest that cannot be read (a hand edit, git's conflict lines) under any request:
        its one line, with what to do, for the page to show."""
        return json_error(500, relative(str(exc)))

    def manifest_rows() -> list[dict[str, Any]]:
        return build_manifest(workspace).to_pylist()

    def clip_rows(clip_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The queue rows of a few clips, their labels folded from their journal lines only."""
        ids = list(dict.fromkeys(clip_ids))
        if not ids:
            return []
        journal = workspace.journal()
        records = journal.for_clips(ids) if len(ids) <= 64 else journal.transactions()
        labels = as_table(fold(records, set(ids)), [*EDITABLE_FIELDS, DRAFT_DISMISSED])
        table = build_manifest(workspace, labels)
        table = table.filter(pc.is_in(table["clip_id"], value_set=pa.array(ids, pa.string())))
        return [_queue_row(row) for row in table.to_pylist()]

    def clip_row(clip_id: str) -> dict[str, Any] | None:
        rows = clip_rows([clip_id])
        return rows[0] if rows else None

    def clip_path(clip_id: str) -> str | None:
        """The workspace-relative path of a clip named in clips.parquet, else None."""
        if not _CLIP_ID.fullmatch(clip_id):
            return None
        table = workspace.read_clip_table(columns=["clip_id", "path"])
        table = table.filter(pc.equal(table["clip_id"], clip_id))
        return table["path"][0].as_py() if table.num_rows else None

    def not_found(clip_id: str) -> JSONResponse:
        return json_error(404, "no such clip")

    # -- the page -----------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> Response:
        html = (HERE / "page.html").read_text(encoding="utf-8")
        headers = {"Cache-Control": "no-store"}
        if token is not None:  # the guard let the request in: it holds the token
            meta = f'<meta name="accentds-token" content="{token}">'
            html = html.replace("<head>", "<head>\n" + meta, 1)
            headers["Set-Cookie"] = f"{token_cookie(token)}={token}; Path=/; HttpOnly; SameSite=Strict"
        return Response(html, media_type="text/html; charset=utf-8", headers=headers)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return json_error(404, "not found")
        body = (HERE / name).read_bytes()
        return Response(body, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    # -- the queue ----------------------------------------------------------------
    @app.get("/api/queue")
    def queue(
        status: str = "", source: str = "", accent: str = "", speaker: str = "", flag: str = ""
    ) -> JSONResponse:
        """Clips to review, pending first, then by source and start, with progress and schema.

        Progress counts the clips matching the source, accent, speaker and quality-flag
        filters (the status filter only narrows the list)."""
        state = data_state(workspace)
        rows = manifest_rows()
        in_use = {r["speaker"] for r in rows if r["speaker"]}
        sources: dict[str, str] = {}
        for row in rows:
            sources.setdefault(row["source_id"], row["title"] or "")
        scoped = [
            r
            for r in rows
            if (not source or r["source_id"] == source)
            and (not accent or r["accent"] == accent)
            and (not speaker or r["speaker"] == speaker)
            and (not flag or flag in (r["quality_flags"] or "").split())
        ]
        shown = sorted((r for r in scoped if not status or r["status"] == status), key=_sort_key)
        reviewed = sum(1 for r in scoped if r["status"] != "pending")
        accepted_s = sum(r["duration"] for r in scoped if r["status"] == "accepted")
        body = {
            "clips": [_queue_row(r) for r in shown],
            "progress": {
                "reviewed": reviewed,
                "total": len(scoped),
                "accepted": sum(1 for r in scoped if r["status"] == "accepted"),
                "rejected": sum(1 for r in scoped if r["status"] == "rejected"),
                "accepted_minutes": round(accepted_s / 60, 3),
            },
            "schema": {
                "accents": list(schema.accents),
                "accent_evidence": list(schema.accent_evidence),
                "statuses": list(schema.statuses),
                "flags": list(QUALITY_FLAGS),
                "speakers": [*schema.speakers, *sorted(in_use - set(schema.speakers))],
                "fields": list(EDITABLE_FIELDS),
            },
            "sources": [{"source_id": k, "title": v} for k, v in sorted(sources.items())],
            "reviewer": reviewer,
            "corpus": workspace.config.name,
            "state": state,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    # -- audio ----------------------------------------------------------------------
    @app.get("/api/clip/{clip_id}/audio", response_model=None)
    def audio(clip_id: str) -> Response:
        """The clip's WAV file; only clips of clips.parquet whose file lies in clips/."""
        rel = clip_path(clip_id)
        if rel is None:
            return not_found(clip_id)
        path = workspace.abs(rel).resolve()
        if path.is_relative_to(workspace.clips.resolve()) and not path.exists():
            return json_error(
                404, f"the clip file {rel} is missing: run `accentds doctor` to cut it again from its source"
            )
        if not _inside(path, workspace.clips):
            return not_found(clip_id)
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-cache"})

    @app.get("/api/clip/{clip_id}/context", response_model=None)
    def context(clip_id: str, pad: float = CONTEXT_S) -> Response:
        """The clip with `pad` s (default 1, at most 10) of its source before and after, as far
        as the source goes, decoded from raw/."""
        if clip_path(clip_id) is None:
            return not_found(clip_id)
        row = clip_row(clip_id)
        sources = {r["source_id"]: r for r in read_csv(workspace.sources_csv)}
        source = sources.get(row["source_id"]) if row else None
        if row is None or source is None:
            return not_found(clip_id)
        placed = source_window(workspace, clip_id, row, source, pad)
        if isinstance(placed, JSONResponse):
            return placed
        media, begin, end = placed
        try:
            ffmpeg = find_ffmpeg(workspace.config.ffmpeg)
        except AccentdsError:
            return json_error(500, "ffmpeg is not available to decode the context: run `accentds doctor`")
        command = excerpt_command(ffmpeg, media, CONTEXT_RATE, begin, end - begin, decoding(media, ffmpeg))
        try:
            done = subprocess.run(command, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return json_error(504, "ffmpeg took too long to decode the context")
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = relative(lines[-1]) if lines else "no message"
            where = relative(str(media))
            return json_error(502, f"ffmpeg could not decode the source {where}: {reason}")
        samples = round((end - begin) * CONTEXT_RATE)
        pcm = done.stdout[: samples * BYTES_PER_SAMPLE]
        return Response(
            _wav_bytes(pcm, CONTEXT_RATE),
            media_type="audio/wav",
            headers={"Cache-Control": "no-cache", "X-Context-Start": f"{begin:.3f}"},
        )

    # -- saving labels ------------------------------------------------------------
    @app.post("/api/clip/{clip_id}/labels", response_model=None)
    def save(clip_id: str, edit: LabelEdit) -> JSONResponse:
        """Set label fields of one clip, refused (409) if the clip changed since `version`."""
        if clip_path(clip_id) is None:
            return not_found(clip_id)
        tx = new_tx_id()
        try:
            changed = set_labels(
                workspace, [clip_id], edit.values, reviewer, expected_version=edit.version, tx_id=tx
            )
        except LabelConflict as exc:
            current = clip_row(clip_id) or {}
            return json_error(
                409, relative(str(exc)), current=current, version=current.get("version", exc.version)
            )
        except AccentdsError as exc:
            return json_error(400, relative(str(exc)))
        row = clip_row(clip_id)
        if row is None:  # re-cut away meanwhile
            return not_found(clip_id)
        # `tx` names the recorded change for an undo (empty when nothing changed)
        body = {**row, "tx": tx if changed else "", "state": data_state(workspace)}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    # -- the boundary editor (accentds.review.edit) ----------------------------------
    app.include_router(bounds_router(workspace, reviewer, clip_row))
    app.include_router(change_routes(workspace, reviewer, clip_rows, lambda cid: clip_path(cid) is not None))
    return app

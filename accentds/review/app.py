"""The review page: a local web app to listen to clips and label them from the keyboard.

`create_app` builds the FastAPI app (a JSON API plus one static page); `serve` runs it with
uvicorn, on a loopback port unless told otherwise. The page is static: it fetches JSON and
shows every string with textContent or a form field's value, so nothing from the corpus is
ever parsed as HTML.

`serve` makes an access token for each run and prints it once, in the page's address. Every
request must carry it: the page's first load has it in the address and gets it back as a
cookie (which the audio element sends) and in the HTML (which the page sends as the
`X-Accentds-Token` header); a write must send the header. So another local process, a page
of another site or a DNS-rebinding page cannot read clips or write labels.

Writes go through `labels.set_labels` with the version the page loaded, so an edit made
against a clip someone else changed meanwhile is refused (409) with the current values,
never applied over them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
import secrets
import socket
import subprocess
import threading
import webbrowser
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AccentdsError
from ..journal import as_table, fold, new_tx_id
from ..labels import LabelConflict, default_reviewer, set_labels
from ..media import BYTES_PER_SAMPLE, excerpt_command, find_ffmpeg, wav_header
from ..views import QUALITY_FLAGS, build_manifest
from ..workspace import DRAFT_DISMISSED, EDITABLE_FIELDS, Workspace, read_csv
from .edit import bounds_router, source_window
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
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; media-src 'self'; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_HEADER = "x-accentds-token"
MAX_BODY = 1 << 20  # bytes of a write, at least (a page sends a few hundred)
_CLIP_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LabelEdit(BaseModel):
    """The body of a save: the fields to set and the clip version the page loaded."""

    values: dict[str, str]
    version: int


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": message, **extra}, status_code=status, headers={"Cache-Control": "no-store"}
    )


def _host_name(host_header: str) -> str:
    """The host name of a Host header value, without the port ("[::1]:80" -> "::1")."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0].lower()
    return host_header.rsplit(":", 1)[0].lower() if host_header.count(":") == 1 else host_header.lower()


def token_cookie(token: str) -> str:
    """The name of the cookie holding `token` (one per token: two servers on one machine
    share cookies, whatever their ports)."""
    return "accentds_" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _query_token(query: bytes) -> str:
    for pair in query.decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if name == "token":
            return value
    return ""


class _Guard:
    """Security headers on every response; requests without the token or from other sites
    refused.

    With `token`, a request must carry it: a write in the `X-Accentds-Token` header, a read
    in that header, the page's cookie or (to open the page) the `token` query parameter.
    A write must be `Content-Type: application/json` (a cross-site form cannot send that
    without a CORS preflight, which this app never answers) and, when the browser names its
    Origin, come from this server's own origin. With `allowed_hosts`, a Host header naming
    any other host is refused, so a DNS-rebinding page cannot read the API either."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Iterable[str] | None = None,
        token: str | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None
        self.token = token
        self.max_body = max_body

    def _has_token(self, method: str, headers: Headers, query: bytes) -> bool:
        assert self.token is not None
        given = [headers.get(TOKEN_HEADER, "")]
        if method in _SAFE_METHODS:
            cookies = (c.strip().partition("=") for h in headers.getlist("cookie") for c in h.split(";"))
            name = token_cookie(self.token)
            given += [value for key, _, value in cookies if key == name]
            given.append(_query_token(query))
        return any(g and hmac.compare_digest(g.encode(), self.token.encode()) for g in given)

    def _problem(self, method: str, path: str, headers: Headers, query: bytes) -> Response | None:
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            return _error(
                400, "unknown Host header: open the review page by the address `accentds review` printed"
            )
        if self.token is not None and not self._has_token(method, headers, query):
            message = (
                "this review page needs its access token: open the address `accentds review` "
                "printed (it ends in ?token=...)"
            )
            if path == "/":  # a person opening the page
                return Response(message + "\n", status_code=401, media_type="text/plain; charset=utf-8")
            return _error(401, message)
        if method in _SAFE_METHODS:
            return None
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return _error(415, "writes must be sent as application/json")
        length = headers.get("content-length", "")
        if not length.isdigit():
            return _error(411, "a write must give its Content-Length")
        if int(length) > self.max_body:
            return _error(413, f"a write may hold {self.max_body:,} bytes at most")
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return _error(403, "refused: this request came from another site")
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return _error(403, "refused: this request came from another site")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        query = scope.get("query_string", b"")
        problem = self._problem(scope["method"], scope["path"], Headers(scope=scope), query)
        if problem is not None:
            await problem(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)


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
    app.add_middleware(_Guard, allowed_hosts=allowed_hosts, token=token, max_body=max_body)
    reviewer = reviewer or default_reviewer()

    def relative(message: str) -> str:
        """`message` with the workspace's paths made relative to it (a page is never told
        where the workspace lies)."""
        for root in sorted({str(workspace.root), str(workspace.root.resolve())}, key=len, reverse=True):
            message = message.replace(root + "/", "").replace(root, ".")
        return message

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
        return _error(404, "no such clip")

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
            return _error(404, "not found")
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
            return _error(500, "ffmpeg is not available to decode the context: run `accentds doctor`")
        command = excerpt_command(ffmpeg, media, CONTEXT_RATE, begin, end - begin)
        try:
            done = subprocess.run(command, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return _error(504, "ffmpeg took too long to decode the context")
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = relative(lines[-1]) if lines else "no message"
            where = relative(str(media))
            return _error(502, f"ffmpeg could not decode the source {where}: {reason}")
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
            return _error(
                409, relative(str(exc)), current=current, version=current.get("version", exc.version)
            )
        except AccentdsError as exc:
            return _error(400, relative(str(exc)))
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


# -- serving ---------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn's server telling when it listens and stopping when `stop` is set."""

    def __init__(
        self, config: uvicorn.Config, ready: Callable[[], None], stop: threading.Event | None
    ) -> None:
        super().__init__(config)
        self._ready = ready
        self._stop = stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._ready()

    async def on_tick(self, counter: int) -> bool:
        if self._stop is not None and self._stop.is_set():
            self.should_exit = True
        return await super().on_tick(counter)


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise AccentdsError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise AccentdsError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (pick another --port, or 0 for any free one)"
        ) from None
    return sock


def _own_addresses() -> list[str]:
    """This machine's host names and addresses, as far as it knows them: the names a page
    served on every address may be reached by."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        with suppress(OSError):
            names |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        with suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))  # no packet is sent: this only picks the outgoing address
            names.add(udp.getsockname()[0])
    return sorted(n.lower() for n in names if n)


def _url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def _outgoing(addresses: list[str], family: int) -> str | None:
    """The address of `addresses` others most likely reach this machine by."""
    found = []
    for name in addresses:
        with suppress(ValueError):
            address = ipaddress.ip_address(name)
            if not address.is_loopback and not address.is_link_local:
                found.append(address)
    found.sort(key=lambda a: (a.version != (4 if family == socket.AF_INET else 6), a.version))
    return str(found[0]) if found else None


def serve(
    workspace: Workspace,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    reviewer: str = "",
    on_ready: Callable[[str], None] | None = None,
    *,
    allow_remote: bool = False,
    stop: threading.Event | None = None,
    on_listen: Callable[[str], None] | None = None,
) -> None:
    """Serve the review page until Ctrl-C (or until `stop` is set).

    `port` 0 picks a free port. Once the server listens, `on_listen` is told the address it
    listens on ("127.0.0.1:8765", "0.0.0.0:8765") and `on_ready` the page's address, which
    holds this run's access token; the page opens in the default browser if `open_browser`.
    A host other than a loopback address is refused unless `allow_remote` is given."""
    if not is_loopback(host) and not allow_remote:
        raise AccentdsError(
            f"refusing to serve the review page on {host}: anyone who can reach that address "
            "and learns the page's address could read the clips and edit the labels. Serve on "
            "127.0.0.1 (the default), or add --allow-remote to serve it on the network"
        )
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    token = secrets.token_urlsafe(24)
    if ipaddress.ip_address(bound_host).is_unspecified:
        names = _own_addresses()
        allowed = [*LOOPBACK_NAMES, *names]
        shown = _outgoing(names, sock.family) or socket.gethostname()
    else:
        allowed = [*LOOPBACK_NAMES, host.lower(), bound_host]
        shown = bound_host
    listening = f"[{bound_host}]:{bound_port}" if ":" in bound_host else f"{bound_host}:{bound_port}"
    url = _url(shown, bound_port, token)
    app = create_app(workspace, reviewer=reviewer, allowed_hosts=allowed, token=token)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", loop="asyncio", server_header=False
    )

    def ready() -> None:
        if on_listen is not None:
            on_listen(listening)
        if on_ready is not None:
            on_ready(url)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    server = _Server(config, ready, stop)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

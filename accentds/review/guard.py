"""What guards the review page: security headers on every response, and requests refused
unless they carry the run's access token, name this server's host and, for a write, come from
the page itself.

`serve` makes an access token for each run and prints it once, in the page's address. Every
request must carry it: the page's first load has it in the address and gets it back as a
cookie (which the audio element sends) and in the HTML (which the page sends as the
`X-Accentds-Token` header); a write must send the header. So another local process, a page
of another site or a DNS-rebinding page cannot read clips or write labels."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def json_error(status: int, message: str, **extra: Any) -> JSONResponse:
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


class Guard:
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
            return json_error(
                400, "unknown Host header: open the review page by the address `accentds review` printed"
            )
        if self.token is not None and not self._has_token(method, headers, query):
            message = (
                "this review page needs its access token: open the address `accentds review` "
                "printed (it ends in ?token=...)"
            )
            if path == "/":  # a person opening the page
                return Response(message + "\n", status_code=401, media_type="text/plain; charset=utf-8")
            return json_error(401, message)
        if method in _SAFE_METHODS:
            return None
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return json_error(415, "writes must be sent as application/json")
        length = headers.get("content-length", "")
        if not length.isdigit():
            return json_error(411, "a write must give its Content-Length")
        if int(length) > self.max_body:
            return json_error(413, f"a write may hold {self.max_body:,} bytes at most")
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return json_error(403, "refused: this request came from another site")
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return json_error(403, "refused: this request came from another site")
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


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

"""Serving the review page: uvicorn on a loopback port unless told otherwise, with this
run's access token in the address it prints."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import webbrowser
from collections.abc import Callable
from contextlib import suppress

import uvicorn

from ..errors import AccentdsError
from ..workspace import Workspace
from .app import create_app
from .guard import LOOPBACK_NAMES, is_loopback


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

"""One spelling of a web address, so that the ways of typing it name one source."""

from __future__ import annotations

import re
import string
from urllib.parse import quote, urlsplit, urlunsplit

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_RESERVED = ":/?#[]@!$&'()*+,;="
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _requote(text: str) -> str:
    """`text` with unreserved characters unescaped (`%7E` is `~`), other escapes in upper case
    (`%2f` is `%2F`), and what may not stand in an address escaped (a space is `%20`, `é` is
    `%C3%A9`). Reserved characters keep their form: `/` and `%2F` differ."""
    fixed = _ESCAPE.sub(
        lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED else m[0].upper(), text
    )
    return quote(fixed, safe=_RESERVED + "%")


def _host(netloc: str, scheme: str) -> str:
    """The address's user, host and port: the host in lower case, the scheme's default port
    left out."""
    user, at, hostport = netloc.rpartition("@")
    match = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d*))?", hostport)
    if not match:
        return netloc
    host, port = match[1].lower(), match[2]
    if port in ("", _DEFAULT_PORTS.get(scheme)):
        port = None
    return f"{_requote(user)}{at}{host}" + (f":{port}" if port is not None else "")


def normalise_url(url: str) -> str:
    """The one spelling of an http(s) URL that identifies its source: scheme and host in
    lower case, no default port, `/` for an empty path, percent-escapes as RFC 3986 section 6
    has them. `https://H/a b` and `https://h:443/a%20b` are both `https://h/a%20b`. What
    does not parse as a URL is returned as it is."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return url
    return urlunsplit(
        (
            scheme,
            _host(parts.netloc, scheme),
            _requote(parts.path) or "/",
            _requote(parts.query),
            _requote(parts.fragment),
        )
    )

"""Who a release names: speakers appear as stable ids, never as names, unless
`[publish] speaker_names = true` (given every speaker's consent).

A speaker's id is `spk-` and the start of an HMAC-SHA256 of the name keyed with the
workspace's salt, manifests/speaker_salt.txt: tracked with the manifests, so a clone gives
the same ids, and never published, so nobody can recompute an id from a name they guess.
A denied speaker is named by such an id even where names are published; the deny list
matches a name whatever its case ("Anna" keeps "anna" out too)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from .workspace import Workspace

SALT_FILE = "speaker_salt.txt"
ID_PREFIX = "spk-"
ID_HEX = 12


def salt_path(workspace: Workspace) -> Path:
    return workspace.manifests / SALT_FILE


_UNSAVED: dict[Path, bytes] = {}  # workspace -> the salt of a dry run that could not write one


def salt(workspace: Workspace) -> bytes:
    """The workspace's salt, made (under the lock) the first time it is needed. A workspace that
    cannot be written and has none yet (a dry run on a read-only mount) gets one for this run
    only: the ids it shows are not those the first publish gives."""
    path = salt_path(workspace)
    if not path.exists() and not workspace.can_write():
        return _UNSAVED.setdefault(path, secrets.token_hex(32).encode("ascii"))
    if not path.exists():
        with workspace.lock():
            if not path.exists():
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
                tmp.replace(path)
    return path.read_text(encoding="utf-8").strip().encode("ascii")


def speaker_key(name: str) -> str:
    """A speaker's name as the deny list matches it: case and spacing aside ("Anna" is "anna")."""
    return " ".join(name.split()).casefold()


def speaker_id(key: bytes, name: str) -> str:
    """The stable, salted id of a speaker's name."""
    return ID_PREFIX + hmac.new(key, name.encode("utf-8"), hashlib.sha256).hexdigest()[:ID_HEX]


def publisher(workspace: Workspace, denied: set[str] | frozenset[str] = frozenset()) -> Callable[[str], str]:
    """How a speaker is named in a release: their id, or their name where the settings allow
    it and they are not denied (in any case). An empty name stays empty."""
    key = salt(workspace)
    names = workspace.config.publish.speaker_names
    folded = {speaker_key(name) for name in denied}

    def public(name: str) -> str:
        if not name:
            return ""
        return name if names and speaker_key(name) not in folded else speaker_id(key, name)

    return public

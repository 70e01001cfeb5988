"""Licences: SPDX ids checked against a known list, what a release's clips allow together,
and the attribution each source's licence asks for.

A source's licence is an SPDX id (`CC-BY-4.0`), or `other` with a name and a link kept in
manifests/attribution.csv beside the author, title and address that attribution needs.
The card's `license` is what the clips' licences give together: one id, a list where they
differ, `unknown` when a clip has no known licence; ShareAlike with NonCommercial, and
NoDerivatives at all (a clip is a cut of the recording), cannot be published."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import AccentdsError
from .files import now_iso, read_csv, write_csv_atomic
from .workspace import Workspace

OTHER = "other"
ATTRIBUTION_FIELDS = ["source_id", "author", "title", "url", "licence_name", "licence_url", "updated_at"]


@dataclass(frozen=True)
class Licence:
    """A licence accentds knows: its SPDX id, the Hub's id, and what it asks."""

    spdx: str
    hub: str
    url: str
    attribution: bool = True
    share_alike: bool = False
    non_commercial: bool = False
    no_derivatives: bool = False


def _cc(spdx: str, version: str) -> Licence:
    parts = spdx.removeprefix("CC-").removesuffix(f"-{version}").lower()
    return Licence(
        spdx,
        spdx.lower(),
        f"https://creativecommons.org/licenses/{parts}/{version}/",
        share_alike="SA" in spdx.split("-"),
        non_commercial="NC" in spdx.split("-"),
        no_derivatives="ND" in spdx.split("-"),
    )


KNOWN: dict[str, Licence] = {
    "CC0-1.0": Licence(
        "CC0-1.0", "cc0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/", attribution=False
    ),
    "PDDL-1.0": Licence(
        "PDDL-1.0", "pddl", "https://opendatacommons.org/licenses/pddl/1-0/", attribution=False
    ),
    **{
        spdx: _cc(spdx, version)
        for version in ("3.0", "4.0")
        for kind in ("BY", "BY-SA", "BY-NC", "BY-NC-SA", "BY-ND", "BY-NC-ND")
        for spdx in [f"CC-{kind}-{version}"]
    },
    **{spdx: _cc(spdx, "2.0") for spdx in ("CC-BY-2.0", "CC-BY-NC-2.0", "CC-BY-NC-SA-2.0")},
}
# how other tools spell them: YouTube's "Creative Commons" is CC BY 3.0
ALIASES = {"creative commons attribution license (reuse allowed)": "CC-BY-3.0"}


def normalise(text: str) -> str | None:
    """The SPDX id (or `other`) a licence name stands for; None when unknown or empty."""
    clean = " ".join((text or "").split())
    if not clean:
        return None
    if clean.lower() == OTHER:
        return OTHER
    by_lower = {k.lower(): k for k in KNOWN}
    return by_lower.get(clean.lower()) or ALIASES.get(clean.lower())


def known_list() -> str:
    return ", ".join(
        ["CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0"]
    )


def check(text: str) -> str:
    """The SPDX id of a licence a user gives, or an error listing what is known."""
    found = normalise(text)
    if found is None:
        raise AccentdsError(
            f"unknown licence {text!r}: give an SPDX id such as {known_list()} (any CC 2.0/3.0/4.0 "
            "or PDDL-1.0), or `other` with --licence-name and --licence-url"
        )
    return found


# -- attribution -------------------------------------------------------------------------
def attribution_csv(workspace: Workspace) -> Path:
    """manifests/attribution.csv: author, title and address of sources, and `other` licences."""
    return workspace.manifests / "attribution.csv"


def _attribution_rows(workspace: Workspace) -> list[tuple[int, dict[str, str]]]:
    """The rows of manifests/attribution.csv that name a source, with their line numbers."""
    rows = enumerate(read_csv(attribution_csv(workspace)), start=2)
    return [(line, row) for line, row in rows if row.get("source_id")]


def read_attribution(workspace: Workspace) -> dict[str, dict[str, str]]:
    """The attribution recorded for each source, by source id. A second row for a source (a
    hand edit, a merge) is refused with its line: which credit a release gives would be a guess."""
    path = attribution_csv(workspace)
    found: dict[str, dict[str, str]] = {}
    first: dict[str, int] = {}
    for line, row in _attribution_rows(workspace):
        source_id = row["source_id"]
        if source_id in found:
            raise AccentdsError(
                f"{path} line {line}: a second row for source {source_id!r} (the first is line "
                f"{first[source_id]}), so which credit holds is unclear: keep the right one and delete the other"
            )
        found[source_id], first[source_id] = row, line
    return found


def attribution_warnings(workspace: Workspace) -> list[str]:
    """One warning per row of manifests/attribution.csv naming a source the workspace does not
    hold (a typo, a source pulled elsewhere): its credit is never used."""
    path = attribution_csv(workspace)
    known = {s.source_id for s in workspace.read_sources()}
    return [
        f"{path} line {line}: {row['source_id']!r} is not a source of this workspace, so its credit is "
        "not used: correct the id (`accentds status --sources` lists them) or delete the row"
        for line, row in _attribution_rows(workspace)
        if row["source_id"] not in known
    ]


def set_attribution(workspace: Workspace, source_id: str, values: Mapping[str, str | None]) -> dict[str, str]:
    """Record a source's author, title, url, licence_name or licence_url (None: unchanged)."""
    given = {k: " ".join(v.split()) for k, v in values.items() if v is not None}
    for key in ("url", "licence_url"):
        if given.get(key) and not given[key].startswith(("https://", "http://")):
            raise AccentdsError(f"--{key.replace('_', '-')} must be a web address starting with https://")
    with workspace.lock():
        if source_id not in {s.source_id for s in workspace.read_sources()}:
            raise AccentdsError(f"unknown source id {source_id!r}; `accentds status --sources` lists them")
        rows = read_attribution(workspace)
        row = dict.fromkeys(ATTRIBUTION_FIELDS, "") | rows.get(source_id, {}) | given
        row |= {"source_id": source_id, "updated_at": now_iso()}
        rows[source_id] = row
        write_csv_atomic(
            attribution_csv(workspace),
            ATTRIBUTION_FIELDS,
            sorted(rows.values(), key=lambda r: r["source_id"]),
        )
    return row


def _info(workspace: Workspace, source_id: str) -> dict[str, object]:
    try:
        data = json.loads((workspace.raw / source_id / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Credit:
    """What a release says about one source: its licence and who to credit."""

    source_id: str
    licence: str  # SPDX id, `other`, or "" when unknown
    title: str
    author: str
    url: str
    licence_name: str = ""
    licence_url: str = ""

    @property
    def needs_attribution(self) -> bool:
        known = KNOWN.get(self.licence)
        return self.licence == OTHER or bool(known and known.attribution)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def missing(self) -> str:
        """What a credit lacks: it names the author and a title or page address. "author",
        "title or url", "author, title or url", or "" when complete."""
        lacks = ([] if self.author else ["author"]) + ([] if self.title or self.url else ["title or url"])
        return ", ".join(lacks)


def credits(workspace: Workspace, source_ids: Iterable[str]) -> dict[str, Credit]:
    """Each source's licence and attribution: what `source set` recorded, else (for a
    downloaded video) its info.json (title, uploader or channel, page address). A local
    file's name is never used: it may be private."""
    recorded = read_attribution(workspace)
    sources = {s.source_id: s for s in workspace.read_sources()}
    found = {}
    for source_id in sorted(set(source_ids)):
        source = sources[source_id]
        given = recorded.get(source_id, {})
        info = _info(workspace, source_id) if source.kind == "url" else {}
        url_title = str(info.get("title") or source.title) if source.kind == "url" else ""
        url_author = (
            str(info.get("uploader") or info.get("channel") or source.uploader)
            if source.kind == "url"
            else ""
        )
        url_page = str(info.get("webpage_url") or source.origin) if source.kind == "url" else ""
        found[source_id] = Credit(
            source_id,
            normalise(source.licence) or "",
            given.get("title") or url_title,
            given.get("author") or url_author,
            given.get("url") or url_page,
            given.get("licence_name", ""),
            given.get("licence_url", ""),
        )
    return found


# -- what the clips' licences give together -----------------------------------------------
def combine(licences: Iterable[str]) -> list[str]:
    """The distinct licences of a release's clips (SPDX ids or `other`), sorted; refused with
    the reason when they cannot be published together."""
    ids = sorted(set(licences))
    details = [KNOWN[i] for i in ids if i in KNOWN]
    derivatives = [lic.spdx for lic in details if lic.no_derivatives]
    if derivatives:
        raise AccentdsError(
            f"{', '.join(derivatives)} forbid sharing adaptations, and a clip cut from a recording with its "
            "transcript is one: remove them from [publish] allowed_licences (or deny those sources)"
        )
    share_alike = [lic.spdx for lic in details if lic.share_alike and not lic.non_commercial]
    non_commercial = [lic.spdx for lic in details if lic.non_commercial]
    if share_alike and non_commercial:
        raise AccentdsError(
            f"ShareAlike ({', '.join(share_alike)}) and NonCommercial ({', '.join(non_commercial)}) clips cannot "
            "be published together: ShareAlike requires the same licence, which allows commercial use. Publish "
            "them as separate datasets: remove one kind from [publish] allowed_licences, or deny those sources"
        )
    return ids


def card_licence(licences: list[str], credits_: Mapping[str, Credit], unlicensed: bool) -> dict[str, object]:
    """The card's YAML licence fields for the licences `combine` gave."""
    if unlicensed or not licences:
        return {"license": "unknown"}
    hub = [KNOWN[i].hub if i in KNOWN else OTHER for i in licences]
    fields: dict[str, object] = {"license": hub[0] if len(hub) == 1 else hub}
    others = [c for c in credits_.values() if c.licence == OTHER]
    if others:
        names = sorted({c.licence_name or "unnamed licence" for c in others})
        fields["license_name"] = "; ".join(names)
        links = sorted({c.licence_url for c in others if c.licence_url})
        if len(links) == 1:
            fields["license_link"] = links[0]
    return fields

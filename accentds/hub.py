"""Publish a built release folder to a Hugging Face Hub dataset repository.

One release becomes one commit on the repo's main branch (its files uploaded, shards of
earlier releases under ``data/`` deleted in the same commit) and one tag named after the
version on that commit, so ``load_dataset(repo_id, revision=version)`` gets exactly it.

Nothing here reads a token: ``HfApi(token=None)`` finds ``HF_TOKEN`` or the login saved by
``hf auth login`` itself. ``huggingface_hub`` is imported only when the Hub is contacted, so a
dry run (``api=None``) works without it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AccentdsError
from .formats import RELEASE_JSON, Release, read_release, verify_release
from .words import counted

if TYPE_CHECKING:
    from huggingface_hub import HfApi

REPO_TYPE = "dataset"
DATA_PREFIX = "data/"
DELETE_PATTERNS = ["data/*"]  # matched on the Hub at commit time; files being uploaded are never deleted
REPO_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
SEMVER_RE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
LOGIN_HINT = "log in with `hf auth login` or set HF_TOKEN to a token with write access"


@dataclass(frozen=True)
class PlannedFile:
    path: str  # path in the repo, as in the release folder
    size: int


@dataclass(frozen=True)
class PushPlan:
    """What `push` would do. Remote fields are None when the Hub was not asked (dry run)."""

    release_dir: Path
    repo_id: str
    version: str
    tag: str
    commit_message: str
    files: list[PlannedFile]
    delete_patterns: list[str]
    endpoint: str
    repo_exists: bool | None = None
    stale: list[str] | None = None  # files under data/ on the Hub's main branch not in this release
    tags: list[str] | None = None  # tags already on the repo
    gated: str = ""  # "auto" or "manual": access requests the repo is set to ask for

    @property
    def remote_known(self) -> bool:
        return self.repo_exists is not None

    @property
    def create_repo(self) -> bool | None:
        """True if the repo will be created, False if it exists, None if unknown."""
        return None if self.repo_exists is None else not self.repo_exists

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def url(self) -> str:
        return f"{self.endpoint}/datasets/{self.repo_id}"


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    version: str
    tag: str
    commit_oid: str
    commit_url: str
    url: str
    created_repo: bool
    uploaded: int  # files in the release (unchanged ones are skipped by the Hub)
    deleted: list[str]  # stale shards seen before the push (deleted by the commit)


def _endpoint(api: Any = None) -> str:
    endpoint = getattr(api, "endpoint", None) if api is not None else None
    if not isinstance(endpoint, str) or not endpoint:
        endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    return endpoint.rstrip("/")


def _check_repo_id(repo_id: str) -> None:
    """Refuse a name the Hub would refuse, with huggingface_hub's own rules when it is installed
    (no '-' or '.' at either end, at most 96 characters, no '.git' at the end)."""
    usage = "use ORG/NAME (or USER/NAME), letters, digits, '-', '_' and '.' only"
    if not REPO_ID_RE.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise AccentdsError(f"{repo_id!r} is not a Hub dataset name: {usage}")
    try:
        from huggingface_hub.errors import HFValidationError
        from huggingface_hub.utils import validate_repo_id
    except ImportError:
        return
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise AccentdsError(f"{repo_id!r} is not a Hub dataset name ({exc}): {usage}") from None


def _auth(token: str | None) -> dict[str, str]:
    """Per-call token only when one was given; otherwise the api's own (HF_TOKEN, saved login)."""
    return {"token": token} if token is not None else {}


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


@contextmanager
def hub_errors(doing: str, repo_id: str, upload: bool = False) -> Iterator[None]:
    """Turn huggingface_hub's and the network's errors into an AccentdsError saying what to do.

    An upload that breaks off raises a RuntimeError: huggingface_hub wraps the network error
    of an LFS upload in one, and hf_xet raises its own. With `upload`, the error it wraps is
    named when known, else the RuntimeError's message, with the advice to run the push again."""
    try:
        yield
    except AccentdsError:
        raise
    except Exception as exc:
        mapped = _map_error(exc, doing, repo_id)
        cause = exc.__cause__
        while mapped is None and isinstance(exc, RuntimeError) and isinstance(cause, Exception):
            mapped, cause = _map_error(cause, doing, repo_id), cause.__cause__
        if mapped is None and upload and isinstance(exc, RuntimeError):
            first = (str(exc).splitlines() or [""])[0]
            mapped = AccentdsError(
                f"{doing} {repo_id} failed: the upload did not finish ({type(exc).__name__}: {first}); "
                "check the network and run the push again (files already uploaded are not sent twice)"
            )
        if mapped is None:
            raise
        raise mapped from exc


def _map_error(exc: Exception, doing: str, repo_id: str) -> AccentdsError | None:
    from huggingface_hub import errors as hf_errors

    where = f"{doing} {repo_id} failed"
    if isinstance(exc, hf_errors.LocalTokenNotFoundError):
        return AccentdsError(f"{where}: no Hugging Face token found; {LOGIN_HINT}")
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return AccentdsError(f"{where}: HF_HUB_OFFLINE is set; unset it to reach the Hub, or use --dry-run")
    if isinstance(exc, hf_errors.HFValidationError):
        return AccentdsError(f"{where}: {exc}")
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return AccentdsError(
            f"{where}: the Hub says the dataset repo does not exist or this token may not see it; "
            f"check the name, and {LOGIN_HINT}"
        )
    if isinstance(exc, hf_errors.HfHubHTTPError):
        status = _status(exc)
        detail = getattr(exc, "server_message", None) or str(exc).splitlines()[0]
        if status == 401:
            return AccentdsError(f"{where}: the Hub refused the token (401); {LOGIN_HINT}")
        if status == 403:
            return AccentdsError(
                f"{where}: this token may not write to {repo_id.split('/')[0]} (403); {LOGIN_HINT}"
            )
        if status == 409:
            return AccentdsError(
                f"{where}: conflict on the Hub (409: {detail}); check the repo and try again"
            )
        if status == 429 or (status is not None and status >= 500):
            return AccentdsError(f"{where}: the Hub is busy or failing ({status}: {detail}); try again later")
        return AccentdsError(f"{where}: the Hub answered {status}: {detail}")
    # network failures: the HTTP client's own errors (HfHubHTTPError's base: httpx2's HTTPError)
    transport = getattr(hf_errors, "HTTPError", ConnectionError)
    if isinstance(exc, (ConnectionError, TimeoutError, transport)):
        return AccentdsError(
            f"{where}: could not reach the Hub ({type(exc).__name__}: {exc}); "
            f"check the network and try again, or use --dry-run"
        )
    return None


def check_can_push(repo_id: str, token: str | None = None) -> None:
    """Refuse, before a release is built or the Hub contacted, a repo name the Hub would refuse
    and a push with no token: none given, no HF_TOKEN and no saved login (`hf auth login`)."""
    _check_repo_id(repo_id)
    if token:
        return
    try:
        from huggingface_hub import get_token
    except ImportError:
        _make_api(token)  # says how to install huggingface_hub
        raise
    if not get_token():
        raise AccentdsError(f"pushing to {repo_id} failed: no Hugging Face token found; {LOGIN_HINT}")


def _make_api(token: str | None) -> HfApi:
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise AccentdsError(
            "pushing to the Hub needs huggingface_hub: pip install 'huggingface_hub>=2.4,<3'"
        ) from None
    return HfApi(token=token)


def plan_push(
    release_dir: Path,
    repo_id: str,
    version: str,
    api: HfApi | None = None,
    token: str | None = None,
    force: bool = False,
) -> PushPlan:
    """What pushing `release_dir` as `version` to the dataset repo `repo_id` would do.

    With `api`, asks the Hub whether the repo exists, which files its main branch holds under
    data/ that this release does not (they will be deleted) and which tags it has: a tag named
    `version` is refused, and so is a version below one of the tags unless `force` (it would
    roll main back). With `api=None` nothing is contacted and the remote state is unknown.
    `token`, when given, is passed to each call (else the api's own: HF_TOKEN or the saved login).
    Checks only the release's shape; `push` verifies every checksum."""
    _check_repo_id(repo_id)
    release = _read(release_dir, version)
    files = [PlannedFile(rel, (release.root / rel).stat().st_size) for rel in release.upload_paths()]
    plan = PushPlan(
        release_dir=release.root,
        repo_id=repo_id,
        version=version,
        tag=version,
        commit_message=f"accentds release {version}",
        files=files,
        delete_patterns=list(DELETE_PATTERNS),
        endpoint=_endpoint(api),
        gated=_gated(release.root),
    )
    if api is None:
        return plan
    with hub_errors("checking", repo_id):
        exists = api.repo_exists(repo_id, repo_type=REPO_TYPE, **_auth(token))
        remote: list[str] = []
        tags: list[str] = []
        if exists:
            remote = api.list_repo_files(repo_id, repo_type=REPO_TYPE, **_auth(token))
            refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE, **_auth(token))
            tags = sorted(ref.name for ref in refs.tags)
    if version in tags:
        major, minor, _ = _semver(version) or (0, 0, 0)
        raise AccentdsError(
            f"version {version} is already on the Hub: {repo_id} holds it (tag {version}), so there is "
            f"nothing to push, and a published version is never overwritten; if you meant a new version, "
            f"publish it (`accentds publish {major}.{minor + 1}.0`) and push that with --to-hub {repo_id}"
        )
    newer = sorted((t for t in tags if _semver(t) and _semver(t) > _semver(version)), key=_semver)
    if newer and not force:
        raise AccentdsError(
            f"{repo_id} already holds {newer[-1]}, newer than {version}: pushing {version} would roll its main "
            f"branch back to older data; publish and push a version above {newer[-1]}, or pass --force to "
            "push it anyway"
        )
    ours = set(release.upload_paths())
    stale = sorted(p for p in remote if p.startswith(DATA_PREFIX) and p not in ours)
    return replace(plan, repo_exists=bool(exists), stale=stale, tags=tags)


def _semver(tag: str) -> tuple[int, int, int] | None:
    match = SEMVER_RE.fullmatch(tag)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _gated(root: Path) -> str:
    """The Hub gating release.json asks for ([publish] gated in accentds.toml), or ""."""
    try:
        record = json.loads((root / RELEASE_JSON).read_text(encoding="utf-8"))
        gated = record["settings"]["publish"].get("gated", "")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return gated if gated in ("auto", "manual") else ""


def _read(release_dir: Path, version: str) -> Release:
    release = read_release(Path(release_dir))
    if release.version != version:
        raise AccentdsError(
            f"{Path(release_dir) / RELEASE_JSON} is for version {release.version}, not {version}: "
            f"check the version you asked for"
        )
    return release


def push(
    release_dir: Path,
    repo_id: str,
    version: str,
    api: HfApi | None = None,
    token: str | None = None,
    private: bool = False,
    force: bool = False,
) -> PushResult:
    """Publish a release: verify every file against release.json (nothing is contacted if one
    fails), check the Hub (`plan_push`: a tag `version` already there is refused), create the
    dataset repo if missing, upload the release in one commit that also deletes the earlier
    releases' shards under data/ (huggingface_hub splits a very large upload into several
    commits, deletions in the first), then tag the commit that completes it `version`.
    Re-running after a failure is safe: unchanged files are not uploaded again.

    `api` defaults to ``HfApi(token=token)``; without a token huggingface_hub uses HF_TOKEN or
    the saved login. `private` applies only when the repo is created."""
    _check_repo_id(repo_id)
    release = verify_release(Path(release_dir), version=version)
    if api is None:
        api = _make_api(token)
    plan = plan_push(release.root, repo_id, version, api=api, token=token, force=force)
    with hub_errors("creating", repo_id):
        api.create_repo(repo_id, repo_type=REPO_TYPE, exist_ok=True, private=private, **_auth(token))
    if plan.gated:
        with hub_errors("gating", repo_id):
            api.update_repo_settings(repo_id, gated=plan.gated, repo_type=REPO_TYPE, **_auth(token))
    with hub_errors("uploading release " + version + " to", repo_id, upload=True):
        commit = api.upload_folder(
            repo_id=repo_id,
            repo_type=REPO_TYPE,
            folder_path=str(release.root),
            commit_message=plan.commit_message,
            delete_patterns=list(plan.delete_patterns),
            **_auth(token),
        )
    oid = getattr(commit, "oid", None)
    if not isinstance(oid, str) or not oid:
        raise AccentdsError(f"the Hub did not say which commit holds release {version}: run the push again")
    try:
        with hub_errors("tagging", repo_id):
            api.create_tag(
                repo_id,
                tag=version,
                revision=oid,
                repo_type=REPO_TYPE,
                tag_message=f"accentds release {version}",
                **_auth(token),
            )
    except AccentdsError as exc:
        raise AccentdsError(
            f"{exc} — release {version} was uploaded as commit {oid} but not tagged; "
            f"run the push again to tag it (unchanged files are not uploaded twice)"
        ) from exc.__cause__
    return PushResult(
        repo_id=repo_id,
        version=version,
        tag=version,
        commit_oid=oid,
        commit_url=str(getattr(commit, "commit_url", "") or ""),
        url=plan.url,
        created_repo=bool(plan.create_repo),
        uploaded=len(plan.files),
        deleted=list(plan.stale or []),
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def render_plan(plan: PushPlan, max_files: int = 20) -> str:
    """The plan as lines for a person (what `--dry-run` prints)."""
    lines = [f"push release {plan.version} ({plan.release_dir}) to {plan.url}"]
    if not plan.remote_known:
        lines.append("  remote       unknown (dry run: the Hub was not contacted)")
        lines.append(f"  repository   {plan.repo_id}: created if it does not exist")
    elif plan.create_repo:
        lines.append(f"  repository   {plan.repo_id}: does not exist, will be created")
    else:
        lines.append(f"  repository   {plan.repo_id}: exists")
    lines.append(
        f'  commit       "{plan.commit_message}" on main: '
        f"{counted(len(plan.files), 'file')}, {_size(plan.total_bytes)} (unchanged files are skipped)"
    )
    width = max(len(f.path) for f in plan.files)
    for planned in plan.files[:max_files]:
        lines.append(f"    upload     {planned.path:<{width}}  {_size(planned.size):>9}")
    if len(plan.files) > max_files:
        lines.append(f"    upload     ... and {len(plan.files) - max_files} more")
    if plan.stale is None:
        lines.append(
            f"    delete     any file matching {', '.join(plan.delete_patterns)} that is not in this release"
        )
    elif plan.stale:
        for path in plan.stale:
            lines.append(f"    delete     {path}  (not in this release)")
    else:
        lines.append("    delete     nothing (no stale shards under data/)")
    if plan.gated:
        lines.append(
            f"  access       gated ({plan.gated}): the Hub asks who wants the data ([publish] gated)"
        )
    if plan.tags is None:
        lines.append(f"  tag          {plan.tag} on that commit (refused if the tag already exists)")
    else:
        others = ", ".join(plan.tags) if plan.tags else "none yet"
        lines.append(f"  tag          {plan.tag} on that commit (tags already there: {others})")
    return "\n".join(lines)

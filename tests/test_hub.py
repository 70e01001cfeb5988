"""Pushing a release to the Hugging Face Hub, against an autospecced HfApi: the Hub is never
contacted, and a call whose arguments HfApi's real signature would refuse fails the test."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from unittest import mock

import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from huggingface_hub.errors import (  # noqa: E402
    HfHubHTTPError,
    LocalTokenNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)
from huggingface_hub.hf_api import CommitInfo, GitRefInfo, GitRefs  # noqa: E402
from test_formats import VERSION, build_release  # noqa: E402

from accentds import hub  # noqa: E402
from accentds.errors import AccentdsError  # noqa: E402

REPO = "scots-lab/scottish-english"
OID = "3f1e0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
RELEASE_FILES = [
    "README.md",
    "data/test-00000-of-00001.parquet",
    "data/train-00000-of-00002.parquet",
    "data/train-00001-of-00002.parquet",
    "data/validation-00000-of-00001.parquet",
    "release.json",
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return build_release(tmp_path)


def make_api(
    exists: bool = True, remote: list[str] | None = None, tags: tuple[str, ...] = ("1.0.0",)
) -> mock.NonCallableMagicMock:
    api = mock.create_autospec(huggingface_hub.HfApi, instance=True)
    api.repo_exists.return_value = exists
    api.list_repo_files.return_value = [".gitattributes", "README.md"] if remote is None else remote
    api.list_repo_refs.return_value = GitRefs(
        branches=[GitRefInfo(name="main", ref="refs/heads/main", target_commit="a" * 40)],
        converts=[],
        tags=[GitRefInfo(name=t, ref=f"refs/tags/{t}", target_commit="b" * 40) for t in tags],
    )
    api.upload_folder.return_value = CommitInfo(
        commit_url=f"https://huggingface.co/datasets/{REPO}/commit/{OID}",
        commit_message=f"accentds release {VERSION}",
        commit_description="",
        oid=OID,
    )
    return api


def http_error(cls: type[HfHubHTTPError], status: int, url: str) -> HfHubHTTPError:
    response = httpx2.Response(status, request=httpx2.Request("POST", url))
    return cls(f"{status} Client Error for url: {url}", response=response)


# -- planning ----------------------------------------------------------------------------


def test_dry_run_contacts_nothing(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    constructed = mock.Mock(side_effect=AssertionError("a dry run made an HfApi"))
    monkeypatch.setattr(huggingface_hub, "HfApi", constructed)
    plan = hub.plan_push(release, REPO, VERSION)
    assert not plan.remote_known
    assert (plan.repo_exists, plan.create_repo, plan.stale, plan.tags) == (None, None, None, None)
    assert [f.path for f in plan.files] == RELEASE_FILES
    assert plan.files[0].size == (release / "README.md").stat().st_size
    assert (plan.tag, plan.commit_message, plan.delete_patterns) == (
        VERSION,
        "accentds release 1.2.0",
        ["data/*"],
    )
    text = hub.render_plan(plan)
    assert "unknown (dry run: the Hub was not contacted)" in text
    assert f"https://huggingface.co/datasets/{REPO}" in text
    assert "data/train-00001-of-00002.parquet" in text
    assert "any file matching data/* that is not in this release" in text
    assert "refused if the tag already exists" in text
    constructed.assert_not_called()


def test_plan_for_a_new_repo(release: Path) -> None:
    api = make_api(exists=False)
    plan = hub.plan_push(release, REPO, VERSION, api=api)
    assert (plan.repo_exists, plan.create_repo, plan.stale, plan.tags) == (False, True, [], [])
    api.repo_exists.assert_called_once_with(REPO, repo_type="dataset")
    api.list_repo_files.assert_not_called()
    api.list_repo_refs.assert_not_called()
    assert "does not exist, will be created" in hub.render_plan(plan)


def test_plan_finds_stale_shards(release: Path) -> None:
    remote = [
        ".gitattributes",
        "README.md",
        "release.json",
        "data/train-00000-of-00002.parquet",  # same name as now: overwritten, not stale
        "data/train-00000-of-00001.parquet",
        "data/test-00000-of-00003.parquet",
        "notes/keep.md",  # outside data/: left alone
    ]
    api = make_api(remote=remote, tags=("1.0.0", "1.1.0"))
    plan = hub.plan_push(release, REPO, VERSION, api=api, token="hf_reader")
    assert plan.repo_exists is True and plan.create_repo is False
    assert plan.stale == ["data/test-00000-of-00003.parquet", "data/train-00000-of-00001.parquet"]
    assert plan.tags == ["1.0.0", "1.1.0"]
    api.list_repo_files.assert_called_once_with(REPO, repo_type="dataset", token="hf_reader")
    api.list_repo_refs.assert_called_once_with(REPO, repo_type="dataset", token="hf_reader")
    text = hub.render_plan(plan)
    assert "delete     data/train-00000-of-00001.parquet  (not in this release)" in text
    assert "tags already there: 1.0.0, 1.1.0" in text
    assert "notes/keep.md" not in text


def test_existing_tag_is_refused(release: Path) -> None:
    api = make_api(tags=("1.0.0", VERSION))
    with pytest.raises(AccentdsError, match=r"version 1\.2\.0 is already on the Hub.*new version"):
        hub.plan_push(release, REPO, VERSION, api=api)
    with pytest.raises(AccentdsError, match=r"version 1\.2\.0 is already on the Hub"):
        hub.push(release, REPO, VERSION, api=api)
    api.create_repo.assert_not_called()
    api.upload_folder.assert_not_called()
    api.create_tag.assert_not_called()


def test_pushing_a_pushed_version_again_says_it_is_already_on_the_hub(release: Path) -> None:
    api = make_api()
    tags = ["1.0.0"]

    def refs(*args: object, **kwargs: object) -> GitRefs:
        info = [GitRefInfo(name=t, ref=f"refs/tags/{t}", target_commit="b" * 40) for t in tags]
        return GitRefs(branches=[], converts=[], tags=info)

    api.list_repo_refs.side_effect = refs
    api.create_tag.side_effect = lambda *args, **kwargs: tags.append(kwargs["tag"])
    assert hub.push(release, REPO, VERSION, api=api).tag == VERSION
    with pytest.raises(AccentdsError) as again:
        hub.push(release, REPO, VERSION, api=api)
    assert str(again.value) == (
        f"version 1.2.0 is already on the Hub: {REPO} holds it (tag 1.2.0), so there is nothing to push, "
        "and a published version is never overwritten; if you meant a new version, publish it "
        f"(`accentds publish 1.3.0`) and push that with --to-hub {REPO}"
    )
    assert api.upload_folder.call_count == 1 and api.create_tag.call_count == 1


def test_bad_names_and_versions_are_refused(release: Path) -> None:
    api = make_api()
    for bad in (
        "scottish-english",
        "org/name/extra",
        "org/na me",
        "../etc",
        "org/name-",
        "org/name.git",
        "o/" + "a" * 97,
    ):
        with pytest.raises(AccentdsError, match="ORG/NAME"):
            hub.plan_push(release, bad, VERSION, api=api)
    with pytest.raises(AccentdsError, match=r"for version 1\.2\.0, not 9\.9\.9"):
        hub.plan_push(release, REPO, "9.9.9")
    with pytest.raises(AccentdsError, match="no release at"):
        hub.plan_push(release.parent / "0.0.1", REPO, "0.0.1")
    assert api.mock_calls == []


# -- pushing -----------------------------------------------------------------------------


def test_push_calls_in_order(release: Path) -> None:
    api = make_api(remote=[".gitattributes", "README.md", "data/train-00000-of-00001.parquet"])
    result = hub.push(release, REPO, VERSION, api=api)
    assert [c[0] for c in api.method_calls] == [
        "repo_exists",
        "list_repo_files",
        "list_repo_refs",
        "create_repo",
        "upload_folder",
        "create_tag",
    ]
    api.create_repo.assert_called_once_with(REPO, repo_type="dataset", exist_ok=True, private=False)
    api.upload_folder.assert_called_once_with(
        repo_id=REPO,
        repo_type="dataset",
        folder_path=str(release.resolve()),
        commit_message="accentds release 1.2.0",
        delete_patterns=["data/*"],
    )
    api.create_tag.assert_called_once_with(
        REPO, tag=VERSION, revision=OID, repo_type="dataset", tag_message="accentds release 1.2.0"
    )
    assert result.commit_oid == OID
    assert result.tag == VERSION
    assert result.url == f"https://huggingface.co/datasets/{REPO}"
    assert result.commit_url.endswith(OID)
    assert result.created_repo is False
    assert result.deleted == ["data/train-00000-of-00001.parquet"]
    assert result.uploaded == len(RELEASE_FILES)


def test_push_new_private_repo_with_token(release: Path) -> None:
    api = make_api(exists=False)
    result = hub.push(release, REPO, VERSION, api=api, token="hf_writer", private=True)
    assert result.created_repo is True
    api.create_repo.assert_called_once_with(
        REPO, repo_type="dataset", exist_ok=True, private=True, token="hf_writer"
    )
    assert api.upload_folder.call_args.kwargs["token"] == "hf_writer"
    assert api.create_tag.call_args.kwargs["token"] == "hf_writer"


def test_push_makes_its_own_api_from_the_token(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_api()
    factory = mock.Mock(return_value=api)
    monkeypatch.setattr(huggingface_hub, "HfApi", factory)
    hub.push(release, REPO, VERSION, token="hf_writer")
    factory.assert_called_once_with(token="hf_writer")
    hub.push(release, REPO, VERSION)  # no token: HfApi finds HF_TOKEN or the saved login itself
    assert factory.call_args_list[1] == mock.call(token=None)


def test_tampered_release_is_refused_before_any_call(release: Path) -> None:
    api = make_api()
    shard = release / "data" / "validation-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(AccentdsError, match=r"validation-00000-of-00001\.parquet does not match its sha256"):
        hub.push(release, REPO, VERSION, api=api)
    assert api.mock_calls == []


def test_unlisted_file_or_wrong_version_is_refused_before_any_call(release: Path) -> None:
    api = make_api()
    (release / "data" / "train-00002-of-00003.parquet").write_bytes(b"left over")
    with pytest.raises(AccentdsError, match=r"does not list: data/train-00002-of-00003\.parquet"):
        hub.push(release, REPO, VERSION, api=api)
    (release / "data" / "train-00002-of-00003.parquet").unlink()
    meta = json.loads((release / "release.json").read_text())
    meta["version"] = "1.3.0"
    (release / "release.json").write_text(json.dumps(meta))
    with pytest.raises(AccentdsError, match=r"for version 1\.3\.0, not 1\.2\.0"):
        hub.push(release, REPO, VERSION, api=api)
    assert api.mock_calls == []


# -- errors ------------------------------------------------------------------------------

CREATE_URL = "https://huggingface.co/api/repos/create"


NOT_FOUND_URL = f"https://huggingface.co/api/datasets/{REPO}/preupload/main"
NAME_ERROR = "[Errno -3] Temporary failure in name resolution"


@pytest.mark.parametrize(
    ("failing", "error", "message", "login_hint"),
    [
        ("create_repo", LocalTokenNotFoundError("Token is required"), "no Hugging Face token", True),
        ("create_repo", http_error(HfHubHTTPError, 401, CREATE_URL), r"refused the token \(401\)", True),
        (
            "create_repo",
            http_error(HfHubHTTPError, 403, CREATE_URL),
            r"may not write to scots-lab \(403\)",
            True,
        ),
        ("upload_folder", http_error(RepositoryNotFoundError, 404, NOT_FOUND_URL), "may not see it", True),
        ("upload_folder", http_error(HfHubHTTPError, 503, CREATE_URL), r"busy or failing \(503", False),
        ("repo_exists", httpx2.ConnectError(NAME_ERROR), "could not reach the Hub", False),
        ("repo_exists", OfflineModeIsEnabled("offline"), "HF_HUB_OFFLINE is set", False),
    ],
    ids=["no-token", "401", "403", "not-found", "503", "network", "offline"],
)
def test_hub_errors_become_accentds_errors(
    release: Path, failing: str, error: Exception, message: str, login_hint: bool
) -> None:
    api = make_api()
    getattr(api, failing).side_effect = error
    with pytest.raises(AccentdsError, match=message) as caught:
        hub.push(release, REPO, VERSION, api=api)
    assert caught.value.__cause__ is error
    assert ("`hf auth login` or set HF_TOKEN" in str(caught.value)) is login_hint
    api.create_tag.assert_not_called()


def upload_failure(cause: BaseException | None) -> RuntimeError:
    """What upload_folder raises when a file's upload breaks off: huggingface_hub wraps the
    network error of an LFS upload in a RuntimeError, and hf_xet raises a bare RuntimeError."""
    if cause is None:
        return RuntimeError("Data processing error: CAS service error : ReqwestMiddleware Error")
    try:
        raise RuntimeError("Error while uploading 'data/train-00000-of-00002.parquet' to the Hub.") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    ("cause", "message"),
    [
        (httpx2.ConnectError(NAME_ERROR), "could not reach the Hub.*try again"),
        (http_error(HfHubHTTPError, 401, NOT_FOUND_URL), r"refused the token \(401\)"),
        (None, r"the upload did not finish \(RuntimeError: Data processing error.*run the push again"),
    ],
    ids=["lfs-network", "lfs-401", "xet"],
)
def test_a_broken_off_upload_says_to_run_again(
    release: Path, cause: BaseException | None, message: str
) -> None:
    api = make_api()
    api.upload_folder.side_effect = upload_failure(cause)
    with pytest.raises(AccentdsError, match=message) as caught:
        hub.push(release, REPO, VERSION, api=api)
    assert "\n" not in str(caught.value)
    api.create_tag.assert_not_called()


def test_tag_failure_after_upload_says_how_to_finish(release: Path) -> None:
    api = make_api()
    api.create_tag.side_effect = http_error(
        HfHubHTTPError, 409, f"https://huggingface.co/api/datasets/{REPO}/tag/main"
    )
    with pytest.raises(AccentdsError, match=rf"uploaded as commit {OID} but not tagged; run the push again"):
        hub.push(release, REPO, VERSION, api=api)


def test_unexpected_errors_are_not_hidden(release: Path) -> None:
    api = make_api()
    api.upload_folder.side_effect = KeyError("a bug")
    with pytest.raises(KeyError):
        hub.push(release, REPO, VERSION, api=api)


def test_wrong_signatures_are_caught_by_the_autospec() -> None:
    """The point of create_autospec: a call HfApi would refuse fails here too."""
    api = make_api()
    with pytest.raises(TypeError):
        api.create_tag(REPO, "1.2.0")  # tag is keyword-only
    with pytest.raises(TypeError):
        api.upload_folder(REPO, folder_path=".")  # repo_id is keyword-only

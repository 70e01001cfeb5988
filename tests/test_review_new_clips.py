"""The review page open while a pull in another terminal adds a video: the banner says new
clips were cut, not that the clips were re-cut and no longer exist (none is gone); a re-cut
still says re-cut."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import require_browser, review_page, serving
from conftest import MakeMedia

from accentds.words import counted

sync_api = require_browser()

from accentds.cut import cut  # noqa: E402
from accentds.pull import pull  # noqa: E402
from accentds.workspace import Workspace, init_workspace  # noqa: E402


@pytest.fixture
def page(browser: sync_api.Browser, sample_ws: Workspace) -> Iterator[sync_api.Page]:
    with serving(sample_ws, "evening") as url, review_page(browser, url) as page:
        yield page


def test_clips_added_elsewhere_are_told_as_new_not_as_a_recut(
    sample_ws: Workspace, page: sync_api.Page, make_media: MakeMedia
) -> None:
    before = len(sample_ws.read_clips())
    video = make_media("second evening.mp4", "-c:a", "aac", "-shortest", video=True)
    [pulled] = pull(sample_ws, [str(video)], workers=1)
    assert pulled.status == "pulled", pulled.reason
    [done] = cut(Workspace(sample_ws.root), [pulled.source.source_id], workers=1)
    added = len(done.clips)
    assert added and len(Workspace(sample_ws.root).read_clips()) == before + added
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    page.wait_for_function(
        "() => document.querySelector('#recut').textContent.includes('new clip')", timeout=10_000
    )
    text = page.text_content("#recut") or ""
    assert (
        f"{counted(added, 'new clip')} {'was' if added == 1 else 'were'} cut since this page was loaded"
        in text
    )
    assert "no longer exist" not in text and "re-cut" not in text
    page.click("#btn-reload")
    page.wait_for_selector("#recut", state="hidden")
    page.wait_for_function(
        "n => document.querySelectorAll('#queue [data-clip-id]').length >= n", arg=before + 1
    )

    # then a re-cut: every clip gets a new id, and the banner says so
    ws = Workspace(sample_ws.root)
    cut(ws, vad=dataclasses.replace(ws.config.vad, padding_ms=ws.config.vad.padding_ms + 60), workers=1)
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    page.wait_for_timeout(1000)  # time for a wrong "new clips" to replace it
    assert "re-cut since this page was loaded" in (page.text_content("#recut") or "")


def test_a_workspace_with_no_clips_says_so_then_shows_the_first_pull(
    browser: sync_api.Browser, tmp_path: Path, make_media: MakeMedia
) -> None:
    """The page of a new workspace said "No clip matches these filters." though none was set."""
    ws, _ = init_workspace(tmp_path / "new", name="new-corpus")
    with serving(ws, "evening") as url, review_page(browser, url, ready="#empty") as page:
        page.wait_for_function("() => document.querySelector('#empty').textContent.includes('no clips yet')")
        assert "accentds pull" in (page.text_content("#empty") or "")
        assert "filters" not in (page.text_content("#empty") or "")
        [pulled] = pull(ws, [str(make_media("first.mp4", "-c:a", "aac"))], workers=1)
        cut(Workspace(ws.root), [pulled.source.source_id], workers=1)
        page.wait_for_selector("#recut", state="visible", timeout=15_000)
        page.click("#btn-reload")
        page.wait_for_selector("#queue li")
        assert page.is_hidden("#empty")
        page.select_option("#filter-status", "rejected")
        assert page.text_content("#empty") == "No clip matches these filters."


def test_clips_cut_again_into_the_same_clips_are_not_told_as_gone(
    sample_ws: Workspace, page: sync_api.Page
) -> None:
    """`accentds cut --force` with the same settings (or `doctor`) writes the same clips
    again: the banner said they no longer existed."""
    ids = [c.clip_id for c in sample_ws.read_clips()]
    cut(Workspace(sample_ws.root), workers=1, force=True)
    assert [c.clip_id for c in Workspace(sample_ws.root).read_clips()] == ids
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    page.wait_for_function(
        "() => document.querySelector('#recut').textContent.includes('same clips')", timeout=10_000
    )
    assert "no longer exist" not in (page.text_content("#recut") or "")

"""Unsaved edits on the review page when a cut in another terminal re-cuts the clips with
other settings (every clip gets a new id): Reload puts them on the clips that now hold the
same speech, never drops them unseen."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from browsing import require_browser, review_page, serving, wait_saved

sync_api = require_browser()

from accentds.cut import cut  # noqa: E402
from accentds.workspace import Workspace  # noqa: E402


@pytest.fixture
def page(browser: sync_api.Browser, sample_ws: Workspace) -> Iterator[sync_api.Page]:
    with serving(sample_ws, "evening") as url, review_page(browser, url) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        yield page


def shown(page: sync_api.Page, clip_id: str) -> None:
    page.wait_for_function("id => document.querySelector('#clip-title').title === id", arg=clip_id)


def type_transcript(page: sync_api.Page, text: str) -> None:
    page.keyboard.press("t")
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def test_reload_after_a_recut_moves_unsaved_edits_to_the_clips_with_the_same_speech(
    sample_ws: Workspace, page: sync_api.Page
) -> None:
    old = sample_ws.read_clips()
    type_transcript(page, "first clip, typed before the re-cut")
    page.keyboard.press("j")
    page.keyboard.press("j")
    shown(page, old[2].clip_id)
    type_transcript(page, "third clip, typed before the re-cut")
    page.keyboard.press("j")
    shown(page, old[3].clip_id)
    assert page.locator("#queue .badge.unsaved").count() == 2

    ws = Workspace(sample_ws.root)
    cut(ws, vad=dataclasses.replace(ws.config.vad, padding_ms=ws.config.vad.padding_ms + 60), workers=1)
    new = Workspace(sample_ws.root).read_clips()
    assert len(new) == len(old) and not {c.clip_id for c in old} & {c.clip_id for c in new}
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    with page.expect_response("**/api/queue"):
        page.click("#btn-reload")
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('unsaved edits')")
    assert "2 clips" in (page.text_content("#message") or "")
    assert page.locator("#queue .badge.unsaved").count() == 2

    # each edit is on the clip that holds its speech now, and saves there
    for i, text in ((0, "first clip, typed before the re-cut"), (2, "third clip, typed before the re-cut")):
        page.evaluate("id => { location.hash = 'clip=' + encodeURIComponent(id); }", new[i].clip_id)
        shown(page, new[i].clip_id)
        assert page.input_value("#f-transcript") == text
        page.keyboard.press("s")
        wait_saved(page)
    labels = Workspace(sample_ws.root).read_labels()
    assert labels[new[0].clip_id]["transcript"] == "first clip, typed before the re-cut"
    assert labels[new[2].clip_id]["transcript"] == "third clip, typed before the re-cut"
    assert (
        new[1].clip_id not in labels
        or labels[new[1].clip_id]["transcript"] != "third clip, typed before the re-cut"
    )

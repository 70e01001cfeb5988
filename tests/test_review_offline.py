"""The review page when its server stops while someone reviews (Ctrl-C in the terminal,
a closed laptop lid): the page says so at once and on every key that needs the server,
never throws, and keeps what was typed."""

from __future__ import annotations

from contextlib import ExitStack

from browsing import require_browser, review_page, serving

sync_api = require_browser()

from accentds.workspace import Workspace  # noqa: E402

GONE = "the review server does not answer"


def test_a_stopped_server_is_told_on_the_page_and_nothing_typed_is_lost(
    browser: sync_api.Browser, sample_ws: Workspace
) -> None:
    ids = [c.clip_id for c in sample_ws.read_clips()]
    with ExitStack() as server:
        url = server.enter_context(serving(sample_ws, "evening"))
        # review_page fails the test if the page's script threw (an unhandled "Failed to fetch")
        with review_page(browser, url) as page:
            page.keyboard.press("j")
            server.close()  # the server stops; the page stays open
            # the page's own check for changes finds it gone, before any key
            page.wait_for_selector("#offline", state="visible", timeout=10_000)
            assert GONE in (page.text_content("#offline") or "")
            assert "accentds review" in (page.text_content("#offline") or "")

            page.keyboard.press("t")
            page.keyboard.press("Control+a")
            page.keyboard.type("typed while the server was down")
            page.keyboard.press("Escape")
            page.keyboard.press("a")
            page.wait_for_function(
                "() => document.querySelector('#message').textContent.startsWith('Not saved')"
            )
            assert GONE in (page.text_content("#message") or "")
            # the page is back on the clip, with what was typed, marked unsaved in the list
            assert page.get_attribute("#clip-title", "title") == ids[1]
            assert page.input_value("#f-transcript") == "typed while the server was down"
            assert page.locator("#queue .badge.unsaved").count() == 1

            # playing asks the server too, and says why it cannot
            page.keyboard.press("c")
            page.wait_for_function(
                "() => document.querySelector('#message').textContent.startsWith('Cannot play')"
            )
            assert GONE in (page.text_content("#message") or "")
            page.wait_for_timeout(3500)  # another check for changes: still no script error


def test_a_damaged_manifest_is_told_on_the_page_not_left_loading(
    browser: sync_api.Browser, sample_ws: Workspace
) -> None:
    """sources.csv damaged (a hand edit, git's conflict lines) while the server runs: the page
    said "loading…" for ever, its reason in a hidden line, and the terminal a traceback."""
    with serving(sample_ws, "evening") as url:
        good = sample_ws.sources_csv.read_bytes()
        sample_ws.sources_csv.write_bytes(good + b'"broken,\n')
        with review_page(browser, url, ready="#offline") as page:
            told = page.text_content("#offline") or ""
            assert told.startswith("Cannot load the clips: manifests/sources.csv cannot be read")
            assert "git checkout" in told and str(sample_ws.root) not in told
            assert page.text_content("#progress") == "the clips could not be loaded"
            page.wait_for_timeout(3500)  # the check for changes leaves it there
            assert page.is_visible("#offline")
            sample_ws.sources_csv.write_bytes(good)
            page.reload()
            page.wait_for_selector("#queue li")
            assert page.is_hidden("#offline")

"""The review page in a real Chromium (Debian's /usr/bin/chromium driven by Playwright),
against the real server started by `serve()` on a free loopback port."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from browsing import ARGS, CHROMIUM, api_url, require_browser, serving, wait_saved
from conftest import SAMPLE

sync_api = require_browser()

from accentds.cut import cut  # noqa: E402
from accentds.files import read_csv, write_csv_atomic  # noqa: E402
from accentds.labels import set_labels  # noqa: E402
from accentds.pull import pull  # noqa: E402
from accentds.review import serve  # noqa: E402
from accentds.views import refresh_manifest, write_manifest  # noqa: E402
from accentds.workspace import DRAFT_FIELDS, Workspace, init_workspace  # noqa: E402

XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
DRAFT = "Draft words from the captions"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws, _ = init_workspace(tmp_path_factory.mktemp("review-browser") / "ws", name="browser-corpus")
    pull(ws, [str(SAMPLE)], workers=1)
    cut(ws, workers=1)
    # the cut drafts transcripts from the sample's captions; the first clip's is made known
    first = ws.read_clips()[0].clip_id
    drafts = [r for r in read_csv(ws.drafts_csv) if r["clip_id"] != first]
    drafts.append({"clip_id": first, "transcript_draft": DRAFT, "draft_kind": "captions"})
    write_csv_atomic(ws.drafts_csv, DRAFT_FIELDS, drafts)
    with ws.lock():
        write_manifest(ws)
    return ws


@pytest.fixture(scope="module")
def base_url(ws: Workspace) -> Iterator[str]:
    with serving(ws, "browser") as url:
        yield url


class Page:
    """A page of the review app, with the JavaScript errors and CSP reports it produced."""

    def __init__(self, browser: sync_api.Browser, base_url: str, clip_id: str | None = None) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 820})
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        self.page.goto(base_url + (f"#clip={quote(clip_id)}" if clip_id else ""))
        self.page.wait_for_selector("#queue li")
        if clip_id:
            self.page.wait_for_function(
                "id => document.querySelector('#clip-title').title === id", arg=clip_id
            )

    def shown(self) -> str:
        return self.page.get_attribute("#clip-title", "title") or ""

    def transcript(self, text: str) -> None:
        """Type a new transcript, then leave the field with Escape."""
        self.page.fill("#f-transcript", text)
        self.page.focus("#f-transcript")
        self.page.keyboard.press("Escape")
        assert self.page.evaluate("document.activeElement === document.body")

    def close(self) -> None:
        self.page.close()
        assert self.errors == []


def label(ws: Workspace, clip_id: str) -> dict[str, str]:
    return Workspace(ws.root).read_labels().get(clip_id, {})


def joined(ws: Workspace, clip_id: str) -> dict[str, str]:
    refresh_manifest(ws)  # the views are rewritten when the server stops or by the next command
    return next(r for r in read_csv(ws.manifest_csv) if r["clip_id"] == clip_id)


def test_queue_loads_with_progress_and_draft(ws: Workspace, browser, base_url: str) -> None:
    page = Page(browser, base_url)
    items = page.page.locator("#queue li")
    assert items.count() == 8
    first = ws.read_clips()[0]
    assert page.shown() == first.clip_id  # pending first, by source and start
    assert page.page.text_content("#progress") == "0 of 8 reviewed · 0.0 min accepted"
    assert page.page.input_value("#f-transcript") == DRAFT
    assert page.page.is_visible("#draft-mark")
    assert "draft from captions" in page.page.text_content("#draft-mark")
    assert "draft" in items.first.text_content()
    page.page.fill("#f-transcript", DRAFT + " edited")
    assert not page.page.is_visible("#draft-mark")
    options = page.page.eval_on_selector_all("#f-accent option", "els => els.map(e => e.value)")
    assert options == ["", *ws.config.labels.accents]
    assert "Space" in page.page.text_content(".keys")
    page.close()


def test_keyboard_plays_the_clip_and_its_context(ws: Workspace, browser, base_url: str) -> None:
    clip = ws.read_clips()[1]
    page = Page(browser, base_url, clip.clip_id)
    p = page.page
    p.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    p.keyboard.press("Space")
    p.wait_for_function(
        "() => { const a = document.querySelector('#player'); return !a.paused && a.currentTime > 0.3; }"
    )
    duration = p.evaluate("document.querySelector('#player').duration")
    assert duration == pytest.approx(clip.duration, abs=0.05)
    p.keyboard.press("Space")
    assert p.evaluate("document.querySelector('#player').paused")
    paused_at = p.evaluate("document.querySelector('#player').currentTime")
    assert paused_at > 0.3
    p.keyboard.press("r")  # replay from the start
    p.wait_for_function(
        "() => { const a = document.querySelector('#player'); return !a.paused && a.currentTime > 0.05; }"
    )
    assert p.evaluate("document.querySelector('#player').currentTime") < paused_at + 0.3
    p.keyboard.press("c")  # with a second of context each side
    p.wait_for_function("() => document.querySelector('#player').src.endsWith('/context')")
    p.wait_for_function(
        "() => { const a = document.querySelector('#player'); return a.readyState >= 1 && !a.paused && a.currentTime > 0.1; }"
    )
    assert p.evaluate("document.querySelector('#player').duration") == pytest.approx(
        clip.duration + 2, abs=0.05
    )
    p.keyboard.press("Space")
    page.close()


def test_edit_and_accept_with_the_keyboard(ws: Workspace, browser, base_url: str) -> None:
    clips = ws.read_clips()
    clip = clips[3]
    page = Page(browser, base_url, clip.clip_id)
    page.transcript("It's a dreich day in Dundee")
    page.page.keyboard.press("a")
    page.page.wait_for_function("id => document.querySelector('#clip-title').title !== id", arg=clip.clip_id)
    assert page.shown() == clips[4].clip_id  # moved on to the next
    wait_saved(page.page)
    row = label(ws, clip.clip_id)
    assert row["transcript"] == "It's a dreich day in Dundee" and row["status"] == "accepted"
    assert row["reviewer"] == "browser" and row["version"] == "1"
    whole = joined(ws, clip.clip_id)
    assert whole["transcript"] == "It's a dreich day in Dundee" and whole["status"] == "accepted"
    minutes = f"{clip.duration / 60:.1f}"
    page.page.wait_for_function(
        "text => document.querySelector('#progress').textContent === text",
        arg=f"1 of 8 reviewed · {minutes} min accepted",
    )
    badge = page.page.locator(f'#queue [data-clip-id="{clip.clip_id}"] .badge').first
    assert badge.text_content() == "accepted"
    page.close()


def test_stale_edit_shows_the_conflict_and_overwrites_nothing(ws: Workspace, browser, base_url: str) -> None:
    clip = ws.read_clips()[5]
    one = Page(browser, base_url, clip.clip_id)
    two = Page(browser, base_url, clip.clip_id)
    two.transcript("Stale edit on page two")  # typed before page one saves: the page keeps it
    one.transcript("Saved first on page one")
    one.page.keyboard.press("Control+Enter")
    one.page.wait_for_function("id => document.querySelector('#clip-title').title !== id", arg=clip.clip_id)
    wait_saved(one.page)
    assert label(ws, clip.clip_id)["transcript"] == "Saved first on page one"

    two.page.wait_for_timeout(3500)  # a poll of the server's changes leaves the typed edit alone
    assert two.page.input_value("#f-transcript") == "Stale edit on page two"
    two.page.keyboard.press("s")
    two.page.wait_for_selector("#conflict", state="visible")
    assert two.shown() == clip.clip_id  # stays on the clip
    assert two.page.input_value("#f-transcript") == "Stale edit on page two"  # the edit is kept
    assert "Saved first on page one" in two.page.text_content("#conflict-rows .theirs")
    assert "Stale edit on page two" in two.page.text_content("#conflict-rows .mine")
    assert "conflict" in two.page.text_content(f'#queue [data-clip-id="{clip.clip_id}"]')
    row = label(ws, clip.clip_id)
    assert row["transcript"] == "Saved first on page one" and row["version"] == "1"
    assert joined(ws, clip.clip_id)["transcript"] == "Saved first on page one"

    two.page.click("#btn-theirs")
    assert two.page.input_value("#f-transcript") == "Saved first on page one"
    assert not two.page.is_visible("#conflict")
    one.close()
    two.close()


def test_the_clip_shown_follows_a_save_made_elsewhere_while_nothing_is_typed(
    ws: Workspace, browser, base_url: str
) -> None:
    """The page skipped the clip on screen when it read what changed elsewhere: it kept showing
    the old labels, and the next key met a conflict the reviewer had not made."""
    clip = ws.read_clips()[3]
    page = Page(browser, base_url, clip.clip_id)
    set_labels(ws, [clip.clip_id], {"transcript": "said in a terminal", "status": "rejected"}, "cli")
    page.page.wait_for_function(
        "() => document.querySelector('#f-transcript').value === 'said in a terminal'"
    )
    assert page.page.text_content("#clip-status") == "rejected"
    assert "Changed elsewhere by cli" in page.page.text_content("#message")
    page.page.keyboard.press("a")  # no conflict: the page saves against what it now shows
    page.page.wait_for_function(
        "id => document.querySelector(`#queue [data-clip-id=\"${id}\"] .badge`)?.textContent === 'accepted'",
        arg=clip.clip_id,
    )
    assert label(ws, clip.clip_id)["status"] == "accepted" and not page.page.is_visible("#conflict")
    page.close()


def test_markup_in_labels_is_shown_as_text(ws: Workspace, browser, base_url: str) -> None:
    clip = ws.read_clips()[6]
    url, token = api_url(base_url, f"/api/clip/{clip.clip_id}/labels")
    request = urllib.request.Request(
        url,
        data=json.dumps({"values": {"transcript": XSS, "speaker": XSS, "note": XSS}, "version": 0}).encode(),
        headers={"Content-Type": "application/json", **token},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    page = Page(browser, base_url, clip.clip_id)
    p = page.page
    assert p.input_value("#f-transcript") == XSS
    assert p.input_value("#f-speaker") == XSS
    assert p.input_value("#f-note") == XSS
    assert p.text_content(f'#queue [data-clip-id="{clip.clip_id}"] .item-text') == XSS
    p.wait_for_timeout(300)
    assert p.evaluate("typeof window.pwned") == "undefined"
    assert p.evaluate("document.querySelectorAll('img, #queue script, main script').length") == 0
    page.close()


def test_traversal_from_the_page_is_refused(ws: Workspace, browser, base_url: str) -> None:
    page = Page(browser, base_url)
    results = page.page.evaluate(
        """async () => {
            const urls = [
                '/api/clip/..%2F..%2Faccentds.toml/audio',
                '/api/clip/%2E%2E%2F%2E%2E%2Faccentds.toml/context',
                '/api/clip/../../accentds.toml/audio',
                '/api/clip/..%2Fmanifests%2Flabels.csv/audio',
                '/static/..%2Fapp.py',
            ];
            const out = [];
            for (const url of urls) {
                const response = await fetch(url);
                out.push([url, response.status, await response.text()]);
            }
            return out;
        }"""
    )
    for url, status, body in results:
        assert status == 404, url
        assert "[corpus]" not in body and "clip_id" not in body and "import" not in body, url
    page.close()


def test_screenshot(ws: Workspace, browser, base_url: str) -> None:
    page = Page(browser, base_url)
    page.page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.page.screenshot(path="/tmp/review.png", full_page=True)
    assert Path("/tmp/review.png").stat().st_size > 10_000
    page.close()


def test_a_page_without_the_token_or_by_another_name_gets_nothing(ws: Workspace, browser) -> None:
    """A page served on every address: a DNS-rebinding page (another site's name resolving
    to this machine) and the bare address without the token read no clip and write nothing."""
    urls: list[str] = []
    ready, stop = threading.Event(), threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    kwargs = {"open_browser": False, "on_ready": on_ready, "stop": stop, "host": "0.0.0.0"}
    thread = threading.Thread(target=serve, args=(ws,), kwargs=kwargs | {"allow_remote": True}, daemon=True)
    thread.start()
    assert ready.wait(15), "the review server did not start"
    port = urlsplit(urls[0]).port
    clip = ws.read_clips()[7]
    args = [*ARGS, "--host-resolver-rules=MAP rebind.example 127.0.0.1"]
    try:
        chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            page = chromium.new_page()
            for origin in (f"http://rebind.example:{port}", f"http://127.0.0.1:{port}"):
                response = page.goto(origin + "/")
                assert response is not None and response.status in (400, 401), origin
                assert page.locator("#queue").count() == 0
                if response.status == 401:  # what a person opening the bare address reads
                    assert "needs its access token" in page.text_content("body")
                results = page.evaluate(
                    """async (id) => {
                        const audio = await fetch(`/api/clip/${id}/audio`);
                        const write = await fetch(`/api/clip/${id}/labels`, {
                            method: "POST", headers: {"Content-Type": "application/json"},
                            body: JSON.stringify({values: {transcript: "rebound"}, version: 0}),
                        });
                        return [audio.status, (await audio.text()).slice(0, 4), write.status];
                    }""",
                    clip.clip_id,
                )
                assert results[0] in (400, 401) and results[1] != "RIFF" and results[2] in (400, 401), origin
        finally:
            chromium.close()
    finally:
        stop.set()
        thread.join(10)
    assert label(ws, clip.clip_id).get("transcript", "") != "rebound"


def test_an_over_long_transcript_is_refused_with_the_limit_shown(
    ws: Workspace, browser, base_url: str
) -> None:
    clip = ws.read_clips()[2]
    page = Page(browser, base_url, clip.clip_id)
    page.transcript("och " * 600)  # 2,400 characters
    page.page.keyboard.press("s")
    page.page.wait_for_function(
        "() => document.querySelector('#message').textContent.startsWith('Not saved')"
    )
    message = page.page.text_content("#message")
    assert "transcript is 2,399 characters long; the limit is 2,000" in message  # trimmed, as saved
    assert page.shown() == clip.clip_id and page.page.input_value("#f-transcript").startswith("och och")
    assert label(ws, clip.clip_id) == {}
    page.close()


def conflict_rows(page: Page) -> dict[str, tuple[str, str]]:
    rows = page.page.eval_on_selector_all(
        "#conflict-rows tr", "rows => rows.map(r => [...r.children].map(c => c.textContent))"
    )
    return {name: (theirs, mine) for name, theirs, mine in rows}


def test_the_conflict_panel_shows_both_sides_and_save_mine_keeps_mine(
    ws: Workspace, browser, base_url: str
) -> None:
    clip = ws.read_clips()[7]
    one = Page(browser, base_url, clip.clip_id)
    two = Page(browser, base_url, clip.clip_id)
    one.page.fill("#f-speaker", "Ailsa")
    one.transcript("Their words")
    one.page.keyboard.press("s")
    one.page.wait_for_function("() => / saved\\.( |$)/.test(document.querySelector('#message').textContent)")

    two.page.fill("#f-note", "my note")
    two.transcript("My words")
    two.page.keyboard.press("a")
    two.page.wait_for_selector("#conflict", state="visible")
    rows = conflict_rows(two)
    assert rows["status"] == ("pending", "accepted")  # the status just set is shown as mine
    assert rows["transcript"] == ("Their words", "My words")
    assert rows["speaker"] == ("Ailsa", "(not edited)")
    assert rows["note"] == ("(empty)", "my note")
    assert two.page.input_value("#f-speaker") == "Ailsa"  # a field not touched shows what is saved now
    assert two.page.input_value("#f-transcript") == "My words"  # the edits stay

    two.page.select_option("#f-accent", "Fife")  # an edit made after seeing theirs is yours too
    two.page.click("#btn-mine")
    two.page.wait_for_function(
        "() => / accepted\\.( |$)/.test(document.querySelector('#message').textContent)"
    )
    row = label(ws, clip.clip_id)
    assert (row["transcript"], row["note"], row["status"]) == ("My words", "my note", "accepted")
    assert row["speaker"] == "Ailsa" and row["accent"] == "Fife" and row["reviewer"] == "browser"
    one.close()
    two.close()


def test_saving_without_a_change_says_so(ws: Workspace, browser, base_url: str) -> None:
    clips = ws.read_clips()
    page = Page(browser, base_url, clips[1].clip_id)
    version = label(ws, clips[1].clip_id).get("version", "0")
    page.page.keyboard.press("s")
    page.page.wait_for_function(
        "id => document.querySelector('#clip-title').title !== id", arg=clips[1].clip_id
    )
    assert page.page.text_content("#message") == "Nothing to save."
    assert label(ws, clips[1].clip_id).get("version", "0") == version
    page.close()


def test_a_clip_whose_file_is_gone_says_so_and_how_to_bring_it_back(
    ws: Workspace, browser, base_url: str
) -> None:
    """Space on a clip whose file was deleted said only "Cannot play: The element has no
    supported sources." (the browser's words for a 404)."""
    clip = ws.read_clips()[5]
    path = ws.abs(clip.path)
    path.rename(path.with_suffix(".away"))
    try:
        page = Page(browser, base_url, clip.clip_id)
        page.page.keyboard.press("Space")
        page.page.wait_for_function("() => document.querySelector('#message').textContent.includes('doctor')")
        assert page.page.text_content("#message") == (
            f"Cannot play: the clip file {clip.path} is missing: run `accentds doctor` to cut it again from "
            "its source"
        )
        page.close()
    finally:
        path.with_suffix(".away").rename(path)

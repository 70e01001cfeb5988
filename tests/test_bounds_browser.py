"""The review page's boundary editor in a real Chromium (Playwright), against the real
server: drag a handle and save, nudge with keys, split at the playhead."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import soundfile
from browsing import api_url, require_browser, serving
from conftest import SAMPLE, check_consistent

sync_api = require_browser()

from accentds.cut import cut  # noqa: E402
from accentds.files import read_csv  # noqa: E402
from accentds.labels import set_labels  # noqa: E402
from accentds.pull import pull  # noqa: E402
from accentds.views import refresh_manifest  # noqa: E402
from accentds.workspace import Workspace, init_workspace  # noqa: E402

LABELS = {"transcript": "Haud yer wheesht", "speaker": "Morag", "accent": "Glasgow", "status": "accepted"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws, _ = init_workspace(tmp_path_factory.mktemp("bounds-browser") / "ws", name="bounds-corpus")
    pull(ws, [str(SAMPLE)], workers=1)
    cut(ws, workers=1)
    return ws


@pytest.fixture(scope="module")
def base_url(ws: Workspace) -> Iterator[str]:
    with serving(ws, "browser") as url:
        yield url


class Editor:
    """The review page at one clip, its boundary editor open."""

    def __init__(self, browser: sync_api.Browser, base_url: str, clip_id: str) -> None:
        self.base_url = base_url
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        self.page.goto(f"{base_url}#clip={quote(clip_id)}")
        self.page.wait_for_function("id => document.querySelector('#clip-title').title === id", arg=clip_id)
        if not self.page.is_visible("#bounds-wave"):
            self.page.keyboard.press("b")
        self.wait_loaded(clip_id)

    def wait_loaded(self, clip_id: str) -> None:
        self.wave = self.get(f"api/clip/{quote(clip_id)}/wave?pad=3")
        self.page.wait_for_function(
            "t => document.querySelector('#bounds-start').textContent === t",
            arg=f"{self.wave['start']:.3f} s",
        )

    def get(self, path: str) -> dict:
        url, token = api_url(self.base_url, "/" + path)
        with urllib.request.urlopen(urllib.request.Request(url, headers=token), timeout=10) as response:
            return json.load(response)

    def x(self, t: float) -> float:
        box = self.page.locator("#bounds-wave").bounding_box()
        return box["x"] + (t - self.wave["begin"]) / (self.wave["stop"] - self.wave["begin"]) * box["width"]

    def y(self) -> float:
        box = self.page.locator("#bounds-wave").bounding_box()
        return box["y"] + box["height"] / 3

    def seconds(self, which: str) -> float:
        return float((self.page.text_content(f"#bounds-{which}") or "").removesuffix(" s"))

    def close(self) -> None:
        self.page.close()
        assert self.errors == []


def joined(ws: Workspace, clip_id: str) -> dict[str, str] | None:
    refresh_manifest(ws)
    return next((r for r in read_csv(ws.manifest_csv) if r["clip_id"] == clip_id), None)


def test_drag_the_end_handle_and_save(ws: Workspace, browser, base_url: str) -> None:
    clip = Workspace(ws.root).read_clips()[2]
    set_labels(ws, [clip.clip_id], LABELS, "ann")
    editor = Editor(browser, base_url, clip.clip_id)
    p = editor.page
    assert editor.seconds("end") == pytest.approx(clip.end)
    assert p.is_disabled("#bounds-save")
    p.mouse.move(editor.x(clip.end), editor.y())
    p.mouse.down()
    p.mouse.move(editor.x(clip.end + 0.6), editor.y(), steps=8)
    p.mouse.up()
    end = editor.seconds("end")
    assert end == pytest.approx(clip.end + 0.6, abs=0.03)  # a pixel is ~13 ms here
    # keys nudge the handles: 2 moves the start 10 ms later, Shift+1 100 ms earlier
    p.keyboard.press("2")
    p.keyboard.press("2")
    assert editor.seconds("start") == pytest.approx(clip.start + 0.02, abs=1e-6)
    p.keyboard.press("Shift+Digit1")
    assert editor.seconds("start") == pytest.approx(clip.start - 0.08, abs=1e-6)
    p.keyboard.press("0")  # back to the saved boundaries
    assert (editor.seconds("start"), editor.seconds("end")) == (
        pytest.approx(clip.start),
        pytest.approx(clip.end),
    )
    p.mouse.move(editor.x(clip.end), editor.y())
    p.mouse.down()
    p.mouse.move(editor.x(clip.end + 0.6), editor.y(), steps=8)
    p.mouse.up()
    end = editor.seconds("end")
    p.keyboard.press("Shift+Enter")
    new_id = f"{clip.source_id}-{round(clip.start * 1000):08d}-{round(end * 1000):08d}"
    p.wait_for_function("id => document.querySelector('#clip-title').title === id", arg=new_id)
    editor.wait_loaded(new_id)
    assert "Boundaries saved" in p.text_content("#bounds-message")
    assert p.locator(f'#queue [data-clip-id="{clip.clip_id}"]').count() == 0
    info = soundfile.info(str(ws.root / "clips" / clip.source_id / f"{new_id}.wav"))
    assert info.duration == pytest.approx(end - clip.start, abs=1e-3)
    row = joined(ws, new_id)
    assert row is not None and joined(ws, clip.clip_id) is None
    assert float(row["start"]) == pytest.approx(clip.start) and float(row["end"]) == pytest.approx(end)
    assert float(row["duration"]) == pytest.approx(end - clip.start, abs=1e-3)
    assert {k: row[k] for k in LABELS} == LABELS
    # the page shows the new clip with its labels, its boundaries marked as set by hand
    p.wait_for_function("t => document.querySelector('#f-transcript').value === t", arg=LABELS["transcript"])
    p.wait_for_selector(".hand-badge", state="visible")  # once the new clip's waveform has loaded
    check_consistent(Workspace(ws.root))
    editor.close()


def test_split_at_the_playhead_keeps_the_labels_on_both_halves(ws: Workspace, browser, base_url: str) -> None:
    clip = Workspace(ws.root).read_clips()[5]
    set_labels(ws, [clip.clip_id], LABELS | {"status": "rejected"}, "ann")
    editor = Editor(browser, base_url, clip.clip_id)
    p = editor.page
    p.keyboard.press("6")  # the playhead sits at the clip's start: no split there
    assert "Put the playhead inside the clip" in p.text_content("#bounds-message")
    middle = round((clip.start + clip.end) / 2, 2)
    p.mouse.click(editor.x(middle), editor.y())  # a click moves the playhead
    p.keyboard.press("6")
    at = editor.seconds("split")
    assert at == pytest.approx(middle, abs=0.03)
    assert p.text_content("#bounds-save").startswith("Save split")
    p.click("#bounds-save")
    first = f"{clip.source_id}-{round(clip.start * 1000):08d}-{round(at * 1000):08d}"
    second = f"{clip.source_id}-{round(at * 1000):08d}-{round(clip.end * 1000):08d}"
    p.wait_for_function("id => document.querySelector('#clip-title').title === id", arg=first)
    editor.wait_loaded(first)
    assert "Split into 2 clips" in p.text_content("#bounds-message")
    assert p.locator(f'#queue [data-clip-id="{second}"]').count() == 1
    for cid in (first, second):
        row = joined(ws, cid)
        assert row is not None and {k: row[k] for k in LABELS if k != "status"} == {
            k: v for k, v in LABELS.items() if k != "status"
        }
        assert row["status"] == "rejected"
        assert soundfile.info(str(ws.abs(row["path"]))).frames == round(float(row["duration"]) * 16000)
    assert joined(ws, clip.clip_id) is None
    editor.close()


def test_a_stale_clip_is_not_recut(ws: Workspace, browser, base_url: str) -> None:
    clip = Workspace(ws.root).read_clips()[0]
    editor = Editor(browser, base_url, clip.clip_id)
    p = editor.page
    set_labels(ws, [clip.clip_id], {"note": "changed elsewhere"}, "bob")
    p.keyboard.press("Shift+Digit4")
    p.keyboard.press("Shift+Enter")
    p.wait_for_function("() => document.querySelector('#bounds-message').textContent.startsWith('Not saved')")
    assert "changed elsewhere" in p.text_content("#bounds-message")
    assert clip.clip_id in {c.clip_id for c in Workspace(ws.root).read_clips()}
    editor.close()


def test_playing_the_marked_clip_stops_at_the_end_handle(ws: Workspace, browser, base_url: str) -> None:
    clip = Workspace(ws.root).read_clips()[1]
    editor = Editor(browser, base_url, clip.clip_id)
    p = editor.page
    p.keyboard.press("Shift+Digit3")  # the end 0.2 s earlier: playing stops there
    p.keyboard.press("Shift+Digit3")
    end = editor.seconds("end")
    p.keyboard.press("5")
    p.wait_for_function("() => !document.querySelector('#bounds-audio').paused")
    p.wait_for_function("() => document.querySelector('#bounds-audio').paused", timeout=20_000)
    stopped = editor.wave["begin"] + p.evaluate("document.querySelector('#bounds-audio').currentTime")
    assert end - 0.05 <= stopped <= end + 0.1
    editor.close()


def test_screenshot(ws: Workspace, browser, base_url: str) -> None:
    clip = Workspace(ws.root).read_clips()[3]
    editor = Editor(browser, base_url, clip.clip_id)
    p = editor.page
    p.mouse.click(editor.x(clip.start + 1.2), editor.y())
    p.keyboard.press("Shift+Digit2")
    p.keyboard.press("6")
    p.screenshot(path="/tmp/review-bounds.png", full_page=True)
    assert Path("/tmp/review-bounds.png").stat().st_size > 10_000
    assert "Boundary editor" in p.text_content(".keys") and "split at the playhead" in p.text_content(".keys")
    p.locator(".keys").screenshot(path="/tmp/review-bounds-keys.png")
    editor.close()

"""The fast reviewer's keys in a real Chromium: held keys act once, a click on a filter or on
the player hands the keys back to the page, a second press held stays told, U undoes one
change after another, and a save refused after a re-cut says where the labels went (on the
workspace of test_review_flow: the sample with caption drafts, `flow_root`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import require_browser, review_page, serving, wait_saved

sync_api = require_browser()

from test_review_flow import DOUBLE_PRESS, DRAFT, labels, recut, shown, wait_shown  # noqa: E402

from accentds.labels import set_labels  # noqa: E402
from accentds.workspace import Workspace  # noqa: E402


@pytest.fixture
def ws(flow_root: Path, tmp_path: Path) -> Workspace:
    return Workspace(Path(shutil.copytree(flow_root, tmp_path / "ws")))


@pytest.fixture
def page(browser: sync_api.Browser, ws: Workspace) -> Iterator[sync_api.Page]:
    with serving(ws, "keys") as url, review_page(browser, url) as page:
        yield page


def test_held_play_and_editor_keys_act_once(ws: Workspace, page) -> None:
    """A held Space played and paused the clip with every repeat (about 30 a second), and a
    held B opened and closed the boundary editor as often, ending wherever it stopped."""
    page.evaluate(
        "() => { window.plays = 0; document.querySelector('#player')"
        ".addEventListener('play', () => { window.plays += 1; }); }"
    )
    for _ in range(20):  # the first keydown, then its repeats, as a keyboard sends them
        page.keyboard.down(" ")
        page.wait_for_timeout(33)
    page.keyboard.up(" ")
    page.wait_for_timeout(300)
    assert page.evaluate("window.plays") == 1
    assert not page.evaluate("document.querySelector('#player').paused")
    assert page.is_hidden("#bounds-body")
    for _ in range(20):
        page.keyboard.down("b")
        page.wait_for_timeout(33)
    page.keyboard.up("b")
    page.wait_for_timeout(300)
    assert page.is_visible("#bounds-body")


def test_a_double_press_held_stays_told_when_the_first_save_answers_late(ws: Workspace, page) -> None:
    """On a busy machine the first save's answer came after the second press and replaced
    "press the key again" with "… accepted.": the reviewer took the clip shown for accepted."""
    ids = [c.clip_id for c in ws.read_clips()]
    held: list[sync_api.Route] = []
    page.route("**/labels", lambda route: held.append(route))  # the first save answers late
    page.evaluate(DOUBLE_PRESS, 100)
    wait_shown(page, ids[1])
    assert "again" in page.text_content("#message")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/labels")
    wait_saved(page)
    assert set(labels(ws)) == {ids[0]}
    message = page.text_content("#message")
    assert "accepted" in message and "press the key again" in message
    assert shown(page) == ids[1] and page.text_content("#clip-status") == "pending"


def test_a_save_refused_after_a_recut_does_not_claim_to_show_the_clip_the_labels_moved_to(
    ws: Workspace, page
) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    wait_saved(page)
    page.keyboard.press("k")
    wait_shown(page, ids[0])
    recut(ws)
    moved_to = next(cid for cid, row in labels(ws).items() if row["status"] == "accepted")
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    page.keyboard.press("x")
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('moved to')")
    message = page.text_content("#message")
    assert message.startswith("Not saved") and moved_to in message and "Reload" in message
    assert "shown here" not in message
    assert shown(page) == ids[0]  # the list still holds the clips as they were: Reload shows them


def test_a_click_on_the_players_timeline_gives_the_keys_back_to_the_page(ws: Workspace, page) -> None:
    """The audio player's own controls kept every key once clicked (to scrub, say): Space,
    J and A did nothing, with no word why, until a click elsewhere."""
    ids = [c.clip_id for c in ws.read_clips()]
    page.wait_for_function("() => document.querySelector('#player').duration > 0")
    box = page.locator("#player").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.5")
    # the keys are the page's again once the player has let the focus go
    page.wait_for_function("() => document.activeElement !== document.querySelector('#player')")
    # Space plays or pauses: told by the player's events, whatever a loaded machine made of the
    # click (the clip may have started, or played to its end between two polls)
    page.evaluate(
        "const player = document.querySelector('#player');"
        "for (const name of ['play', 'pause']) player.addEventListener(name, () => { window.toggled = true })"
    )
    page.keyboard.press(" ")
    page.wait_for_function("() => window.toggled === true")
    page.keyboard.press("j")
    wait_shown(page, ids[1])
    page.keyboard.press("a")
    wait_shown(page, ids[2])
    wait_saved(page)
    assert labels(ws)[ids[1]]["status"] == "accepted"


def test_u_pressed_three_times_undoes_the_three_last_changes(ws: Workspace, page) -> None:
    """Three saves of one clip, then U U U: the second U's undo was refused (the first undo
    had changed the clip "since"), or sent alongside the first and refused, and dropped."""
    ids = [c.clip_id for c in ws.read_clips()]
    for n, (text, key) in enumerate((("one", "a"), ("two", "s"), ("three", "s"))):
        page.keyboard.press("t")
        page.keyboard.press("Control+a")
        page.keyboard.type(text)
        page.keyboard.press("Escape")
        page.keyboard.press(key)
        wait_shown(page, ids[1])
        page.keyboard.press("k")
        wait_shown(page, ids[0])
        wait_saved(page)
        assert labels(ws)[ids[0]]["transcript"] == text, n
    page.keyboard.press("u")
    page.keyboard.press("u")
    page.keyboard.press("u")
    page.wait_for_function(
        "() => document.querySelector('#message').textContent.startsWith('Undone: accepted')"
    )
    row = labels(ws)[ids[0]]
    assert row["status"] in ("", "pending") and row["transcript"] != "one"
    assert page.input_value("#f-transcript") == DRAFT
    assert page.text_content("#clip-status") == "pending"


def test_a_choice_picked_with_the_mouse_gives_the_keys_back_to_the_page(ws: Workspace, page) -> None:
    """The select kept the focus: the reviewer's next X did nothing, and an A chose the
    "accepted" filter (or the Aberdeen accent) instead of accepting the clip."""
    ids = [c.clip_id for c in ws.read_clips()]
    page.click("#filter-status")
    page.select_option("#filter-status", "pending")
    page.keyboard.press("x")
    wait_shown(page, ids[1])
    wait_saved(page)
    assert labels(ws)[ids[0]]["status"] == "rejected"
    page.wait_for_timeout(600)  # past the guard of the clip the save moved on to
    page.keyboard.press("a")
    wait_shown(page, ids[2])
    wait_saved(page)
    assert page.input_value("#filter-status") == "pending"
    assert labels(ws)[ids[1]]["status"] == "accepted"
    # so does the accent picked with the mouse: the next A accepts, not "Aberdeen"
    page.click("#f-accent")
    page.select_option("#f-accent", "Glasgow")
    page.keyboard.press("a")
    wait_shown(page, ids[3])
    wait_saved(page)
    assert labels(ws)[ids[2]]["status"] == "accepted" and labels(ws)[ids[2]]["accent"] == "Glasgow"
    # browsed with the arrow keys, a filter keeps them (↓ is the next option, not the next clip)
    page.focus("#filter-accent")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    accents = page.eval_on_selector_all("#filter-accent option", "els => els.map(e => e.value)")
    assert page.input_value("#filter-accent") == accents[2]


def test_play_then_the_next_clip_at_once_is_no_error(ws: Workspace, page) -> None:
    """Space then J before the audio began: "Cannot play: The play() request was interrupted
    by a call to pause()" in red, for a skip the reviewer meant."""
    ids = [c.clip_id for c in ws.read_clips()]
    held: list[sync_api.Route] = []
    page.route("**/audio", lambda route: held.append(route))  # the audio is still loading at J
    for n in range(1, 4):
        page.keyboard.press(" ")
        page.keyboard.press("j")
        wait_shown(page, ids[n])
    page.wait_for_timeout(300)
    for route in held:
        route.continue_()
    page.unroute("**/audio")
    page.wait_for_timeout(500)
    assert not (page.text_content("#message") or "").startswith("Cannot play")
    page.keyboard.press(" ")  # and the clip shown plays
    page.wait_for_function("() => !document.querySelector('#player').paused")


def test_accept_all_keeps_what_was_typed_and_not_saved(ws: Workspace, page) -> None:
    """A transcript typed into a clip, left unsaved (Esc, J), then Shift+A: the bulk accept
    dropped it unseen."""
    ids = [c.clip_id for c in ws.read_clips()]
    page.keyboard.press("t")
    page.keyboard.press("Control+a")
    page.keyboard.type("typed, not saved yet")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    wait_shown(page, ids[1])
    page.keyboard.press("Shift+A")
    page.wait_for_selector("#confirm", state="visible")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('accepted')")
    assert "not saved yet" in page.text_content("#message")
    assert all(labels(ws)[cid]["status"] == "accepted" for cid in ids)
    assert labels(ws)[ids[0]]["transcript"] != "typed, not saved yet"
    assert page.locator("#queue .badge.unsaved").count() == 1
    page.keyboard.press("k")
    wait_shown(page, ids[0])
    assert page.input_value("#f-transcript") == "typed, not saved yet"
    page.keyboard.press("s")
    wait_saved(page)
    assert labels(ws)[ids[0]]["transcript"] == "typed, not saved yet"
    assert labels(ws)[ids[0]]["status"] == "accepted"


@pytest.mark.parametrize(
    ("key", "field"), [("t", "#f-transcript"), ("Enter", "#f-transcript"), ("n", "#f-note")]
)
def test_a_held_key_that_opens_a_field_does_not_type_into_it(
    ws: Workspace, page, key: str, field: str
) -> None:
    """T or Enter held a moment focused the transcript, then the key's own repeats typed
    "tttt" or new lines into it; the next press, once the key is let go, types as ever."""
    before = page.input_value(field)
    for _ in range(15):  # the first keydown, then its repeats, as a keyboard sends them
        page.keyboard.down(key)
        page.wait_for_timeout(33)
    page.keyboard.up(key)
    assert page.evaluate("document.activeElement.id") == field[1:]
    assert page.input_value(field) == before
    page.keyboard.press("t")
    assert page.input_value(field) == before + "t"


def test_a_reload_right_after_a_move_opens_the_clip_moved_to(ws: Workspace, page) -> None:
    """J then a reload within 250 ms (before the address named the clip) opened the clip
    before it: the reload takes the address as it was at the key, not as the page left it."""
    ids = [c.clip_id for c in ws.read_clips()]
    page.keyboard.press("j")
    wait_shown(page, ids[1])
    page.reload()
    page.wait_for_selector("#queue li", state="visible")
    wait_shown(page, ids[1])
    page.keyboard.press("j")  # and a link to another clip opened in the tab still wins
    page.goto(page.url.split("#")[0] + f"#clip={ids[5]}")
    wait_shown(page, ids[5])


def test_a_clip_accepted_elsewhere_while_typed_into_counts_as_reviewed(ws: Workspace, page) -> None:
    """Another tab accepted the clip on screen while a transcript was typed into it: the
    list and the progress still called it pending ("7 of 8 reviewed" with all 8 reviewed)."""
    ids = [c.clip_id for c in ws.read_clips()]
    set_labels(ws, ids[1:], {"status": "accepted"}, "other")
    page.wait_for_function("() => document.querySelector('#progress').textContent.startsWith('7 of 8')")
    page.keyboard.press("t")
    page.keyboard.type(" mine")
    set_labels(ws, [ids[0]], {"status": "accepted"}, "other")
    page.wait_for_function("() => document.querySelector('#progress').textContent.startsWith('8 of 8')")
    assert page.input_value("#f-transcript") == DRAFT + " mine"  # what was typed stays
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('Not saved')")
    assert page.is_visible("#conflict") and labels(ws)[ids[0]]["transcript"] != DRAFT + " mine"

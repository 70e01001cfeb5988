"""The reviewer's evening in a real Chromium: every write lands on the clip it names, the
keyboard flow, re-cuts while the page is open, filters and bulk actions. Each test gets its
own copy of a cut workspace and its own server."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from browsing import require_browser, review_page, serving, wait_saved
from conftest import FLOW_DRAFT

sync_api = require_browser()

from accentds.cut import cut  # noqa: E402
from accentds.files import read_csv, write_csv_atomic  # noqa: E402
from accentds.labels import history, set_labels  # noqa: E402
from accentds.views import refresh_manifest  # noqa: E402
from accentds.workspace import Workspace  # noqa: E402

DRAFT = FLOW_DRAFT


@pytest.fixture
def ws(flow_root: Path, tmp_path: Path) -> Workspace:
    return Workspace(Path(shutil.copytree(flow_root, tmp_path / "ws")))


@pytest.fixture
def base_url(ws: Workspace) -> Iterator[str]:
    with serving(ws, "flow") as url:
        yield url


@pytest.fixture
def page(browser: sync_api.Browser, base_url: str) -> Iterator[sync_api.Page]:
    with review_page(browser, base_url) as page:
        yield page


def shown(page: sync_api.Page) -> str:
    return page.get_attribute("#clip-title", "title") or ""


def wait_shown(page: sync_api.Page, clip_id: str) -> None:
    page.wait_for_function("id => document.querySelector('#clip-title').title === id", arg=clip_id)


def listed(page: sync_api.Page) -> list[str]:
    return page.eval_on_selector_all("#queue [data-clip-id]", "els => els.map(e => e.dataset.clipId)")


def labels(ws: Workspace) -> dict[str, dict[str, str]]:
    return Workspace(ws.root).read_labels()


def reopen(page: sync_api.Page, clip_id: str) -> None:
    """Open the page anew at a clip's address."""
    url = page.url.split("#")[0]
    page.goto("about:blank")
    page.goto(f"{url}#clip={quote(clip_id)}")


def hold_saves(page: sync_api.Page) -> list[sync_api.Route]:
    """Saves from the page wait here until the test lets them through."""
    held: list[sync_api.Route | None] = []

    def hold(route: sync_api.Route) -> None:
        if held == [None]:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/clip/*/labels", hold)
    return held


def wait_for(page: sync_api.Page, done, what: str) -> None:
    for _ in range(800):  # 20 s: a loaded machine answers late, a broken page never
        if done():
            return
        page.wait_for_timeout(25)
    raise AssertionError(f"timed out waiting for {what}")


# -- 1. every write names its clip and version -----------------------------------------------
def test_next_during_a_save_never_moves_the_edit_to_another_clip(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    held = hold_saves(page)
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    wait_for(page, lambda: held, "the save")
    page.keyboard.press("j")  # before the save returns
    held.pop().continue_()
    held.append(None)  # later saves pass
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('accepted')")
    page.wait_for_timeout(200)
    assert listed(page) == ids  # each clip once, none dropped
    assert shown(page) in ids[1:]
    found = labels(ws)
    assert set(found) == {ids[0]} and found[ids[0]]["status"] == "accepted"
    assert found[ids[0]]["transcript"] == DRAFT
    # the clip after the accepted one still shows its own values, with nothing "restored"
    reopen(page, ids[1])
    wait_shown(page, ids[1])
    assert page.input_value("#f-transcript") == "draft 1"
    assert "restored" not in page.text_content("#message")
    page.keyboard.press("a")
    page.wait_for_function("id => document.querySelector('#clip-title').title !== id", arg=ids[1])
    wait_saved(page)
    found = labels(ws)
    assert found[ids[1]]["transcript"] == "draft 1" and found[ids[0]]["transcript"] == DRAFT
    assert [h["clip_id"] for h in history(ws, ids[1])] == [ids[1]] * len(history(ws, ids[1]))


def test_keys_typed_at_once_after_a_save_key_go_to_the_next_clip(ws: Workspace, page) -> None:
    """Keys 0 ms apart: the words typed after Ctrl+Enter or A went into the clip being saved
    (Ctrl+A there wiped them) or met the guard against a double press, so one clip got the
    next clip's words and the words of the others were lost."""
    ids = [c.clip_id for c in ws.read_clips()]
    keys = page.keyboard
    keys.press("t")
    for n in range(3):  # in the transcript: type, save, on to the next clip's transcript
        keys.press("Control+a")
        keys.type(f"words of clip {n}", delay=0)
        keys.press("Control+Enter")
    keys.press("Escape")
    for n in range(3, 6):  # from the page: into the transcript, type, out, accept
        keys.press("t")
        keys.press("Control+a")
        keys.type(f"words of clip {n}", delay=0)
        keys.press("Escape")
        keys.press("a")
    for _ in range(100):  # up to 5 s for the six saves
        if set(ids[:6]) <= set(labels(ws)):
            break
        page.wait_for_timeout(50)
    wait_saved(page)
    found = labels(ws)
    assert {cid: found[cid]["transcript"] for cid in found} == {
        ids[n]: f"words of clip {n}" for n in range(6)
    }
    assert [found[cid]["status"] for cid in ids[:6]] == [""] * 3 + ["accepted"] * 3
    assert shown(page) == ids[6] and page.input_value("#f-transcript") == "draft 6"


def test_a_slow_save_keeps_every_key_on_the_clip_it_was_typed_for(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    held = hold_saves(page)
    page.keyboard.press("t")
    page.keyboard.press("Control+a")
    page.keyboard.type("first words", delay=0)
    page.keyboard.press("Control+Enter")
    page.keyboard.type(" and more", delay=0)  # at once, the save not answered: the next clip's
    assert shown(page) == ids[1]
    assert page.input_value("#f-transcript") == "draft 1 and more"
    page.keyboard.press("Escape")
    page.keyboard.press("k")  # back to the clip being saved: it shows what was sent
    assert shown(page) == ids[0] and page.input_value("#f-transcript") == "first words"
    page.keyboard.press("t")
    page.keyboard.type(" again", delay=0)
    wait_for(page, lambda: held, "the save")
    held.pop().continue_()
    held.append(None)  # later saves pass
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('saved')")
    assert page.input_value("#f-transcript") == "first words again"  # the answer leaves newer keys be
    assert "not saved yet" in page.text_content("#message")
    assert labels(ws)[ids[0]]["transcript"] == "first words"
    page.keyboard.press("Control+Enter")  # saved over this page's own save: no conflict
    wait_shown(page, ids[1])
    assert page.input_value("#f-transcript") == "draft 1 and more"  # kept for its clip, unsaved
    wait_saved(page)
    assert labels(ws)[ids[0]]["transcript"] == "first words again"
    assert ids[1] not in labels(ws) and not page.is_visible("#conflict")


DOUBLE_PRESS = """async (gap) => {
    const press = () => document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }));
    const title = document.querySelector('#clip-title');
    const before = title.title;
    press();
    await new Promise((resolve) => {
        if (title.title !== before) { resolve(); return; } // moved on at the press
        const watch = new MutationObserver(() => { if (title.title !== before) { watch.disconnect(); resolve(); } });
        watch.observe(title, { attributes: true });
    });
    await new Promise((resolve) => setTimeout(resolve, gap));
    press();
}"""


def test_a_double_press_of_accept_accepts_one_clip(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    # two presses of A 100 ms apart, timed in the page; the first save moves on in between
    page.evaluate(DOUBLE_PRESS, 100)
    wait_saved(page)  # however long a busy machine takes to answer the first save
    assert set(labels(ws)) == {ids[0]}
    assert shown(page) == ids[1]
    assert "again" in page.text_content("#message")
    page.wait_for_timeout(600)  # past the half-second guard of the clip now shown
    page.keyboard.press("a")  # a deliberate press is taken
    wait_shown(page, ids[2])
    wait_saved(page)
    assert set(labels(ws)) == {ids[0], ids[1]}


def test_a_held_down_accept_key_accepts_one_clip(ws: Workspace, page) -> None:
    """A key held down repeats about every 33 ms: the guard held only every other press, so a
    second of A held accepted 15 clips nobody heard. Its repeats are no presses now; a held J
    still moves on."""
    ids = [c.clip_id for c in ws.read_clips()]
    for _ in range(30):  # the first keydown, then 29 repeats (event.repeat), as a keyboard sends them
        page.keyboard.down("a")
        page.wait_for_timeout(33)
    page.keyboard.up("a")
    page.wait_for_timeout(800)
    assert {cid: row["status"] for cid, row in labels(ws).items()} == {ids[0]: "accepted"}
    assert shown(page) == ids[1]
    for key in ("x", "s", "Enter"):  # reject, nothing to save, Ctrl+Enter: each moves on once
        modifiers = ["Control"] if key == "Enter" else []
        for modifier in modifiers:
            page.keyboard.down(modifier)
        for _ in range(10):
            page.keyboard.down(key)
            page.wait_for_timeout(33)
        page.keyboard.up(key)
        for modifier in modifiers:
            page.keyboard.up(modifier)
        page.wait_for_timeout(700)
    assert {cid: row["status"] for cid, row in labels(ws).items()} == {ids[0]: "accepted", ids[1]: "rejected"}
    assert shown(page) == ids[4]
    for _ in range(3):
        page.keyboard.down("j")
        page.wait_for_timeout(33)
    page.keyboard.up("j")
    page.wait_for_timeout(300)
    assert shown(page) == ids[7]


def test_two_reviewers_making_the_same_change_is_no_conflict(
    ws: Workspace, page, browser: sync_api.Browser, base_url: str
) -> None:
    """Two reviewers on the same clip, both pressing A: the second was refused as "someone
    else changed" it, with a conflict to settle by hand, though both wanted the same."""
    ids = [c.clip_id for c in ws.read_clips()]
    other = browser.new_context(viewport={"width": 1280, "height": 820}).new_page()  # a window of its own
    other.goto(base_url)
    other.wait_for_selector("#queue li")
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    wait_saved(page)
    other.keyboard.press("a")  # within the 3 s before the page would have seen the change
    wait_shown(other, ids[1])
    wait_saved(other)
    assert other.text_content("#message").endswith("accepted.")
    assert labels(ws)[ids[0]]["status"] == "accepted"
    assert [h["field"] for h in history(ws, ids[0])].count("status") == 1
    # a different change still is a conflict
    page.wait_for_timeout(600)  # past the guard that holds a save key right after a move
    page.keyboard.press("x")
    wait_shown(page, ids[2])
    wait_saved(page)
    other.keyboard.press("a")
    other.wait_for_function("() => document.querySelector('#message').textContent.includes('Not saved')")
    assert labels(ws)[ids[1]]["status"] == "rejected"
    other.context.close()


def test_clearing_a_draft_stores_an_empty_transcript(ws: Workspace, page) -> None:
    first = ws.read_clips()[0].clip_id
    assert page.input_value("#f-transcript") == DRAFT
    page.fill("#f-transcript", "")
    page.focus("#f-transcript")
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    page.wait_for_function("id => document.querySelector('#clip-title').title !== id", arg=first)
    wait_saved(page)
    row = labels(ws)[first]
    assert row["transcript"] == "" and row["draft_dismissed"] == "1"
    refresh_manifest(ws)
    [joined] = [r for r in read_csv(ws.manifest_csv) if r["clip_id"] == first]
    assert joined["transcript"] == "" and joined["transcript_is_draft"] == "false"
    page.keyboard.press("k")
    wait_shown(page, first)
    page.wait_for_timeout(600)
    # the draft is a suggestion beside the empty field, not its value
    assert page.input_value("#f-transcript") == ""
    assert DRAFT in page.get_attribute("#f-transcript", "placeholder")
    page.keyboard.press("a")
    page.wait_for_function("id => document.querySelector('#clip-title').title !== id", arg=first)
    wait_saved(page)
    row = labels(ws)[first]
    assert row["status"] == "accepted" and row["transcript"] == ""


# -- 2. a keyboard flow for an hour ---------------------------------------------------------------
def focused(page: sync_api.Page) -> str:
    return page.evaluate("document.activeElement === document.body ? 'body' : document.activeElement.id")


def test_keys_enter_each_field_and_esc_comes_back(ws: Workspace, page) -> None:
    for key, field in [
        ("t", "f-transcript"),
        ("p", "f-speaker"),
        ("g", "f-accent"),
        ("e", "f-evidence"),
        ("n", "f-note"),
    ]:
        page.keyboard.press(key)
        assert focused(page) == field, key
        page.keyboard.press("Escape")
        assert focused(page) == "body", key
    help_text = page.text_content(".keys")
    for key in ("T", "P", "G", "E", "N", "Esc", "[", "]", "←", "→"):
        assert key in help_text


def test_focus_returns_to_the_page_after_every_action(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    page.keyboard.press("t")
    page.keyboard.type(" more")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    assert focused(page) == "body"
    page.keyboard.press("t")  # one key into the transcript, on every clip
    assert focused(page) == "f-transcript"
    page.keyboard.press("Escape")
    page.wait_for_timeout(600)
    page.click("#btn-accept")
    wait_shown(page, ids[2])
    assert focused(page) == "body"
    page.click(f'#queue [data-clip-id="{ids[0]}"]')
    wait_shown(page, ids[0])
    assert focused(page) == "body"
    page.click("#btn-next")
    assert focused(page) == "body"
    # Ctrl+Enter in the transcript saves and stays in the transcript of the next clip
    page.keyboard.press("t")
    page.keyboard.type(" typed")
    page.keyboard.press("Control+Enter")
    wait_shown(page, ids[2])
    assert focused(page) == "f-transcript"
    wait_saved(page)
    assert labels(ws)[ids[1]]["transcript"] == "draft 1 typed"


def test_speaker_and_accent_carry_over_within_a_source(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    accent = ws.config.labels.accents[0]
    page.keyboard.press("p")
    page.keyboard.type("Morag")
    page.keyboard.press("Escape")
    page.select_option("#f-accent", accent)
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    assert page.input_value("#f-speaker") == "Morag"
    assert page.input_value("#f-accent") == accent
    assert "carried over" in page.text_content("#carry")
    page.keyboard.press("j")  # only looked at: nothing carried over is saved, nothing "unsaved"
    wait_shown(page, ids[2])
    assert "unsaved" not in page.text_content(f'#queue [data-clip-id="{ids[1]}"]')
    page.keyboard.press("k")
    wait_shown(page, ids[1])
    page.wait_for_timeout(600)
    page.keyboard.press("a")
    wait_shown(page, ids[2])
    wait_saved(page)
    found = labels(ws)[ids[1]]
    assert found["speaker"] == "Morag" and found["accent"] == accent


def test_speed_and_seek_keys(ws: Workspace, page) -> None:
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    rate = "document.querySelector('#player').playbackRate"
    page.keyboard.press("]")
    assert page.evaluate(rate) == 1.25
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert page.evaluate(rate) == 0.75
    assert "0.75" in page.text_content("#playing")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector('#player').currentTime") == 1
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.querySelector('#player').currentTime") == 0
    page.keyboard.press("j")  # the speed stays for the next clip
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    assert page.evaluate(rate) == 0.75


def test_a_keyboard_review_costs_the_same_keys_on_every_clip(ws: Workspace, page) -> None:
    """Every clip reviewed with the keyboard alone: a transcript typed, the first clip's
    speaker and accent set, each accepted; the control keys counted per clip."""
    ids = [c.clip_id for c in ws.read_clips()]
    per_clip = []
    for n, cid in enumerate(ids):
        wait_shown(page, cid)
        page.wait_for_timeout(550)
        keys = ["t", "Control+a"]
        if n == 0:
            keys += ["Escape", "p"]
        for key in keys:
            page.keyboard.press(key)
        page.keyboard.type("Morag" if n == 0 else f"words of clip {n}")
        if n == 0:
            keys += ["Escape", "g", "ArrowDown", "Escape", "t", "Control+a"]
            for key in keys[4:]:
                page.keyboard.press(key)
            page.keyboard.type(f"words of clip {n}")
        keys += ["Escape", "a"]
        page.keyboard.press("Escape")
        page.keyboard.press("a")
        per_clip.append(len(keys))
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('last clip')")
    found = labels(ws)
    assert [found[cid]["transcript"] for cid in ids] == [f"words of clip {n}" for n in range(len(ids))]
    assert {found[cid]["speaker"] for cid in ids} == {"Morag"}
    assert {found[cid]["status"] for cid in ids} == {"accepted"}
    assert len({found[cid]["accent"] for cid in ids}) == 1 and found[ids[0]]["accent"]
    assert per_clip[1:] == [4] * (len(ids) - 1)


# -- 4. re-cuts while the page is open ----------------------------------------------------------
def recut(ws: Workspace) -> None:
    """Cut the source again with other settings: every clip gets a new id."""
    vad = dataclasses.replace(ws.config.vad, padding_ms=ws.config.vad.padding_ms + 60)
    cut(Workspace(ws.root), vad=vad, workers=1)


def test_a_recut_while_reviewing_is_noticed_and_labels_are_found(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    wait_saved(page)
    recut(ws)
    new_ids = [c.clip_id for c in Workspace(ws.root).read_clips()]
    assert not set(ids) & set(new_ids)
    moved_to = next(cid for cid, row in labels(ws).items() if row["status"] == "accepted" and cid in new_ids)
    # the page notices by itself and offers to reload
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    assert "re-cut" in page.text_content("#recut")
    # a save on a clip that is gone says so, and writes nothing
    page.wait_for_timeout(600)
    page.keyboard.press("x")
    page.wait_for_function(
        "() => document.querySelector('#message').textContent.includes('no longer exists')"
    )
    assert ids[1] not in labels(ws)
    # the accepted clip's old address leads to where its labels went
    reopen(page, ids[0])
    page.wait_for_function(
        "() => document.querySelector('#message').textContent.includes('no longer exists')"
    )
    assert moved_to in page.text_content("#message")
    wait_shown(page, moved_to)
    assert page.input_value("#f-transcript") == DRAFT
    assert page.text_content("#clip-status") == "accepted"
    assert page.text_content("#progress").startswith(f"1 of {len(new_ids)} reviewed")


def test_reload_after_a_recut_keeps_unsaved_edits_of_the_clips_it_kept(ws: Workspace, page) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    page.on("dialog", lambda dialog: dialog.accept())  # a "leave this page?" would be answered yes
    page.keyboard.press("t")
    page.keyboard.press("Control+a")
    page.keyboard.type("typed before the re-cut")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    wait_shown(page, ids[1])
    cut(Workspace(ws.root), workers=1, force=True)  # the same settings: the same clips
    assert [c.clip_id for c in Workspace(ws.root).read_clips()] == ids
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    with page.expect_response("**/api/queue"):
        page.click("#btn-reload")
    page.wait_for_selector("#recut", state="hidden")
    page.wait_for_timeout(200)  # the list read again is shown
    wait_shown(page, ids[1])
    page.keyboard.press("k")
    wait_shown(page, ids[0])
    assert page.input_value("#f-transcript") == "typed before the re-cut"
    assert "restored" in page.text_content("#message")


def test_a_move_made_while_the_list_is_read_again_is_kept(ws: Workspace, page) -> None:
    """Reload reads the list again; a reviewer who pressed J meanwhile was sent back to the
    clip shown at the click once the list arrived."""
    ids = [c.clip_id for c in ws.read_clips()]
    cut(Workspace(ws.root), workers=1, force=True)  # the same settings: the same clips
    page.wait_for_selector("#recut", state="visible", timeout=15_000)
    held: list[sync_api.Route] = []
    page.route("**/api/queue", lambda route: held.append(route))  # held back until the reviewer has moved
    page.click("#btn-reload")
    page.wait_for_function("() => document.querySelector('#recut').hidden")
    page.keyboard.press("j")
    wait_shown(page, ids[1])
    while not held:
        page.wait_for_timeout(50)
    with page.expect_response("**/api/queue"):
        held[0].continue_()
    page.unroute("**/api/queue")
    page.wait_for_timeout(300)  # the list read again is shown
    assert page.get_attribute("#clip-title", "title") == ids[1]


# -- 5. bulk and filters -----------------------------------------------------------------------
def journal_lines(ws: Workspace) -> list[str]:
    return ws.labels_journal.read_text().splitlines() if ws.labels_journal.exists() else []


def test_filters_bulk_accept_with_a_count_and_undo(ws: Workspace, page) -> None:
    clips = ws.read_clips()
    ids = [c.clip_id for c in clips]
    write_csv_atomic(
        ws.duplicates_csv,
        ["clip_id", "duplicate_group"],
        [{"clip_id": ids[2], "duplicate_group": ids[2]}, {"clip_id": ids[5], "duplicate_group": ids[2]}],
    )
    ws.write_clips([dataclasses.replace(c, snr_db=1.0) if c.clip_id == ids[4] else c for c in clips])
    set_labels(ws, [ids[6]], {"transcript": "typed by hand"}, "someone")
    page.reload()
    page.wait_for_selector("#queue li")
    title = ws.read_sources()[0].title
    assert title and title in page.text_content(f'#queue [data-clip-id="{ids[0]}"]')

    page.select_option("#filter-text", "typed")
    assert listed(page) == [ids[6]]
    page.select_option("#filter-text", "draft")
    assert listed(page) == [cid for cid in ids if cid != ids[6]]
    page.select_option("#filter-text", "")
    page.keyboard.press("/")
    page.keyboard.type("draft 3")
    page.keyboard.press("Escape")
    assert listed(page) == [ids[3]]
    page.fill("#filter-search", "")
    page.keyboard.press("Escape")
    page.select_option("#filter-flag", "noisy")
    assert listed(page) == [ids[4]]
    page.select_option("#filter-flag", "")
    page.select_option("#filter-duplicate", "any")
    assert listed(page) == [ids[2], ids[5]]

    # accept every clip of the view: a count, a confirmation, one recorded change
    before = len(journal_lines(ws))
    page.keyboard.press("Shift+A")
    page.wait_for_selector("#confirm[open]")
    assert "2 clips" in page.text_content("#confirm-text")
    assert "duplicate" in page.text_content("#confirm-text")
    page.keyboard.press("Escape")  # cancelled: nothing written
    assert len(journal_lines(ws)) == before
    page.keyboard.press("Shift+A")
    page.wait_for_selector("#confirm[open]")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#message').textContent.includes('2 clips accepted')"
    )
    assert len(journal_lines(ws)) == before + 1
    found = labels(ws)
    assert found[ids[2]]["status"] == found[ids[5]]["status"] == "accepted"
    assert page.text_content("#progress").startswith("2 of 2 reviewed")

    # undo of the last action on the page: both back, as one more recorded change
    page.keyboard.press("u")
    page.wait_for_function("() => document.querySelector('#message').textContent.startsWith('Undone')")
    found = labels(ws)
    assert found[ids[2]]["status"] == found[ids[5]]["status"] == ""
    assert len(journal_lines(ws)) == before + 2
    assert page.text_content("#progress").startswith("0 of 2 reviewed")

    # accepting one flagged clip says so
    page.select_option("#filter-duplicate", "")
    page.click(f'#queue [data-clip-id="{ids[4]}"]')
    wait_shown(page, ids[4])
    assert "noisy" in page.text_content("#clip-warning")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('noisy')")
    assert labels(ws)[ids[4]]["status"] == "accepted"


# -- 8. fast at 10,000 clips ------------------------------------------------------------------
def test_a_save_sends_one_row_and_the_list_makes_only_the_rows_in_sight(
    ws: Workspace, page, tmp_path: Path
) -> None:
    ids = [c.clip_id for c in ws.read_clips()]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.keyboard.press("a")
    wait_shown(page, ids[1])
    page.wait_for_timeout(300)
    api = [url.split("/api/", 1)[1] for url in requests if "/api/" in url]
    assert api[0] == f"clip/{ids[0]}/labels" and not [u for u in api if u.startswith("queue")]

    # many clips: a long list is made of the rows in sight only, whatever its length
    clips = ws.read_clips()
    many = [
        dataclasses.replace(clips[0], clip_id=f"{clips[0].source_id}-{n * 3000:08d}-{n * 3000 + 2000:08d}",
                            start=n * 3.0, end=n * 3.0 + 2.0)
        for n in range(3000)
    ]  # fmt: skip
    ws.write_clips(many)
    page.reload()
    page.wait_for_selector("#queue li")
    assert page.locator("#queue li").count() < 60
    for _ in range(40):
        page.keyboard.press("j")
    wait_shown(page, many[40].clip_id)
    assert page.locator("#queue li").count() < 60
    assert page.locator(f'#queue [data-clip-id="{many[40].clip_id}"][aria-current]').count() == 1
    assert page.evaluate("document.querySelector('#queue-scroll').scrollTop") > 0

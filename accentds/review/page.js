// accentds review page. Every string from the corpus is shown with textContent or a form
// field's value, never parsed as HTML. Saves send the version the clip had when it was
// opened; a clip changed elsewhere meanwhile comes back as a conflict, never overwritten.
// Every save names its clip: its answer is applied to that clip, wherever the page is by then.
// The page's modules: core.js, queue.js, clip.js, save.js, and this one (audio, keys, start).

import { $, api, current, el, indexOf, POLL_MS, RATES, say, SEEK_S, state, typing } from "./core.js";
import { applyFilters, loadQueue, measureQueue, onScroll, poll, renderQueue } from "./queue.js";
import { go, keepMine, loadTheirs, move, nameInAddress, stashEdits, updateDraftMark } from "./clip.js";
import { bulk, save, undoLast } from "./save.js";

// -- audio -------------------------------------------------------------------------------
function play() {
  el.player.play().catch(async (error) => {
    // stopped by a pause or a new clip before it began (Space, then J at once): no failure
    if (error.name === "AbortError") return;
    // the audio element tells no reason for an answer it cannot play: the server's is asked
    const src = el.player.currentSrc || el.player.src;
    if (error.name === "NotSupportedError" && src) {
      const answer = await api(new URL(src).pathname);
      if (!answer.ok && answer.body && answer.body.error) {
        say(`Cannot play: ${answer.body.error}`, "error");
        return;
      }
    }
    say(`Cannot play: ${error.message}`, "error");
  });
}

function togglePlay() {
  if (!current()) return;
  if (el.player.paused) play(); else el.player.pause();
}

function replay() {
  const clip = current();
  if (!clip) return;
  if (state.context) {
    state.context = false;
    el.playing.textContent = "";
    el.player.src = `/api/clip/${encodeURIComponent(clip.clip_id)}/audio`;
  }
  el.player.currentTime = 0;
  play();
}

function playContext() {
  const clip = current();
  if (!clip) return;
  state.context = true;
  el.playing.textContent = "playing with 1 s of context";
  el.player.src = `/api/clip/${encodeURIComponent(clip.clip_id)}/context`;
  play();
}

export function setRate(rate) {
  state.rate = rate;
  el.player.defaultPlaybackRate = rate;
  el.player.playbackRate = rate;
  if (!state.context) el.playing.textContent = rate === 1 ? "" : `speed ${rate}×`;
}

function faster(step) {
  const at = RATES.indexOf(state.rate);
  setRate(RATES[Math.max(0, Math.min(RATES.length - 1, (at < 0 ? 2 : at) + step))]);
}

function seek(seconds) {
  if (!current()) return;
  const end = Number.isFinite(el.player.duration) ? el.player.duration : Infinity;
  el.player.currentTime = Math.max(0, Math.min(end, el.player.currentTime + seconds));
}

function enter(name) {
  const field = el.field[name];
  field.focus();
  if (field.setSelectionRange && typeof field.value === "string") field.setSelectionRange(field.value.length, field.value.length);
}

// -- keyboard ----------------------------------------------------------------------------
// keys that write, and play / replay / context: a held key's repeats are not presses (a held
// Space played and paused the clip 30 times a second)
const ONCE = ["a", "x", "s", "u", " ", "r", "c"];
// the key that put the focus in a field (T, Enter, P, G, E, N, /): while it is held, its
// repeats are not typed there (a held T typed "tttt" into the transcript, Enter new lines)
let focusKey = null;

function onKey(event) {
  if (event.repeat && event.code === focusKey) {
    event.preventDefault();
    return;
  }
  focusKey = null;
  if (el.confirm.open) return; // the dialog's own keys: Enter confirms, Esc cancels
  const active = document.activeElement;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    if (!event.repeat) save(null); // a key held down saves one clip, not one per repeat
    return;
  }
  if (event.key === "Escape") {
    if (typing(active)) active.blur();
    return;
  }
  if (typing(active) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.repeat && ONCE.includes(event.key.toLowerCase())) {
    event.preventDefault(); // held down: these act once (J and K, ← and → go on)
    return;
  }
  if (event.shiftKey && ["A", "X"].includes(event.key)) {
    event.preventDefault();
    bulk(event.key === "A" ? "accepted" : "rejected");
    return;
  }
  const actions = {
    " ": togglePlay, r: replay, c: playContext,
    a: () => save("accepted"), x: () => save("rejected"), s: () => save(null),
    j: () => move(1), arrowdown: () => move(1), k: () => move(-1), arrowup: () => move(-1),
    t: () => enter("transcript"), enter: () => enter("transcript"), p: () => enter("speaker"),
    g: () => enter("accent"), e: () => enter("accent_evidence"), n: () => enter("note"),
    u: undoLast, "/": () => el.filter.search.focus(),
    "[": () => faster(-1), "]": () => faster(1), arrowleft: () => seek(-SEEK_S), arrowright: () => seek(SEEK_S),
  };
  const action = actions[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  action();
  if (typing(document.activeElement)) focusKey = event.code;
}

// -- start -------------------------------------------------------------------------------
// A reload reloads the address as it was at the key: the clip moved to in the last 250 ms
// (before the address named it) was left for the one before, so the page notes the clip it
// leaves, for the same address opened again in this tab
const LEFT = "accentds.review.left";
export function wanted() {
  const match = /^#clip=(.+)$/.exec(location.hash);
  const named = match ? decodeURIComponent(match[1]) : null;
  let left = null;
  try { left = JSON.parse(sessionStorage.getItem(LEFT) || "null"); } catch { left = null; }
  sessionStorage.removeItem(LEFT);
  return left && left.hash === location.hash && left.clip ? left.clip : named;
}

document.addEventListener("keydown", onKey);
document.addEventListener("keyup", (event) => { if (event.code === focusKey) focusKey = null; });
el.scroller.addEventListener("scroll", onScroll, { passive: true });
window.addEventListener("resize", () => { measureQueue(); renderQueue(); });
// after a click on a button, keys act on the page again (Space plays rather than clicking twice)
document.addEventListener("click", (event) => event.target.closest?.("button")?.blur());
// so after a click on the player's own controls (its timeline, say), which kept every key:
// Space, J and A did nothing until a click elsewhere
// (its pointer events stay inside it: a focus not from the keyboard is a click)
el.player.addEventListener("focus", () => setTimeout(() => {
  if (document.activeElement === el.player && !el.player.matches(":focus-visible")) el.player.blur();
}));
el.filters.addEventListener("change", () => { stashEdits(); applyFilters(current()?.clip_id); });
// a choice picked with the mouse (a filter, the accent) gives the keys back to the page: A, X, J
// went to the select (A chose the "accepted" filter or the Aberdeen accent, X and J did
// nothing); one browsed with the keys (G, the arrows) keeps them
let pointed = null;
document.addEventListener("pointerdown", (event) => { pointed = event.target.closest?.("select") || null; });
document.addEventListener("keydown", (event) => { if (event.target === pointed) pointed = null; }, true);
document.addEventListener("change", (event) => {
  if (event.target === pointed) event.target.blur();
  pointed = null;
});
el.filter.search.addEventListener("input", () => { stashEdits(); applyFilters(current()?.clip_id); });
el.filters.addEventListener("submit", (event) => event.preventDefault());
$("labels").addEventListener("submit", (event) => event.preventDefault());
el.field.transcript.addEventListener("input", updateDraftMark);
$("btn-accept").addEventListener("click", () => save("accepted"));
$("btn-reject").addEventListener("click", () => save("rejected"));
$("btn-save").addEventListener("click", () => save(null));
$("btn-prev").addEventListener("click", () => move(-1));
$("btn-next").addEventListener("click", () => move(1));
$("btn-replay").addEventListener("click", replay);
$("btn-context").addEventListener("click", playContext);
$("btn-theirs").addEventListener("click", loadTheirs);
$("btn-mine").addEventListener("click", keepMine);
$("btn-bulk-accept").addEventListener("click", () => bulk("accepted"));
$("btn-bulk-reject").addEventListener("click", () => bulk("rejected"));
el.undo.addEventListener("click", undoLast);
// the list is read again in the page, so unsaved edits of clips the re-cut kept stay with them
$("btn-reload").addEventListener("click", () => {
  stashEdits();
  el.recut.hidden = true;
  loadQueue(current()?.clip_id);
});
setInterval(poll, POLL_MS);
window.addEventListener("hashchange", () => {
  const index = indexOf(wanted());
  if (index >= 0) go(index);
});
window.addEventListener("beforeunload", (event) => {
  const hash = location.hash;
  const clip = current()?.clip_id;
  if (clip) sessionStorage.setItem(LEFT, JSON.stringify({ hash, clip }));
  nameInAddress();
  stashEdits();
  if (state.stash.size) event.preventDefault();
});

loadQueue(wanted());

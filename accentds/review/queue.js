// accentds review page: the clip list (only the rows in sight are made) and changes made
// elsewhere (a re-cut, labels saved in another tab or by the CLI).

import { $, api, cannotLoad, changes, clock, current, el, FIELDS, filterValues, indexOf, matches, progress, putRow, ROW_PX, say, setOptions, SPARE_ROWS, state, text } from "./core.js";
import { go, refreshShown, show, stashEdits } from "./clip.js";
import { wanted } from "./page.js";

// -- queue -------------------------------------------------------------------------------
export function applyFilters(keepId) {
  const f = filterValues();
  state.clips = state.order.map((id) => state.all.get(id)).filter((row) => matches(row, f, true));
  state.at = new Map(state.clips.map((row, i) => [row.clip_id, i]));
  showProgress(progress());
  let index = indexOf(keepId);
  if (index < 0) index = state.clips.length ? 0 : -1;
  state.index = -1;
  show(index);
}

export function showProgress(progress) {
  const minutes = progress.accepted_minutes.toFixed(1);
  el.progress.textContent = `${progress.reviewed} of ${progress.total} reviewed · ${minutes} min accepted`;
  el.progressBar.max = Math.max(progress.total, 1);
  el.progressBar.value = progress.reviewed;
}

function showSchema(body) {
  state.schema = body.schema;
  el.corpus.textContent = body.corpus;
  setOptions(el.filter.status, body.schema.statuses);
  setOptions(el.filter.accent, body.schema.accents);
  setOptions(el.filter.speaker, body.schema.speakers);
  setOptions(el.filter.flag, body.schema.flags);
  const titles = new Map(body.sources.map((s) => [s.source_id, s.title]));
  state.titles = titles;
  setOptions(el.filter.source, body.sources.map((s) => s.source_id), true,
    (id) => (titles.get(id) ? `${titles.get(id)} (${id})` : id));
  setOptions(el.field.accent, body.schema.accents);
  setOptions(el.field.accent_evidence, body.schema.accent_evidence);
  el.speakers.replaceChildren(...body.schema.speakers.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    return option;
  }));
}

function queueItem(clip, index) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "item";
  button.dataset.clipId = clip.clip_id;
  button.title = clip.clip_id;
  if (index === state.index) button.setAttribute("aria-current", "true");
  const top = document.createElement("span");
  top.className = "item-top";
  const id = document.createElement("span");
  id.className = "item-id";
  const source = state.titles.get(clip.source_id) || clip.source_id.replace(/^(file|yt|url)-/, "");
  id.append(text("span", source, "item-source"), text("span", clock(clip.start), "item-time"));
  top.append(id, text("span", `${clip.duration.toFixed(1)} s`, "item-dur"));
  const badges = document.createElement("span");
  badges.className = "item-badges";
  badges.append(text("span", clip.status, `badge ${clip.status}`));
  if (clip.transcript_is_draft) badges.append(text("span", "draft", "badge draft-badge"));
  const kept = state.stash.get(clip.clip_id);
  if (kept) badges.append(text("span", kept.saving ? "saving" : "unsaved", "badge unsaved"));
  if (state.conflicts.has(clip.clip_id)) badges.append(text("span", "conflict", "badge conflict-badge"));
  top.append(badges);
  button.append(top, text("span", clip.transcript || "(no transcript)", "item-text"));
  button.addEventListener("click", () => { go(index); button.blur(); });
  item.append(button);
  return item;
}

// the list is virtual: padding stands for the rows out of sight, so 10,000 clips cost as
// little to show as 40
// the list's scroll position and height are kept here, not read back from the page: a read
// after the clip's fields changed would make the browser lay the page out there and then
const list = { top: 0, height: 0 };

export function measureQueue() { list.height = el.scroller.clientHeight || 800; list.top = el.scroller.scrollTop; }

export function renderQueue() {
  const count = state.clips.length;
  const { top, height } = list;
  const first = Math.max(0, Math.floor(top / ROW_PX) - SPARE_ROWS);
  const last = Math.min(count, Math.ceil((top + height) / ROW_PX) + SPARE_ROWS);
  el.queue.style.paddingTop = `${first * ROW_PX}px`;
  el.queue.style.paddingBottom = `${(count - last) * ROW_PX}px`;
  const items = [];
  for (let i = first; i < last; i += 1) items.push(queueItem(state.clips[i], i));
  el.queue.replaceChildren(...items);
  el.queueCount.textContent = `${count} clip${count === 1 ? "" : "s"} in this view`;
}

export function scrollToShown() {
  if (state.index < 0) return;
  if (!list.height) measureQueue();
  const top = state.index * ROW_PX;
  let want = list.top;
  if (top < want) want = top;
  else if (top + ROW_PX > want + list.height) want = top + ROW_PX - list.height;
  if (want === list.top) return;
  list.top = want;
  renderQueue(); // the rows at the new place first, so the list is tall enough to scroll there
  el.scroller.scrollTop = want;
}

let renderPending = false;
export function onScroll() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (el.scroller.scrollTop === list.top) return; // our own scroll
    measureQueue();
    renderQueue();
  });
}

export async function loadQueue(wanted) {
  const asked = current()?.clip_id;
  const { ok, status, body } = await api("/api/queue");
  if (!ok) {
    if (status) cannotLoad(`${body?.error || `error ${status}`}. Then reload this page.`);
    if (!state.known) el.progress.textContent = "the clips could not be loaded";
    return;
  }
  cannotLoad("");
  // a clip the reviewer moved to while the list was read wins over the one asked for
  if (asked && current()?.clip_id !== asked) wanted = current()?.clip_id;
  stashEdits();
  showSchema(body);
  state.all = new Map(body.clips.map((row) => [row.clip_id, row]));
  state.order = body.clips.map((row) => row.clip_id);
  state.known = body.state;
  const { moved, lost } = await rehome();
  const gone = wanted && !state.all.has(wanted) ? await whereIs(wanted) : null;
  applyFilters(gone?.to || moved.get(wanted) || wanted);
  if (lost.length) {
    const what = lost.map(({ clipId, edits }) => `${clipId}: ${Object.entries(edits).map(([k, v]) => `${k} "${v}"`).join(", ")}`);
    say(`Not kept: no clip holds the speech of ${lost.length === 1 ? "a clip" : `${lost.length} clips`} you had edited, so these unsaved edits were dropped (copy them now): ${what.join("; ")}`, "error");
  } else if (moved.size) {
    const also = gone && !moved.has(wanted) ? ` ${gone.message}` : "";
    say(`Your unsaved edits of ${moved.size === 1 ? "a clip" : `${moved.size} clips`} the re-cut replaced are on the clips that hold the same speech now, marked unsaved in the list.${also}`, "warn");
  } else if (gone) say(gone.message, "error");
}

// Unsaved edits of clips that are gone (a re-cut with other settings) go to the clip that holds
// the same speech now: the one their labels moved to, else the clip of the source that holds at
// least half of the old one and is at least half made of it. Edits with no such clip are
// returned, for the page to show.
async function rehome() {
  const moved = new Map();
  const lost = [];
  for (const [clipId, entry] of [...state.stash]) {
    if (state.all.has(clipId) || entry.saving) continue;
    state.stash.delete(clipId);
    const edits = changes(entry.base, entry.values);
    if (!Object.keys(edits).length) continue;
    const gone = await whereIs(clipId);
    const to = gone?.to && state.all.has(gone.to) ? gone.to : successor(entry.base);
    if (!to || state.stash.has(to)) { lost.push({ clipId, edits }); continue; }
    const row = state.all.get(to);
    state.stash.set(to, { base: { ...row }, values: Object.fromEntries(FIELDS.map((name) => [name, name in edits ? edits[name] : row[name] ?? ""])) });
    moved.set(clipId, to);
  }
  return { moved, lost };
}

function successor(old) {
  let best = null;
  let most = 0;
  for (const row of state.all.values()) {
    if (row.source_id !== old.source_id) continue;
    const overlap = Math.min(row.end, old.end) - Math.max(row.start, old.start);
    if (overlap > most && overlap >= (old.end - old.start) / 2 && overlap >= (row.end - row.start) / 2) {
      best = row.clip_id;
      most = overlap;
    }
  }
  return best;
}

// -- changes made elsewhere: a re-cut, labels saved in another tab or by the CLI ----------
// (`shown`: the page goes to that clip; a refused save stays where it is)
export async function whereIs(clipId, shown = true) {
  const { ok, body } = await api(`/api/clip/${encodeURIComponent(clipId)}/moved`);
  if (!ok || body.exists) return null;
  const why = body.why ? ` (${body.why})` : "";
  const message = body.to
    ? `Clip ${clipId} no longer exists${why}: its labels moved to ${body.to}${shown ? ", shown here" : ""}.`
    : `Clip ${clipId} no longer exists${why}; its labels, if any, are kept as orphans (accentds labels orphans).`;
  return { to: body.to, message };
}

const RECUT = "The clips were re-cut since this page was loaded: the list shows clips that no longer exist. Labels moved with their clips.";

// the banner that offers a Reload: clips gone (a re-cut), unless `text` says what else changed
export function showRecut(text = RECUT) {
  el.recutText.textContent = text;
  el.recut.hidden = false;
}

let described = null; // the clips' state the banner describes
export function noticeState(now) {
  if (!now || !state.known || now.clips === state.known.clips || now.clips === described) return;
  described = now.clips;
  showRecut();
  describeChange(now.clips);
}

// a pull or cut in another window that only added clips removed none: say so, not "re-cut"
async function describeChange(clips) {
  const { ok, body } = await api("/api/queue");
  if (!ok || described !== clips || body.state?.clips !== clips) return;
  const now = new Set(body.clips.map((row) => row.clip_id));
  let kept = 0;
  for (const clipId of state.all.keys()) if (now.has(clipId)) kept += 1;
  if (kept === state.all.size && now.size > kept) {
    showRecut(`${now.size - kept === 1 ? "1 new clip was" : `${now.size - kept} new clips were`} cut since this page was loaded (a pull or cut elsewhere); the clips listed are all still there.`);
  } else if (kept === state.all.size) {
    // `cut --force` with the same settings, `doctor`: the same clips written again
    showRecut("The clips were cut again since this page was loaded, into the same clips: the clips listed are all still there.");
  }
}

export async function poll() {
  if (!state.known || document.hidden) return;
  const { ok, body } = await api("/api/state");
  if (!ok) return;
  noticeState(body);
  if (body.labels === state.known.labels) return;
  const changed = await api(`/api/changes?since=${state.known.labels}`);
  if (!changed.ok || changed.body.reload) { showRecut(); return; }
  for (const row of changed.body.clips) {
    if (row.clip_id !== current()?.clip_id) putRow(row);
    else refreshShown(row);
  }
  state.known = { ...state.known, labels: changed.body.state.labels };
  refreshProgress();
}

export function refreshProgress() {
  showProgress(progress());
  renderQueue();
}

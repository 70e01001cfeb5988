// accentds review page. Every string from the corpus is shown with textContent or a form
// field's value, never parsed as HTML. Saves send the version the clip had when it was
// opened; a clip changed elsewhere meanwhile comes back as a conflict, never overwritten.
// Every save names its clip: its answer is applied to that clip, wherever the page is by then.

const FIELDS = ["transcript", "speaker", "accent", "accent_evidence", "note"];
const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
const SEEK_S = 1;
const POLL_MS = 3000; // how often the page asks whether clips were re-cut or labels saved elsewhere
const GUARD_MS = 500;
const ROW_PX = 56;    // the height of one row of the list: only the rows in sight are made
const SPARE_ROWS = 12; // rows made above and below the ones in sight // a save key this soon after a save moved on is the double press of the last one
const $ = (id) => document.getElementById(id);

const el = {
  corpus: $("corpus"), progress: $("progress"), progressBar: $("progress-bar"),
  filters: $("filters"), queue: $("queue"), scroller: $("queue-scroll"), queueCount: $("queue-count"),
  empty: $("empty"), clip: $("clip"), title: $("clip-title"), status: $("clip-status"),
  position: $("clip-position"), meta: $("clip-meta"), quality: $("clip-quality"), player: $("player"), playing: $("playing"),
  conflict: $("conflict"), conflictText: $("conflict-text"), conflictRows: $("conflict-rows"),
  draftMark: $("draft-mark"), speakers: $("speakers"), message: $("message"), carry: $("carry"), recut: $("recut"),
  filter: {
    status: $("filter-status"), source: $("filter-source"), accent: $("filter-accent"), speaker: $("filter-speaker"),
    flag: $("filter-flag"), duplicate: $("filter-duplicate"), text: $("filter-text"), search: $("filter-search"),
  },
  warn: $("clip-warning"), confirm: $("confirm"), confirmText: $("confirm-text"), confirmOk: $("confirm-ok"),
  undo: $("btn-undo"),
  field: { transcript: $("f-transcript"), speaker: $("f-speaker"), accent: $("f-accent"), accent_evidence: $("f-evidence"), note: $("f-note") },
};

const state = {
  all: new Map(),    // clip id -> row as the server last sent it
  order: [],         // every clip id in queue order (pending first, by source and start)
  titles: new Map(), // source id -> title
  clips: [],         // the rows of the current filters, in queue order
  at: new Map(),     // clip id -> its index in `clips`
  undo: [],          // recorded changes made on this page, last on top: {tx, what, ids}
  index: -1,         // the clip shown
  base: null,        // the row the shown clip's edits are made against (its version is sent)
  prefill: null,     // what the fields were filled with: the base, speaker and accent carried over
  rate: 1,           // playback speed, kept from clip to clip
  stash: new Map(),  // clip id -> {base, values}: unsaved edits of clips left for another
  conflicts: new Map(), // clip id -> {theirs, mine, action}
  schema: null,
  context: false,
  saving: null,      // the clip id of the save under way
  queued: 0,         // clips to move by once it is done (J / K pressed meanwhile)
  guardUntil: 0,     // save keys are held until then (performance.now())
  known: null,       // {clips, labels}: the server's state the rows shown were read at
};

// -- helpers -----------------------------------------------------------------------------
function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function shortId(clip) {
  // "file-c2a69618a28d-00000480-00004980" -> "c2a69618 0:00.5"
  const source = clip.source_id.replace(/^(file|yt|url)-/, "");
  return `${source.length > 9 ? source.slice(0, 8) + "…" : source} ${clock(clip.start)}`;
}

function say(message, kind = "") {
  el.message.textContent = message;
  el.message.className = "message" + (kind ? " " + kind : "");
}

function filterValues() {
  const values = {};
  for (const [name, input] of Object.entries(el.filter)) values[name] = input.value;
  values.search = values.search.trim().toLowerCase();
  return values;
}

function matches(row, f, withStatus) {
  if (withStatus && f.status && row.status !== f.status) return false;
  if (f.source && row.source_id !== f.source) return false;
  if (f.accent && row.accent !== f.accent) return false;
  if (f.speaker && row.speaker !== f.speaker) return false;
  if (f.flag && !(row.quality_flags || "").split(" ").includes(f.flag)) return false;
  if (f.duplicate === "any" && !row.duplicate_group) return false;
  if (f.duplicate === "none" && row.duplicate_group) return false;
  if (f.text === "draft" && !row.transcript_is_draft) return false;
  if (f.text === "typed" && (row.transcript_is_draft || !row.transcript)) return false;
  if (f.text === "empty" && row.transcript) return false;
  if (f.search) {
    const haystack = [row.transcript, row.speaker, row.note, row.title, row.clip_id].join("\n").toLowerCase();
    if (!haystack.includes(f.search)) return false;
  }
  return true;
}

// progress counts the clips of every filter but the status one (which only narrows the list)
function progress() {
  const f = filterValues();
  const counts = { reviewed: 0, total: 0, accepted: 0, rejected: 0, accepted_minutes: 0 };
  for (const id of state.order) {
    const row = state.all.get(id);
    if (!matches(row, f, false)) continue;
    counts.total += 1;
    if (row.status !== "pending") counts.reviewed += 1;
    if (row.status === "accepted") { counts.accepted += 1; counts.accepted_minutes += row.duration / 60; }
    if (row.status === "rejected") counts.rejected += 1;
  }
  return counts;
}

function applyFilters(keepId) {
  const f = filterValues();
  state.clips = state.order.map((id) => state.all.get(id)).filter((row) => matches(row, f, true));
  state.at = new Map(state.clips.map((row, i) => [row.clip_id, i]));
  showProgress(progress());
  let index = indexOf(keepId);
  if (index < 0) index = state.clips.length ? 0 : -1;
  state.index = -1;
  show(index);
}

function putRow(row) {
  state.all.set(row.clip_id, row);
  const at = indexOf(row.clip_id);
  if (at >= 0) state.clips[at] = row;
}

// the server's access token, given in the page's HTML; every request sends it
const TOKEN = document.querySelector('meta[name="accentds-token"]')?.content || "";

async function api(path, options = {}) {
  const headers = { ...options.headers, "X-Accentds-Token": TOKEN };
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  return { status: response.status, ok: response.ok, body };
}

function current() { return state.index >= 0 ? state.clips[state.index] : null; }

function formValues() {
  const values = {};
  for (const name of FIELDS) values[name] = el.field[name].value;
  return values;
}

function normal(name, value) {
  const text = String(value ?? "");
  return name === "note" ? text.trim() : text.split(/\s+/).filter(Boolean).join(" ");
}

function changes(base, values) {
  const changed = {};
  for (const name of FIELDS) {
    if (normal(name, values[name]) !== normal(name, base[name])) changed[name] = values[name];
  }
  return changed;
}

function setOptions(select, values, keepFirst = true, labelOf = (v) => v) {
  const chosen = select.value;
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []));
  for (const value of values) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = labelOf(value);
    select.append(option);
  }
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function ensureOption(select, value) {
  // a value outside the schema (e.g. the schema changed) stays visible rather than dropped
  if (value && ![...select.options].some((o) => o.value === value)) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = `${value} (not in the schema)`;
    select.append(option);
  }
}

// -- queue -------------------------------------------------------------------------------
function showProgress(progress) {
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
  if (state.stash.has(clip.clip_id)) badges.append(text("span", "unsaved", "badge unsaved"));
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

function measureQueue() { list.height = el.scroller.clientHeight || 800; list.top = el.scroller.scrollTop; }

function renderQueue() {
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

function scrollToShown() {
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
function onScroll() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (el.scroller.scrollTop === list.top) return; // our own scroll
    measureQueue();
    renderQueue();
  });
}

async function loadQueue(wanted) {
  const { ok, body } = await api("/api/queue");
  if (!ok) { say(body?.error || "could not load the queue", "error"); return; }
  showSchema(body);
  state.all = new Map(body.clips.map((row) => [row.clip_id, row]));
  state.order = body.clips.map((row) => row.clip_id);
  state.known = body.state;
  const gone = wanted && !state.all.has(wanted) ? await whereIs(wanted) : null;
  applyFilters(gone?.to || wanted);
  if (gone) say(gone.message, "error");
}

// -- changes made elsewhere: a re-cut, labels saved in another tab or by the CLI ----------
async function whereIs(clipId) {
  const { ok, body } = await api(`/api/clip/${encodeURIComponent(clipId)}/moved`);
  if (!ok || body.exists) return null;
  const why = body.why ? ` (${body.why})` : "";
  const message = body.to
    ? `Clip ${clipId} no longer exists${why}: its labels moved to ${body.to}, shown here.`
    : `Clip ${clipId} no longer exists${why}; its labels, if any, are kept as orphans (accentds labels orphans).`;
  return { to: body.to, message };
}

function noticeState(now) {
  if (!now || !state.known) return;
  if (now.clips !== state.known.clips) el.recut.hidden = false;
}

async function poll() {
  if (!state.known || document.hidden) return;
  const { ok, body } = await api("/api/state");
  if (!ok) return;
  noticeState(body);
  if (body.labels === state.known.labels) return;
  const changed = await api(`/api/changes?since=${state.known.labels}`);
  if (!changed.ok || changed.body.reload) { el.recut.hidden = false; return; }
  for (const row of changed.body.clips) {
    if (row.clip_id !== current()?.clip_id) putRow(row);
  }
  state.known = { ...state.known, labels: changed.body.state.labels };
  refreshProgress();
}

function refreshProgress() {
  showProgress(progress());
  renderQueue();
}

// -- the clip shown --------------------------------------------------------------------
function stashEdits() {
  const clip = current();
  if (!clip || !state.base) return;
  const values = formValues();
  if (Object.keys(changes(state.prefill || state.base, values)).length) state.stash.set(clip.clip_id, { base: state.base, values });
  else state.stash.delete(clip.clip_id);
}

function fill(values) {
  for (const name of FIELDS) {
    if (name === "accent" || name === "accent_evidence") ensureOption(el.field[name], values[name]);
    el.field[name].value = values[name] ?? "";
  }
  updateDraftMark();
}

function updateDraftMark() {
  const base = state.base;
  el.draftMark.hidden = !(base && base.transcript_is_draft && el.field.transcript.value === base.transcript);
  // a draft that is not the value (dismissed, or the field cleared) stays visible as a suggestion
  const draft = base?.transcript_draft || "";
  el.field.transcript.placeholder = draft && el.field.transcript.value !== draft ? `caption draft: ${draft}` : "";
}

function showHead(clip) {
  el.title.textContent = shortId(clip);
  el.title.title = clip.clip_id;
  el.status.textContent = clip.status;
  el.status.className = `badge ${clip.status}`;
  el.position.textContent = `${state.index + 1} of ${state.clips.length}`;
  const who = clip.reviewer ? ` · last saved by ${clip.reviewer} ${clip.updated_at}` : "";
  el.meta.textContent = `${clip.title || clip.source_id} · ${clock(clip.start)}–${clock(clip.end)} · ${clip.duration.toFixed(2)} s · ${clip.clip_id}${who}`;
  el.quality.textContent = qualityLine(clip);
  const warning = warningOf(clip);
  el.warn.hidden = !warning;
  el.warn.textContent = warning ? `${warning}: accepting keeps it in the corpus.` : "";
}

function warningOf(clip) {
  const parts = [];
  if (clip.quality_flags) parts.push(`flagged ${clip.quality_flags.split(" ").join(", ")}`);
  if (clip.duplicate_group && clip.duplicate_group !== clip.clip_id) parts.push(`same audio as ${clip.duplicate_group}`);
  else if (clip.duplicate_group) parts.push("other clips have the same audio");
  return parts.join("; ");
}

function qualityLine(clip) {
  const num = (value, digits, unit) => (typeof value === "number" ? `${value.toFixed(digits)}${unit}` : "–");
  const parts = [
    `SNR ${num(clip.snr_db, 1, " dB")}`,
    num(clip.lufs, 1, " LUFS"),
    `speech ${typeof clip.speech_ratio === "number" ? Math.round(clip.speech_ratio * 100) : "–"} %`,
    `clipped ${typeof clip.clipping_ratio === "number" ? (clip.clipping_ratio * 100).toFixed(2) : "–"} %`,
    `sound up to ${typeof clip.bandwidth_hz === "number" ? (clip.bandwidth_hz / 1000).toFixed(1) : "–"} kHz`,
  ];
  if (clip.duplicate_group && clip.duplicate_group !== clip.clip_id) parts.push(`same audio as ${clip.duplicate_group}`);
  else if (clip.duplicate_group) parts.push("other clips have the same audio");
  const flags = clip.quality_flags ? `check: ${clip.quality_flags.split(" ").join(", ")} · ` : "";
  return flags + parts.join(" · ");
}

function show(index) {
  if (index < 0 || index >= state.clips.length) {
    state.index = -1;
    state.base = null;
    el.clip.hidden = true;
    el.empty.hidden = false;
    el.player.removeAttribute("src");
    renderQueue();
    announce(null);
    return;
  }
  state.index = index;
  const clip = state.clips[index];
  const stashed = state.stash.get(clip.clip_id);
  state.base = stashed ? stashed.base : { ...clip };
  const carry = stashed ? {} : carried(clip);
  state.prefill = { ...state.base, ...carry };
  el.empty.hidden = true;
  el.clip.hidden = false;
  showHead(clip);
  fill(stashed ? stashed.values : state.prefill);
  const names = Object.keys(carry);
  el.carry.textContent = names.length ? `${names.join(" and ")} carried over from the previous clip of this source` : "";
  showConflict();
  say(stashed ? "Unsaved edits restored." : "");
  state.context = false;
  el.player.src = `/api/clip/${encodeURIComponent(clip.clip_id)}/audio`;
  setRate(state.rate);
  // the address names the clip once the reviewer stays on it (replaceState is slow per key)
  clearTimeout(state.hashTimer);
  state.hashTimer = setTimeout(nameInAddress, 250);
  scrollToShown();
  renderQueue();
  announce(clip);
}

// the boundary editor (bounds.js) follows the clip shown, and reloads the queue after a re-cut
function announce(clip) { document.dispatchEvent(new CustomEvent("review:clip", { detail: clip })); }
document.addEventListener("review:reload", (event) => loadQueue(event.detail));

function nameInAddress() {
  const clip = current();
  clearTimeout(state.hashTimer);
  if (clip) history.replaceState(null, "", `#clip=${encodeURIComponent(clip.clip_id)}`);
}

// speaker and accent a clip leaves empty: those of the nearest earlier clip of its source
function carried(clip) {
  const wanted = ["speaker", "accent"].filter((name) => !clip[name]);
  const found = {};
  const near = {};
  if (!wanted.length) return found;
  for (const other of state.clips) {
    if (other.source_id !== clip.source_id || other.start >= clip.start) continue;
    for (const name of wanted) {
      if (other[name] && !(near[name] >= other.start)) { found[name] = other[name]; near[name] = other.start; }
    }
  }
  return found;
}

function go(index) {
  if (index < 0 || index >= state.clips.length || index === state.index) return;
  state.guardUntil = 0; // the guard is for a clip that appeared by a save, not one chosen
  stashEdits();
  el.player.pause();
  show(index);
}

function move(step) {
  if (state.saving) { state.queued += step; return; } // after the save, from where it leaves the page
  const target = state.index + step;
  if (target < 0 || target >= state.clips.length) {
    say(step > 0 ? "That was the last clip in this view." : "This is the first clip.");
    return;
  }
  go(target);
}

// -- conflicts ---------------------------------------------------------------------------
function showConflict() {
  const clip = current();
  const conflict = clip && state.conflicts.get(clip.clip_id);
  el.conflict.hidden = !conflict;
  if (!conflict) return;
  const { theirs, mine } = conflict;
  const who = theirs.reviewer ? ` by ${theirs.reviewer}` : "";
  el.conflictText.textContent =
    `This clip was saved${who} (now version ${theirs.version}, status ${theirs.status}) after you opened it. ` +
    "Your edits are still in the fields below and were not saved.";
  const rows = [];
  for (const name of ["status", ...FIELDS]) {
    const theirValue = String(theirs[name] ?? "");
    const mineValue = name in mine ? String(mine[name]) : null;
    if (normal(name, theirValue) === normal(name, conflict.base[name]) && mineValue === null) continue;
    const row = document.createElement("tr");
    row.append(text("th", name.replace("_", " ")), text("td", theirValue || "(empty)", "theirs"),
      text("td", mineValue === null ? "(not edited)" : mineValue || "(empty)", "mine"));
    rows.push(row);
  }
  el.conflictRows.replaceChildren(...rows);
}

function loadTheirs() {
  const clip = current();
  const conflict = clip && state.conflicts.get(clip.clip_id);
  if (!conflict) return;
  putRow(conflict.theirs);
  state.base = { ...conflict.theirs };
  state.conflicts.delete(clip.clip_id);
  state.stash.delete(clip.clip_id);
  showHead(conflict.theirs);
  fill(conflict.theirs);
  showConflict();
  renderQueue();
  say("Loaded the saved values; your edits were discarded.");
}

function keepMine() {
  const clip = current();
  const conflict = clip && state.conflicts.get(clip.clip_id);
  if (!conflict) return;
  // the fields where yours differ from theirs are sent, now against their version
  putRow(conflict.theirs);
  state.base = { ...conflict.theirs };
  state.conflicts.delete(clip.clip_id);
  showConflict();
  save(conflict.action);
}

// -- saving ------------------------------------------------------------------------------
function indexOf(clipId) { return state.at.get(clipId) ?? -1; }

async function save(action, edits) {
  const clip = current();
  if (!clip) return;
  if (state.saving) { say("Still saving the last clip…"); return; }
  if (state.conflicts.has(clip.clip_id)) {
    say("Not saved: this clip was changed elsewhere. Load theirs or save yours first.", "error");
    return;
  }
  if (performance.now() < state.guardUntil && !edits) {
    say("This clip just appeared: press the key again to save it.");
    state.guardUntil = 0;
    return;
  }
  const clipId = clip.clip_id;
  const base = state.base;
  const prefill = state.prefill || base;
  const values = edits ? { ...edits } : changes(base, formValues());
  if (action) values.status = action;
  if (!Object.keys(values).length) {
    const last = state.index + 1 >= state.clips.length;
    move(1);
    say(last ? "Nothing to save. That was the last clip in this view." : "Nothing to save.");
    return;
  }
  state.saving = clipId;
  state.queued = 0;
  try {
    const { status, body } = await api(`/api/clip/${encodeURIComponent(clipId)}/labels`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ values, version: base.version }),
    });
    saved(clipId, action, values, base, status, body, prefill);
  } catch (error) {
    say(`Not saved: ${error.message}`, "error");
    state.queued = 0;
  } finally {
    state.saving = null;
  }
  const queued = state.queued;
  state.queued = 0;
  if (queued) {
    const [message, kind] = [el.message.textContent, el.message.className.replace(/^message ?/, "")];
    move(queued);
    if (!el.message.textContent) say(message, kind);
  }
}

// the answer to a save of `clipId`: applied to that clip, whichever clip is shown now
function saved(clipId, action, values, base, status, body, prefill = base) {
  const at = indexOf(clipId);
  const here = current()?.clip_id === clipId;
  if (status === 200) {
    const { tx, state: now, ...row } = body;
    noticeState(now);
    putRow(row);
    state.stash.delete(clipId);
    state.conflicts.delete(clipId);
    if (tx) pushUndo(tx, `${action || "saved"} ${shortId(row)}`, [clipId]);
    const warning = action === "accepted" ? warningOf(row) : "";
    const what = `${shortId(row)} ${action || "saved"}.${warning ? ` Note: ${warning}.` : ""}`;
    const kind = warning ? "warn" : "ok";
    refreshProgress();
    if (!here) { say(what, kind); return; }
    state.base = { ...row };
    if (at >= 0 && at + 1 < state.clips.length) {
      el.player.pause();
      show(at + 1);
      state.guardUntil = performance.now() + GUARD_MS;
      say(what, kind);
    } else { show(at); say(`${what} That was the last clip in this view.`, kind); }
  } else if (status === 409) {
    state.queued = 0;
    const mine = {};
    for (const [name, value] of Object.entries(values)) {
      const suggested = normal(name, prefill[name]) !== normal(name, base[name]);
      // a value carried over from the previous clip gives way to one saved meanwhile
      if (name !== "status" && suggested && normal(name, value) === normal(name, prefill[name]) && body.current[name]) continue;
      mine[name] = value;
    }
    state.conflicts.set(clipId, { theirs: body.current, mine, base, action });
    putRow(body.current); // the list shows what is saved; the fields keep your edits, theirs elsewhere
    if (here) {
      state.base = { ...body.current };
      state.prefill = { ...body.current };
      fill({ ...body.current, ...mine });
      showHead(body.current);
      showConflict();
    }
    refreshProgress();
    say(`Not saved: someone else changed ${shortId(body.current)}. Compare, then load theirs or save yours.`, "error");
  } else if (status === 404) {
    state.queued = 0;
    el.recut.hidden = false;
    whereIs(clipId).then((gone) => say(`Not saved: ${gone ? gone.message : `clip ${clipId} no longer exists.`} Reload to see the clips as they are now.`, "error"));
  } else {
    state.queued = 0;
    say(`Not saved: ${body?.error || `error ${status}`}`, "error");
  }
}

// -- bulk actions and undo ----------------------------------------------------------------
function pushUndo(tx, what, ids) {
  state.undo.push({ tx, what, ids });
  if (state.undo.length > 100) state.undo.shift();
  el.undo.disabled = false;
  el.undo.title = `Undo: ${what}`;
}

function ask(message, label) {
  el.confirmText.textContent = message;
  el.confirmOk.textContent = label;
  el.confirm.returnValue = "";
  document.activeElement?.blur(); // closed, the dialog gives the focus back to the page
  el.confirm.showModal();
  el.confirmOk.focus();
  return new Promise((resolve) => {
    el.confirm.addEventListener("close", () => resolve(el.confirm.returnValue === "ok"), { once: true });
  });
}

async function bulk(status) {
  if (state.saving) { say("Still saving the last clip…"); return; }
  const rows = [...state.clips];
  if (!rows.length) { say("No clip in this view."); return; }
  const verb = status === "accepted" ? "Accept" : "Reject";
  const flagged = rows.filter((r) => r.quality_flags).length;
  const doubled = rows.filter((r) => r.duplicate_group).length;
  const notes = [];
  if (flagged) notes.push(`${flagged} flagged by the quality checks`);
  if (doubled) notes.push(`${doubled} with a duplicate`);
  const already = rows.filter((r) => r.status === status).length;
  if (already) notes.push(`${already} ${status} already`);
  const noun = `${rows.length} clip${rows.length === 1 ? "" : "s"}`;
  const message = `${verb} all ${noun} in this view?${notes.length ? ` (${notes.join("; ")})` : ""} One change in the history; U undoes it.`;
  if (!(await ask(message, `${verb} ${noun}`))) { say("Nothing changed."); return; }
  stashEdits();
  state.saving = "bulk";
  try {
    const versions = Object.fromEntries(rows.map((r) => [r.clip_id, r.version]));
    const { status: code, body } = await api("/api/bulk", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ values: { status }, versions }),
    });
    if (code !== 200) { say(`Nothing changed: ${body?.error || `error ${code}`}`, "error"); return; }
    for (const row of body.clips) putRow(row);
    for (const row of body.clips) state.stash.delete(row.clip_id);
    if (body.tx) pushUndo(body.tx, `${status} ${noun}`, rows.map((r) => r.clip_id));
    noticeState(body.state);
    reshow();
    say(`${noun} ${status}.`, "ok");
  } finally {
    state.saving = null;
  }
}

async function undoLast() {
  if (state.saving) { say("Still saving the last clip…"); return; }
  const last = state.undo.pop();
  el.undo.disabled = !state.undo.length;
  if (!last) { say("Nothing to undo on this page."); return; }
  stashEdits();
  const { status, body } = await api("/api/undo", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tx: last.tx }),
  });
  if (status !== 200) { say(`Not undone: ${body?.error || `error ${status}`}`, "error"); return; }
  for (const row of body.clips) { putRow(row); state.stash.delete(row.clip_id); }
  const index = last.ids.length === 1 ? indexOf(last.ids[0]) : state.index;
  reshow(index);
  say(`Undone: ${last.what}.`, "ok");
}

// the clip shown again from its row as now saved (after a bulk action or an undo)
function reshow(index = state.index) {
  state.index = -1;
  show(index);
  showProgress(progress());
}

// -- audio -------------------------------------------------------------------------------
function play() {
  el.player.play().catch((error) => say(`Cannot play: ${error.message}`, "error"));
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

function setRate(rate) {
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
function typing(node) {
  if (!node) return false;
  if (node.tagName === "TEXTAREA" || node.tagName === "SELECT" || node.isContentEditable) return true;
  return node.tagName === "INPUT" && !["button", "checkbox", "radio", "submit"].includes(node.type);
}

function onKey(event) {
  if (el.confirm.open) return; // the dialog's own keys: Enter confirms, Esc cancels
  const active = document.activeElement;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    save(null);
    return;
  }
  if (event.key === "Escape") {
    if (typing(active)) active.blur();
    return;
  }
  if (typing(active) || event.ctrlKey || event.metaKey || event.altKey) return;
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
}

// -- start -------------------------------------------------------------------------------
function wanted() {
  const match = /^#clip=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

document.addEventListener("keydown", onKey);
el.scroller.addEventListener("scroll", onScroll, { passive: true });
window.addEventListener("resize", () => { measureQueue(); renderQueue(); });
// after a click on a button, keys act on the page again (Space plays rather than clicking twice)
document.addEventListener("click", (event) => event.target.closest?.("button")?.blur());
el.filters.addEventListener("change", () => { stashEdits(); applyFilters(current()?.clip_id); });
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
$("btn-reload").addEventListener("click", () => { stashEdits(); location.reload(); });
setInterval(poll, POLL_MS);
window.addEventListener("hashchange", () => {
  const index = indexOf(wanted());
  if (index >= 0) go(index);
});
window.addEventListener("beforeunload", (event) => {
  nameInAddress();
  stashEdits();
  if (state.stash.size) event.preventDefault();
});

loadQueue(wanted());

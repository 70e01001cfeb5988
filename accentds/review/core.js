// accentds review page: settings, the page's elements and state, small helpers, filters
// and the API call every request goes through (it sends the page's token).

export const FIELDS = ["transcript", "speaker", "accent", "accent_evidence", "note"];
export const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
export const SEEK_S = 1;
export const POLL_MS = 3000; // how often the page asks whether clips were re-cut or labels saved elsewhere
export const GUARD_MS = 500;
export const ROW_PX = 56;    // the height of one row of the list: only the rows in sight are made
export const SPARE_ROWS = 12; // rows made above and below the ones in sight // a save key this soon after a save moved on is the double press of the last one
export const $ = (id) => document.getElementById(id);

export const el = {
  corpus: $("corpus"), progress: $("progress"), progressBar: $("progress-bar"),
  filters: $("filters"), queue: $("queue"), scroller: $("queue-scroll"), queueCount: $("queue-count"),
  empty: $("empty"), clip: $("clip"), title: $("clip-title"), status: $("clip-status"),
  position: $("clip-position"), meta: $("clip-meta"), quality: $("clip-quality"), player: $("player"), playing: $("playing"),
  offline: $("offline"), conflict: $("conflict"), conflictText: $("conflict-text"), conflictRows: $("conflict-rows"),
  draftMark: $("draft-mark"), speakers: $("speakers"), message: $("message"), carry: $("carry"), recut: $("recut"), recutText: $("recut-text"),
  filter: {
    status: $("filter-status"), source: $("filter-source"), accent: $("filter-accent"), speaker: $("filter-speaker"),
    flag: $("filter-flag"), duplicate: $("filter-duplicate"), text: $("filter-text"), search: $("filter-search"),
  },
  warn: $("clip-warning"), confirm: $("confirm"), confirmText: $("confirm-text"), confirmOk: $("confirm-ok"),
  undo: $("btn-undo"),
  field: { transcript: $("f-transcript"), speaker: $("f-speaker"), accent: $("f-accent"), accent_evidence: $("f-evidence"), note: $("f-note") },
};

export const state = {
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
  stash: new Map(),  // clip id -> {base, values, saving}: edits of clips left for another, not yet saved
  conflicts: new Map(), // clip id -> {theirs, mine, action}
  schema: null,
  context: false,
  saving: null,      // "bulk" while a bulk action is under way
  sending: new Map(), // clip id -> how many saves of it are sent and not yet answered
  guardUntil: 0,     // save keys are held until then (performance.now())
  held: null,        // the clip shown when a save key was held by that guard
  known: null,       // {clips, labels}: the server's state the rows shown were read at
};

// -- helpers -----------------------------------------------------------------------------
export function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

export function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

export function shortId(clip) {
  // "file-c2a69618a28d-00000480-00004980" -> "c2a69618 0:00.5"
  const source = clip.source_id.replace(/^(file|yt|url)-/, "");
  return `${source.length > 9 ? source.slice(0, 8) + "…" : source} ${clock(clip.start)}`;
}

export function say(message, kind = "") {
  el.message.textContent = message;
  el.message.className = "message" + (kind ? " " + kind : "");
}

export function filterValues() {
  const values = {};
  for (const [name, input] of Object.entries(el.filter)) values[name] = input.value;
  values.search = values.search.trim().toLowerCase();
  return values;
}

export function matches(row, f, withStatus) {
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
export function progress() {
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


export function indexOf(clipId) { return state.at.get(clipId) ?? -1; }

export function putRow(row) {
  state.all.set(row.clip_id, row);
  const at = indexOf(row.clip_id);
  if (at >= 0) state.clips[at] = row;
}

// the server's access token, given in the page's HTML; every request sends it
const TOKEN = document.querySelector('meta[name="accentds-token"]')?.content || "";

export const UNREACHABLE = "the review server does not answer: start `accentds review` again and open the address it prints";

// every request: a server that does not answer (stopped, or restarted with another token) is
// told in a banner that stays until it answers again, and the request's caller gets status 0
// and that reason instead of an exception
export async function api(path, options = {}) {
  const headers = { ...options.headers, "X-Accentds-Token": TOKEN };
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...options, headers });
  } catch {
    reachable(false, `Cannot reach the server: ${UNREACHABLE}.`);
    return { status: 0, ok: false, body: { error: UNREACHABLE } };
  }
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.status === 401) reachable(false, `The server refused this page: ${body?.error || "it needs its access token"}.`);
  else reachable(true);
  return { status: response.status, ok: response.ok, body };
}

function reachable(yes, why = "") {
  if (yes && problem !== "server") return;
  problem = yes ? null : "server";
  el.offline.hidden = yes;
  if (!yes) el.offline.textContent = why;
}

let problem = null; // what the banner tells: "server" (not answering) or "load" (the list)

// the list could not be loaded (a damaged manifest, say): told in the banner, which stays
// until the list loads; the message line lies in the clip's panel, hidden without a clip
export function cannotLoad(why) {
  if (problem === "server") return;
  problem = why ? "load" : null;
  el.offline.hidden = !why;
  el.offline.textContent = why ? `Cannot load the clips: ${why}` : "";
}

// whether keys pressed now are typed into a field rather than being the page's keys
export function typing(node) {
  if (!node) return false;
  if (node.tagName === "TEXTAREA" || node.tagName === "SELECT" || node.isContentEditable) return true;
  return node.tagName === "INPUT" && !["button", "checkbox", "radio", "submit"].includes(node.type);
}

export function current() { return state.index >= 0 ? state.clips[state.index] : null; }

export function formValues() {
  const values = {};
  for (const name of FIELDS) values[name] = el.field[name].value;
  return values;
}

export function normal(name, value) {
  const text = String(value ?? "");
  return name === "note" ? text.trim() : text.split(/\s+/).filter(Boolean).join(" ");
}

export function changes(base, values) {
  const changed = {};
  for (const name of FIELDS) {
    if (normal(name, values[name]) !== normal(name, base[name])) changed[name] = values[name];
  }
  return changed;
}

export function setOptions(select, values, keepFirst = true, labelOf = (v) => v) {
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

export function ensureOption(select, value) {
  // a value outside the schema (e.g. the schema changed) stays visible rather than dropped
  if (value && ![...select.options].some((o) => o.value === value)) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = `${value} (not in the schema)`;
    select.append(option);
  }
}

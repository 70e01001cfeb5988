// accentds review page: the clip shown, its fields, moving through the list, and conflicts.

import { $, api, changes, clock, current, el, ensureOption, FIELDS, formValues, normal, putRow, say, shortId, state, text } from "./core.js";
import { loadQueue, renderQueue, scrollToShown } from "./queue.js";
import { save } from "./save.js";
import { setRate, wanted } from "./page.js";

// -- the clip shown --------------------------------------------------------------------
export function stashEdits() {
  const clip = current();
  if (!clip || !state.base) return;
  const values = formValues();
  if (Object.keys(changes(state.prefill || state.base, values)).length) state.stash.set(clip.clip_id, { base: state.base, values });
  else state.stash.delete(clip.clip_id);
}

export function fill(values) {
  for (const name of FIELDS) {
    if (name === "accent" || name === "accent_evidence") ensureOption(el.field[name], values[name]);
    el.field[name].value = values[name] ?? "";
  }
  updateDraftMark();
}

export function updateDraftMark() {
  const base = state.base;
  el.draftMark.hidden = !(base && base.transcript_is_draft && el.field.transcript.value === base.transcript);
  // a draft that is not the value (dismissed, or the field cleared) stays visible as a suggestion
  const draft = base?.transcript_draft || "";
  el.field.transcript.placeholder = draft && el.field.transcript.value !== draft ? `caption draft: ${draft}` : "";
}

export function showHead(clip) {
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

export function warningOf(clip) {
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

export function show(index) {
  if (index < 0 || index >= state.clips.length) {
    state.index = -1;
    state.base = null;
    el.clip.hidden = true;
    el.empty.hidden = false;
    el.empty.textContent = state.order.length
      ? "No clip matches these filters."
      : "This workspace has no clips yet: `accentds pull FILE|URL` pulls and cuts some; then reload this page.";
    el.player.removeAttribute("src");
    renderQueue();
    announce(null);
    return;
  }
  state.index = index;
  state.held = null;
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
  say(stashed ? (stashed.saving ? "Saving this clip…" : "Unsaved edits restored.") : "");
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

// the clip shown, changed elsewhere (another tab, the CLI): shown anew when nothing was typed
// into it and no save of it is under way; an edit made meanwhile meets the conflict panel
export function refreshShown(row) {
  const clip = current();
  if (!clip || clip.clip_id !== row.clip_id || !state.base || row.version === state.base.version) return;
  // the list and the progress show what is saved, also of a clip whose fields keep edits
  // (one accepted elsewhere while typed into was still counted pending); the fields and
  // the version a save is sent against stay, so that save meets the conflict panel
  if (row.version > (state.all.get(row.clip_id)?.version ?? -1)) putRow(row);
  if (state.sending.has(row.clip_id) || state.conflicts.has(row.clip_id)) return;
  if (Object.keys(changes(state.prefill || state.base, formValues())).length) return;
  putRow(row);
  state.base = { ...row };
  state.prefill = { ...state.base, ...carried(row) };
  showHead(row);
  fill(state.prefill);
  say(`Changed elsewhere${row.reviewer ? ` by ${row.reviewer}` : ""}: the clip shows its new labels.`, "warn");
}

// the boundary editor (bounds.js) follows the clip shown, and reloads the queue after a re-cut
function announce(clip) { document.dispatchEvent(new CustomEvent("review:clip", { detail: clip })); }
document.addEventListener("review:reload", (event) => loadQueue(event.detail));

export function nameInAddress() {
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
    const kept = state.stash.get(other.clip_id);
    const values = kept?.saving ? kept.values : other; // a clip being saved: what it is being saved with
    for (const name of wanted) {
      if (values[name] && !(near[name] >= other.start)) { found[name] = values[name]; near[name] = other.start; }
    }
  }
  return found;
}

export function go(index) {
  if (index < 0 || index >= state.clips.length || index === state.index) return;
  state.guardUntil = 0; // the guard is for a clip that appeared by a save, not one chosen
  stashEdits();
  el.player.pause();
  show(index);
}

export function move(step) {
  const target = state.index + step;
  if (target < 0 || target >= state.clips.length) {
    say(step > 0 ? "That was the last clip in this view." : "This is the first clip.");
    return;
  }
  go(target);
}

// -- conflicts ---------------------------------------------------------------------------
export function showConflict() {
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

// a conflict answered either way: their saved values become the clip's and the base of edits
function settle(clip, conflict) {
  putRow(conflict.theirs);
  state.base = { ...conflict.theirs };
  state.conflicts.delete(clip.clip_id);
}

export function loadTheirs() {
  const clip = current();
  const conflict = clip && state.conflicts.get(clip.clip_id);
  if (!conflict) return;
  settle(clip, conflict);
  state.stash.delete(clip.clip_id);
  showHead(conflict.theirs);
  fill(conflict.theirs);
  showConflict();
  renderQueue();
  say("Loaded the saved values; your edits were discarded.");
}

export function keepMine() {
  const clip = current();
  const conflict = clip && state.conflicts.get(clip.clip_id);
  if (!conflict) return;
  // the fields where yours differ from theirs are sent, now against their version
  settle(clip, conflict);
  showConflict();
  save(conflict.action);
}

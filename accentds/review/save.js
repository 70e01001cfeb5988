// accentds review page: saving (every save names its clip and version), bulk actions and undo.

import { $, api, changes, current, el, formValues, GUARD_MS, indexOf, normal, progress, putRow, say, shortId, state, typing } from "./core.js";
import { noticeState, refreshProgress, renderQueue, showProgress, showRecut, whereIs } from "./queue.js";
import { fill, go, move, show, showConflict, showHead, stashEdits, updateDraftMark, warningOf } from "./clip.js";

// -- saving ------------------------------------------------------------------------------
// A save key takes the fields as they are at that key and moves on at once, so the keys
// pressed after it go to the next clip, never into the one being saved. The saves are sent
// one after another; each answer is applied to its own clip, wherever the page is by then.
// Until it is saved, a clip's edits stay in the stash: a refused save loses nothing.
let chain = Promise.resolve();
const HELD = "This clip just appeared: press the key again to save it.";
const made = new Map(); // "clip id@version" -> the row a save from this page made of that version

// `base` with the saves this page made of it since applied (a clip saved again before the
// answer to the first save came: the second is sent against the version the first made)
function latest(clipId, base) {
  for (let row = made.get(`${clipId}@${base.version}`); row; row = made.get(`${clipId}@${base.version}`)) base = row;
  return base;
}

// the saves sent so far, answered (bulk actions and undo wait for them)
export function saves() { return chain; }

export function save(action) {
  const clip = current();
  if (!clip) return;
  if (state.saving) { say("Still saving the last change…"); return; }
  if (state.conflicts.has(clip.clip_id)) {
    say("Not saved: this clip was changed elsewhere. Load theirs or save yours first.", "error");
    return;
  }
  const sent = formValues(); // the fields as sent: what is typed after belongs to the next clip
  const typed = Object.keys(changes(state.prefill || state.base, sent)).length > 0;
  if (performance.now() < state.guardUntil && !typed) {
    say(HELD);
    state.guardUntil = 0;
    state.held = clip.clip_id; // the answer to the save before says so again
    return;
  }
  const clipId = clip.clip_id;
  const base = state.base;
  const values = changes(base, sent);
  if (action) values.status = action;
  const at = state.index;
  const last = at + 1 >= state.clips.length;
  if (!Object.keys(values).length) {
    move(1);
    say(last ? "Nothing to save. That was the last clip in this view." : "Nothing to save.");
    return;
  }
  const entry = { base, values: sent, saving: true };
  state.stash.set(clipId, entry);
  state.sending.set(clipId, (state.sending.get(clipId) || 0) + 1);
  el.queue.setAttribute("aria-busy", "true"); // until every save sent is answered
  const job = { clipId, action, base, prefill: state.prefill || base, sent, entry, next: null };
  if (!last) {
    el.player.pause();
    show(at + 1);
    job.next = current().clip_id;
    state.guardUntil = performance.now() + GUARD_MS;
  } else renderQueue();
  chain = chain.then(() => send(job)).catch((error) => say(`Not saved: ${error.message}`, "error"));
}

async function send(job) {
  const { clipId, action } = job;
  const base = latest(clipId, job.base);
  const values = changes(base, job.sent);
  if (action) values.status = action;
  try {
    const { status, body } = await api(`/api/clip/${encodeURIComponent(clipId)}/labels`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ values, version: base.version }),
    });
    saved(job, values, base, status, body);
  } catch (error) {
    refused(job, `Not saved: ${error.message}`);
  } finally {
    const left = (state.sending.get(clipId) || 1) - 1;
    if (left) state.sending.set(clipId, left); else state.sending.delete(clipId);
    if (!state.sending.size) el.queue.removeAttribute("aria-busy");
  }
}

// the answer to a save: applied to its clip, whichever clip is shown now
function saved(job, values, base, status, body) {
  const { clipId, action, prefill, sent, entry } = job;
  const here = current()?.clip_id === clipId;
  const kept = state.stash.get(clipId);
  if (status === 200) {
    const { tx, state: now, ...row } = body;
    made.set(`${clipId}@${base.version}`, row);
    noticeState(now);
    putRow(row);
    state.conflicts.delete(clipId);
    if (kept === entry) state.stash.delete(clipId);
    else if (kept) {
      // edited again before this answer came: those edits stay, now against what is saved
      kept.base = latest(clipId, kept.base);
      if (!Object.keys(changes(kept.base, kept.values)).length) state.stash.delete(clipId);
    }
    if (tx) pushUndo(tx, `${action || "saved"} ${shortId(row)}`, [clipId]);
    const warning = action === "accepted" ? warningOf(row) : "";
    const what = `${shortId(row)} ${action || "saved"}.${warning ? ` Note: ${warning}.` : ""}`;
    const kind = warning ? "warn" : "ok";
    if (here) {
      const typedSince = Object.keys(changes(sent, formValues())).length > 0;
      state.base = latest(clipId, state.base);
      state.prefill = { ...row };
      showHead(row);
      if (!typedSince) fill(row);
      else updateDraftMark();
    }
    refreshProgress();
    if (here && Object.keys(changes(row, formValues())).length) {
      say(`${what} What you typed since is not saved yet: S saves it.`, "warn");
      return;
    }
    const end = here && !job.next ? " That was the last clip in this view." : "";
    // a press held on the clip shown is not hidden by the answer to the save before it
    const held = !here && state.held && state.held === current()?.clip_id ? ` ${HELD}` : "";
    say(`${what}${end}${held}`, held ? "warn" : kind);
  } else if (status === 409) {
    const mine = {};
    for (const [name, value] of Object.entries(values)) {
      const suggested = normal(name, prefill[name]) !== normal(name, base[name]);
      // a value carried over from the previous clip gives way to one saved meanwhile
      if (name !== "status" && suggested && normal(name, value) === normal(name, prefill[name]) && body.current[name]) continue;
      mine[name] = value;
    }
    state.conflicts.set(clipId, { theirs: body.current, mine, base, action });
    putRow(body.current); // the list shows what is saved; the fields keep your edits, theirs elsewhere
    // what was typed into the clip after this save was sent is kept on top of it
    const since = changes(sent, here ? formValues() : (kept || entry).values);
    const fields = { ...body.current, ...mine, ...since };
    if (here) {
      state.base = { ...body.current };
      state.prefill = { ...body.current };
      fill(fields);
      showHead(body.current);
      showConflict();
    }
    state.stash.set(clipId, { base: { ...body.current }, values: fields });
    refused(job, `Not saved: someone else changed ${shortId(body.current)}. Compare, then load theirs or save yours.`);
  } else if (status === 404) {
    showRecut();
    refused(job, "");
    whereIs(clipId, false).then((gone) => say(`Not saved: ${gone ? gone.message : `clip ${clipId} no longer exists.`} Reload to see the clips as they are now.`, "error"));
  } else {
    refused(job, `Not saved: ${body?.error || `error ${status}`}`);
  }
}

// a save refused or not sent: the clip's edits stay in the stash, marked unsaved in the list.
// The page goes back to the clip unless the reviewer has started on the one it moved on to.
function refused(job, message) {
  if (state.stash.get(job.clipId) === job.entry) job.entry.saving = false;
  const moved = current()?.clip_id === job.next;
  const idle = !typing(document.activeElement) && !Object.keys(changes(state.prefill || state.base, formValues())).length;
  if (moved && idle && indexOf(job.clipId) >= 0) go(indexOf(job.clipId));
  refreshProgress();
  if (!message) return;
  const where = current()?.clip_id === job.clipId ? "" : ` (${shortId(state.all.get(job.clipId) || { source_id: job.clipId, start: 0 })}, marked in the list)`;
  say(`${message}${where}`, "error");
}

// -- bulk actions and undo ----------------------------------------------------------------
function pushUndo(tx, what, ids) {
  state.undo.push({ tx, what, ids });
  if (state.undo.length > 100) state.undo.shift();
  el.undo.disabled = false;
  el.undo.title = `Undo: ${what}`;
}

let asked = null; // the question on screen: { resolve }

// A yes/no question in the dialog. The dialog's "close" event comes a moment after it
// closes: one arriving while a later question is open belongs to the earlier one.
function ask(message, label) {
  asked?.resolve(false); // a question never answered counts as "no"
  el.confirmText.textContent = message;
  el.confirmOk.textContent = label;
  el.confirm.returnValue = "";
  document.activeElement?.blur(); // closed, the dialog gives the focus back to the page
  el.confirm.showModal();
  el.confirmOk.focus();
  return new Promise((resolve) => {
    const mine = { resolve };
    asked = mine;
    const closed = () => {
      if (asked === mine && el.confirm.open) return; // an earlier question's close
      el.confirm.removeEventListener("close", closed);
      if (asked !== mine) return;
      asked = null;
      resolve(el.confirm.returnValue === "ok");
    };
    el.confirm.addEventListener("close", closed);
  });
}

export async function bulk(status) {
  if (state.saving) { say("Still saving the last change…"); return; }
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
  state.saving = "bulk";
  try {
    await saves(); // the versions the saves sent before this left the clips at
    stashEdits();
    const versions = Object.fromEntries(rows.map((r) => [r.clip_id, (state.all.get(r.clip_id) || r).version]));
    const { status: code, body } = await api("/api/bulk", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ values: { status }, versions }),
    });
    if (code !== 200) { say(`Nothing changed: ${body?.error || `error ${code}`}`, "error"); return; }
    const unsaved = rebase(body.clips);
    if (body.tx) pushUndo(body.tx, `${status} ${noun}`, rows.map((r) => r.clip_id));
    noticeState(body.state);
    reshow();
    say(`${noun} ${status}.${unsaved}`, unsaved ? "warn" : "ok");
  } finally {
    state.saving = null;
  }
}

// U pressed again before the last undo was answered waits for it: sent together, the older
// change's undo was refused (its clip "changed since") and dropped from the page's list
let undoing = Promise.resolve();
export function undoLast() {
  undoing = undoing.then(undoOne, undoOne);
  return undoing;
}

async function undoOne() {
  if (state.saving) { say("Still saving the last change…"); return; }
  await saves(); // U right after A undoes that A
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
  const unsaved = rebase(body.clips);
  const index = last.ids.length === 1 ? indexOf(last.ids[0]) : state.index;
  reshow(index);
  say(`Undone: ${last.what}.${unsaved}`, unsaved ? "warn" : "ok");
}

// rows a bulk action or an undo saved: what was typed into them and not saved yet stays,
// against the version now saved (a bulk accept dropped a typed transcript unseen); says so
function rebase(rows) {
  let kept = 0;
  for (const row of rows) {
    putRow(row);
    const entry = state.stash.get(row.clip_id);
    if (!entry) continue;
    if (Object.keys(changes(row, entry.values)).length) {
      entry.base = { ...row };
      kept += 1;
    } else state.stash.delete(row.clip_id);
  }
  return kept ? ` What you typed into ${kept} of them is not saved yet (marked unsaved): S saves it.` : "";
}

// the clip shown again from its row as now saved (after a bulk action or an undo)
function reshow(index = state.index) {
  state.index = -1;
  show(index);
  showProgress(progress());
}

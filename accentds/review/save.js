// accentds review page: saving (every save names its clip and version), bulk actions and undo.

import { $, api, changes, current, el, formValues, GUARD_MS, indexOf, normal, progress, putRow, say, shortId, state } from "./core.js";
import { noticeState, refreshProgress, showProgress, whereIs } from "./queue.js";
import { fill, move, show, showConflict, showHead, stashEdits, updateDraftMark, warningOf } from "./clip.js";

// -- saving ------------------------------------------------------------------------------
export async function save(action, edits) {
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
  const sent = edits ? null : formValues(); // the fields as sent: what is typed after stays unsaved
  const values = edits ? { ...edits } : changes(base, sent);
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
    saved(clipId, action, values, base, status, body, prefill, sent);
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

// the answer to a save of `clipId`: applied to that clip, whichever clip is shown now;
// `sent` holds the fields as they were sent (null for a save not made from the fields)
export function saved(clipId, action, values, base, status, body, prefill = base, sent = null) {
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
    if (sent && Object.keys(changes(sent, formValues())).length) {
      // keys typed while the save was under way went into this clip's fields: they stay
      // there, unsaved, rather than being replaced by the next clip's values
      state.prefill = { ...row };
      showHead(row);
      updateDraftMark();
      say(`${what} What you typed while it was saving is not saved yet: S saves it.`, "warn");
      return;
    }
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

export async function undoLast() {
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

// accentds review page: the boundary editor. A waveform of the clip inside its surrounding
// source audio (drawn on a canvas from /api/clip/ID/wave), the clip's start and end as
// handles to drag or nudge with keys, a split at the playhead, and a save that re-cuts the
// clip from the source (/api/clip/ID/bounds) against the clip's version.
//
// page.js tells which clip is shown with a "review:clip" event (detail: the clip's row, or
// null); after a save this asks it to reload the queue at the new clip ("review:reload").

const PAD_S = 3;
// the server's access token, given in the page's HTML (page.js sends it the same way)
const TOKEN_HEADER = { "X-Accentds-Token": document.querySelector('meta[name="accentds-token"]')?.content || "" };
const STEP_S = 0.01;       // a nudge; with Shift ten times as much
const GRAB_PX = 8;         // how near a handle a press takes it
const KEYS = [
  ["B", "show / hide the boundary editor"],
  ["1 / 2", "start earlier / later (10 ms; Shift: 100 ms)"],
  ["3 / 4", "end earlier / later (10 ms; Shift: 100 ms)"],
  ["5", "play the clip as marked (again: pause)"],
  ["6", "split at the playhead (again: no split)"],
  ["0", "back to the saved boundaries"],
  ["Shift+Enter", "save the boundaries"],
];

const state = {
  open: localStorage.getItem("accentds.bounds.open") === "1",
  clip: null,      // the row page.js shows
  wave: null,      // /wave of that clip
  start: 0, end: 0, // the handles (source seconds)
  split: null,     // a split point, or null
  playhead: 0,
  stopAt: null,    // playing the marked clip: pause here
  drag: null,      // "start" | "end" while dragging
  loading: 0,      // counts requests: an answer for a clip left since is dropped
  notice: "",      // what the last save did, shown once the new clip is loaded
  saving: false,
};

// -- the editor's DOM ----------------------------------------------------------------------
function make(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function keyed(label, key) {
  return [label + " ", make("kbd", { text: key })];
}

const root = document.getElementById("bounds-editor");
const ui = {
  toggle: make("button", { type: "button", id: "bounds-toggle", class: "bounds-toggle", "aria-expanded": "false", "aria-controls": "bounds-body" },
    ...keyed("Boundaries", "B")),
  hand: make("span", { class: "badge hand-badge", text: "set by hand", hidden: "" }),
  body: make("div", { id: "bounds-body", class: "bounds-body", hidden: "" }),
  canvas: make("canvas", { id: "bounds-wave", class: "bounds-wave", height: "130", tabindex: "-1",
    "aria-label": "Waveform of the clip in its surrounding audio: drag the start and end handles, click to move the playhead" }),
  start: make("output", { id: "bounds-start" }),
  end: make("output", { id: "bounds-end" }),
  length: make("output", { id: "bounds-length" }),
  splitAt: make("output", { id: "bounds-split" }),
  play: make("button", { type: "button", id: "bounds-play" }, ...keyed("Play marked", "5")),
  splitButton: make("button", { type: "button", id: "bounds-split-btn" }, ...keyed("Split at playhead", "6")),
  reset: make("button", { type: "button", id: "bounds-reset" }, ...keyed("Reset", "0")),
  saveLabel: make("span", { text: "Save boundaries" }),
  save: make("button", { type: "button", id: "bounds-save", class: "accept" }),
  message: make("p", { id: "bounds-message", class: "message", role: "status", "aria-live": "polite" }),
  audio: make("audio", { id: "bounds-audio", preload: "none" }),
};

function nudger(which, sign) {
  return make("button", { type: "button", class: "nudge", "data-which": which, "data-sign": String(sign),
    "aria-label": `${which} ${sign < 0 ? "earlier" : "later"} by 10 ms`, text: sign < 0 ? "−" : "+" });
}

function build() {
  if (!root) return;
  const readout = make("div", { class: "bounds-readout" },
    make("span", { class: "bounds-field" }, "start ", ui.start, nudger("start", -1), nudger("start", 1)),
    make("span", { class: "bounds-field" }, "end ", ui.end, nudger("end", -1), nudger("end", 1)),
    make("span", { class: "bounds-field" }, "length ", ui.length),
    make("span", { class: "bounds-field" }, "split ", ui.splitAt));
  ui.save.append(ui.saveLabel, " ", make("kbd", { text: "Shift+Enter" }));
  const buttons = make("div", { class: "bounds-buttons" }, ui.play, ui.splitButton, ui.reset,
    make("span", { class: "spacer" }), ui.save);
  ui.body.append(ui.canvas, readout, buttons, ui.message, ui.audio);
  root.append(make("div", { class: "bounds-head" }, ui.toggle, ui.hand), ui.body);
  const help = document.querySelector(".keys");
  if (help) {
    help.append(make("h2", { text: "Boundary editor" }), make("dl", { class: "bounds-keys" },
      ...KEYS.map(([key, what]) => make("div", {}, make("dt", {}, ...key.split(" / ").flatMap((k, i) =>
        i ? [" / ", make("kbd", { text: k })] : [make("kbd", { text: k })])), make("dd", { text: what })))));
  }
}

// -- utilities --------------------------------------------------------------------------------
const ms = (t) => Math.round(t * 1000) / 1000;
const seconds = (t) => `${t.toFixed(3)} s`;

function say(text, kind = "") {
  ui.message.textContent = text;
  ui.message.className = "message" + (kind ? " " + kind : "");
}

function typing(node) {
  if (!node) return false;
  if (node.tagName === "TEXTAREA" || node.tagName === "SELECT" || node.isContentEditable) return true;
  return node.tagName === "INPUT" && !["button", "checkbox", "radio", "submit"].includes(node.type);
}

function limits() {
  // how far the handles may go: the window, the neighbouring clips, the shortest clip
  const w = state.wave;
  let lo = w.begin, hi = w.stop;
  for (const n of w.neighbours) {
    if (n.end <= w.start + 1e-6) lo = Math.max(lo, n.end);
    if (n.start >= w.end - 1e-6) hi = Math.min(hi, n.start);
  }
  return { lo, hi, min: w.min_clip_s };
}

function setHandle(which, value) {
  if (!state.wave) return;
  const { lo, hi, min } = limits();
  if (which === "start") state.start = ms(Math.min(Math.max(value, lo), state.end - min));
  else state.end = ms(Math.max(Math.min(value, hi), state.start + min));
  if (state.split !== null && !(state.split - state.start >= min && state.end - state.split >= min)) state.split = null;
  update();
}

function changed() {
  const w = state.wave;
  return !!w && (Math.abs(state.start - w.start) > 5e-4 || Math.abs(state.end - w.end) > 5e-4 || state.split !== null);
}

// -- drawing --------------------------------------------------------------------------------
function x(t, width) {
  const w = state.wave;
  return ((t - w.begin) / (w.stop - w.begin)) * width;
}

function draw() {
  const canvas = ui.canvas;
  const w = state.wave;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width) return;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.fillStyle = "#f7f8fa";
  g.fillRect(0, 0, width, height);
  if (!w) return;
  const axis = 16; // the time ruler at the bottom
  const mid = (height - axis) / 2;
  for (const n of w.neighbours) { // other clips of the source: not to be taken
    g.fillStyle = "#e4e7eb";
    g.fillRect(x(n.start, width), 0, x(n.end, width) - x(n.start, width), height - axis);
  }
  g.fillStyle = "#dfe9fb";
  g.fillRect(x(state.start, width), 0, x(state.end, width) - x(state.start, width), height - axis);
  const per = w.per_s;
  for (let px = 0; px < width; px++) { // one bar per pixel: the loudest peak it covers
    const a = Math.floor(((px / width) * (w.stop - w.begin)) * per);
    const b = Math.max(a + 1, Math.floor((((px + 1) / width) * (w.stop - w.begin)) * per));
    let peak = 0;
    for (let i = a; i < b && i < w.peaks.length; i++) peak = Math.max(peak, w.peaks[i]);
    const t = w.begin + (px + 0.5) / width * (w.stop - w.begin);
    g.fillStyle = t >= state.start && t <= state.end ? "#0b57d0" : "#8a939e";
    const h = Math.max(1, peak * mid);
    g.fillRect(px, mid - h, 1, 2 * h);
  }
  g.setLineDash([4, 3]); // where the clip is saved now
  g.strokeStyle = "#555d66";
  g.lineWidth = 1;
  for (const t of [w.start, w.end]) {
    g.beginPath(); g.moveTo(x(t, width) + 0.5, 0); g.lineTo(x(t, width) + 0.5, height - axis); g.stroke();
  }
  g.setLineDash([]);
  for (const [t, label] of [[state.start, "start"], [state.end, "end"]]) { // the handles
    const px = x(t, width);
    g.fillStyle = "#0b57d0";
    g.fillRect(px - 1.5, 0, 3, height - axis);
    g.fillRect(label === "start" ? px - 1.5 : px - 10.5, 0, 12, 14);
    g.fillStyle = "#fff";
    g.font = "bold 10px system-ui, sans-serif";
    g.fillText(label === "start" ? "[" : "]", label === "start" ? px + 2 : px - 7, 11);
  }
  g.strokeStyle = "#a3141d"; // the playhead
  g.lineWidth = 1.5;
  g.beginPath(); g.moveTo(x(state.playhead, width), 0); g.lineTo(x(state.playhead, width), height - axis); g.stroke();
  if (state.split !== null) { // drawn over the playhead, which it was taken from
    const px = x(state.split, width);
    g.strokeStyle = "#b35c00";
    g.lineWidth = 2;
    g.setLineDash([6, 3]);
    g.beginPath(); g.moveTo(px, 14); g.lineTo(px, height - axis); g.stroke();
    g.setLineDash([]);
    g.fillStyle = "#b35c00";
    g.fillRect(px - 15, 0, 30, 14);
    g.fillStyle = "#fff";
    g.font = "bold 10px system-ui, sans-serif";
    g.fillText("split", px - 11, 11);
  }
  g.fillStyle = "#555d66"; // the ruler
  g.font = "10px system-ui, sans-serif";
  const span = w.stop - w.begin;
  const tick = span > 30 ? 5 : span > 12 ? 2 : span > 5 ? 1 : 0.5;
  for (let t = Math.ceil(w.begin / tick) * tick; t <= w.stop; t += tick) {
    const px = x(t, width);
    g.fillRect(px, height - axis, 1, 4);
    if (px + 30 < width) g.fillText(`${+t.toFixed(1)} s`, px + 2, height - 4);
  }
}

function update() {
  if (!state.wave) return;
  ui.start.textContent = seconds(state.start);
  ui.end.textContent = seconds(state.end);
  ui.length.textContent = seconds(state.end - state.start);
  ui.splitAt.textContent = state.split === null ? "none" : seconds(state.split);
  ui.save.disabled = !changed() || state.saving;
  ui.saveLabel.textContent = state.split !== null ? "Save split" : "Save boundaries";
  draw();
}

// -- loading a clip -------------------------------------------------------------------------
async function load() {
  const clip = state.clip;
  const ticket = ++state.loading;
  state.wave = null;
  ui.audio.pause();
  ui.audio.removeAttribute("src");
  draw();
  if (!clip || !state.open) return;
  if (!state.notice) say("Loading the waveform…");
  const id = encodeURIComponent(clip.clip_id);
  let body = null, status = 0;
  try {
    const response = await fetch(`/api/clip/${id}/wave?pad=${PAD_S}`, { credentials: "same-origin", headers: TOKEN_HEADER });
    status = response.status;
    body = await response.json();
  } catch (error) {
    body = { error: error.message };
  }
  if (ticket !== state.loading) return;
  if (status !== 200) { say(`No waveform: ${body?.error || `error ${status}`}`, "error"); return; }
  state.wave = body;
  state.start = body.start;
  state.end = body.end;
  state.split = null;
  state.playhead = body.start;
  ui.hand.hidden = !body.hand;
  ui.audio.src = `/api/clip/${id}/wave.wav?pad=${PAD_S}`;
  say(state.notice, state.notice ? "ok" : "");
  state.notice = "";
  update();
}

function setOpen(open) {
  state.open = open;
  localStorage.setItem("accentds.bounds.open", open ? "1" : "0");
  ui.body.hidden = !open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  if (open && (!state.wave || state.wave.clip_id !== state.clip?.clip_id)) load();
  else if (!open) ui.audio.pause();
}

// -- playing --------------------------------------------------------------------------------
function tick() {
  if (!state.wave) return;
  if (!ui.audio.paused) {
    state.playhead = state.wave.begin + ui.audio.currentTime;
    if (state.stopAt !== null && state.playhead >= state.stopAt) { ui.audio.pause(); state.stopAt = null; }
    draw();
    requestAnimationFrame(tick);
  }
}

function playFrom(t, until = null) {
  if (!state.wave) return;
  ui.audio.currentTime = Math.max(0, t - state.wave.begin);
  state.stopAt = until;
  ui.audio.play().then(() => requestAnimationFrame(tick)).catch((error) => say(`Cannot play: ${error.message}`, "error"));
}

function playMarked() {
  if (!state.wave) return;
  if (!ui.audio.paused) { ui.audio.pause(); return; }
  playFrom(state.start, state.end);
}

function markSplit() {
  if (!state.wave) return;
  if (state.split !== null) { state.split = null; say("No split."); update(); return; }
  const { min } = limits();
  const at = ms(state.playhead);
  if (at - state.start < min || state.end - at < min) {
    say(`Put the playhead inside the clip, at least ${min} s from each end (click the waveform or play), then split.`, "error");
    return;
  }
  state.split = at;
  say(`The clip will be split at ${seconds(at)}: both halves keep its labels.`);
  update();
}

function reset() {
  if (!state.wave) return;
  state.start = state.wave.start;
  state.end = state.wave.end;
  state.split = null;
  say("Back to the saved boundaries.");
  update();
}

// -- saving ---------------------------------------------------------------------------------
const LABEL_FIELDS = { transcript: "f-transcript", speaker: "f-speaker", accent: "f-accent", accent_evidence: "f-evidence", note: "f-note" };

function unsavedLabels() {
  // the label fields edited and not saved: a re-cut gives the clip a new id, so save those first
  const clip = state.clip;
  const norm = (v) => String(v ?? "").split(/\s+/).filter(Boolean).join(" ");
  return Object.entries(LABEL_FIELDS).some(([name, id]) => {
    const field = document.getElementById(id);
    return field && norm(field.value) !== norm(clip[name]);
  });
}

async function save() {
  const clip = state.clip;
  const w = state.wave;
  if (!clip || !w || state.saving || !changed()) return;
  if (unsavedLabels()) { say("Save the label edits first (S), then the boundaries.", "error"); return; }
  state.saving = true;
  update();
  say(state.split !== null ? "Splitting…" : "Re-cutting the clip…");
  try {
    const response = await fetch(`/api/clip/${encodeURIComponent(clip.clip_id)}/bounds`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", ...TOKEN_HEADER },
      body: JSON.stringify({ start: state.start, end: state.end, split_at: state.split, version: clip.version }),
    });
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    if (response.status === 200) {
      const made = body.clips;
      const what = made.length > 1
        ? `Split into ${made.length} clips: ${made.map((c) => `${seconds(c.start)}–${seconds(c.end)}`).join(", ")}.`
        : `Boundaries saved: ${seconds(made[0].start)}–${seconds(made[0].end)}.`;
      state.notice = what;
      say(what, "ok");
      document.dispatchEvent(new CustomEvent("review:reload", { detail: made[0].clip_id }));
    } else if (response.status === 409) {
      say("Not saved: this clip was changed elsewhere since you opened it. Reload the page and make the edit again.", "error");
    } else {
      say(`Not saved: ${body?.error || `error ${response.status}`}`, "error");
    }
  } catch (error) {
    say(`Not saved: ${error.message}`, "error");
  } finally {
    state.saving = false;
    update();
  }
}

// -- input ----------------------------------------------------------------------------------
function timeAt(event) {
  const rect = ui.canvas.getBoundingClientRect();
  const w = state.wave;
  return w.begin + ((event.clientX - rect.left) / rect.width) * (w.stop - w.begin);
}

function onPointerDown(event) {
  if (!state.wave) return;
  const rect = ui.canvas.getBoundingClientRect();
  const px = event.clientX - rect.left;
  const near = (t) => Math.abs(x(t, rect.width) - px) <= GRAB_PX;
  state.drag = near(state.start) ? "start" : near(state.end) ? "end" : null;
  if (state.drag) {
    ui.canvas.setPointerCapture(event.pointerId);
  } else {
    state.playhead = Math.min(Math.max(timeAt(event), state.wave.begin), state.wave.stop);
    if (!ui.audio.paused) playFrom(state.playhead);
    draw();
  }
  event.preventDefault();
}

function onPointerMove(event) {
  if (!state.wave) return;
  if (state.drag) { setHandle(state.drag, timeAt(event)); return; }
  const rect = ui.canvas.getBoundingClientRect();
  const px = event.clientX - rect.left;
  const near = [state.start, state.end].some((t) => Math.abs(x(t, rect.width) - px) <= GRAB_PX);
  ui.canvas.style.cursor = near ? "ew-resize" : "text";
}

function onPointerUp(event) {
  if (state.drag && ui.canvas.hasPointerCapture(event.pointerId)) ui.canvas.releasePointerCapture(event.pointerId);
  state.drag = null;
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement) || !state.clip) return;
  const step = event.shiftKey ? STEP_S * 10 : STEP_S;
  let action = null;
  if (event.key === "b" || event.key === "B") action = () => setOpen(!state.open);
  else if (state.open && state.wave) {
    const actions = {
      Digit1: () => setHandle("start", state.start - step), Digit2: () => setHandle("start", state.start + step),
      Digit3: () => setHandle("end", state.end - step), Digit4: () => setHandle("end", state.end + step),
      Digit5: playMarked, Digit6: markSplit, Digit0: reset,
    };
    action = actions[event.code] || (event.key === "Enter" && event.shiftKey ? save : null);
  }
  if (!action) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  // held down, only the nudges go on: B, 5, 6, 0 and Shift+Enter act once
  if (event.repeat && !/^Digit[1-4]$/.test(event.code)) return;
  action();
}

// -- start ----------------------------------------------------------------------------------
if (root) {
  build();
  ui.toggle.addEventListener("click", () => setOpen(!state.open));
  ui.play.addEventListener("click", playMarked);
  ui.splitButton.addEventListener("click", markSplit);
  ui.reset.addEventListener("click", reset);
  ui.save.addEventListener("click", save);
  ui.body.addEventListener("click", (event) => {
    const button = event.target.closest(".nudge");
    if (button) setHandle(button.dataset.which, state[button.dataset.which] + Number(button.dataset.sign) * STEP_S);
  });
  ui.canvas.addEventListener("pointerdown", onPointerDown);
  ui.canvas.addEventListener("pointermove", onPointerMove);
  ui.canvas.addEventListener("pointerup", onPointerUp);
  ui.canvas.addEventListener("pointercancel", onPointerUp);
  ui.audio.addEventListener("pause", draw);
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("resize", draw);
  document.addEventListener("review:clip", (event) => {
    const clip = event.detail;
    const same = clip && state.clip && clip.clip_id === state.clip.clip_id;
    state.clip = clip;
    root.hidden = !clip;
    if (!same) load();
  });
  setOpen(state.open);
}

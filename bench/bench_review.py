"""The review page at corpus scale, driven by Playwright in Chromium.

A generated workspace of N clips (100 per source, every clip a hard link to one real 16 kHz
WAV file, a caption draft for each, a fifth of them accepted, some flagged and duplicated) is
served by `accentds.review.serve` on a loopback port. Measured in one run:

* page load: from navigation to the first clip shown with its list (wall time, median of 3);
* `J` (next clip): from the key to the next painted frame, median and p95 of 100 presses;
* `A` (accept): from the key to the next clip painted after the save returns, median and p95
  of 40 presses (each after the double-press guard);
* bytes per action: bytes the page sent and received through /api/ per `J` and per `A`
  (the clip audio, fetched by the <audio> element, is given apart).

With --review, a keyboard-only review of a 100-clip workspace (5 sources of 20 clips): each
clip is played, its transcript typed over the draft and accepted; the speaker and accent are
set on the first clip of each source and carried over to the rest. Prints the control keys
per clip (text typed not counted) and the keys it took to reach the transcript, clip by clip.

Run: .venv/bin/python bench/bench_review.py [--clips 10000] [--review]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import soundfile
from playwright.sync_api import Page, sync_playwright

from accentds.files import write_csv_atomic, write_parquet_atomic
from accentds.journal import new_tx_id
from accentds.models import Source
from accentds.review import serve
from accentds.views import write_manifest
from accentds.workspace import CLIP_SCHEMA, DRAFT_FIELDS, DUPLICATE_FIELDS, Workspace, init_workspace

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
PER_SOURCE = 100
CLIP_S = 2.0


def build(root: Path, clips: int, per_source: int = PER_SOURCE, accepted: float = 0.2) -> Workspace:
    """A workspace of `clips` clips, 100 per source; see the module docstring."""
    ws, _ = init_workspace(root, name="bench-review")
    rng = np.random.default_rng(7)
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(CLIP_S * 16000)) / 16000)
    one = root / "one.wav"
    soundfile.write(one, (tone + 0.02 * rng.standard_normal(tone.size)).astype(np.float32), 16000, "PCM_16")
    count = (clips + per_source - 1) // per_source
    sources = [f"file-{n:012x}" for n in range(count)]
    ws.write_sources(
        [
            Source(sid, "file", f"/videos/{sid}.mp4", f"raw/{sid}/media.mp4", per_source * 3.0, "0" * 64,
                   "2026-01-01T00:00:00Z", title=f"Interview {n + 1}: a dreich day in Dundee")
            for n, sid in enumerate(sources)
        ]
    )  # fmt: skip
    rows: dict[str, list] = {name: [] for name in CLIP_SCHEMA.names}
    ids, drafts, duplicates = [], [], []
    for n in range(clips):
        sid = sources[n // per_source]
        start = (n % per_source) * 3.0
        cid = f"{sid}-{round(start * 1000):08d}-{round((start + CLIP_S) * 1000):08d}"
        ids.append(cid)
        folder = ws.clips / sid
        folder.mkdir(parents=True, exist_ok=True)
        os.link(one, folder / f"{cid}.wav")
        values = {
            "clip_id": cid, "source_id": sid, "start": start, "end": start + CLIP_S, "duration": CLIP_S,
            "path": f"clips/{sid}/{cid}.wav", "settings_id": "bench", "cut_at": "2026-01-01T00:00:00Z",
            "vad_aggressiveness": 2, "vad_frame_ms": 30, "vad_padding_ms": 200, "vad_merge_gap_ms": 400,
            "vad_min_clip_s": 0.3, "vad_max_clip_s": 15.0, "rms_dbfs": -20.0, "peak_dbfs": -3.0,
            "speech_ratio": 0.9, "snr_db": 4.0 if n % 17 == 0 else 25.0, "lufs": -21.0,
            "clipping_ratio": 0.0, "bandwidth_hz": 7000.0, "speech_prob": 0.9,
        }  # fmt: skip
        for name in CLIP_SCHEMA.names:
            rows[name].append(values.get(name))
        drafts.append(
            {"clip_id": cid, "transcript_draft": f"caption words of clip {n}", "draft_kind": "captions"}
        )
        if n % 50 == 1:
            duplicates += [{"clip_id": ids[n - 1], "duplicate_group": ids[n - 1]}]
            duplicates += [{"clip_id": cid, "duplicate_group": ids[n - 1]}]
    write_parquet_atomic(ws.clips_parquet, pa.table(rows, schema=CLIP_SCHEMA))
    write_csv_atomic(ws.drafts_csv, DRAFT_FIELDS, drafts)
    write_csv_atomic(ws.duplicates_csv, DUPLICATE_FIELDS, duplicates)
    records = [
        {
            "tx": new_tx_id(),
            "time": "2026-01-01T00:00:00Z",
            "reviewer": "r",
            "changes": [{"clip": cid, "field": "status", "old": "", "new": "accepted"}],
        }
        for cid in ids[: int(clips * accepted)]
    ]
    with ws.lock():
        ws.journal().append(records)
        write_manifest(ws)
    return ws


def start(ws: Workspace) -> tuple[str, threading.Event]:
    urls: list[str] = []
    ready, stop = threading.Event(), threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    kwargs = {"open_browser": False, "reviewer": "bench", "on_ready": on_ready, "stop": stop}
    threading.Thread(target=serve, args=(ws,), kwargs=kwargs, daemon=True).start()
    if not ready.wait(30):
        raise SystemExit("the review server did not start")
    return urls[0], stop


TIME_KEY = """async (key) => {
    const title = document.querySelector('#clip-title');
    const before = title.title;
    const changed = new Promise((resolve) => {
        const watch = new MutationObserver(() => { if (title.title !== before) { watch.disconnect(); resolve(); } });
        watch.observe(title, { attributes: true });
    });
    const t = performance.now();
    document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
    await changed;
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return performance.now() - t;
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


COUNT_BYTES = """(() => {
    // bytes the page sends (request bodies) and receives (responses, headers included)
    window.__sent = 0;
    const fetch = window.fetch;
    window.fetch = (url, options = {}) => {
        window.__sent += (options.body || "").length + String(url).length;
        return fetch(url, options);
    };
})()"""

TAKE_BYTES = """() => {
    let api = window.__sent, audio = 0;
    for (const entry of performance.getEntriesByType('resource')) {
        if (/\\/(audio|context)$/.test(entry.name)) audio += entry.transferSize;
        else if (entry.name.includes('/api/')) api += entry.transferSize;
    }
    performance.clearResourceTimings();
    window.__sent = 0;
    return [api, audio];
}"""


class Traffic:
    """Bytes through /api/ and of audio, counted in the page (resource timing and its fetches)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.add_init_script(COUNT_BYTES)

    def take(self) -> tuple[int, int]:
        api, audio = self.page.evaluate(TAKE_BYTES)
        return int(api), int(audio)


def scale(clips: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        ws = build(Path(folder) / "ws", clips)
        print(f"workspace of {clips} clips built in {time.perf_counter() - began:.1f} s")
        url, stop = start(ws)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            traffic = Traffic(page)
            loads = []
            for _ in range(3):
                began = time.perf_counter()
                page.goto(url)
                page.wait_for_function("() => document.querySelector('#clip-title').title !== ''")
                page.wait_for_selector("#queue li")
                loads.append(time.perf_counter() - began)
                page.wait_for_timeout(300)
                load_api, _ = traffic.take()
            nodes = page.evaluate("document.querySelectorAll('*').length")
            page.wait_for_timeout(500)
            traffic.take()
            nexts = [page.evaluate(TIME_KEY, "j") for _ in range(100)]
            page.wait_for_timeout(500)
            j_api, j_audio = traffic.take()
            accepts = []
            for _ in range(40):
                page.wait_for_timeout(600)  # past the double-press guard
                accepts.append(page.evaluate(TIME_KEY, "a"))
            page.wait_for_timeout(500)
            a_api, a_audio = traffic.take()
            browser.close()
        stop.set()
    print(f"page load: median {statistics.median(loads) * 1000:.0f} ms (of 3), {load_api / 1e6:.2f} MB "
          f"through /api/ per load, {nodes} DOM nodes")  # fmt: skip
    for name, values, api, audio, n in (
        ("J", nexts, j_api, j_audio, 100),
        ("A", accepts, a_api, a_audio, 40),
    ):
        print(
            f"{name}: median {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms; "
            f"{api / n / 1000:.1f} kB through /api/ and {audio / n / 1000:.1f} kB of audio per press"
        )


def review(clips: int = 100, per_source: int = 20) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ws = build(Path(folder) / "ws", clips, per_source=per_source, accepted=0.0)
        accent = ws.config.labels.accents[0]
        url, stop = start(ws)
        keys_per_clip, to_transcript = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto(url)
            page.wait_for_function("() => document.querySelector('#clip-title').title !== ''")
            keys = 0

            def press(key: str) -> None:
                nonlocal keys
                keys += 1
                page.keyboard.press(key)

            for n in range(clips):
                keys = 0
                title = page.get_attribute("#clip-title", "title")
                page.wait_for_timeout(550)  # past the double-press guard, as a listener would be
                press("Space")  # listen
                reached = 0
                while page.evaluate("document.activeElement.id") != "f-transcript":
                    press("t")
                    reached += 1
                to_transcript.append(reached)
                press("Control+a")
                page.keyboard.type(f"words of clip {n}")
                press("Escape")
                if n % per_source == 0:  # a new source: its speaker and accent, once
                    press("p")
                    page.keyboard.type(f"Speaker {n // per_source}")
                    press("Escape")
                    page.select_option("#f-accent", accent)  # as G then the arrow keys would
                    keys += 2
                    press("Escape")
                press("a")
                if n + 1 < clips:
                    page.wait_for_function(
                        "t => document.querySelector('#clip-title').title !== t", arg=title
                    )
                keys_per_clip.append(keys)
            page.wait_for_timeout(500)
            browser.close()
        stop.set()
        labels = Workspace(ws.root).read_labels()
        done = sum(
            1
            for row in labels.values()
            if row["status"] == "accepted" and row["transcript"] and row["speaker"]
        )
    first_of_source = keys_per_clip[::per_source]
    rest = [k for i, k in enumerate(keys_per_clip) if i % per_source]
    print(
        f"keyboard review of {clips} clips ({per_source} per source): {done} accepted with transcript and speaker"
    )
    print(f"control keys per clip: {statistics.mean(keys_per_clip):.2f} on average; {rest[0]} on every clip "
          f"after the first of its source (min {min(rest)}, max {max(rest)}), {first_of_source[0]} on the first")  # fmt: skip
    print(
        f"keys per clip, clips 1-10: {keys_per_clip[:10]}; clips {clips - 9}-{clips}: {keys_per_clip[-10:]}"
    )
    print(f"keys to reach the transcript: min {min(to_transcript)}, max {max(to_transcript)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--review", action="store_true", help="the 100-clip keyboard review instead")
    args = parser.parse_args()
    if args.review:
        review()
    else:
        scale(args.clips)


if __name__ == "__main__":
    main()

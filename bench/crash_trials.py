"""Crash trials: kill accentds commands at random moments and at exact write points, then run
the next commands and check that nothing is inconsistent, lost, or left running.

    .venv/bin/python bench/crash_trials.py                        # 100 random + 50 exact trials
    .venv/bin/python bench/crash_trials.py --random 20 --exact 10 --commands cut,label --keep

It drives only the public CLI (`accentds ...`, or `--accentds PATH`) and reads workspace
files: clips.parquet, manifest.parquet, clips/*/*.wav and the temporary-file patterns. Labels
come from `accentds labels export` (or `labels list --json`), never from a manifest file, so
it works whichever file holds the label truth.

A base workspace is built once (6 sources of 23-60 s made from samples/sample.mp4, cut,
a third of the clips labelled, release 0.1.0); every trial runs in a fresh copy of it:

1. the command is killed: at a random moment between 0 and its normal duration (SIGKILL to
   its process, SIGTERM to its process, or SIGINT to its process group as Ctrl-C sends it),
   or by strace at its Nth rename / unlink / fsync (`-e inject=SYSCALL:signal=SIGKILL:when=N`;
   strace counts per syscall and per process, so with `-f` a worker at its Nth call is
   killed too: the trial records which processes died and in which call);
2. processes of the command still alive 2 s after it ended are stray (recorded from /proc
   ppid links every few ms while it ran, matched again by their start time);
3. the workspace as left: every clips.parquet row has its WAV;
4. `accentds status` must run; labels exported: the labels committed before (and the edit,
   if the killed command exited 0) are all there, and the edit is all or nothing;
5. the killed command is run again to completion; then every clips.parquet and
   manifest.parquet row has its WAV, both list the same clips, no temporary file is left,
   every source is cut, labels and edit are there, `labels history` shows the edit once and
   `labels undo` restores the old values, and a release passes `accentds verify`.

Writes bench/out/crash_trials.json; exits 1 if a trial found an inconsistency, a lost label,
a stray process or a command that could not complete on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample.mp4"
OUT = ROOT / "bench" / "out" / "crash_trials.json"
COMMANDS = ("cut", "pull", "label", "import", "publish")
VARIANTS = {"cut": ("force", "padding"), "pull": ("files",), "label": ("accept",)}
VARIANTS |= {"import": ("sheet",), "publish": ("local",)}
TRACE = "rename,renameat,renameat2,unlink,unlinkat,fsync,fdatasync,write"
INJECT = ("rename", "renameat", "renameat2", "unlink", "unlinkat", "fsync", "fdatasync")
LABEL_FIELDS = ("transcript", "speaker", "accent", "accent_evidence", "status", "note")
SIGNALS = (("SIGKILL", 0.6), ("SIGTERM", 0.2), ("SIGINT", 0.2))
STRAY_WAIT = 2.0
LICENCE = "CC0-1.0"  # generated speech: no attribution to give
VERSION = "0.2.0"  # each trial publishes this on a copy that has 0.1.0
# (file, copies of the sample end to end, tempo, gain); talk-0 is the sample with its subtitles
BASE_MEDIA = (
    ("talk-0.mp4", 0, 1.0, 1.0), ("talk-1.m4a", 2, 1.15, 0.8), ("talk-2.wav", 1, 0.85, 1.0),
    ("talk-3.mp3", 1, 1.5, 1.2), ("talk-4.flac", 2, 1.3, 0.7), ("talk-5.m4a", 1, 0.6, 0.9),
)  # fmt: skip
PULL_MEDIA = (("new-0.m4a", 1, 0.95, 0.9), ("new-1.wav", 1, 1.1, 0.6))


# -- running the CLI -------------------------------------------------------------------------
def _sigint_default() -> None:  # a backgrounded parent may ignore SIGINT; Ctrl-C must reach us
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Cli:
    """The public `accentds` command, run in a workspace in a session of its own."""

    def __init__(self, exe: str | None) -> None:
        venv = Path(sys.executable).with_name("accentds")
        if exe is None:
            self.prefix = [str(venv)] if venv.exists() else [sys.executable, "-m", "accentds"]
        else:
            self.prefix = [exe, "-m", "accentds"] if Path(exe).name.startswith("python") else [exe]
        self.env = {**os.environ, "COLUMNS": "200", "ACCENTDS_REVIEWER": "crash-trials"}
        self.env.pop("ACCENTDS_WORKSPACE", None)
        self.accept: list[str] = []
        self.export = True

    def argv(self, args: list[str]) -> list[str]:
        return [*self.prefix, *args]

    def start(self, argv: list[str], ws: Path, logs: Path) -> subprocess.Popen[bytes]:
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "stdout.txt", "wb") as out, open(logs / "stderr.txt", "wb") as err:
            return subprocess.Popen(
                argv, cwd=ws, env=self.env, stdout=out, stderr=err,
                start_new_session=True, preexec_fn=_sigint_default,
            )  # fmt: skip

    def run(self, ws: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run to the end; on a timeout the whole session is killed and rc is None."""
        proc = subprocess.Popen(
            self.argv(list(args)), cwd=ws, env=self.env, text=True, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = proc.communicate(timeout=timeout)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        except subprocess.TimeoutExpired:
            _killpg(proc.pid)
            out, err = proc.communicate()
            return subprocess.CompletedProcess(proc.args, None, out, err + "\n(timed out)")  # type: ignore[arg-type]

    def must(self, ws: Path, *args: str) -> str:
        done = self.run(ws, *args)
        if done.returncode != 0:
            raise SystemExit(
                f"accentds {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def probe(self, scratch: Path) -> None:
        """Which label syntax and which label reader this version has."""
        label_help = self.run(scratch, "label", "--help").stdout
        self.accept = ["--status", "accepted"] if "--status" in label_help else ["--accept"]
        self.export = "export" in self.run(scratch, "labels", "--help").stdout

    def labels(self, ws: Path, scratch: Path) -> dict[str, dict[str, str]] | None:
        """Every clip's effective labels by clip id, through the CLI (None if it fails)."""
        if self.export:
            target = scratch / "labels-export.csv"
            target.unlink(missing_ok=True)
            done = self.run(ws, "labels", "export", str(target))
            if done.returncode != 0 or not target.exists():
                return None
            with open(target, newline="", encoding="utf-8") as handle:
                rows: list[dict] = list(csv.DictReader(handle))
        else:
            done = self.run(ws, "labels", "list", "--json")
            if done.returncode != 0:
                return None
            try:
                rows = json.loads(done.stdout)
            except ValueError:
                rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        text = {True: "yes", False: "", None: ""}
        return {str(r["clip_id"]): {k: text[v] if v in text else str(v) for k, v in r.items()} for r in rows}


# -- media and the base workspace -------------------------------------------------------------
def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        raise SystemExit("no ffmpeg on PATH and no imageio-ffmpeg in this Python") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def make_media(folder: Path, specs: tuple[tuple[str, int, float, float], ...]) -> list[Path]:
    """Distinct media files of the sample's speech, laid end to end, re-timed, at other gains."""
    ffmpeg, paths = ffmpeg_binary(), []
    folder.mkdir(parents=True, exist_ok=True)
    for name, copies, tempo, gain in specs:
        path = folder / name
        paths.append(path)
        if not copies:  # the sample itself, with subtitles beside it: clips get caption drafts
            shutil.copyfile(SAMPLE, path)
            shutil.copyfile(SAMPLE.with_suffix(".srt"), path.with_suffix(".srt"))
            continue
        inputs = [arg for _ in range(copies) for arg in ("-i", str(SAMPLE))]
        chain = "".join(f"[{k}:a]" for k in range(copies))
        chain += f"concat=n={copies}:v=0:a=1,atempo={tempo},volume={gain}[a]"
        command = [ffmpeg, "-v", "error", "-y", *inputs, "-filter_complex", chain, "-map", "[a]", str(path)]
        subprocess.run(command, check=True, capture_output=True)
    return paths


def build_base(cli: Cli, root: Path, media: list[Path]) -> Path:
    """init, pull (which cuts), source defaults, a third of the clips labelled, release 0.1.0."""
    base = root / "base"
    cli.must(root, "init", str(base), "--name", "crash-trials")
    cli.must(base, "pull", *map(str, media), "--licence", LICENCE)
    rows = cli.labels(base, root) or {}
    ids = sorted(rows)
    cli.must(base, "source", "set", rows[ids[-1]]["source_id"], "--speaker", "Iain")
    rng = random.Random(0)  # the same base whatever the trials' seed
    sheet = root / "base-labels.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip_id", "transcript", "status", "speaker"])
        for j, cid in enumerate(sorted(rng.sample(ids, len(ids) // 3))):
            status = "accepted" if j % 4 else "rejected"
            writer.writerow([cid, f"base label {j} aye", status, "Morag" if j % 3 == 0 else ""])
    cli.must(base, "labels", "import", str(sheet))
    cli.must(base, "label", ids[0], "--note", "checked twice")
    cli.must(base, "label", ids[0], "--transcript", "base label edited", *cli.accept)
    cli.must(base, "publish", "0.1.0")
    return base


# -- what each trial runs -----------------------------------------------------------------------
@dataclass
class Action:
    args: list[str]
    edits: dict[str, dict[str, str]] = field(default_factory=dict)  # clip -> field -> new value
    history_clip: str = ""  # a clip whose history and undo are checked after completion
    version: str = ""  # a release to verify
    new_sources: list[Path] = field(default_factory=list)  # media pulled: each must give clips


def make_action(
    cli: Cli, command: str, variant: str, rng: random.Random, ids: list[str], pulls: list[Path], tdir: Path
) -> Action:
    tag = tdir.name.split("-")[0]
    if command == "cut":
        return Action(["cut", "--force"] if variant == "force" else ["cut", "--padding-ms", "250"])
    if command == "pull":
        return Action(["pull", *map(str, pulls), "--licence", LICENCE], new_sources=pulls)
    if command == "label":
        cid, text = rng.choice(ids), f"trial {tag} och aye it is dreich"
        return Action(["label", cid, "--transcript", text, *cli.accept], {cid: {"transcript": text, "status": "accepted"}}, cid)  # fmt: skip
    if command == "import":
        chosen = sorted(rng.sample(ids, rng.randint(min(20, len(ids)), min(250, len(ids)))))
        edits = {
            cid: {"transcript": f"import {tag} row {j} wee blether", "status": rng.choice(("accepted", "rejected"))}
            for j, cid in enumerate(chosen)
        }  # fmt: skip
        sheet = tdir / "import.csv"
        tdir.mkdir(parents=True, exist_ok=True)
        with open(sheet, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["clip_id", "transcript", "status"])
            writer.writerows([cid, e["transcript"], e["status"]] for cid, e in edits.items())
        return Action(["labels", "import", str(sheet)], edits, chosen[0])
    return Action(["publish", VERSION], version=VERSION)


# -- processes --------------------------------------------------------------------------------
def proc_stat(pid: int) -> tuple[int, int, str, str] | None:
    """(ppid, start time in clock ticks, state, name) of a process; None once it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    close = data.rindex(b")")
    rest = data[close + 2 :].split()
    return int(rest[1]), int(rest[19]), rest[0].decode(), data[data.index(b"(") + 1 : close].decode()


def alive(pid: int, start: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[1] == start and stat[2] not in ("Z", "X")


class TreeWatch:
    """Every descendant of a process, found by /proc ppid links every few ms in a thread, so
    that children re-parented after their parent's death are still known as the trial's."""

    def __init__(self, root: int, every: float = 0.004) -> None:
        self.root, self.every = root, every
        self.known: dict[int, tuple[int, int, str, str]] = {}
        self.tree: dict[int, tuple[int, str]] = {}  # pid -> (start time, name)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.scan()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.wait(self.every):
            self.scan()

    def scan(self) -> None:
        with self.lock:
            pids = {int(name) for name in os.listdir("/proc") if name.isdigit()}
            for pid in self.known.keys() - pids:
                del self.known[pid]
            new = []
            for pid in pids - self.known.keys():  # only new processes are read: a scan is cheap
                stat = proc_stat(pid)
                if stat:
                    self.known[pid], new = stat, [*new, pid]
            grown = True
            while grown:  # a child and its own child can both be new
                grown = False
                for pid in new:
                    ppid, start, _, name = self.known[pid]
                    if pid not in self.tree and (pid == self.root or ppid in self.tree):
                        self.tree[pid], grown = (start, name), True

    def child_of(self, parent: int) -> tuple[int, int] | None:
        """The command strace runs: its child that has exec'd (strace forks probes of its own)."""
        with self.lock:
            pids = sorted(pid for pid in self.tree if self.known.get(pid, (0,))[0] == parent)
        for pid in pids:
            stat = proc_stat(pid)
            if stat and stat[3] != "strace" and stat[2] not in ("Z", "X"):
                return pid, stat[1]
        return None

    def living(self, skip: set[int]) -> list[dict]:
        with self.lock:
            items = list(self.tree.items())
        found = [(pid, proc_stat(pid)) for pid, (start, _) in items if pid not in skip and alive(pid, start)]
        return [{"pid": pid, "name": stat[3]} for pid, stat in found if stat]

    def strays(self, skip: set[int]) -> list[dict]:
        """Processes still alive STRAY_WAIT s after the command ended (no wait when none are)."""
        deadline = time.monotonic() + STRAY_WAIT
        while True:
            self.scan()
            left = self.living(skip)
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.05)

    def finish(self) -> None:
        """Stop watching and kill whatever of the trial is still alive (all started here)."""
        self.stopped.set()
        self.thread.join()
        for pid, (start, _) in self.tree.items():
            if alive(pid, start):
                os.kill(pid, signal.SIGKILL)


@dataclass
class Run:
    rc: int | None
    landed: bool  # the kill reached a running command
    seconds: float
    strays: list[dict]
    hung: bool = False
    killed: list[dict] = field(default_factory=list)  # exact trials: who died at the point, in which call


def run_with_signal(cli: Cli, ws: Path, args: list[str], delay: float, sig: str, logs: Path) -> Run:
    proc = cli.start(cli.argv(args), ws, logs)
    watch, start, landed, hung = TreeWatch(proc.pid), time.monotonic(), False, False
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        landed = True  # Ctrl-C goes to the whole foreground group; kill and TERM to the process
        (os.killpg if sig == "SIGINT" else os.kill)(proc.pid, getattr(signal, sig))
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            hung = True
            _killpg(proc.pid)
            proc.wait()
    seconds = time.monotonic() - start
    strays = watch.strays({proc.pid})
    watch.finish()
    _killpg(proc.pid)
    return Run(proc.returncode, landed, seconds, strays, hung)


def strace_argv(argv: list[str], log: Path, syscall: str = "", n: int = 0) -> list[str]:
    inject = ["-e", f"inject={syscall}:signal=SIGKILL:when={n}"] if syscall else []
    return ["strace", "-f", "-q", "-y", "-o", str(log), "-e", f"trace={TRACE}", *inject, "--", *argv]


def run_injected(
    cli: Cli, ws: Path, args: list[str], syscall: str, n: int, timeout: float, logs: Path
) -> Run:
    log = logs / "strace.txt"
    proc = cli.start(strace_argv(cli.argv(args), log, syscall, n), ws, logs)
    watch, start, main, hung = TreeWatch(proc.pid), time.monotonic(), None, False
    threads: set[int] = set()  # the command's own threads: strace names them by thread id
    while proc.poll() is None:  # until the command (strace's child) ends; strace may wait on others
        main = main or watch.child_of(proc.pid)
        with contextlib.suppress(OSError):
            threads |= {int(t) for t in os.listdir(f"/proc/{main[0]}/task")} if main else set()
        if main and not alive(*main):
            break
        if time.monotonic() - start > timeout:
            hung = True
            break
        time.sleep(0.01)
    seconds = time.monotonic() - start
    skip = {proc.pid, main[0] if main else -1}
    strays = [] if hung else watch.strays(skip)
    watch.finish()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        proc.wait()
    text = log.read_text(errors="replace") if log.exists() else ""
    rc, killed = parse_kills(text, main[0] if main else -1, threads, syscall)
    killed = [{**k, "call": k["call"].replace(str(ws) + "/", "")} for k in killed]
    return Run(rc if rc is not None else proc.returncode, bool(killed), seconds, strays, hung, killed)


def parse_kills(log: str, main: int, threads: set[int], syscall: str) -> tuple[int | None, list[dict]]:
    """The command's exit status (if strace wrote it), and the processes that died inside the
    injected syscall (it never returned: `= ?`, and no normal exit), with the call (`-y` paths)."""
    started: dict[int, str] = {}  # each process's last call, as it started
    ended: dict[int, str] = {}  # how its last line ended
    exited, rc = set(), None
    for line in log.splitlines():
        pid_text, _, rest = line.partition(" ")
        if not pid_text.isdigit():
            continue
        pid, rest = int(pid_text), rest.strip()
        if found := re.match(r"\+\+\+ (exited with|killed by) (\w+)", rest):
            exited |= {pid} if found.group(1) == "exited with" else set()
            if pid == main:
                value = found.group(2)
                rc = int(value) if value.isdigit() else -getattr(signal, value, signal.SIGKILL)
        elif not rest.startswith("---"):
            ended[pid] = rest
            if not rest.startswith("<..."):
                started[pid] = rest.removesuffix("<unfinished ...>").strip()
    killed = [
        {"pid": pid, "role": "main" if pid in threads | {main} else "child", "call": started[pid][:200]}
        for pid, last in ended.items()
        if pid not in exited
        and last.endswith(("= ?", "<unfinished ...>"))
        and started[pid].startswith(syscall + "(")
    ]
    return rc, killed


def count_calls(log: str) -> dict[str, int]:
    """For each traced syscall, the most calls one process made (strace counts per process)."""
    per: Counter[tuple[int, str]] = Counter()
    for found in re.finditer(r"^(\d+)\s+(\w+)\(", log, re.M):
        per[(int(found.group(1)), found.group(2))] += 1
    most: dict[str, int] = {}
    for (_, name), count in per.items():
        most[name] = max(most.get(name, 0), count)
    return most


# -- checks ------------------------------------------------------------------------------------
def read_parquet(path: Path, problems: list[tuple[str, str]]) -> list[dict] | None:
    if not path.exists():
        return None
    try:
        names = set(pq.read_schema(path).names)
        return pq.read_table(path, columns=[c for c in ("clip_id", "path") if c in names]).to_pylist()
    except Exception as exc:  # a torn Parquet file is a finding, not a crash of the trials
        problems.append(("unreadable", f"{path.name}: {exc}"))
        return None


@dataclass
class FileCheck:
    problems: list[tuple[str, str]]
    stale: bool  # manifest.parquet does not list exactly clips.parquet's clips
    orphans: int  # clips/*/*.wav no row lists
    leftovers: list[str]


def check_files(ws: Path) -> FileCheck:
    problems: list[tuple[str, str]] = []
    clips = read_parquet(ws / "manifests" / "clips.parquet", problems) or []
    manifest = read_parquet(ws / "manifests" / "manifest.parquet", problems)
    for name, rows in (("clips.parquet", clips), ("manifest.parquet", manifest or [])):
        missing = [r["path"] for r in rows if r.get("path") and not (ws / r["path"]).is_file()]
        if missing:
            problems.append(
                ("row-without-wav", f"{name}: {len(missing)} row(s) without their WAV, e.g. {missing[0]}")
            )
    stale = manifest is None or sorted(r["clip_id"] for r in manifest) != sorted(r["clip_id"] for r in clips)
    listed = {r.get("path") for r in clips}
    orphans = sum(1 for p in ws.glob("clips/*/*.wav") if p.relative_to(ws).as_posix() not in listed)
    patterns = (
        "manifests/.*.tmp*",
        "manifests/*.part",
        "clips/*/*.part",
        "raw/.staging-*",
        "releases/.building-*",
    )
    leftovers = sorted(p.relative_to(ws).as_posix() for pattern in patterns for p in ws.glob(pattern))
    return FileCheck(problems, stale, orphans, leftovers)


def labelled(row: dict[str, str]) -> bool:
    """A clip someone labelled (source defaults and caption drafts are not a clip's labels)."""
    human_text = row.get("transcript") and row.get("transcript_is_draft") != "yes"
    return row.get("status", "pending") != "pending" or bool(human_text or row.get("note"))


@dataclass
class LabelCheck:
    lost: dict[str, list[str]] = field(default_factory=dict)  # clip -> "field: committed -> now"
    orphaned: list[str] = field(default_factory=list)  # labelled clips that no longer exist
    torn: list[str] = field(default_factory=list)  # the edit partly applied
    changed: list[str] = field(default_factory=list)  # values nobody set
    applied: bool | None = None  # whether the edit is in


def compare_labels(
    before: dict[str, dict[str, str]], after: dict[str, dict[str, str]], edits: dict, required: bool
) -> LabelCheck:
    """Labels committed before the trial (plus the edit, when `required`) against now; without
    `required` the edit may be in or not, but all of it or none."""
    check, states = LabelCheck(), {}
    for cid, row in before.items():
        edit = {f: v for f, v in edits.get(cid, {}).items() if v != row.get(f, "")}
        if cid not in after:
            if labelled(row) or edit:
                check.orphaned.append(cid)
            continue
        got = after[cid]
        if edit:
            new = all(got.get(f) == v for f, v in edit.items())
            old = all(got.get(f) == row.get(f, "") for f in edit)
            states[cid] = "new" if new else "old" if old else "mixed"
        for name in LABEL_FIELDS:
            if name in edit or name not in row or got.get(name, "") == row[name]:
                continue
            text = f"{name}: {row[name]!r} -> {got.get(name, '')!r}"
            if row[name] in ("", "pending") or (
                name == "transcript" and row.get("transcript_is_draft") == "yes"
            ):
                check.changed.append(f"{cid} {text}")
            else:
                check.lost.setdefault(cid, []).append(text)
    kinds = set(states.values())
    if kinds:
        check.applied = kinds == {"new"}
        if "mixed" in kinds or (not required and kinds == {"new", "old"}):
            check.torn = [f"{cid}: {state}" for cid, state in states.items() if state != "new"]
        if required:
            for cid in (c for c, s in states.items() if s == "old"):
                check.lost.setdefault(cid, []).append("the edit of a run that exited 0")
    return check


def check_history(
    cli: Cli, ws: Path, scratch: Path, before: dict, action: Action, undo: bool
) -> list[tuple[str, str]]:
    """After completion: the edit shows once in `labels history`; `labels undo` restores the clip."""
    cid = action.history_clip
    text = action.edits[cid]["transcript"]
    shown = cli.run(ws, "labels", "history", cid)
    if shown.returncode != 0:
        return [("history", f"labels history {cid} failed: {tail(shown.stderr)}")]
    problems = []
    if shown.stdout.count(text) != 1:
        problems.append(("history", f"labels history {cid} shows the edit {shown.stdout.count(text)} times"))
    if not undo:
        return problems
    undone = cli.run(ws, "labels", "undo", cid)
    now = cli.labels(ws, scratch) if undone.returncode == 0 else None
    if now is None:
        problems.append(("undo", f"labels undo {cid} failed: {tail(undone.stderr)}"))
    else:
        wrong = [f for f in ("transcript", "status") if now.get(cid, {}).get(f) != before[cid].get(f)]
        if wrong:
            problems.append(("undo", f"labels undo {cid} did not restore {', '.join(wrong)}"))
    return problems


# -- one trial ----------------------------------------------------------------------------------
@dataclass
class Spec:
    index: int
    command: str
    kind: str  # control (no kill), random or exact
    variant: str
    signal: str = ""
    delay: float = 0.0
    syscall: str = ""
    n: int = 0

    @property
    def key(self) -> str:
        return f"{self.command}/{self.variant}"


@dataclass
class Context:
    cli: Cli
    root: Path
    base: Path
    before: dict[str, dict[str, str]]
    pulls: list[Path]
    seed: int
    keep: bool
    durations: dict[str, float] = field(default_factory=dict)  # normal run, per command/variant
    traced: dict[str, float] = field(default_factory=dict)  # the same under strace
    tops: dict[str, dict[str, int]] = field(default_factory=dict)  # most calls of one process


def tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def run_trial(ctx: Context, spec: Spec) -> dict:
    cli, tdir = ctx.cli, ctx.root / "trials" / f"{spec.index:03d}-{spec.command}-{spec.kind}"
    ws, began = tdir / "ws", time.monotonic()
    shutil.copytree(ctx.base, ws, symlinks=True)
    rng = random.Random(f"{ctx.seed}-{spec.index}")
    action = make_action(cli, spec.command, spec.variant, rng, sorted(ctx.before), ctx.pulls, tdir)
    if spec.kind == "random":
        run = run_with_signal(cli, ws, action.args, spec.delay, spec.signal, tdir / "killed")
    elif spec.kind == "exact":
        timeout = max(60.0, 5 * ctx.traced.get(spec.key, 10.0))
        run = run_injected(cli, ws, action.args, spec.syscall, spec.n, timeout, tdir / "killed")
    else:
        started = time.monotonic()
        first = cli.run(ws, *action.args)
        run = Run(first.returncode, False, time.monotonic() - started, [])
    problems: list[tuple[str, str]] = (
        [("hung", f"still running {run.seconds:.0f} s after the kill")] if run.hung else []
    )
    incomplete: list[str] = []

    # the workspace as the kill left it: every clips.parquet row has its file
    left = check_files(ws)
    problems += [p for p in left.problems if not p[1].startswith("manifest.parquet")]
    # the next command, and the labels it shows: committed ones all there, the edit all or nothing
    status = cli.run(ws, "status")
    if status.returncode != 0:
        problems.append(
            ("next-command", f"status exited {status.returncode} after the kill: {tail(status.stderr)}")
        )
    seen = check_files(ws)
    mid_labels = cli.labels(ws, tdir)
    if mid_labels is None:
        problems.append(("next-command", "labels export failed after the kill"))
    mid = (
        compare_labels(ctx.before, mid_labels or {}, action.edits, run.rc == 0)
        if mid_labels
        else LabelCheck()
    )

    # the killed command again, to completion
    again = cli.run(ws, *action.args)
    released = bool(action.version) and (ws / "releases" / action.version).is_dir()
    if again.returncode != 0 and not released:
        incomplete.append(f"the re-run exited {again.returncode}: {tail(again.stderr)}")
    final = check_files(ws)
    problems += final.problems
    if final.stale:
        problems.append(("manifest-mismatch", "manifest.parquet and clips.parquet list different clips"))
    if final.leftovers:
        problems.append(
            ("leftover", f"{len(final.leftovers)} temporary file(s) left: {', '.join(final.leftovers[:3])}")
        )
    if action.version:
        verified = cli.run(ws, "verify", action.version)
        if not released:
            incomplete.append(f"no release {action.version}")
        elif verified.returncode != 0:
            problems.append(("verify", f"verify {action.version}: {tail(verified.stderr)}"))
    end_labels = cli.labels(ws, tdir)
    end = LabelCheck()
    if end_labels is None:
        problems.append(("next-command", "labels export failed after completion"))
    else:
        end = compare_labels(ctx.before, end_labels, action.edits, again.returncode == 0 or run.rc == 0)
        expected = len({r.get("source_id") for r in ctx.before.values()}) + len(action.new_sources)
        sources = {r["source_id"] for r in end_labels.values() if "source_id" in r}
        if sources and (uncut := expected - len(sources)) > 0:
            incomplete.append(f"{uncut} source(s) without clips: pulled but not cut")
    for kind, texts in (("torn-edit", mid.torn + end.torn), ("changed", mid.changed + end.changed)):
        problems += [(kind, text) for text in dict.fromkeys(texts)]
    if action.history_clip and end_labels and not incomplete:
        problems += check_history(cli, ws, tdir, ctx.before, action, undo=spec.kind != "random")

    lost = {cid: mid.lost.get(cid, []) + end.lost.get(cid, []) for cid in {**mid.lost, **end.lost}}
    record = asdict(spec) | {
        "how": describe(spec), "args": action.args, "rc": run.rc, "landed": run.landed, "seconds": round(run.seconds, 3),
        "killed": run.killed, "strays": run.strays, "problems": [{"kind": k, "text": t} for k, t in problems],
        "incomplete": incomplete, "lost": lost, "orphaned_labels": len(end.orphaned),
        "orphan_wavs": final.orphans, "stale_view_after_kill": left.stale,
        "stale_view_after_status": seen.stale or any(p[1].startswith("manifest.parquet") for p in seen.problems),
        "leftovers_after_kill": left.leftovers, "edit_in_after_kill": mid.applied,
        "workspace": str(ws), "trial_seconds": round(time.monotonic() - began, 1),
    }  # fmt: skip
    record["repro"] = " ".join(  # in a copy of the base workspace
        strace_argv(cli.argv(action.args), Path("strace.txt"), spec.syscall, spec.n)
        if spec.kind == "exact"
        else [*cli.argv(action.args), f"& sleep {spec.delay:.2f}; kill -{spec.signal[3:]} $!"]
    )
    found = problems or lost or run.strays or incomplete
    if not (ctx.keep and found):
        shutil.rmtree(tdir, ignore_errors=True)
    return record


# -- planning -----------------------------------------------------------------------------------
def share_out(capacity: dict, count: int) -> dict:
    """`count` shared out over the keys in turn, none given more than its capacity."""
    share = dict.fromkeys(capacity, 0)
    while sum(share.values()) < count and any(share[k] < capacity[k] for k in share):
        for k in share:
            if share[k] < capacity[k] and sum(share.values()) < count:
                share[k] += 1
    return share


def pick_points(
    rng: random.Random, tops: dict[tuple[str, str], int], count: int
) -> list[tuple[str, str, int]]:
    """`count` distinct (variant, syscall, N): shared out over the syscalls, each one's N drawn
    from equal strata of 1..most calls, so the first and the last calls get their chance."""
    points = []
    for (variant, syscall), m in share_out(tops, count).items():
        top = tops[(variant, syscall)]
        points += [(variant, syscall, rng.randint(1 + j * top // m, (j + 1) * top // m)) for j in range(m)]
    return points


def plan(ctx: Context, commands: list[str], randoms: int, exacts: int) -> list[Spec]:
    """Random trials shared evenly over the commands, exact ones too as far as each has points."""
    rng, specs = random.Random(ctx.seed), []
    names, weights = zip(*SIGNALS, strict=True)
    tops = {
        command: {
            (v, s): n for v in VARIANTS[command] for s, n in sorted(ctx.tops.get(f"{command}/{v}", {}).items()) if s in INJECT
        }
        for command in commands
    }  # fmt: skip
    exact_share = share_out({c: sum(tops[c].values()) for c in commands}, exacts)
    for command, count in share_out(dict.fromkeys(commands, randoms), randoms).items():
        for _ in range(count):
            variant = rng.choice(VARIANTS[command])
            delay = rng.uniform(0, ctx.durations[f"{command}/{variant}"])
            specs.append(Spec(0, command, "random", variant, rng.choices(names, weights)[0], round(delay, 3)))
        points = pick_points(rng, tops[command], exact_share[command])
        specs += [Spec(0, command, "exact", v, "SIGKILL", syscall=s, n=n) for v, s, n in points]
    for index, spec in enumerate(specs, start=1):
        spec.index = index
    return specs


def measure(ctx: Context, commands: list[str], count_calls_too: bool) -> list[dict]:
    """A normal run of each command (its duration, and a control of the checks), and the
    calls of one under strace (how many write points there are to kill at)."""
    controls = []
    for command in commands:
        for variant in VARIANTS[command]:
            spec = Spec(0, command, "control", variant)
            controls.append(run_trial(ctx, spec))
            ctx.durations[spec.key] = controls[-1]["seconds"]
            if not count_calls_too:
                continue
            tdir = ctx.root / "counts" / f"{command}-{variant}"
            shutil.copytree(ctx.base, tdir / "ws", symlinks=True)
            action = make_action(
                ctx.cli, command, variant, random.Random(0), sorted(ctx.before), ctx.pulls, tdir
            )
            started = time.monotonic()
            proc = ctx.cli.start(
                strace_argv(ctx.cli.argv(action.args), tdir / "strace.txt"), tdir / "ws", tdir
            )
            done = proc.wait()
            ctx.traced[spec.key] = time.monotonic() - started
            ctx.tops[spec.key] = count_calls((tdir / "strace.txt").read_text(errors="replace"))
            shutil.rmtree(tdir / "ws", ignore_errors=True)
            calls = ", ".join(f"{s} {n}" for s, n in sorted(ctx.tops[spec.key].items()))
            print(f"  {spec.key:15} {ctx.durations[spec.key]:5.2f} s normal, {ctx.traced[spec.key]:5.2f} s traced "
                  f"(rc {done}); most calls of one process: {calls}", flush=True)  # fmt: skip
    return controls


# -- report -------------------------------------------------------------------------------------
def summary_row(command: str, mine: list[dict]) -> dict:
    def total(value) -> int:
        return sum(value(t) for t in mine)

    return {
        "command": command,
        "trials r/e": f"{total(lambda t: t['kind'] == 'random')}/{total(lambda t: t['kind'] == 'exact')}",
        "kills landed": total(lambda t: bool(t["landed"])),
        "inconsistent": total(lambda t: bool(t["problems"])),
        "lost labels": total(lambda t: len(t["lost"])),
        "stray procs": total(lambda t: len(t["strays"])),
        "incomplete": total(lambda t: bool(t["incomplete"])),
        "orphaned labels": total(lambda t: t["orphaned_labels"]),
        "orphan WAVs": total(lambda t: t["orphan_wavs"]),
        "stale view": total(lambda t: bool(t["stale_view_after_status"])),
    }


def summarise(trials: list[dict], commands: list[str]) -> list[dict]:
    """Per command (and all): trials, kills that landed, and what the checks found."""
    return [summary_row(c, [t for t in trials if c in ("all", t["command"])]) for c in [*commands, "all"]]


def print_table(rows: list[dict]) -> None:
    names = list(rows[0])
    widths = [max(len(n), *(len(str(r[n])) for r in rows)) for n in names]
    for cells in (names, ["-" * w for w in widths], *([str(r[n]) for n in names] for r in rows)):
        print(
            "  ".join(
                c.rjust(w) if k else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )


def describe(spec: Spec) -> str:
    if spec.kind == "random":
        return f"{spec.signal} at {spec.delay:.2f} s"
    return f"{spec.syscall} #{spec.n}" if spec.kind == "exact" else "no kill"


def verdict(record: dict) -> str:
    parts = [f"{p['kind']}: {p['text']}" for p in record["problems"][:2]]
    parts += [f"lost {len(record['lost'])} clip(s)'s labels"] if record["lost"] else []
    parts += (
        [f"{len(record['strays'])} stray: " + ",".join(s["name"] for s in record["strays"])]
        if record["strays"]
        else []
    )
    parts += [f"incomplete: {record['incomplete'][0]}"] if record["incomplete"] else []
    killed = ",".join(k["role"] for k in record["killed"])
    where = f" killed {killed}" if killed else ""
    return f"rc={record['rc']}{where}  " + ("; ".join(parts) if parts else "ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--random", type=int, default=100, help="trials killed at a random moment (default 100)"
    )
    parser.add_argument(
        "--exact", type=int, default=50, help="trials killed by strace at a write point (default 50)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commands", default=",".join(COMMANDS), help="of " + ",".join(COMMANDS))
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch folder: base and trials with findings"
    )
    parser.add_argument("--accentds", help="the accentds executable (or a python with accentds installed)")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"JSON of every trial (default {OUT.relative_to(ROOT)})"
    )
    args = parser.parse_args()
    commands = [c for c in args.commands.split(",") if c]
    if unknown := set(commands) - set(COMMANDS):
        parser.error(f"unknown command(s) {', '.join(sorted(unknown))}; use {','.join(COMMANDS)}")
    if args.exact and not shutil.which("strace"):
        print("no strace on PATH: the exact-point trials are skipped", file=sys.stderr)
        args.exact = 0
    started = time.monotonic()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="accentds-crash-"))
    root.mkdir(parents=True, exist_ok=True)
    cli = Cli(args.accentds)
    cli.probe(root)
    print(f"scratch {root}; accentds = {' '.join(cli.prefix)}", flush=True)
    media = make_media(root / "media", BASE_MEDIA)
    pulls = make_media(root / "media", PULL_MEDIA)
    base = build_base(cli, root, media)
    before = cli.labels(base, root) or {}
    ctx = Context(cli, root, base, before, pulls, args.seed, args.keep)
    print(f"base workspace: {len(before)} clips, {sum(map(labelled, before.values()))} labelled, "
          f"release 0.1.0 ({time.monotonic() - started:.0f} s)", flush=True)  # fmt: skip
    controls = measure(ctx, commands, args.exact > 0)
    for record in controls:
        if record["problems"] or record["lost"] or record["incomplete"] or record["strays"]:
            print(
                f"  control {record['command']}/{record['variant']} (no kill): {verdict(record)}", flush=True
            )
    specs = plan(ctx, commands, args.random, args.exact)
    trials = []
    for spec in specs:
        trials.append(run_trial(ctx, spec))
        print(f"[{spec.index:3d}/{len(specs)}] {spec.key:15} {spec.kind:6} {describe(spec):18} "
              f"{verdict(trials[-1])}", flush=True)  # fmt: skip
    rows = summarise(trials, commands)
    print()
    print_table(rows)
    kinds = Counter(p["kind"] for t in trials for p in t["problems"])
    for kind, count in kinds.most_common():
        first = next(t for t in trials if any(p["kind"] == kind for p in t["problems"]))
        text = next(p["text"] for p in first["problems"] if p["kind"] == kind)
        print(
            f"{kind:18} {count:3} in trials; e.g. #{first['index']} {first['command']} {first['how']}: {text}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = {"settings": settings, "accentds": cli.prefix, "base": str(base), "durations": ctx.durations,
              "traced_durations": ctx.traced, "most_calls": ctx.tops, "summary": rows,
              "controls": controls, "trials": trials, "seconds": round(time.monotonic() - started, 1)}  # fmt: skip
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({time.monotonic() - started:.0f} s)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    bad = rows[-1]
    return 1 if bad["inconsistent"] or bad["lost labels"] or bad["stray procs"] or bad["incomplete"] else 0


if __name__ == "__main__":
    sys.exit(main())

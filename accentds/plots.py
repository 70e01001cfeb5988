"""The corpus report's PNG plots and its one self-contained HTML page.

Plots: clip lengths; minutes over time (manifests/history.csv) with a marker at each
release, the minutes axis scaled to the data and the target drawn only when it fits; minutes
per accent region and per speaker, publishable and not publishable stacked, with the
`[report] region_targets` marked on the regions. Figures are made on the Agg canvas (no
pyplot, no global backend change).
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .corpus_history import history_to_now
from .render import (
    BREAKDOWN_HEADER,
    REGION_HEADER,
    breakdown_cells,
    key_text,
    progress_text,
    region_rows,
    stage_rows,
    title,
)
from .report import BREAKDOWNS, Report
from .workspace import Workspace

MAX_BARS = 30  # speakers shown in the bar plot
HEADROOM = 1.1  # the minutes axis ends this much above the highest value
TARGET_FITS = 2.0  # the target is drawn when it is at most this many times the axis's top
PUBLISHABLE_COLOUR = "#2a9d4b"
HELD_COLOUR = "#b0b0b0"


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    """A matplotlib Figure on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a name in a script the font lacks is drawn as boxes
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        fig.tight_layout()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _num(minutes: float) -> str:
    """Minutes as read on a plot: two decimals below 10, one above."""
    return f"{minutes:.2f}" if abs(minutes) < 10 else f"{minutes:.1f}"


def growth_scale(peak: float, target: float) -> tuple[float, bool]:
    """The top of the minutes axis for data reaching `peak` minutes, and whether the target
    line is drawn: the axis fits the data (with HEADROOM, at least 1 minute) and grows to
    the target only when the target is at most TARGET_FITS times that, so a first few
    minutes against a far target do not draw as a flat line."""
    top = max(peak * HEADROOM, 1.0)
    if 0 < target <= top * TARGET_FITS:
        return max(top, target * 1.05), True
    return top, False


def growth_figure(
    rows: Sequence[dict[str, Any]],
    releases: Sequence[tuple[str, str]],
    target_minutes: float,
    publishable_minutes: float,
) -> Any:
    """Minutes by status and publishable minutes over time (history.csv lines), a dotted line
    and the version at each release's time, and the target (a dashed line when it fits, else
    a note)."""
    fig = _figure()
    ax = fig.add_subplot()
    states = (("accepted", "#2a9d4b"), ("pending", "#e0a030"), ("rejected", "#c04040"))
    peak = 0.0
    if rows:
        times = [_time(r["time"]) for r in rows]
        kept = [(t, r) for t, r in zip(times, rows, strict=True) if t is not None]
        for state, colour in states:
            values = [r[f"{state}_minutes"] for _, r in kept]
            peak = max([peak, *values])
            ax.step([t for t, _ in kept], values, where="post", label=state, color=colour)
        known = [(t, r["publishable_minutes"]) for t, r in kept if r.get("publishable_minutes") is not None]
        if known:  # lines written before history.csv had the column have none
            ax.step(*zip(*known, strict=True), where="post", label="publishable", color="#1f5fa8",
                    linestyle="--")  # fmt: skip
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.text(0.5, 0.5, "no history yet", ha="center", va="center", transform=ax.transAxes)
    top, show_target = growth_scale(max(peak, publishable_minutes), target_minutes)
    ax.set_ylim(0, top)
    if rows:
        for version, created_at in releases:
            at = _time(created_at)
            if at is not None:
                ax.axvline(at, linestyle=":", color="#555555", linewidth=1)
                ax.annotate(
                    version, (at, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#555555",
                )  # fmt: skip
    share = publishable_minutes / target_minutes if target_minutes else 0.0
    heading = "minutes over time"
    if show_target:
        ax.axhline(target_minutes, linestyle="--", color="black", label=f"target {target_minutes:g} min")
    else:  # a line far above the data would flatten it: the target goes in the title
        heading += (
            f"\ntarget {target_minutes:g} min, {_num(publishable_minutes)} publishable now ({share:.1%})"
        )
    ax.set_ylabel("minutes")
    ax.set_title(heading, pad=14 if releases and rows else 6)  # room for the versions above the axes
    if rows or show_target:
        ax.legend(loc="best", fontsize=9)
    return fig


def bars_figure(
    heading: str,
    labels: Sequence[str],
    publishable: Sequence[float],
    held: Sequence[float],
    targets: Sequence[float | None] = (),
) -> Any:
    """Horizontal bars of minutes, publishable and not publishable stacked, with a mark at
    each target given (None: no target for that bar)."""
    fig = _figure(7.0, max(2.5, 0.3 * len(labels) + 1.4))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    ax.barh(positions, publishable, color=PUBLISHABLE_COLOUR, label="publishable")
    if any(held):
        ax.barh(positions, held, left=publishable, color=HELD_COLOUR, label="not publishable")
    marked = [(p, t) for p, t in zip(positions, targets, strict=False) if t is not None]
    if marked:
        ax.scatter([t for _, t in marked], [p for p, _ in marked], marker="|", s=300, color="black",
                   linewidths=2, zorder=3, label="target")  # fmt: skip
        for p, t in marked:
            ax.annotate(f"{_num(publishable[p])} of {t:g}", (t, p), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=8)  # fmt: skip
        ax.set_xlim(0, max([*(a + b for a, b in zip(publishable, held, strict=True)), *(t for _, t in marked)])
                    * 1.25)  # fmt: skip
    else:  # minutes are never negative: no axis below 0, even with no minutes at all
        ax.set_xlim(
            0, max([a + b for a, b in zip(publishable, held, strict=True)], default=0.0) * 1.05 or 1.0
        )
    ax.set_yticks(positions, labels=labels)
    ax.invert_yaxis()
    ax.set_xlabel("minutes")
    ax.set_title(heading)
    if labels:
        ax.legend(loc="lower right", fontsize=8)
    return fig


def _held_minutes(row: Any) -> float:
    return sum(seconds for _, seconds in row.held_back) / 60


def accents_figure(rep: Report) -> Any:
    """Minutes per accent region of the report's stage (the schema's regions first), with the
    region targets marked when the stage is the accepted clips."""
    rows = {r.key: r for r in rep.breakdowns["accent"]}
    regions = list(rep.accents) + [k for k in rows if k not in rep.accents]
    targets = {t.region: t.target_minutes for t in rep.region_targets} if rep.status == "accepted" else {}
    return bars_figure(
        f"minutes per accent region: {title(rep)}",
        [key_text(k) for k in regions],
        [rows[k].publishable_minutes if k in rows else 0.0 for k in regions],
        [_held_minutes(rows[k]) if k in rows else 0.0 for k in regions],
        [targets.get(k) for k in regions],
    )


def plot_pngs(workspace: Workspace, rep: Report) -> dict[str, bytes]:
    """The report's plots as PNG bytes by file name: clip durations, minutes over time,
    minutes per accent region and per speaker."""
    pngs: dict[str, bytes] = {}
    fig = _figure()
    ax = fig.add_subplot()
    if rep.histogram:
        ax.bar(
            [a for a, _, _ in rep.histogram],
            [n for _, _, n in rep.histogram],
            width=[b - a for a, b, _ in rep.histogram],
            align="edge",
            color="#336699",
            edgecolor="white",
        )
    ax.set_xlabel("clip length (s)")
    ax.set_ylabel("clips")
    ax.set_title(f"clip lengths: {title(rep)}")
    pngs["durations.png"] = _png(fig)
    pngs["minutes_over_time.png"] = _png(
        growth_figure(
            history_to_now(workspace), rep.releases, rep.target_minutes, rep.publishable_seconds / 60
        )
    )
    pngs["accents.png"] = _png(accents_figure(rep))
    speakers = rep.breakdowns["speaker"][:MAX_BARS]
    pngs["speakers.png"] = _png(
        bars_figure(
            f"minutes per speaker: {title(rep)}",
            [key_text(r.key) for r in speakers],
            [r.publishable_minutes for r in speakers],
            [_held_minutes(r) for r in speakers],
        )
    )
    return pngs


def write_plots(workspace: Workspace, rep: Report, folder: Path) -> list[Path]:
    """Write the plots (see `plot_pngs`) as PNG files into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in plot_pngs(workspace, rep).items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def _html_table(header: list[str], rows: list[list[str]], caption: str = "", css: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    kind = f" class='{css}'" if css else ""
    return f"<table{kind}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
    "td:not(:first-child){text-align:right}.breakdown td:last-child{text-align:left}"
    "caption{text-align:left;font-weight:bold}.warn{color:#a05000}img{max-width:100%}"
)


def write_html(workspace: Workspace, rep: Report, path: Path) -> None:
    """Write one self-contained HTML page: the tables and the plots as base64 PNG data URIs;
    no external resources, every value escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(rep.name)} report</title><style>{_CSS}</style></head><body>",
        f"<h1>Corpus report: {e(rep.name)}</h1>",
        f"<p>Generated {e(rep.generated_at)}; {e(title(rep))}.</p>",
        _html_table(["stage", "clips", "minutes"], stage_rows(rep)),
        f"<p>Progress: {e(progress_text(rep))}.</p>",
    ]
    if rep.region_targets:
        parts.append(_html_table(REGION_HEADER, region_rows(rep), caption="region targets"))
    if rep.warnings:
        parts.append("<h2>Warnings</h2><ul>")
        parts += [f"<li class='warn'>{e(w.message)}</li>" for w in rep.warnings]
        parts.append("</ul>")
    for name in BREAKDOWNS:
        rows = [[key_text(r.key), *breakdown_cells(r)] for r in rep.breakdowns[name]]
        parts.append(_html_table([name, *BREAKDOWN_HEADER], rows, caption=f"by {name}", css="breakdown"))
    for name, data in plot_pngs(workspace, rep).items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(f"<figure><img alt='{e(name)}' src='{uri}'></figure>")
    parts.append("</body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")

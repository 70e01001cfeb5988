"""The corpus report: exact figures from hand-built manifests, renderers, history, plots, HTML."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLE, clip_record, put_labels, run_cli

from accentds.config import CONFIG_NAME, LabelSchema
from accentds.corpus_history import append_history, growth_by_day, history, history_csv, render_days
from accentds.cut import cut
from accentds.errors import AccentdsError
from accentds.files import write_csv_atomic
from accentds.licences import set_attribution
from accentds.models import Source
from accentds.plots import write_html, write_plots
from accentds.publish import deny
from accentds.pull import pull
from accentds.render import rich_tables, to_csv, to_json, to_markdown
from accentds.report import RegionTarget, report
from accentds.status import status
from accentds.views import write_manifest
from accentds.workspace import DUPLICATE_FIELDS, Workspace

PNG = b"\x89PNG\r\n\x1a\n"
# (source, duration s, status, speaker, accent, cut_at)
CLIPS = [
    ("src-a", 3.001, "accepted", "Morag", "Glasgow", "2024-01-01T10:00:00Z"),
    ("src-a", 4.5, "accepted", "Morag", "Glasgow", "2024-01-01T10:00:00Z"),
    ("src-a", 10.499, "accepted", "Morag", "Glasgow", "2024-02-01T09:00:00Z"),
    ("src-b", 6.0, "accepted", "Iain", "Edinburgh", "2024-02-01T09:00:00Z"),
    ("src-b", 2.5, "accepted", "", "", "2024-02-01T09:00:00Z"),
    ("src-b", 3.5, "accepted", "", "", "2024-02-03T09:00:00Z"),
    ("src-a", 1.234, "pending", "Morag", "Glasgow", "2024-02-03T09:00:00Z"),
    ("src-b", 2.345, "pending", "", "", "2024-02-03T09:00:00Z"),
    ("src-b", 7.777, "rejected", "Iain", "Edinburgh", "2024-01-01T10:00:00Z"),
]


def _source(source_id: str, seconds: float, licence: str, added_at: str) -> Source:
    return Source(source_id, "file", f"/v/{source_id}.mp4", f"raw/{source_id}.m4a", seconds, "0" * 64, added_at,
                  title=source_id, licence=licence)  # fmt: skip


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """A workspace holding CLIPS, three schema regions (Dundee empty) and a 1-minute target."""
    schema = LabelSchema(accents=("Glasgow", "Edinburgh", "Dundee"))
    config = dataclasses.replace(workspace.config, labels=schema, target_minutes=1.0)
    ws = Workspace(workspace.root, config=config)
    ws.write_sources(
        [
            _source("src-a", 600.0, "CC-BY-4.0", "2024-01-01T09:00:00Z"),
            _source("src-b", 300.25, "", "2024-02-01T08:00:00Z"),
        ]
    )
    clips, labels, start = [], [], 0.0
    for source, seconds, state, speaker, accent, cut_at in CLIPS:
        clip = clip_record(source, start, seconds, cut_at)
        start += 20.0
        clips.append(clip)
        labels.append({"clip_id": clip.clip_id, "status": state, "speaker": speaker, "accent": accent,
                       "transcript": "aye", "reviewer": "t", "updated_at": cut_at, "version": "1"})  # fmt: skip
    ws.write_clips(clips)
    put_labels(ws, labels)
    for source in ("src-a", "src-b"):  # CC BY asks for a credit
        set_attribution(ws, source, {"author": "Morag", "title": f"Talk {source}"})
    write_manifest(ws)
    return ws


def _release(
    ws: Workspace, version: str, splits: dict[str, str], counts: dict[str, tuple[int, float]]
) -> None:
    folder = ws.releases / version
    folder.mkdir(parents=True)
    data = {
        "version": version,
        "counts": {k: {"clips": n, "seconds": s, "groups": 1, "files": []} for k, (n, s) in counts.items()},
        "splits": splits,
    }
    (folder / "release.json").write_text(json.dumps(data), encoding="utf-8")


def _rows(rep, name: str) -> dict[str, tuple]:
    return {r.key: (r.clips, round(r.seconds, 3), round(r.share, 6), r.mean_s, r.min_s, r.max_s)
            for r in rep.breakdowns[name]}  # fmt: skip


def test_stages_breakdowns_and_progress_are_exact(ws: Workspace) -> None:
    rep = report(ws)
    stages = {s.name: (s.clips, round(s.seconds, 3)) for s in rep.stages}
    assert stages == {
        "pulled": (None, 900.25),
        "cut": (9, 41.356),
        "pending": (2, 3.579),
        "accepted": (6, 30.0),
        "rejected": (1, 7.777),
        "publishable": (3, 18.0),  # src-b has no licence
    }
    assert rep.stages[0].sources == 2
    assert rep.stage.name == "accepted" and round(rep.stage.minutes, 6) == 0.5
    assert round(rep.progress, 9) == 0.3 and rep.target_minutes == 1.0
    assert _rows(rep, "speaker") == {
        "Morag": (3, 18.0, 0.6, pytest.approx(6.0), 3.001, 10.499),
        "Iain": (1, 6.0, 0.2, 6.0, 6.0, 6.0),
        "": (2, 6.0, 0.2, 3.0, 2.5, 3.5),
    }
    assert [r.key for r in rep.breakdowns["speaker"]] == ["Morag", "", "Iain"]  # minutes, then key
    assert _rows(rep, "source")["src-a"][:3] == (3, 18.0, 0.6)
    assert _rows(rep, "licence") == {
        "CC-BY-4.0": (3, 18.0, 0.6, pytest.approx(6.0), 3.001, 10.499),
        "": (3, 12.0, 0.4, 4.0, 2.5, 6.0),
    }
    assert _rows(rep, "accent")["Edinburgh"] == (1, 6.0, 0.2, 6.0, 6.0, 6.0)
    assert _rows(rep, "split") == {"unpublished": (6, 30.0, 1.0, 5.0, 2.5, 10.499)}
    assert sum(b for _, b, _, _, _, _ in _rows(rep, "accent").values()) == pytest.approx(30.0)
    assert rep.histogram[0] == (0.0, 0.5, 0) and sum(n for _, _, n in rep.histogram) == 6

    rejected = report(ws, "rejected")
    assert _rows(rejected, "speaker") == {"Iain": (1, 7.777, 1.0, 7.777, 7.777, 7.777)}
    everything = report(ws, "all")
    assert everything.stage.name == "cut" and everything.stage.clips == 9
    assert round(everything.breakdowns["speaker"][0].seconds, 3) == 19.234  # Morag, pending included


def test_warnings_for_dominant_speaker_and_source_and_thin_regions(ws: Workspace) -> None:
    rep = report(ws)
    found = {(w.kind, w.key): w for w in rep.warnings}
    assert set(found) == {("speaker", "Morag"), ("source", "src-a"), ("region", "Dundee"),
                          ("region", "Glasgow"), ("region", "Edinburgh")}  # fmt: skip
    assert found["speaker", "Morag"].share == pytest.approx(0.6)
    assert "60.0%" in found["speaker", "Morag"].message
    assert found["region", "Dundee"].seconds == 0.0 and "no minutes" in found["region", "Dundee"].message
    assert "0.30 min" in found["region", "Glasgow"].message

    relaxed = report(ws, max_share=0.6, min_region_minutes=0.25)  # 0.6 is not *more* than 0.6
    assert {(w.kind, w.key) for w in relaxed.warnings} == {("region", "Dundee"), ("region", "Edinburgh")}
    strict = report(ws, max_share=0.19)  # Iain at 0.2 now counts; the unnamed speaker never does
    assert {w.key for w in strict.warnings if w.kind == "speaker"} == {"Morag", "Iain"}


def test_since_limits_clips_and_sources(ws: Workspace) -> None:
    rep = report(ws, since="2024-02-01")
    stages = {s.name: (s.clips, round(s.seconds, 3)) for s in rep.stages}
    assert stages["pulled"] == (None, 300.25)
    assert stages["cut"] == (6, 26.078)
    assert stages["accepted"] == (4, 22.499) and stages["rejected"] == (0, 0.0)
    assert round(rep.progress, 9) == round(10.499 / 60, 9)  # src-b's 12 s have no licence
    # what those clips add to the target, not told as where the corpus stands (0.30 of 1)
    assert "Progress: 0.17 publishable minutes cut since 2024-02-01: 17.5% of the 1-minute target;" in (
        to_markdown(rep)
    )
    assert " of 1 publishable minutes" not in to_markdown(rep)
    assert report(ws, since="2024-02-04").stage.clips == 0
    for bad in ("2024-2-1", "yesterday", "2024-02-30"):
        with pytest.raises(AccentdsError, match="YYYY-MM-DD"):
            report(ws, since=bad)
    with pytest.raises(AccentdsError, match="unknown status"):
        report(ws, "maybe")


def test_published_stages_and_split_from_newest_release(ws: Workspace) -> None:
    _release(ws, "1.0.0", {"Morag": "train"}, {"train": (2, 7.501)})
    _release(ws, "1.1.0", {"Morag": "train", "source:src-b": "test"},
             {"train": (3, 18.0), "test": (2, 6.0)})  # fmt: skip
    rep = report(ws)
    assert rep.release == "1.1.0"
    published = [(s.name, s.clips, s.seconds) for s in rep.stages if s.name.startswith("published")]
    assert published == [("published 1.0.0", 2, 7.501), ("published 1.1.0", 5, 24.0)]
    assert {k: v[:3] for k, v in _rows(rep, "split").items()} == {
        "train": (3, 18.0, 0.6),
        "test": (2, 6.0, 0.2),  # the unnamed speaker's clips of src-b, grouped by source
        "unpublished": (1, 6.0, 0.2),  # Iain has no split yet
    }


def test_json_csv_and_markdown_agree(ws: Workspace) -> None:
    _release(ws, "1.0.0", {"Morag": "train"}, {"train": (3, 18.0)})
    rep = report(ws)
    data = json.loads(to_json(rep))
    assert list(data) == ["name", "generated_at", "status", "since", "release", "stages", "stage", "progress",
                          "region_targets", "breakdowns", "warnings", "thresholds", "histogram"]  # fmt: skip
    assert data["stage"] == {"name": "accepted", "clips": 6, "sources": None, "seconds": 30.0, "minutes": 0.5}
    assert data["progress"] == {"target_minutes": 1.0, "accepted_minutes": 0.5, "publishable_minutes": 0.3,
                                "share": 0.3,
                                "not_publishable": [{"reason": "unlicensed source", "clips": 3, "minutes": 0.2}]}  # fmt: skip
    morag = data["breakdowns"]["speaker"][0]
    assert morag == {"key": "Morag", "clips": 3, "seconds": 18.0, "minutes": 0.3, "share": 0.6,
                     "mean_s": 6.0, "min_s": 3.001, "max_s": 10.499, "publishable_seconds": 18.0,
                     "not_publishable": []}  # fmt: skip
    iain = data["breakdowns"]["speaker"][2]
    assert (iain["key"], iain["publishable_seconds"], iain["not_publishable"]) == (
        "Iain", 0.0, [{"reason": "unlicensed source", "seconds": 6.0}],
    )  # fmt: skip
    assert to_json(rep) == to_json(rep)

    table = list(csv.DictReader(io.StringIO(to_csv(rep))))
    assert list(table[0]) == ["section", "key", "clips", "minutes", "share", "mean_s", "min_s", "max_s",
                              "publishable_minutes", "not_publishable"]  # fmt: skip
    by = {(r["section"], r["key"]): r for r in table}
    for name, rows in data["breakdowns"].items():
        for row in rows:
            line = by[name, row["key"]]
            assert int(line["clips"]) == row["clips"]
            assert float(line["minutes"]) == pytest.approx(row["minutes"], abs=1e-6)
            assert float(line["share"]) == pytest.approx(row["share"], abs=1e-6)
            assert (float(line["mean_s"]), float(line["min_s"]), float(line["max_s"])) == (
                row["mean_s"], row["min_s"], row["max_s"],
            )  # fmt: skip
    for stage in data["stages"]:
        assert float(by["stage", stage["name"]]["minutes"]) == pytest.approx(stage["minutes"], abs=1e-6)
    assert by["stage", "published 1.0.0"]["clips"] == "3"
    assert by["warning:speaker", "Morag"]["share"] == "0.600000"

    markdown = to_markdown(rep)
    assert "| Morag | 3 | 0.30 | 0.30 | 60.0% | 6.000 | 3.001 | 10.499 |  |" in markdown
    assert "| (none) | 2 | 0.10 | 0.00 | 20.0% | 3.000 | 2.500 | 3.500 | 0.10 unlicensed source |" in markdown
    assert "| accepted | 6 | 0.50 |" in markdown and "| pulled |  | 15.00 |" in markdown
    assert "| publishable | 3 | 0.30 |" in markdown
    assert ("Progress: 0.30 of 1 publishable minutes (30.0%); 0.20 accepted minutes cannot be published: "
            "unlicensed source 0.20 min.") in markdown  # fmt: skip
    for warning in data["warnings"]:
        assert warning["message"] in markdown
    assert len(rich_tables(rep)) == 2 + 6  # stages, warnings, six breakdowns


def test_markup_and_pipes_in_names_stay_text(ws: Workspace) -> None:
    from rich.console import Console

    labels = list(ws.read_labels().values())
    labels[0]["speaker"] = "[bold]x|y<script>"
    put_labels(ws, labels)
    write_manifest(ws)
    rep = report(ws)
    assert "[bold]x\\|y<script>" in to_markdown(rep)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    for table in rich_tables(rep):
        console.print(table)
    assert "[bold]x|y<script>" in console.file.getvalue()  # type: ignore[attr-defined]
    page = ws.root / "r.html"
    write_html(ws, rep, page)
    assert "<script>" not in page.read_text(encoding="utf-8")


def test_history_lines_and_growth_by_day(ws: Workspace) -> None:
    assert history(ws) == [] and growth_by_day([]) == []
    append_history(ws, "pull  a.mp4", at="2024-02-01T09:00:00Z")
    [publishable] = [s for s in report(ws).stages if s.name == "publishable"]
    labels = list(ws.read_labels().values())
    for row in labels:
        if row["status"] == "pending":
            row["status"] = "accepted"
    put_labels(ws, labels)
    write_manifest(ws)
    append_history(ws, "label --accept", at="2024-02-01T18:00:00Z")
    append_history(ws, "label --accept", at="2024-02-03T10:00:00Z")

    text = history_csv(ws).read_text(encoding="utf-8").splitlines()
    assert text[0].startswith("time,command,pending_clips,pending_minutes,accepted_clips")
    assert len(text) == 4
    rows = history(ws)
    assert rows[0] == {
        "time": "2024-02-01T09:00:00Z", "command": "pull a.mp4",
        "pending_clips": 2, "pending_minutes": pytest.approx(3.579 / 60, abs=1e-6),
        "accepted_clips": 6, "accepted_minutes": 0.5,
        "rejected_clips": 1, "rejected_minutes": pytest.approx(7.777 / 60, abs=1e-6),
        "total_clips": 9, "total_minutes": pytest.approx(41.356 / 60, abs=1e-6),
        "publishable_clips": publishable.clips,
        "publishable_minutes": pytest.approx(publishable.seconds / 60, abs=1e-6),
    }  # fmt: skip
    assert 0 < publishable.clips < 6  # some accepted clips are held back
    assert (rows[1]["pending_clips"], rows[1]["accepted_clips"]) == (0, 8)
    days = growth_by_day(rows)
    assert [d["date"] for d in days] == ["2024-02-01", "2024-02-03"]
    assert days[0]["accepted_minutes"] == pytest.approx(33.579 / 60, abs=1e-6)
    assert days[0]["delta_accepted_minutes"] == pytest.approx(3.579 / 60, abs=1e-6)  # within the first day
    assert days[1]["delta_accepted_minutes"] == 0.0 and days[1]["pending_minutes"] == 0.0


def test_a_day_that_lost_a_little_says_by_how_much(ws: Workspace) -> None:
    """A day whose accepted minutes fell by 2.5 s: one decimal would show `(-0.0)`, no change."""
    append_history(ws, "pull", at="2024-02-01T09:00:00Z")
    small = next(c for c in ws.read_clips() if c.start == 80.0)  # 2.5 s accepted
    put_labels(ws, [{"clip_id": small.clip_id, "status": "rejected"}])
    write_manifest(ws)
    append_history(ws, "label", at="2024-02-02T09:00:00Z")
    days = growth_by_day(history(ws))
    assert days[1]["delta_accepted_minutes"] == pytest.approx(-2.5 / 60, abs=1e-6)
    table_line = render_days(days, "table").splitlines()[1]
    assert "accepted 0.5 min (-0.04)  pending" in table_line, table_line
    assert "| -0.04 |" in render_days(days, "markdown")
    assert "(+0.0)" in render_days(days[:1], "table")  # the first day: no change within it


def _png_size(path: Path) -> tuple[int, int]:
    import matplotlib.image

    image = matplotlib.image.imread(path)
    return image.shape[1], image.shape[0]


def test_plots_and_html(ws: Workspace, tmp_path: Path) -> None:
    append_history(ws, "pull", at="2024-02-01T09:00:00Z")
    append_history(ws, "label", at="2024-02-02T09:00:00Z")
    rep = report(ws)
    paths = write_plots(ws, rep, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["accents.png", "durations.png", "minutes_over_time.png",
                                             "speakers.png"]  # fmt: skip
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == PNG and len(data) > 1000
        width, height = _png_size(path)
        assert width >= 200 and height >= 150

    page = tmp_path / "out" / "report.html"
    write_html(ws, rep, page)
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", text, re.I)
    assert "http://" not in text and "https://" not in text
    assert text.count("data:image/png;base64,") == 4
    assert "Morag" in text and "60.0%" in text


def test_plots_without_history_or_clips(workspace: Workspace, tmp_path: Path) -> None:
    rep = report(workspace)
    assert rep.stage.clips == 0 and rep.breakdowns["speaker"] == () and rep.histogram == ()
    assert all(w.kind == "region" for w in rep.warnings)
    assert len(write_plots(workspace, rep, tmp_path / "p")) == 4
    assert json.loads(to_json(rep))["progress"]["share"] == 0.0


def test_sample_report_agrees_with_status(workspace: Workspace) -> None:
    [pulled] = pull(workspace, [str(SAMPLE)])
    assert pulled.status == "pulled"
    [done] = cut(workspace)
    assert done.ok and len(done.clips) == 8
    st = status(workspace)
    rep = report(workspace, "all")
    stages = {s.name: s for s in rep.stages}
    assert stages["pulled"].seconds == pytest.approx(st.pulled_s, abs=1e-9)
    assert stages["pulled"].sources == st.sources == 1
    assert (stages["cut"].clips, stages["cut"].seconds) == (st.clips, pytest.approx(st.cut_s, abs=1e-9))
    for state in ("pending", "accepted", "rejected"):
        assert (stages[state].clips, stages[state].seconds) == (
            getattr(st, state)[0], pytest.approx(getattr(st, state)[1], abs=1e-9),
        )  # fmt: skip
    assert rep.progress == pytest.approx(st.progress)
    [source] = rep.breakdowns["source"]
    assert source.clips == 8 and source.share == pytest.approx(1.0)
    assert min(c.duration for c in workspace.read_clips()) == pytest.approx(source.min_s)
    append_history(workspace, "cut")
    assert history(workspace)[-1]["total_clips"] == 8


def test_many_row_groups_give_the_same_report(ws: Workspace) -> None:
    import pyarrow.parquet as pq

    _release(ws, "1.0.0", {"Morag": "train", "source:src-b": "test"}, {"train": (3, 18.0)})
    before = json.loads(to_json(report(ws)))
    table = pq.read_table(ws.manifest_parquet)
    pq.write_table(table, ws.manifest_parquet, row_group_size=2)  # a dictionary per row group
    assert pq.read_metadata(ws.manifest_parquet).num_row_groups == 5
    after = json.loads(to_json(report(ws)))
    assert {k: v for k, v in after.items() if k != "generated_at"} == {
        k: v for k, v in before.items() if k != "generated_at"
    }


# quality measures per index of CLIPS: accepted 1 noisy+clipped (4.5 s), 3 noisy (6.0 s),
# 4 quiet (2.5 s), 5 clipped (3.5 s); pending 6 narrowband (1.234 s); rejected 8 little-speech
FLAGGED = {
    1: {"snr_db": 5.0, "clipping_ratio": 0.01},
    3: {"snr_db": 8.0},
    4: {"lufs": -50.0},
    5: {"clipping_ratio": 0.02},
    6: {"bandwidth_hz": 3000.0},
    8: {"speech_ratio": 0.2},
}
# g1: accepted 0 (3.001 s) and 2 (10.499 s), pending 7; g2: accepted 4, rejected 8;
# g3: accepted 3 (6.0 s) and 5 (3.5 s)
GROUPS = {0: "g1", 2: "g1", 7: "g1", 4: "g2", 8: "g2", 3: "g3", 5: "g3"}
NOISY = "35.0% of the minutes are flagged 'noisy' (more than 20%): listen to them before accepting"
CLIPPED = "26.7% of the minutes are flagged 'clipped' (more than 20%): listen to them before accepting"
REPEATS = "2 duplicate groups hold 2 or more accepted clips (0.11 min of repeats): keep one clip of each"


@pytest.fixture
def flagged(ws: Workspace) -> Workspace:
    """CLIPS with the FLAGGED measures and the GROUPS of near-duplicates."""
    clips = {round(c.start / 20): c for c in ws.read_clips()}  # the fixture starts clip i at 20 * i s
    clips = {i: dataclasses.replace(c, **FLAGGED.get(i, {})) for i, c in clips.items()}
    ws.write_clips([clips[i] for i in sorted(clips)])
    write_csv_atomic(ws.duplicates_csv, DUPLICATE_FIELDS,
                     [{"clip_id": clips[i].clip_id, "duplicate_group": g} for i, g in GROUPS.items()])  # fmt: skip
    write_manifest(ws)
    return ws


def _extra(rep) -> dict[tuple[str, str], tuple[float, float, str]]:
    return {(w.kind, w.key): (round(w.seconds, 3), round(w.share, 6), w.message)
            for w in rep.warnings if w.kind in ("quality", "duplicate")}  # fmt: skip


def test_quality_flag_and_duplicate_warnings(flagged: Workspace) -> None:
    rep = report(flagged)
    hints = _rows(rep, "quality hints")
    assert {k: v[:2] for k, v in hints.items()} == {
        "duplicate": (2, 13.5),
        "noisy clipped": (1, 4.5),
        "noisy duplicate": (1, 6.0),
        "quiet duplicate": (1, 2.5),
        "clipped duplicate": (1, 3.5),
    }
    # noisy 10.5 of 30 s, clipped 8.0: warned; quiet 2.5 (8.3%): not; duplicate (85%) is not a quality warning
    assert _extra(rep) == {
        ("quality", "noisy"): (10.5, 0.35, NOISY),
        ("quality", "clipped"): (8.0, 0.266667, CLIPPED),
        ("duplicate", "duplicate"): (6.501, 0.2167, REPEATS),  # beyond 10.499 s of g1 and 6.0 s of g3
    }
    assert [w.kind for w in rep.warnings][-3:] == ["quality", "quality", "duplicate"]

    assert set(_extra(report(flagged, max_flagged_share=0.3))) == {
        ("quality", "noisy"),
        ("duplicate", "duplicate"),
    }
    assert set(_extra(report(flagged, max_flagged_share=0.4))) == {("duplicate", "duplicate")}
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(AccentdsError, match=r"max_flagged_share must be more than 0 and at most 1"):
            report(flagged, max_flagged_share=bad)


def test_duplicate_warning_counts_only_clips_of_the_chosen_status(flagged: Workspace) -> None:
    # g1 and g2 each hold one pending or rejected clip: no duplicate warning for those stages
    pending = _extra(report(flagged, "pending"))
    assert pending == {("quality", "narrowband"): (1.234, round(1.234 / 3.579, 6), "34.5% of the minutes are "
                       "flagged 'narrowband' (more than 20%): listen to them before accepting")}  # fmt: skip
    assert set(_extra(report(flagged, "rejected"))) == {("quality", "little-speech")}
    # all clips: g1 keeps 10.499 of 15.845 s, g2 7.777 of 10.277 s, g3 6.0 of 9.5 s
    everything = _extra(report(flagged, "all"))
    assert everything[("duplicate", "duplicate")] == (
        11.346, round(11.346 / 41.356, 6),
        "3 duplicate groups hold 2 or more clips (0.19 min of repeats): keep one clip of each",
    )  # fmt: skip
    assert set(everything) == {("quality", "noisy"), ("duplicate", "duplicate")}  # clipped: 8.0 of 41.356 s
    # since 2024-02-01 clip 0 is gone, so g1 holds one accepted clip and only g3 repeats
    since = _extra(report(flagged, since="2024-02-01"))
    assert since[("duplicate", "duplicate")] == (
        3.5, round(3.5 / 22.499, 6),
        "1 duplicate group holds 2 or more accepted clips (0.06 min of repeats): keep one clip of each",
    )  # fmt: skip
    # no duplicate groups at all: no warning
    write_csv_atomic(flagged.duplicates_csv, DUPLICATE_FIELDS, [])
    write_manifest(flagged)
    assert set(_extra(report(flagged))) == {("quality", "noisy"), ("quality", "clipped")}


def _set_max_flagged_share(ws: Workspace, value: str) -> Path:
    path = ws.root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    assert text.count("\nmax_flagged_share = 0.2 ") == 1  # the template's line
    path.write_text(
        text.replace("\nmax_flagged_share = 0.2 ", f"\nmax_flagged_share = {value} "), encoding="utf-8"
    )
    return path


def test_max_flagged_share_from_accentds_toml(flagged: Workspace) -> None:
    assert flagged.config.report.max_flagged_share == 0.2
    _set_max_flagged_share(flagged, "0.3")
    ws = Workspace(flagged.root)
    assert ws.config.report.max_flagged_share == 0.3
    rep = report(ws)
    assert rep.max_flagged_share == 0.3
    assert [w.key for w in rep.warnings if w.kind == "quality"] == ["noisy"]
    assert report(ws, max_flagged_share=0.25).max_flagged_share == 0.25  # an explicit value wins

    shown = run_cli("report", "--format", "json", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["thresholds"]["max_flagged_share"] == 0.3
    assert [(w["kind"], w["key"]) for w in data["warnings"] if w["kind"] in ("quality", "duplicate")] == [
        ("quality", "noisy"), ("duplicate", "duplicate"),
    ]  # fmt: skip


@pytest.mark.parametrize("value", ["0", "-0.5", "1.5"])
def test_bad_max_flagged_share_is_refused(workspace: Workspace, value: str) -> None:
    _set_max_flagged_share(workspace, value)
    with pytest.raises(AccentdsError) as error:
        Workspace(workspace.root)
    got = f"{float(value):g}"
    assert f"[report] max_flagged_share must be more than 0 and at most 1 (got {got})" in str(error.value)
    shown = run_cli("report", cwd=workspace.root)
    assert shown.returncode != 0 and "max_flagged_share must be more than 0" in shown.stderr + shown.stdout


def test_quality_and_duplicate_warnings_in_every_format(flagged: Workspace) -> None:
    from rich.console import Console

    rep = report(flagged)
    data = json.loads(to_json(rep))
    assert data["thresholds"] == {"max_share": 0.5, "min_region_minutes": 5.0, "max_flagged_share": 0.2}
    extra = [w for w in data["warnings"] if w["kind"] in ("quality", "duplicate")]
    assert extra == [
        {"kind": "quality", "key": "noisy", "seconds": 10.5, "share": 0.35, "message": NOISY},
        {"kind": "quality", "key": "clipped", "seconds": 8.0, "share": 0.266667, "message": CLIPPED},
        {"kind": "duplicate", "key": "duplicate", "seconds": 6.501, "share": 0.2167, "message": REPEATS},
    ]
    by = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(to_csv(rep)))}
    assert (by["warning:quality", "noisy"]["minutes"], by["warning:quality", "noisy"]["share"]) == (
        "0.175000", "0.350000",
    )  # fmt: skip
    assert by["warning:duplicate", "duplicate"]["minutes"] == "0.108350"
    assert ("warning:quality", "quiet") not in by
    markdown = to_markdown(rep)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    for table in rich_tables(rep):
        console.print(table)
    page = flagged.root / "r.html"
    write_html(flagged, rep, page)
    text = page.read_text(encoding="utf-8")
    for message in (NOISY, CLIPPED, REPEATS):
        assert f"- {message}" in markdown
        assert message in console.file.getvalue()  # type: ignore[attr-defined]
        assert f"<li class='warn'>{message.replace(chr(39), '&#x27;')}</li>" in text


def test_thin_region_warning_counts_only_publishable_minutes(ws: Workspace) -> None:
    """A region whose accepted minutes are all of a denied speaker is as thin as one with none:
    a release will hold none of them."""
    assert not {w.key for w in report(ws, min_region_minutes=0.25).warnings} & {"Glasgow"}
    deny(ws, "speaker", "Morag", "asked to be left out")  # all 18 s of Glasgow
    write_manifest(ws)
    rep = report(ws, min_region_minutes=0.25)
    found = {(w.kind, w.key): w for w in rep.warnings}
    assert found["region", "Glasgow"].seconds == 0.0
    assert found["region", "Glasgow"].message == (
        "accent region 'Glasgow' has no publishable minutes (0.30 accepted min cannot be published)"
    )
    assert "'Glasgow' has no publishable minutes" in to_markdown(rep)
    # a stage no release holds as such keeps counting its own minutes
    pending = {(w.kind, w.key): w.message for w in report(ws, "pending", min_region_minutes=0.25).warnings}
    assert pending["region", "Glasgow"] == "accent region 'Glasgow' has only 0.02 min (fewer than 0.25)"


def test_progress_counts_only_publishable_minutes(ws: Workspace) -> None:
    """Minutes that can never be published (no licence, denied speaker or source, no
    transcript) are shown apart, with the reason, and are not progress."""
    sources = {s.source_id: s for s in ws.read_sources()}
    ws.write_sources([dataclasses.replace(sources["src-a"], licence="Standard YouTube License"),
                      dataclasses.replace(sources["src-b"], licence="CC-BY-4.0")])  # fmt: skip
    deny(ws, "speaker", "Iain", "asked to be left out")  # 6.0 s of src-b
    clip4 = next(c for c in ws.read_clips() if c.start == 80.0)  # 2.5 s of src-b, no speaker
    put_labels(ws, [{"clip_id": clip4.clip_id, "transcript": ""}])
    write_manifest(ws)

    rep = report(ws)
    assert rep.accepted_seconds == pytest.approx(30.0)
    assert (rep.publishable_seconds, rep.progress) == (pytest.approx(3.5), pytest.approx(3.5 / 60))
    assert [(h.reason, h.clips, round(h.seconds, 3)) for h in rep.held_back] == [
        ("denied speaker", 1, 6.0), ("unlicensed source", 3, 18.0), ("empty transcript", 1, 2.5),
    ]  # fmt: skip
    assert {r.key: (round(r.publishable_seconds, 3), r.held_back) for r in rep.breakdowns["speaker"]} == {
        "Morag": (0.0, (("unlicensed source", pytest.approx(18.0)),)),
        "Iain": (0.0, (("denied speaker", 6.0),)),
        "": (3.5, (("empty transcript", 2.5),)),
    }
    assert {r.key: round(r.publishable_seconds, 3) for r in rep.breakdowns["source"]} == {
        "src-a": 0.0,
        "src-b": 3.5,
    }
    assert "0.06 of 1 publishable minutes (5.8%); 0.44 accepted minutes cannot be published" in to_markdown(
        rep
    )
    # with something publishable, status still says how to fix what is held back (the denied
    # speaker is meant to be held back)
    assert (
        "set licences with `accentds source set src-a --licence ...`, or list theirs in allowed_licences "
        "of accentds.toml; add transcripts with `accentds review`   "
        "(unlicensed source 0.3 min, empty transcript 0.04 min held back)"  # 2.5 s: not 0.0
    ) in status(ws).next_steps

    deny(ws, "source", "src-a", "recorded without consent")  # its clips are held back for both reasons
    rep = report(ws)
    assert [(h.reason, h.clips) for h in rep.held_back] == [
        ("denied source + unlicensed source", 3), ("denied speaker", 1), ("empty transcript", 1),
    ]  # fmt: skip
    shown = run_cli("report", "--format", "json", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    progress = json.loads(shown.stdout)["progress"]
    # the command reads accentds.toml: a 600-minute target
    assert (progress["accepted_minutes"], progress["publishable_minutes"], progress["target_minutes"]) == (
        0.5, 0.058333, 600,
    )  # fmt: skip
    st = status(ws)
    assert st.publishable == (1, pytest.approx(3.5)) and st.progress == pytest.approx(rep.progress)
    assert [(h.reason, h.clips) for h in st.held_back] == [(h.reason, h.clips) for h in rep.held_back]
    line = run_cli("status", cwd=ws.root).stdout
    assert "target: 0.1 of 600 publishable minutes (0.0%)" in line
    assert (
        "not publishable: 0.4 min accepted (denied source + unlicensed source 0.3 min, denied speaker 0.1 min, "
        in line
    )


def test_a_clip_held_back_for_several_reasons_shows_them_all(ws: Workspace) -> None:
    """A clip with no licence and no transcript is counted once, under both reasons; so is a
    clip with no author to credit and no transcript."""
    set_attribution(ws, "src-a", {"author": ""})  # CC BY, with nobody to credit
    by_start = {c.start: c.clip_id for c in ws.read_clips()}
    put_labels(
        ws, [{"clip_id": by_start[20.0], "transcript": ""}, {"clip_id": by_start[100.0], "transcript": ""}]
    )
    write_manifest(ws)

    rep = report(ws)
    held = [(h.reason, h.clips, round(h.seconds, 3)) for h in rep.held_back]
    assert held == [
        ("unlicensed source", 2, 8.5),
        ("unlicensed source + empty transcript", 1, 3.5),
        ("no author to credit", 2, 13.5),
        ("no author to credit + empty transcript", 1, 4.5),
    ]
    assert (sum(n for _, n, _ in held), sum(s for _, _, s in held)) == (
        6,
        pytest.approx(rep.accepted_seconds),
    )
    rows = {r.key: r.held_back for r in rep.breakdowns["speaker"]}
    assert rows[""] == (("unlicensed source", 2.5), ("unlicensed source + empty transcript", 3.5))
    assert json.loads(to_json(rep))["progress"]["not_publishable"][1] == {
        "reason": "unlicensed source + empty transcript", "clips": 1, "minutes": round(3.5 / 60, 6),
    }  # fmt: skip

    st = status(ws)
    assert [(h.reason, h.clips) for h in st.held_back] == [(r, n) for r, n, _ in held]
    [step] = [s for s in st.next_steps if s.startswith("nothing publishable yet")]
    assert "--licence" in step and "--author" in step and "accentds review" in step
    line = run_cli("status", cwd=ws.root).stdout
    assert (
        "not publishable: 0.5 min accepted (unlicensed source 0.1 min, unlicensed source + empty transcript "
        "0.1 min, no author to credit 0.2 min, no author to credit + empty transcript 0.1 min)"
    ) in line


def test_only_accepted_clips_are_held_back_or_publishable(ws: Workspace) -> None:
    """A pending or rejected clip is not held back from a release (it is not in one anyway):
    `--status all` gives reasons for the accepted clips only, and pending and rejected clips
    are neither publishable nor held back."""
    everything = report(ws, "all")
    rows = {r.key: (round(r.seconds, 3), round(r.publishable_seconds, 3), r.held_back)
            for r in everything.breakdowns["speaker"]}  # fmt: skip
    assert rows == {
        "Morag": (19.234, 18.0, ()),  # 1.234 s pending
        "Iain": (13.777, 0.0, (("unlicensed source", 6.0),)),  # 7.777 s rejected
        "": (8.345, 0.0, (("unlicensed source", 6.0),)),  # 2.345 s pending
    }
    for state in ("pending", "rejected"):
        rep = report(ws, state)
        assert all(
            not r.held_back and not r.publishable_seconds for rows in rep.breakdowns.values() for r in rows
        )
        assert [line for line in to_csv(rep).splitlines() if "unlicensed" in line] == [
            "not publishable,unlicensed source,3,0.200000,,,,,,"  # the progress line: accepted clips
        ]
    assert everything.held_back == report(ws).held_back  # progress: the accepted clips, whatever --status


def test_region_targets_count_publishable_accepted_minutes(ws: Workspace) -> None:
    path = ws.root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("region_targets = {}", 'region_targets = { "Glasgow" = 2, "Dundee" = 1 }'))
    rep = report(Workspace(ws.root))
    assert rep.region_targets == (
        RegionTarget("Glasgow", 2.0, pytest.approx(18.0)),
        RegionTarget("Dundee", 1.0, 0.0),
    )
    assert "| Glasgow | 0.30 | 2 | 15.0% |" in to_markdown(rep)
    shown = run_cli("report", "--format", "json", cwd=ws.root)
    assert json.loads(shown.stdout)["region_targets"] == [
        {"region": "Glasgow", "target_minutes": 2.0, "publishable_minutes": 0.3, "share": 0.15},
        {"region": "Dundee", "target_minutes": 1.0, "publishable_minutes": 0.0, "share": 0.0},
    ]
    path.write_text(text.replace("region_targets = {}", 'region_targets = { "Dundie" = 1 }'))
    shown = run_cli("report", cwd=ws.root)
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [
        f"Error: {path}: line {text.splitlines().index('region_targets = {}') + 1}: [report] region_targets names "
        '"Dundie", not an accent region of [labels] accents (did you mean "Dundee"?)'
    ]


def test_a_licence_in_another_spelling_counts_and_a_missing_credit_is_a_reason(ws: Workspace) -> None:
    """Reports hold back what publish would: a licence is read in any spelling publish reads
    (cc-by-4.0 is CC-BY-4.0), and a CC BY source nobody is credited for is held back until
    `source set --author` names someone."""
    sources = {s.source_id: s for s in ws.read_sources()}
    ws.write_sources([dataclasses.replace(sources["src-a"], licence="cc-by-4.0"),
                      dataclasses.replace(sources["src-b"], licence="CC-BY-4.0")])  # fmt: skip
    write_manifest(ws)
    assert report(ws).held_back == ()
    set_attribution(ws, "src-b", {"author": "", "title": "", "url": ""})
    write_manifest(ws)
    held = report(ws).held_back
    assert [(h.reason, h.clips) for h in held] == [("no author, title or url to credit", 3)]

"""The report's plots read well: the accents plot shows publishable minutes against the
region targets (checked on the matplotlib objects, not on pixels)."""

from __future__ import annotations

import dataclasses

from accentds.config import ReportSettings
from accentds.plots import accents_figure
from accentds.report import RegionTarget, Report, Row, Stage


def _row(key: str, publishable: float, held: float) -> Row:
    total = publishable + held
    return Row(key, 1, total, 0.0, total, total, total, publishable,
               (("unlicensed source", held),) if held else ())  # fmt: skip


def test_accents_plot_marks_region_targets_and_stacks_what_cannot_be_published() -> None:
    rep = Report(
        name="c", generated_at="", status="accepted", since=None, stages=(), stage=Stage("accepted", 2, 0.0),
        breakdowns={"accent": (_row("Glasgow", 600.0, 300.0), _row("Fife", 60.0, 0.0))}, target_minutes=600,
        accepted_seconds=960.0, warnings=(), histogram=(), release=None, accents=("Glasgow", "Fife", "Dundee"),
        region_targets=(RegionTarget("Glasgow", 60.0, 600.0), RegionTarget("Dundee", 30.0, 0.0)),
    )  # fmt: skip
    [ax] = accents_figure(rep).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Glasgow", "Fife", "Dundee"]
    publishable, held = ax.containers
    assert [bar.get_width() for bar in publishable] == [10.0, 1.0, 0.0]
    assert [(bar.get_x(), bar.get_width()) for bar in held] == [(10.0, 5.0), (1.0, 0.0), (0.0, 0.0)]
    [targets] = ax.collections
    assert targets.get_offsets().tolist() == [[60.0, 0.0], [30.0, 2.0]]  # (minutes, bar) of Glasgow, Dundee
    assert [t.get_text() for t in ax.texts] == ["10.0 of 60", "0.00 of 30"]
    assert ax.get_xlim()[1] >= 60.0
    pending = dataclasses.replace(rep, status="pending")  # targets are about accepted minutes
    assert len(accents_figure(pending).axes[0].collections) == 0


def test_report_settings_default_to_no_region_targets() -> None:
    assert ReportSettings().region_targets == ()

"""The report's plots read well: the growth chart is scaled to the data with release markers,
and the accents plot shows publishable minutes against the region targets (checked on the
matplotlib objects, not on pixels)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from matplotlib.dates import date2num

from accentds.config import ReportSettings
from accentds.plots import accents_figure, growth_figure, growth_scale
from accentds.report import RegionTarget, Report, Row, Stage


def _line(time: str, accepted: float, pending: float = 0.0) -> dict[str, object]:
    return {"time": time, "command": "label", "accepted_minutes": accepted, "pending_minutes": pending,
            "rejected_minutes": 0.0}  # fmt: skip


# a curator's first two days: 11 accepted minutes, then a release
FIRST_DAYS = [_line("2024-02-01T09:00:00Z", 0.0, 20.0), _line("2024-02-01T18:00:00Z", 4.0, 16.0),
              _line("2024-02-02T18:00:00Z", 11.0, 9.0)]  # fmt: skip


def _target_lines(ax) -> list[float]:
    return [line.get_ydata()[0] for line in ax.get_lines() if str(line.get_label()).startswith("target")]


def test_growth_chart_is_scaled_to_the_data_not_to_a_far_target() -> None:
    fig = growth_figure(FIRST_DAYS, [("1.0.0", "2024-02-02T12:00:00Z")], 600.0, 11.0)
    [ax] = fig.axes
    bottom, top = ax.get_ylim()
    assert bottom == 0 and 20.0 < top <= 22.0  # pending peaks at 20 minutes; 600 would flatten it
    assert _target_lines(ax) == []
    assert ax.get_title().splitlines()[1] == "target 600 min, 11.0 publishable now (1.8%)"
    markers = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [date2num(line.get_xdata()[0]) for line in markers] == [
        date2num(datetime(2024, 2, 2, 12, tzinfo=UTC))
    ]
    assert [t.get_text() for t in ax.texts] == ["1.0.0"]


def test_growth_chart_draws_the_target_when_it_fits() -> None:
    rows = [*FIRST_DAYS, _line("2024-03-01T18:00:00Z", 400.0)]
    [ax] = growth_figure(rows, [], 600.0, 380.0).axes
    assert _target_lines(ax) == [600.0]
    assert ax.get_ylim() == (0.0, pytest.approx(630.0))
    assert "\n" not in ax.get_title()


@pytest.mark.parametrize(
    ("peak", "target", "expected"),
    [
        (11.0, 600.0, (pytest.approx(12.1), False)),
        (0.0, 600.0, (1.0, False)),  # nothing yet: one minute
        (400.0, 600.0, (630.0, True)),
        (700.0, 600.0, (pytest.approx(770.0), True)),  # past the target
        (0.4, 1.0, (1.05, True)),
    ],
)
def test_growth_scale(peak: float, target: float, expected: tuple[float, bool]) -> None:
    assert growth_scale(peak, target) == expected


def test_growth_chart_without_history_says_so() -> None:
    [ax] = growth_figure([], [("1.0.0", "2024-02-02T12:00:00Z")], 600.0, 0.0).axes
    assert [t.get_text() for t in ax.texts] == ["no history yet"]
    assert ax.get_ylim() == (0.0, 1.0)


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


def test_an_accents_plot_with_no_minutes_has_no_negative_axis() -> None:
    """A workspace with nothing accepted yet: every region at 0 minutes, the axis from 0."""
    rep = Report(
        name="c", generated_at="", status="accepted", since=None, stages=(), stage=Stage("accepted", 0, 0.0),
        breakdowns={"accent": ()}, target_minutes=600, accepted_seconds=0.0, warnings=(), histogram=(),
        release=None, accents=("Glasgow", "Fife"),
    )  # fmt: skip
    [ax] = accents_figure(rep).axes
    assert ax.get_xlim() == (0.0, 1.0)
    some = dataclasses.replace(rep, breakdowns={"accent": (_row("Glasgow", 600.0, 0.0),)})
    low, high = accents_figure(some).axes[0].get_xlim()
    assert low == 0.0 and high >= 10.0

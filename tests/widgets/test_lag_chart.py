"""The lag panel draws what the history holds, throttles redraws and badges each group."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import color_count, dark_palette
from lag_scenario import START_MS, STEP_S, scenario
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.qtbot import QtBot

from app.lag.history import LagHistory
from app.lag.status import GroupStatus, Status
from kafka_io.lag import GroupOffsets, LagSample, PartitionOffsets
from widgets.chart_style import STATUS_COLORS, series_color
from widgets.lag_chart import COLUMNS, LagChart

EXPECTED = {
    "orders-projector": Status.OK,
    "billing": Status.WARNING,
    "email-sender": Status.STOPPED,
    "search-indexer": Status.STALLED,
    "audit-log": Status.REWIND,
}


def cell(chart: LagChart, row: int, column: str) -> QTableWidgetItem:
    item = chart.table.item(row, COLUMNS.index(column))
    assert item is not None
    return item


def row_of(chart: LagChart, group: str) -> int:
    rows = [r for r in range(chart.table.rowCount()) if cell(chart, r, "Group").text() == group]
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def chart(qtbot: QtBot) -> LagChart:
    widget = LagChart(refresh_ms=20)
    qtbot.addWidget(widget)
    widget.resize(1100, 650)
    widget.show()
    return widget


def test_scenario_statuses_are_what_the_panel_should_show() -> None:
    history = scenario()
    assert {s.group: s.status for s in history.statuses()} == EXPECTED


def test_draws_each_groups_total_lag(qtbot: QtBot, chart: LagChart) -> None:
    history = scenario()
    chart.set_history(history)
    qtbot.waitUntil(lambda: len(chart.curves) == 5, timeout=3000)
    for group, curve in chart.curves.items():
        x, y = curve.getData()
        expected = history.group_lag(group, "records")
        np.testing.assert_allclose(x, expected.times)
        np.testing.assert_allclose(y, expected.values)
    assert chart.curves["billing"].getData()[1][-1] > chart.curves["billing"].getData()[1][10]
    axis = chart.plot.getPlotItem().getAxis("bottom")
    assert type(axis).__name__ == "DateAxisItem"
    legend = chart.plot.getPlotItem().legend
    assert {label.text for _, label in legend.items} == set(EXPECTED)


def test_status_badges_rules_and_catch_up(qtbot: QtBot, chart: LagChart) -> None:
    chart.set_history(scenario())
    qtbot.waitUntil(lambda: chart.table.rowCount() == 5, timeout=3000)
    rows = {cell(chart, r, "Group").text(): r for r in range(chart.table.rowCount())}
    for group, status in EXPECTED.items():
        badge = cell(chart, rows[group], "Status")
        assert badge.text() == status.value
        assert group in {s.group for s in chart.statuses() if s.status is status}
        assert badge.toolTip()  # the rule, on hover
    # Worst first: the stopped group heads the table.
    assert cell(chart, 0, "Status").text() == "STOPPED"
    billing: GroupStatus = next(s for s in chart.statuses() if s.group == "billing")
    rule = cell(chart, rows["billing"], "Rule").text()
    assert rule == billing.rule and "grew" in rule
    eta = cell(chart, rows["billing"], "Catch-up").text()
    assert eta == "never"  # consuming slower than production
    assert cell(chart, rows["orders-projector"], "Catch-up").text() != "never"


def test_seconds_unit_draws_lag_age(qtbot: QtBot, chart: LagChart) -> None:
    history = scenario()
    chart.set_history(history)
    chart.refresh()
    chart.seconds_button.click()
    assert chart.unit == "seconds"
    _, y = chart.curves["email-sender"].getData()
    np.testing.assert_allclose(y, history.group_lag("email-sender", "seconds").values)
    assert y[-1] > 200  # stopped at minute 6 of 10: its oldest waiting event is minutes old
    assert "seconds" in chart.plot.getPlotItem().getAxis("left").labelText


def test_partition_lines_on_demand(qtbot: QtBot, chart: LagChart) -> None:
    history = scenario()
    chart.set_history(history)
    chart.refresh()
    assert chart.partition_curves == {}
    row = row_of(chart, "billing")
    with qtbot.waitSignal(chart.groupSelected) as blocker:
        chart.table.selectRow(row)
    assert blocker.args == ["billing"]
    chart.partitions_box.setChecked(True)
    assert sorted(chart.partition_curves) == [f"billing payments[{p}]" for p in range(3)]
    for part in history.partition_lag("billing"):
        _, y = chart.partition_curves[f"billing {part.name}"].getData()
        np.testing.assert_allclose(y, part.values)


def test_only_the_most_lagging_groups_until_the_user_picks(qtbot: QtBot) -> None:
    chart = LagChart(max_lines=2, refresh_ms=20)
    qtbot.addWidget(chart)
    history = scenario()
    chart.set_history(history)
    chart.refresh()
    by_lag = sorted(history.statuses(), key=lambda s: -(s.lag or 0))
    assert set(chart.plotted_groups()) == {s.group for s in by_lag[:2]}
    least = by_lag[-1].group
    row = row_of(chart, least)
    cell(chart, row, "Plot").setCheckState(Qt.CheckState.Checked)
    expected = {s.group for s in by_lag[:2]} | {least}
    qtbot.waitUntil(lambda: set(chart.plotted_groups()) == expected, timeout=2000)
    assert cell(chart, row_of(chart, least), "Plot").checkState() == Qt.CheckState.Checked


def test_redraws_are_throttled(qtbot: QtBot) -> None:
    class Counting(LagHistory):
        calls = 0

        def statuses(self, groups: object = None) -> list[GroupStatus]:
            Counting.calls += 1
            return super().statuses()

    chart = LagChart(refresh_ms=200)
    qtbot.addWidget(chart)
    history = Counting(window_s=60)
    source = scenario(30)
    order_times = source.times()
    for _ in range(50):  # fifty samples in a burst: one redraw
        chart.set_history(history)
    qtbot.wait(400)
    assert Counting.calls == 1
    assert order_times.size == 30


def test_failed_sample_is_announced(qtbot: QtBot, chart: LagChart) -> None:
    history = scenario(20)
    history.add(LagSample(START_MS + 21 * STEP_S * 1000, error="cannot reach 127.0.0.1:1"))
    chart.set_history(history)
    chart.refresh()
    assert not chart.notice.isHidden()
    assert "cannot reach 127.0.0.1:1" in chart.notice.text()
    _, y = chart.curves["billing"].getData()
    assert math.isnan(y[-1])  # a gap, not a made-up value


def test_hover_shows_values_at_the_nearest_sample(qtbot: QtBot, chart: LagChart) -> None:
    history = scenario()
    chart.set_history(history)
    chart.refresh()
    qtbot.wait(50)  # let the view auto-range before mapping data to the screen
    view = chart.plot.getPlotItem().getViewBox()
    times = history.times()
    target = QPointF(times[60], float(np.nanmax(history.group_lag("billing").values)) / 2)
    chart.plot.scene().sigMouseMoved.emit(view.mapViewToScene(target))
    qtbot.waitUntil(lambda: chart.hover.isVisible(), timeout=2000)
    text = chart.hover.toPlainText()
    billing = history.group_lag("billing").values[60]
    assert f"billing: {billing:,.0f} records" in text
    assert chart.crosshair.value() == pytest.approx(times[60])


def test_screenshots_light_and_dark(qtbot: QtBot, chart: LagChart, tmp_path: Path) -> None:
    history = scenario()
    chart.resize(1000, 640)
    chart.set_history(history)
    chart.refresh()
    chart.select_group("billing")
    chart.set_show_partitions(False)
    qtbot.wait(50)  # let the view auto-range before mapping data to the screen
    plotted = chart.plotted_groups()
    assert plotted
    for name, palette in (("light", chart.palette()), ("dark", dark_palette(chart.palette()))):
        chart.setPalette(palette)
        qtbot.wait(20)
        image = chart.plot.grab().toImage()
        assert image.save(str(tmp_path / f"lag-{name}.png"))
        background = chart.plot.backgroundBrush().color()
        assert background == palette.color(QPalette.ColorRole.Base)
        assert color_count(image, background) > image.width() * image.height() // 4
        # Every plotted group's line is drawn in its own colour.
        for i, group in enumerate(plotted):
            assert color_count(image, series_color(i), tolerance=10) > 30, f"{name}: {group}"
        # The status badges keep their colours, whatever the palette.
        table = chart.table.grab().toImage()
        for status in (Status.OK, Status.STOPPED):
            assert color_count(table, QColor(STATUS_COLORS[status])) > 50, status
    assert chart.plot.backgroundBrush().color().lightness() < 60


def test_oldest_waiting_comes_from_the_record_from_the_first_sample(
    qtbot: QtBot, chart: LagChart
) -> None:
    history = LagHistory()
    record_ms = START_MS - 9 * 60_000  # the stopped group's oldest waiting record
    for i in range(3):
        stopped = PartitionOffsets("orders", 0, 100, 150 + i, None, record_ms, 100)
        unread = PartitionOffsets("orders", 1, 40, 90 + 10 * i)  # its record could not be read
        groups = (
            GroupOffsets("stopped", "EMPTY", 0, (stopped,)),
            GroupOffsets("unread", "EMPTY", 0, (unread,)),
        )
        history.add(LagSample(START_MS + i * STEP_S * 1000, groups, {}))
    chart.set_history(history)
    chart.refresh()
    age = cell(chart, row_of(chart, "stopped"), "Oldest waiting")
    assert age.text() == "9 min 10 s"  # 9 min before the first sample, two samples ago
    assert "timestamp" in age.toolTip()
    estimate = cell(chart, row_of(chart, "unread"), "Oldest waiting")
    assert estimate.text().startswith("~") and "Estimated" in estimate.toolTip()
    chart.seconds_button.click()
    _, y = chart.curves["stopped"].getData()
    np.testing.assert_allclose(y, [540.0, 545.0, 550.0])  # from 9 minutes, not from 0

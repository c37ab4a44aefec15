"""The rate panel: live events/s per topic, stacked bars by type, click-to-jump."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import color_count, dark_palette
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

from app.lag.history import LagHistory
from app.lag.rates import OTHER_TYPES, count_events
from kafka_io.lag import LagSample
from widgets.chart_style import OTHER_COLOR, series_color
from widgets.rate_chart import MAX_TYPES, RateChart

START_MS = 1_700_000_000_000 // 3_600_000 * 3_600_000  # on the hour
TYPES = [
    "OrderPlaced", "PaymentCaptured", "OrderShipped", "OrderDelivered", "ItemAdded",
    "ItemRemoved", "AddressChanged", "OrderCancelled", "RefundIssued", "CouponApplied",
    "InvoiceSent", "ReviewPosted",
]  # fmt: skip


def event_columns(hours: float = 3) -> tuple[np.ndarray, np.ndarray]:
    """A day-shaped workload: a busy stretch mid-way, types with very different shares."""
    rng = np.random.default_rng(11)
    n = 40_000
    span = int(hours * 3_600_000)
    ts = START_MS + np.sort(
        np.concatenate(
            [rng.integers(0, span, n // 2), (rng.normal(0.55, 0.08, n // 2) * span).astype(int)]
        ).clip(0, span - 1)
    )
    weights = np.array([30, 25, 15, 10, 8, 5, 3, 2, 1, 0.5, 0.3, 0.2])
    ids = rng.choice(len(TYPES), n, p=weights / weights.sum())
    return ts, ids


def live_history() -> LagHistory:
    history = LagHistory()
    rates = {"orders": 120, "payments": 45, "notifications": 200}
    for i in range(60):
        marks = {(topic, p): i * 5 * r // 2 for topic, r in rates.items() for p in range(2)}
        history.add(LagSample(START_MS + i * 5000, (), marks))
    return history


@pytest.fixture
def chart(qtbot: QtBot) -> RateChart:
    widget = RateChart(refresh_ms=20)
    qtbot.addWidget(widget)
    widget.resize(1100, 650)
    widget.show()
    return widget


def test_live_rates_per_topic(qtbot: QtBot, chart: RateChart) -> None:
    history = live_history()
    chart.set_history(history)
    qtbot.waitUntil(lambda: len(chart.rate_curves) == 3, timeout=3000)
    expected = {s.name: s for s in history.topic_rates()}
    for topic, curve in chart.rate_curves.items():
        x, y = curve.getData()
        np.testing.assert_allclose(x, expected[topic].times)
        np.testing.assert_allclose(y, expected[topic].values)
    _, orders = chart.rate_curves["orders"].getData()
    np.testing.assert_allclose(orders[1:], 120.0)


def test_stacked_bars_hold_the_counts_per_type(chart: RateChart) -> None:
    ts, ids = event_columns()
    chart.set_events(ts, ids, TYPES)
    full = count_events(ts, ids, TYPES, "minute")
    shown = chart.counts
    assert shown is not None
    assert len(chart.bars) == MAX_TYPES + 1 and shown.type_names[-1] == OTHER_TYPES
    np.testing.assert_array_equal(shown.totals, full.totals)
    assert shown.totals.sum() == ts.size
    bottom = np.zeros(len(shown))
    for k, bars in enumerate(chart.bars):
        np.testing.assert_allclose(bars.opts["y0"], bottom)
        np.testing.assert_allclose(bars.opts["height"], shown.counts[:, k])
        bottom += bars.opts["height"]
    # The most frequent type is at the bottom of each stack.
    assert shown.type_names[0] == "OrderPlaced"
    np.testing.assert_allclose(chart.bars[0].opts["x0"] * 1000 // 60_000 * 60_000, full.starts_ms)


def test_hour_buckets(qtbot: QtBot, chart: RateChart) -> None:
    ts, ids = event_columns()
    chart.set_events(ts, ids, TYPES)
    with qtbot.waitSignal(chart.bucketChanged) as blocker:
        chart.set_bucket("hour")
    assert blocker.args == ["hour"]
    shown = chart.counts
    assert shown is not None and shown.width_ms == 3_600_000 and len(shown) == 3
    np.testing.assert_array_equal(shown.totals, count_events(ts, ids, TYPES, "hour").totals)
    assert "hour" in chart.history.getPlotItem().getAxis("left").labelText


def _viewport_point(chart: RateChart, x_s: float, y: float) -> QPoint:
    view = chart.history.getPlotItem().getViewBox()
    scene = view.mapViewToScene(QPointF(x_s, y))
    return chart.history.mapFromScene(scene)


def test_clicking_a_bar_emits_its_time_range(qtbot: QtBot, chart: RateChart) -> None:
    ts, ids = event_columns()
    chart.set_bucket("hour")
    chart.set_events(ts, ids, TYPES)
    qtbot.wait(50)  # let the view settle on its range
    shown = chart.counts
    assert shown is not None
    i = int(np.argmax(shown.totals))
    middle_s = (shown.starts_ms[i] + shown.width_ms / 2) / 1000
    where = _viewport_point(chart, middle_s, float(shown.totals[i]) / 2)
    with qtbot.waitSignal(chart.timeRangeClicked, timeout=2000) as blocker:
        qtbot.mouseClick(chart.history.viewport(), Qt.MouseButton.LeftButton, pos=where)
    start = int(shown.starts_ms[i])
    assert blocker.args == [start, start + 3_600_000]
    # Above the bar is empty space: no jump.
    smallest = int(np.argmin(shown.totals))
    above = _viewport_point(
        chart,
        (shown.starts_ms[smallest] + shown.width_ms / 2) / 1000,
        float(shown.totals[smallest]) + 0.5 * float(shown.totals.max() - shown.totals[smallest]),
    )
    with qtbot.assertNotEmitted(chart.timeRangeClicked, wait=100):
        qtbot.mouseClick(chart.history.viewport(), Qt.MouseButton.LeftButton, pos=above)


def test_no_events_draws_nothing(chart: RateChart) -> None:
    chart.set_events(np.zeros(0), np.zeros(0), TYPES)
    assert chart.counts is not None and len(chart.counts) == 0
    assert chart.bars == []
    assert chart.summary.text() == "0 events"


def test_screenshots_light_and_dark(qtbot: QtBot, chart: RateChart, tmp_path: Path) -> None:
    ts, ids = event_columns()
    chart.resize(900, 600)
    chart.set_history(live_history())
    chart.refresh()
    chart.set_events(ts, ids, TYPES)
    qtbot.wait(50)
    shown = chart.counts
    assert shown is not None
    chart.select_bucket(int(np.argmax(shown.totals)))
    for name, palette in (("light", chart.palette()), ("dark", dark_palette(chart.palette()))):
        chart.setPalette(palette)
        qtbot.wait(20)
        image = chart.history.grab().toImage()
        assert image.save(str(tmp_path / f"rates-{name}.png"))
        background = chart.history.backgroundBrush().color()
        # The plot's background follows the palette, and most of the plot shows it.
        assert background == palette.color(QPalette.ColorRole.Base)
        assert color_count(image, background) > image.width() * image.height() // 4
        # The legend is outside the plot, so every colour in the plot is bars.
        for k, type_name in enumerate(shown.type_names):
            color = QColor(OTHER_COLOR) if type_name == OTHER_TYPES else series_color(k)
            assert color_count(image, color) > 20, f"{name}: no bars of {type_name}"
            assert type_name in chart.legend.text()
        busiest = np.argsort(shown.counts.sum(axis=0))[::-1][:2]
        for k in busiest.tolist():
            assert color_count(image, series_color(k)) > 2000, f"{name}: few bars of type {k}"
    dark = chart.history.backgroundBrush().color()
    assert dark.lightness() < 60


def test_auto_bucket_follows_the_span_and_live_plot_waits_for_rates(chart: RateChart) -> None:
    hour, day = 3_600_000, 86_400_000
    for span_ms, expected in ((3 * hour, "minute"), (5 * day, "hour"), (42 * day, "day")):
        ts = np.linspace(1_700_000_000_000, 1_700_000_000_000 + span_ms, 500).astype(np.int64)
        chart.set_events(ts, np.zeros(500, np.int64), ["E"])
        assert chart.bucket == expected
        shown = chart.counts
        assert shown is not None and shown.totals.sum() == 500
    # A file has no live rates: the panel says where they come from instead of an
    # empty plot, and shows the plot as soon as the sampler delivers some.
    assert chart.live_hint.isVisibleTo(chart) and not chart.live.isVisibleTo(chart)
    chart.set_history(live_history())
    chart.refresh()
    assert chart.live.isVisibleTo(chart) and not chart.live_hint.isVisibleTo(chart)

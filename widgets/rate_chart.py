"""Event rate panel: live events/s per topic, and events per minute or hour by type.

Two plots on one local-time axis each.  The live plot draws the topic rates the lag
sampler measures (watermark deltas, see ``LagHistory.topic_rates``); the lower one
stacks one ``pg.BarGraphItem`` per event type over the open topic's history, from
the index's timestamp and type columns.  Clicking a bar emits
``timeRangeClicked(start_ms, end_ms)`` so the event table can jump to that bucket.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.lag.history import LagHistory, Series
from app.lag.rates import OTHER_TYPES, EventCounts, count_events, keep_top_types
from widgets.chart_style import (
    OTHER_COLOR,
    AsOfMarker,
    apply_palette,
    make_time_plot,
    series_color,
    series_pen,
)

BUCKETS = ("auto", "minute", "hour", "day")
# "auto" picks the finest bucket that keeps the bars countable on screen.
_AUTO_LIMITS = ((6 * 3_600_000, "minute"), (14 * 86_400_000, "hour"))
MAX_TYPES = 9  # distinct colours before the rest is summed into "other types"
_BAR_FILL = 0.9  # bars take 90% of their bucket, so neighbours stay distinguishable


class RateChart(QWidget):
    """Live events/s per topic above; events per bucket, stacked by type, below."""

    # [start_ms, end_ms): epoch milliseconds overflow Signal(int)'s 32-bit C int.
    timeRangeClicked = Signal("qint64", "qint64")  # type: ignore[arg-type]
    bucketChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, refresh_ms: int = 250) -> None:
        super().__init__(parent)
        self.rate_curves: dict[str, pg.PlotDataItem] = {}
        self.bars: list[pg.BarGraphItem] = []
        self.counts: EventCounts | None = None  # what the bars show (top types + other)
        self._rates: list[Series] = []
        self._columns: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[str]] | None = None
        self._highlight: pg.BarGraphItem | None = None

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._draw_rates)

        self.bucket_box = QComboBox()
        self.bucket_box.addItems(["auto"] + [f"per {b}" for b in BUCKETS[1:]])
        self.bucket_box.currentIndexChanged.connect(self._on_bucket)
        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(mid);")
        hint = QLabel("Click a bar to show its events")
        hint.setStyleSheet("color: palette(mid);")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Events by type"))
        bar.addWidget(self.bucket_box)
        bar.addWidget(self.summary)
        bar.addStretch(1)
        bar.addWidget(hint)

        self.live = make_time_plot("Events/s")
        self.history = make_time_plot("Events per minute")
        # The legend is a row of text above the plot, not an item inside it: inside, it
        # covered the tallest bars whatever the headroom.
        legend = self.history.getPlotItem().legend
        if legend is not None:
            legend.setVisible(False)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.history.getPlotItem().getViewBox().setMouseEnabled(x=True, y=False)
        self.history.scene().sigMouseClicked.connect(self._on_click)
        self.as_of = AsOfMarker(self.history)

        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        upper = QVBoxLayout(top)
        upper.setContentsMargins(0, 0, 0, 0)
        upper.addWidget(QLabel("Live events per second, by topic"))
        upper.addWidget(self.live, 1)
        self.live_hint = QLabel(
            "Live rates come from the lag sampler of a connected cluster "
            "(watermark deltas between samples)."
        )
        self.live_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.live_hint.setStyleSheet("color: palette(mid);")
        upper.addWidget(self.live_hint, 1)
        self.live.setVisible(False)
        split.addWidget(top)
        bottom = QWidget()
        lower = QVBoxLayout(bottom)
        lower.setContentsMargins(0, 0, 0, 0)
        lower.addLayout(bar)
        lower.addWidget(self.legend)
        lower.addWidget(self.history, 1)
        split.addWidget(bottom)
        split.setSizes([220, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._apply_palette()

    # -- live rates ----------------------------------------------------------------------

    def set_history(self, history: LagHistory, topics: Sequence[str] | None = None) -> None:
        """Live rates from the lag sampler's history (throttled like ``set_rates``)."""
        self.set_rates(history.topic_rates(topics))

    def set_rates(self, rates: Sequence[Series]) -> None:
        """Events/s per topic over time; redraws at most every ``refresh_ms``."""
        self._rates = list(rates)
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Redraw the live rates now."""
        self._draw_rates()

    def _draw_rates(self) -> None:
        self._timer.stop()
        item = self.live.getPlotItem()
        for curve in self.rate_curves.values():
            item.removeItem(curve)
        self.rate_curves.clear()
        self.live.setVisible(bool(self._rates))
        self.live_hint.setVisible(not self._rates)
        for i, series in enumerate(self._rates):
            self.rate_curves[series.name] = self.live.plot(
                series.times, series.values, name=series.name, pen=series_pen(i),
                connect="finite", antialias=True,
            )  # fmt: skip

    # -- events per bucket -----------------------------------------------------------------

    @property
    def bucket(self) -> str:
        """The bucket the bars use: the one chosen, or the one "auto" resolved to."""
        chosen = BUCKETS[self.bucket_box.currentIndex()]
        if chosen != "auto":
            return chosen
        if self._columns is None or not self._columns[0].size:
            return "minute"
        ts = self._columns[0]
        span = int(ts.max()) - int(ts.min())
        return next((name for limit, name in _AUTO_LIMITS if span <= limit), "day")

    def set_bucket(self, bucket: str) -> None:
        self.bucket_box.setCurrentIndex(BUCKETS.index(bucket))

    def set_events(
        self,
        timestamps_ms: npt.ArrayLike,
        type_ids: npt.ArrayLike,
        type_names: Sequence[str],
    ) -> None:
        """Count and draw the open topic's events (index columns) in the current bucket."""
        self._columns = (
            np.asarray(timestamps_ms, np.int64),
            np.asarray(type_ids, np.int64),
            list(type_names),
        )
        self._count()

    def set_event_counts(self, counts: EventCounts) -> None:
        """Draw counts computed elsewhere (e.g. in a worker for a very large index)."""
        self._columns = None
        self._draw_counts(counts)

    def _on_bucket(self, _index: int) -> None:
        if self._columns is not None:
            self._count()
        self.bucketChanged.emit(self.bucket)

    def _count(self) -> None:
        assert self._columns is not None
        ts, ids, names = self._columns
        self._draw_counts(count_events(ts, ids, names, self.bucket))

    def _draw_counts(self, counts: EventCounts) -> None:
        item = self.history.getPlotItem()
        for bars in self.bars:
            item.removeItem(bars)
        self.bars.clear()
        self._clear_highlight()
        shown = keep_top_types(counts, MAX_TYPES)
        self.counts = shown
        item.setLabel("left", f"Events per {_unit(shown.width_ms)}")
        self._apply_palette()
        width_s = shown.width_ms / 1000
        x0 = shown.starts_ms / 1000 + width_s * (1 - _BAR_FILL) / 2
        bottom = np.zeros(len(shown), dtype=float)
        swatches = []
        for k, name in enumerate(shown.type_names):
            heights = shown.counts[:, k].astype(float)
            color = QColor(OTHER_COLOR) if name == OTHER_TYPES else series_color(k)
            bars = pg.BarGraphItem(
                x0=x0, y0=bottom.copy(), width=width_s * _BAR_FILL, height=heights,
                brush=color, pen=pg.mkPen(color.darker(130)),
            )  # fmt: skip
            item.addItem(bars)
            self.bars.append(bars)
            bottom += heights
            swatches.append(f'<span style="color:{color.name()}">■</span>&nbsp;{html.escape(name)}')
        self.legend.setText("&nbsp;&nbsp; ".join(swatches))
        self.summary.setText(f"{int(shown.counts.sum()):,} events")
        if len(shown):
            item.setXRange(x0[0], x0[-1] + width_s, padding=0.02)
            item.setYRange(0, float(bottom.max()) * 1.05, padding=0)

    # -- clicks ----------------------------------------------------------------------------

    def _on_click(self, event: object) -> None:
        counts = self.counts
        button = getattr(event, "button", lambda: None)()
        if counts is None or not len(counts) or button != Qt.MouseButton.LeftButton:
            return
        pos = event.scenePos()  # type: ignore[attr-defined]
        view = self.history.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(pos):
            return
        point = view.mapSceneToView(pos)
        index = counts.bucket_at(point.x() * 1000)
        if index is None or not 0 <= point.y() <= counts.totals[index]:
            return
        self.select_bucket(index)
        start, end = counts.time_range(index)
        self.timeRangeClicked.emit(start, end)

    def select_bucket(self, index: int) -> None:
        """Outline bucket ``index`` (the one the table now shows)."""
        counts = self.counts
        if counts is None:
            return
        self._clear_highlight()
        width_s = counts.width_ms / 1000
        text = self.palette().color(QPalette.ColorRole.Text)
        self._highlight = pg.BarGraphItem(
            x0=[counts.starts_ms[index] / 1000], width=[width_s], y0=[0],
            height=[float(counts.totals[index])], brush=pg.mkBrush(None),
            pen=pg.mkPen(text, width=2),
        )  # fmt: skip
        self._highlight.setZValue(50)
        self.history.getPlotItem().addItem(self._highlight)

    def _clear_highlight(self) -> None:
        if self._highlight is not None:
            self.history.getPlotItem().removeItem(self._highlight)
            self._highlight = None

    # -- palette ---------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        for plot in (self.live, self.history):
            apply_palette(plot, self.palette())
        if self._highlight is not None:
            text = self.palette().color(QPalette.ColorRole.Text)
            self._highlight.setOpts(pen=pg.mkPen(text, width=2))


def _unit(width_ms: int) -> str:
    names = {60_000: "minute", 3_600_000: "hour", 86_400_000: "day"}
    return names.get(width_ms, f"{width_ms / 1000:g} s")

"""The monitoring charts as the window uses them: consumer lag from the sampler, event
rates from the open topic's index, and a click on a rate bar narrowing the table."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDockWidget

from app.gui.lag_monitor import LagMonitor
from app.gui.panels import Charts, LagView, RateView
from app.gui.worker import Workers
from app.index.topic_index import TopicIndex
from app.profiles.lock import LockedClusterSource
from app.sources import ClusterSource, Source

RATES_EVERY_S = 2.0
LAG_NEEDS_CLUSTER = "Consumer lag is sampled from a cluster: File > Connect… to see it."


class Monitoring(QObject):
    def __init__(
        self,
        workers: Workers,
        lag_dock: QDockWidget,
        on_time_range: Callable[[int, int], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.charts = Charts()
        self.lag_monitor = LagMonitor(workers, [], parent=self)
        self.lag_dock = lag_dock
        self.on_time_range = on_time_range
        self.source: Source | None = None
        self._drawn_at = 0.0
        self.as_of_ms: int | None = None  # as-of mode's moment, marked on both charts

    def source_opened(self, source: Source) -> None:
        self.source = source
        if source.has_groups and isinstance(source, ClusterSource):
            lock = source.lock.lag if isinstance(source, LockedClusterSource) else None
            self.lag_monitor.start(source.profile, lock)
        else:
            self.lag_monitor.stop()
        self._lag_notice()

    def chart_ready(self, name: str, chart: QObject) -> None:
        """A chart was built (its dock shown for the first time): wire it."""
        if name == "lag":
            lag: LagView = chart  # type: ignore[assignment]
            self.charts.lag = lag
            lag.as_of.set(self.as_of_ms)
            self.lag_monitor.add_chart(lag)
            self._lag_notice()
        elif name == "rate":
            rate: RateView = chart  # type: ignore[assignment]
            self.charts.rate = rate
            rate.as_of.set(self.as_of_ms)
            self.lag_monitor.add_chart(rate)
            chart.timeRangeClicked.connect(self._bucket_clicked)  # type: ignore[attr-defined]

    def draw_rates(
        self, index: TopicIndex | None, rows: np.ndarray, *, reading: bool, force: bool = False
    ) -> None:
        """Events per minute/hour by type of ``rows`` of the open topic (the rows the
        filter shows); throttled while a read fills the index."""
        chart = self.charts.rate
        now = time.monotonic()
        if chart is None or index is None:
            return
        if not force and reading and now - self._drawn_at < RATES_EVERY_S:
            return
        self._drawn_at = now
        if len(rows) == len(index):
            chart.set_events(index.timestamp_col, index.type_col, index.type_names)
        else:
            chart.set_events(index.timestamp_col[rows], index.type_col[rows], index.type_names)

    def set_as_of(self, at_ms: int | None) -> None:
        """Mark the as-of moment on the charts (None: remove the mark)."""
        self.as_of_ms = at_ms
        for chart in (self.charts.lag, self.charts.rate):
            if chart is not None:
                chart.as_of.set(at_ms)

    def clear_rates(self) -> None:
        """Another source was opened: the old topic's rates are not shown over it."""
        if self.charts.rate is not None:
            empty = np.zeros(0, np.int64)
            self.charts.rate.set_events(empty, empty, [])

    def show_group(self, group: str) -> None:
        self.lag_dock.show()
        self.lag_dock.raise_()
        if self.charts.lag is not None:
            self.charts.lag.select_group(group)

    def stop(self) -> None:
        self.lag_monitor.stop()

    def _lag_notice(self) -> None:
        source = self.source
        if self.charts.lag is not None and source is not None and not source.has_groups:
            self.charts.lag.updated.setText(LAG_NEEDS_CLUSTER)

    def _bucket_clicked(self, start_ms: int, end_ms: int) -> None:
        self.on_time_range(start_ms, end_ms - 1)

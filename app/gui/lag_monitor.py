"""Consumer lag for the lag panel: a sampler job in a worker, the history on the GUI thread.

The sampler (``kafka_io.lag.LagSampler``) owns its admin client and lives in its worker
thread for as long as the window is connected; each round arrives as a partial result
and is added to the ``LagHistory`` that the chart draws.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.gui.worker import JobContext, Task, Workers
from app.lag.history import LagHistory
from kafka_io.lag import DEFAULT_INTERVAL_S, LagSample, LagSampler
from kafka_io.profile import ConnectionProfile


class LagMonitor(QObject):
    def __init__(
        self, workers: Workers, charts: list[Any], interval_s: float = DEFAULT_INTERVAL_S,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.workers = workers
        self.charts = charts  # LagChart, RateChart: anything with set_history(history)
        self.interval_s = interval_s
        self.history = LagHistory()
        self.task: Task | None = None

    def add_chart(self, chart: Any) -> None:
        """A chart built later (its dock was shown): it gets the history so far."""
        self.charts.append(chart)
        if len(self.history):
            chart.set_history(self.history)

    def start(
        self,
        profile: ConnectionProfile,
        keep: Callable[[LagSample], LagSample] | None = None,
    ) -> None:
        """Sample the cluster's groups; ``keep`` narrows each sample (a profile's topic
        lock shows only the groups and partitions of its topics)."""
        self.stop()
        self.history = LagHistory()
        history = self.history
        interval = self.interval_s

        def job(ctx: JobContext) -> None:
            stop = threading.Event()
            ctx.token.on_cancel(stop.set)
            sampler = LagSampler(profile)
            sampler.run(ctx.partial, stop, interval)

        def on_sample(sample: LagSample) -> None:
            if history is self.history:
                history.add(keep(sample) if keep is not None else sample)
                for chart in self.charts:
                    chart.set_history(history)

        self.task = self.workers.submit("lag sampler", job, on_partial=on_sample)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

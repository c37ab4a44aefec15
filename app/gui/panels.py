"""The monitoring docks: consumer lag and event rate, tabbed with the aggregate inspector.

The charts (pyqtgraph) are built the first time their dock is shown, not at start-up:
importing and laying out plots costs a quarter of a second the first window does not
need.  If a chart module is missing the dock explains what it would show instead.
What the window asks of each chart is a Protocol, so the window never probes a chart
with ``hasattr``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from app.lag.history import LagHistory


class AsOfLine(Protocol):
    def set(self, at_ms: int | None) -> None: ...


class HistoryView(Protocol):
    """A chart fed by the lag sampler's history."""

    as_of: AsOfLine  # the as-of moment's line (as-of mode)

    def set_history(self, history: LagHistory) -> None: ...


class LagView(HistoryView, Protocol):
    """The consumer lag chart."""

    updated: QLabel

    def select_group(self, group: str | None) -> None: ...


class RateView(HistoryView, Protocol):
    """The event rate chart (also emits ``timeRangeClicked(start_ms, end_ms)``)."""

    timeRangeClicked: object

    def set_events(
        self, timestamps: np.ndarray, type_ids: np.ndarray, type_names: Sequence[str]
    ) -> None: ...


@dataclass
class Charts:
    """The charts built so far (None until their dock was first shown)."""

    lag: LagView | None = None
    rate: RateView | None = None


@dataclass(frozen=True)
class PanelSpec:
    name: str
    title: str
    object_name: str
    module: str
    class_name: str
    placeholder: str


SPECS = (
    PanelSpec("lag", "Consumer lag", "lagDock", "widgets.lag_chart", "LagChart",
              "Consumer lag appears here for the consumer groups of a connected cluster."),
    PanelSpec("rate", "Event rate", "rateDock", "widgets.rate_chart", "RateChart",
              "Events per minute by type appear here for the open topic."),
)  # fmt: skip

ChartReady = Callable[[str, QObject], None]


def _placeholder(text: str) -> QWidget:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: palette(mid); padding: 16px;")
    return label


def _chart(spec: PanelSpec) -> QWidget | None:
    try:
        mod = importlib.import_module(spec.module)
        widget: QWidget = getattr(mod, spec.class_name)()
    except (ImportError, AttributeError) as exc:
        return _placeholder(f"This chart is not available: {exc}")
    return widget


def add_monitoring_docks(
    window: QMainWindow, beside: QDockWidget, on_ready: ChartReady
) -> list[QDockWidget]:
    """Lag and rate docks tabbed behind ``beside``; ``on_ready(name, chart)`` runs once a
    chart is built (on first show).  Returns the docks, for the View menu."""
    docks = []
    for spec in SPECS:
        dock = QDockWidget(spec.title, window)
        dock.setObjectName(spec.object_name)
        dock.setWidget(_placeholder(spec.placeholder))
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        window.tabifyDockWidget(beside, dock)

        def build(visible: bool, dock: QDockWidget = dock, spec: PanelSpec = spec) -> None:
            if not visible or dock.property("chartBuilt"):
                return
            dock.setProperty("chartBuilt", True)
            chart = _chart(spec)
            if chart is not None:
                dock.setWidget(chart)
                on_ready(spec.name, chart)

        dock.visibilityChanged.connect(build)
        docks.append(dock)
    return docks

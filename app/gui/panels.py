"""The monitoring docks: consumer lag and event rate, tabbed with the aggregate inspector.

The charts (pyqtgraph) are built the first time their dock is shown, not at start-up:
importing and laying out plots costs a quarter of a second the first window does not
need.  If a chart module is missing the dock explains what it would show instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

ChartReady = Callable[[str, QWidget], None]
SPECS = [
    ("lag", "Consumer lag", "lagDock", "widgets.lag_chart", "LagChart",
     "Consumer lag appears here for the consumer groups of a connected cluster."),
    ("rate", "Event rate", "rateDock", "widgets.rate_chart", "RateChart",
     "Events per minute by type appear here for the open topic."),
]  # fmt: skip


def _placeholder(text: str) -> QWidget:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: palette(mid); padding: 16px;")
    return label


def _chart(module: str, class_name: str) -> QWidget | None:
    try:
        mod = importlib.import_module(module)
        widget: QWidget = getattr(mod, class_name)()
    except (ImportError, AttributeError) as exc:
        return _placeholder(f"This chart is not available: {exc}")
    return widget


def add_monitoring_docks(
    window: QMainWindow, beside: QDockWidget, on_ready: ChartReady
) -> list[QDockWidget]:
    """Lag and rate docks tabbed behind ``beside``; ``on_ready(name, chart)`` runs once a
    chart is built (on first show).  Returns the docks, for the View menu."""
    docks = []
    for name, title, object_name, module, class_name, fallback in SPECS:
        dock = QDockWidget(title, window)
        dock.setObjectName(object_name)
        dock.setWidget(_placeholder(fallback))
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        window.tabifyDockWidget(beside, dock)

        def build(visible: bool, dock: QDockWidget = dock, name: str = name,
                  module: str = module, class_name: str = class_name) -> None:  # fmt: skip
            if not visible or dock.property("chartBuilt"):
                return
            dock.setProperty("chartBuilt", True)
            chart = _chart(module, class_name)
            if chart is not None:
                dock.setWidget(chart)
                on_ready(name, chart)

        dock.visibilityChanged.connect(build)
        docks.append(dock)
    return docks

"""The window's panes: where each widget sits (central table, docks, toolbar) and how the
arrangement is saved and restored between runs."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels import ChartReady, add_monitoring_docks
from app.gui.settings import Settings
from widgets.aggregate_inspector import AggregateInspector
from widgets.as_of_bar import AsOfBar
from widgets.cluster_tree import ClusterTree
from widgets.event_detail import EventDetail
from widgets.event_table_view import EventTable
from widgets.filter_bar import FilterBar
from widgets.message_banner import MessageBanner
from widgets.progress_panel import ProgressPanel
from widgets.search_panel import SearchPanel
from widgets.states_table import StatesTable

STATE_VERSION = 1
EMPTY_HINT = (
    "Open an event file (File > Open…, or drop it here) or connect to a cluster "
    "(File > Connect…), then pick a topic on the left."
)


@dataclass
class Panes:
    """Every widget the window shows, by role."""

    banner: MessageBanner
    filter_bar: FilterBar
    progress: ProgressPanel
    table: EventTable
    empty_hint: QLabel
    cluster_tree: ClusterTree
    detail: EventDetail
    inspector: AggregateInspector
    cluster_dock: QDockWidget
    detail_dock: QDockWidget
    inspector_dock: QDockWidget
    monitor_docks: list[QDockWidget]
    search: SearchPanel
    search_dock: QDockWidget
    as_of_bar: AsOfBar
    states: StatesTable
    states_dock: QDockWidget

    @property
    def docks(self) -> list[QDockWidget]:
        return [
            self.cluster_dock, self.detail_dock, self.search_dock, self.inspector_dock,
            self.states_dock, *self.monitor_docks,
        ]  # fmt: skip

    @property
    def lag_dock(self) -> QDockWidget:
        return self.monitor_docks[0]


def _dock(
    window: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)  # saveState() needs names
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def build_panes(window: QMainWindow, on_chart_ready: ChartReady) -> Panes:
    """Cluster tree | event table (+ banner, progress) | event detail, with the aggregate
    inspector below, tabbed with the lag and rate charts."""
    banner, progress, table, as_of_bar = MessageBanner(), ProgressPanel(), EventTable(), AsOfBar()
    empty_hint = QLabel(EMPTY_HINT)
    empty_hint.setWordWrap(True)
    empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty_hint.setVisible(False)
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for widget in (banner, as_of_bar, progress, empty_hint):
        layout.addWidget(widget)
    layout.addWidget(table, 1)
    window.setCentralWidget(central)
    # A toolbar spans the whole window, docks included: room for every filter field.
    filter_bar = FilterBar()
    toolbar = QToolBar("Filter", window)
    toolbar.setObjectName("filterToolBar")
    toolbar.setMovable(False)
    toolbar.addWidget(filter_bar)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    cluster_tree, detail, inspector = ClusterTree(), EventDetail(), AggregateInspector()
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    cluster_dock = _dock(window, "Cluster", "clusterDock", cluster_tree, left)
    detail_dock = _dock(window, "Event", "detailDock", detail, right)
    inspector_dock = _dock(window, "Aggregate", "inspectorDock", inspector, bottom)
    monitor_docks = add_monitoring_docks(window, inspector_dock, on_chart_ready)
    search = SearchPanel()
    search_dock = _dock(window, "Find an id", "searchDock", search, bottom)
    window.tabifyDockWidget(inspector_dock, search_dock)
    states = StatesTable()
    states_dock = _dock(window, "States", "statesDock", states, bottom)
    window.tabifyDockWidget(inspector_dock, states_dock)
    inspector_dock.raise_()
    window.resizeDocks([cluster_dock], [330], Qt.Orientation.Horizontal)
    window.resizeDocks([detail_dock], [400], Qt.Orientation.Horizontal)
    window.resizeDocks([inspector_dock], [330], Qt.Orientation.Vertical)
    return Panes(
        banner, filter_bar, progress, table, empty_hint, cluster_tree, detail, inspector,
        cluster_dock, detail_dock, inspector_dock, monitor_docks, search, search_dock,
        as_of_bar, states, states_dock,
    )  # fmt: skip


def restore_layout(window: QMainWindow, panes: Panes, settings: Settings) -> None:
    geometry, state = settings.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state, STATE_VERSION)
    splitter = settings.splitter("inspector")
    if splitter is not None:
        panes.inspector.splitter.restoreState(splitter)
    else:
        QTimer.singleShot(0, lambda: panes.inspector.splitter.setSizes([420, 700]))


def save_layout(window: QMainWindow, panes: Panes, settings: Settings) -> None:
    settings.save_window_state(window.saveGeometry(), window.saveState(STATE_VERSION))
    settings.save_splitter("inspector", QByteArray(panes.inspector.splitter.saveState()))
    settings.sync()

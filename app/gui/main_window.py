"""The main window: cluster tree | event table (+ filter bar, progress) | event detail,
with the aggregate inspector below.  It composes widgets and controllers; the work is
done by the Loader (reads), TopicView (queries) and InspectorController (replay).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.gui.dataset import Dataset
from app.gui.fold_files import FoldFiles
from app.gui.inspector import InspectorController
from app.gui.jobs import Progress, ReadDone
from app.gui.lag_monitor import LagMonitor
from app.gui.loader import Loader
from app.gui.panels import add_monitoring_docks
from app.gui.settings import Settings
from app.gui.topic_view import TopicView
from app.gui.worker import Workers
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile, ProfileError
from resources import demo_path
from widgets.aggregate_inspector import AggregateInspector
from widgets.cluster_tree import ClusterTree
from widgets.connect_dialog import ConnectDialog, ConnectionRequest
from widgets.event_detail import EventDetail
from widgets.event_table import EventTable
from widgets.filter_bar import FilterBar
from widgets.goto_dialog import GotoDialog
from widgets.progress_panel import ProgressPanel

FILE_FILTER = "Event files (*.avro *.jsonl *.json *.ndjson);;All files (*)"
STATE_VERSION = 1
RATES_EVERY_S = 2.0


class MainWindow(QMainWindow):
    source_loaded = Signal()  # a file finished loading / a cluster listed (tests, bench)

    def __init__(self, settings: Settings, folds: FoldFiles) -> None:
        super().__init__()
        self.setWindowTitle("Event Explorer")
        self.setAcceptDrops(True)
        self.settings = settings
        self.folds = folds
        self.workers = Workers()
        self.loader = Loader(self.workers, self)
        self._build_central()
        self._build_docks()
        self.topic_view = TopicView(self.table, self.filter_bar, lambda: self.loader.reading, self)
        self.inspector_ctl = InspectorController(self.inspector, folds.registry, self)
        self.lag_monitor = LagMonitor(self.workers, [], parent=self)
        self._rates_drawn_at = 0.0
        self._build_menus()
        self._wire()
        self.statusBar().showMessage("Ready")
        self.resize(1440, 900)
        self._restore_layout()

    # --- layout --------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.filter_bar = FilterBar()
        self.progress = ProgressPanel()
        self.table = EventTable()
        self.empty_hint = QLabel(
            "Open an event file (File > Open…, or drop it here) or connect to a cluster "
            "(File > Connect…), then pick a topic on the left."
        )
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setVisible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.progress)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)
        # A toolbar spans the whole window, docks included: room for every filter field.
        toolbar = QToolBar("Filter", self)
        toolbar.setObjectName("filterToolBar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.filter_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState() needs names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.cluster_tree = ClusterTree()
        self.detail = EventDetail()
        self.inspector = AggregateInspector()
        self.cluster_dock = self._dock(
            "Cluster", "clusterDock", self.cluster_tree, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.detail_dock = self._dock(
            "Event", "detailDock", self.detail, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "Aggregate", "inspectorDock", self.inspector, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.rate_chart: Any = None
        self.lag_chart: Any = None
        self.monitor_docks = add_monitoring_docks(self, self.inspector_dock, self._chart_ready)
        self.inspector_dock.raise_()
        self.resizeDocks([self.cluster_dock], [330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.detail_dock], [400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector_dock], [330], Qt.Orientation.Vertical)

    def _action(
        self, text: str, slot: object, shortcut: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(
            self._action(
                "&Open…", self.open_file_dialog, QKeySequence(QKeySequence.StandardKey.Open)
            )
        )
        self.recent_files_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(self._action("Open &demo data", self.open_demo))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Connect…", self.connect_dialog, "Ctrl+K"))
        self.recent_conn_menu = file_menu.addMenu("Recent co&nnections")
        file_menu.addSeparator()
        file_menu.addAction(self._action("Load &folds…", self.load_folds_dialog, "Ctrl+L"))
        file_menu.addSeparator()
        file_menu.addAction(
            self._action("&Quit", self.close, QKeySequence(QKeySequence.StandardKey.Quit))
        )
        go = bar.addMenu("&Go")
        go.addAction(self._action("&Go to offset or time…", self.goto_dialog, "Ctrl+G"))
        go.addAction(
            self._action(
                "&Reload topic", self.reload_topic, QKeySequence(QKeySequence.StandardKey.Refresh)
            )
        )
        go.addAction(
            self._action("Next event of aggregate", lambda: self.inspector.step_by(1), "Alt+Right")
        )
        go.addAction(
            self._action(
                "Previous event of aggregate", lambda: self.inspector.step_by(-1), "Alt+Left"
            )
        )
        go.addAction(
            self._action(
                "Find aggregate",
                self.filter_bar.aggregate.setFocus,
                QKeySequence(QKeySequence.StandardKey.Find),
            )
        )
        view = bar.addMenu("&View")
        for dock in (self.cluster_dock, self.detail_dock, self.inspector_dock, *self.monitor_docks):
            view.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About", self.about))
        self._refresh_recent_menus()

    def _wire(self) -> None:
        loader = self.loader
        loader.dataset_changed.connect(self._dataset_changed)
        loader.topics_changed.connect(self._topics_changed)
        loader.topic_grew.connect(self._topic_grew)
        loader.read_started.connect(self.progress.start)
        loader.read_progress.connect(self._read_progress)
        loader.read_finished.connect(self._read_finished)
        loader.error.connect(self.show_error)
        self.progress.cancel_requested.connect(loader.cancel_read)
        self.cluster_tree.topic_activated.connect(self.activate_topic)
        self.cluster_tree.partition_activated.connect(lambda t, _p: self.activate_topic(t))
        self.cluster_tree.group_activated.connect(self.show_group_lag)
        self.topic_view.event_selected.connect(self._event_selected)
        self.topic_view.refreshed.connect(self._refreshed)
        self.detail.copied.connect(
            lambda _t: self.statusBar().showMessage("Event copied as JSON", 3000)
        )
        self.folds.changed.connect(self._folds_changed)
        self.folds.errors_changed.connect(self._fold_errors)

    # --- sources -------------------------------------------------------------------------

    def open_file(self, path: str | Path) -> None:
        path = Path(path)
        if not path.exists():
            self.show_error(f"No such file: {path}")
            return
        self.settings.add_recent_file(path)
        self._refresh_recent_menus()
        self.lag_monitor.stop()
        self.loader.open_file(path)

    def open_demo(self) -> None:
        self.loader.open_file(demo_path())

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open event file", "", FILE_FILTER)
        if path:
            self.open_file(path)

    def connect_dialog(self) -> None:
        dialog = ConnectDialog(self.settings.recent_connections(), self)
        if dialog.exec() and dialog.chosen is not None:
            self.connect_to(dialog.chosen)

    def connect_to(self, request: ConnectionRequest) -> bool:
        try:
            profile = ConnectionProfile.from_args(
                request.bootstrap or None, request.x_options, request.config,
                request.registry, request.registry_auth,
            )  # fmt: skip
        except ProfileError as exc:
            self.show_error(str(exc))
            return False
        self.settings.add_recent_connection(request.to_recent())
        self._refresh_recent_menus()
        self.connect_profile(profile)
        return True

    def connect_profile(self, profile: ConnectionProfile) -> None:
        self.statusBar().showMessage(f"Connecting to {profile.display_name}…")
        task = self.loader.connect_cluster(profile)
        task.finished.connect(lambda: self.source_loaded.emit())
        self.lag_monitor.start(profile)

    def show_group_lag(self, group: str) -> None:
        lag_dock = self.monitor_docks[0]
        lag_dock.show()
        lag_dock.raise_()
        if hasattr(self.lag_chart, "select_group"):
            self.lag_chart.select_group(group)

    def load_folds_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load folds", "", "Python files (*.py)")
        if path:
            self.load_folds(path)

    def load_folds(self, path: str | Path) -> None:
        names = self.folds.add(path)
        self.settings.set_fold_files(self.folds.paths)
        problem = self.folds.errors().get(str(Path(path).resolve()))
        if problem:
            self.show_error(f"Fold file {Path(path).name} failed: {problem}")
        else:
            found = ", ".join(names) or "no folds"
            self.statusBar().showMessage(f"Loaded {Path(path).name}: {found}", 5000)

    def activate_topic(self, topic: str) -> None:
        dataset = self.loader.dataset
        if dataset is None or (self.topic_view.topic == topic and dataset.indexes.get(topic)):
            return
        self.empty_hint.setVisible(False)
        if dataset.kind == "cluster" and (
            topic not in dataset.indexes or not len(dataset.indexes[topic])
        ):
            self.loader.read_topic(topic)
        self.topic_view.set_topic(topic, dataset.index(topic))
        self.cluster_tree.select_topic(topic, emit=False)
        self.inspector_ctl.clear("Select an event in the table to inspect its aggregate.")
        self.setWindowTitle(f"{topic} — {dataset.name} — Event Explorer")
        self._draw_rates(force=True)

    def reload_topic(self) -> None:
        topic = self.topic_view.topic
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            return
        if dataset.kind == "cluster":
            self.loader.read_topic(topic)
            self.topic_view.set_topic(topic, dataset.index(topic))

    # --- loader events -------------------------------------------------------------------

    def _dataset_changed(self, dataset: Dataset) -> None:
        self.inspector_ctl.make_decoder = dataset.make_decoder
        self.topic_view.clear()
        self.detail.show_event(None)
        self.inspector_ctl.clear("Select an event in the table to inspect its aggregate.")
        self.cluster_tree.set_source_name(dataset.name)
        self.cluster_tree.set_topics([])
        self.cluster_tree.set_groups([], "(none in a file)" if dataset.kind == "file" else "…")
        self.setWindowTitle(f"{dataset.name} — Event Explorer")
        self._lag_notice()

    def _topics_changed(self) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        self.cluster_tree.set_topics(dataset.topic_infos())
        note = "(none in a file)" if dataset.kind == "file" else "(none)"
        self.cluster_tree.set_groups(dataset.groups, note)
        if self.topic_view.topic is not None:
            self.cluster_tree.select_topic(self.topic_view.topic, emit=False)
        elif dataset.kind == "cluster":
            self.empty_hint.setText(f"Connected to {dataset.name}: pick a topic on the left.")
            self.empty_hint.setVisible(True)

    def _topic_grew(self, topic: str) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        if self.topic_view.topic is None and dataset.kind == "file":
            # The first topic of a file shows as soon as its first batch is in, with its
            # first event selected: every panel has something to show from the start.
            self.topic_view.set_topic(topic, dataset.index(topic))
            self.cluster_tree.set_topics(dataset.topic_infos())
            self.cluster_tree.select_topic(topic, emit=False)
            self.topic_view.select_model_row(0)
            return
        if topic == self.topic_view.topic:
            if dataset.indexes.get(topic) is not self.topic_view.index:
                # The stored index of a cluster topic took the place of the empty one.
                self.topic_view.set_topic(topic, dataset.index(topic))
            else:
                self.topic_view.grew()

    def _read_progress(self, progress: Progress) -> None:
        self.progress.update_counts(
            progress.read, progress.total, progress.status, progress.per_partition
        )

    def _read_finished(self, done: ReadDone) -> None:
        self.progress.finish()
        self.topic_view.refresh(force_completion=True)
        what = "cancelled after" if done.cancelled else "read"
        name = self.loader.dataset.name if self.loader.dataset else ""
        stored = f" (+{done.reused:,} from the stored index)" if done.reused else ""
        self.statusBar().showMessage(f"{name}: {what} {done.events:,} events{stored}", 5000)
        if self.topic_view.model.rowCount() and self.topic_view.selected_row_id() is None:
            self.topic_view.select_model_row(0)
        self.source_loaded.emit()

    def _refreshed(self, shown: int, total: int) -> None:
        if total and self.topic_view.selected_row_id() is None and not self.loader.reading:
            self.topic_view.select_model_row(0)
        self._draw_rates()

    def _draw_rates(self, force: bool = False) -> None:
        """Events per minute/hour by type for the open topic (throttled while reading)."""
        index = self.topic_view.index
        now = time.monotonic()
        if self.rate_chart is None or index is None:
            return
        if not force and self.loader.reading and now - self._rates_drawn_at < RATES_EVERY_S:
            return
        self._rates_drawn_at = now
        self.rate_chart.set_events(index.timestamp_col, index.type_col, index.type_names)

    def _chart_ready(self, name: str, chart: QWidget) -> None:
        """A monitoring chart was built (its dock shown for the first time): wire it."""
        if hasattr(chart, "set_history"):
            self.lag_monitor.add_chart(chart)
        if name == "lag":
            self.lag_chart = chart
            self._lag_notice()
        elif name == "rate" and hasattr(chart, "set_events"):
            self.rate_chart = chart
            if hasattr(chart, "timeRangeClicked"):
                chart.timeRangeClicked.connect(self._rate_bucket_clicked)
            self._draw_rates(force=True)

    def _lag_notice(self) -> None:
        dataset = self.loader.dataset
        status = getattr(self.lag_chart, "updated", None)
        if isinstance(status, QLabel) and dataset is not None and dataset.kind == "file":
            status.setText("Consumer lag is sampled from a cluster: File > Connect… to see it.")

    def _rate_bucket_clicked(self, start_ms: int, end_ms: int) -> None:
        self.filter_bar.set_time_range(start_ms, end_ms - 1)
        self.filter_bar.flush()

    # --- selection -----------------------------------------------------------------------

    def _event_selected(self, event: Event, row_id: int) -> None:
        self.detail.show_event(event)
        index = self.topic_view.index
        topic = self.topic_view.topic
        if index is None or topic is None:
            return
        if event.aggregate:
            self.inspector_ctl.select_row(index, topic, event.aggregate, row_id)
        else:
            self.inspector_ctl.clear("This event has no aggregate id.")

    # --- folds ---------------------------------------------------------------------------

    def _folds_changed(self, paths: list[str]) -> None:
        self.inspector_ctl.set_registry(self.folds.registry)
        names = ", ".join(Path(p).name for p in paths)
        self.statusBar().showMessage(f"Folds reloaded: {names}", 5000)

    def _fold_errors(self, errors: dict[str, str]) -> None:
        if errors:
            first = next(iter(errors.items()))
            self.statusBar().showMessage(f"Fold file {Path(first[0]).name} failed: {first[1]}")

    # --- dialogs -------------------------------------------------------------------------

    def goto_dialog(self) -> None:
        index = self.topic_view.index
        parts = sorted(index.partitions) if index is not None else []
        dialog = GotoDialog(parts, self)
        if dialog.exec() and dialog.chosen is not None:
            problem = self.topic_view.goto(dialog.chosen)
            if problem:
                self.statusBar().showMessage(problem, 5000)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "Event Explorer",
            "Event Explorer: browse event topics and files, filter by aggregate, type, time "
            "and text, and rebuild any aggregate's state with folds in plain Python.",
        )

    # --- recent --------------------------------------------------------------------------

    def _refresh_recent_menus(self) -> None:
        self.recent_files_menu.clear()
        for path in self.settings.recent_files():
            self.recent_files_menu.addAction(path, partial(self.open_file, path))
        self.recent_files_menu.setEnabled(not self.recent_files_menu.isEmpty())
        self.recent_conn_menu.clear()
        for conn in self.settings.recent_connections():
            request = ConnectionRequest(
                conn.bootstrap, tuple(f"{k}={v}" for k, v in conn.properties.items()),
                conn.config, conn.registry,
            )  # fmt: skip
            self.recent_conn_menu.addAction(conn.label, partial(self.connect_to, request))
        self.recent_conn_menu.setEnabled(not self.recent_conn_menu.isEmpty())

    # --- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_file(url.toLocalFile())
                event.acceptProposedAction()
                return

    # --- layout persistence --------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        splitter = self.settings.splitter("inspector")
        if splitter is not None:
            self.inspector.splitter.restoreState(splitter)
        else:
            QTimer.singleShot(0, lambda: self.inspector.splitter.setSizes([420, 700]))

    def save_layout(self) -> None:
        self.settings.save_window_state(self.saveGeometry(), self.saveState(STATE_VERSION))
        self.settings.save_splitter("inspector", QByteArray(self.inspector.splitter.saveState()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.loader.cancel_read()
        self.lag_monitor.stop()
        self.inspector_ctl.shutdown()
        self.topic_view.workers.shutdown(3000)
        self.workers.shutdown(3000)
        super().closeEvent(event)

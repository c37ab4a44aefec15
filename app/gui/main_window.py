"""The main window: it composes the panes (``layout``), the menus (``actions``) and the
controllers, and routes their signals.  The work is done elsewhere: the Loader reads,
TopicView queries, InspectorController replays, Opener opens sources, LagMonitor samples.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.gui.actions import build_menus
from app.gui.dataset import Dataset
from app.gui.exporting import Exporter
from app.gui.fold_actions import FoldActions
from app.gui.fold_files import FoldFiles
from app.gui.inspector import InspectorController
from app.gui.jobs import ReadDone
from app.gui.layout import build_panes, restore_layout, save_layout
from app.gui.loader import Loader
from app.gui.monitoring import Monitoring
from app.gui.opening import Opener
from app.gui.search_view import SearchController
from app.gui.settings import Settings
from app.gui.topic_view import TopicView
from app.gui.tree_view import show_dataset, show_notes
from app.gui.worker import Workers
from app.sources import Progress, Source, TopicSettings
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from widgets.goto_dialog import GotoDialog
from widgets.topic_rules_dialog import TopicRulesDialog

LISTING_REFRESH_MS = 60_000
PICK_EVENT = "Select an event in the table to inspect its aggregate."


class MainWindow(QMainWindow):
    source_loaded = Signal()  # a file finished loading / a cluster listed (tests, bench)

    def __init__(self, settings: Settings, folds: FoldFiles) -> None:
        super().__init__()
        self.setWindowTitle("Event Explorer")
        self.setAcceptDrops(True)
        self.settings = settings
        self.folds = folds
        self.workers = Workers(on_unhandled_failure=self.show_failure)
        self.loader = Loader(self.workers, self)
        self.panes = panes = build_panes(self, lambda name, chart: self._chart_ready(name, chart))
        self.banner, self.filter_bar, self.table = panes.banner, panes.filter_bar, panes.table
        self.cluster_tree, self.detail, self.inspector = (
            panes.cluster_tree, panes.detail, panes.inspector,
        )  # fmt: skip
        self.topic_view = TopicView(
            self.table, self.filter_bar, lambda: self.loader.reading, self.show_failure, self
        )
        self.topic_view.incomplete_note = self._incomplete_note
        self.inspector_ctl = InspectorController(self.inspector, folds.registry, self)
        self._wanted_topic: str | None = None
        self.monitoring = Monitoring(self.workers, panes.lag_dock, self._show_time_range, self)
        menus = build_menus(self)
        for dock in panes.docks:
            menus["view"].addAction(dock.toggleViewAction())
        self.search = SearchController(
            panes.search, self.loader, self.workers, lambda: self.folds.registry,
            self.activate_topic, self.topic_view, self,
        )  # fmt: skip
        self.exporter = Exporter(self.loader, self.topic_view, self.workers, self.statusBar(), self)
        self.fold_actions = FoldActions(
            folds, settings, self.inspector_ctl,
            lambda text: self.statusBar().showMessage(text, 5000), self.show_failure_text, self,
        )  # fmt: skip
        self.opener = Opener(
            self.loader, settings, menus["recent_files"], menus["recent_connections"], self
        )
        self._wire()
        # Topics and groups made while the window is open appear without asking.
        self.listing_timer = QTimer(self)
        self.listing_timer.setInterval(LISTING_REFRESH_MS)
        self.listing_timer.timeout.connect(self.refresh_listing)
        self.listing_timer.start()
        self.statusBar().showMessage("Ready")
        self.resize(1440, 900)
        restore_layout(self, panes, settings)

    def _wire(self) -> None:
        loader, tree, panes = self.loader, self.cluster_tree, self.panes
        loader.dataset_changed.connect(self._dataset_changed)
        loader.topics_changed.connect(self._topics_changed)
        loader.topic_grew.connect(self._topic_grew)
        loader.topic_noted.connect(lambda _topic: self._topics_changed())
        loader.read_started.connect(panes.progress.start)
        loader.read_progress.connect(self._read_progress)
        loader.read_finished.connect(self._read_finished)
        loader.error.connect(self.show_error)
        self.opener.failed.connect(self.show_failure_text)
        self.banner.action_triggered.connect(self._banner_action)
        self.opener.opened.connect(self._source_opened)
        panes.progress.cancel_requested.connect(loader.cancel_read)
        tree.topic_activated.connect(self.activate_topic)
        tree.partition_activated.connect(lambda t, _p: self.activate_topic(t))
        tree.group_activated.connect(self.show_group_lag)
        tree.reload_requested.connect(self.reload_topic)
        tree.rules_requested.connect(self.topic_rules_dialog)
        tree.refresh_requested.connect(self.refresh_listing)
        self.topic_view.event_selected.connect(self._event_selected)
        self.topic_view.refreshed.connect(self._refreshed)
        self.topic_view.selection_lost.connect(lambda: self.detail.show_event(None))
        self.topic_view.copied.connect(
            lambda n: self.statusBar().showMessage(f"Copied {n:,} event{'s' * (n != 1)}", 3000)
        )
        self.inspector_ctl.stepped.connect(self._stepped)

        self.detail.copied.connect(lambda _t: self.statusBar().showMessage("Copied", 3000))

    # --- sources (menu actions; the Opener does the work) ----------------------------------

    def open_file(self, path: str | Path) -> bool:
        return self.opener.open_file(path)

    def connect_profile(self, profile: ConnectionProfile) -> None:
        self.statusBar().showMessage(f"Connecting to {profile.display_name}…")
        self.opener.connect_profile(profile)

    def _chart_ready(self, name: str, chart: QObject) -> None:
        self.monitoring.chart_ready(name, chart)
        if name == "rate":
            self._draw_rates(force=True)

    def _source_opened(self, source: Source) -> None:
        self.banner.dismiss()
        self.monitoring.source_opened(source)
        if not source.preloads:
            self.source_loaded.emit()

    def refresh_listing(self) -> None:
        self.loader.refresh_listing()

    # --- topics --------------------------------------------------------------------------

    def activate_topic(self, topic: str) -> None:
        dataset = self.loader.dataset
        if dataset is None or (self.topic_view.topic == topic and dataset.indexes.get(topic)):
            return
        self.panes.empty_hint.setVisible(False)
        if not dataset.source.preloads and not len(dataset.indexes.get(topic) or ()):
            self.loader.read_topic(topic)
        self.topic_view.set_topic(topic, dataset.index(topic))
        self.cluster_tree.select_topic(topic, emit=False)
        self.inspector_ctl.clear(PICK_EVENT)
        self.setWindowTitle(f"{topic} — {dataset.name} — Event Explorer")
        self._draw_rates(force=True)

    def reload_topic(self, topic: str | None = None) -> None:
        topic = topic or self.topic_view.topic
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            return
        self.loader.read_topic(topic)
        if not dataset.source.preloads:
            self.topic_view.set_topic(topic, dataset.index(topic))

    def topic_rules_dialog(self, topic: str | None = None) -> None:
        topic = topic or self.topic_view.topic
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            self.statusBar().showMessage("Pick a topic first.", 5000)
            return
        dialog = TopicRulesDialog(topic, dataset.topic_settings(topic), parent=self)
        if dialog.exec() and dialog.chosen is not None:
            self.apply_topic_settings(topic, dialog.chosen)

    def apply_topic_settings(self, topic: str, settings: TopicSettings) -> None:
        """Read ``topic`` with ``settings`` from now on, remembered for its cluster/file."""
        dataset = self.loader.dataset
        if dataset is None:
            return
        self.settings.set_topic_settings(dataset.source.location, topic, settings)
        dataset.set_topic_settings(topic, settings)
        self.topic_view.clear()
        if dataset.source.preloads:
            self._wanted_topic = topic  # shown again once the new read reaches it
            self.loader.read_topic(topic)
        else:
            self.activate_topic(topic)

    # --- loader events -------------------------------------------------------------------

    def _dataset_changed(self, dataset: Dataset) -> None:
        self.inspector_ctl.make_decoder = dataset.source.make_decoder
        self.monitoring.clear_rates()
        self.topic_view.clear()
        self.detail.show_event(None)
        self.inspector_ctl.clear(PICK_EVENT)
        show_dataset(self.cluster_tree, dataset, None)
        self.setWindowTitle(f"{dataset.name} — Event Explorer")

    def _topics_changed(self) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        show_dataset(self.cluster_tree, dataset, self.topic_view.topic)
        if self.topic_view.topic is None and not dataset.source.preloads:
            self.panes.empty_hint.setText(f"Connected to {dataset.name}: pick a topic on the left.")
            self.panes.empty_hint.setVisible(True)

    def _incomplete_note(self, topic: str | None) -> str | None:
        dataset = self.loader.dataset
        return dataset.incomplete_note(topic) if dataset is not None else None

    def _topic_grew(self, topic: str) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        if self.topic_view.topic is None and dataset.source.preloads:
            # The first topic of a file shows as soon as its first batch is in, with its
            # first event selected: every panel has something to show from the start.
            if self._wanted_topic not in (None, topic):
                return
            self._wanted_topic = None
            self.topic_view.set_topic(topic, dataset.index(topic))
            self.cluster_tree.set_topics(dataset.topic_infos())
            self.cluster_tree.select_topic(topic, emit=False)
            self.topic_view.select_model_row(0)
        elif topic == self.topic_view.topic:
            if dataset.indexes.get(topic) is not self.topic_view.index:
                # The stored index of a cluster topic took the place of the empty one.
                self.topic_view.set_topic(topic, dataset.index(topic))
            else:
                self.topic_view.grew()

    def _read_progress(self, progress: Progress) -> None:
        self.panes.progress.update_counts(
            progress.read, progress.total, progress.status, progress.per_partition
        )

    def _read_finished(self, done: ReadDone) -> None:
        self.panes.progress.finish()
        dataset = self.loader.dataset
        name = dataset.name if dataset else ""
        if dataset is not None:
            show_notes(self.cluster_tree, dataset)
        self.topic_view.refresh(force_completion=True)
        if done.incomplete is not None:
            text = f"{name}: {done.incomplete}"
            self.statusBar().showMessage(text, 10000)
            self.banner.show_message(text, "warning", action="Retry")
        else:
            what = "cancelled after" if done.cancelled else "read"
            stored = f" (+{done.reused:,} from the stored index)" if done.reused else ""
            self.statusBar().showMessage(f"{name}: {what} {done.events:,} events{stored}", 5000)
        if self.topic_view.model.rowCount() and self.topic_view.selected_row_id() is None:
            self.topic_view.select_model_row(0)
        self.source_loaded.emit()

    def _refreshed(self, shown: int, total: int) -> None:
        self.search.select_pending()
        if total and self.topic_view.selected_row_id() is None and not self.loader.reading:
            self.topic_view.select_model_row(0)
        self.inspector_ctl.index_grew()
        self._draw_rates()

    def _draw_rates(self, force: bool = False) -> None:
        """The rate chart follows the filter: it counts the rows the table shows."""
        self.monitoring.draw_rates(
            self.topic_view.index, self.topic_view.model.rows,
            reading=self.loader.reading, force=force,
        )  # fmt: skip

    def _show_time_range(self, start_ms: int, end_ms: int) -> None:
        self.filter_bar.set_time_range(start_ms, end_ms)
        self.filter_bar.flush()

    def show_group_lag(self, group: str) -> None:
        self.monitoring.show_group(group)

    # --- selection and stepping ----------------------------------------------------------

    def _event_selected(self, event: Event, row_id: int) -> None:
        self.detail.show_event(event)
        index, topic = self.topic_view.index, self.topic_view.topic
        if index is None or topic is None:
            return
        if event.aggregate:
            self.inspector_ctl.select_row(index, topic, event.aggregate, row_id)
        else:
            self.inspector_ctl.clear("This event has no aggregate id.")

    def _stepped(self, row: int) -> None:
        """Stepping through an aggregate moves the table and the Event panel along."""
        index = self.topic_view.index
        if index is None or not 0 <= row < len(index):
            return
        if not self.topic_view.select_row_id(row, scroll=True):
            self.detail.show_event(index.event(row))  # filtered out of the table

    def step_next(self) -> None:
        self.inspector.step_by(1)

    def step_previous(self) -> None:
        self.inspector.step_by(-1)

    def focus_aggregate(self) -> None:
        self.filter_bar.aggregate.setFocus()

    def focus_search(self) -> None:
        self.panes.search_dock.show()
        self.panes.search_dock.raise_()
        self.panes.search.query.setFocus()

    # --- dialogs and messages ------------------------------------------------------------

    def goto_dialog(self) -> None:
        index = self.topic_view.index
        parts = sorted(index.partitions) if index is not None else []
        dialog = GotoDialog(parts, self)
        if dialog.exec() and dialog.chosen is not None:
            problem = self.topic_view.goto(dialog.chosen)
            if problem:
                self.statusBar().showMessage(problem, 5000)

    def _banner_action(self, action: str) -> None:
        if action == "retry":
            self.banner.dismiss()
            self.reload_topic()

    def show_error(self, message: str) -> None:
        """A passing problem: the status bar."""
        self.statusBar().showMessage(message, 10000)

    def show_failure(self, job: str, message: str) -> None:
        """A job failed and nobody handled it: said where the user looks."""
        self.show_failure_text(f"{job.capitalize()} failed: {message}")

    def show_failure_text(self, text: str, level: str = "error") -> None:
        self.statusBar().showMessage(text, 10000)
        self.banner.show_message(text, level)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "Event Explorer",
            "Event Explorer: browse event topics and files, filter by aggregate, type, time "
            "and text, and rebuild any aggregate's state with folds in plain Python.",
        )

    # --- drag and drop, closing ----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_file(url.toLocalFile())
                event.acceptProposedAction()
                return

    def save_layout(self) -> None:
        save_layout(self, self.panes, self.settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.loader.cancel_read()
        self.monitoring.stop()
        self.inspector_ctl.shutdown()
        self.topic_view.workers.shutdown(3000)
        self.workers.shutdown(3000)
        super().closeEvent(event)

"""The main window: it composes the panes (``layout``), the menus (``actions``) and the
controllers, and routes their signals.  The work is done elsewhere: the Loader reads,
TopicView queries, InspectorController replays, Opener opens sources, LagMonitor samples.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.audit.as_of import AsOf
from app.gui.actions import build_menus
from app.gui.as_of_mode import AsOfMode
from app.gui.auditing import Auditing
from app.gui.corrections import Corrections
from app.gui.exporting import Exporter
from app.gui.fold_actions import FoldActions
from app.gui.fold_files import FoldFiles
from app.gui.id_rules import IdRulesChoice
from app.gui.inspector import InspectorController
from app.gui.layout import build_panes, restore_layout, save_layout
from app.gui.loader import Loader
from app.gui.masking_view import Masking
from app.gui.monitoring import Monitoring
from app.gui.opening import Opener
from app.gui.profile_actions import ProfileActions
from app.gui.schema_pane import SchemaPane
from app.gui.search_view import SearchController
from app.gui.settings import Settings
from app.gui.topic_view import TopicView
from app.gui.topics import TopicsController
from app.gui.tracing import Tracing
from app.gui.window_open import WindowOpener
from app.gui.worker import Workers
from app.masking.masker import Masker
from app.profiles import Profile
from app.profiles.masking_key import masker_for
from app.sources import Source, TopicSettings
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from widgets.goto_dialog import GotoDialog

LISTING_REFRESH_MS = 60_000
FORGET = "Forget saved password"


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
        self.inspector_ctl = InspectorController(self.inspector, folds.registry, self)
        self.monitoring = Monitoring(self.workers, panes.lag_dock, self._show_time_range, self)
        self.topics = TopicsController(
            self, panes, self.loader, self.workers, self.topic_view, self.inspector_ctl,
            self.monitoring, settings, lambda force: self._draw_rates(force),
        )  # fmt: skip
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
        self.profile_actions = ProfileActions(
            self, self.opener.open_source, remembered=settings.topic_settings
        )
        self.opener.profiles = self.profile_actions
        self.masking = Masking(
            self.statusBar(), self.topic_view, self.inspector_ctl, self.detail, self
        )
        self._profile_masker = Masker()
        self.as_of_mode = AsOfMode(panes.as_of_bar, self.setWindowTitle, self._moment_shown, self)
        self.auditing = Auditing(
            self.loader, self.topic_view, self.inspector_ctl, lambda: self.as_of_mode.as_of,
            self.workers, panes.states, panes.states_dock, self.show_failure_text, self,
        )  # fmt: skip
        self.id_rules = IdRulesChoice(
            self, self.loader, settings, lambda: self.topic_view.topic,
            lambda text: self.statusBar().showMessage(text, 5000),
        )  # fmt: skip
        self.tracing = Tracing(self, menus["view"])  # Trace and Health docks, menus
        self.schema_pane = SchemaPane(self.detail, self.loader)
        self.corrections = Corrections(self, self)
        self._wire()
        say = self.show_failure_text
        self.windows = WindowOpener(self, self.loader, self.topics, settings, say, self.search)
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
        self.topics.loaded.connect(self.source_loaded.emit)
        loader.error.connect(self.show_error)
        self.opener.failed.connect(self._open_failed)
        self.profile_actions.failed.connect(self.show_failure_text)
        self.profile_actions.note.connect(lambda t: self.statusBar().showMessage(t, 10000))
        self.profile_actions.opening.connect(self._profile_opening)
        self.banner.action_triggered.connect(self._banner_action)
        self.opener.opened.connect(self._source_opened)
        panes.progress.cancel_requested.connect(loader.cancel_read)
        tree.topic_activated.connect(self.activate_topic)
        tree.partition_activated.connect(lambda t, _p: self.activate_topic(t))
        tree.group_activated.connect(self.show_group_lag)
        tree.reload_requested.connect(self.reload_topic)
        tree.rules_requested.connect(self.topics.rules_dialog)
        tree.id_rules_requested.connect(self.id_rules.dialog)
        tree.refresh_requested.connect(self.refresh_listing)
        self.topic_view.event_selected.connect(self._event_selected)
        self.topic_view.refreshed.connect(self._refreshed)
        self.topic_view.selection_lost.connect(lambda: self.detail.show_event(None))
        self.topic_view.copied.connect(
            lambda n: self.statusBar().showMessage(f"Copied {n:,} event{'s' * (n != 1)}", 3000)
        )
        self.inspector_ctl.stepped.connect(self._stepped)
        self.inspector_ctl.history_notes = self._history_notes
        self.inspector.audit_requested.connect(self.audit_report_dialog)
        self.as_of_mode.changed.connect(self._as_of_changed)
        panes.states.aggregate_activated.connect(self._show_aggregate)

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
        # A profile's masking holds for its source only; --mask for every source.
        by_profile = self.profile_actions.connecting is not None
        masker, self._profile_masker = self._profile_masker if by_profile else Masker(), Masker()
        self.loader.keep_index = masker.rules.use_index_cache
        self.masking.set(masker)
        self.profile_actions.opened(source)
        self.monitoring.source_opened(source)
        if not source.preloads:
            self.source_loaded.emit()

    def refresh_listing(self) -> None:
        self.loader.refresh_listing()

    # --- topics (the TopicsController does the work) ------------------------------------

    def activate_topic(self, topic: str) -> None:
        self.topics.activate(topic)

    def reload_topic(self, topic: str | None = None) -> None:
        self.topics.reload(topic)

    def apply_topic_settings(self, topic: str, settings: TopicSettings) -> None:
        self.topics.apply_settings(topic, settings)

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

    # --- audit: as-of mode, states, reports ----------------------------------------------

    def _as_of_changed(self, as_of: AsOf | None) -> None:
        self.topic_view.set_as_of(as_of)
        self.inspector_ctl.set_as_of(as_of)
        self.monitoring.set_as_of(as_of.at_ms if as_of is not None else None)

    def _moment_shown(self) -> int:
        """Where as-of mode starts: the selected event's time, else the newest shown."""
        index, row = self.topic_view.index, self.topic_view.selected_row_id()
        if index is not None and row is not None:
            return int(index.timestamp_col[row])
        if index is not None and len(index):
            return int(index.timestamp_col.max())
        return int(time.time() * 1000)

    def _history_notes(self, topic: str, partitions: list[int]) -> list[str]:
        dataset = self.loader.dataset
        return dataset.history_notes(topic, partitions) if dataset is not None else []

    def _show_aggregate(self, aggregate: str) -> None:
        """From the States table: the aggregate in the filter and the inspector."""
        self.filter_bar.aggregate.setText(aggregate)
        self.filter_bar.flush()
        self.panes.inspector_dock.show()
        self.panes.inspector_dock.raise_()

    def audit_report_dialog(self) -> None:
        self.auditing.report_dialog(self)

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
        elif action == FORGET.lower() and self.profile_actions.connecting is not None:
            name = self.profile_actions.connecting
            self.banner.dismiss()
            self.profile_actions.forget_secrets(name)
            self.profile_actions.connect_profile(name)  # asks for them again

    def _profile_opening(self, profile: Profile) -> None:
        masker, note = masker_for(profile, credentials=self.profile_actions.credentials)
        self._profile_masker = masker
        if note is not None:
            self.statusBar().showMessage(note, 10000)
        folder = Path(profile.fold_folder).expanduser() if profile.fold_folder else None
        if folder is not None and folder.is_dir():
            self.folds.add(folder, remember=False)  # the profile's, not the user's choice

    def toggle_unmask(self) -> None:
        """View > Show masked values (when the profile allows it)."""
        refused = self.masking.toggle_unmask()
        if refused is not None:
            self.statusBar().showMessage(refused, 5000)

    def _open_failed(self, text: str) -> None:
        """A connect that failed; through a saved profile, its secrets may be stale."""
        if self.profile_actions.connecting is None:
            self.show_failure_text(text)
            return
        self.statusBar().showMessage(text, 10000)
        self.banner.show_message(text, "error", action=FORGET)

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

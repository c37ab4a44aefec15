"""The open source's topics as the window shows them: opening and reloading a topic,
its rules, following it live, and keeping the panes in step as the loader reads."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from app.gui.dataset import Dataset
from app.gui.follow import Follows
from app.gui.inspector import InspectorController
from app.gui.jobs import ReadDone
from app.gui.layout import Panes
from app.gui.loader import Loader
from app.gui.monitoring import Monitoring
from app.gui.settings import Settings
from app.gui.topic_view import TopicView
from app.gui.tree_view import show_dataset, show_notes
from app.gui.worker import Workers
from app.sources import Progress, TopicSettings
from kafka_io.partitioners import PARTITIONERS
from widgets.topic_rules_dialog import TopicRulesDialog

PICK_EVENT = "Select an event in the table to inspect its aggregate."


class TopicsController(QObject):
    loaded = Signal()  # a file finished loading / a topic read (tests, bench)

    def __init__(
        self,
        window: QMainWindow,
        panes: Panes,
        loader: Loader,
        workers: Workers,
        topic_view: TopicView,
        inspector: InspectorController,
        monitoring: Monitoring,
        settings: Settings,
        draw_rates: Callable[[bool], None],
    ) -> None:
        super().__init__(window)
        self.window, self.panes, self.loader = window, panes, loader
        self.topic_view, self.inspector_ctl, self.monitoring = topic_view, inspector, monitoring
        self.settings, self.draw_rates = settings, draw_rates
        self.status = lambda text, ms=5000: window.statusBar().showMessage(text, ms)
        self._wanted_topic: str | None = None
        self._follow_after_read: str | None = None
        self.follows = Follows(loader, workers, self)
        loader.dataset_changed.connect(self._dataset_changed)
        loader.topics_changed.connect(self._topics_changed)
        loader.topic_grew.connect(self._topic_grew)
        loader.topic_noted.connect(lambda _topic: self._topics_changed())
        loader.read_started.connect(panes.progress.start)
        loader.read_progress.connect(self._read_progress)
        loader.read_finished.connect(self._read_finished)
        topic_view.incomplete_note = self._incomplete_note
        self.follows.started.connect(self._follow_started)
        self.follows.stopped.connect(self._follow_stopped)
        self.follows.status.connect(lambda t, text: self.status(f"{t}: {text}", 10000))

    def activate(self, topic: str) -> None:
        dataset = self.loader.dataset
        if dataset is None or (self.topic_view.topic == topic and dataset.indexes.get(topic)):
            return
        self.panes.empty_hint.setVisible(False)
        if not dataset.source.preloads and not len(dataset.indexes.get(topic) or ()):
            self.loader.read_topic(topic)
        # Cleared first: showing the topic may select its first event for the inspector.
        self.inspector_ctl.clear(PICK_EVENT)
        self.topic_view.set_topic(topic, dataset.index(topic))
        self.topic_view.live = self.follows.is_live(topic)
        self.panes.cluster_tree.select_topic(topic, emit=False)
        self.window.setWindowTitle(f"{topic} — {dataset.name} — Event Explorer")
        self.draw_rates(True)

    def reload(self, topic: str | None = None) -> None:
        topic = topic or self.topic_view.topic
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            return
        self.loader.read_topic(topic)
        if not dataset.source.preloads:
            self.topic_view.set_topic(topic, dataset.index(topic))

    def rules_dialog(self, topic: str | None = None) -> None:
        topic = topic or self.topic_view.topic
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            self.status("Pick a topic first.", 5000)
            return
        dialog = TopicRulesDialog(
            topic, dataset.topic_settings(topic), list(PARTITIONERS), parent=self.window
        )
        if dialog.exec() and dialog.chosen is not None:
            self.apply_settings(topic, dialog.chosen)

    def apply_settings(self, topic: str, settings: TopicSettings) -> None:
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
            self.activate(topic)

    def _dataset_changed(self, dataset: Dataset) -> None:
        self.inspector_ctl.make_decoder = dataset.source.make_decoder
        self.monitoring.clear_rates()
        self.topic_view.clear()
        self.panes.detail.show_event(None)
        self.inspector_ctl.clear(PICK_EVENT)
        show_dataset(self.panes.cluster_tree, dataset, None)
        self.window.setWindowTitle(f"{dataset.name} — Event Explorer")

    def _topics_changed(self) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        show_dataset(
            self.panes.cluster_tree, dataset, self.topic_view.topic, set(self.follows.live)
        )
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
            self.panes.cluster_tree.set_topics(dataset.topic_infos())
            self.panes.cluster_tree.select_topic(topic, emit=False)
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
            show_notes(self.panes.cluster_tree, dataset)
        self.topic_view.refresh(force_completion=True)
        if done.incomplete is not None:
            text = f"{name}: {done.incomplete}"
            self.status(text, 10000)
            self.panes.banner.show_message(text, "warning", action="Retry")
        else:
            what = "cancelled after" if done.cancelled else "read"
            stored = f" (+{done.reused:,} from the stored index)" if done.reused else ""
            self.status(f"{name}: {what} {done.events:,} events{stored}", 5000)
        if self.topic_view.model.rowCount() and self.topic_view.selected_row_id() is None:
            self.topic_view.select_model_row(0)
        pending, self._follow_after_read = self._follow_after_read, None
        if pending is not None and not done.cancelled:
            self.follows.start(pending, done.report.reached if done.report else None)
        self.loaded.emit()

    # --- following ----------------------------------------------------------------------

    def toggle_follow(self, topic: str | None = None) -> bool:
        """Follow the open topic live (or stop); whether it is followed now."""
        topic = topic or self.topic_view.topic
        if topic is None or not self.follows.can_follow():
            self.status("Following needs a topic of a connected cluster.")
            return False
        if self.follows.is_live(topic) or self._follow_after_read == topic:
            self._follow_after_read = None
            self.follows.stop(topic)
            return False
        self.activate(topic)
        if self.loader.reading and self.loader.reading_topic == topic:
            # From where the read ends, not from the end now: nothing in between is lost.
            self._follow_after_read = topic
            self.status(f"{topic}: following starts once it is read.")
            return True
        return self.follows.start(topic)

    def _follow_started(self, topic: str) -> None:
        self.topic_view.live = self.topic_view.topic == topic
        self._topics_changed()
        self.status(f"Following {topic}: new events appear as they arrive.")

    def _follow_stopped(self, topic: str, reason: str) -> None:
        if self.topic_view.topic == topic:
            self.topic_view.live = False
        self._topics_changed()
        if reason:
            self.panes.banner.show_message(f"{topic}: {reason}", "warning")

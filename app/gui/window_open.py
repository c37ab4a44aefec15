"""Topic > Open a window…: which part of a huge topic the window reads, remembered per
topic.  The loader asks ``window_for`` whenever it opens a topic, so a topic opened
from the tree gets the window last chosen for it; the dialog changes the choice and
reads the topic again with it (a stored index of more than the window chosen is
dropped: it would be shown whole).  The work is in ``app.gui.window_jobs``."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

from app.gui.loader import Loader
from app.gui.settings import Settings
from app.gui.topics import TopicsController
from app.gui.window_jobs import remember_window, remembered_window
from app.index import store
from app.index.topic_cache import CachedSource
from app.index.window import WindowSpec, window_of
from widgets.open_window_dialog import OpenWindowDialog


class WindowOpener(QObject):
    def __init__(
        self,
        window: QMainWindow,
        loader: Loader,
        topics: TopicsController,
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self.window, self.loader, self.topics, self.settings = window, loader, topics, settings
        loader.window_for = self.window_for
        # The table's count says when it shows a window of the topic.
        others = topics.topic_view.incomplete_note
        topics.topic_view.incomplete_note = lambda topic: self._note(topic, others(topic))
        self.shown: OpenWindowDialog | None = None  # the dialog open now (tests)

    def window_for(self, topic: str) -> WindowSpec | None:
        """The window remembered for ``topic`` of the open cluster (None: all of it)."""
        dataset = self.loader.dataset
        if dataset is None or not isinstance(dataset.source, CachedSource):
            return None
        spec = remembered_window(self.settings, dataset.source.location, topic)
        return None if spec.everything else spec

    def _note(self, topic: str | None, other: str | None) -> str | None:
        dataset = self.loader.dataset
        index = dataset.indexes.get(topic) if dataset is not None and topic else None
        window = window_of(index) if index is not None else None
        if window is None or not window.partial:
            return other
        mine = f"the window holds {window.describe()} of the topic"
        return f"{other}; {mine}" if other else mine

    def dialog(self, topic: str | None = None) -> OpenWindowDialog | None:
        """Ask which part of ``topic`` (the one shown if None) to read, then read it."""
        topic = topic or self.topics.topic_view.topic
        dataset = self.loader.dataset
        status = self.window.statusBar()
        if topic is None or dataset is None:
            status.showMessage("Pick a topic first.", 5000)
            return None
        if not isinstance(dataset.source, CachedSource) or dataset.source.preloads:
            status.showMessage("An event file is read whole; windows are for a cluster.", 8000)
            return None
        info = next((t for t in dataset.topic_infos() if t.name == topic), None)
        dialog = OpenWindowDialog(
            topic,
            self.window_for(topic),
            events=info.count if info is not None else None,
            partitions=len(info.partitions) if info is not None else None,
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self.open(topic, dialog.choice()))
        dialog.finished.connect(lambda _code: setattr(self, "shown", None))
        self.shown = dialog
        dialog.open()
        return dialog

    def open(self, topic: str, spec: WindowSpec) -> None:
        """Remember ``spec`` for ``topic`` and read the topic again with it."""
        dataset = self.loader.dataset
        if dataset is None:
            return
        before = self.window_for(topic)
        remember_window(self.settings, dataset.source.location, topic, spec)
        if not spec.everything and spec != before:
            # Asked for now: a stored index holding more would be shown whole instead.
            store.discard(dataset.source.identity, topic)
        if self.topics.topic_view.topic == topic:
            self.topics.reload(topic)
        else:
            self.topics.activate(topic)
        what = "all of it" if spec.everything else spec.describe()
        self.window.statusBar().showMessage(f"{topic}: reading {what}", 8000)

"""Topic > Open a window…: which part of a huge topic the window reads, remembered per
topic.  The loader asks ``window_for`` whenever it opens a topic, so a topic opened
from the tree gets the window last chosen for it; the dialog changes the choice and
reads the topic again with it (a stored index of more than the window chosen is
dropped: it would be shown whole).  The work is in ``app.gui.window_jobs``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from app.gui.loader import Loader
from app.gui.search_view import SearchController
from app.gui.settings import Settings
from app.gui.topics import TopicsController
from app.gui.window_jobs import history_before_window_job, remember_window, remembered_window
from app.gui.worker import Task
from app.index import store
from app.index.topic_cache import CachedSource
from app.index.topic_index import TopicIndex
from app.index.window import HistoryBefore, WindowSpec, window_of
from app.search.lookup import SearchResult
from kafka_io.event import iso_utc
from widgets.open_window_dialog import OpenWindowDialog

EARLIER = "Earlier events of aggregate"
EARLIER_KEYS = "Ctrl+Shift+B"


def earlier_summary(aggregate: str, history: HistoryBefore) -> str:
    """One line on what was found (types and times only: no values to mask)."""
    events = history.events
    if not events:
        text = f"{aggregate} has no events before the window"
    else:
        first, last = events[0], events[-1]
        text = (
            f"{aggregate} has {len(events):,} event{'s' * (len(events) != 1)} before the "
            f"window, {first.type} at {iso_utc(first.timestamp_ms)} to {last.type} at "
            f"{iso_utc(last.timestamp_ms)}"
        )
    if not history.complete:
        text += " (the read was cut short: there may be more)"
    return text + (f"; {history.note}" if history.note else "")


class WindowOpener(QObject):
    earlier_read = Signal(object)  # HistoryBefore (tests wait on it)

    def __init__(
        self,
        window: QMainWindow,
        loader: Loader,
        topics: TopicsController,
        settings: Settings,
        say: Callable[[str, str], None],  # (text, level): "info" | "error"
        search: SearchController | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.loader, self.topics, self.settings = window, loader, topics, settings
        self.say, self.workers = say, loader.workers
        # The inspector's notes say when its aggregate may have events before the window.
        inspector = self.inspector = topics.inspector_ctl
        notes = inspector.history_notes
        inspector.history_notes = lambda topic, parts: [
            *notes(topic, parts),
            *self._before_notes(topic, parts),
        ]
        loader.window_for = self.window_for
        # The table's count says when it shows a window of the topic.
        others = topics.topic_view.incomplete_note
        topics.topic_view.incomplete_note = lambda topic: self._note(topic, others(topic))
        self.shown: OpenWindowDialog | None = None  # the dialog open now (tests)
        # The search box says when a topic's answer came from a window of it.
        if search is not None:
            search.result_notes = self._search_notes

    def _search_notes(self, result: SearchResult, indexes: Mapping[str, TopicIndex]) -> list[str]:
        """A sentence for the summary, then one per topic answered from a window."""
        lines = []
        for match in result.matches:
            index = indexes.get(match.topic) if match.indexed else None
            window = window_of(index) if index is not None else None
            if window is not None and window.partial:
                lines.append(
                    f"{match.topic}: answered from the window open on it ({window.describe()}); "
                    f"earlier events were not searched ({EARLIER} reads them)"
                )
        if not lines:
            return []
        many = len(lines) > 1
        return [f"(from a window of {len(lines)} topic{'s' * many}: see below)", *lines]

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

    def _before_notes(self, topic: str, partitions: list[int]) -> list[str]:
        dataset = self.loader.dataset
        index = dataset.indexes.get(topic) if dataset is not None else None
        window = window_of(index) if index is not None else None
        if window is None or not any(window.cut(p) for p in partitions):
            return []
        inspector = self.inspector
        aggregate = inspector.aggregate
        earlier = inspector.earlier.of(index, topic, aggregate) if aggregate is not None else None
        if earlier is not None:
            return [
                f"The window holds {window.describe()}: the timeline starts with this "
                f"aggregate's {len(earlier):,} earlier events, read from before it."
            ]
        return [
            f"The window holds {window.describe()}: this aggregate may have earlier "
            f"events. Topic > {EARLIER} ({EARLIER_KEYS}) reads them."
        ]

    def read_earlier(self) -> Task | None:
        """Read the inspector's aggregate's events before the window (its partition,
        its key), say what they are, and have the inspector replay them first."""
        inspector, dataset = self.inspector, self.loader.dataset
        topic, aggregate = inspector.topic, inspector.aggregate
        index = dataset.indexes.get(topic) if dataset is not None and topic else None
        if dataset is None or topic is None or aggregate is None or index is None:
            self.say("Select an event of the aggregate first.", "error")
            return None
        if window_of(index) is None or not isinstance(dataset.source, CachedSource):
            self.say(f"{topic} is open whole: {aggregate} has no events before it.", "info")
            return None
        self.say(f"Reading the events of {aggregate} before the window…", "info")

        def done(history: HistoryBefore) -> None:
            text = earlier_summary(aggregate, history)
            if history.events and history.complete:  # replayed ahead of the window's
                inspector.earlier.put(index, topic, aggregate, history.events)
                if (inspector.index, inspector.topic, inspector.aggregate) == (
                    index,
                    topic,
                    aggregate,
                ):
                    inspector.refresh()  # the timeline again, starting with them
                text += "; the inspector replays them first"
            elif history.events:  # a replay missing the first events would mislead
                text += "; not replayed, as they may not be all"
            self.say(text, "info")
            self.earlier_read.emit(history)

        return self.workers.submit(
            f"earlier events of {aggregate}",
            history_before_window_job(dataset.source, index, aggregate),
            on_result=done,
            on_failed=lambda message: self.say(
                f"Reading earlier events failed: {message}", "error"
            ),
        )

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

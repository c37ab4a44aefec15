"""The search box's side of the window: runs a search in a worker over the open source
(indexed topics from their index, the others read cold) and opens a found event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from PySide6.QtCore import QObject

from app.gui.loader import Loader
from app.gui.topic_view import TopicView
from app.gui.worker import JobContext, Task, Workers
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.replay.folds import FoldRegistry
from app.search.lookup import SearchResult, search_aggregate
from widgets.search_panel import SearchPanel


class SearchController(QObject):
    def __init__(
        self,
        panel: SearchPanel,
        loader: Loader,
        workers: Workers,
        folds: Callable[[], FoldRegistry],
        activate_topic: Callable[[str], None],
        topic_view: TopicView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.panel, self.loader, self.workers, self.folds = panel, loader, workers, folds
        self.activate_topic, self.topic_view = activate_topic, topic_view
        self.task: Task | None = None
        self.pending: tuple[str, int, int] | None = None  # an event picked, to select
        self.masker: Callable[[], Masker] = lambda: topic_view.masker  # the window's
        # Sentences on how a result was answered (from a window of a topic, say).
        self.result_notes: Callable[[SearchResult, Mapping[str, TopicIndex]], list[str]] = (
            lambda _result, _indexes: []
        )
        panel.search_requested.connect(self.search)
        panel.event_chosen.connect(self.open_position)

    def topics(self) -> list[str]:
        """What a search looks in: every topic of the open source."""
        dataset = self.loader.dataset
        if dataset is None:
            return []
        if dataset.source.preloads:
            return sorted(dataset.indexes)
        listing = dataset.listing
        return sorted(t.name for t in listing.topics) if listing is not None else []

    def search(self, aggregate: str) -> Task | None:
        dataset = self.loader.dataset
        if dataset is None:
            self.panel.summary.setText("Open an event file or connect to a cluster first.")
            return None
        if self.task is not None and not self.task.done:
            self.task.cancel()
        self.panel.start(aggregate)
        source, topics, registry = dataset.source, self.topics(), self.folds()
        indexes = dict(dataset.indexes)  # appended only on the GUI thread; reads are safe

        def job(ctx: JobContext) -> SearchResult:
            return search_aggregate(
                source.clone(), aggregate, topics, indexes=indexes, folds=registry,
                cancel=ctx.token, on_progress=lambda d, n, t: ctx.progress((d, n, t)),
            )  # fmt: skip

        self.task = self.workers.submit(
            f"find {aggregate}",
            job,
            on_progress=lambda p: self.panel.progress(*p),
            on_result=lambda result: self._show(result, indexes),
        )
        return self.task

    def _show(self, result: SearchResult, indexes: Mapping[str, TopicIndex]) -> None:
        self.panel.show_result(self._masked(result))
        extra = self.result_notes(result, indexes)
        if extra:
            panel = self.panel
            panel.summary.setText(f"{panel.summary.text()} {extra[0]}")
            panel.notes.setText("\n".join(filter(None, [panel.notes.text(), *extra[1:]])))

    def _masked(self, result: SearchResult) -> SearchResult:
        masker = self.masker()
        if not masker.active:
            return result
        matches = [
            replace(m, state=masker.state(m.state), events=[masker.event(e) for e in m.events])
            for m in result.matches
        ]
        return replace(result, matches=matches)

    def open_position(self, topic: str, partition: int, offset: int) -> None:
        """Show one event picked in the results: its topic, unfiltered, with it selected
        (once its rows are in, for a topic still being read)."""
        self.topic_view.filter_bar.clear()
        self.topic_view.filter_bar.flush()
        self.pending = (topic, partition, offset)
        self.activate_topic(topic)
        self.select_pending()

    def select_pending(self) -> None:
        pending, view = self.pending, self.topic_view
        if pending is None or view.index is None or view.topic != pending[0]:
            return
        index = view.index
        hits = ((index.partition_col == pending[1]) & (index.offset_col == pending[2])).nonzero()[0]
        if len(hits) and view.select_row_id(int(hits[0]), scroll=True):
            self.pending = None

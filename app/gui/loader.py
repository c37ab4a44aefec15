"""Opening a source and reading its topics into the dataset, in workers.

Every read is a worker job; its batches come back through a BatchStream and are indexed
here on the GUI thread.  Only one read runs at a time: starting another (or Cancel)
cancels it.  A source that preloads (an event file) is read in one pass when opened; any
other (a cluster) is listed first, and each topic is read when it is picked, through its
persisted index.  A new cluster replaces the open one only once it has answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui.dataset import Dataset
from app.gui.jobs import (
    ReadDone,
    Sink,
    listing_job,
    plan_topic_job,
    read_all_job,
    save_topic_job,
)
from app.gui.stream import BatchStream
from app.gui.window_jobs import build_job, index_any
from app.gui.worker import JobContext, Task, Workers
from app.index.batch import ColumnBatch
from app.index.topic_cache import CachedSource, TopicPlan, let_go
from app.index.window import WindowSpec
from app.sources import Listing, Progress, Source
from kafka_io.event import Event

TREE_REFRESH_MS = 500
Job = Callable[[JobContext], Any]


class Loader(QObject):
    dataset_changed = Signal(object)  # Dataset: a new source was opened
    open_failed = Signal(str, str)  # source name, reason: the previous dataset stays
    topics_changed = Signal()  # topic list / counts changed (tree refresh)
    topic_grew = Signal(str)  # rows were added to a topic's index
    topic_noted = Signal(str)  # a topic's details changed (e.g. its partitioner is known)
    read_started = Signal(str)  # title
    read_progress = Signal(object)  # Progress
    read_finished = Signal(object)  # ReadDone
    error = Signal(str)

    def __init__(self, workers: Workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.dataset: Dataset | None = None
        self.read_task: Task | None = None
        self.reading_topic: str | None = None
        # The persisted index holds values unmasked: a profile's masking may forbid it.
        self.keep_index = True
        # The part of a topic to read (None: all of it); see app.gui.window_open.
        self.window_for: Callable[[str], WindowSpec | None] = lambda topic: None
        self._opening: Task | None = None
        self._reading = False
        self._tree_timer = QTimer(self)
        self._tree_timer.setSingleShot(True)
        self._tree_timer.setInterval(TREE_REFRESH_MS)
        self._tree_timer.timeout.connect(lambda: self.topics_changed.emit())

    @property
    def reading(self) -> bool:
        """A read is running or its last batches are still being indexed."""
        return self._reading

    def cancel_read(self) -> None:
        if self.read_task is not None:
            self.read_task.cancel()

    # --- opening -------------------------------------------------------------------------

    def open(self, source: Source) -> Task | None:
        """Open ``source``: a file is shown and read at once; a cluster once it answers."""
        if source.preloads:
            self.cancel_read()
            dataset = Dataset(source)
            self._set_dataset(dataset)
            self._start_read(source.name, None, lambda sink: read_all_job(source, sink))
            return None
        return self._list(source)

    def _set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

    def _list(self, source: Source) -> Task:
        if self._opening is not None:
            self._opening.cancel()

        def listed(listing: Listing) -> None:
            if task is not self._opening:
                return  # another source was opened meanwhile
            self._opening = None
            self.cancel_read()
            dataset = Dataset(source, listing=listing)
            self._set_dataset(dataset)
            if listing.groups_error:
                self.error.emit(f"Consumer groups unavailable: {listing.groups_error}")
            self.topics_changed.emit()

        def failed(message: str) -> None:
            if task is self._opening:
                self._opening = None
                self.open_failed.emit(source.name, message)

        task = self.workers.submit(
            f"list {source.name}", listing_job(source), on_result=listed, on_failed=failed
        )
        self._opening = task
        return task

    def refresh_listing(self) -> None:
        """Ask the open source again for its topics and groups (new ones appear)."""
        dataset = self.dataset
        if dataset is None or dataset.source.preloads:
            return

        def listed(listing: Listing) -> None:
            if self.dataset is dataset:
                dataset.listing = listing
                self.topics_changed.emit()

        self.workers.submit(
            "refresh topics and groups", listing_job(dataset.source), on_result=listed,
            on_failed=lambda msg: self.error.emit(f"Cannot refresh {dataset.name}: {msg}"),
        )  # fmt: skip

    # --- topics --------------------------------------------------------------------------

    def read_topic(self, topic: str) -> None:
        """Read a topic of a source that reads on demand: its stored index at once, then
        only what is new.  Planning (loading and checking the stored index) runs in a
        worker; the index it returns is not shown anywhere yet, so no other thread
        touches it.  A source that preloads is read again as a whole."""
        dataset = self.dataset
        if dataset is None:
            return
        source = dataset.source
        if not isinstance(source, CachedSource):
            self.open(source)  # a file: one pass reads every topic
            return
        self.cancel_read()
        self.reading_topic = topic
        self._reading = True
        self.read_started.emit(topic)
        planning: list[Task] = []

        def planned(plan: TopicPlan) -> None:
            if self.dataset is not dataset or planning[0] is not self.read_task:
                let_go(plan.index)  # the topic's lock: the read that replaced it needs it
                return  # superseded while planning
            plan.index.decoder = source.make_decoder()  # display decodes on this thread
            dataset.indexes[topic] = plan.index
            dataset.watermarks[topic] = dict(plan.watermarks)
            self.topic_grew.emit(topic)
            if plan.note:
                self.error.emit(f"{topic}: {plan.note}; reading it again")
            self._start_read(
                topic,
                topic,
                lambda sink: build_job(source, plan, sink),
                reused=plan.reused,
                after=lambda done: self.workers.submit(
                    f"save index of {topic}",
                    save_topic_job(plan, done.report),
                    on_failed=lambda msg: self.error.emit(f"Could not save the index: {msg}"),
                ),
            )

        def failed(message: str) -> None:
            if planning and planning[0] is self.read_task:
                self._reading = False
                self.error.emit(f"Opening {topic} failed: {message}")
                self.read_finished.emit(ReadDone(0, False, incomplete=message))

        if (shown := dataset.indexes.get(topic)) is not None:
            let_go(shown)  # a read cancelled or cut short may still hold the topic's lock
        dataset.reset_topic(topic)
        self.topic_grew.emit(topic)
        task = self.workers.submit(
            f"open {topic}",
            plan_topic_job(source, topic, self.keep_index, self.window_for(topic)),
            on_result=planned,
            on_failed=failed,
        )
        planning.append(task)
        self.read_task = task
        if topic not in dataset.partitioners:
            self._detect_partitioner(dataset, topic)

    def _detect_partitioner(self, dataset: Dataset, topic: str) -> None:
        """Which partitioner wrote the topic, with the evidence, for the topic's details."""

        def noted(note: str | None) -> None:
            if note is not None:
                dataset.partitioners[topic] = note
                self.topic_noted.emit(topic)

        self.workers.submit(
            f"detect the partitioner of {topic}",
            lambda ctx: dataset.source.clone().pruning_note(topic),
            on_result=noted,
            on_failed=lambda msg: noted(f"unknown ({msg})"),
        )

    def index_batch(self, dataset: Dataset, batch: list[Event]) -> None:
        """Add events to the dataset's indexes (on the GUI thread) and say which grew."""
        for grown in dataset.append(batch):
            self.topic_grew.emit(grown)

    def index_columns(self, dataset: Dataset, topic: str, batch: ColumnBatch) -> str | None:
        """Add a column batch of ``topic`` (a follow's, on the GUI thread): a few array
        copies.  None, or why it could not be added (a full disk, another window
        writes the index)."""
        grew, problem = index_any(dataset, topic, batch)
        for grown in grew:
            self.topic_grew.emit(grown)
        return problem

    # --- the read ---------------------------------------------------------------------------

    def _start_read(
        self,
        title: str,
        topic: str | None,
        make_job: Callable[[Sink], Job],
        *,
        reused: int = 0,
        after: Callable[[ReadDone], object] | None = None,
    ) -> None:
        """Run a read job, indexing its batches here; ``after`` runs once it ended (not
        cancelled): a read cut short is saved up to where it got."""
        dataset = self.dataset
        assert dataset is not None
        preloads = dataset.source.preloads
        self.reading_topic = topic
        self._reading = True
        self.read_started.emit(title)
        task: Task | None = None
        outcome: list[ReadDone] = []

        def consume(batch: list[Event]) -> None:
            if self.dataset is not dataset or task is None or task.cancelled:
                return  # a superseded read: its batches no longer belong anywhere
            grew, problem = index_any(dataset, topic, batch)
            for grown in grew:
                self.topic_grew.emit(grown)
            if problem is not None:
                self.error.emit(f"{title}: {problem}")
                task.cancel()
            if preloads and not self._tree_timer.isActive():
                self._tree_timer.start()

        stream = BatchStream(consume, parent=self)

        def finish() -> None:
            stream.deleteLater()
            if task is not self.read_task:
                return
            self._reading = False
            done = outcome[0] if outcome else ReadDone(0, True)
            if done.incomplete is not None:
                dataset.incomplete[topic or ""] = done.incomplete
                self.error.emit(f"{title}: {done.incomplete}")
            self.read_finished.emit(replace(done, reused=reused))
            if after is not None and not done.cancelled:
                after(done)
            if preloads:
                self.topics_changed.emit()

        def on_progress(progress: Progress) -> None:
            if task is not None and task is self.read_task:
                self.read_progress.emit(progress)

        def on_failed(message: str) -> None:
            outcome.append(ReadDone(0, False, incomplete=message))

        def on_finished() -> None:
            # Result, failure or cancel: the stream ends here; rows still queued are
            # indexed first (unless cancelled), then the read is reported finished.
            if task is not None and task.cancelled:
                stream.discard()
            stream.close()

        stream.drained.connect(finish)
        task = self.workers.submit(
            f"read {title}",
            make_job(stream.put),
            on_progress=on_progress,
            on_result=outcome.append,
            on_failed=on_failed,
            on_finished=on_finished,
        )
        self.read_task = task

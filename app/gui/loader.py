"""Opening sources: an event file or a cluster, and reading topics into the dataset.

Every read is a worker job; its batches come back as ``partial`` signals and are
indexed here on the GUI thread.  Only one read runs at a time: starting another (or
Cancel) cancels it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui.dataset import Dataset
from app.gui.jobs import (
    ClusterListing,
    Progress,
    ReadDone,
    Sink,
    list_cluster_job,
    plan_topic_job,
    read_file_job,
    read_ranges_job,
    save_topic_job,
)
from app.gui.stream import BatchStream
from app.gui.worker import JobContext, Task, Workers
from app.index.topic_cache import TopicPlan
from app.sources.decoders import cluster_decoder_factory, file_decoder_factory
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile

TREE_REFRESH_MS = 500
Job = Callable[[JobContext], Any]


class Loader(QObject):
    dataset_changed = Signal(object)  # Dataset: a new source was opened
    topics_changed = Signal()  # topic list / counts changed (tree refresh)
    topic_grew = Signal(str)  # rows were added to a topic's index
    read_started = Signal(str)  # title
    read_progress = Signal(object)  # Progress
    read_finished = Signal(object)  # ReadDone
    error = Signal(str)

    def __init__(self, workers: Workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.dataset: Dataset | None = None
        self.profile: ConnectionProfile | None = None
        self.read_task: Task | None = None
        self.reading_topic: str | None = None
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

    # --- files ---------------------------------------------------------------------------

    def open_file(self, path: Path) -> None:
        self.cancel_read()
        try:
            make_decoder = file_decoder_factory(path)
        except (OSError, ValueError) as exc:
            self.error.emit(f"Cannot open {path}: {exc}")
            return
        self.profile = None
        self.dataset = Dataset(path.name, make_decoder, kind="file")
        self.dataset_changed.emit(self.dataset)
        self._start_read(path.name, None, lambda sink: read_file_job(path, sink))

    # --- clusters ------------------------------------------------------------------------

    def connect_cluster(self, profile: ConnectionProfile) -> Task:
        self.cancel_read()
        self.profile = profile
        dataset = Dataset(profile.display_name, cluster_decoder_factory(profile), kind="cluster")
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

        def listed(listing: ClusterListing) -> None:
            if self.dataset is not dataset:
                return
            dataset.topics = {t.name: t for t in listing.topics}
            dataset.groups = listing.groups
            if listing.groups_error:
                self.error.emit(f"Consumer groups unavailable: {listing.groups_error}")
            self.topics_changed.emit()

        return self.workers.submit(
            f"list {profile.display_name}",
            list_cluster_job(profile),
            on_result=listed,
            on_failed=lambda msg: self.error.emit(f"Cannot list {profile.display_name}: {msg}"),
        )

    def refresh_cluster(self) -> None:
        if self.profile is not None and self.dataset is not None:
            profile, dataset = self.profile, self.dataset

            def listed(listing: ClusterListing) -> None:
                if self.dataset is dataset:
                    dataset.topics = {t.name: t for t in listing.topics}
                    dataset.groups = listing.groups
                    self.topics_changed.emit()

            self.workers.submit(
                "refresh metadata", list_cluster_job(profile), on_result=listed,
                on_failed=lambda msg: self.error.emit(f"Cannot refresh: {msg}"),
            )  # fmt: skip

    def read_topic(self, topic: str) -> None:
        """Open a cluster topic: its stored index at once, then only what is new.

        Planning (loading and checking the stored index) runs in a worker; the index
        it returns is not shown anywhere yet, so no other thread touches it.
        """
        if self.profile is None or self.dataset is None:
            return
        self.cancel_read()
        dataset, profile = self.dataset, self.profile
        self.reading_topic = topic
        self._reading = True
        self.read_started.emit(topic)
        planning: list[Task] = []

        def planned(plan: TopicPlan) -> None:
            if self.dataset is not dataset or planning[0] is not self.read_task:
                return  # superseded while planning
            plan.index.decoder = dataset.make_decoder()  # display decodes on this thread
            dataset.indexes[topic] = plan.index
            self.topic_grew.emit(topic)
            if plan.note:
                self.error.emit(f"{topic}: {plan.note}; reading it again")
            self._start_read(
                topic,
                topic,
                lambda sink: read_ranges_job(profile, topic, plan.ranges, sink),
                reused=plan.reused,
                after=lambda: self.workers.submit(
                    f"save index of {topic}",
                    save_topic_job(plan),
                    on_failed=lambda msg: self.error.emit(f"Could not save the index: {msg}"),
                ),
            )

        def failed(message: str) -> None:
            if planning and planning[0] is self.read_task:
                self._reading = False
                self.error.emit(f"Opening {topic} failed: {message}")
                self.read_finished.emit(ReadDone(0, True))

        dataset.reset_topic(topic)
        self.topic_grew.emit(topic)
        task = self.workers.submit(
            f"open {topic}", plan_topic_job(profile, topic), on_result=planned, on_failed=failed
        )
        planning.append(task)
        self.read_task = task

    # --- the read ---------------------------------------------------------------------------

    def _start_read(
        self,
        title: str,
        topic: str | None,
        make_job: Callable[[Sink], Job],
        *,
        reused: int = 0,
        after: Callable[[], object] | None = None,
    ) -> None:
        """Run a read job, indexing its batches here; ``after`` runs once it completed."""
        dataset = self.dataset
        self.reading_topic = topic
        self._reading = True
        self.read_started.emit(title)
        task: Task | None = None
        outcome: list[ReadDone] = []

        def consume(batch: list[Event]) -> None:
            if self.dataset is not dataset or task is None or task.cancelled:
                return  # a superseded read: its batches no longer belong anywhere
            assert dataset is not None
            for grown in dataset.append(batch):
                self.topic_grew.emit(grown)
            if dataset.kind == "file" and not self._tree_timer.isActive():
                self._tree_timer.start()

        stream = BatchStream(consume, parent=self)

        def finish() -> None:
            stream.deleteLater()
            if task is not self.read_task:
                return
            self._reading = False
            done = outcome[0] if outcome else ReadDone(0, True)
            self.read_finished.emit(replace(done, reused=reused))
            if after is not None and not done.cancelled:
                after()
            if dataset is not None and dataset.kind == "file":
                self.topics_changed.emit()

        def on_progress(progress: Progress) -> None:
            if task is not None and task is self.read_task:
                self.read_progress.emit(progress)

        def on_failed(message: str) -> None:
            self.error.emit(f"Reading {title} failed: {message}")

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

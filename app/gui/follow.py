"""Following topics live: each followed topic has a worker reading its new events with the
read-only consumer, handing batches to the GUI thread through a BatchStream (so a fast
topic cannot flood the window: the index grows in slices, the table refreshes a few
times a second), and the index is saved every so often and when following stops."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui.dataset import Dataset
from app.gui.loader import Loader
from app.gui.stream import BatchStream
from app.gui.worker import JobContext, Task, Workers
from app.index import store
from app.index.topic_cache import CachedSource, signature_of
from app.sources import FollowableSource, Following
from kafka_io.event import Event

SAVE_EVERY_MS = 30_000
# Indexing runs on the GUI thread: a reader batch (up to 10,000 events) is handed over in
# slices small enough that the stream's time slice can let paints and input in between.
SLICE_EVENTS = 2_000
PENDING_SLICES = 20  # as many events waiting as four whole batches


class _Live:
    def __init__(self, task: Task, stream: BatchStream, following: list[Following]) -> None:
        self.task, self.stream, self._following = task, stream, following

    @property
    def positions(self) -> dict[int, int]:
        return self._following[0].positions if self._following else {}


class Follows(QObject):
    started = Signal(str)  # topic
    stopped = Signal(str, str)  # topic, why ("" when asked to)
    status = Signal(str, str)  # topic, "reconnecting …" / "resumed"

    def __init__(self, loader: Loader, workers: Workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loader, self.workers = loader, workers
        self.live: dict[str, _Live] = {}
        self._saver = QTimer(self)
        self._saver.setInterval(SAVE_EVERY_MS)
        self._saver.timeout.connect(self.save_all)
        self._saver.start()
        loader.dataset_changed.connect(lambda _d: self.stop_all())

    def can_follow(self) -> bool:
        dataset = self.loader.dataset
        return dataset is not None and isinstance(dataset.source, FollowableSource)

    def is_live(self, topic: str) -> bool:
        return topic in self.live

    def start(self, topic: str, reached: dict[int, int] | None = None) -> bool:
        """Follow ``topic`` from where its index ends, or from where the read that just
        filled it reached (``reached``); partitions with neither: from their end now."""
        dataset = self.loader.dataset
        if dataset is None or topic in self.live:
            return False
        source = dataset.source
        if not isinstance(source, FollowableSource):
            return False
        index = dataset.index(topic)
        start = {p: s.next_offset for p, s in index.partitions.items()}
        for p, offset in (reached or {}).items():
            start[p] = max(start.get(p, 0), offset)
        following: list[Following] = []

        def consume(batch: list[Event]) -> None:
            if self.loader.dataset is dataset and topic in self.live:
                self.loader.index_batch(dataset, batch)

        stream = BatchStream(consume, max_pending=PENDING_SLICES, parent=self)

        def job(ctx: JobContext) -> None:
            follow = source.clone().follow(
                topic, ctx.token, start=start, on_status=lambda s: ctx.partial(s)
            )
            following.append(follow)
            for batch in follow:
                for i in range(0, len(batch), SLICE_EVENTS):
                    if not stream.put(batch[i : i + SLICE_EVENTS], ctx.token):
                        return

        def ended(reason: str) -> None:
            if self.live.get(topic) is live:
                self._end(dataset, topic, reason)

        task = self.workers.submit(
            f"follow {topic}", job,
            on_partial=lambda s: self.status.emit(topic, str(s)),
            on_failed=ended,
            on_result=lambda _r: ended(""),
        )  # fmt: skip
        live = _Live(task, stream, following)
        self.live[topic] = live
        self.started.emit(topic)
        return True

    def stop(self, topic: str) -> None:
        live = self.live.get(topic)
        dataset = self.loader.dataset
        if live is not None and dataset is not None:
            self._end(dataset, topic, "")

    def stop_all(self) -> None:
        dataset = self.loader.dataset
        for topic in list(self.live):
            if dataset is None:
                self.live.pop(topic).task.cancel()
            else:
                self._end(dataset, topic, "")

    def _end(self, dataset: Dataset, topic: str, reason: str) -> None:
        live = self.live.pop(topic)
        live.task.cancel()
        live.stream.discard()
        live.stream.close()
        self._save(dataset, topic, live.positions)
        self.stopped.emit(topic, reason)

    def save_all(self) -> None:
        dataset = self.loader.dataset
        if dataset is not None:
            for topic, live in self.live.items():
                self._save(dataset, topic, live.positions)

    def _save(self, dataset: Dataset, topic: str, positions: dict[int, int]) -> None:
        """Live events go into the persisted index like read ones."""
        source, index = dataset.source, dataset.indexes.get(topic)
        if not isinstance(source, CachedSource) or index is None or not positions:
            return
        if not self.loader.keep_index:
            return  # a profile's masking keeps unmasked values off the disk
        # Positions are marked here, on the thread that appends; the worker only writes.
        for partition, next_offset in positions.items():
            index.mark_position(partition, next_offset)
        signature = signature_of(source, topic)

        def save(ctx: JobContext) -> None:
            store.save(index, signature=signature)

        self.workers.submit(f"save index of {topic}", save)

"""Following topics live: each followed topic has a worker process (``app.index.
follow_columns``) reading its new events with the read-only consumer, decoding them and
turning them into column batches there, so the window's interpreter is not taken by the
decoding.  A thread here only receives them (waiting on the pipe costs the GUI thread
nothing) and hands them to the GUI thread through a BatchStream, which appends them in
slices (a fast topic cannot flood the window: the table refreshes a few times a second).
The index is saved every so often and when following stops, up to the positions of the
last batch appended."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui.dataset import Dataset
from app.gui.loader import Loader
from app.gui.stream import BatchStream
from app.gui.worker import JobContext, Task, Workers
from app.index import store
from app.index.batch import ColumnBatch
from app.index.follow_columns import FollowColumns, FollowEnded
from app.index.topic_cache import CachedSource, signature_of
from app.sources import ClusterSource

SAVE_EVERY_MS = 30_000
# Appending runs on the GUI thread: a worker's batch (up to 10,000 events) is handed over
# in slices small enough that the stream's time slice can let paints and input in between.
SLICE_EVENTS = 1_000
PENDING_SLICES = 40  # as many events waiting as four whole batches
# GUI time spent appending per event-loop turn: a table refresh and its paint may come
# in the same turn, and together they must stay well under a tenth of a second.
SLICE_S = 0.008
BUSY_S = 0.012  # more than this since the last slice: the GUI thread was busy elsewhere


class _Live:
    def __init__(self, stream: BatchStream, start: dict[int, int]) -> None:
        self.stream = stream
        self.task: Task | None = None
        # Where following stands, as far as the index has it: the start, then the
        # positions that came with the last batch appended.
        self.positions = dict(start)
        self.follow: FollowColumns | None = None

    @property
    def pid(self) -> int | None:
        """The worker process following the topic (once it has one)."""
        return self.follow.pid if self.follow is not None else None


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
        return dataset is not None and isinstance(dataset.source, ClusterSource)

    def is_live(self, topic: str) -> bool:
        return topic in self.live

    def start(self, topic: str, reached: dict[int, int] | None = None) -> bool:
        """Follow ``topic`` from where its index ends, or from where the read that just
        filled it reached (``reached``); partitions with neither: from their end when the
        read was planned, else from their end now."""
        dataset = self.loader.dataset
        if dataset is None or topic in self.live:
            return False
        source = dataset.source
        if not isinstance(source, ClusterSource):
            return False
        index = dataset.index(topic)
        start = {p: s.next_offset for p, s in index.partitions.items()}
        for p, offset in (reached or {}).items():
            start[p] = max(start.get(p, 0), offset)
        # Partitions that held nothing to read (an empty topic): from where the read saw
        # their end, so events produced since Follow was pressed are not taken for old.
        for p, (_low, high) in dataset.watermarks.get(topic, {}).items():
            start.setdefault(p, high)
        live = _Live(BatchStream(lambda item: consume(*item), max_pending=PENDING_SLICES,
                                 slice_s=SLICE_S, busy_s=BUSY_S, parent=self), start)  # fmt: skip

        def consume(part: ColumnBatch, positions: dict[int, int] | None) -> None:
            if self.loader.dataset is not dataset or self.live.get(topic) is not live:
                return
            problem = self.loader.index_columns(dataset, topic, part)
            if problem is not None:
                self._end(dataset, topic, problem)
            elif positions is not None:
                live.positions.update(positions)

        def job(ctx: JobContext) -> str | None:
            """Why following ended by itself, or None (stopped)."""
            follow = FollowColumns(source.clone(), topic, ctx.token, start=start,
                                   on_status=lambda s: ctx.partial(s))  # fmt: skip
            live.follow = follow
            try:
                for delivery in follow:
                    parts = list(delivery.batch.parts(SLICE_EVENTS))
                    for i, part in enumerate(parts):
                        last = delivery.positions if i == len(parts) - 1 else None
                        if not live.stream.put((part, last), ctx.token):
                            return None
            except FollowEnded as exc:
                return str(exc)
            return None

        def ended(reason: str | None) -> None:
            if self.live.get(topic) is not live:
                return
            if not reason:
                self._end(dataset, topic, "")
                return
            # Ended by itself: what it received is still queued for the window; it is
            # appended (in slices, as ever) before the end is told and the index saved.
            live.stream.drained.connect(lambda: finish(reason))
            live.stream.close()

        def finish(reason: str) -> None:
            if self.live.get(topic) is live:
                self._end(dataset, topic, reason)

        live.task = self.workers.submit(
            f"follow {topic}", job,
            on_partial=lambda s: self.status.emit(topic, str(s)),
            on_failed=ended,
            on_result=ended,
        )  # fmt: skip
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
                self._cancel(self.live.pop(topic))
            else:
                self._end(dataset, topic, "")

    def _end(self, dataset: Dataset, topic: str, reason: str) -> None:
        live = self.live.pop(topic)
        self._cancel(live)
        live.stream.close()
        self._save(dataset, topic, live.positions)
        self.stopped.emit(topic, reason)

    @staticmethod
    def _cancel(live: _Live) -> None:
        if live.task is not None:
            live.task.cancel()  # the worker process is told to stop
        live.stream.discard()

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

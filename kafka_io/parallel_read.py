"""One bounded read split across worker processes, by partition.

Python decodes one record at a time on one core; librdkafka alone delivers records
several times faster.  So a whole-topic read is split: each worker process
(``kafka_io.worker_pool``) owns some partitions, reads them with its own consumer
(``TopicReader``: ``assign()``, a private group id, no commits — exactly the reads of
one process), decodes them, turns each batch into something compact with a converter
the caller gives (the index's column batches), and hands it to the parent through a
pipe.  The parent sees one stream of ``Delivery`` objects, one progress, one cancel,
one ``ReadStats``.

``workers=0`` runs the same loop in the calling thread (small reads: a process costs
more than it saves).

A worker that dies (killed, out of memory) ends the read: the others are stopped, what
arrived is kept, and ``WorkerDied`` (a ``ReadIncomplete``) says which partitions did not
finish; the caller records only what really arrived, so a retry reads the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.errors import ReadIncomplete
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import PartitionRange, ProgressCallback, ReadProgress, ReadStats
from kafka_io.worker_pool import (
    ConverterFactory,
    ReadJob,
    Worker,
    WorkerPool,
    run_job,
    shared_pool,
)

_STOP_WAIT_S = 10.0
_SEND_BUDGET = 64 << 20  # bytes all workers may queue together
_MIN_SEND_LIMIT = 8 << 20


class WorkerDied(ReadIncomplete):
    """A worker process ended without finishing its partitions."""


@dataclass
class Delivery:
    """One converted batch, and which of the read's partitions are finished so far."""

    payload: Any
    finished: frozenset[int]


def split_ranges(ranges: Sequence[PartitionRange], workers: int) -> list[list[PartitionRange]]:
    """Partitions dealt to ``workers`` workers, the largest first to the least loaded
    (deterministic; a worker never gets an empty share)."""
    todo = sorted((r for r in ranges if r.total > 0), key=lambda r: (-r.total, r.partition))
    shares: list[list[PartitionRange]] = [[] for _ in range(max(1, min(workers, len(todo))))]
    loads = [0] * len(shares)
    for r in todo:
        i = loads.index(min(loads))
        shares[i].append(r)
        loads[i] += r.total
    return [sorted(s, key=lambda r: r.partition) for s in shares if s]


@dataclass
class _Share:
    job: ReadJob
    worker: Worker | None = None
    ended: bool = False
    read: dict[int, int] = field(default_factory=dict)
    reached: dict[int, int] = field(default_factory=dict)
    finished: frozenset[int] = frozenset()
    stats: ReadStats | None = None
    reason: str | None = None

    @property
    def partitions(self) -> list[int]:
        return [r.partition for r in self.job.ranges]


class ParallelRead:
    """A read of ``ranges`` of one topic across ``workers`` processes; iterate it for
    deliveries, then look at ``stats``.  Raises ReadIncomplete (WorkerDied when a worker
    died) after the deliveries that did arrive, as ``TopicReader.read`` does."""

    def __init__(
        self,
        profile: ConnectionProfile,
        topic: str,
        ranges: Sequence[PartitionRange],
        make_decoder: Callable[[], Decoder],
        make_converter: ConverterFactory,
        *,
        workers: int = 0,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
        idle_timeout: float | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.topic = topic
        self.ranges = list(ranges)
        self.cancel = cancel or CancelToken()
        self.on_progress = on_progress
        self.pool = pool
        self._in_process = workers <= 0
        split = split_ranges(self.ranges, max(workers, 1))
        # What the workers may queue while the parent is busy, shared: the more workers,
        # the less each (eight workers hold 8 MB each, not 32).
        limit = max(_MIN_SEND_LIMIT, _SEND_BUDGET // max(1, len(split)))
        self._shares = [
            _Share(
                ReadJob(
                    profile, topic, tuple(s), make_decoder, make_converter, i, idle_timeout, limit
                )
            )
            for i, s in enumerate(split)
        ]
        self._empty = frozenset(r.partition for r in self.ranges if r.total <= 0)
        self.stats = ReadStats(reached={r.partition: r.start for r in self.ranges})
        self.pids: list[int] = []

    def __iter__(self) -> Iterator[Delivery]:
        started = time.monotonic()
        try:
            if self._in_process:
                yield from self._run_here()
            else:
                yield from self._run_workers()
        finally:
            self._finish_stats(time.monotonic() - started)
        self._raise_if_incomplete()

    # -- in this thread -----------------------------------------------------------------

    def _run_here(self) -> Iterator[Delivery]:
        for share in self._shares:
            for message in run_job(share.job, self.cancel):
                delivery = self._handle(share, message)
                if delivery is not None:
                    yield delivery
        self._report()

    # -- in worker processes --------------------------------------------------------------

    def _run_workers(self) -> Iterator[Delivery]:
        pool = self.pool or shared_pool()
        workers = pool.take(len(self._shares))
        for share, worker in zip(self._shares, workers, strict=True):
            share.worker = worker
            self.pids.append(worker.pid)
            worker.start(share.job)
        stop = self._stop_workers
        self.cancel.on_cancel(stop)
        try:
            yield from self._pump()
        finally:
            stop()  # a caller that stops iterating stops the workers too
            self._drain()
            pool.give_back(workers)

    def _stop_workers(self) -> None:
        for share in self._shares:
            if share.worker is not None and not share.ended:
                share.worker.stop()

    def _pump(self) -> Iterator[Delivery]:
        live = {s.worker.out: s for s in self._shares if s.worker is not None}
        while live:
            for conn in wait(list(live), timeout=0.5):
                assert isinstance(conn, Connection)
                share = live[conn]
                delivery = self._receive(share)
                if share.ended:
                    del live[conn]
                if share.reason is not None:
                    self._stop_workers()  # one share cannot finish: the read as a whole cannot
                if delivery is not None:
                    yield delivery

    def _receive(self, share: _Share) -> Delivery | None:
        worker = share.worker
        assert worker is not None
        try:
            message = worker.out.recv()
        except (EOFError, OSError):
            worker.broken = True
            worker.process.join(1.0)
            code = worker.process.exitcode
            parts = ", ".join(str(p) for p in share.partitions)
            how = f"exit code {code}" if code is not None else "no exit code"
            share.ended = True
            share.reason = f"the worker process reading partitions {parts} died ({how})"
            return None
        return self._handle(share, message)

    def _drain(self) -> None:
        """Let every worker reach the end of its job (they were told to stop), so it can
        take the next one; a worker that does not is given up."""
        deadline = time.monotonic() + _STOP_WAIT_S
        for share in self._shares:
            worker = share.worker
            while worker is not None and not share.ended and not worker.broken:
                if not worker.out.poll(max(0.0, deadline - time.monotonic())):
                    worker.broken = True
                    break
                self._receive(share)

    # -- messages -----------------------------------------------------------------------

    def _handle(self, share: _Share, message: tuple[Any, ...]) -> Delivery | None:
        kind = message[0]
        if kind == "progress":
            _, share.read, _total, status = message
            self._report(status)
            return None
        if kind == "batch":
            _, payload, done, share.read, share.reached = message
            share.finished = frozenset(done)
            self._report()
            return Delivery(payload, self._empty.union(*(s.finished for s in self._shares)))
        if kind == "end":
            _, stats, reason = message
            share.stats, share.ended, share.reason = stats, True, reason
            share.finished = frozenset(share.partitions)
            share.reached = dict(stats.reached)
            return None
        share.ended = True  # "failed": an exception in the worker
        share.reason = f"a worker process failed: {str(message[1]).strip().splitlines()[-1]}"
        return None

    def _report(self, status: str = "") -> None:
        if self.on_progress is None:
            return
        read: dict[int, int] = {r.partition: 0 for r in self.ranges}
        total = {r.partition: r.total for r in self.ranges}
        for share in self._shares:
            read.update(share.read)
        self.on_progress(ReadProgress(self.topic, read, total, status))

    def _finish_stats(self, seconds: float) -> None:
        stats = self.stats
        stats.assigned = sorted(r.partition for r in self.ranges if r.total > 0)
        stats.seconds = seconds
        for share in self._shares:
            stats.reached.update(share.reached)
            ws = share.stats
            if ws is not None:
                stats.events += ws.events
                stats.gaps.update(ws.gaps)
                stats.pending.update(ws.pending)
                stats.errors.extend(ws.errors)
            else:
                stats.events += sum(share.read.values())
            if share.reason is not None and stats.incomplete is None:
                stats.incomplete = share.reason
        # Cancelled means by the caller: workers stopped because another one could not
        # finish are part of an incomplete read, not a cancelled one.
        stats.cancelled = self.cancel.cancelled
        if stats.cancelled and stats.incomplete is None:
            stats.incomplete = "cancelled"

    def _raise_if_incomplete(self) -> None:
        stats = self.stats
        if stats.incomplete is None or stats.cancelled:
            return
        died = any(s.reason and "died" in s.reason for s in self._shares)
        kind = WorkerDied if died else ReadIncomplete
        raise kind(self.topic, stats.incomplete, stats)

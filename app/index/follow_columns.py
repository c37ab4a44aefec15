"""Following a cluster topic in a worker process, as column batches for the index.

``FollowColumns`` hands a worker process of the pool (``kafka_io.worker_pool``) a
``FollowJob`` and closes it afterwards (it ran at a lower priority, so no read gets it):
the worker follows the topic with the read-only consumer, decodes with
the decoder the source would make (``DecoderRecipe``: the same settings and registry)
and turns each batch into a ``ColumnBatch`` (``Columnizer``, rows in arrival order, as
the index appends them).  This side only receives: a pipe's ``recv`` releases the
interpreter while it waits, so whoever iterates this in a thread of the window's
process takes almost nothing from the GUI thread.

A follow ends with ``FollowEnded`` (a ``TopicNotFound``) when the topic is deleted,
when the worker process dies (``FollowWorkerDied``) or fails; stopping (``cancel``)
ends the iteration quietly.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.index.batch import ColumnBatch, Columnizer, new_stream_id
from app.index.build import DecoderRecipe
from app.sources import ClusterSource
from kafka_io.cancel import CancelToken
from kafka_io.errors import KafkaIOError
from kafka_io.follow import FollowEnded
from kafka_io.follow_job import FollowJob
from kafka_io.worker_pool import Worker, WorkerPool, shared_pool

_POLL_S = 0.25  # how often a quiet pipe is checked for a cancel or a dead worker
_STOP_WAIT_S = 10.0  # a stopped worker that does not end by then is given up
# The follow's worker yields to the window (and to everything else at normal priority):
# it needs a fraction of a core and catches up whenever the window is idle.
FOLLOW_NICE = 10


class FollowWorkerDied(FollowEnded):
    """The worker process following the topic ended without being asked to."""


@dataclass
class Delivery:
    """A batch of new events as columns, and per partition the next offset to read
    once it is indexed."""

    batch: ColumnBatch
    positions: dict[int, int]


class FollowColumns:
    """New events of ``topic`` as column batches, until ``cancel``; see the module."""

    def __init__(
        self,
        source: ClusterSource,
        topic: str,
        cancel: CancelToken,
        *,
        start: Mapping[int, int] | None = None,
        on_status: Callable[[str], None] | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.source, self.topic, self.cancel, self.on_status = source, topic, cancel, on_status
        self.start = dict(start or {})
        self.pool = pool
        self.pid: int | None = None

    def _job(self) -> FollowJob:
        """The worker's job.  Partitions with no start begin at their end *now*, looked
        up here: a worker process may take a second to start, and what is produced
        meanwhile is new to whoever pressed Follow."""
        start = dict(self.start)
        try:
            for p in self.source.partitions(self.topic):
                start.setdefault(p.partition, p.high)
        except KafkaIOError:
            pass  # the worker finds the ends itself, or says why it cannot follow
        return FollowJob(
            self.source.profile, self.topic, DecoderRecipe(self.source),
            functools.partial(Columnizer, new_stream_id(), by_partition=False),
            start, nice=FOLLOW_NICE,
        )  # fmt: skip

    def __iter__(self) -> Iterator[Delivery]:
        job = self._job()
        pool = self.pool or shared_pool()
        (worker,) = pool.take(1)
        self.pid = worker.pid
        worker.start(job)
        lent = [True]  # a cancel after the worker went back to the pool is not its own

        def stop() -> None:
            if lent[0]:
                worker.stop()

        self.cancel.on_cancel(stop)
        ended = False
        try:
            while True:
                message = self._next(worker)
                if message is None:
                    continue
                kind = message[0]
                if kind == "batch":
                    yield Delivery(message[1], message[2])
                elif kind == "status":
                    if self.on_status is not None:
                        self.on_status(str(message[1]))
                else:
                    ended = True
                    reason = _reason(message)
                    if reason is not None and not self.cancel.cancelled:
                        raise FollowEnded(reason)
                    return
        finally:
            if not ended:
                _stop(worker)  # the caller stopped iterating: the worker stops too
            lent[0] = False
            worker.close()  # it runs at a lower priority now: not for a read to take

    def _next(self, worker: Worker) -> tuple[Any, ...] | None:
        """The worker's next message, None after a quiet while; raises if it died."""
        try:
            if not worker.out.poll(_POLL_S):
                return None
            message: tuple[Any, ...] = worker.out.recv()
            return message
        except (EOFError, OSError):
            worker.broken = True
            worker.process.join(1.0)
            if self.cancel.cancelled:
                return ("end", None)  # stopped anyway: nothing to report
            raise FollowWorkerDied(
                f"the worker process following {self.topic} died "
                f"({_exit(worker.process.exitcode)}): following stopped; "
                "Follow live starts it again"
            ) from None


def _reason(message: tuple[Any, ...]) -> str | None:
    if message[0] == "end":
        return None if message[1] is None else str(message[1])
    lines = str(message[1]).strip().splitlines()  # "failed": the worker's traceback
    return f"following failed in its worker process: {lines[-1] if lines else 'no reason'}"


def _exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def _stop(worker: Worker) -> None:
    """Tell the worker to stop and let it reach the end of the job, so it can take the
    next one; one that does not is given up (the pool closes it)."""
    worker.stop()
    deadline = time.monotonic() + _STOP_WAIT_S
    while not worker.broken:
        try:
            if not worker.out.poll(max(0.0, deadline - time.monotonic())):
                worker.broken = True
                return
            if worker.out.recv()[0] in ("end", "failed"):
                return
        except (EOFError, OSError):
            worker.broken = True

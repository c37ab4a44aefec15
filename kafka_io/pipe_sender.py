"""A worker's messages sent to its parent from a thread, so the worker keeps reading
while the parent is busy.

The parent of a whole-topic read merges the workers' batches into log order and writes
them in bursts of tens of milliseconds; meanwhile a worker that writes straight to its
pipe (1 MB: one batch) blocks, and on two cores a core stands idle.  Here the worker
pickles each message and queues it; a thread writes the queue to the pipe (the write
releases the GIL), up to ``limit`` bytes waiting: past that ``send`` waits, so memory
stays bounded whatever the values' size.  Messages keep their order.  A pipe that
breaks (the parent went away) is raised from the next ``send`` or from ``close``.
"""

from __future__ import annotations

import threading
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

DEFAULT_LIMIT = 32 << 20  # bytes queued at most (about 25 batches of 110-byte events)


class PipeSender:
    """Sends pickled messages down ``out`` from a thread; ``close`` when done."""

    def __init__(self, out: Connection, limit: int = DEFAULT_LIMIT) -> None:
        self._out = out
        self._limit = limit
        self._queue: deque[bytes | None] = deque()
        self._queued = 0
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="pipe sender", daemon=True)
        self._thread.start()

    def send(self, message: Any) -> None:
        """Queue ``message`` (waits while ``limit`` bytes are already queued)."""
        data = bytes(ForkingPickler.dumps(message))
        with self._changed:
            # One message is always let through, however large: a batch never waits
            # for room it could not have.
            while self._queued and self._queued + len(data) > self._limit and not self._error:
                self._changed.wait()
            self._raise_if_broken()
            self._queue.append(data)
            self._queued += len(data)
            self._changed.notify_all()

    def close(self) -> None:
        """Wait until every queued message is written; the thread then ends."""
        with self._changed:
            self._queue.append(None)
            self._changed.notify_all()
        self._thread.join()
        self._raise_if_broken()

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                data = self._queue[0]
            if data is None:
                return
            try:
                self._out.send_bytes(data)
            except BaseException as exc:  # the parent went away: told at the next send
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return
            with self._changed:
                self._queue.popleft()
                self._queued -= len(data)
                self._changed.notify_all()

"""Batches from a reading worker to the GUI thread, with backpressure and time slices.

Handing every batch over as a queued signal lets a fast reader flood the GUI's event
queue: the GUI thread then indexes batch after batch and timers, repaints and input
wait until the read is over.  Here the worker ``put``s into a small bounded queue (it
blocks while the GUI is behind, which also bounds memory), and the GUI drains it in
slices of a few milliseconds, yielding to the event loop in between.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kafka_io.cancel import CancelToken

SLICE_S = 0.02  # GUI time spent indexing per event-loop turn
MAX_PENDING = 4  # batches waiting for the GUI before the reader blocks


class BatchStream(QObject):
    """A bounded worker-to-GUI queue; ``consume`` runs on the GUI thread."""

    _ready = Signal()
    drained = Signal()  # closed by the worker and everything consumed

    def __init__(
        self,
        consume: Callable[[Any], None],
        *,
        max_pending: int = MAX_PENDING,
        slice_s: float = SLICE_S,
        busy_s: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``busy_s``: when more than this has passed since the last slice ended, other
        work (a table refresh, its paint) has just held the GUI thread, maybe in this very
        event-loop turn: the next slice waits for the next turn, so the two do not add
        up to one long pause.  None: slices run back to back."""
        super().__init__(parent)
        self._consume = consume
        self._max = max_pending
        self._slice = slice_s
        self._items: deque[Any] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._discarded = False
        self._draining = False
        self._drained_sent = False
        self._scheduled = False  # a drain is already due (signal or timer pending)
        self._busy = busy_s
        self._last_end = 0.0
        self._deferred = False
        self._ready.connect(self._drain)

    # --- worker side ---------------------------------------------------------------------

    def put(self, item: Any, token: CancelToken | None = None) -> bool:
        """Queue ``item``, waiting while the GUI is behind; False if cancelled/discarded."""
        with self._cond:
            while len(self._items) >= self._max and not self._discarded:
                if token is not None and token.cancelled:
                    return False
                self._cond.wait(0.05)
            if self._discarded:
                return False
            self._items.append(item)
            wake = not self._scheduled
            self._scheduled = True
        # One wake-up at a time: a signal per batch would queue ahead of timers and
        # paints and keep the GUI draining back to back.
        if wake:
            self._ready.emit()
        return True

    def close(self) -> None:
        """No more items (the worker is done, whatever the reason)."""
        with self._cond:
            self._closed = True
            self._scheduled = True
        self._ready.emit()

    # --- GUI side ------------------------------------------------------------------------

    def discard(self) -> None:
        """Drop what is queued and unblock the worker (a cancelled read)."""
        with self._cond:
            self._discarded = True
            self._items.clear()
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        return len(self._items)

    def _drain(self) -> None:
        if self._draining:
            return
        started = time.monotonic()
        if self._busy is not None and started - self._last_end > self._busy and not self._deferred:
            self._deferred = True  # once: a busy window still gets its rows
            QTimer.singleShot(1, self._drain)
            return
        self._deferred = False
        self._draining = True
        try:
            deadline = started + self._slice
            while True:
                with self._cond:
                    if not self._items:
                        self._scheduled = False
                        done = self._closed
                        break
                    item = self._items.popleft()
                    self._cond.notify_all()
                self._consume(item)
                if time.monotonic() >= deadline:
                    # Let timers, input and paints run; continue on the next turn.
                    QTimer.singleShot(1, self._drain)
                    return
        finally:
            self._draining = False
            self._last_end = time.monotonic()
        if done and not self._drained_sent:
            self._drained_sent = True
            self.drained.emit()

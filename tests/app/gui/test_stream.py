"""The worker-to-GUI batch stream: everything put is consumed in order on the GUI thread,
a full stream holds the worker back, and a stream told the GUI thread was just busy
elsewhere lets that event-loop turn end before it consumes more."""

from __future__ import annotations

import threading
import time

from gui_helpers import pump_until
from PySide6.QtWidgets import QApplication

from app.gui.stream import BatchStream
from kafka_io.cancel import CancelToken


def from_worker(stream: BatchStream, item: int) -> None:
    """Put as a worker thread does (on the GUI thread, a put drains at once)."""
    thread = threading.Thread(target=lambda: stream.put(item))
    thread.start()
    thread.join(10)


def test_everything_put_is_consumed_in_order_with_backpressure(qapp: QApplication) -> None:
    got: list[int] = []
    stream = BatchStream(got.append, max_pending=3)
    drained: list[bool] = []
    stream.drained.connect(lambda: drained.append(True))
    most_pending = [0]

    def worker() -> None:
        for i in range(200):
            assert stream.put(i, CancelToken())
            most_pending[0] = max(most_pending[0], stream.pending)
        stream.close()

    thread = threading.Thread(target=worker)
    thread.start()
    pump_until(lambda: bool(drained), 30)
    thread.join(10)
    assert got == list(range(200))
    assert most_pending[0] <= 3  # the worker waited for the GUI


def test_a_busy_gui_thread_ends_its_turn_before_more_is_consumed(qapp: QApplication) -> None:
    got: list[int] = []
    stream = BatchStream(got.append, busy_s=0.05)
    from_worker(stream, 1)
    pump_until(lambda: got == [1], 10)
    time.sleep(0.1)  # the GUI thread busy elsewhere (a refresh, a paint)
    from_worker(stream, 2)
    stream._drain()  # the same turn: it waits for the next one
    assert got == [1]
    pump_until(lambda: got == [1, 2], 10)  # and then consumes


def test_a_discarded_stream_unblocks_the_worker(qapp: QApplication) -> None:
    stream = BatchStream(lambda _item: None, max_pending=1)
    from_worker(stream, 1)  # not consumed: the event loop does not run
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(stream.put(2)))
    thread.start()
    time.sleep(0.1)
    stream.discard()
    thread.join(10)
    assert results == [False] and stream.pending == 0

"""A broker that goes away in the middle of the window's read: the read ends (after the
idle timeout) keeping what it got, the banner says the read is incomplete and offers
Retry, and once the broker is back Retry reads the rest.

Uses a broker of its own (the session's must stay up for the other tests).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import broker as broker_harness
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from gui_helpers import pump_until
from kafka_helpers import Rec, produce
from PySide6.QtWidgets import QApplication
from test_cluster_gui import cluster_window

from app.gui.jobs import ReadDone

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
RECORDS = 600_000


@pytest.mark.timeout(300)
def test_a_broker_lost_mid_read_is_incomplete_with_retry_and_retry_reads_the_rest(
    qapp: QApplication, tmp_path: Path
) -> None:
    handle = broker_harness.start()
    window = None
    try:
        admin = AdminClient({"bootstrap.servers": handle.bootstrap})
        admin.create_topics([NewTopic("ledger", 1, 1)])["ledger"].result(30)
        produce(handle.bootstrap, "ledger", [Rec(b'{"eventType":"E"}', b"k")] * RECORDS)
        window = cluster_window(handle.bootstrap, tmp_path)
        window.show()
        pump_until(lambda: "ledger" in window.cluster_tree.topic_names(), 60)
        done: list[ReadDone] = []
        window.loader.read_finished.connect(done.append)
        window.cluster_tree.select_topic("ledger")
        pump_until(lambda: window.topic_view.index is not None, 30)
        pump_until(lambda: len(window.topic_view.index or ()) >= 1000, 60)
        os.killpg(handle.pid, signal.SIGKILL)  # the broker vanishes mid-read
        pump_until(lambda: bool(done), 120)
        got = len(window.topic_view.index or ())
        assert done[-1].incomplete is not None and 1000 <= got < RECORDS
        assert window.banner.isVisible()
        assert "no progress" in window.banner.text.text()
        assert window.banner.action_button.text() == "Retry"

        handle = broker_harness.restart(handle)
        done.clear()
        window.banner.action_button.click()
        pump_until(lambda: bool(done) and not window.loader.reading, 120)
        assert done[-1].incomplete is None
        index = window.topic_view.index
        assert index is not None and len(index) == RECORDS  # none twice
        offsets = sorted(int(o) for o in index.offset_col[: len(index)])
        assert offsets == list(range(RECORDS))  # none missing
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        broker_harness.stop(handle)

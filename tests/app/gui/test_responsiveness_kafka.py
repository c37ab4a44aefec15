"""The window stays responsive while a million-event topic is read from the real broker."""

from __future__ import annotations

import argparse
import itertools
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from gui_helpers import pump_until
from kafka_helpers import fill_topic
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui.launch import build_window
from app.gui.settings import Settings

EVENTS = 1_000_000


@pytest.mark.kafka
@pytest.mark.slow
def test_timer_keeps_firing_while_a_million_events_are_read(
    qapp: QApplication, kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = f"big-{uuid.uuid4().hex[:10]}"
    fill_topic(kafka_bootstrap, topic, EVENTS, partitions=12, aggregates=10_000)
    args = argparse.Namespace(bootstrap=kafka_bootstrap, x_options=[], config=None,
                              registry=None, registry_auth=None, file=None, folds=[])  # fmt: skip
    window = build_window(args, Settings(tmp_path / "s.ini"), use_user_folds=False)
    log: list[str] = []  # "tick" and "batch", in the order the GUI thread saw them
    ticks: list[float] = []
    window.loader.topic_grew.connect(lambda _topic: log.append("batch"))
    timer = QTimer()
    timer.setInterval(20)

    def tick() -> None:
        log.append("tick")
        ticks.append(time.monotonic())

    timer.timeout.connect(tick)
    window.show()
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        timer.start()
        window.cluster_tree.select_topic(topic)
        model = window.topic_view.model
        pump_until(lambda: not window.loader.reading and model.rowCount() == EVENTS, 240)
    finally:
        timer.stop()
        window.close()
        AdminClient({"bootstrap.servers": kafka_bootstrap}).delete_topics([topic])
    first, last = log.index("batch"), len(log) - 1 - log[::-1].index("batch")
    during = log[first:last]
    assert during.count("batch") >= 50, "the read arrived in batches"
    # The GUI thread kept serving its timer between batches, all through the read.
    assert during.count("tick") >= during.count("batch") // 4, "".join(x[0] for x in during)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    print(f"\nlongest pause of the GUI thread during the read: {max(gaps) * 1000:.0f} ms")

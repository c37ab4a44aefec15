"""History that is gone, in the window: records deleted below a partition's low
watermark on the real broker, and the inspector saying its state may be truncated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from gui_helpers import pump_until
from PySide6.QtWidgets import QApplication
from test_cluster_gui import cluster_window

pytestmark = pytest.mark.kafka


def test_the_inspector_says_when_early_history_is_gone(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=1, prefix="bank-accounts")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(20):
        kind = "AccountOpened" if i == 0 else "MoneyDeposited"
        envelope = {"eventType": kind, "aggregateId": "ACC-1", "payload": {"amount": 1}}
        producer.produce(topic, key="ACC-1", value=orjson.dumps(envelope))
    assert producer.flush(30) == 0
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    (future,) = admin.delete_records([TopicPartition(topic, 0, 5)]).values()
    assert future.result(30).low_watermark == 5

    window = cluster_window(kafka_bootstrap, tmp_path)
    window.show()
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        window.cluster_tree.select_topic(topic)
        model = window.topic_view.model
        pump_until(lambda: not window.loader.reading and model.rowCount() == 15, 60)
        window.topic_view.select_model_row(14)
        note = window.inspector.note
        pump_until(lambda: window.inspector.aggregate == "ACC-1" and note.isVisible(), 60)
        assert f"partition 0 of {topic} starts at offset 5" in note.text()
        assert "truncated history" in note.text()
    finally:
        window.close()

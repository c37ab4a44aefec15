"""The window against the real test broker: connect, list topics and groups, browse one."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from gui_helpers import must, pump_until
from PySide6.QtWidgets import QApplication

from app.gui.jobs import ReadDone
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.sources import Progress
from app.sources.connections import ConnectionRequest
from widgets.event_table import Role

EVENTS = 3000
ACCOUNTS = 40


def produce_accounts(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(EVENTS):
        account = f"ACC-{i % ACCOUNTS:03d}"
        kind = "AccountOpened" if i < ACCOUNTS else "MoneyDeposited"
        payload = {"owner": f"owner {i}", "currency": "EUR"} if i < ACCOUNTS else {"amount": 10}
        envelope = {"eventId": f"e{i}", "eventType": kind, "aggregateId": account,
                    "timestamp": "2025-09-01T00:00:00Z", "payload": payload}  # fmt: skip
        producer.produce(topic, key=account, value=orjson.dumps(envelope))
    # A record no decoder can read, so the table shows one marked row.
    producer.produce(topic, key="ACC-000", value=b"\xff\xfe not json")
    assert producer.flush(30) == 0


def commit_group(bootstrap: str, topic: str, group: str) -> None:
    """A real consumer group with committed offsets, for the tree's group list."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    consumer.close()


def cluster_window(bootstrap: str, tmp_path: Path) -> MainWindow:
    """The window as `event-explorer --bootstrap HOST:PORT` opens it."""
    args = argparse.Namespace(bootstrap=bootstrap, x_options=[], config=None,
                              registry=None, registry_auth=None, file=None, folds=[])  # fmt: skip
    return build_window(args, Settings(tmp_path / "s.ini"), use_user_folds=False)


@pytest.mark.kafka
def test_connect_list_and_browse_a_topic(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=3, prefix="bank-accounts")
    produce_accounts(kafka_bootstrap, topic)
    group = f"gui-test-{topic[-6:]}"
    commit_group(kafka_bootstrap, topic, group)
    window = cluster_window(kafka_bootstrap, tmp_path)
    window.show()
    try:
        tree = window.cluster_tree
        pump_until(lambda: topic in tree.topic_names(), 60)
        item = tree.topic_item(topic)
        assert item is not None and item.childCount() == 3  # partitions
        assert item.text(1) == f"{EVENTS + 1:,}"  # records between the watermarks
        groups = [
            must(tree.groups_root.child(i)).text(0) for i in range(tree.groups_root.childCount())
        ]
        assert group in groups

        progress: list[Progress] = []
        window.loader.read_progress.connect(progress.append)
        tree.select_topic(topic)
        model = window.topic_view.model
        pump_until(lambda: not window.loader.reading and model.rowCount() == EVENTS + 1, 60)
        events = [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]
        assert {e.topic for e in events} == {topic}
        assert {e.partition for e in events} == {0, 1, 2}
        assert sum(1 for e in events if e.error) == 1
        # Progress came per partition, and the last report covers every record.
        assert progress and set(progress[-1].total) == {0, 1, 2}
        assert sum(progress[-1].total.values()) == EVENTS + 1
        # Each account lives in one partition (keyed), and the inspector folds it.
        window.filter_bar.set_aggregate("ACC-007")
        window.filter_bar.flush()
        assert model.rowCount() == EVENTS // ACCOUNTS
        window.topic_view.select_model_row(model.rowCount() - 1)
        pump_until(lambda: window.inspector.state_tree.item_at_path("balance") is not None, 60)
        assert window.inspector.fold_name == "bank-account"
        balance = window.inspector.state_tree.item_at_path("balance")
        assert balance is not None and float(balance.text(1)) == 10 * (EVENTS // ACCOUNTS - 1)
    finally:
        window.close()


@pytest.mark.kafka
def test_reopening_a_topic_reads_only_new_records(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=2, prefix="bank-accounts")
    produce_accounts(kafka_bootstrap, topic)
    window = cluster_window(kafka_bootstrap, tmp_path)
    window.show()
    finished: list[ReadDone] = []
    window.loader.read_finished.connect(finished.append)
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        window.cluster_tree.select_topic(topic)
        pump_until(lambda: bool(finished) and not window.loader.reading, 60)
        assert (finished[-1].events, finished[-1].reused) == (EVENTS + 1, 0)

        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        for i in range(25):
            producer.produce(topic, key=f"ACC-{i:03d}", value=b'{"eventType":"MoneyDeposited"}')
        assert producer.flush(30) == 0
        # The saved index is on disk once its save job ran; then reload (F5).
        pump_until(lambda: any(topic in str(m) for m in _cache_root().rglob("meta.json")), 30)
        finished.clear()
        window.reload_topic()
        pump_until(lambda: bool(finished) and not window.loader.reading, 60)
        assert (finished[-1].events, finished[-1].reused) == (25, EVENTS + 1)
        model = window.topic_view.model
        pump_until(lambda: model.rowCount() == EVENTS + 26, 30)
    finally:
        window.close()


def _cache_root() -> Path:
    return Path(os.environ["EVENT_EXPLORER_CACHE_DIR"])


@pytest.mark.kafka
def test_connect_dialog_request_and_recent_connection(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic()  # a fresh broker may have no topic of its own to list
    settings = Settings(tmp_path / "s.ini")
    window = build_window(None, settings, use_user_folds=False)
    try:
        request = ConnectionRequest(
            kafka_bootstrap, ("client.id=gui-test", "sasl.password=hunter2"), None, None, None
        )
        assert window.opener.connect_to(request)
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        recent = settings.recent_connections()
        assert recent[0].bootstrap == kafka_bootstrap
        assert dict(recent[0].properties) == {"client.id": "gui-test"}
        settings.sync()  # QSettings writes the file later, from the event loop
        assert "hunter2" not in (tmp_path / "s.ini").read_text()
    finally:
        window.close()
